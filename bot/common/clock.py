"""Time source: UTC everywhere inside, Europe/Brussels only when shown to people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


class Clock(Protocol):
    """Anything that can tell the current time."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to, for tests and demos."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the frozen time in UTC."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by delta."""
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Jump to moment (timezone-aware)."""
        if moment.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self._now = moment.astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """Return moment as an aware UTC datetime; naive values are taken as UTC (SQLite returns them so)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_date_text(moment: datetime) -> str:
    """Format moment as a Brussels date a trainee reads easily, e.g. 25/11/2026."""
    return as_utc(moment).astimezone(BRUSSELS).strftime("%d/%m/%Y")


def days(count: int) -> timedelta:
    """Return a timedelta of count days."""
    return timedelta(days=count)
