"""The social workers' hours in the console: read by everyone, changed by admins, written to the file.

What disponibilites.yaml holds (weekly hours, days off, place, length of an appointment) in a form, one
worker at a time, with the next free slots as the bot would offer them. The file is rewritten as the
admins wrote it but for that worker's changes (files/availability_edit.py), and the bot reads it anew.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.core.turn import Services, display_name
from bot.features.booking.common import AVAILABILITY
from bot.features.booking.queries import listed_appointments, open_slots
from bot.files.availability import Worker
from bot.files.availability_edit import DayOff, HoursChange, HoursEditError, days_off_in, save_worker
from bot.files.office_hours import (
    FRENCH_WEEKDAYS,
    ScheduleTextError,
    brussels_date,
    french_day_and_time,
    parse_date,
    parse_time_ranges,
)
from bot.storage.models import AppointmentStatus
from bot.webconsole.agenda_pages import day_title
from bot.webconsole.pages import Pages, Staff

log = logging.getLogger(__name__)

SLOTS_SHOWN = 5
# Days off are looked at this far ahead for appointments booked before they were set.
MAX_CLASH_DAYS = 120
HOURS = "Changer les horaires"
_DATE = r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}"
# "24/12/2026", "28/12/2026 au 31/12/2026 congés d'hiver", "2026-12-28 - 2026-12-31 (formation)"
_DAY_OFF_LINE = re.compile(
    rf"^\s*(?P<first>{_DATE})(?:\s*(?:-|–|au|à|jusqu'au)\s*(?P<last>{_DATE}))?\s*(?P<note>.*)$"
)


def week_text(worker: Worker) -> list[tuple[str, str]]:
    """Return each weekday with its hours as the form writes them ("09:00-12:00 13:30-16:00")."""
    return [(FRENCH_WEEKDAYS[day], " ".join(str(r) for r in worker.weekly[day])) for day in range(7)]


def day_off_text(day_off: DayOff) -> str:
    """Write a day off as the form reads it back."""
    first = f"{day_off.first:%d/%m/%Y}"
    span = first if day_off.last == day_off.first else f"{first} au {day_off.last:%d/%m/%Y}"
    return f"{span} {day_off.note}" if day_off.note else span


def parsed_days_off(text: str) -> tuple[list[DayOff], list[str]]:
    """Read the form's days off, one per line; return them and a problem per line not understood."""
    days, problems = [], []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        match = _DAY_OFF_LINE.match(line)
        try:
            if match is None:
                raise ValueError
            first = parse_date(match["first"])
            last = parse_date(match["last"]) if match["last"] else first
            if last < first:
                raise ValueError
        except (ValueError, ScheduleTextError):
            problems.append(
                f"ligne {number} « {line.strip()} » : écrivez 24/12/2026, ou 28/12/2026 au 31/12/2026"
            )
            continue
        note = match["note"].strip(" -–()") or None
        days.append(DayOff(first, last, note))
    return days, problems


class HoursPages:
    """The workers' hours: the list, one worker's form, its save."""

    def __init__(self, pages: Pages, services: Services) -> None:
        self.pages = pages
        self.services = services
        self.context = pages.context

    def _next_slots(self, session: Session, worker: Worker) -> list[str]:
        availability = self.services.get(AVAILABILITY).refresh()
        now = self.context.clock.now()
        slots = open_slots(
            session, availability, self.context.settings, now, worker_id=worker.id, limit=SLOTS_SHOWN
        )
        return [french_day_and_time(slot.starts_at, now) for slot in slots]

    async def overview(self, request: Request) -> Response:
        """List every worker's week, days off and next free slots."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        service = self.services.get(AVAILABILITY)
        availability = service.refresh()
        text = self._file_text()

        def read(session: Session) -> list[dict[str, Any]]:
            return [
                {
                    "worker": worker,
                    "week": week_text(worker),
                    "days_off": [day_off_text(off) for off in days_off_in(text, worker.id)],
                    "other_days": [
                        f"{day_title(override.first)} : {' '.join(str(r) for r in override.hours)}"
                        for override in worker.exceptions
                        if override.hours
                    ],
                    "slots": self._next_slots(session, worker),
                    "clashes": self._clashes(session, worker, days_off_in(text, worker.id)),
                }
                for worker in availability.workers
            ]

        workers = await self.pages.db(read)
        problem = str(service.last_error).splitlines()[0] if service.last_error else None
        return self.pages.render(
            "hours.html",
            "Horaires des assistant·es sociaux·ales",
            staff,
            workers=workers,
            problem=problem,
            done=request.query_params.get("fait") == "1",
            file=self.context.settings.availability_file.name,
        )

    def _clashes(self, session: Session, worker: Worker, days_off: list[DayOff]) -> list[dict[str, str]]:
        """Return the appointments still booked on the worker's coming days off (to cancel with a word)."""
        now = self.context.clock.now()
        today = brussels_date(now)
        found = []
        for day_off in days_off:
            day = max(day_off.first, today)
            while day <= day_off.last and (day - today).days <= MAX_CLASH_DAYS:
                for appointment in listed_appointments(session, now, day=day, worker_id=worker.id):
                    if appointment.status == AppointmentStatus.BOOKED.value:
                        found.append(
                            {
                                "when": french_day_and_time(appointment.starts_at, now),
                                "name": display_name(appointment.trainee),
                                "day": day.isoformat(),
                            }
                        )
                day += timedelta(days=1)
        return found

    def _file_text(self) -> str:
        try:
            return self.context.settings.availability_file.read_text(encoding="utf-8-sig")
        except OSError:
            return ""

    def _worker(self, worker_id: str) -> Worker | None:
        return self.services.get(AVAILABILITY).refresh().worker(worker_id)

    def _admins_only(self, staff: Staff) -> Response:
        return self.pages.admins_only(staff, HOURS)

    async def form(self, request: Request) -> Response:
        """Show a worker's form, filled with what the file says."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        if not staff.is_admin:
            return self._admins_only(staff)
        worker = self._worker(request.path_params["worker_id"])
        if worker is None:
            return self.pages.message(
                "Introuvable",
                "Cette personne n'est plus dans le fichier des horaires.",
                staff=staff,
                status=404,
                error=True,
            )
        shown = {f"jour{day}": hours for day, (_, hours) in enumerate(week_text(worker))}
        shown |= {
            "place": worker.place or "",
            "slot_minutes": str(worker.slot_minutes),
            "conges": "\n".join(day_off_text(off) for off in days_off_in(self._file_text(), worker.id)),
        }
        return self._render_form(staff, worker, shown, {})

    def _render_form(
        self, staff: Staff, worker: Worker, shown: dict[str, str], errors: dict[str, str], status: int = 200
    ) -> Response:
        return self.pages.render(
            "hours_edit.html",
            f"Horaires de {worker.name}",
            staff,
            status=status,
            worker=worker,
            days=list(enumerate(FRENCH_WEEKDAYS)),
            shown=shown,
            errors=errors,
        )

    def _change(self, form: dict[str, str]) -> tuple[HoursChange | None, dict[str, str]]:
        """Read the form; return the change, or the problems by field."""
        errors: dict[str, str] = {}
        weekly = []
        for day in range(7):
            try:
                typed = re.sub(r"\bet\b", " ", form.get(f"jour{day}", ""))  # "9h-12h et 13h-15h"
                weekly.append(tuple(sorted(parse_time_ranges(typed))))
            except ScheduleTextError as error:
                # The problem says what to write already ("écrivez par exemple 09:00-12:00").
                errors[f"jour{day}"] = f"« {error.part} » : {error.problem}"
                weekly.append(())
        days_off, problems = parsed_days_off(form.get("conges", ""))
        if problems:
            errors["conges"] = " ; ".join(problems)
        minutes = form.get("slot_minutes", "").strip()
        if not minutes.isdigit() or not 10 <= int(minutes) <= 180:
            errors["slot_minutes"] = "un nombre de minutes entre 10 et 180, par exemple 30"
        if errors:
            return None, errors
        place = " ".join(form.get("place", "").split()) or None
        return HoursChange(tuple(weekly), tuple(days_off), place, int(minutes)), {}

    async def save(self, request: Request) -> Response:
        """Check and write the worker's new hours; the bot offers them at once."""
        checked = await self.pages.acting(request, admins_only=HOURS)
        if isinstance(checked, Response):
            return checked
        staff, form = checked
        worker = self._worker(request.path_params["worker_id"])
        if worker is None:
            return self.pages.message(
                "Introuvable",
                "Cette personne n'est plus dans le fichier.",
                staff=staff,
                status=404,
                error=True,
            )
        shown = {
            key: form.get(key, "")
            for key in [*(f"jour{day}" for day in range(7)), "place", "slot_minutes", "conges"]
        }
        change, errors = self._change(form)
        if change is None:
            return self._render_form(staff, worker, shown, errors, status=422)
        path = self.context.settings.availability_file
        try:
            problems, _ = await self.pages.db(
                lambda _session: save_worker(path, worker.id, change), slow=True
            )
        except HoursEditError as error:
            return self._render_form(staff, worker, shown, {"general": str(error)}, status=409)
        if problems:
            text = " ; ".join(problem.message for problem in problems)
            return self._render_form(staff, worker, shown, {"general": text}, status=422)
        log.info("console: hours of %s changed by staff member %d", worker.id, staff.user_id)
        return RedirectResponse(f"{self.context.prefix}/horaires?fait=1", status_code=303)
