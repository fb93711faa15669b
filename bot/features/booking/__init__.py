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

from bot import texts
from bot.core.feature import ButtonAction, Command, Erasure, Feature, GoTarget, MenuEntry, StateStep
from bot.features.booking.common import AVAILABILITY, BOOK, BOOK_PHONE, STAFF_CANCEL, AvailabilityService
from bot.features.booking.dialogue import my_appointments, on_button, receive_phone, show_mine, start
from bot.features.booking.jobs import agendas_job, reminders_job, send_agendas, send_due_reminders
from bot.features.booking.personal import (
    APPOINTMENTS,
    describe_appointments,
    erasure_warning,
    tell_workers_of_erasure,
)
from bot.features.booking.queries import appointment_record
from bot.features.booking.staff import staff_cancel_message, staff_upcoming
from bot.features.intents import Intent
from bot.features.reminding import REMINDERS

__all__ = [
    "AVAILABILITY",
    "FEATURE",
    "AvailabilityService",
    "appointment_record",
    "send_agendas",
    "send_due_reminders",
]

FEATURE = Feature(
    name="booking",
    commands={"rdv": Command(lambda turn, _rest: staff_upcoming(turn), staff=True)},
    buttons=[ButtonAction(BOOK, on_button)],
    states={
        BOOK_PHONE: StateStep(
            receive_phone, "vous alliez donner un numéro pour qu'on vous appelle", person_button=False
        ),
        STAFF_CANCEL: StateStep(
            staff_cancel_message, "vous alliez écrire pourquoi un rendez-vous est annulé"
        ),
    },
    go={"book": GoTarget(start), "mine": GoTarget(my_appointments)},
    menu=[
        MenuEntry("book", texts.BUTTON_BOOK, order=20),
        MenuEntry("mine", texts.BUTTON_MY_APPOINTMENTS, order=25),
    ],
    intents={Intent.BOOK.value: start, Intent.APPOINTMENTS.value: show_mine},
    jobs={"reminders": reminders_job, "agendas": agendas_job},
    personal_tables=[APPOINTMENTS, REMINDERS],
    # The social workers' days off: their schedule, not the trainees'.
    other_tables=frozenset({"days_off"}),
    describe_data=describe_appointments,
    erasure=Erasure(warning=erasure_warning, before=tell_workers_of_erasure),
)
