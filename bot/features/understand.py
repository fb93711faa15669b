"""Deciding what a free-text message is: a built-in intent, or a question for the FAQ.

Shared by the conversation and by `cisp-bot faq match`, so that what admins test is what trainees get.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.faq import FaqEntry, MatchResult, Outcome
from bot.features.intents import EXACT_CONFIDENCE, Intent, detect_intent, strip_greeting


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


class Understander(Protocol):
    """What understanding needs: the FAQ's decision and the intents' (FaqService has both)."""

    def match(self, text: str) -> MatchResult:
        """Return the FAQ's decision for a message."""
        ...

    def intent(self, text: str) -> tuple[Intent, float] | None:
        """Return the intent a message asks for, or None."""
        ...


# Intents that an FAQ entry may explain ("Comment prendre rendez-vous ?"). Wanting a person always gets one.
_FAQ_MAY_ANSWER = (Intent.BOOK, Intent.SESSIONS, Intent.APPOINTMENTS)


def understand(text: str, faq: Understander, *, asking: bool = False) -> Decision:
    """Return the decision for a free-text message.

    asking: the person pressed "Poser une question", so whatever they type is a question.
    """
    closed = detect_intent(text)
    if closed is not None and not (asking and closed not in (Intent.MENU, Intent.HELP)):
        return Decision(DecisionKind.INTENT, 1.0, intent=closed)
    question = strip_greeting(text)
    found = None if asking else faq.intent(question)
    if found is None:
        return _from_match(faq.match(question))
    intent, confidence = found
    # "Où je peux voir mon horaire ?" may be an FAQ question: a sure FAQ answer wins over the action,
    # unless the message is written like one of the intent's examples ("mon horaire", "mes rdv").
    if intent in _FAQ_MAY_ANSWER and confidence < EXACT_CONFIDENCE:
        result = faq.match(question)
        if result.outcome is Outcome.ANSWER:
            return _from_match(result)
    return Decision(DecisionKind.INTENT, confidence, intent=intent)


def _from_match(result: MatchResult) -> Decision:
    if result.outcome is Outcome.ANSWER:
        return Decision(DecisionKind.ANSWER, result.confidence, entry=result.entry)
    if result.outcome is Outcome.SUGGEST:
        return Decision(DecisionKind.SUGGEST, result.confidence, suggestions=result.suggestions)
    return Decision(DecisionKind.FALLBACK, result.confidence)
