"""Appointments, the trainee's side: reason, worker, slot, confirm; see, cancel or move one."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError

from bot import texts
from bot.core.feature import (
    MENU_BUTTON,
    PERSON_BUTTON,
)
from bot.core.messages import Button, Reply
from bot.core.payloads import checked_index
from bot.core.turn import IDLE, Turn
from bot.features.booking.actions import cancel, ics, schedule_reminders, tell_worker
from bot.features.booking.common import (
    AVAILABILITY,
    BOOK_PHONE,
    PHONE,
    button,
    instant,
    minutes_of,
    place,
    reason_at,
    spoken_when,
    worker_display_name,
)
from bot.features.booking.queries import find_slot, free_slots, own_appointment, upcoming
from bot.features.booking.staff import staff_action
from bot.features.menu import main_menu, needs_account
from bot.files.availability import Availability, Slot
from bot.files.office_hours import brussels_date, brussels_instant, french_time
from bot.storage.models import (
    Appointment,
    AppointmentStatus,
)

log = logging.getLogger(__name__)


def _cannot_book(turn: Turn) -> list[Reply] | None:
    """Say why appointments cannot open (no account, no social worker's hours), or None when they can."""
    if turn.user is None:
        return needs_account(turn)
    if not turn.services.get(AVAILABILITY).refresh().workers:
        contact = turn.services.settings.centre_contact
        return [Reply(texts.BOOK_NOT_CONFIGURED.format(contact=contact), (MENU_BUTTON,))]
    return None


def start(turn: Turn) -> list[Reply]:
    """Open the appointments: the person's upcoming ones if any, else the reasons."""
    refused = _cannot_book(turn)
    if refused is not None or turn.user is None:
        return refused or []
    turn.set_state(IDLE)
    if upcoming(turn.session, turn.user, turn.now):
        return show_mine(turn)
    return ask_reason(turn)


def my_appointments(turn: Turn) -> list[Reply]:
    """Open "Mes rendez-vous" from the menu: the person's coming appointments, or a way to book one."""
    refused = _cannot_book(turn)
    if refused is not None:
        return refused
    turn.set_state(IDLE)
    return show_mine(turn)


def ask_reason(turn: Turn) -> list[Reply]:
    """Ask what the appointment is for."""
    buttons = [
        button(f"r.{checked_index(index, name)}", name)
        for index, name in enumerate(turn.services.settings.reason_names)
    ]
    return [Reply(texts.BOOK_ASK_REASON, (*buttons, MENU_BUTTON))]


def _on_reason(turn: Turn, argument: str) -> list[Reply]:
    index_text = argument.partition(".")[0]
    index = int(index_text)
    name = reason_at(turn.services.settings, index)
    if name is None or checked_index(index, name) != argument:
        return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
    workers = turn.services.get(AVAILABILITY).refresh().workers
    if len(workers) == 1:
        return _show_slots(turn, index, workers[0].id)
    buttons = [button(f"w.{index}.{worker.id}", worker.name) for worker in workers]
    buttons.append(button(f"w.{index}.any", texts.BUTTON_ANY_WORKER))
    return [Reply(texts.BOOK_ASK_WORKER, (*buttons, MENU_BUTTON))]


def _show_slots(turn: Turn, reason: int, worker_id: str) -> list[Reply]:
    """Show the next free slots, "Autres dates" (the days) and the call-back."""
    availability = turn.services.get(AVAILABILITY).refresh()
    if worker_id != "any" and availability.worker(worker_id) is None:
        return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
    slots = free_slots(turn, None if worker_id == "any" else worker_id)
    call = button(f"call.{reason}", texts.BUTTON_CALL_ME)
    if not slots:
        days = turn.services.settings.appointment_horizon_days
        return [
            Reply(texts.BOOK_NO_SLOTS.format(days=days)),
            Reply(texts.BOOK_NO_SLOTS_NEXT, (call, PERSON_BUTTON, MENU_BUTTON)),
        ]
    buttons = [
        button(
            f"s.{reason}.{slot.worker_id}.{minutes_of(slot.starts_at)}",
            _slot_title(availability, slot, turn.now, with_worker=worker_id == "any"),
        )
        for slot in slots
    ]
    more = button(f"m.{reason}.{worker_id}.{EVERY_DAY}", texts.BUTTON_MORE_DATES)
    return [Reply(texts.BOOK_SLOTS, (*buttons, more, call, MENU_BUTTON))]


# "Autres dates": the next days with a free slot, then the times of the day chosen. Five days and seven
# times keep a WhatsApp list (ten rows, the ways out included) and a phone screen.
DAYS_SHOWN = 5
TIMES_SHOWN = 7
# The "after" of the first page of days: every day from now on.
EVERY_DAY = 0


def _show_days(turn: Turn, reason: int, worker_id: str, after: datetime) -> list[Reply]:
    """Show the next days that have a free slot (after the given instant), one button each."""
    slots = free_slots(turn, None if worker_id == "any" else worker_id, after=after, limit=None)
    days = list(dict.fromkeys(brussels_date(slot.starts_at) for slot in slots))
    if not days:
        return _show_slots(turn, reason, worker_id)
    buttons = [
        button(f"d.{reason}.{worker_id}.{minutes_of(_day_start(day))}", _day_title(day, turn.now))
        for day in days[:DAYS_SHOWN]
    ]
    if len(days) > DAYS_SHOWN:
        later = _day_start(days[DAYS_SHOWN]) - timedelta(minutes=1)
        buttons.append(button(f"m.{reason}.{worker_id}.{minutes_of(later)}", texts.BUTTON_LATER_DAYS))
    call = button(f"call.{reason}", texts.BUTTON_CALL_ME)
    return [Reply(texts.BOOK_PICK_DAY, (*buttons, call, MENU_BUTTON))]


def _show_day(turn: Turn, reason: int, worker_id: str, day_minutes: int) -> list[Reply]:
    """Show the free times of one day, then a way to the other days."""
    start = instant(day_minutes)
    day = brussels_date(start)
    availability = turn.services.get(AVAILABILITY).refresh()
    slots = free_slots(
        turn, None if worker_id == "any" else worker_id, after=start - timedelta(minutes=1), limit=None
    )
    that_day = [slot for slot in slots if brussels_date(slot.starts_at) == day][:TIMES_SHOWN]
    if not that_day:
        return [Reply(texts.BOOK_STALE_SLOT), *_show_days(turn, reason, worker_id, instant(EVERY_DAY))]
    buttons = [
        button(
            f"s.{reason}.{slot.worker_id}.{minutes_of(slot.starts_at)}",
            _time_title(availability, slot, with_worker=worker_id == "any"),
        )
        for slot in that_day
    ]
    more = button(f"m.{reason}.{worker_id}.{EVERY_DAY}", texts.BUTTON_OTHER_DAYS)
    text = texts.BOOK_PICK_TIME.format(day=_day_title(day, turn.now))
    return [Reply(text, (*buttons, more, MENU_BUTTON))]


def _day_start(day: date) -> datetime:
    return brussels_instant(day, time(0, 0))


def _day_title(day: date, now: datetime) -> str:
    """Name a day as a trainee says it: "Aujourd'hui", "Demain", "Mardi 8 décembre"."""
    title = spoken_when(_day_start(day), now).removesuffix(" à 0 h")
    return title[0].upper() + title[1:]


def _time_title(availability: Availability, slot: Slot, *, with_worker: bool) -> str:
    title = french_time(slot.starts_at)
    if with_worker:
        title += f" ({worker_display_name(availability, slot.worker_id)})"
    return title


def _slot_title(availability: Availability, slot: Slot, now: datetime, *, with_worker: bool) -> str:
    title = spoken_when(slot.starts_at, now)
    title = title[0].upper() + title[1:]
    if with_worker:
        title += f" ({worker_display_name(availability, slot.worker_id)})"
    return title


def _on_slot(turn: Turn, reason: int, worker_id: str, minutes: int) -> list[Reply]:
    slot = find_slot(turn, worker_id, minutes)
    if slot is None:
        return [Reply(texts.BOOK_STALE_SLOT), *_show_slots(turn, reason, worker_id)]
    worker = turn.services.get(AVAILABILITY).refresh().worker(worker_id)
    name = worker.name if worker is not None else worker_id
    question = texts.BOOK_CONFIRM.format(
        worker=name, when=spoken_when(slot.starts_at, turn.now), place=place(worker)
    )
    return [
        Reply(
            question,
            (
                button(f"ok.{reason}.{worker_id}.{minutes}", texts.BUTTON_CONFIRM_BOOKING),
                button(f"w.{reason}.{worker_id}", texts.BUTTON_OTHER_DATE),
                MENU_BUTTON,
            ),
        )
    ]


def _book(
    turn: Turn, reason_index: int, worker_id: str, minutes: int, moving: Appointment | None = None
) -> list[Reply]:
    assert turn.user is not None
    settings = turn.services.settings
    reason = moving.reason if moving is not None else reason_at(settings, reason_index)
    slot = find_slot(turn, worker_id, minutes)
    if reason is None or slot is None:
        return [Reply(texts.BOOK_STALE_SLOT), *_show_slots(turn, reason_index, worker_id)]
    if any(mine.starts_at == slot.starts_at for mine in upcoming(turn.session, turn.user, turn.now)):
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
    when = spoken_when(slot.starts_at, turn.now)
    if moving is not None:
        old_when = spoken_when(moving.starts_at, turn.now)
        cancel(turn.session, moving, turn.now, by="trainee")
        tell_worker(
            turn,
            worker_id,
            texts.STAFF_MOVED_APPOINTMENT.format(name=turn.display_name, old=old_when, new=when),
            appointment,
        )
        done = texts.BOOK_MOVED.format(when=when, worker=name, place=place(worker))
    else:
        filiere = f" ({turn.user.filiere})" if turn.user.filiere else ""
        tell_worker(
            turn,
            worker_id,
            texts.STAFF_NEW_APPOINTMENT.format(
                name=turn.display_name, filiere=filiere, when=when, reason=reason
            ),
            appointment,
        )
        done = texts.BOOK_DONE.format(when=when, worker=name, place=place(worker))
    schedule_reminders(turn.session, settings, appointment, turn.now)
    log.info("appointment %d booked", appointment.id)
    turn.set_state(IDLE)
    return [
        Reply(done),
        Reply(
            texts.BOOK_DONE_REMINDER,
            (button("list", texts.BUTTON_MY_APPOINTMENTS), MENU_BUTTON),
            document=ics(turn, appointment, worker),
        ),
    ]


def show_mine(turn: Turn) -> list[Reply]:
    """List the person's upcoming appointments, with a button to cancel or move each."""
    if turn.user is None:
        return needs_account(turn)
    mine = upcoming(turn.session, turn.user, turn.now)
    availability = turn.services.get(AVAILABILITY).refresh()
    new = button("new", texts.BUTTON_NEW_APPOINTMENT)
    if not mine:
        return [Reply(texts.BOOK_NONE, (new, MENU_BUTTON))]
    lines = [texts.BOOK_MY_LIST]
    buttons: list[Button] = []
    for appointment in mine[:4]:
        worker = availability.worker(appointment.worker_id)
        when = spoken_when(appointment.starts_at, turn.now)
        lines.append(
            texts.BOOK_MY_LINE.format(
                when=when,
                worker=worker_display_name(availability, appointment.worker_id),
                place=place(worker),
                reason=appointment.reason,
            )
        )
        short = when.split(" à ")[0]
        buttons.append(button(f"x.{appointment.id}", f"{texts.BUTTON_CANCEL_APPOINTMENT} ({short})"))
        buttons.append(button(f"mv.{appointment.id}", f"{texts.BUTTON_MOVE_APPOINTMENT} ({short})"))
    return [Reply("\n".join(lines), (*buttons, new, MENU_BUTTON))]


def _changeable(
    turn: Turn, appointment_id: int, *, worker_id: str | None = None
) -> Appointment | list[Reply]:
    """Return the trainee's appointment if it can still be cancelled or moved, else the replies saying why."""
    appointment = own_appointment(turn, appointment_id)
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
        when=spoken_when(appointment.starts_at, turn.now),
        worker=worker_display_name(availability, appointment.worker_id),
    )
    return [
        Reply(
            question,
            (
                button(f"xx.{appointment.id}", texts.BUTTON_CONFIRM_CANCEL),
                button("list", texts.BUTTON_KEEP),
            ),
        )
    ]


def _confirm_cancel(turn: Turn, appointment_id: int) -> list[Reply]:
    appointment = _changeable(turn, appointment_id)
    if isinstance(appointment, list):
        return appointment
    cancel(turn.session, appointment, turn.now, by="trainee")
    when = spoken_when(appointment.starts_at, turn.now)
    tell_worker(
        turn,
        appointment.worker_id,
        texts.STAFF_CANCELLED_APPOINTMENT.format(name=turn.display_name, when=when),
        appointment,
    )
    log.info("appointment %d cancelled by the trainee", appointment.id)
    return [Reply(texts.BOOK_CANCELLED), main_menu(turn)]


def _move(turn: Turn, appointment_id: int, after: datetime | None = None) -> list[Reply]:
    appointment = _changeable(turn, appointment_id)
    if isinstance(appointment, list):
        return appointment
    availability = turn.services.get(AVAILABILITY).refresh()
    slots = free_slots(turn, appointment.worker_id, after=after)
    if not slots:
        days = turn.services.settings.appointment_horizon_days
        return [
            Reply(texts.BOOK_NO_SLOTS.format(days=days), (button("list", texts.BUTTON_KEEP), MENU_BUTTON))
        ]
    buttons = [
        button(
            f"mvs.{appointment.id}.{slot.worker_id}.{minutes_of(slot.starts_at)}",
            _slot_title(availability, slot, turn.now, with_worker=False),
        )
        for slot in slots
    ]
    more = button(
        f"mvm.{appointment.id}.{appointment.worker_id}.{minutes_of(slots[-1].starts_at)}",
        texts.BUTTON_MORE_DATES,
    )
    return [Reply(texts.BOOK_MOVE_SLOTS, (*buttons, more, button("list", texts.BUTTON_KEEP)))]


def _move_to(
    turn: Turn, appointment_id: int, worker_id: str, minutes: int, *, confirmed: bool
) -> list[Reply]:
    appointment = _changeable(turn, appointment_id, worker_id=worker_id)
    if isinstance(appointment, list):
        return appointment
    if confirmed:
        return _book(turn, 0, worker_id, minutes, moving=appointment)
    slot = find_slot(turn, worker_id, minutes)
    if slot is None:
        return [Reply(texts.BOOK_STALE_SLOT), *_move(turn, appointment_id)]
    question = texts.BOOK_MOVE_CONFIRM.format(
        old=spoken_when(appointment.starts_at, turn.now), new=spoken_when(slot.starts_at, turn.now)
    )
    return [
        Reply(
            question,
            (
                button(f"mvok.{appointment.id}.{worker_id}.{minutes}", texts.BUTTON_CONFIRM_BOOKING),
                button(f"mv.{appointment.id}", texts.BUTTON_OTHER_DATE),
                button("list", texts.BUTTON_KEEP),
            ),
        )
    ]


def _ask_phone(turn: Turn, reason: int) -> list[Reply]:
    if reason_at(turn.services.settings, reason) is None:
        return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
    turn.set_state(BOOK_PHONE, reason=reason)
    return [Reply(texts.BOOK_ASK_PHONE, (MENU_BUTTON,))]


def receive_phone(turn: Turn) -> list[Reply]:
    """Take the number to call back and open a request for the staff (a ticket with the phone)."""
    assert turn.user is not None
    found = PHONE.search(turn.text)
    digits = re.sub(r"\D", "", found.group(0)) if found else ""
    if not found or not 9 <= len(digits) <= 13:
        return [Reply(texts.BOOK_BAD_PHONE, (MENU_BUTTON,))]
    phone = found.group(0).strip()
    data = turn.user.conversation.data if turn.user.conversation is not None else {}
    reason = reason_at(turn.services.settings, int(data.get("reason", -1))) or ""
    from bot.features import handoff

    when = handoff.open_call_request(turn, phone=phone, reason=reason)
    turn.set_state(IDLE)
    return [Reply(texts.BOOK_CALL_DONE.format(phone=phone, when=when), (MENU_BUTTON,))]


def _will_be_there(turn: Turn, appointment_id: int) -> list[Reply]:
    appointment = own_appointment(turn, appointment_id)
    if appointment is None:
        return [Reply(texts.BOOK_NOT_FOUND), main_menu(turn)]
    appointment.confirmed_at = turn.now
    return [Reply(texts.BOOK_THANKS_THERE, (MENU_BUTTON,))]


_ARGUMENT = re.compile(
    r"(?P<verb>w|m|s|ok|d)\.(?P<reason>\d+)\.(?P<worker>[a-z0-9-]+)(?:\.(?P<minutes>\d+))?"
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
        if reason_at(turn.services.settings, reason) is None:
            return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
        minutes = int(parsed["minutes"]) if parsed["minutes"] is not None else None
        if parsed["verb"] == "w":
            return _show_slots(turn, reason, worker_id)
        if minutes is None:
            return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
        if parsed["verb"] == "m":
            return _show_days(turn, reason, worker_id, after=instant(minutes))
        if parsed["verb"] == "d":
            return _show_day(turn, reason, worker_id, minutes)
        if worker_id == "any":
            return [Reply(texts.STALE_BUTTON), *ask_reason(turn)]
        if parsed["verb"] == "s":
            return _on_slot(turn, reason, worker_id, minutes)
        return _book(turn, reason, worker_id, minutes)
    if parsed["move"] is not None:
        appointment_id, worker_id, minutes = int(parsed["mid"]), parsed["mworker"], int(parsed["mminutes"])
        if parsed["move"] == "mvm":
            return _move(turn, appointment_id, after=instant(minutes))
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
