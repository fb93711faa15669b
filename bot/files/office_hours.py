"""Office hours of the centre: when the staff can answer, counted in Brussels wall-clock time.

The weekly schedule is written by an admin, e.g. ``lun-jeu 09:00-12:00 13:00-16:30; ven 09:00-12:00``.
Belgian public holidays and the centre's own closure dates are closed days. Every instant taken or
returned is an aware UTC datetime; only the schedule itself is in Brussels time.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.common.clock import BRUSSELS, as_utc

# Searches stop after this many days: beyond a year of closure the honest answer is "unknown".
LOOKAHEAD_DAYS = 400
# Said when nothing opens within LOOKAHEAD_DAYS; fits after "dès" like the other answers.
UNKNOWN_OPENING = "la réouverture du centre"

WEEKDAY_ABBREVIATIONS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
FRENCH_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
FRENCH_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# Admins may write the full day name as well as its abbreviation.
_DAY_NUMBERS = {name: number for number, name in enumerate(WEEKDAY_ABBREVIATIONS)} | {
    name: number for number, name in enumerate(FRENCH_WEEKDAYS)
}
# ASCII digits only: \d would also accept Arabic-Indic and other digits that int() understands.
_TIME_PATTERN = re.compile(r"([0-9]{1,2})(?:[:h]([0-9]{2})|h)")
_SETTING_NAME = "heures de bureau"
_CLOSURES_NAME = "fermetures du centre"
_DATE_EXAMPLE = "écrivez par exemple 2026-12-24 ou 2026-12-28..2026-12-31"
_DATE_PATTERNS = (
    re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"),
    re.compile(r"(?P<day>[0-9]{1,2})/(?P<month>[0-9]{1,2})/(?P<year>[0-9]{4})"),
)
_TIME_EXAMPLE = "écrivez par exemple 09:00-12:00"
_DAYS_EXAMPLE = "écrivez lun, mar, mer, jeu, ven, sam ou dim"


class ScheduleTextError(ValueError):
    """Tell an admin which part of a schedule text is wrong and why, the setting named in the message."""

    def __init__(self, setting: str, part: str, problem: str) -> None:
        """Keep the part and the problem apart, for files that name the place of the mistake their own way."""
        self.part = part
        self.problem = problem
        super().__init__(f'{setting} : "{part}" : {problem}')


@dataclass(frozen=True, order=True)
class TimeRange:
    """An open period within one day, in Brussels wall-clock time; the end is excluded."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise _setting_error(str(self), "la fin doit être après le début")

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class OfficeHours:
    """A weekly schedule (Monday first) minus Belgian public holidays and extra closed dates."""

    weekly: tuple[tuple[TimeRange, ...], ...] = ((),) * 7
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs exactly 7 days, Monday first")
        # Sorted ranges let every search stop at the first period that fits.
        object.__setattr__(self, "weekly", tuple(tuple(sorted(ranges)) for ranges in self.weekly))
        for weekday, ranges in enumerate(self.weekly):
            for earlier, later in itertools.pairwise(ranges):
                if later.start < earlier.end:
                    overlap = f'"{earlier}" et "{later}" se chevauchent le {FRENCH_WEEKDAYS[weekday]}'
                    raise ValueError(f"{_SETTING_NAME} : {overlap}")
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))

    @property
    def is_empty(self) -> bool:
        """Tell whether the weekly schedule has no open period at all."""
        return not any(self.weekly)

    def as_setting(self) -> str:
        """Write the weekly schedule back in the setting format, days with equal hours grouped."""
        groups: list[str] = []
        weekday = 0
        while weekday < 7:
            ranges = self.weekly[weekday]
            last = weekday
            while last + 1 < 7 and self.weekly[last + 1] == ranges:
                last += 1
            if ranges:
                days = WEEKDAY_ABBREVIATIONS[weekday]
                if last > weekday:
                    days += f"-{WEEKDAY_ABBREVIATIONS[last]}"
                groups.append(" ".join([days, *(str(time_range) for time_range in ranges)]))
            weekday = last + 1
        return "; ".join(groups)

    def is_closed_day(self, day: date) -> bool:
        """Tell whether the Brussels date day is a public holiday or an extra closed date."""
        return day in self.closed_dates or day in belgian_public_holidays(day.year)

    def open_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """Return the open periods of the Brussels date day as (start, end) UTC instants, in order."""
        if self.is_closed_day(day):
            return []
        periods: list[tuple[datetime, datetime]] = []
        for time_range in self.weekly[day.weekday()]:
            start = brussels_instant(day, time_range.start)
            end = brussels_instant(day, time_range.end)
            # A range inside the hour skipped in March lasts no time at all.
            if start < end:
                periods.append((start, end))
        return periods

    def is_open(self, at: datetime) -> bool:
        """Tell whether at falls within an open period."""
        at = as_utc(at)
        return any(start <= at < end for start, end in self.open_periods(brussels_date(at)))

    def next_opening(self, at: datetime) -> datetime | None:
        """Return the start of the next open period at or after at (at itself if open), None if unknown."""
        at = as_utc(at)
        for start, end in self._periods_ahead(at):
            if end > at:
                return max(start, at)
        return None

    def open_minutes_between(self, start: datetime, end: datetime) -> float:
        """Return the minutes of office time between start and end (0 if end is not after start)."""
        start, end = as_utc(start), as_utc(end)
        if end <= start:
            return 0.0
        elapsed = timedelta()
        day = brussels_date(start)
        last_day = brussels_date(end)
        while day <= last_day:
            for period_start, period_end in self.open_periods(day):
                overlap = min(period_end, end) - max(period_start, start)
                if overlap > timedelta():
                    elapsed += overlap
            day += timedelta(days=1)
        return elapsed / timedelta(minutes=1)

    def instant_after_open_minutes(self, start: datetime, minutes: float) -> datetime | None:
        """Return the first instant when minutes of office time have passed since start, None if unknown."""
        if not math.isfinite(minutes) or minutes < 0:
            raise ValueError(f"minutes must be a finite number, not negative: {minutes!r}")
        start = as_utc(start)
        if minutes == 0:
            return start
        remaining = timedelta(minutes=minutes)
        for period_start, period_end in self._periods_ahead(start):
            counted_from = max(period_start, start)
            if period_end <= counted_from:
                continue
            if remaining <= period_end - counted_from:
                return counted_from + remaining
            remaining -= period_end - counted_from
        return None

    def closing_time(self, day: date) -> datetime | None:
        """Return the end of the last open period of the Brussels date day, None on a closed day."""
        periods = self.open_periods(day)
        return periods[-1][1] if periods else None

    def describe_next_opening(self, at: datetime) -> str:
        """Say in simple French when the office next opens, seen from at: "demain à 9 h", "maintenant"."""
        opening = self.next_opening(at)
        if opening is None:
            return UNKNOWN_OPENING
        if opening == as_utc(at):
            return "maintenant"
        return french_day_and_time(opening, now=at)

    def _periods_ahead(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yield the open periods of the Brussels day of at and of the LOOKAHEAD_DAYS that follow."""
        first_day = brussels_date(at)
        for offset in range(LOOKAHEAD_DAYS + 1):
            yield from self.open_periods(first_day + timedelta(days=offset))


def parse_office_hours(text: str, closed_dates: Iterable[date] = ()) -> OfficeHours:
    """Read a schedule like "lun-jeu 09:00-12:00 13:00-16:30; ven 09:00-12:00"; blank means never open."""
    weekly: list[list[TimeRange]] = [[] for _ in range(7)]
    for group in text.split(";"):
        group = _tidy_separators(group)
        if not group:
            continue
        days_text, *range_texts = group.split()
        if _TIME_PATTERN.match(days_text):
            raise _setting_error(group, f"il manque les jours ({_DAYS_EXAMPLE} avant les heures)")
        if not range_texts:
            raise _setting_error(group, f"il manque les heures ({_TIME_EXAMPLE})")
        weekdays = parse_days(days_text)
        ranges = [
            parse_time_range(part) for range_text in range_texts for part in range_text.split(",") if part
        ]
        for weekday in weekdays:
            weekly[weekday].extend(ranges)
    return OfficeHours(tuple(tuple(ranges) for ranges in weekly), frozenset(closed_dates))


def parse_time_ranges(text: str) -> list[TimeRange]:
    """Read ranges like "09:00-12:00 13:00-16:30" or "9h-12h, 13h-16h30", in the order written."""
    return [parse_time_range(part) for part in re.split(r"[\s,]+", _tidy_separators(text)) if part]


def parse_closed_dates(text: str) -> frozenset[date]:
    """Read centre closures like "2026-12-24, 2026-12-28..2026-12-31" (or 24/12/2026); blank means none."""
    closed: set[date] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first_text, dots, last_text = part.partition("..")
        first = parse_date(first_text.strip(), part)
        last = parse_date(last_text.strip(), part) if dots else first
        if last < first:
            raise _setting_error(part, "la fin doit être après le début", setting=_CLOSURES_NAME)
        # A closure longer than the search horizon is surely a typo in the year.
        if (last - first).days > LOOKAHEAD_DAYS:
            too_long = f"plus de {LOOKAHEAD_DAYS} jours, vérifiez les années"
            raise _setting_error(part, too_long, setting=_CLOSURES_NAME)
        closed.update(first + timedelta(days=offset) for offset in range((last - first).days + 1))
    return frozenset(closed)


def office_hours_from(setting: str, closures: str) -> OfficeHours | None:
    """Build the office hours from OFFICE_HOURS and CENTRE_CLOSURES, None when no hours are set."""
    hours = parse_office_hours(setting, parse_closed_dates(closures))
    return None if hours.is_empty else hours


def french_time(moment: datetime) -> str:
    """Format the Brussels time of moment the French way: "9 h", "13 h 30"."""
    local = as_utc(moment).astimezone(BRUSSELS)
    return f"{local.hour} h" if local.minute == 0 else f"{local.hour} h {local.minute:02d}"


def french_day_and_time(moment: datetime, now: datetime) -> str:
    """Say moment in simple French as seen from now: "aujourd'hui à 13 h", "lundi 30 novembre à 9 h"."""
    day = brussels_date(as_utc(moment))
    today = brussels_date(as_utc(now))
    if day == today:
        day_text = "aujourd'hui"
    elif day == today + timedelta(days=1):
        day_text = "demain"
    else:
        day_number = "1er" if day.day == 1 else str(day.day)
        day_text = f"{FRENCH_WEEKDAYS[day.weekday()]} {day_number} {FRENCH_MONTHS[day.month - 1]}"
        # Without the year, a date more than about half a year away reads as a date already past.
        if abs((day - today).days) > 180:
            day_text += f" {day.year}"
    return f"{day_text} à {french_time(moment)}"


@functools.cache
def belgian_public_holidays(year: int) -> frozenset[date]:
    """Return the Belgian public holidays of year, built the first time that year is asked for."""
    # Imported here: the package takes tens of milliseconds to load and only this needs it.
    import holidays

    return frozenset(holidays.country_holidays("BE", years=year))


def brussels_date(moment: datetime) -> date:
    """Return the Brussels calendar date of the UTC instant moment."""
    return moment.astimezone(BRUSSELS).date()


def brussels_instant(day: date, wall_time: time) -> datetime:
    """Return the first UTC instant when Brussels clocks show wall_time on day.

    Between 02:00 and 03:00 on the March change there is no such instant: the answer is then the
    moment the clocks jump to 03:00, so that later wall times never map to earlier instants.
    """
    local = datetime.combine(day, wall_time, tzinfo=BRUSSELS)
    # fold=0 picks the first of the two 02:30 in October, and the pre-change offset in March.
    instant = local.astimezone(UTC)
    if instant.astimezone(BRUSSELS).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # In the skipped hour: the jump lies between the instants the two offsets give, and the wall time
    # only grows between them, so halve that interval down to the second the clocks jump.
    before_jump = local.replace(fold=1).astimezone(UTC)
    naive_local = local.replace(tzinfo=None)
    too_early, late_enough = 0, int((instant - before_jump).total_seconds())
    while late_enough - too_early > 1:
        middle = (too_early + late_enough) // 2
        if (before_jump + timedelta(seconds=middle)).astimezone(BRUSSELS).replace(tzinfo=None) >= naive_local:
            late_enough = middle
        else:
            too_early = middle
    return before_jump + timedelta(seconds=late_enough)


def _tidy_separators(text: str) -> str:
    """Remove the spaces around "-" and "," and turn the dash a word processor puts in into "-"."""
    return re.sub(r"\s*([-,–])\s*", r"\1", text.strip()).replace("–", "-")


def parse_days(text: str) -> list[int]:
    """Read "lun-ven", "lun,mer" or "sam" into weekday numbers, Monday being 0."""
    weekdays: set[int] = set()
    for part in text.lower().split(","):
        first_text, dash, last_text = part.partition("-")
        first = _parse_day(first_text, part)
        if not dash:
            weekdays.add(first)
            continue
        last = _parse_day(last_text, part)
        if last < first:
            raise _setting_error(part, "le premier jour doit venir avant le dernier (par exemple lun-ven)")
        weekdays.update(range(first, last + 1))
    return sorted(weekdays)


def _parse_day(text: str, context: str) -> int:
    """Read one French day name or abbreviation; context is the part shown when it is wrong."""
    number = _DAY_NUMBERS.get(text.removesuffix("."))
    if number is None:
        raise _setting_error(context, f"jour inconnu ({_DAYS_EXAMPLE})")
    return number


def parse_time_range(text: str) -> TimeRange:
    """Read "09:00-12:00" (or "9h-12h", "9h30-12h") into a TimeRange."""
    start_text, dash, end_text = text.partition("-")
    if not dash:
        raise _setting_error(text, f"il faut un début et une fin ({_TIME_EXAMPLE})")
    return TimeRange(_parse_time(start_text, text), _parse_time(end_text, text))


def _parse_time(text: str, context: str) -> time:
    """Read "09:00", "9:00", "9h" or "9h30"; context is the part shown when it is wrong."""
    match = _TIME_PATTERN.fullmatch(text.lower())
    if match is None:
        raise _setting_error(context, f"heure illisible ({_TIME_EXAMPLE})")
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        raise _setting_error(context, f"heure impossible ({_TIME_EXAMPLE})")
    return time(hour, minute)


def parse_date(text: str, context: str | None = None) -> date:
    """Read "2026-12-24" or "24/12/2026"; context is the part shown when it is wrong (text itself if None)."""
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match is not None:
            try:
                return date(int(match["year"]), int(match["month"]), int(match["day"]))
            except ValueError:
                break
    raise _setting_error(
        text if context is None else context, f"date invalide ({_DATE_EXAMPLE})", setting=_CLOSURES_NAME
    )


def _setting_error(part: str, problem: str, setting: str = _SETTING_NAME) -> ScheduleTextError:
    """Build the error an admin sees, naming the setting and the part of it that is wrong."""
    return ScheduleTextError(setting, part, problem)
