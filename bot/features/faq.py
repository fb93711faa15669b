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
from bot.faq import FaqBase, FaqEntry, FaqError, FaqMatcher, MatchResult, load_faq
from bot.faq.normalize import detect_language
from bot.features.menu import MENU_BUTTON, PERSON_BUTTON
from bot.features.understand import Decision, DecisionKind
from bot.storage.models import FaqMiss

log = logging.getLogger(__name__)

# Telegram shows about 40 characters of a button on a phone; entries may give a shorter `button`.
ENTRY_BUTTON_TITLE_CHARS = 40
MAX_MISS_CHARS = 500


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
        # The last reload that failed, until a reload succeeds: admins are told about it.
        self.last_error: FaqError | None = None
        self._told: set[int] = set()

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
            try:
                loaded = self._load()
            except FaqError as error:
                if self.last_error is None or str(self.last_error) != str(error):
                    self._told.clear()
                self.last_error = error
                log.error("FAQ not reloaded, the previous one stays in use:\n%s", error)
                raise
            # One assignment: a message being matched right now uses either the old or the new FAQ.
            self._loaded = loaded
            self.last_error = None
            self._told.clear()
        log.info("FAQ reloaded: %d entries", len(loaded.base))
        return len(loaded.base)

    def error_notice_for(self, admin_id: int) -> str | None:
        """Return the pending reload errors once per admin, or None."""
        error = self.last_error
        if error is None or admin_id in self._told:
            return None
        self._told.add(admin_id)
        problems = "\n".join(str(problem) for problem in error.problems[:20])
        return texts.FAQ_RELOAD_FAILED.format(problems=problems)

    def match(self, text: str) -> MatchResult:
        """Match text against the FAQ in use."""
        return self._loaded.matcher.match(text)

    def candidates(self, text: str, limit: int = 5) -> list[tuple[FaqEntry, float]]:
        """Return the best candidates with their scores (for staff checking the matcher)."""
        return self._loaded.matcher.candidates(text, limit)


def entry_button(entry: FaqEntry) -> Button:
    """Return a button that shows this entry."""
    return Button(
        pack(Action.FAQ, entry.id), entry.button or shorten(entry.question, ENTRY_BUTTON_TITLE_CHARS)
    )


def answer_language(turn: Turn) -> str | None:
    """Return the language for answers: the one chosen with /langue, else the one the message is in."""
    if turn.user is not None and turn.user.language:
        return turn.user.language
    detected = detect_language(turn.text) if turn.text else "fr"
    return None if detected == "fr" else detected


def entry_replies(turn: Turn, entry: FaqEntry) -> list[Reply]:
    """Return the answer of an entry, with its follow-ups and the ways onward."""
    base = turn.services.faq.base
    follow_ups = [base.get(entry_id) for entry_id in entry.follow_ups]
    buttons = [entry_button(follow_up) for follow_up in follow_ups if follow_up is not None][:2]
    buttons += [PERSON_BUTTON, MENU_BUTTON]
    return [Reply(entry.answer_in(answer_language(turn)).strip(), tuple(buttons))]


def decision_replies(turn: Turn, decision: Decision) -> list[Reply]:
    """Return what to say for an FAQ decision: the answer, suggestions, or an honest fallback."""
    turn.set_state(State.IDLE)
    if decision.kind is DecisionKind.ANSWER and decision.entry is not None:
        return entry_replies(turn, decision.entry)
    if decision.kind is DecisionKind.SUGGEST and decision.suggestions:
        miss = _record_miss(turn, decision)
        if miss is not None:
            turn.set_state(State.IDLE, miss=miss.id)
        buttons = [entry_button(entry) for entry in decision.suggestions[:3]]
        return [Reply(texts.FAQ_SUGGEST, (*buttons, PERSON_BUTTON, MENU_BUTTON))]
    _record_miss(turn, decision)
    return [Reply(texts.FAQ_FALLBACK), Reply(texts.FAQ_FALLBACK_NEXT, (PERSON_BUTTON, MENU_BUTTON))]


def _record_miss(turn: Turn, decision: Decision) -> FaqMiss | None:
    """Keep an unanswered question for the gaps report, for trainees who consented (not staff tests)."""
    if turn.user is None or turn.is_staff or not turn.text:
        return None
    miss = FaqMiss(
        user=turn.user,
        asked_at=turn.now,
        question=turn.text[:MAX_MISS_CHARS],
        outcome=decision.kind.value,
        suggested=" ".join(entry.id for entry in decision.suggestions),
    )
    turn.session.add(miss)
    turn.session.flush()
    return miss


def show_entry(turn: Turn, entry_id: str) -> list[Reply]:
    """Show the entry a button points to, or explain that it no longer exists."""
    _resolve_pending_miss(turn, entry_id)
    if not turn.onboarding:
        turn.set_state(State.IDLE)
    entry = turn.services.faq.base.get(entry_id)
    if entry is None:
        return [Reply(texts.FAQ_ENTRY_GONE, (MENU_BUTTON,))]
    return entry_replies(turn, entry)


def _resolve_pending_miss(turn: Turn, entry_id: str) -> None:
    """Note which suggestion was chosen: a used suggestion is not a gap in the FAQ."""
    if turn.user is None or turn.user.conversation is None:
        return
    miss_id = turn.user.conversation.data.get("miss")
    if not isinstance(miss_id, int):
        return
    miss = turn.session.get(FaqMiss, miss_id)
    if miss is not None and miss.user_id == turn.user.id and entry_id in miss.suggested.split():
        miss.chosen = entry_id
