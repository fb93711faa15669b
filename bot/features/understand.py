"""Deciding what a free-text message is: a built-in intent, or a question for the FAQ.

Shared by the conversation and by `cisp-bot faq match`, so that what admins test is what trainees get.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.faq import FaqEntry, MatchResult, Outcome
from bot.features.intents import Intent, detect_intent, strip_greeting


class DecisionKind(StrEnum):
    """What the bot does with a message."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    FALLBACK = "fallback"
    INTENT = "intent"


@dataclass(frozen=True, slots=True)
class Decision:
    """The understanding of one message."""

    kind: DecisionKind
    score: float
    entry: FaqEntry | None = None
    suggestions: tuple[FaqEntry, ...] = ()
    intent: Intent | None = None


def understand(text: str, match: Callable[[str], MatchResult], *, asking: bool = False) -> Decision:
    """Return the decision for a free-text message.

    asking: the person pressed "Poser une question", so whatever they type is a question.
    """
    intent = detect_intent(text)
    if intent is not None and not (asking and intent not in (Intent.MENU, Intent.HELP)):
        if intent not in (Intent.BOOK, Intent.SESSIONS):
            return Decision(DecisionKind.INTENT, 1.0, intent=intent)
        # "Où voir mon horaire ?" may be an FAQ question: a sure FAQ answer wins over the menu action.
        result = match(text)
        if result.outcome is not Outcome.ANSWER:
            return Decision(DecisionKind.INTENT, 1.0, intent=intent)
        return _from_match(result)
    return _from_match(match(strip_greeting(text)))


def _from_match(result: MatchResult) -> Decision:
    if result.outcome is Outcome.ANSWER:
        return Decision(DecisionKind.ANSWER, result.confidence, entry=result.entry)
    if result.outcome is Outcome.SUGGEST:
        return Decision(DecisionKind.SUGGEST, result.confidence, suggestions=result.suggestions)
    return Decision(DecisionKind.FALLBACK, result.confidence)
