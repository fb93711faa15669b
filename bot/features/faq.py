"""Answering questions from the FAQ files: answer when sure, suggest when unsure, never guess."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from bot import texts
from bot.core.messages import Button, Reply
from bot.core.payloads import Action, pack
from bot.core.text import shorten
from bot.core.turn import State, Turn
from bot.faq import FaqBase, FaqEntry, FaqMatcher, MatchResult, Outcome, load_faq
from bot.features.menu import MENU_BUTTON, PERSON_BUTTON

log = logging.getLogger(__name__)

# Telegram shows long button titles fine; WhatsApp list rows cut at 24 (the channel adapts).
ENTRY_BUTTON_TITLE_CHARS = 60


@dataclass(frozen=True)
class _Loaded:
    base: FaqBase
    matcher: FaqMatcher


class FaqService:
    """The FAQ in use: loaded and validated at start, swapped whole on reload."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._loaded = self._load()

    def _load(self) -> _Loaded:
        base = load_faq(self.directory)
        return _Loaded(base, FaqMatcher(base))

    @property
    def base(self) -> FaqBase:
        """Return the FAQ entries in use."""
        return self._loaded.base

    def reload(self) -> int:
        """Load the files again; keep the current FAQ if they are invalid (FaqError propagates)."""
        with self._lock:
            loaded = self._load()
            self._loaded = loaded
        log.info("FAQ reloaded: %d entries", len(loaded.base))
        return len(loaded.base)

    def match(self, text: str) -> MatchResult:
        """Match text against the FAQ in use."""
        return self._loaded.matcher.match(text)

    def candidates(self, text: str, limit: int = 5) -> list[tuple[FaqEntry, float]]:
        """Return the best candidates with their scores (for staff checking the matcher)."""
        return self._loaded.matcher.candidates(text, limit)


def entry_button(entry: FaqEntry) -> Button:
    """Return a button that shows this entry."""
    return Button(pack(Action.FAQ, entry.id), shorten(entry.question, ENTRY_BUTTON_TITLE_CHARS))


def entry_replies(turn: Turn, entry: FaqEntry) -> list[Reply]:
    """Return the answer of an entry, with its follow-ups and the ways onward."""
    base = turn.services.faq.base
    follow_ups = [base.get(entry_id) for entry_id in entry.follow_ups]
    buttons = [entry_button(follow_up) for follow_up in follow_ups if follow_up is not None][:2]
    buttons += [PERSON_BUTTON, MENU_BUTTON]
    return [Reply(entry.answer.strip(), tuple(buttons))]


def answer_question(turn: Turn, question: str) -> list[Reply]:
    """Answer a free-text question from the FAQ, or say honestly that the bot is not sure."""
    return replies_for(turn, turn.services.faq.match(question))


def replies_for(turn: Turn, result: MatchResult) -> list[Reply]:
    """Return what to say for a match result: the answer, suggestions, or an honest fallback."""
    turn.set_state(State.IDLE)
    log.debug("faq outcome=%s confidence=%.2f", result.outcome, result.confidence)
    if result.outcome is Outcome.ANSWER and result.entry is not None:
        return entry_replies(turn, result.entry)
    if result.outcome is Outcome.SUGGEST and result.suggestions:
        buttons = [entry_button(entry) for entry in result.suggestions[:3]]
        return [Reply(texts.FAQ_SUGGEST, (*buttons, PERSON_BUTTON, MENU_BUTTON))]
    return [Reply(texts.FAQ_FALLBACK), Reply(texts.FAQ_FALLBACK_NEXT, (PERSON_BUTTON, MENU_BUTTON))]


def show_entry(turn: Turn, entry_id: str) -> list[Reply]:
    """Show the entry a button points to, or explain that it no longer exists."""
    if not turn.onboarding:
        turn.set_state(State.IDLE)
    entry = turn.services.faq.base.get(entry_id)
    if entry is None:
        return [Reply(texts.FAQ_ENTRY_GONE, (MENU_BUTTON,))]
    return entry_replies(turn, entry)
