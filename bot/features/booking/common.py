"""Appointments: the button kind, the dialogue states, the availability in use and small helpers."""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

from bot.common.clock import as_utc
from bot.config import Settings
from bot.core.messages import Button
from bot.core.payloads import ButtonKind
from bot.core.turn import Part, Services
from bot.files.availability import Availability, AvailabilityError, Worker, load_availability
from bot.files.office_hours import french_day_and_time

log = logging.getLogger(__name__)


# Appointments: reason, worker, slot (minutes since 1970), confirm, cancel, move, and the staff's verbs.
BOOK = ButtonKind(
    "bk",
    r"list|new|r\.\d{1,2}\.[0-9a-f]{4}|call\.\d{1,2}"
    r"|(?:w|m|s|ok|d)\.\d{1,2}\.[a-z0-9-]{1,30}(?:\.\d{1,10})?"
    r"|(?:x|xx|mv|here|done|absent|sx)\.\d{1,10}"
    r"|(?:mvs|mvok|mvm)\.\d{1,10}\.[a-z0-9-]{1,30}\.\d{1,10}",
)


# The trainee types the number to call back; the worker types a cancellation message.
BOOK_PHONE = "book_phone"
STAFF_CANCEL = "staff_cancel"
SLOTS_SHOWN = 3
# Belgian numbers as people type them: 0470 12 34 56, 04/123.45.67, +32 470 12 34 56, 0032...
PHONE = re.compile(r"(?:\+|00)?[0-9][0-9 ./-]{7,18}[0-9]")


class AvailabilityService:
    """The availability file in use: reloaded when it changes; an invalid edit keeps the last valid one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._current = Availability(workers=())
        self.last_error: AvailabilityError | None = None
        self.refresh()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_size)

    def refresh(self) -> Availability:
        """Return the availability, reloading the file first if it changed (a stat per call)."""
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return self._current
        with self._lock:
            if stamp == self._stamp:
                return self._current
            try:
                self._current = load_availability(self.path)
                self.last_error = None
                log.info("availability loaded: %d social workers", len(self._current.workers))
            except AvailabilityError as error:
                # An admin's typo must not close the booking: keep the last valid file.
                self.last_error = error
                log.error("availability file invalid, the previous one stays in use:\n%s", error)
            self._stamp = stamp
            return self._current


def button(argument: str, title: str) -> Button:
    """Return an appointment button."""
    return BOOK.button(argument, title)


def minutes_of(moment: datetime) -> int:
    """Return an instant as minutes since 1970 (how a slot travels in a button)."""
    return int(as_utc(moment).timestamp() // 60)


def instant(minutes: int) -> datetime:
    """Return the instant of a number of minutes since 1970."""
    return datetime.fromtimestamp(minutes * 60, tz=UTC)


def reason_at(settings: Settings, index: int) -> str | None:
    """Return the configured reason at this index, None for a stale index."""
    names = settings.reason_names
    return names[index] if 0 <= index < len(names) else None


def spoken_when(moment: datetime, now: datetime) -> str:
    """Say an instant in simple French, as seen from now."""
    return french_day_and_time(moment, now)


def place(worker: Worker | None) -> str:
    """Return ", <place>" for a worker who gave one, else nothing."""
    return f", {worker.place}" if worker is not None and worker.place else ""


def worker_display_name(availability: Availability, worker_id: str) -> str:
    """Return a worker's name, or their id when the file no longer has them."""
    worker = availability.worker(worker_id)
    return worker.name if worker is not None else worker_id


def account_of(worker: Worker) -> tuple[str, str] | None:
    """Return the (channel, id) of a worker's chat account, None without one."""
    if not worker.account or ":" not in worker.account:
        return None
    channel, _, external_id = worker.account.partition(":")
    return channel, external_id


def _availability(services: Services) -> AvailabilityService:
    return AvailabilityService(services.settings.availability_file)


# The social workers' availability (the file, reloaded when it changes).
AVAILABILITY: Part[AvailabilityService] = Part("the availability", _availability)
