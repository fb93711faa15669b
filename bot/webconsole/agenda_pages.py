"""The social workers' agenda in the console: a day or a week, per worker; came, did not come, cancel.

A social worker sees their own appointments (the account named in the availability file), an admin
everyone's. The actions are the chat's (features/booking/staff.py): the trainee reads the same words.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.common.clock import BRUSSELS, as_utc
from bot.core.turn import Services, display_name
from bot.features.booking.common import AVAILABILITY, worker_display_name
from bot.features.booking.queries import listed_appointments, worker_of
from bot.features.booking.staff import cancel_by_staff, record_attendance
from bot.files.office_hours import brussels_date
from bot.storage.models import Appointment, AppointmentStatus, User
from bot.webconsole.pages import Pages, Staff

log = logging.getLogger(__name__)

DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTH_NAMES = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
STATUS_LABELS = {
    AppointmentStatus.BOOKED.value: "prévu",
    AppointmentStatus.DONE.value: "✅ venu·e",
    AppointmentStatus.NO_SHOW.value: "❌ pas venu·e",
    AppointmentStatus.CANCELLED.value: "annulé",
}


def day_title(day: date) -> str:
    """Name a day as people say it: "mardi 24 novembre"."""
    return f"{DAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}"


def chosen_day(text: str | None, today: date) -> date:
    """Return the day asked for in the address (2026-11-24), or today."""
    try:
        return date.fromisoformat(text) if text else today
    except ValueError:
        return today


class AgendaPages:
    """The agenda and its three actions."""

    def __init__(self, pages: Pages, services: Services) -> None:
        self.pages = pages
        self.services = services
        self.context = pages.context

    def _worker_id(self, user: User) -> str | None:
        worker = worker_of(self.services.get(AVAILABILITY).refresh(), user)
        return worker.id if worker is not None else None

    async def overview(self, request: Request) -> Response:
        """Show a day's appointments (or a week's, Monday first), grouped by day then by worker."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        now = self.context.clock.now()
        today = brussels_date(now)
        day = chosen_day(request.query_params.get("jour"), today)
        week = request.query_params.get("vue") == "semaine"
        days = [day - timedelta(days=day.weekday()) + timedelta(days=n) for n in range(7)] if week else [day]
        availability = self.services.get(AVAILABILITY).refresh()

        def read(session: Session) -> dict[str, Any]:
            user = session.get(User, staff.user_id)
            assert user is not None
            worker_id = None if staff.is_admin else self._worker_id(user)
            if worker_id is None and not staff.is_admin:
                return {"not_a_worker": True, "days": []}
            shown = []
            for each in days:
                appointments = listed_appointments(session, now, day=each, worker_id=worker_id)
                if appointments or not week:
                    shown.append(
                        {
                            "title": day_title(each),
                            "rows": [self._row(a, availability, now) for a in appointments],
                        }
                    )
            return {"not_a_worker": False, "days": shown}

        agenda = await self.pages.db(read)
        step = timedelta(days=7 if week else 1)
        return self.pages.render(
            "agenda.html",
            f"Semaine du {day_title(days[0])}" if week else f"Agenda du {day_title(day)}",
            staff,
            agenda=agenda,
            week=week,
            day=day.isoformat(),
            before=(day - step).isoformat(),
            after=(day + step).isoformat(),
            today=today.isoformat(),
            done=request.query_params.get("fait", ""),
        )

    def _row(self, appointment: Appointment, availability: Any, now: Any) -> dict[str, Any]:
        local = as_utc(appointment.starts_at).astimezone(BRUSSELS)
        trainee = appointment.trainee
        return {
            "id": appointment.id,
            "time": f"{local.hour} h {local.minute:02d}",
            "name": display_name(trainee),
            "filiere": trainee.filiere,
            "reason": appointment.reason,
            "worker": worker_display_name(availability, appointment.worker_id),
            "status": STATUS_LABELS.get(appointment.status, appointment.status),
            "booked": appointment.status == AppointmentStatus.BOOKED.value,
            "started": as_utc(appointment.starts_at) <= now,
            "confirmed": appointment.confirmed_at is not None,
        }

    async def act(self, request: Request) -> Response:
        """Mark came / did not come (once started), or cancel with a word to the trainee."""
        checked = await self.pages.acting(request)
        if isinstance(checked, Response):
            return checked
        staff, form = checked
        verb = request.path_params["verb"]
        if verb not in ("venu", "absent", "annuler"):
            return Response(status_code=404)
        appointment_id = request.path_params["appointment_id"]
        now = self.context.clock.now()

        def work(session: Session) -> tuple[str, str | None]:
            appointment = session.get(Appointment, appointment_id)
            user = session.get(User, staff.user_id)
            if appointment is None or user is None or not self._may_act(user, staff, appointment):
                return "introuvable", None
            day = brussels_date(appointment.starts_at).isoformat()
            if appointment.status != AppointmentStatus.BOOKED.value and verb == "annuler":
                return "deja", day
            if verb == "annuler":
                name = worker_display_name(self.services.get(AVAILABILITY).refresh(), appointment.worker_id)
                cancel_by_staff(session, now, appointment, name, form.get("message"))
                log.info(
                    "console: appointment %d cancelled by staff member %d", appointment.id, staff.user_id
                )
                return "annule", day
            if not record_attendance(appointment, came=verb == "venu", now=now):
                return "pas_commence", day
            return "note", day

        done, day = await self.pages.db(work)
        query = f"fait={done}" + (f"&jour={day}" if day else "")
        return RedirectResponse(f"{self.context.prefix}/agenda?{query}", status_code=303)

    def _may_act(self, user: User, staff: Staff, appointment: Appointment) -> bool:
        return staff.is_admin or self._worker_id(user) == appointment.worker_id
