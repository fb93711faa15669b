"""Appointments "à la demande" with a social worker: a few taps to book, see, cancel or move one.

Trainee flow, by buttons: reason -> a social worker or "Peu importe" -> the next free slots ("Autres
dates" pages on, "Plutôt être appelé·e" asks for a call instead) -> confirmation -> the appointment, with
an .ics file for the phone's calendar. Slots come from the availability file (bot.files.availability)
minus public holidays, days off, what is booked, the minimum notice and the horizon.

No slot is ever booked twice: a partial unique index on (worker, start) for active bookings makes the
database refuse the second one; the loser's insert is rolled back to a savepoint and they are offered
the next free slots. Reminders are rows of the reminders table, sent once by a periodic job.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import texts
from bot.common.clock import BRUSSELS, as_utc
from bot.config import Settings
from bot.core.feature import (
    MENU_BUTTON,
    PERSON_BUTTON,
    ButtonAction,
    Command,
    Feature,
    GoTarget,
    MenuEntry,
    StateStep,
)
from bot.core.messages import Button, Document, Reply
from bot.core.outbox import enqueue
from bot.core.payloads import ButtonKind, checked_index
from bot.core.turn import IDLE, Part, Services, Turn
from bot.features.hours import OFFICE_HOURS
from bot.features.intents import Intent
from bot.features.menu import main_menu, needs_account
from bot.files.availability import Availability, AvailabilityError, Slot, Worker, load_availability
from bot.files.calendar import appointment_ics
from bot.files.office_hours import french_day_and_time
from bot.storage.models import (
    Appointment,
    AppointmentStatus,
    DayOff,
    JobRun,
    Reminder,
    Role,
    User,
)

log = logging.getLogger(__name__)

# Appointments: reason, worker, slot (minutes since 1970), confirm, cancel, move, and the staff's verbs.
BOOK = ButtonKind(
    "bk",
    r"list|new|r\.\d{1,2}\.[0-9a-f]{4}|call\.\d{1,2}"
    r"|(?:w|m|s|ok)\.\d{1,2}\.[a-z0-9-]{1,30}(?:\.\d{1,10})?"
    r"|(?:x|xx|mv|here|done|absent|sx)\.\d{1,10}"
    r"|(?:mvs|mvok|mvm)\.\d{1,10}\.[a-z0-9-]{1,30}\.\d{1,10}",
)
# The trainee types the number to call back; the worker types a cancellation message.
BOOK_PHONE = "book_phone"
STAFF_CANCEL = "staff_cancel"
SLOTS_SHOWN = 3
# Belgian numbers as people type them: 0470 12 34 56, 04/123.45.67, +32 470 12 34 56, 0032...
_PHONE = re.compile(r"(?:\+|00)?[0-9][0-9 ./-]{7,18}[0-9]")


# ----------------------------------------------------------------------------------------- the file


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


# ----------------------------------------------------------------------------------------- helpers


def _button(argument: str, title: str) -> Button:
    return BOOK.button(argument, title)


def _minutes(moment: datetime) -> int:
    return int(as_utc(moment).timestamp() // 60)


def _instant(minutes: int) -> datetime:
    return datetime.fromtimestamp(minutes * 60, tz=UTC)


def _reason(settings: Settings, index: int) -> str | None:
    names = settings.reason_names
    return names[index] if 0 <= index < len(names) else None


def _when(moment: datetime, now: datetime) -> str:
    return french_day_and_time(moment, now)


def _place(worker: Worker | None) -> str:
    return f", {worker.place}" if worker is not None and worker.place else ""


def _worker_name(availability: Availability, worker_id: str) -> str:
    worker = availability.worker(worker_id)
    return worker.name if worker is not None else worker_id


def _booked(session: Session, now: datetime) -> set[tuple[str, datetime]]:
    rows = session.execute(
        select(Appointment.worker_id, Appointment.starts_at).where(
            Appointment.status == AppointmentStatus.BOOKED.value, Appointment.starts_at >= now
        )
    )
    return {(worker_id, as_utc(starts_at)) for worker_id, starts_at in rows}


def _days_off(session: Session) -> list[tuple[str, date]]:
    return [(worker_id, day) for worker_id, day in session.execute(select(DayOff.worker_id, DayOff.day))]


def _free_slots(
    turn: Turn, worker_id: str | None, *, after: datetime | None = None, limit: int = SLOTS_SHOWN
) -> list[Slot]:
    settings = turn.services.settings
    return (
        turn.services.get(AVAILABILITY)
        .refresh()
        .free_slots(
            turn.now,
            booked=_booked(turn.session, turn.now),
            worker_id=worker_id,
            min_notice=timedelta(hours=settings.appointment_min_notice_hours),
            horizon=timedelta(days=settings.appointment_horizon_days),
            extra_days_off=_days_off(turn.session),
            after=after,
            limit=limit,
        )
    )


def _upcoming(session: Session, user: User, now: datetime) -> list[Appointment]:
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


def _account_of(worker: Worker) -> tuple[str, str] | None:
    if not worker.account or ":" not in worker.account:
        return None
    channel, _, external_id = worker.account.partition(":")
    return channel, external_id


def _tell_worker(turn: Turn, worker_id: str, text: str, appointment: Appointment) -> None:
    """Tell the social worker (their own chat; without an account, the staff group)."""
    worker = turn.services.get(AVAILABILITY).refresh().worker(worker_id)
    account = _account_of(worker) if worker is not None else None
    group = turn.services.settings.telegram_staff_chat_id
    if account is not None:
        enqueue(turn.session, turn.now, account[0], account[1], [Reply(text)], user_id=appointment.trainee_id)
    elif group is not None:
        enqueue(turn.session, turn.now, "telegram", str(group), [Reply(text)], user_id=appointment.trainee_id)


def _schedule_reminders(
    session: Session, settings: Settings, appointment: Appointment, now: datetime
) -> None:
    for hours in settings.reminder_hours:
        due = appointment.starts_at - timedelta(hours=hours)
        if due > now:  # a reminder 24 h before an appointment booked for tomorrow morning is not sent late
            session.add(
                Reminder(
                    user_id=appointment.trainee_id,
                    appointment_id=appointment.id,
                    kind=f"{hours:g}h",
                    due_at=due,
                )
            )


def _ics(turn: Turn, appointment: Appointment, worker: Worker | None) -> Document:
    settings = turn.services.settings
    name = worker.name if worker is not None else appointment.worker_id
    content = appointment_ics(
        uid=f"rdv-{appointment.id}@cisp-bot",
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        summary=texts.BOOK_ICS_SUMMARY.format(worker=name, centre=settings.centre_name),
        location=worker.place if worker is not None else None,
        description=appointment.reason,
        stamp=turn.now,
    )
    return Document("rendez-vous.ics", content, "text/calendar")


# ----------------------------------------------------------------------------------------- trainee


def start(turn: Turn) -> list[Reply]:
    """Open the appointments: the person's upcoming ones if any, else the reasons."""
    if turn.user is None:
        return needs_account(turn)
    if not turn.services.get(AVAILABILITY).refresh().workers:
        contact = turn.services.settings.centre_contact
        return [Reply(texts.BOOK_NOT_CONFIGURED.format(contact=contact), (MENU_BUTTON,))]
    turn.set_state(IDLE)
    if _upcoming(turn.session, turn.user, turn.now):
        return show_mine(turn)
    return ask_reason(turn)


def ask_reason(turn: Turn) -> list[Reply]:
    """Ask what the appointment is for."""
    buttons = [
        _button(f"r.{checked_index(index, name)}", name)
        for index, name in enumerate(turn.services.settings.reason_names)
    ]
    return [Reply(texts.BOOK_ASK_REASON, (*buttons, MENU_BUTTON))]


def _on_reason(turn: Turn, argument: str) -> list[Reply]:
    index_text = argument.partition(".")[0]
    index = int(index_text)
    name = _reason(turn.services.settings, index)
    if name is None or checked_index(index, name) != argument:
        return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
    workers = turn.services.get(AVAILABILITY).refresh().workers
    if len(workers) == 1:
        return _show_slots(turn, index, workers[0].id)
    buttons = [_button(f"w.{index}.{worker.id}", worker.name) for worker in workers]
    buttons.append(_button(f"w.{index}.any", texts.BUTTON_ANY_WORKER))
    return [Reply(texts.BOOK_ASK_WORKER, (*buttons, MENU_BUTTON))]


def _show_slots(turn: Turn, reason: int, worker_id: str, after: datetime | None = None) -> list[Reply]:
    availability = turn.services.get(AVAILABILITY).refresh()
    if worker_id != "any" and availability.worker(worker_id) is None:
        return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
    slots = _free_slots(turn, None if worker_id == "any" else worker_id, after=after)
    call = _button(f"call.{reason}", texts.BUTTON_CALL_ME)
    if not slots:
        days = turn.services.settings.appointment_horizon_days
        return [
            Reply(texts.BOOK_NO_SLOTS.format(days=days)),
            Reply(texts.BOOK_NO_SLOTS_NEXT, (call, PERSON_BUTTON, MENU_BUTTON)),
        ]
    buttons = [
        _button(
            f"s.{reason}.{slot.worker_id}.{_minutes(slot.starts_at)}",
            _slot_title(availability, slot, turn.now, with_worker=worker_id == "any"),
        )
        for slot in slots
    ]
    more = _button(f"m.{reason}.{worker_id}.{_minutes(slots[-1].starts_at)}", texts.BUTTON_MORE_DATES)
    text = texts.BOOK_SLOTS if after is None else texts.BOOK_SLOTS_MORE
    return [Reply(text, (*buttons, more, call, MENU_BUTTON))]


def _slot_title(availability: Availability, slot: Slot, now: datetime, *, with_worker: bool) -> str:
    title = _when(slot.starts_at, now)
    title = title[0].upper() + title[1:]
    if with_worker:
        title += f" ({_worker_name(availability, slot.worker_id)})"
    return title


def _find_slot(turn: Turn, worker_id: str, minutes: int) -> Slot | None:
    """Return the slot a button names if it is still free (a button may be old, or forged)."""
    starts_at = _instant(minutes)
    for slot in _free_slots(turn, worker_id, after=starts_at - timedelta(minutes=1), limit=1):
        if slot.starts_at == starts_at:
            return slot
    return None


def _on_slot(turn: Turn, reason: int, worker_id: str, minutes: int) -> list[Reply]:
    slot = _find_slot(turn, worker_id, minutes)
    if slot is None:
        return [Reply(texts.BOOK_STALE_SLOT), *_show_slots(turn, reason, worker_id)]
    worker = turn.services.get(AVAILABILITY).refresh().worker(worker_id)
    name = worker.name if worker is not None else worker_id
    question = texts.BOOK_CONFIRM.format(
        worker=name, when=_when(slot.starts_at, turn.now), place=_place(worker)
    )
    return [
        Reply(
            question,
            (
                _button(f"ok.{reason}.{worker_id}.{minutes}", texts.BUTTON_CONFIRM_BOOKING),
                _button(f"w.{reason}.{worker_id}", texts.BUTTON_OTHER_DATE),
                MENU_BUTTON,
            ),
        )
    ]


def _book(
    turn: Turn, reason_index: int, worker_id: str, minutes: int, moving: Appointment | None = None
) -> list[Reply]:
    assert turn.user is not None
    settings = turn.services.settings
    reason = moving.reason if moving is not None else _reason(settings, reason_index)
    slot = _find_slot(turn, worker_id, minutes)
    if reason is None or slot is None:
        return [Reply(texts.BOOK_STALE_SLOT), *_show_slots(turn, reason_index, worker_id)]
    if any(mine.starts_at == slot.starts_at for mine in _upcoming(turn.session, turn.user, turn.now)):
        return [Reply(texts.BOOK_ALREADY), *show_mine(turn)]
    appointment = Appointment(
        trainee_id=turn.user.id,
        worker_id=worker_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        reason=reason,
        status=AppointmentStatus.BOOKED.value,
        booked_at=turn.now,
        moved_from_id=moving.id if moving is not None else None,
    )
    # A savepoint: when another trainee booked the same slot a moment earlier, the unique index refuses
    # this insert and only it is rolled back; the turn goes on to offer the next free slots.
    try:
        with turn.session.begin_nested():
            turn.session.add(appointment)
            turn.session.flush()
    except IntegrityError:
        log.info("slot taken concurrently; offering the next ones")
        return [
            Reply(texts.BOOK_TAKEN),
            *_show_slots(turn, reason_index, "any" if moving is None else worker_id),
        ]
    worker = turn.services.get(AVAILABILITY).refresh().worker(worker_id)
    name = worker.name if worker is not None else worker_id
    when = _when(slot.starts_at, turn.now)
    if moving is not None:
        old_when = _when(moving.starts_at, turn.now)
        _cancel(turn.session, moving, turn.now, by="trainee")
        _tell_worker(
            turn,
            worker_id,
            texts.STAFF_MOVED_APPOINTMENT.format(name=turn.first_name, old=old_when, new=when),
            appointment,
        )
        done = texts.BOOK_MOVED.format(when=when, worker=name, place=_place(worker))
    else:
        filiere = f" ({turn.user.filiere})" if turn.user.filiere else ""
        _tell_worker(
            turn,
            worker_id,
            texts.STAFF_NEW_APPOINTMENT.format(
                name=turn.first_name, filiere=filiere, when=when, reason=reason
            ),
            appointment,
        )
        done = texts.BOOK_DONE.format(when=when, worker=name, place=_place(worker))
    _schedule_reminders(turn.session, settings, appointment, turn.now)
    log.info("appointment %d booked", appointment.id)
    turn.set_state(IDLE)
    return [
        Reply(done),
        Reply(
            texts.BOOK_DONE_REMINDER,
            (_button("list", texts.BUTTON_MY_APPOINTMENTS), MENU_BUTTON),
            document=_ics(turn, appointment, worker),
        ),
    ]


def show_mine(turn: Turn) -> list[Reply]:
    """List the person's upcoming appointments, with a button to cancel or move each."""
    if turn.user is None:
        return needs_account(turn)
    mine = _upcoming(turn.session, turn.user, turn.now)
    availability = turn.services.get(AVAILABILITY).refresh()
    new = _button("new", texts.BUTTON_NEW_APPOINTMENT)
    if not mine:
        return [Reply(texts.BOOK_NONE, (new, MENU_BUTTON))]
    lines = [texts.BOOK_MY_LIST]
    buttons: list[Button] = []
    for appointment in mine[:4]:
        worker = availability.worker(appointment.worker_id)
        when = _when(appointment.starts_at, turn.now)
        lines.append(
            texts.BOOK_MY_LINE.format(
                when=when,
                worker=_worker_name(availability, appointment.worker_id),
                place=_place(worker),
                reason=appointment.reason,
            )
        )
        short = when.split(" à ")[0]
        buttons.append(_button(f"x.{appointment.id}", f"{texts.BUTTON_CANCEL_APPOINTMENT} ({short})"))
        buttons.append(_button(f"mv.{appointment.id}", f"{texts.BUTTON_MOVE_APPOINTMENT} ({short})"))
    return [Reply("\n".join(lines), (*buttons, new, MENU_BUTTON))]


def _own_appointment(turn: Turn, appointment_id: int) -> Appointment | None:
    appointment = turn.session.get(Appointment, appointment_id)
    if appointment is None or turn.user is None or appointment.trainee_id != turn.user.id:
        return None
    if appointment.status != AppointmentStatus.BOOKED.value or appointment.starts_at < turn.now:
        return None
    return appointment


def _changeable(
    turn: Turn, appointment_id: int, *, worker_id: str | None = None
) -> Appointment | list[Reply]:
    """Return the trainee's appointment if it can still be cancelled or moved, else the replies saying why."""
    appointment = _own_appointment(turn, appointment_id)
    if appointment is None or (worker_id is not None and appointment.worker_id != worker_id):
        return [Reply(texts.BOOK_NOT_FOUND), *show_mine(turn)]
    notice = timedelta(hours=turn.services.settings.appointment_cancel_notice_hours)
    if appointment.starts_at - turn.now < notice:
        contact = turn.services.settings.centre_contact
        return [Reply(texts.BOOK_TOO_LATE.format(contact=contact), (MENU_BUTTON,))]
    return appointment


def _ask_cancel(turn: Turn, appointment_id: int) -> list[Reply]:
    appointment = _changeable(turn, appointment_id)
    if isinstance(appointment, list):
        return appointment
    availability = turn.services.get(AVAILABILITY).refresh()
    question = texts.BOOK_ASK_CANCEL.format(
        when=_when(appointment.starts_at, turn.now), worker=_worker_name(availability, appointment.worker_id)
    )
    return [
        Reply(
            question,
            (
                _button(f"xx.{appointment.id}", texts.BUTTON_CONFIRM_CANCEL),
                _button("list", texts.BUTTON_KEEP),
            ),
        )
    ]


def _cancel(session: Session, appointment: Appointment, now: datetime, *, by: str) -> None:
    # Leaving the "booked" status takes the row out of the unique index: the slot is free at once.
    appointment.status = AppointmentStatus.CANCELLED.value
    appointment.cancelled_at = now
    appointment.cancelled_by = by


def _confirm_cancel(turn: Turn, appointment_id: int) -> list[Reply]:
    appointment = _changeable(turn, appointment_id)
    if isinstance(appointment, list):
        return appointment
    _cancel(turn.session, appointment, turn.now, by="trainee")
    when = _when(appointment.starts_at, turn.now)
    _tell_worker(
        turn,
        appointment.worker_id,
        texts.STAFF_CANCELLED_APPOINTMENT.format(name=turn.first_name, when=when),
        appointment,
    )
    log.info("appointment %d cancelled by the trainee", appointment.id)
    return [Reply(texts.BOOK_CANCELLED), main_menu(turn)]


def _move(turn: Turn, appointment_id: int, after: datetime | None = None) -> list[Reply]:
    appointment = _changeable(turn, appointment_id)
    if isinstance(appointment, list):
        return appointment
    availability = turn.services.get(AVAILABILITY).refresh()
    slots = _free_slots(turn, appointment.worker_id, after=after)
    if not slots:
        days = turn.services.settings.appointment_horizon_days
        return [
            Reply(texts.BOOK_NO_SLOTS.format(days=days), (_button("list", texts.BUTTON_KEEP), MENU_BUTTON))
        ]
    buttons = [
        _button(
            f"mvs.{appointment.id}.{slot.worker_id}.{_minutes(slot.starts_at)}",
            _slot_title(availability, slot, turn.now, with_worker=False),
        )
        for slot in slots
    ]
    more = _button(
        f"mvm.{appointment.id}.{appointment.worker_id}.{_minutes(slots[-1].starts_at)}",
        texts.BUTTON_MORE_DATES,
    )
    return [Reply(texts.BOOK_MOVE_SLOTS, (*buttons, more, _button("list", texts.BUTTON_KEEP)))]


def _move_to(
    turn: Turn, appointment_id: int, worker_id: str, minutes: int, *, confirmed: bool
) -> list[Reply]:
    appointment = _changeable(turn, appointment_id, worker_id=worker_id)
    if isinstance(appointment, list):
        return appointment
    if confirmed:
        return _book(turn, 0, worker_id, minutes, moving=appointment)
    slot = _find_slot(turn, worker_id, minutes)
    if slot is None:
        return [Reply(texts.BOOK_STALE_SLOT), *_move(turn, appointment_id)]
    question = texts.BOOK_MOVE_CONFIRM.format(
        old=_when(appointment.starts_at, turn.now), new=_when(slot.starts_at, turn.now)
    )
    return [
        Reply(
            question,
            (
                _button(f"mvok.{appointment.id}.{worker_id}.{minutes}", texts.BUTTON_CONFIRM_BOOKING),
                _button(f"mv.{appointment.id}", texts.BUTTON_OTHER_DATE),
                _button("list", texts.BUTTON_KEEP),
            ),
        )
    ]


def _ask_phone(turn: Turn, reason: int) -> list[Reply]:
    if _reason(turn.services.settings, reason) is None:
        return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
    turn.set_state(BOOK_PHONE, reason=reason)
    return [Reply(texts.BOOK_ASK_PHONE, (MENU_BUTTON,))]


def receive_phone(turn: Turn) -> list[Reply]:
    """Take the number to call back and open a request for the staff (a ticket with the phone)."""
    assert turn.user is not None
    found = _PHONE.search(turn.text)
    digits = re.sub(r"\D", "", found.group(0)) if found else ""
    if not found or not 9 <= len(digits) <= 13:
        return [Reply(texts.BOOK_BAD_PHONE, (MENU_BUTTON,))]
    phone = found.group(0).strip()
    data = turn.user.conversation.data if turn.user.conversation is not None else {}
    reason = _reason(turn.services.settings, int(data.get("reason", -1))) or ""
    from bot.features import handoff

    replies = handoff.open_call_request(turn, phone=phone, reason=reason)
    turn.set_state(IDLE)
    return [Reply(texts.BOOK_CALL_DONE.format(phone=phone)), *replies]


def _will_be_there(turn: Turn, appointment_id: int) -> list[Reply]:
    appointment = _own_appointment(turn, appointment_id)
    if appointment is None:
        return [Reply(texts.BOOK_NOT_FOUND), main_menu(turn)]
    appointment.confirmed_at = turn.now
    return [Reply(texts.BOOK_THANKS_THERE, (MENU_BUTTON,))]


# ----------------------------------------------------------------------------------------- buttons

_ARGUMENT = re.compile(
    r"(?P<verb>w|m|s|ok)\.(?P<reason>\d+)\.(?P<worker>[a-z0-9-]+)(?:\.(?P<minutes>\d+))?"
    r"|(?P<one>x|xx|mv|here|done|absent|sx)\.(?P<id>\d+)"
    r"|(?P<move>mvs|mvok|mvm)\.(?P<mid>\d+)\.(?P<mworker>[a-z0-9-]+)\.(?P<mminutes>\d+)"
)


def on_button(turn: Turn, argument: str) -> list[Reply]:
    """Handle every appointment button; a stale or forged one gets a polite answer."""
    if turn.user is None:
        return needs_account(turn)
    if argument == "list":
        return show_mine(turn)
    if argument == "new":
        return ask_reason(turn)
    if argument.startswith("r."):
        return _on_reason(turn, argument[2:])
    if argument.startswith("call."):
        return _ask_phone(turn, int(argument[5:]))
    parsed = _ARGUMENT.fullmatch(argument)
    if parsed is None:
        return [Reply(texts.STALE_BUTTON), main_menu(turn)]
    if parsed["verb"] is not None:
        reason, worker_id = int(parsed["reason"]), parsed["worker"]
        if _reason(turn.services.settings, reason) is None:
            return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
        minutes = int(parsed["minutes"]) if parsed["minutes"] is not None else None
        if parsed["verb"] == "w":
            return _show_slots(turn, reason, worker_id)
        if minutes is None:
            return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
        if parsed["verb"] == "m":
            return _show_slots(turn, reason, worker_id, after=_instant(minutes))
        if worker_id == "any":
            return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
        if parsed["verb"] == "s":
            return _on_slot(turn, reason, worker_id, minutes)
        return _book(turn, reason, worker_id, minutes)
    if parsed["move"] is not None:
        appointment_id, worker_id, minutes = int(parsed["mid"]), parsed["mworker"], int(parsed["mminutes"])
        if parsed["move"] == "mvm":
            return _move(turn, appointment_id, after=_instant(minutes))
        return _move_to(turn, appointment_id, worker_id, minutes, confirmed=parsed["move"] == "mvok")
    verb, appointment_id = parsed["one"], int(parsed["id"])
    if verb == "x":
        return _ask_cancel(turn, appointment_id)
    if verb == "xx":
        return _confirm_cancel(turn, appointment_id)
    if verb == "mv":
        return _move(turn, appointment_id)
    if verb == "here":
        return _will_be_there(turn, appointment_id)
    if not turn.is_staff:
        log.warning("staff appointment action %s refused to a trainee (%s)", verb, turn.message.channel)
        return [Reply(texts.STALE_BUTTON), main_menu(turn)]
    return staff_action(turn, verb, appointment_id)


# ----------------------------------------------------------------------------------------- staff


def worker_of(availability: Availability, user: User) -> Worker | None:
    """Return the social worker of the availability file whose account is this staff member."""
    account = f"{user.channel}:{user.external_id}"
    return next((worker for worker in availability.workers if worker.account == account), None)


def _staff_appointment(turn: Turn, appointment_id: int) -> Appointment | None:
    appointment = turn.session.get(Appointment, appointment_id)
    if appointment is None or turn.user is None:
        return None
    worker = worker_of(turn.services.get(AVAILABILITY).refresh(), turn.user)
    if turn.user.role != Role.ADMIN.value and (worker is None or worker.id != appointment.worker_id):
        return None
    return appointment


def staff_action(turn: Turn, verb: str, appointment_id: int) -> list[Reply]:
    """Mark an appointment done or missed, or start cancelling it with a message to the trainee."""
    appointment = _staff_appointment(turn, appointment_id)
    if appointment is None:
        return [Reply(texts.BOOK_NOT_FOUND)]
    name = appointment.trainee.first_name or "Stagiaire"
    if verb == "done":
        appointment.status = AppointmentStatus.DONE.value
        return [Reply(texts.STAFF_MARKED_DONE.format(name=name))]
    if verb == "absent":
        appointment.status = AppointmentStatus.NO_SHOW.value
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
    appointment = _staff_appointment(turn, appointment_id) if isinstance(appointment_id, int) else None
    if appointment is None or appointment.status != AppointmentStatus.BOOKED.value:
        return [Reply(texts.BOOK_NOT_FOUND)]
    _cancel(turn.session, appointment, turn.now, by="staff")
    trainee = appointment.trainee
    availability = turn.services.get(AVAILABILITY).refresh()
    worker_name = _worker_name(availability, appointment.worker_id)
    lines = [
        texts.BOOK_CANCELLED_BY_STAFF.format(worker=worker_name, when=_when(appointment.starts_at, turn.now))
    ]
    if turn.text:
        lines.append(texts.BOOK_STAFF_MESSAGE.format(text=turn.text[:1000]))
    buttons = (_button("new", texts.BUTTON_NEW_APPOINTMENT), MENU_BUTTON)
    enqueue(
        turn.session,
        turn.now,
        trainee.channel,
        trainee.external_id,
        [Reply("\n".join(lines), buttons)],
        user_id=trainee.id,
    )
    log.info("appointment %d cancelled by staff", appointment.id)
    return [Reply(texts.STAFF_CANCELLED.format(name=trainee.first_name or "Stagiaire"))]


def _agenda_lines(appointments: Sequence[Appointment]) -> tuple[list[str], list[Button]]:
    lines: list[str] = []
    buttons: list[Button] = []
    for appointment in appointments:
        trainee = appointment.trainee
        local = as_utc(appointment.starts_at).astimezone(BRUSSELS)
        name = trainee.first_name or "Stagiaire"
        lines.append(
            texts.STAFF_AGENDA_LINE.format(
                time=f"{local.hour} h {local.minute:02d}",
                name=name,
                filiere=f" ({trainee.filiere})" if trainee.filiere else "",
                reason=appointment.reason,
                confirmed=" ✔️ sera là" if appointment.confirmed_at else "",
            )
        )
        if len(buttons) < 9:
            buttons.append(_button(f"done.{appointment.id}", f"{texts.BUTTON_DONE} {name} {local:%H:%M}"))
            buttons.append(_button(f"absent.{appointment.id}", f"{texts.BUTTON_ABSENT} {name} {local:%H:%M}"))
            buttons.append(
                _button(f"sx.{appointment.id}", f"{texts.BUTTON_STAFF_CANCEL} {name} {local:%H:%M}")
            )
    return lines, buttons


def staff_upcoming(turn: Turn) -> list[Reply]:
    """Show a social worker their upcoming appointments (an admin: everyone's), with action buttons."""
    assert turn.user is not None
    availability = turn.services.get(AVAILABILITY).refresh()
    worker = worker_of(availability, turn.user)
    if worker is None and turn.user.role != Role.ADMIN.value:
        return [Reply(texts.STAFF_NOT_A_WORKER)]
    query = (
        select(Appointment)
        .where(
            Appointment.status == AppointmentStatus.BOOKED.value,
            Appointment.starts_at >= turn.now - timedelta(hours=12),
        )
        .order_by(Appointment.starts_at)
        .limit(20)
    )
    if worker is not None:
        query = query.where(Appointment.worker_id == worker.id)
    appointments = list(turn.session.scalars(query))
    if not appointments:
        return [Reply(texts.STAFF_UPCOMING_NONE)]
    lines = [texts.STAFF_UPCOMING]
    for appointment in appointments:
        trainee = appointment.trainee
        lines.append(
            f"• {_when(appointment.starts_at, turn.now)} : {trainee.first_name or 'Stagiaire'}"
            f" ({appointment.reason}) · {_worker_name(availability, appointment.worker_id)}"
        )
    _, buttons = _agenda_lines([a for a in appointments if a.starts_at.date() == turn.now.date()])
    return [Reply("\n".join(lines), tuple(buttons) if turn.message.chat_id is None else ())]


# ----------------------------------------------------------------------------------------- jobs


def send_due_reminders(
    session: Session, settings: Settings, availability: Availability, now: datetime
) -> int:
    """Push the reminders that are due, each exactly once (the row is locked, then marked sent)."""
    query = (
        select(Reminder)
        .where(Reminder.sent_at.is_(None), Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(200)
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    count = 0
    for reminder in session.scalars(query):
        reminder.sent_at = now
        appointment = session.get(Appointment, reminder.appointment_id) if reminder.appointment_id else None
        if (
            appointment is None
            or appointment.status != AppointmentStatus.BOOKED.value
            or appointment.starts_at <= now
        ):
            continue  # cancelled or moved meanwhile: nothing to remind
        trainee = appointment.trainee
        if trainee.notifications_paused:
            continue  # /stop: the person asked for no reminders
        worker = availability.worker(appointment.worker_id)
        text = texts.BOOK_REMINDER.format(
            when=_when(appointment.starts_at, now),
            worker=worker.name if worker is not None else appointment.worker_id,
            place=_place(worker),
        )
        buttons = (
            _button(f"here.{appointment.id}", texts.BUTTON_WILL_BE_THERE),
            _button(f"x.{appointment.id}", texts.BUTTON_CANCEL_APPOINTMENT),
        )
        enqueue(
            session,
            now,
            trainee.channel,
            trainee.external_id,
            [Reply(text, buttons)],
            user_id=trainee.id,
            reminder_id=reminder.id,
        )
        count += 1
    if count:
        log.info("%d appointment reminders sent", count)
    return count


def send_agendas(
    session: Session, settings: Settings, availability: Availability, hours: object, now: datetime
) -> bool:
    """At 8:00 on working days, send each social worker the day's appointments, once per day."""
    from bot.files.office_hours import OfficeHours

    local = as_utc(now).astimezone(BRUSSELS)
    today = local.date()
    if local.hour < 8 or today.weekday() >= 5:
        return False
    if isinstance(hours, OfficeHours) and hours.is_closed_day(today):
        return False
    if session.get(JobRun, ("agenda", today.isoformat())) is not None:
        return False
    session.add(JobRun(job="agenda", period=today.isoformat(), done_at=now))
    session.flush()
    start_of_day = datetime.combine(today, datetime.min.time(), tzinfo=BRUSSELS).astimezone(UTC)
    for worker in availability.workers:
        account = _account_of(worker)
        if account is None:
            continue
        appointments = list(
            session.scalars(
                select(Appointment)
                .where(
                    Appointment.worker_id == worker.id,
                    Appointment.status == AppointmentStatus.BOOKED.value,
                    Appointment.starts_at >= start_of_day,
                    Appointment.starts_at < start_of_day + timedelta(days=1, hours=1),
                )
                .order_by(Appointment.starts_at)
            )
        )
        appointments = [a for a in appointments if as_utc(a.starts_at).astimezone(BRUSSELS).date() == today]
        if not appointments:
            replies = [Reply(texts.STAFF_AGENDA_EMPTY.format(worker=worker.name))]
        else:
            lines, buttons = _agenda_lines(appointments)
            replies = [
                Reply("\n".join([texts.STAFF_AGENDA.format(worker=worker.name), *lines]), tuple(buttons))
            ]
        enqueue(session, now, account[0], account[1], replies)
    return True


def appointment_record(appointment: Appointment, availability: Availability) -> dict[str, object]:
    """Return an appointment as plain data for `cisp-bot appointments --json`."""
    return {
        "id": appointment.id,
        "worker": _worker_name(availability, appointment.worker_id),
        "worker_id": appointment.worker_id,
        "trainee": appointment.trainee.first_name or "Stagiaire",
        "starts_at": as_utc(appointment.starts_at).astimezone(BRUSSELS).isoformat(),
        "ends_at": as_utc(appointment.ends_at).astimezone(BRUSSELS).isoformat(),
        "reason": appointment.reason,
        "status": appointment.status,
    }


def _availability(services: Services) -> AvailabilityService:
    return AvailabilityService(services.settings.availability_file)


# The social workers' availability (the file, reloaded when it changes).
AVAILABILITY: Part[AvailabilityService] = Part("the availability", _availability)


def _send_due_reminders(session: Session, services: Services, now: datetime) -> None:
    send_due_reminders(session, services.settings, services.get(AVAILABILITY).refresh(), now)


def _send_agendas(session: Session, services: Services, now: datetime) -> None:
    availability = services.get(AVAILABILITY).refresh()
    send_agendas(session, services.settings, availability, services.get(OFFICE_HOURS), now)


FEATURE = Feature(
    name="booking",
    commands={"rdv": Command(lambda turn, _rest: staff_upcoming(turn), staff=True)},
    buttons=[ButtonAction(BOOK, on_button)],
    states={
        BOOK_PHONE: StateStep(receive_phone, "vous alliez donner un numéro pour être rappelé·e"),
        STAFF_CANCEL: StateStep(
            staff_cancel_message, "vous alliez écrire pourquoi un rendez-vous est annulé"
        ),
    },
    go={"book": GoTarget(start)},
    menu=[MenuEntry("book", texts.BUTTON_BOOK, order=20)],
    intents={Intent.BOOK.value: start, Intent.APPOINTMENTS.value: show_mine},
    jobs={"reminders": _send_due_reminders, "agendas": _send_agendas},
)
