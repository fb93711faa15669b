"""Requests to talk to a person, in the console: the open ones, one whole, taken, answered and closed.

The same actions as the staff's chat (features/handoff/desk.py): the trainee receives the answer on
their own channel, signed with the worker's first name, exactly as from Telegram.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot import texts
from bot.core.turn import display_name
from bot.features.handoff import desk
from bot.features.handoff.common import spoken_when
from bot.features.handoff.queries import open_tickets
from bot.storage.models import Ticket, TicketStatus, User
from bot.webconsole.pages import STALE_TOKEN, Pages, Staff

log = logging.getLogger(__name__)

ATTACHMENT_NAMES = {"voice": "un message vocal", "photo": "une photo", "document": "un fichier"}
MAX_ANSWER_CHARS = 2000


class RequestPages:
    """The requests' list and each request's page, with its actions."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.context = pages.context

    def _summary(self, ticket: Ticket, staff: Staff) -> dict[str, Any]:
        now, trainee = self.context.clock.now(), ticket.trainee
        return {
            "id": ticket.id,
            "name": display_name(trainee),
            "filiere": trainee.filiere,
            "channel": texts.CHANNEL_NAMES.get(trainee.channel, trainee.channel),
            "opened": spoken_when(ticket.opened_at, now),
            "subject": ticket.subject,
            "phone": ticket.phone,
            "worker": display_name(ticket.worker) if ticket.worker is not None else None,
            "mine": ticket.claimed_by_id == staff.user_id,
            "open": ticket.status == TicketStatus.OPEN.value,
            "count": len(ticket.messages),
        }

    async def overview(self, request: Request) -> Response:
        """List the open requests, oldest first: who, since when, about what, taken by whom."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        tickets = await self.pages.db(
            lambda session: [self._summary(t, staff) for t in open_tickets(session)]
        )
        return self.pages.render("requests.html", "Demandes à une personne", staff, tickets=tickets)

    async def detail(self, request: Request) -> Response:
        """Show one request whole, its messages in order, and what the worker can do with it."""
        staff = await self.pages.guarded(request)
        if isinstance(staff, Response):
            return staff
        return await self._detail(
            staff, request.path_params["ticket_id"], request.query_params.get("fait", "")
        )

    async def _detail(
        self, staff: Staff, ticket_id: int, done: str, *, typed: str = "", status: int = 200
    ) -> Response:
        """Render a request's page; typed: an answer that did not leave, shown again (nothing is lost)."""

        def read(session: Session) -> dict[str, Any] | None:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                return None
            now = self.context.clock.now()
            messages = [
                {
                    "mine": message.author == "staff",
                    "who": display_name(ticket.trainee)
                    if message.author == "trainee"
                    else display_name(session.get(User, message.staff_id) if message.staff_id else None),
                    "when": spoken_when(message.sent_at, now),
                    "text": message.text,
                    "attachment": ATTACHMENT_NAMES.get(message.attachment or "", message.attachment),
                }
                for message in ticket.messages
            ]
            return {**self._summary(ticket, staff), "messages": messages}

        ticket = await self.pages.db(read)
        if ticket is None:
            return self.pages.message(
                "Demande introuvable",
                "Cette demande n'existe plus (terminée depuis longtemps, ou effacée par la personne).",
                staff=staff,
                status=404,
                error=True,
                back=f"{self.context.prefix}/demandes",
            )
        return self.pages.render(
            "request.html",
            f"Demande n°{ticket['id']}",
            staff,
            status=status,
            ticket=ticket,
            done=done,
            typed=typed,
            limit=MAX_ANSWER_CHARS,
        )

    async def _acting(self, request: Request) -> tuple[Staff, dict[str, str]] | Response:
        return await self.pages.acting(request)

    def _back(self, ticket_id: int, done: str) -> Response:
        return RedirectResponse(f"{self.context.prefix}/demandes/{ticket_id}?fait={done}", status_code=303)

    def _worker(self, session: Session, staff: Staff) -> User:
        worker = session.get(User, staff.user_id)
        assert worker is not None  # the session was live a moment ago
        return worker

    async def take(self, request: Request) -> Response:
        """Take the request (of two workers at once, one wins); the trainee is told who."""
        checked = await self._acting(request)
        if isinstance(checked, Response):
            return checked
        staff, _ = checked
        ticket_id = request.path_params["ticket_id"]
        settings, now = self.context.settings, self.context.clock.now()

        def work(session: Session) -> desk.Taking:
            worker = self._worker(session, staff)
            taken = desk.take(session, settings, now, worker, ticket_id)
            if taken.outcome is desk.Taking.TAKEN and taken.ticket is not None:
                desk.tell_others_taken(session, settings, now, worker, taken.ticket)
            return taken.outcome

        outcome = await self.pages.db(work)
        done = {desk.Taking.TAKEN: "prise", desk.Taking.ALREADY_YOURS: "prise"}.get(outcome, outcome.value)
        return self._back(ticket_id, done)

    async def answer(self, request: Request) -> Response:
        """Send the worker's answer to the trainee, on the trainee's channel, signed with their first name.

        An answer that cannot leave (a page from an older login, a request closed or taken meanwhile) comes
        back on the page, as typed: a worker's careful message is never lost to a refusal.
        """
        checked = await self.pages.acting(request, keep_typed=True)
        if isinstance(checked, Response):
            return checked
        staff, form = checked
        ticket_id = request.path_params["ticket_id"]
        text = form.get("message", "")[:MAX_ANSWER_CHARS]
        if form.get(STALE_TOKEN):
            return await self._detail(staff, ticket_id, "ancien", typed=text, status=403)
        now = self.context.clock.now()

        def work(session: Session) -> str:
            ticket = _open_ticket(session, ticket_id)
            if ticket is None:
                return "not_open"
            if ticket.claimed_by_id is None:
                return "not_yours"  # to take first
            if ticket.claimed_by_id != staff.user_id:
                return "taken_by_other"
            return (
                "envoye" if desk.answer(session, now, ticket, self._worker(session, staff), text) else "vide"
            )

        outcome = await self.pages.db(work)
        if outcome in ("not_open", "not_yours", "taken_by_other") and text.strip():
            return await self._detail(staff, ticket_id, outcome, typed=text, status=409)
        return self._back(ticket_id, outcome)

    async def close(self, request: Request) -> Response:
        """Close the request; the trainee is asked whether it helped."""
        checked = await self._acting(request)
        if isinstance(checked, Response):
            return checked
        staff, _ = checked
        ticket_id = request.path_params["ticket_id"]
        settings, now = self.context.settings, self.context.clock.now()

        def work(session: Session) -> str:
            ticket = _open_ticket(session, ticket_id)
            if ticket is None:
                return "not_open"
            worker = self._worker(session, staff)
            if not desk.may_close(ticket, worker):
                return "taken_by_other"
            desk.close(session, settings, now, ticket, worker)
            log.info("console: ticket %d closed by staff member %d", ticket.id, staff.user_id)
            return "terminee"

        return self._back(ticket_id, await self.pages.db(work))


def _open_ticket(session: Session, ticket_id: int) -> Ticket | None:
    """Return the request if it is still open."""
    ticket = session.get(Ticket, ticket_id)
    return ticket if ticket is not None and ticket.status == TicketStatus.OPEN.value else None
