"""SESSION_REMINDERS: when module sessions are reminded ("veille 18:00, 1h"), read in Brussels time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.common.clock import BRUSSELS, as_utc
from bot.files.office_hours import brussels_instant

_OFFSET = re.compile(r"\s*(?:(veille)\s+(\d{1,2})[:h](\d{2})|(\d+(?:[.,]\d+)?)\s*h)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ReminderTime:
    """When to remind: the day before at a clock time, or some hours before."""

    name: str
    day_before_at: time | None = None
    hours_before: float | None = None

    def due(self, starts_at: datetime) -> datetime:
        """Return the instant of this reminder for a session starting then."""
        if self.day_before_at is not None:
            day = as_utc(starts_at).astimezone(BRUSSELS).date() - timedelta(days=1)
            return brussels_instant(day, self.day_before_at)
        assert self.hours_before is not None
        return as_utc(starts_at) - timedelta(hours=self.hours_before)


def reminder_times(setting: str) -> list[ReminderTime]:
    """Parse SESSION_REMINDERS ("veille 18:00, 1h") into reminder times; raise ValueError if unreadable."""
    times: list[ReminderTime] = []
    for part in setting.split(","):
        if not part.strip():
            continue
        match = _OFFSET.fullmatch(part)
        if match is None:
            raise ValueError(f"SESSION_REMINDERS : « {part.strip()} » illisible (ex. : veille 18:00, 1h)")
        if match[1]:
            hour, minute = int(match[2]), int(match[3])
            if hour > 23 or minute > 59:
                raise ValueError(f"SESSION_REMINDERS : heure impossible « {part.strip()} »")
            times.append(ReminderTime(f"veille{hour:02d}{minute:02d}", day_before_at=time(hour, minute)))
        else:
            hours = float(match[4].replace(",", "."))
            times.append(ReminderTime(f"{hours:g}h", hours_before=hours))
    return times
