"""Social workers' availability for appointments, read from a YAML file the centre's admins edit.

The file (``disponibilites.yaml``) is a list with one entry per social worker. Hours are Brussels
wall-clock time; every instant this module takes or returns is an aware UTC datetime.

.. code-block:: yaml

    # disponibilites.yaml
    - id: claire                    # required: lowercase letters, digits and dashes, unique
      name: Claire                  # required: the first name trainees see
      account: telegram:123456789   # optional: the staff account told of bookings
                                    #   ("telegram:<number>" or "console:<name>")
      place: "Bureau 2 (1er étage)" # optional: where the appointments happen
      slot_minutes: 30              # optional: length of one appointment, 10 to 180 (default 30)
      weekly:                       # required (may be empty: {}): the hours of an ordinary week
        mar: [09:00-12:00]
        jeu: [13:30-16:00, 16:30-17:00]
        vendredi: 9h-10h30         # full names, and groups ("lun-ven", "lun,mer"), work too
      exceptions:                   # optional: dates that differ from the ordinary week
        - date: 2026-12-24          # one day off
          off: true
        - date: 2026-12-03          # that day's hours replace the weekly ones
          hours: [09:00-11:00]
        - from: 2026-12-28          # several days off, both ends included
          to: 2026-12-31
          off: true
          note: congés d'hiver      # optional everywhere: a remark for the admins, ignored by the bot

Hours are written ``09:00-12:00``, ``9:00-12:00`` or ``9h-12h30``; a day takes a list (``[09:00-12:00,
13:00-16:00]``) or one text (``09:00-12:00 13:00-16:00``). Dates are ``2026-12-24`` or ``24/12/2026``.
``off`` takes ``true``/``false`` (or ``oui``/``non``). Belgian public holidays are days off for
everyone and need no exception. Every start time of a range that leaves a whole appointment before the
range ends is offered: ``09:00-12:00`` gives six 30-minute appointments, 09:00 to 11:30.

The file is read as a tree of YAML nodes and every value is taken as the admin typed it, never through
YAML 1.1's guesses: ``9:30`` would otherwise be the number 570, ``2026-12-24`` a date object and the
field name ``off`` the boolean False. Validation collects *every* problem, each with file, line and
entry, like the FAQ's. A missing file means that no appointments are offered yet, not an error.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process, utils

from bot.common.clock import BRUSSELS, as_utc
from bot.files.office_hours import (
    FRENCH_WEEKDAYS,
    LOOKAHEAD_DAYS,
    ScheduleTextError,
    TimeRange,
    belgian_public_holidays,
    brussels_date,
    brussels_instant,
    parse_date,
    parse_days,
    parse_time_ranges,
)
from bot.files.problems import EntryProblem, ProblemsError
from bot.files.yaml_nodes import describe_syntax_error, is_null_node, node_line, node_text

__all__ = [
    "Availability",
    "AvailabilityError",
    "AvailabilityProblem",
    "DaysOverride",
    "Slot",
    "Worker",
    "check_availability",
    "fingerprint",
    "load_availability",
]

_SafeLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_SLOT_MINUTES = 30
MIN_SLOT_MINUTES = 10
MAX_SLOT_MINUTES = 180
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# An id travels in button payloads next to a date, and Telegram limits those to 64 bytes.
MAX_ID_CHARS = 30
# The name is shown on buttons next to a date and an hour.
MAX_NAME_CHARS = 40
# The staff tables keep an account's external id in 64 characters.
ACCOUNT_PATTERN = re.compile(r"telegram:[0-9]{1,20}|console:[^\s:]{1,64}")
WORKER_FIELDS = ("id", "name", "account", "place", "slot_minutes", "weekly", "exceptions", "note")
EXCEPTION_FIELDS = ("date", "from", "to", "off", "hours", "note")
# Admins think in French: point a French field name to the field the file expects.
_FRENCH_FIELD_NAMES = {
    "nom": "name",
    "prenom": "name",
    "prénom": "name",
    "compte": "account",
    "lieu": "place",
    "bureau": "place",
    "duree": "slot_minutes",
    "durée": "slot_minutes",
    "semaine": "weekly",
    "horaire": "weekly",
    "horaires": "weekly",
    "conges": "exceptions",
    "congés": "exceptions",
    "jour": "date",
    "du": "from",
    "de": "from",
    "au": "to",
    "jusqu'au": "to",
    "heures": "hours",
    "conge": "off",
    "congé": "off",
    "ferme": "off",
    "fermé": "off",
    "remarque": "note",
    "commentaire": "note",
}
_TRUE_WORDS = frozenset({"true", "yes", "on", "oui", "vrai"})
_FALSE_WORDS = frozenset({"false", "no", "off", "non", "faux"})
_SLOT_MINUTES_PATTERN = re.compile(r"([0-9]{1,4})\s*(?:min|minutes?)?", re.IGNORECASE)
_TIME_EXAMPLE = "écrivez par exemple [09:00-12:00, 13:30-16:00]"
_DATE_EXAMPLE = "écrivez par exemple 2026-12-24 ou 24/12/2026"
_DAYS_EXAMPLE = "écrivez lun, mar, mer, jeu, ven, sam ou dim"


@dataclass(frozen=True)
class DaysOverride:
    """Replace a worker's weekly hours from first to last, Brussels dates included; no hours: days off."""

    first: date
    last: date
    hours: tuple[TimeRange, ...] = ()

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"override ends ({self.last}) before it starts ({self.first})")
        object.__setattr__(self, "hours", tuple(sorted(self.hours)))
        _check_no_overlap(self.hours, f"the {self.first} override")

    def days(self) -> Iterator[date]:
        """Yield every date the override covers, in order."""
        for offset in range((self.last - self.first).days + 1):
            yield self.first + timedelta(days=offset)


@dataclass(frozen=True)
class Worker:
    """One social worker trainees can book, with the hours of an ordinary week (Monday first)."""

    id: str
    name: str
    account: str | None = None
    place: str | None = None
    slot_minutes: int = DEFAULT_SLOT_MINUTES
    weekly: tuple[tuple[TimeRange, ...], ...] = ((),) * 7
    exceptions: tuple[DaysOverride, ...] = ()
    _hours_by_date: dict[date, tuple[TimeRange, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs exactly 7 days, Monday first")
        if not MIN_SLOT_MINUTES <= self.slot_minutes <= MAX_SLOT_MINUTES:
            raise ValueError(
                f"slot_minutes must be {MIN_SLOT_MINUTES} to {MAX_SLOT_MINUTES}: {self.slot_minutes}"
            )
        # Sorted ranges keep the slots of a day in time order without sorting them again.
        object.__setattr__(self, "weekly", tuple(tuple(sorted(ranges)) for ranges in self.weekly))
        for weekday, ranges in enumerate(self.weekly):
            _check_no_overlap(ranges, f"{self.id} on {FRENCH_WEEKDAYS[weekday]}")
        hours_by_date: dict[date, tuple[TimeRange, ...]] = {}
        for override in self.exceptions:
            for day in override.days():
                if day in hours_by_date:
                    raise ValueError(f"{self.id}: two exceptions cover {day}")
                hours_by_date[day] = override.hours
        object.__setattr__(self, "_hours_by_date", hours_by_date)

    def hours_on(self, day: date) -> tuple[TimeRange, ...]:
        """Return the worker's ranges on the Brussels date day, exceptions applied (holidays are not)."""
        return self._hours_by_date.get(day, self.weekly[day.weekday()])


@functools.total_ordering
@dataclass(frozen=True)
class Slot:
    """One appointment a trainee can book; ordered by start, then worker."""

    worker_id: str
    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        # A slot read back from a button or the database compares equal to the one computed here.
        object.__setattr__(self, "starts_at", as_utc(self.starts_at))
        object.__setattr__(self, "ends_at", as_utc(self.ends_at))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Slot):
            return NotImplemented
        return self._order() < other._order()

    def _order(self) -> tuple[datetime, str, datetime]:
        """Return what slots are sorted by: start first, so that a list reads as a timetable."""
        return self.starts_at, self.worker_id, self.ends_at


@dataclass(frozen=True)
class Availability:
    """The bookable social workers, in file order, and the free appointments they offer."""

    workers: tuple[Worker, ...] = ()
    _by_id: dict[str, Worker] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "workers", tuple(self.workers))
        by_id = {worker.id: worker for worker in self.workers}
        if len(by_id) != len(self.workers):
            raise ValueError("two workers share an id")
        object.__setattr__(self, "_by_id", by_id)

    def worker(self, worker_id: str) -> Worker | None:
        """Return the worker with this id, or None."""
        return self._by_id.get(worker_id)

    def free_slots(
        self,
        now: datetime,
        *,
        booked: Collection[tuple[str, datetime]] = (),
        worker_id: str | None = None,
        min_notice: timedelta,
        horizon: timedelta,
        extra_days_off: Collection[tuple[str, date]] = (),
        after: datetime | None = None,
        limit: int | None = None,
    ) -> list[Slot]:
        """Return the free slots starting from now + min_notice to now + horizon, by time then worker.

        booked holds the (worker id, start) of the appointments already taken, extra_days_off the
        (worker id, Brussels date) of days off recorded outside the file. Only slots strictly after
        after are returned, and at most limit of them: a page never ends between two slots that start
        together (unless it holds nothing else), so the next page, after its last start, loses none.
        """
        if limit is not None and limit < 0:
            raise ValueError(f"limit must not be negative: {limit}")
        if worker_id is None:
            workers = self.workers
        else:
            chosen = self.worker(worker_id)
            workers = () if chosen is None else (chosen,)
        window = _Window.build(now, min_notice, horizon, after, booked, extra_days_off)
        if not workers or limit == 0 or window.latest < window.earliest:
            return []
        slots: list[Slot] = []
        day = brussels_date(window.earliest if window.after is None else max(window.earliest, window.after))
        last_day = brussels_date(window.latest)
        while day <= last_day:
            # Every slot of a Brussels day starts on that day: sorting each day sorts them all.
            slots += sorted(slot for worker in workers for slot in _free_slots_on(worker, day, window))
            if limit is not None and len(slots) > limit:
                return _page(slots, limit)
            day += timedelta(days=1)
        return slots

    def is_bookable(
        self,
        slot: Slot,
        now: datetime,
        booked: Collection[tuple[str, datetime]] = (),
        *,
        min_notice: timedelta,
        horizon: timedelta,
        extra_days_off: Collection[tuple[str, date]] = (),
    ) -> bool:
        """Tell whether slot is one free_slots would offer now: a picked button may be stale or forged."""
        worker = self.worker(slot.worker_id)
        if worker is None:
            return False
        window = _Window.build(now, min_notice, horizon, None, booked, extra_days_off)
        return slot in _free_slots_on(worker, brussels_date(slot.starts_at), window)


@dataclass(frozen=True, slots=True)
class AvailabilityProblem(EntryProblem):
    """One problem in the availability file; its entry is a social worker."""

    @property
    def worker(self) -> str | None:
        """Return the worker's id, or "entrée n°3" when it has no usable id."""
        return self.entry


class AvailabilityError(ProblemsError[AvailabilityProblem]):
    """Signal that the availability file cannot be loaded; ``problems`` lists every problem found."""


def load_availability(path: Path) -> Availability:
    """Load the availability file, raising AvailabilityError that lists all the problems found.

    Hours set on a public holiday are reported by check_availability but do not stop loading: the
    centre is closed that day whatever the file says.
    """
    workers, problems, _ = _read_file(Path(path))
    if problems:
        raise AvailabilityError(problems)
    return Availability(tuple(workers))


def check_availability(path: Path) -> list[AvailabilityProblem]:
    """Return every problem in the availability file (an empty list means it is valid)."""
    _, problems, notices = _read_file(Path(path))
    return problems + notices


def fingerprint(path: Path) -> str:
    """Return a digest of the availability file: equal digests, same contents (a missing file has its own)."""
    try:
        content = Path(path).read_bytes()
    except FileNotFoundError:
        return hashlib.sha256(b"missing").hexdigest()
    except OSError:
        # Unreadable for now (being replaced, say): no content has this digest, so it is read once readable.
        return "unreadable"
    return hashlib.sha256(b"file\0" + content).hexdigest()


# --------------------------------------------------------------------------- free slots


@dataclass(frozen=True, slots=True)
class _Window:
    """What every candidate slot is checked against, built once per question."""

    earliest: datetime
    latest: datetime
    after: datetime | None
    booked: frozenset[tuple[str, datetime]]
    days_off: frozenset[tuple[str, date]]

    @classmethod
    def build(
        cls,
        now: datetime,
        min_notice: timedelta,
        horizon: timedelta,
        after: datetime | None,
        booked: Collection[tuple[str, datetime]],
        extra_days_off: Collection[tuple[str, date]],
    ) -> _Window:
        """Bring the caller's instants to UTC (naive ones come from SQLite and are UTC)."""
        now = as_utc(now)
        return cls(
            earliest=now + min_notice,
            latest=now + horizon,
            after=None if after is None else as_utc(after),
            booked=frozenset((worker_id, as_utc(start)) for worker_id, start in booked),
            days_off=frozenset(extra_days_off),
        )

    def allows(self, slot: Slot) -> bool:
        """Tell whether slot starts in the window, after the paging point, and is not taken."""
        return (
            self.earliest <= slot.starts_at <= self.latest
            and (self.after is None or slot.starts_at > self.after)
            and (slot.worker_id, slot.starts_at) not in self.booked
        )


def _page(slots: list[Slot], limit: int) -> list[Slot]:
    """Return the first limit slots, less those sharing the start of the first slot left out."""
    page = slots[:limit]
    cut_start = slots[limit].starts_at
    whole_starts = [slot for slot in page if slot.starts_at != cut_start]
    return whole_starts or page


def _free_slots_on(worker: Worker, day: date, window: _Window) -> list[Slot]:
    """Return the free slots of worker on the Brussels date day, in time order."""
    if (worker.id, day) in window.days_off or day in belgian_public_holidays(day.year):
        return []
    return [slot for slot in _slots_on(worker, day) if window.allows(slot)]


def _slots_on(worker: Worker, day: date) -> Iterator[Slot]:
    """Yield every slot of worker's ranges on the Brussels date day, free or not."""
    length = timedelta(minutes=worker.slot_minutes)
    for time_range in worker.hours_on(day):
        start = brussels_instant(day, time_range.start)
        end = brussels_instant(day, time_range.end)
        # Stepped in real time, not wall time: on the nights the clocks change, a range holds the
        # appointments that really fit in it, each lasting slot_minutes.
        while start + length <= end:
            # When the clocks go back, the instants between a range's ends include the repeated hour's
            # second pass, whose wall time may lie before the range: those are not in the range.
            if start.astimezone(BRUSSELS).time() >= time_range.start:
                yield Slot(worker.id, start, start + length)
            start += length


def _check_no_overlap(ranges: tuple[TimeRange, ...], where: str) -> None:
    """Raise ValueError when two of the sorted ranges overlap."""
    for earlier, later in itertools.pairwise(ranges):
        if later.start < earlier.end:
            raise ValueError(f"{where}: {earlier} and {later} overlap")


# --------------------------------------------------------------------------- reading the file


class _Found:
    """Collect the (message, line) problems of one worker while it is checked."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, int]] = []

    def add(self, message: str, line: int) -> None:
        """Record a problem at line."""
        self.problems.append((message, line))

    def __len__(self) -> int:
        return len(self.problems)


class _Fields(dict[str, yaml.Node]):
    """Hold the value node of each known field of a mapping, and the known fields written with a typo."""

    def __init__(self) -> None:
        super().__init__()
        # Saying that a field written with a typo is missing too would only repeat the problem.
        self.misspelled: set[str] = set()


def _read_file(path: Path) -> tuple[list[Worker], list[AvailabilityProblem], list[AvailabilityProblem]]:
    """Read and validate the file; return the valid workers, the problems, and the non-blocking notices."""
    name = path.name or str(path)
    if path.is_dir():
        return [], [AvailabilityProblem(str(path), "c'est un dossier, pas un fichier de disponibilités")], []
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], [], []
    except OSError as error:
        return [], [AvailabilityProblem(name, f"impossible de lire le fichier ({error.strerror})")], []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad_line = data[: error.start].count(b"\n") + 1
        message = "le fichier n'est pas encodé en UTF-8 (enregistrez-le en UTF-8)"
        return [], [AvailabilityProblem(name, message, line=bad_line)], []

    # Composing only, never constructing: the node tree keeps every value as typed, with its line.
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as error:
        return [], [_syntax_problem(name, error)], []
    except RecursionError:
        # Only PyYAML's own parser, used without libyaml, nests Python calls as deep as the file.
        message = "erreur de syntaxe YAML : trop de crochets ou d'accolades les uns dans les autres"
        return [], [AvailabilityProblem(name, message)], []
    finally:
        loader.dispose()

    if root is None or is_null_node(root):
        # A file holding only comments is a placeholder: nobody is bookable yet.
        return [], [], []
    if not isinstance(root, yaml.SequenceNode):
        message = "le fichier doit contenir une liste de personnes (chacune commence par '- id:')"
        return [], [AvailabilityProblem(name, message, line=node_line(root))], []

    problems: list[AvailabilityProblem] = []
    notices: list[AvailabilityProblem] = []
    workers: list[Worker] = []
    first_lines: dict[str, int] = {}
    for position, node in enumerate(root.value, start=1):
        worker_id, worker = _check_worker(name, position, node, problems, notices)
        if worker_id is None:
            continue
        if worker_id in first_lines:
            message = f"id '{worker_id}' en double (déjà utilisé ligne {first_lines[worker_id]})"
            problems.append(AvailabilityProblem(name, message, worker_id, node_line(node)))
            continue
        first_lines[worker_id] = node_line(node)
        if worker is not None:
            workers.append(worker)
    return workers, problems, notices


def _syntax_problem(file_name: str, error: yaml.YAMLError) -> AvailabilityProblem:
    """Describe a YAML syntax error in French, at the line where the admin should look."""
    message, line = describe_syntax_error(error)
    return AvailabilityProblem(file_name, message, line=line)


def _check_worker(
    file_name: str,
    position: int,
    node: yaml.Node,
    problems: list[AvailabilityProblem],
    notices: list[AvailabilityProblem],
) -> tuple[str | None, Worker | None]:
    """Validate one worker; return its id when usable and the worker when valid, appending the problems."""
    label = f"entrée n°{position}"
    if not isinstance(node, yaml.MappingNode):
        message = "l'entrée doit être un ensemble de champs (id, name, weekly...)"
        problems.append(AvailabilityProblem(file_name, message, label, node_line(node)))
        return None, None

    found = _Found()
    fields = _fields(node, WORKER_FIELDS, found)
    worker_id = _check_id(fields, node, found)
    if worker_id is not None:
        label = worker_id
    name = _required_text(fields, "name", node, found)
    if name is not None and len(name) > MAX_NAME_CHARS:
        found.add(
            f"champ 'name' trop long ({len(name)} caractères, maximum {MAX_NAME_CHARS})",
            node_line(fields["name"]),
        )
    account = _optional_text(fields, "account", found)
    if account is not None and not ACCOUNT_PATTERN.fullmatch(account):
        message = (
            "champ 'account' : écrivez telegram:<numéro du compte> (ex. telegram:123456789) ou console:<nom>"
        )
        found.add(message, node_line(fields["account"]))
    place = _optional_text(fields, "place", found)
    slot_minutes = _check_slot_minutes(fields, found)
    weekly = _check_weekly(fields, node, slot_minutes, found)
    exceptions = _check_exceptions(fields, slot_minutes, found)

    # In line order, the way the admin reads the file; sorted() keeps the order of problems on one line.
    problems.extend(
        AvailabilityProblem(file_name, message, label, line)
        for message, line in sorted(found.problems, key=lambda problem: problem[1])
    )
    if (
        found
        or worker_id is None
        or name is None
        or slot_minutes is None
        or weekly is None
        or exceptions is None
    ):
        return worker_id, None
    notices.extend(
        AvailabilityProblem(
            file_name,
            f"le {day:%d/%m/%Y} est un jour férié : le centre est fermé, ces heures ne seront pas proposées",
            label,
            line,
        )
        for override, line in exceptions
        if override.hours
        for day in override.days()
        if day in belgian_public_holidays(day.year)
    )
    return worker_id, Worker(
        id=worker_id,
        name=name,
        account=account,
        place=place,
        slot_minutes=slot_minutes,
        weekly=weekly,
        exceptions=tuple(override for override, _ in exceptions),
    )


def _fields(node: yaml.MappingNode, known: tuple[str, ...], found: _Found) -> _Fields:
    """Return the value node of each known field, reporting unknown, unreadable and repeated names."""
    fields = _Fields()
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = node_text(key_node)
        if key is None or is_null_node(key_node):
            found.add("nom de champ illisible (écrivez par exemple 'name: Claire')", node_line(key_node))
        elif key in seen:
            found.add(f"champ '{key}' en double", node_line(key_node))
        elif key not in known:
            meant = _meant_field(key, known)
            if meant is None:
                found.add(
                    f"champ '{key}' inconnu (champs possibles : {', '.join(known)})", node_line(key_node)
                )
            else:
                found.add(f"champ '{key}' inconnu : vouliez-vous dire '{meant}' ?", node_line(key_node))
                fields.misspelled.add(meant)
        else:
            seen.add(key)
            fields[key] = value_node
    return fields


def _meant_field(key: str, known: tuple[str, ...]) -> str | None:
    """Return the known field an unknown field name probably stands for, if any."""
    suggestion = _FRENCH_FIELD_NAMES.get(key.strip().lower())
    if suggestion in known:
        return suggestion
    close = process.extractOne(
        key, known, scorer=fuzz.ratio, processor=utils.default_process, score_cutoff=75
    )
    return close[0] if close is not None else None


def _check_id(fields: _Fields, owner: yaml.Node, found: _Found) -> str | None:
    """Return the worker's id when it is usable, else report why."""
    worker_id = _required_text(fields, "id", owner, found)
    if worker_id is None:
        return None
    if not ID_PATTERN.fullmatch(worker_id):
        message = (
            f"id '{worker_id}' invalide : utilisez seulement des minuscules sans accents, des chiffres "
            "et des tirets (ex. 'claire' ou 'marc-dupont')"
        )
        found.add(message, node_line(fields["id"]))
        return None
    if len(worker_id) > MAX_ID_CHARS:
        found.add(
            f"id trop long ({len(worker_id)} caractères, maximum {MAX_ID_CHARS})", node_line(fields["id"])
        )
        return None
    return worker_id


def _required_text(fields: _Fields, field_name: str, owner: yaml.Node, found: _Found) -> str | None:
    """Return a required one-line text field, stripped, reporting when it is missing or blank."""
    before = len(found)
    text = _optional_text(fields, field_name, found)
    if text is None and len(found) == before and field_name not in fields.misspelled:
        found.add(f"champ '{field_name}' manquant ou vide", node_line(fields.get(field_name, owner)))
    return text


def _optional_text(fields: _Fields, field_name: str, found: _Found) -> str | None:
    """Return an optional one-line text field, stripped; None when absent, blank or wrong."""
    node = fields.get(field_name)
    if node is None or is_null_node(node):
        return None
    text = node_text(node)
    if text is None or "\n" in text.strip():
        found.add(f"champ '{field_name}' doit être un texte sur une ligne", node_line(node))
        return None
    return text.strip() or None


def _check_slot_minutes(fields: _Fields, found: _Found) -> int | None:
    """Return the appointment length in minutes (the default when absent), None after reporting it."""
    node = fields.get("slot_minutes")
    if node is None or is_null_node(node):
        return DEFAULT_SLOT_MINUTES
    text = node_text(node)
    match = _SLOT_MINUTES_PATTERN.fullmatch(text.strip()) if text is not None else None
    if match is None:
        found.add("champ 'slot_minutes' : écrivez un nombre de minutes (ex. 30)", node_line(node))
        return None
    minutes = int(match[1])
    if not MIN_SLOT_MINUTES <= minutes <= MAX_SLOT_MINUTES:
        allowed = f"il faut entre {MIN_SLOT_MINUTES} et {MAX_SLOT_MINUTES}"
        message = f"champ 'slot_minutes' : {minutes} minutes, {allowed}"
        found.add(message, node_line(node))
        return None
    return minutes


def _check_weekly(
    fields: _Fields, owner: yaml.Node, slot_minutes: int | None, found: _Found
) -> tuple[tuple[TimeRange, ...], ...] | None:
    """Return the ranges of each weekday, Monday first, or None after reporting the problems."""
    node = fields.get("weekly")
    if node is None:
        if "weekly" in fields.misspelled:
            return None
        found.add(
            "champ 'weekly' manquant (les heures d'une semaine ordinaire, ex. mar: [09:00-12:00])",
            node_line(owner),
        )
        return None
    if is_null_node(node):
        return ((),) * 7
    if not isinstance(node, yaml.MappingNode):
        found.add("champ 'weekly' : écrivez un jour par ligne (ex. mar: [09:00-12:00])", node_line(node))
        return None
    before = len(found)
    weekly: list[list[tuple[TimeRange, int]]] = [[] for _ in range(7)]
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = node_text(key_node)
        if key is None or is_null_node(key_node):
            found.add(f"champ 'weekly' : jour illisible ({_DAYS_EXAMPLE})", node_line(key_node))
            continue
        if key in seen:
            found.add(f"champ 'weekly' : jour '{key}' en double", node_line(key_node))
            continue
        seen.add(key)
        try:
            # Day names hold no spaces: "lun - ven" and "lun, mer" are what the admin meant.
            weekdays = parse_days(re.sub(r"\s+", "", key).replace("–", "-"))
        except ScheduleTextError as error:
            found.add(f"champ 'weekly' : \"{error.part}\" : {error.problem}", node_line(key_node))
            continue
        ranges = _check_ranges(value_node, f"champ 'weekly', jour '{key}'", slot_minutes, found)
        for weekday in weekdays:
            weekly[weekday] += [(time_range, line) for time_range, line in ranges]
    for weekday, day_ranges in enumerate(weekly):
        _report_overlaps(day_ranges, f"champ 'weekly', le {FRENCH_WEEKDAYS[weekday]}", found)
    if len(found) > before:
        return None
    return tuple(tuple(time_range for time_range, _ in ranges) for ranges in weekly)


def _check_ranges(
    node: yaml.Node, where: str, slot_minutes: int | None, found: _Found
) -> list[tuple[TimeRange, int]]:
    """Return the valid ranges a list (or a text) of hours holds, each with its line, reporting the others."""
    if is_null_node(node):
        return []
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    ranges: list[tuple[TimeRange, int]] = []
    for item in items:
        text = node_text(item)
        if text is None or is_null_node(item):
            found.add(f"{where} : chaque plage d'heures est un texte ({_TIME_EXAMPLE})", node_line(item))
            continue
        try:
            item_ranges = parse_time_ranges(text)
        except ScheduleTextError as error:
            found.add(f'{where} : "{error.part}" : {error.problem}', node_line(item))
            continue
        for time_range in item_ranges:
            if slot_minutes is not None and _wall_minutes(time_range) < slot_minutes:
                message = (
                    f'{where} : "{time_range}" est trop court pour un rendez-vous de {slot_minutes} minutes'
                )
                found.add(message, node_line(item))
            else:
                ranges.append((time_range, node_line(item)))
    return ranges


def _report_overlaps(ranges: list[tuple[TimeRange, int]], where: str, found: _Found) -> None:
    """Report the ranges of one day that overlap, at the later one's line."""
    for (earlier, _), (later, later_line) in itertools.pairwise(sorted(ranges)):
        if later.start < earlier.end:
            found.add(f'{where} : "{earlier}" et "{later}" se chevauchent', later_line)


def _check_exceptions(
    fields: _Fields, slot_minutes: int | None, found: _Found
) -> list[tuple[DaysOverride, int]] | None:
    """Return the exceptions with their lines, or None after reporting the problems."""
    node = fields.get("exceptions")
    if node is None or is_null_node(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        found.add(
            "champ 'exceptions' : écrivez une liste (une ligne '- date: ...' par exception)", node_line(node)
        )
        return None
    before = len(found)
    overrides = [
        (override, node_line(item))
        for item in node.value
        if (override := _check_exception(item, slot_minutes, found)) is not None
    ]
    # Two exceptions on one day would leave the bot to guess which one the admin meant.
    covered: dict[date, int] = {}
    for override, line in overrides:
        twice = next((day for day in override.days() if day in covered), None)
        if twice is not None:
            found.add(
                f"exception : le {twice:%d/%m/%Y} est déjà dans l'exception de la ligne {covered[twice]}",
                line,
            )
        else:
            covered.update(dict.fromkeys(override.days(), line))
    return overrides if len(found) == before else None


def _check_exception(node: yaml.Node, slot_minutes: int | None, found: _Found) -> DaysOverride | None:
    """Validate one exception; return it when valid, else report its problems and return None."""
    if not isinstance(node, yaml.MappingNode):
        found.add(
            "exception : écrivez des champs (ex. '- date: 2026-12-24' puis 'off: true')", node_line(node)
        )
        return None
    before = len(found)
    fields = _fields(node, EXCEPTION_FIELDS, found)
    first, last = _check_exception_dates(node, fields, found)
    off = _check_flag(fields, "off", found)
    hours: list[tuple[TimeRange, int]] = []
    if "hours" in fields:
        hours_line = node_line(fields["hours"])
        if off:
            found.add("exception : 'off: true' et 'hours' se contredisent, gardez l'un des deux", hours_line)
        elif "date" not in fields:
            message = (
                "exception : 'hours' va avec 'date' (un seul jour) ; pour une période, seul 'off: true' "
                "est possible"
            )
            found.add(message, hours_line)
        hours = _check_ranges(fields["hours"], "exception, champ 'hours'", slot_minutes, found)
        _report_overlaps(hours, "exception, champ 'hours'", found)
    elif off is False and not fields.misspelled & {"off", "hours"}:
        found.add(
            "exception : écrivez 'off: true' (jour de congé) ou 'hours: [...]' (les heures de ce jour)",
            node_line(node),
        )
    if len(found) > before or first is None or last is None:
        return None
    return DaysOverride(first, last, tuple(time_range for time_range, _ in hours))


def _check_exception_dates(
    node: yaml.Node, fields: _Fields, found: _Found
) -> tuple[date | None, date | None]:
    """Return the first and last day of an exception, (None, None) after reporting a problem."""
    if "date" in fields:
        if "from" in fields or "to" in fields:
            found.add(
                "exception : 'date' (un jour) ou 'from' et 'to' (une période), pas les deux", node_line(node)
            )
            return None, None
        day = _check_date(fields["date"], "date", found)
        return day, day
    if "from" not in fields or "to" not in fields:
        if fields.misspelled & {"date", "from", "to"}:
            pass
        elif "from" in fields or "to" in fields:
            found.add(
                "exception : une période a besoin de 'from' (premier jour) et de 'to' (dernier jour)",
                node_line(node),
            )
        else:
            found.add(
                f"exception : il manque 'date' ({_DATE_EXAMPLE}), ou 'from' et 'to' pour une période",
                node_line(node),
            )
        return None, None
    first = _check_date(fields["from"], "from", found)
    last = _check_date(fields["to"], "to", found)
    if first is None or last is None:
        return None, None
    if last < first:
        found.add(
            f"exception : 'from' ({first:%d/%m/%Y}) est après 'to' ({last:%d/%m/%Y})", node_line(fields["to"])
        )
        return None, None
    # A period longer than the search horizon is surely a typo in the year.
    if (last - first).days > LOOKAHEAD_DAYS:
        found.add(f"exception : plus de {LOOKAHEAD_DAYS} jours, vérifiez les années", node_line(fields["to"]))
        return None, None
    return first, last


def _check_date(node: yaml.Node, field_name: str, found: _Found) -> date | None:
    """Return the date node holds, or None after reporting it."""
    text = node_text(node)
    if text is not None and not is_null_node(node):
        try:
            return parse_date(text.strip())
        except ScheduleTextError:
            pass
    found.add(f"champ '{field_name}' : date invalide ({_DATE_EXAMPLE})", node_line(node))
    return None


def _check_flag(fields: _Fields, field_name: str, found: _Found) -> bool | None:
    """Return a yes/no field (False when absent), None after reporting a value that is neither."""
    node = fields.get(field_name)
    if node is None:
        return False
    text = node_text(node)
    word = text.strip().lower() if text is not None else ""
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    found.add(f"champ '{field_name}' : écrivez true (oui) ou false (non)", node_line(node))
    return None


def _wall_minutes(time_range: TimeRange) -> int:
    """Return the length of a range in wall-clock minutes."""
    return (
        (time_range.end.hour - time_range.start.hour) * 60 + time_range.end.minute - time_range.start.minute
    )
