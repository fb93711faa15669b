"""Staff-only commands in the chat; everyone else is refused and the attempt is logged."""

from __future__ import annotations

import logging

from bot import texts
from bot.core.messages import Reply
from bot.core.turn import Turn
from bot.faq import FaqError
from bot.features.understand import understand

log = logging.getLogger(__name__)

STAFF_HELP = (
    "Commandes du personnel :\n"
    "/test <question> : ce que le bot répondrait, avec les scores\n"
    "/recharger : relire les fichiers FAQ (les erreurs sont affichées, l'ancienne FAQ reste en place)"
)


def test_question(turn: Turn, question: str) -> list[Reply]:
    """Show what the matcher would do with a question, with its best candidates."""
    if not question.strip():
        return [Reply("Écrivez la question après /test. Par exemple : /test jarrive pa a me conecter")]
    decision = understand(question, turn.services.faq.match)
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
        for entry, score in turn.services.faq.candidates(question, limit=5)
    ]
    return [Reply("\n".join(lines))]


def reload_faq(turn: Turn) -> list[Reply]:
    """Reload the FAQ files; on error keep the current FAQ and list the problems."""
    try:
        count = turn.services.faq.reload()
    except FaqError as error:
        if turn.user is not None:
            turn.services.faq.error_notice_for(turn.user.id)  # told here: no second notice
        return [Reply(texts.FAQ_RELOAD_FAILED.format(problems=error.summary()))]
    return [Reply(f"✅ FAQ rechargée : {count} questions.")]


def refuse(turn: Turn, command: str) -> None:
    """Log a staff command tried by someone who is not staff."""
    user_ref = turn.user.id if turn.user else "anonymous"
    log.warning("staff command /%s refused for %s user %s", command, turn.message.channel, user_ref)
