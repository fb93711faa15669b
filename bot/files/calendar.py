"""Calendar files (.ics, RFC 5545): an appointment a phone can add to its agenda, a worker's agenda."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.common.clock import as_utc

PRODUCT = "-//cisp-bot//rendez-vous//FR"
# RFC 5545 folds content lines longer than 75 octets.
_MAX_LINE_OCTETS = 75


@dataclass(frozen=True)
class CalendarEvent:
    """One event of a calendar file."""

    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str | None = None
    description: str | None = None


def _escape(text: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and line breaks."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _utc(moment: datetime) -> str:
    # UTC ("Z") times need no VTIMEZONE block, and every calendar shows them in its own time zone.
    return as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> list[str]:
    """Split a content line into pieces of at most 75 octets, never inside a UTF-8 character."""
    pieces: list[str] = []
    current = ""
    limit = _MAX_LINE_OCTETS
    for char in line:
        if len((current + char).encode("utf-8")) > limit:
            pieces.append(current)
            current = char
            limit = _MAX_LINE_OCTETS - 1  # continuation lines start with a space
        else:
            current += char
    pieces.append(current)
    return [pieces[0], *(" " + piece for piece in pieces[1:])]


def calendar_file(events: Iterable[CalendarEvent], stamp: datetime, name: str | None = None) -> bytes:
    """Return an iCalendar file with these events, lines ending in CRLF as the standard says."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if name:
        lines.append(f"X-WR-CALNAME:{_escape(name)}")
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{_utc(stamp)}",
            f"DTSTART:{_utc(event.starts_at)}",
            f"DTEND:{_utc(event.ends_at)}",
            f"SUMMARY:{_escape(event.summary)}",
        ]
        if event.location:
            lines.append(f"LOCATION:{_escape(event.location)}")
        if event.description:
            lines.append(f"DESCRIPTION:{_escape(event.description)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(piece + "\r\n" for line in lines for piece in _fold(line)).encode("utf-8")


def appointment_ics(
    *,
    uid: str,
    starts_at: datetime,
    ends_at: datetime,
    summary: str,
    location: str | None,
    description: str | None,
    stamp: datetime,
) -> bytes:
    """Return the .ics of one appointment."""
    event = CalendarEvent(uid, starts_at, ends_at, summary, location, description)
    return calendar_file([event], stamp)
