"""Appointments, the social worker's side: their agenda, marking done or absent, cancelling with a word."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot import texts
from bot.common.clock import BRUSSELS, as_utc
from bot.core.feature import (
    MENU_BUTTON,
)
from bot.core.messages import Button, Reply
from bot.core.outbox import enqueue
from bot.core.turn import IDLE, Turn, display_name
from bot.features.booking.actions import cancel
from bot.features.booking.common import AVAILABILITY, STAFF_CANCEL, button, spoken_when, worker_display_name
from bot.features.booking.queries import listed_appointments, staff_appointment, worker_of
from bot.storage.models import (
    Appointment,
    AppointmentStatus,
    Role,
)

log = logging.getLogger(__name__)


def staff_action(turn: Turn, verb: str, appointment_id: int) -> list[Reply]:
    """Mark an appointment done or missed, or start cancelling it with a message to the trainee."""
    appointment = staff_appointment(turn, appointment_id)
    if appointment is None:
        return [Reply(texts.BOOK_NOT_FOUND)]
    name = display_name(appointment.trainee)
    if verb in ("done", "absent") and as_utc(appointment.starts_at) > turn.now:
        # Whether someone came is known once the appointment has started, not from the morning agenda.
        local = as_utc(appointment.starts_at).astimezone(BRUSSELS)
        return [Reply(texts.STAFF_NOT_STARTED.format(name=name, time=f"{local.hour} h {local.minute:02d}"))]
    if verb == "done":
        record_attendance(appointment, came=True, now=turn.now)
        return [Reply(texts.STAFF_MARKED_DONE.format(name=name))]
    if verb == "absent":
        record_attendance(appointment, came=False, now=turn.now)
        return [Reply(texts.STAFF_MARKED_ABSENT.format(name=name))]
    if appointment.status != AppointmentStatus.BOOKED.value:
        return [Reply(texts.BOOK_NOT_FOUND)]
    turn.set_state(STAFF_CANCEL, appointment=appointment.id)
    return [Reply(texts.STAFF_ASK_CANCEL_MESSAGE.format(name=name), (MENU_BUTTON,))]


def staff_cancel_message(turn: Turn) -> list[Reply]:
    """Cancel the appointment the worker chose, sending their message to the trainee."""
    data = turn.user.conversation.data if turn.user is not None and turn.user.conversation else {}
    appointment_id = data.get("appointment")
    turn.set_state(IDLE)
    appointment = staff_appointment(turn, appointment_id) if isinstance(appointment_id, int) else None
    if appointment is None or appointment.status != AppointmentStatus.BOOKED.value:
        return [Reply(texts.BOOK_NOT_FOUND)]
    availability = turn.services.get(AVAILABILITY).refresh()
    worker_name = worker_display_name(availability, appointment.worker_id)
    cancel_by_staff(turn.session, turn.now, appointment, worker_name, turn.text)
    return [Reply(texts.STAFF_CANCELLED.format(name=display_name(appointment.trainee)))]


def record_attendance(appointment: Appointment, *, came: bool, now: datetime) -> bool:
    """Mark whether the trainee came; False (nothing marked) before the appointment has started."""
    if as_utc(appointment.starts_at) > now:
        return False
    appointment.status = AppointmentStatus.DONE.value if came else AppointmentStatus.NO_SHOW.value
    return True


def cancel_by_staff(
    session: Session, now: datetime, appointment: Appointment, worker_name: str, message: str | None
) -> None:
    """Cancel an appointment for the staff; the trainee is told, with the worker's message if any."""
    cancel(session, appointment, now, by="staff")
    trainee = appointment.trainee
    lines = [
        texts.BOOK_CANCELLED_BY_STAFF.format(worker=worker_name, when=spoken_when(appointment.starts_at, now))
    ]
    if message and message.strip():
        lines.append(texts.BOOK_STAFF_MESSAGE.format(text=message.strip()[:1000]))
    buttons = (button("new", texts.BUTTON_NEW_APPOINTMENT), MENU_BUTTON)
    enqueue(
        session,
        now,
        trainee.channel,
        trainee.external_id,
        [Reply("\n".join(lines), buttons)],
        user_id=trainee.id,
    )
    log.info("appointment %d cancelled by staff", appointment.id)


def agenda_lines(appointments: Sequence[Appointment], now: datetime) -> tuple[list[str], list[Button]]:
    """Return a worker's agenda lines, with buttons: cancel one to come, say who came to one started."""
    lines: list[str] = []
    buttons: list[Button] = []
    for appointment in appointments:
        trainee = appointment.trainee
        local = as_utc(appointment.starts_at).astimezone(BRUSSELS)
        name = display_name(trainee)
        lines.append(
            texts.STAFF_AGENDA_LINE.format(
                time=f"{local.hour} h {local.minute:02d}",
                name=name,
                filiere=f" ({trainee.filiere})" if trainee.filiere else "",
                reason=appointment.reason,
                confirmed=" ✔️ sera là" if appointment.confirmed_at else "",
            )
        )
        if len(buttons) >= 9:
            continue
        if as_utc(appointment.starts_at) <= now:
            buttons.append(button(f"done.{appointment.id}", f"{texts.BUTTON_DONE} {name} {local:%H:%M}"))
            buttons.append(button(f"absent.{appointment.id}", f"{texts.BUTTON_ABSENT} {name} {local:%H:%M}"))
        else:
            buttons.append(
                button(f"sx.{appointment.id}", f"{texts.BUTTON_STAFF_CANCEL} {name} {local:%H:%M}")
            )
    return lines, buttons


# A social worker's list stays one screen or two.
UPCOMING_SHOWN = 20


def staff_upcoming(turn: Turn) -> list[Reply]:
    """Show a social worker their upcoming appointments (an admin: everyone's), with action buttons."""
    assert turn.user is not None
    availability = turn.services.get(AVAILABILITY).refresh()
    worker = worker_of(availability, turn.user)
    if worker is None and turn.user.role != Role.ADMIN.value:
        return [Reply(texts.STAFF_NOT_A_WORKER)]
    worker_id = worker.id if worker is not None else None
    appointments = listed_appointments(turn.session, turn.now, worker_id=worker_id, limit=UPCOMING_SHOWN)
    if not appointments:
        return [Reply(texts.STAFF_UPCOMING_NONE)]
    lines = [texts.STAFF_UPCOMING]
    for appointment in appointments:
        trainee = appointment.trainee
        lines.append(
            f"• {spoken_when(appointment.starts_at, turn.now)} : {display_name(trainee)}"
            f" ({appointment.reason}) · {worker_display_name(availability, appointment.worker_id)}"
        )
    _, buttons = agenda_lines([a for a in appointments if a.starts_at.date() == turn.now.date()], turn.now)
    return [Reply("\n".join(lines), tuple(buttons) if turn.message.chat_id is None else ())]
