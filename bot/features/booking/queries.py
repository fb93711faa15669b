"""Appointments: what is booked, what is free, whose appointment it is (reads only)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.common.clock import BRUSSELS, as_utc
from bot.config import Settings
from bot.core.turn import Turn, display_name
from bot.features.booking.common import AVAILABILITY, SLOTS_SHOWN, instant, worker_display_name
from bot.files.availability import Availability, Slot, Worker
from bot.storage.models import (
    Appointment,
    AppointmentStatus,
    DayOff,
    Role,
    User,
)


def booked_slots(session: Session, now: datetime) -> set[tuple[str, datetime]]:
    """Return the (worker, start) of the appointments booked from now on."""
    rows = session.execute(
        select(Appointment.worker_id, Appointment.starts_at).where(
            Appointment.status == AppointmentStatus.BOOKED.value, Appointment.starts_at >= now
        )
    )
    return {(worker_id, as_utc(starts_at)) for worker_id, starts_at in rows}


def days_off(session: Session) -> list[tuple[str, date]]:
    """Return the (worker, day) of every day off added by the staff (`cisp-bot availability off`)."""
    return [(worker_id, day) for worker_id, day in session.execute(select(DayOff.worker_id, DayOff.day))]


def open_slots(
    session: Session,
    availability: Availability,
    settings: Settings,
    now: datetime,
    *,
    worker_id: str | None = None,
    horizon_days: int | None = None,
    after: datetime | None = None,
    limit: int | None = None,
) -> list[Slot]:
    """Return the free slots: the availability minus holidays, days off, what is booked and the notice."""
    horizon = settings.appointment_horizon_days if horizon_days is None else horizon_days
    return availability.free_slots(
        now,
        booked=booked_slots(session, now),
        worker_id=worker_id,
        min_notice=timedelta(hours=settings.appointment_min_notice_hours),
        horizon=timedelta(days=horizon),
        extra_days_off=days_off(session),
        after=after,
        limit=limit,
    )


def free_slots(
    turn: Turn, worker_id: str | None, *, after: datetime | None = None, limit: int | None = SLOTS_SHOWN
) -> list[Slot]:
    """Return the next free slots of a worker (or of anyone) shown to a trainee, after an instant if given."""
    availability = turn.services.get(AVAILABILITY).refresh()
    return open_slots(
        turn.session,
        availability,
        turn.services.settings,
        turn.now,
        worker_id=worker_id,
        after=after,
        limit=limit,
    )


def listed_appointments(
    session: Session,
    now: datetime,
    *,
    day: date | None = None,
    worker_id: str | None = None,
    limit: int | None = None,
) -> list[Appointment]:
    """Return the appointments of a day (Brussels time, any status), or those booked from 12 hours ago on."""
    query = select(Appointment).order_by(Appointment.starts_at)
    if day is not None:
        start = datetime.combine(day, datetime.min.time(), tzinfo=BRUSSELS)
        query = query.where(Appointment.starts_at >= start, Appointment.starts_at < start + timedelta(days=1))
    else:
        query = query.where(
            Appointment.starts_at >= now - timedelta(hours=12),
            Appointment.status == AppointmentStatus.BOOKED.value,
        )
    if worker_id is not None:
        query = query.where(Appointment.worker_id == worker_id)
    return list(session.scalars(query.limit(limit)))


def upcoming(session: Session, user: User, now: datetime) -> list[Appointment]:
    """Return a trainee's booked appointments still to come, soonest first."""
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.trainee_id == user.id,
                Appointment.status == AppointmentStatus.BOOKED.value,
                Appointment.starts_at >= now,
            )
            .order_by(Appointment.starts_at)
        )
    )


def find_slot(turn: Turn, worker_id: str, minutes: int) -> Slot | None:
    """Return the slot a button names if it is still free (a button may be old, or forged)."""
    starts_at = instant(minutes)
    for slot in free_slots(turn, worker_id, after=starts_at - timedelta(minutes=1), limit=1):
        if slot.starts_at == starts_at:
            return slot
    return None


def own_appointment(turn: Turn, appointment_id: int) -> Appointment | None:
    """Return the sender's appointment of this id, None when it is not theirs."""
    appointment = turn.session.get(Appointment, appointment_id)
    if appointment is None or turn.user is None or appointment.trainee_id != turn.user.id:
        return None
    if appointment.status != AppointmentStatus.BOOKED.value or appointment.starts_at < turn.now:
        return None
    return appointment


def worker_of(availability: Availability, user: User) -> Worker | None:
    """Return the social worker of the availability file whose account is this staff member."""
    account = f"{user.channel}:{user.external_id}"
    return next((worker for worker in availability.workers if worker.account == account), None)


def staff_appointment(turn: Turn, appointment_id: int) -> Appointment | None:
    """Return an appointment with the sending social worker, None otherwise."""
    appointment = turn.session.get(Appointment, appointment_id)
    if appointment is None or turn.user is None:
        return None
    worker = worker_of(turn.services.get(AVAILABILITY).refresh(), turn.user)
    if turn.user.role != Role.ADMIN.value and (worker is None or worker.id != appointment.worker_id):
        return None
    return appointment


def appointment_record(appointment: Appointment, availability: Availability) -> dict[str, object]:
    """Return an appointment as plain data for `cisp-bot appointments --json`."""
    return {
        "id": appointment.id,
        "worker": worker_display_name(availability, appointment.worker_id),
        "worker_id": appointment.worker_id,
        "trainee": display_name(appointment.trainee),
        "starts_at": as_utc(appointment.starts_at).astimezone(BRUSSELS).isoformat(),
        "ends_at": as_utc(appointment.ends_at).astimezone(BRUSSELS).isoformat(),
        "reason": appointment.reason,
        "status": appointment.status,
    }


def day_of_worker(session: Session, worker_id: str, day: date) -> list[Appointment]:
    """Return a worker's booked appointments of one day (Brussels time), in order."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=BRUSSELS)
    found = session.scalars(
        select(Appointment)
        .where(
            Appointment.worker_id == worker_id,
            Appointment.status == AppointmentStatus.BOOKED.value,
            # A day is 23 to 25 hours long: up to 25 hours from midnight, then the day itself.
            Appointment.starts_at >= start,
            Appointment.starts_at < start + timedelta(days=1, hours=1),
        )
        .order_by(Appointment.starts_at)
    )
    return [
        appointment
        for appointment in found
        if as_utc(appointment.starts_at).astimezone(BRUSSELS).date() == day
    ]
