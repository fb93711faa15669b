"""Staff-only commands in the chat; everyone else is refused and the attempt is logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot import texts
from bot.core.feature import Command, Feature
from bot.core.messages import Reply
from bot.core.turn import Turn
from bot.faq import FaqError
from bot.features.faq import FAQ
from bot.features.gaps import find_gaps
from bot.features.understand import understand
from bot.storage.models import CandidateStatus, FaqCandidate, FaqMiss, Role, Ticket, User

log = logging.getLogger(__name__)

GAPS_SHOWN = 5


def test_question(turn: Turn, question: str) -> list[Reply]:
    """Show what the matcher would do with a question, with its best candidates."""
    if not question.strip():
        return [Reply("Écrivez la question après /test. Par exemple : /test jarrive pa a me conecter")]
    decision = understand(question, turn.services.get(FAQ))
    lines = [f"Résultat : {decision.kind.value} (confiance {decision.score:.2f})"]
    if decision.entry is not None:
        lines.append(f"Réponse : {decision.entry.id}")
    if decision.suggestions:
        lines.append("Propositions : " + ", ".join(entry.id for entry in decision.suggestions))
    if decision.intent is not None:
        lines.append(f"Intention : {decision.intent.value}")
    lines.append("Meilleurs candidats :")
    lines += [
        f"{score:.2f}  {entry.id}  ({entry.source})"
        for entry, score in turn.services.get(FAQ).candidates(question, limit=5)
    ]
    return [Reply("\n".join(lines))]


def reload_faq(turn: Turn) -> list[Reply]:
    """Reload the FAQ files; on error keep the current FAQ and list the problems."""
    faq = turn.services.get(FAQ)
    try:
        count = faq.reload()
    except FaqError as error:
        if turn.user is not None:
            faq.error_notice_for(turn.user.id)  # told here: no second notice
        return [Reply(faq.problem_notice(error))]
    replies = [Reply(f"✅ FAQ rechargée : {count} questions.")]
    if faq.partial_error is not None:
        if turn.user is not None:
            faq.error_notice_for(turn.user.id)
        replies.append(Reply(faq.problem_notice(faq.partial_error)))
    return replies


@dataclass(frozen=True)
class WeekFigures:
    """What the staff see of the last seven days (the chat's /stats, and any other front end)."""

    trainees: int
    new: int
    active: int
    misses: int
    to_learn: int
    requests: int
    still_open: int


def week_figures(session: Session, now: datetime) -> WeekFigures:
    """Count the trainees, the unanswered questions, the phrasings to learn and the requests of the week."""
    week_ago = now - timedelta(days=7)
    trainees = select(func.count()).select_from(User).where(User.role == Role.TRAINEE.value)
    pending = CandidateStatus.PENDING.value

    def count(query: Select[Any]) -> int:
        return session.scalar(query) or 0

    return WeekFigures(
        trainees=count(trainees),
        new=count(trainees.where(User.created_at >= week_ago)),
        active=count(trainees.where(User.last_seen_at >= week_ago)),
        misses=count(select(func.count()).select_from(FaqMiss).where(FaqMiss.asked_at >= week_ago)),
        to_learn=count(select(func.count()).select_from(FaqCandidate).where(FaqCandidate.status == pending)),
        requests=count(select(func.count()).select_from(Ticket).where(Ticket.opened_at >= week_ago)),
        still_open=count(select(func.count()).select_from(Ticket).where(Ticket.status == "open")),
    )


def stats(turn: Turn) -> list[Reply]:
    """Give the week's figures: trainees, activity, unanswered questions, the FAQ."""
    figures = week_figures(turn.session, turn.now)
    faq = turn.services.get(FAQ)
    lines = [
        "📊 Les 7 derniers jours :",
        f"Stagiaires inscrits : {figures.trainees} (nouveaux : {figures.new}, actifs : {figures.active})",
        f"Questions sans bonne réponse : {figures.misses} (détail : /gaps)",
        f"Phrases à apprendre : {figures.to_learn} (détail : /apprendre)",
        f"Demandes à une personne : {figures.requests}"
        f" (encore ouvertes : {figures.still_open}, détail : /tickets)",
        f"FAQ : {len(faq.base)} questions"
        + (" ⚠️ la dernière modification a des erreurs" if faq.last_error else ""),
    ]
    return [Reply("\n".join(lines))]


def gaps(turn: Turn) -> list[Reply]:
    """List the biggest groups of unanswered questions of the last 30 days."""
    found = find_gaps(turn.session, turn.now, days=30)
    if not found:
        return [Reply("Aucune question sans réponse depuis 30 jours. 👍")]
    lines = ["Questions sans bonne réponse (30 jours), les plus fréquentes d'abord :"]
    for number, gap in enumerate(found[:GAPS_SHOWN], start=1):
        lines.append(f"{number}. {gap.count} fois : « {gap.examples[0]} »")
    if len(found) > GAPS_SHOWN:
        lines.append(f"… et {len(found) - GAPS_SHOWN} autre(s) groupe(s) : cisp-bot faq gaps")
    lines.append("Ajoutez ces phrases aux 'alternatives' de la bonne entrée, ou créez une entrée.")
    return [Reply("\n".join(lines))]


def _staff(step: Callable[[Turn], list[Reply]]) -> Command:
    """Return a staff command that takes nothing after its name."""
    return Command(lambda turn, _rest: step(turn), staff=True)


FEATURE = Feature(
    name="staff",
    commands={
        "test": Command(test_question, staff=True),
        "recharger": _staff(reload_faq),
        "stats": _staff(stats),
        "gaps": _staff(gaps),
        "staff": Command(lambda turn, _rest: [Reply(texts.STAFF_HELP)], staff=True),
    },
)
