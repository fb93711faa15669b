"""Staff-only commands in the chat; everyone else is refused and the attempt is logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select

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


def stats(turn: Turn) -> list[Reply]:
    """Give the week's figures: trainees, activity, unanswered questions, the FAQ."""
    session, now = turn.session, turn.now
    week_ago = now - timedelta(days=7)
    trainees = select(func.count()).select_from(User).where(User.role == Role.TRAINEE.value)
    total = session.scalar(trainees) or 0
    active = session.scalar(trainees.where(User.last_seen_at >= week_ago)) or 0
    new = session.scalar(trainees.where(User.created_at >= week_ago)) or 0
    misses = (
        session.scalar(select(func.count()).select_from(FaqMiss).where(FaqMiss.asked_at >= week_ago)) or 0
    )
    to_learn = (
        select(func.count())
        .select_from(FaqCandidate)
        .where(FaqCandidate.status == CandidateStatus.PENDING.value)
    )
    candidates = session.scalar(to_learn) or 0
    faq = turn.services.get(FAQ)
    opened = select(func.count()).select_from(Ticket).where(Ticket.opened_at >= week_ago)
    requests = session.scalar(opened) or 0
    still_open = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "open")) or 0
    lines = [
        "📊 Les 7 derniers jours :",
        f"Stagiaires inscrits : {total} (nouveaux : {new}, actifs : {active})",
        f"Questions sans bonne réponse : {misses} (détail : /gaps)",
        f"Phrases à apprendre : {candidates} (détail : /apprendre)",
        f"Demandes à une personne : {requests} (encore ouvertes : {still_open}, détail : /tickets)",
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
