"""Talking to a person: a trainee opens a request (a ticket), a social worker takes it, and the bot relays.

Trainee side: "Parler à quelqu'un" -> an optional one-line subject -> the ticket is open, the trainee is
told honestly when to expect an answer (office hours, Belgian holidays) and their messages go to the
ticket instead of the FAQ until they return to the bot.

Staff side: the staff group (or, without one, every staff member privately) gets an alert with a
"Je prends" button. The database decides who takes it (one conditional UPDATE: exactly one wins). The
worker then writes to the bot in private, or replies to the alert, and the bot passes the messages on,
signed with the worker's first name only. "Terminé" closes the ticket and asks the trainee whether it
helped; the worker may turn the answer into an FAQ draft for an admin to review.

Every push goes through the outbox (bot.core.outbox), in the same transaction as the ticket's change.
"""

from __future__ import annotations

from bot import texts
from bot.core.feature import ButtonAction, Command, Feature, GoTarget, MenuEntry, StateStep
from bot.features.handoff.actions import purge_closed
from bot.features.handoff.common import HANDOFF_SUBJECT, IN_TICKET, STAFF_TICKET, TICKET
from bot.features.handoff.dialogue import (
    on_button,
    open_call_request,
    receive_subject,
    relayed_or_none,
    start,
)
from bot.features.handoff.jobs import (
    escalate_unclaimed,
    escalation_job,
    purge_job,
    summarise_day,
    summary_job,
)
from bot.features.handoff.personal import TICKET_MESSAGES, TICKETS, describe_tickets
from bot.features.handoff.queries import open_tickets, ticket_record
from bot.features.handoff.staff import list_tickets, reply_in_group, staff_message
from bot.features.intents import Intent

__all__ = [
    "FEATURE",
    "escalate_unclaimed",
    "open_call_request",
    "open_tickets",
    "purge_closed",
    "summarise_day",
    "ticket_record",
]

FEATURE = Feature(
    name="handoff",
    commands={"tickets": Command(lambda turn, _rest: list_tickets(turn), staff=True)},
    buttons=[ButtonAction(TICKET, on_button, in_staff_group=True)],
    states={
        HANDOFF_SUBJECT: StateStep(
            receive_subject, "vous alliez dire le sujet de votre demande", person_button=False
        ),
        IN_TICKET: StateStep(
            relayed_or_none,
            "vous écrivez à une personne de l'équipe",
            every_message=True,
            person_button=False,
        ),
        STAFF_TICKET: StateStep(staff_message, "vous répondez à une demande", every_message=True),
    },
    go={"person": GoTarget(start), "tickets": GoTarget(list_tickets, staff=True)},
    menu=[MenuEntry("person", texts.BUTTON_PERSON, order=40, anonymous=True)],
    intents={Intent.PERSON.value: start},
    jobs={"escalations": escalation_job, "day summary": summary_job},
    purges=[purge_job],
    group_reply=reply_in_group,
    personal_tables=[TICKETS, TICKET_MESSAGES],
    describe_data=describe_tickets,
)
