"""Rewrite one social worker's hours and days off in disponibilites.yaml (the staff console's form).

Only that worker's entry changes, and in it only what the form changed: the weekly hours (days with the
same hours grouped, "lun-jeu: [09:00-12:00]"), the days off (the exceptions with ``off``; other
exceptions, days with other hours, stay as written), the place and the length of an appointment. The
new text is checked as `cisp-bot availability check` would before anything is written, and must read
back as the old file with that one worker changed.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError

from bot.files.availability import AvailabilityError, AvailabilityProblem, Worker, load_availability
from bot.files.office_hours import TimeRange, parse_date
from bot.files.yaml_rewrite import (
    LAYOUTS,
    dump,
    layout_of,
    one_writer,
    patch,
    position_of,
    replace_file,
    round_trip,
)

WEEKDAY_KEYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")


class HoursEditError(Exception):
    """The file could not be rewritten as asked; the message says why, in French, for an admin."""


@dataclass(frozen=True)
class DayOff:
    """Days off of a worker, both ends included, with an optional note for the admins."""

    first: date
    last: date
    note: str | None = None


@dataclass(frozen=True)
class HoursChange:
    """What the form asks for one worker."""

    weekly: tuple[tuple[TimeRange, ...], ...]  # Monday first, seven days
    days_off: tuple[DayOff, ...]
    place: str | None
    slot_minutes: int


def _grouped(weekly: tuple[tuple[TimeRange, ...], ...]) -> CommentedMap:
    """Write the week with consecutive days of the same hours together ("lun-jeu")."""
    mapping = CommentedMap()
    day = 0
    while day < 7:
        last = day
        while last + 1 < 7 and weekly[last + 1] == weekly[day]:
            last += 1
        if weekly[day]:
            key = WEEKDAY_KEYS[day] if last == day else f"{WEEKDAY_KEYS[day]}-{WEEKDAY_KEYS[last]}"
            ranges = CommentedSeq(str(time_range) for time_range in weekly[day])
            ranges.fa.set_flow_style()
            mapping[key] = ranges
        day = last + 1
    return mapping


def _day_off_entry(day_off: DayOff) -> CommentedMap:
    entry = CommentedMap()
    if day_off.first == day_off.last:
        entry["date"] = day_off.first
    else:
        entry["from"] = day_off.first
        entry["to"] = day_off.last
    entry["off"] = True
    if day_off.note:
        entry["note"] = day_off.note
    return entry


def _is_off(node: object) -> bool:
    return isinstance(node, dict) and str(node.get("off", "")).lower() in {"true", "oui", "yes", "vrai"}


def rewritten_worker(text: str, file_name: str, worker: Worker, change: HoursChange) -> str:
    """Return the file's text with one worker's hours, days off, place and appointment length changed."""
    try:
        document = round_trip(LAYOUTS[0]).load(text)
    except RuamelError as error:
        raise HoursEditError(f"{file_name} a une erreur de syntaxe : corrigez-la d'abord") from error
    position = position_of(document, worker.id)
    if position is None:
        raise HoursEditError(f"{worker.name} n'est plus dans {file_name}")
    found = layout_of(document, text)
    if found is None:
        raise _cannot_keep_layout(file_name)
    layout, unchanged = found
    entry = document[position]
    if change.weekly != worker.weekly:
        entry["weekly"] = _grouped(change.weekly)
    if sorted(change.days_off, key=_order) != sorted(days_off_in(text, worker.id), key=_order):
        _replace_days_off(entry, sorted(change.days_off, key=_order))
    _set_optional(entry, "place", change.place, worker.place)
    if change.slot_minutes != worker.slot_minutes:
        entry["slot_minutes"] = change.slot_minutes
    new_text = patch(text, unchanged, dump(document, layout))
    if new_text is None:
        raise _cannot_keep_layout(file_name)
    return _blank_lines_kept(text, new_text)


def _blank_lines_kept(text: str, new_text: str) -> str:
    """Keep the blank line the admins leave before each worker (ruamel.yaml ties it to the entry above)."""
    old_lines = text.splitlines()
    spaced = {
        line for before, line in itertools.pairwise(old_lines) if not before.strip() and line.startswith("- ")
    }
    lines: list[str] = []
    for line in new_text.splitlines():
        if line in spaced and lines and lines[-1].strip():
            lines.append("")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _cannot_keep_layout(file_name: str) -> HoursEditError:
    return HoursEditError(
        f"je ne sais pas réécrire {file_name} sans changer sa mise en page : changez-le à la main"
    )


def _replace_days_off(entry: CommentedMap, days_off: list[DayOff]) -> None:
    """Put the new days off in the entry's exceptions, after the days with other hours (kept as typed)."""
    kept = [node for node in entry.get("exceptions") or [] if not _is_off(node)]
    items = [*kept, *(_day_off_entry(off) for off in days_off)]
    if items:
        entry["exceptions"] = CommentedSeq(items)
    else:
        entry.pop("exceptions", None)


def _set_optional(entry: CommentedMap, name: str, value: str | None, old: str | None) -> None:
    if value == old:
        return
    if value:
        entry[name] = value
    else:
        entry.pop(name, None)


def checked(path: Path, new_text: str, worker_id: str) -> tuple[list[AvailabilityProblem], Worker | None]:
    """Check the new text as `availability check` would; return its problems, or the rewritten worker."""
    with tempfile.TemporaryDirectory(prefix="cisp-hours-") as folder:
        candidate = Path(folder) / path.name
        candidate.write_text(new_text, encoding="utf-8")
        try:
            availability = load_availability(candidate)
        except AvailabilityError as error:
            return list(error.problems), None
    before = load_availability(path)
    others_before = [worker for worker in before.workers if worker.id != worker_id]
    others_after = [worker for worker in availability.workers if worker.id != worker_id]
    if others_before != others_after:
        raise HoursEditError("la réécriture changerait un·e autre assistant·e social·e : rien n'est écrit")
    return [], availability.worker(worker_id)


def save_worker(
    path: Path, worker_id: str, change: HoursChange
) -> tuple[list[AvailabilityProblem], Worker | None]:
    """Check and write one worker's new hours; return the problems (nothing written), or the new worker."""
    with one_writer(path.parent):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise HoursEditError(f"impossible de lire {path.name}") from error
        worker = load_availability(path).worker(worker_id)
        if worker is None:
            raise HoursEditError(f"'{worker_id}' n'est plus dans {path.name}")
        new_text = rewritten_worker(text, path.name, worker, change)
        problems, rewritten = checked(path, new_text, worker_id)
        if problems:
            return problems, None
        expected = replace(
            worker,
            weekly=change.weekly,
            place=change.place or None,
            slot_minutes=change.slot_minutes,
        )
        if rewritten is None or (rewritten.weekly, rewritten.place, rewritten.slot_minutes) != (
            expected.weekly,
            expected.place,
            expected.slot_minutes,
        ):
            raise HoursEditError("la réécriture ne donne pas les heures demandées : rien n'est écrit")
        if text != new_text:
            replace_file(path, new_text)
        return [], rewritten


def _order(day_off: DayOff) -> tuple[date, date, str]:
    return (day_off.first, day_off.last, day_off.note or "")


def days_off_in(text: str, worker_id: str) -> list[DayOff]:
    """Return the days off written for a worker (the exceptions with ``off``), with their notes."""
    try:
        # YAML 1.2 (ruamel): "off" is a field name here, not the boolean YAML 1.1 would make of it.
        document = round_trip(LAYOUTS[0]).load(text)
    except RuamelError:
        return []
    entry = next(
        (item for item in document or [] if isinstance(item, dict) and str(item.get("id")) == worker_id), None
    )
    found = []
    for exception in (entry or {}).get("exceptions") or []:
        if not isinstance(exception, dict) or not _is_off(exception):
            continue
        try:
            first = _as_date(exception.get("date", exception.get("from")))
            last = _as_date(exception.get("date", exception.get("to")))
        except ValueError:
            continue
        note = exception.get("note")
        found.append(DayOff(first, last, str(note) if note else None))
    return found


def _as_date(value: object) -> date:
    if isinstance(value, date):
        return value
    return parse_date(str(value))
