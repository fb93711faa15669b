"""Editing the FAQ from the staff console: save an entry, keep every save, restore one.

The check is `faq check`'s, on the FAQ folder with the new text in it; only this file's and this entry's
errors stop the save (a colleague's broken file elsewhere is theirs to fix, and the bot keeps serving
it as it last was valid). Every save is a revision: who, when, the file before and after.

A save runs in :func:`save_then_reload`: its unit of work holds the database only while the revision is kept
and the file written; the bot's FAQ is loaded again after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.feature import Feature
from bot.faq import FaqError
from bot.faq.alternatives import same_phrasing
from bot.faq.editing import (
    EDITED_FIELDS,
    EditError,
    Rewrite,
    appended,
    entry_values,
    problems_with,
    read_file_text,
    rewritten,
    without_entry,
)
from bot.faq.editing import write_entry as write_file
from bot.faq.loader import FaqProblem
from bot.features.faq import FaqService
from bot.features.gaps import unhandle
from bot.storage.db import unit_of_work
from bot.storage.models import FaqRevision, User

log = logging.getLogger(__name__)

HISTORY_SHOWN = 100
# Where a unit of work keeps the files its saves wrote (Session.info): put back if its commit fails.
_WRITTEN = "faq_files_written"

T = TypeVar("T")


@dataclass(frozen=True)
class Saved:
    """What a save did: the revision kept, the warnings left (not blocking), a reload's problem."""

    revision: FaqRevision | None = None
    errors: list[FaqProblem] = field(default_factory=list)
    warnings: list[FaqProblem] = field(default_factory=list)
    # The save could not be made at all (the file changed meanwhile, its layout cannot be kept...).
    refusal: str | None = None
    # Saved, but the bot could not load the FAQ again (another file's problem): said to the admin.
    reload_problem: str | None = None
    # False when that problem kept the whole previous FAQ in service (this save is not in use yet).
    in_use: bool = True

    def after(self, reloaded: Reloaded) -> Saved:
        """Return this save with what reloading the FAQ after it said."""
        return replace(self, reload_problem=reloaded.problem, in_use=reloaded.in_use)


@dataclass(frozen=True)
class Reloaded:
    """What loading the FAQ again after a save said: another file's problem, and whether it is in use."""

    problem: str | None = None
    in_use: bool = True


def save_then_reload(
    factory: sessionmaker[Session], faq: FaqService, work: Callable[[Session], T]
) -> tuple[T, Reloaded]:
    """Run saves in one unit of work, then load the bot's FAQ again, outside it.

    The chats wait for the database while a unit of work holds it (SQLite): loading the FAQ is not theirs
    to wait for. A database that refuses the commit after a file was written gets the file back as it was:
    no change of the FAQ without its revision.
    """
    written: list[Rewrite] = []

    def put_back() -> None:
        for rewrite in reversed(written):
            try:
                write_file(faq.directory, rewrite.file_name, rewrite.after, rewrite.before)
            except (EditError, OSError):
                log.exception("%s could not be put back after a refused save", rewrite.file_name)

    with unit_of_work(factory, undo=put_back) as session:
        session.info[_WRITTEN] = written
        result = work(session)
    if not written:
        return result, Reloaded()
    try:
        faq.reload()
    except FaqError as error:
        return result, Reloaded(_first_problem(error), in_use=False)
    if faq.partial_error is not None:
        # Served, with another file kept as it last was valid: the admin hears of it here too.
        return result, Reloaded(_first_problem(faq.partial_error))
    return result, Reloaded()


def save_entry(
    session: Session,
    faq: FaqService,
    author: User,
    entry_id: str,
    values: Mapping[str, Any],
    *,
    languages: list[str],
    now: datetime,
) -> Saved:
    """Check and write the new fields of an entry and keep the revision (run in save_then_reload)."""
    entry = faq.base.get(entry_id)
    if entry is None:
        return Saved(refusal=f"la question '{entry_id}' n'est plus dans la FAQ")
    return _save(session, faq, author, entry.source, entry_id, values, languages, now, restored_from=None)


def restore(
    session: Session, faq: FaqService, author: User, revision_id: int, *, languages: list[str], now: datetime
) -> Saved:
    """Bring an entry back to what it was before a revision (a new revision, itself restorable)."""
    revision = session.get(FaqRevision, revision_id)
    if revision is None:
        return Saved(refusal="cette version n'existe plus")
    try:
        current = entry_values(read_file_text(faq.directory, revision.file_name), revision.entry_id)
    except EditError as error:
        return Saved(refusal=str(error))
    if current != entry_values(revision.after_text, revision.entry_id):
        # Later saves would be lost without a word: the newest one is undone first.
        return Saved(
            refusal="cette question a changé depuis cet enregistrement : remettez d'abord les plus récents"
        )
    values = entry_values(revision.before_text, revision.entry_id)
    if values is None:
        saved = _undo_creation(session, faq, author, revision, languages, now)
    else:
        fields = {name: values.get(name) for name in EDITED_FIELDS}
        saved = _save(
            session,
            faq,
            author,
            revision.file_name,
            revision.entry_id,
            fields,
            languages,
            now,
            restored_from=revision.id,
        )
    if saved.revision is not None:
        unhandle(session, revision.id)  # the trainees' questions it answered are open again
    return saved


def _undo_creation(
    session: Session,
    faq: FaqService,
    author: User,
    revision: FaqRevision,
    languages: list[str],
    now: datetime,
) -> Saved:
    """Take out an entry the revision created (it was not in the file before)."""
    try:
        before = read_file_text(faq.directory, revision.file_name)
        after = without_entry(before, revision.file_name, revision.entry_id)
    except EditError as error:
        return Saved(refusal=str(error))
    return _checked_and_written(
        session,
        faq,
        author,
        revision.file_name,
        revision.entry_id,
        before,
        after,
        languages,
        now,
        restored_from=revision.id,
    )


def _save(
    session: Session,
    faq: FaqService,
    author: User,
    file_name: str,
    entry_id: str,
    values: Mapping[str, Any],
    languages: list[str],
    now: datetime,
    *,
    restored_from: int | None,
) -> Saved:
    try:
        before = read_file_text(faq.directory, file_name)
        after = rewritten(before, file_name, entry_id, values)
    except EditError as error:
        return Saved(refusal=str(error))
    return _checked_and_written(
        session, faq, author, file_name, entry_id, before, after, languages, now, restored_from=restored_from
    )


def _checked_and_written(
    session: Session,
    faq: FaqService,
    author: User,
    file_name: str,
    entry_id: str,
    before: str,
    after: str,
    languages: list[str],
    now: datetime,
    *,
    restored_from: int | None,
) -> Saved:
    """Check the file's new text with the whole FAQ, write it and keep the revision (see save_then_reload)."""
    written: list[Rewrite] | None = session.info.get(_WRITTEN)
    assert written is not None, "FAQ saves run in save_then_reload: it reloads the FAQ after them"
    # Only what this change brings stops it: a problem already there (a colleague's broken file, and
    # what it breaks here, such as a follow-up into it) is theirs to fix.
    already = {
        _problem_key(problem) for problem in problems_with(faq.directory, file_name, before, languages)
    }
    problems = problems_with(faq.directory, file_name, after, languages)
    mine = [
        problem
        for problem in problems
        if (problem.file == file_name or problem.entry == entry_id) and _problem_key(problem) not in already
    ]
    errors = [problem for problem in mine if not problem.warning]
    warnings = [problem for problem in mine if problem.warning and problem.entry == entry_id]
    if errors:
        return Saved(errors=errors, warnings=warnings)
    if after == before:
        return Saved(warnings=warnings)  # nothing changed: no revision, nothing written
    revision = FaqRevision(
        file_name=file_name,
        entry_id=entry_id,
        author_id=author.id,
        author_name=(author.first_name or "?")[:40],
        saved_at=now,
        before_text=before,
        after_text=after,
        restored_from_id=restored_from,
    )
    session.add(revision)
    # The revision is in the transaction before the file changes: a database that refuses it stops the
    # save with the file untouched (and one refusing the commit gets the file back: save_then_reload).
    session.flush()
    try:
        write_file(faq.directory, file_name, before, after)
    except EditError as error:
        session.delete(revision)  # the file is as it was: no revision of a save that did not happen
        session.flush()
        return Saved(refusal=str(error))
    written.append(Rewrite(file_name, before, after))
    log.info("FAQ entry saved from the console by staff member %d (revision %d)", author.id, revision.id)
    return Saved(revision, warnings=warnings)


def _first_problem(error: FaqError) -> str:
    return str(error.problems[0]) if error.problems else str(error).splitlines()[0]


def create_entry(
    session: Session,
    faq: FaqService,
    author: User,
    file_name: str,
    values: Mapping[str, Any],
    *,
    languages: list[str],
    now: datetime,
) -> Saved:
    """Check and add a new entry at the end of an FAQ file and keep the revision (in save_then_reload)."""
    try:
        before = read_file_text(faq.directory, file_name)
        after = appended(before, file_name, values)
    except (EditError, KeyError) as error:
        return Saved(refusal=str(error))
    return _checked_and_written(
        session, faq, author, file_name, str(values["id"]), before, after, languages, now, restored_from=None
    )


def add_phrasing(
    session: Session,
    faq: FaqService,
    author: User,
    entry_id: str,
    questions: Sequence[str],
    *,
    languages: list[str],
    now: datetime,
) -> Saved:
    """Add trainees' questions to an entry's other phrasings (a gap handled), those it has not already."""
    entry = faq.base.get(entry_id)
    if entry is None:
        return Saved(refusal=f"la question '{entry_id}' n'est plus dans la FAQ")
    try:
        values = entry_values(read_file_text(faq.directory, entry.source), entry_id)
    except EditError as error:
        return Saved(refusal=str(error))
    if values is None:
        return Saved(refusal=f"la question '{entry_id}' n'est plus dans {entry.source}")
    known = {
        same_phrasing(text)
        for text in [values.get("question"), *(values.get("alternatives") or [])]
        if isinstance(text, str)
    }
    new = []
    for question in questions:
        tidy = " ".join(question.split())
        if tidy and same_phrasing(tidy) not in known:
            known.add(same_phrasing(tidy))
            new.append(tidy)
    if not new:
        return Saved()  # all of them are already its phrasings
    changed = {name: values.get(name) for name in EDITED_FIELDS}
    changed["alternatives"] = [*(values.get("alternatives") or []), *new]
    return save_entry(session, faq, author, entry_id, changed, languages=languages, now=now)


def _problem_key(problem: FaqProblem) -> tuple[object, ...]:
    """Return what identifies a problem across two checks (its line may move with the edit)."""
    return (problem.file, problem.entry, problem.field, problem.message, problem.warning)


@dataclass(frozen=True)
class FieldChange:
    """One field of an entry changed by a save: what it gained and what it lost (texts, or list items)."""

    field: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class Changes:
    """What a save did to its entry: created it, took it out, or changed these fields."""

    created: bool = False
    taken_out: bool = False
    fields: tuple[FieldChange, ...] = ()


def changes(revision: FaqRevision) -> Changes:
    """Return what a save changed in its entry, field by field (lists item by item)."""
    before = entry_values(revision.before_text, revision.entry_id)
    after = entry_values(revision.after_text, revision.entry_id)
    if before is None or after is None:
        return Changes(created=before is None and after is not None, taken_out=after is None)
    found = []
    for name in EDITED_FIELDS:
        old, new = _items(before.get(name)), _items(after.get(name))
        if old != new:
            found.append(
                FieldChange(
                    name,
                    tuple(item for item in new if item not in old),
                    tuple(item for item in old if item not in new),
                )
            )
    return Changes(fields=tuple(found))


def _items(value: Any) -> tuple[str, ...]:
    """Return a field's value as texts: a list's items, or the one text (nothing when empty)."""
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return () if value is None or value == "" else (str(value),)


def history(session: Session, entry_id: str | None = None) -> list[FaqRevision]:
    """Return the latest saves, newest first (of one entry, when given)."""
    query = select(FaqRevision).order_by(FaqRevision.saved_at.desc(), FaqRevision.id.desc())
    if entry_id is not None:
        query = query.where(FaqRevision.entry_id == entry_id)
    return list(session.scalars(query.limit(HISTORY_SHOWN)))


FEATURE = Feature(
    name="faq_editing",
    # The FAQ's history: texts the staff wrote, and which staff member saved them; nothing of a trainee.
    other_tables=frozenset({"faq_revisions"}),
)
