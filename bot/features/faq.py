"""Answering questions from the FAQ files: answer when sure, suggest when unsure, never guess."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert

from bot import texts
from bot.common.text import shorten
from bot.core.feature import MENU_BUTTON, PERSON_BUTTON, ButtonAction, Feature
from bot.core.messages import Button, Reply
from bot.core.payloads import ButtonKind, go_button
from bot.core.personal import DataSection, PersonalTable, show_date, show_quoted
from bot.core.turn import IDLE, Part, Turn
from bot.faq import FaqBase, FaqEntry, FaqError, FaqMatcher, MatchResult, load_faq
from bot.faq.loader import MAX_ID_CHARS, fingerprint
from bot.faq.normalize import LEXICON_DIR_NAME, Lexicon, detect_language, load_lexicon, tokens
from bot.faq.semantic import Embedder, MissingVectors, Progress, SemanticIndex, VectorCache, index_entries
from bot.features import figures
from bot.features.intents import INTENTS_DIR_NAME, Intent, IntentMatcher, read_intent_examples
from bot.features.menu import ASKING, main_menu
from bot.features.understand import Decision, DecisionKind, understand
from bot.storage.models import CandidateSource, FaqMiss

log = logging.getLogger(__name__)

# Telegram shows about 40 characters of a button on a phone; entries may give a shorter `button`.
ENTRY_BUTTON_TITLE_CHARS = 40
MAX_MISS_CHARS = 500
# Unanswered questions are kept only under a consent text that says so.
MISSES_CONSENT_VERSION = 2
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Four digits or more, possibly split by spaces, dots, dashes or slashes: 0470 12 34 56, 85.07.30-033.61.
_LONG_NUMBER = re.compile(r"\+?\d(?:[\d .\-/]{2,}\d)")
# A button that shows an FAQ entry: its id.
ENTRY = ButtonKind("faq", rf"[a-z0-9][a-z0-9-]{{0,{MAX_ID_CHARS - 1}}}")
# The steps of an entry: "s:<n>.<id>" shows step n, "s:0.<id>" says it worked (one digit: 64 bytes hold
# the longest id, so an entry has at most MAX_STEPS steps).
STEP = ButtonKind("s", rf"\d\.[a-z0-9][a-z0-9-]{{0,{MAX_ID_CHARS - 1}}}")
IT_WORKED = 0
_MISSES = cast(Table, FaqMiss.__table__)
_INSERT_MISS = insert(_MISSES).returning(_MISSES.c.id)


@dataclass(frozen=True)
class _Loaded:
    base: FaqBase
    matcher: FaqMatcher
    fingerprint: str
    intents: IntentMatcher
    lexicon: Lexicon
    # The meaning of the entries is still to compute (in the background): the words answer meanwhile.
    needs_meaning: bool = False


class FaqService:
    """The FAQ in use: loaded and validated at start, swapped whole on reload.

    After every successful load, a copy of the files is kept in last_valid_dir: if an admin's edit is
    broken when the bot restarts, it starts from that copy instead of not starting at all.
    """

    def __init__(
        self,
        directory: Path,
        last_valid_dir: Path | None = None,
        *,
        embedder: Embedder | None = None,
        cache_dir: Path | None = None,
        progress: Progress | None = None,
        embed_in_background: bool = False,
    ) -> None:
        """Load the FAQ (and the intents' examples) now; with an embedder, their meaning too.

        cache_dir: where the vectors are kept between starts; progress: told while a cold cache fills.
        embed_in_background: vectors missing from the cache are computed by a thread while the words
        answer (a running bot); otherwise before returning (`faq match`, benchmarks).
        """
        self.directory = directory
        self.last_valid_dir = last_valid_dir
        self._embedder = embedder
        self._cache = VectorCache(cache_dir)
        self._progress = progress
        self._in_background = embed_in_background
        # Set while the FAQ in use has its meaning (or no embedder is configured).
        self.meaning_ready = threading.Event()
        self._lock = threading.Lock()
        # Called with the error when a reload fails (the app posts it in the staff group).
        self.on_reload_failure: list[Callable[[FaqError], None]] = []
        # The last load that failed, until one succeeds: admins are told about it, once each.
        self.last_error: FaqError | None = None
        self.failed_fingerprint: str | None = None
        # The files served in their last valid version because their edit is broken (and that error).
        self.kept_old_files: tuple[str, ...] = ()
        # Broken files that were never valid: left out until they are fixed.
        self.left_out_files: tuple[str, ...] = ()
        self.partial_error: FaqError | None = None
        self._told: set[tuple[str, int]] = set()
        # The last valid version of every file served, by path relative to FAQ_DIR; at start, the copy
        # kept by the previous run.
        self._valid_files: dict[str, bytes] = {}
        self._composed: Path | None = None
        if last_valid_dir is not None and last_valid_dir.is_dir():
            self._remember(last_valid_dir)
        try:
            self._loaded = self._load()
            self.last_error = self.partial_error
            if self.partial_error is not None:
                log.error(
                    "FAQ_DIR has broken files (%s): their last valid version is served, if any:\n%s",
                    ", ".join(self.kept_old_files + self.left_out_files),
                    self.partial_error,
                )
        except FaqError as error:
            if last_valid_dir is None or not any(last_valid_dir.glob("*.yaml")):
                raise
            self._loaded = self._load_from(last_valid_dir, fingerprint(last_valid_dir))
            self.last_error = error
            log.error(
                "FAQ_DIR is invalid; started from the last valid copy in %s:\n%s", last_valid_dir, error
            )
        self._complete_meaning(self._loaded)

    def _load(self) -> _Loaded:
        """Load FAQ_DIR; where some files are broken, serve their last valid version beside the others.

        Raises FaqError (and keeps nothing) when even that combination is not a valid FAQ.
        """
        # Taken before reading: an edit landing during the read changes the files' fingerprint again.
        current = fingerprint(self.directory)
        try:
            loaded = self._load_from(self.directory, current)
        except FaqError as error:
            composed = self._compose(error)
            if composed is None:
                self.failed_fingerprint = current
                raise
            try:
                loaded = self._load_from(composed, current)
            except FaqError:
                # The broken files' old versions do not fit the new others (an id now in two files, a
                # follow-up pointing to an entry that moved): the whole previous FAQ stays.
                self.failed_fingerprint = current
                raise error from None
            broken = _broken_files(error)
            self.kept_old_files = tuple(name for name in broken if name in self._valid_files)
            self.left_out_files = tuple(name for name in broken if name not in self._valid_files)
            self._remember(composed)
            self._keep_copy(composed)
            self.partial_error = error
            return loaded
        self._remember(self.directory)
        self._keep_copy(self.directory)
        if self._composed is not None:
            shutil.rmtree(self._composed, ignore_errors=True)
            self._composed = None
        self.kept_old_files = self.left_out_files = ()
        self.partial_error = None
        return loaded

    def _remember(self, directory: Path) -> None:
        """Keep the files just loaded in memory: the last valid version of each, for the next edit."""
        self._valid_files = {relative: path.read_bytes() for relative, path in _served_files(directory)}

    def _compose(self, error: FaqError) -> Path | None:
        """Build the FAQ to serve: every file as edited, except the broken ones, as they last were valid.

        A broken file never valid before is left out (its entries were never served). Return None when
        that cannot help: a problem of the folder itself rather than of its files.
        """
        broken = _broken_files(error)
        current = dict(_served_files(self.directory))
        if not broken or not set(broken) <= set(current):
            return None
        if self._composed is not None:
            shutil.rmtree(self._composed, ignore_errors=True)
        self._composed = Path(tempfile.mkdtemp(prefix="cisp-bot-faq-"))
        for relative, path in current.items():
            target = self._composed / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if relative not in broken:
                shutil.copy2(path, target)
            elif relative in self._valid_files:
                target.write_bytes(self._valid_files[relative])
        return self._composed

    def _load_from(self, directory: Path, files_fingerprint: str) -> _Loaded:
        base = load_faq(directory)
        lexicon = load_lexicon(directory / LEXICON_DIR_NAME)
        semantic = None
        needs_meaning = False
        if self._embedder is not None:
            try:
                semantic = self._index(base, cached_only=self._in_background)
            except MissingVectors as missing:
                log.info("FAQ: %s phrasings to embed; matched by words until then", missing)
                needs_meaning = True
        # The admins' mistakes in intentions/ are reported by `faq check`; what is valid is used. The
        # intents' examples are few: they are embedded at once.
        examples, _ = read_intent_examples(directory)
        intents = IntentMatcher(examples, lexicon, embedder=self._embedder, cache=self._cache)
        matcher = FaqMatcher(base, lexicon, semantic=semantic)
        return _Loaded(base, matcher, files_fingerprint, intents, lexicon, needs_meaning)

    def _index(self, base: FaqBase, *, cached_only: bool) -> SemanticIndex:
        assert self._embedder is not None
        index = index_entries(
            base.entries, self._embedder, self._cache, progress=self._progress, cached_only=cached_only
        )
        if index.computed:
            log.info("FAQ: meaning of %d phrasings computed (the others came from the cache)", index.computed)
        return index

    def _complete_meaning(self, loaded: _Loaded) -> None:
        """Compute the missing vectors of the FAQ just put in use, in a thread; then use them."""
        if not loaded.needs_meaning:
            self.meaning_ready.set()
            return
        self.meaning_ready.clear()

        def embed() -> None:
            try:
                index = self._index(loaded.base, cached_only=False)
            except Exception:
                log.exception("FAQ: computing the meaning failed; the FAQ stays matched by words")
                return
            with self._lock:
                # A reload since then brought other files: it completes its own meaning (the vectors
                # computed here are in the cache for it).
                if self._loaded is not loaded:
                    return
                matcher = FaqMatcher(loaded.base, loaded.lexicon, semantic=index)
                self._loaded = replace(loaded, matcher=matcher, needs_meaning=False)
            self.meaning_ready.set()
            log.info("FAQ: meaning ready for %d entries", len(loaded.base))

        threading.Thread(target=embed, name="faq-meaning", daemon=True).start()

    def _keep_copy(self, source: Path) -> None:
        """Copy the valid files to last_valid_dir, replacing the previous copy in one rename."""
        if self.last_valid_dir is None:
            return
        try:
            staging = self.last_valid_dir.with_name(self.last_valid_dir.name + ".new")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            for path in source.glob("*.yaml"):
                shutil.copy2(path, staging / path.name)
            for folder in (LEXICON_DIR_NAME, INTENTS_DIR_NAME):
                if (source / folder).is_dir():
                    shutil.copytree(source / folder, staging / folder, dirs_exist_ok=True)
            previous = self.last_valid_dir.with_name(self.last_valid_dir.name + ".old")
            shutil.rmtree(previous, ignore_errors=True)
            if self.last_valid_dir.exists():
                self.last_valid_dir.rename(previous)
            staging.rename(self.last_valid_dir)
            shutil.rmtree(previous, ignore_errors=True)
        except OSError:
            log.exception("could not keep a copy of the valid FAQ in %s", self.last_valid_dir)

    @property
    def base(self) -> FaqBase:
        """Return the FAQ entries in use."""
        return self._loaded.base

    @property
    def loaded_fingerprint(self) -> str:
        """Return the fingerprint of the files in use."""
        return self._loaded.fingerprint

    def reload(self) -> int:
        """Load the files again; keep the current FAQ if they are invalid (FaqError propagates).

        Where only some files are broken, the others are served as edited and the broken ones as they
        last were valid: the listeners and the admins are told which (``kept_old_files``).
        """
        with self._lock:
            try:
                loaded = self._load()
            except FaqError as error:
                self.last_error = error
                log.error("FAQ not reloaded, the previous one stays in use:\n%s", error)
                self._tell_listeners(error)
                raise
            # One assignment: a message being matched right now uses either the old or the new FAQ.
            self._loaded = loaded
            self._complete_meaning(loaded)
            self.last_error = self.partial_error
            self.failed_fingerprint = None
            partial = self.partial_error
        if partial is not None:
            log.error(
                "FAQ reloaded (%d entries), but %s: their last valid version stays in use, if any:\n%s",
                len(loaded.base),
                ", ".join(self.kept_old_files + self.left_out_files),
                partial,
            )
            self._tell_listeners(partial)
        else:
            log.info("FAQ reloaded: %d entries", len(loaded.base))
        return len(loaded.base)

    def _tell_listeners(self, error: FaqError) -> None:
        for listener in self.on_reload_failure:
            try:
                listener(error)
            except Exception:
                log.exception("a reload-failure listener failed")

    def files_restored(self) -> None:
        """Forget the last error: the files are back to the ones in use."""
        with self._lock:
            # Files served in their old version are still broken in FAQ_DIR: that error stays.
            self.last_error = self.partial_error
            self.failed_fingerprint = None

    def problem_notice(self, error: FaqError) -> str:
        """Return what to tell the admins about an error: which files, and which version is in use."""
        if error is not self.partial_error:
            return texts.FAQ_RELOAD_FAILED.format(problems=error.summary())
        parts = []
        if self.kept_old_files:
            parts.append(texts.FAQ_FILES_KEPT_OLD.format(files=", ".join(self.kept_old_files)))
        if self.left_out_files:
            parts.append(texts.FAQ_FILES_LEFT_OUT.format(files=", ".join(self.left_out_files)))
        return texts.FAQ_FILES_TO_FIX.format(
            files=", ".join(self.kept_old_files + self.left_out_files),
            versions=" ".join(parts),
            problems=error.summary(),
        )

    def error_notice_for(self, admin_id: int, *, mark_told: bool = True) -> str | None:
        """Return the pending reload errors once per admin and per error, or None.

        mark_told=False only looks (the notice goes into a transaction that may still roll back);
        `notice_told` then marks it once committed.
        """
        with self._lock:
            error = self.last_error
            if error is None or (str(error), admin_id) in self._told:
                return None
            if mark_told:
                self._told.add((str(error), admin_id))
        return self.problem_notice(error)

    def notice_told(self, admin_id: int) -> None:
        """Mark the pending reload errors as told to this admin."""
        with self._lock:
            if self.last_error is not None:
                self._told.add((str(self.last_error), admin_id))

    def match(self, text: str) -> MatchResult:
        """Match text against the FAQ in use."""
        return self._loaded.matcher.match(text)

    def candidates(self, text: str, limit: int = 5) -> list[tuple[FaqEntry, float]]:
        """Return the best candidates with their scores (for staff checking the matcher)."""
        return self._loaded.matcher.candidates(text, limit)

    def intent(self, text: str) -> tuple[Intent, float] | None:
        """Return the intent a message asks for (book, my appointments, a person...) with its confidence."""
        return self._loaded.intents.detect(text)


def _served_files(directory: Path) -> list[tuple[str, Path]]:
    """Return the files a FAQ is made of (FAQ files, lexicon, intents), by path relative to the folder."""
    found = []
    for pattern in ("*.yaml", f"{LEXICON_DIR_NAME}/*.yaml", f"{INTENTS_DIR_NAME}/*.yaml"):
        for path in sorted(directory.glob(pattern)):
            if path.is_file() and not path.name.startswith("."):
                found.append((path.relative_to(directory).as_posix(), path))
    return found


def _broken_files(error: FaqError) -> tuple[str, ...]:
    """Return the files an error blames (warnings aside), by path relative to FAQ_DIR."""
    return tuple(sorted({problem.file for problem in error.problems if not problem.warning}))


def entry_button(entry: FaqEntry) -> Button:
    """Return a button that shows this entry."""
    return ENTRY.button(entry.id, entry.button or shorten(entry.question, ENTRY_BUTTON_TITLE_CHARS))


def answer_language(turn: Turn) -> str | None:
    """Return the language for answers: chosen with /langue, else the message's, else the last message's.

    A pressed button carries no text: the language of the question it answers is kept in the state.
    Only the languages FAQ_LANGUAGES offers count; None stands for French.
    """
    offered = turn.services.settings.faq_language_codes[1:]
    if turn.user is not None and turn.user.language in offered:
        return turn.user.language
    if turn.text:
        detected = detect_language(turn.text)
        return detected if detected in offered else None
    if turn.user is not None and turn.user.conversation is not None:
        remembered = turn.user.conversation.data.get("lang")
        return remembered if remembered in offered else None
    return None


def _state_data(turn: Turn, **data: object) -> dict[str, object]:
    """Return what the next step needs to know: the pending question and its language."""
    language = answer_language(turn)
    return {**data, **({"lang": language} if language else {})}


def entry_replies(turn: Turn, entry: FaqEntry) -> list[Reply]:
    """Return the answer of an entry: its first step, or the whole answer with its follow-ups."""
    if not turn.is_staff:
        figures.count(turn.session, turn.now, figures.ENTRY_COUNT, entry.id)
    if len(entry.steps_in(answer_language(turn))) > 1:
        return step_replies(turn, entry, 1)
    buttons = [*_follow_up_buttons(turn, entry), PERSON_BUTTON, MENU_BUTTON]
    return [Reply(entry.answer_in(answer_language(turn)).strip(), tuple(buttons))]


def _follow_up_buttons(turn: Turn, entry: FaqEntry) -> list[Button]:
    base = turn.services.get(FAQ).base
    follow_ups = [base.get(entry_id) for entry_id in entry.follow_ups]
    return [entry_button(follow_up) for follow_up in follow_ups if follow_up is not None][:2]


def step_replies(turn: Turn, entry: FaqEntry, number: int) -> list[Reply]:
    """Return step number (from 1) of an entry, with "it works", the next step, a person and the menu."""
    steps = entry.steps_in(answer_language(turn))
    text = texts.FAQ_STEP.format(number=number, count=len(steps), step=steps[number - 1])
    worked = STEP.button(f"{IT_WORKED}.{entry.id}", texts.BUTTON_STEP_WORKED)
    if number < len(steps):
        following = STEP.button(f"{number + 1}.{entry.id}", texts.BUTTON_STEP_NEXT)
        return [Reply(text, (worked, following, PERSON_BUTTON, MENU_BUTTON))]
    return [Reply(f"{text}\n\n{texts.FAQ_STEP_LAST}", (worked, PERSON_BUTTON, MENU_BUTTON))]


def on_step(turn: Turn, argument: str) -> list[Reply]:
    """Show the step a button asks for, or close the answer when the trainee says it worked."""
    number_text, _, entry_id = argument.partition(".")
    if not turn.onboarding:
        turn.set_state(IDLE, **_state_data(turn))
    entry = turn.services.get(FAQ).base.get(entry_id)
    if entry is None:
        return [Reply(texts.FAQ_ENTRY_GONE, (MENU_BUTTON,))]
    number = int(number_text)
    if number == IT_WORKED:
        follow_ups = _follow_up_buttons(turn, entry)
        glad = Reply(texts.FAQ_STEP_WORKED_MORE if follow_ups else texts.FAQ_STEP_WORKED, tuple(follow_ups))
        return [glad, main_menu(turn)]
    if number > len(entry.steps_in(answer_language(turn))):
        # The entry was edited since the button was shown: start its steps again.
        return [Reply(texts.FAQ_STEPS_CHANGED), *step_replies(turn, entry, 1)]
    return step_replies(turn, entry, number)


def decision_replies(turn: Turn, decision: Decision) -> list[Reply]:
    """Return what to say for an FAQ decision: the answer, suggestions, or an honest fallback."""
    if not turn.is_staff and decision.kind.value in figures.QUESTION_KINDS:
        figures.count(turn.session, turn.now, decision.kind.value)
    if decision.kind is DecisionKind.ANSWER and decision.entry is not None:
        turn.set_state(IDLE, **_state_data(turn))
        return entry_replies(turn, decision.entry)
    if decision.kind is DecisionKind.SUGGEST and decision.suggestions:
        miss_id = _record_miss(turn, decision)
        # The question stays pending with its suggestions: choosing one of them erases it.
        turn.set_state(IDLE, **_state_data(turn, **({} if miss_id is None else {"miss": miss_id})))
        buttons = [entry_button(entry) for entry in decision.suggestions[:3]]
        return [Reply(texts.FAQ_SUGGEST, (*buttons, PERSON_BUTTON, MENU_BUTTON))]
    turn.set_state(IDLE, **_state_data(turn))
    _record_miss(turn, decision)
    return [Reply(texts.FAQ_FALLBACK), Reply(texts.FAQ_FALLBACK_NEXT, (PERSON_BUTTON, MENU_BUTTON))]


def _record_miss(turn: Turn, decision: Decision) -> int | None:
    """Keep an unanswered question for the gaps report, if the trainee's consent covers it; return its id."""
    user = turn.user
    if user is None or turn.is_staff or (user.consent_version or 0) < MISSES_CONSENT_VERSION:
        return None
    if not tokens(turn.text):
        return None  # "???", "ok": nothing for the admins to learn
    if user.id is None:
        turn.session.flush()  # a person added in this very transaction: their id first
    values = {
        "user_id": user.id,
        "asked_at": turn.now,
        "question": mask_personal_details(turn.text)[:MAX_MISS_CHARS],
        "outcome": decision.kind.value,
        "suggested": " ".join(entry.id for entry in decision.suggestions),
    }
    # A Core statement rather than session.add() and a flush: the row is never used as an object in
    # this transaction, and the ORM's flush would cost more than the rest of the message.
    return turn.session.execute(_INSERT_MISS, values).scalar_one()


def mask_personal_details(text: str) -> str:
    """Hide e-mail addresses and long numbers (phone, national register, bank) before keeping a text."""
    text = _EMAIL.sub("[e-mail]", text)
    return _LONG_NUMBER.sub("[numéro]", text)


def show_entry(turn: Turn, entry_id: str) -> list[Reply]:
    """Show the entry a button points to, or explain that it no longer exists."""
    _resolve_pending_miss(turn, entry_id)
    if not turn.onboarding:
        turn.set_state(IDLE, **_state_data(turn))
    entry = turn.services.get(FAQ).base.get(entry_id)
    if entry is None:
        return [Reply(texts.FAQ_ENTRY_GONE, (MENU_BUTTON,))]
    return entry_replies(turn, entry)


def _resolve_pending_miss(turn: Turn, entry_id: str) -> None:
    """Turn the question into a candidate alternative of the chosen suggestion: it is not a gap any more."""
    # Here, not at the top: the learning module uses this one's consent rule and masking.
    from bot.features.learning import record_candidate

    if turn.user is None or turn.user.conversation is None:
        return
    miss_id = turn.user.conversation.data.get("miss")
    if not isinstance(miss_id, int):
        return
    miss = turn.session.get(FaqMiss, miss_id)
    if miss is None or miss.user_id != turn.user.id or entry_id not in miss.suggested.split():
        return
    entry = turn.services.get(FAQ).base.get(entry_id)
    if entry is not None:
        source = CandidateSource.SUGGESTION
        record_candidate(turn.session, turn.user, entry, miss.question, source, turn.now)
    turn.session.delete(miss)


def read_free_text(turn: Turn) -> list[Reply]:
    """Answer a text no dialogue step waits for: an intent, or a question for the FAQ."""
    decision = understand(turn.text, turn.services.get(FAQ), asking=turn.state == ASKING)
    if decision.kind is DecisionKind.INTENT and decision.intent is not None:
        return turn.features.serve_intent(turn, decision.intent.value)
    return decision_replies(turn, decision)


def thank(turn: Turn) -> list[Reply]:
    """Answer thanks: offer another question or the menu."""
    ask = go_button("ask", texts.BUTTON_OTHER_QUESTION)
    return [Reply(texts.THANKS_REPLY, (ask, MENU_BUTTON))]


# The FAQ in use: the composition root loads it (with its embedder and vector cache) and gives it.
FAQ: Part[FaqService] = Part("the FAQ")


def entry_label(turn: Turn, entry_id: str) -> str:
    """Return an FAQ entry as the trainee saw it: its button's text, or its question."""
    entry = turn.services.get(FAQ).base.get(entry_id)
    return f"« {entry.button or entry.question} »" if entry else entry_id


# One line per question the bot did not understand (kept for the gaps report).
FAQ_MISSES = PersonalTable(
    "faq_misses",
    {
        "asked_at": ("Question non comprise, le", show_date),
        "question": ("Texte", show_quoted),
        "outcome": (
            "Ma réponse",
            lambda outcome: "des propositions" if outcome == "suggest" else "pas compris",
        ),
        "suggested": ("Propositions", lambda shown: shown or "aucune"),
    },
    # handled_by_id: which console save took it off the gaps list (the staff's bookkeeping).
    internal=frozenset({"id", "user_id", "handled_by_id"}),
)


def describe_misses(turn: Turn) -> DataSection | None:
    """Return the questions of the turn's person that the bot did not understand."""
    misses = sorted(turn.user.faq_misses, key=lambda miss: miss.asked_at) if turn.user else []
    if not misses:
        return None
    lines = []
    for miss in misses:
        suggested = " ".join(entry_label(turn, entry_id) for entry_id in miss.suggested.split()) or "aucune"
        lines += FAQ_MISSES.block(miss, suggested=suggested)
    summary = texts.counted(texts.MY_DATA_MISSES, len(misses))
    return DataSection(summary, texts.MY_DATA_MISSES_TITLE, lines)


FEATURE = Feature(
    name="faq",
    buttons=[ButtonAction(ENTRY, show_entry), ButtonAction(STEP, on_step)],
    intents={Intent.THANKS.value: thank},
    free_text=read_free_text,
    admin_notices=lambda services: services.get(FAQ),
    personal_tables=[FAQ_MISSES],
    describe_data=describe_misses,
)
