"""Messages to send: written with the change that causes them, sent by a dispatcher, deleted once sent.

The replies to a message, a relay to a trainee, an alert to the staff group, a reminder: none is sent
from inside a transaction. The transaction writes an outbox row, so a message is never lost to a crash
and never sent for a change that was rolled back. A dispatcher takes the oldest row of each chat (a
lease, so that two processes never send the same row, and one chat's rows leave in order), hands it
to the channel and deletes it. A failed send waits and is tried again, holding back that chat's later
rows; after MAX_ATTEMPTS it is logged as an error and dropped.

Exactly once, except in one window: a send that reached the platform but whose answer never came back
(the process died, or the network dropped the answer) is sent again by the next holder of the row.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.common.clock import Clock
from bot.core.lanes import QueueWorker
from bot.core.messages import Button, Document, Reply
from bot.storage.db import call_database, runs_inline, transaction, unit_of_work
from bot.storage.models import ConversationState, OutboxMessage, Reminder, Role, Ticket, User
from bot.storage.queue import delete_row, renew_leases, take_heads

log = logging.getLogger(__name__)

OUTBOX = cast(Table, OutboxMessage.__table__)
_INSERT = OUTBOX.insert().returning(OUTBOX.c.id)
_STATES = cast(Table, ConversationState.__table__)
_USERS = cast(Table, User.__table__)
# The buttons a push shows a trainee become their last ones: a number or a title typed after it presses
# them. (Staff keep theirs: an alert's "Terminer" must be tapped, never typed by chance. A channel that
# sends the push without its buttons, WhatsApp's template, forgets them: NumberedChoices.forget_shown.)
_SHOWN_BY_PUSH = (
    update(_STATES)
    .where(
        _STATES.c.user_id
        == select(_USERS.c.id)
        .where(
            _USERS.c.channel == bindparam("channel"),
            _USERS.c.external_id == bindparam("recipient"),
            _USERS.c.role == Role.TRAINEE.value,
        )
        .scalar_subquery()
    )
    .values(shown=bindparam("shown"))
)
# Is there anything older for this chat (waiting, or being sent)? Then a new answer waits its turn.
_OLDER_ROW = (
    select(OUTBOX.c.id)
    .where(OUTBOX.c.channel == bindparam("channel"), OUTBOX.c.recipient == bindparam("recipient"))
    .limit(1)
)
# A dispatcher holds the rows it sends this long, renewing while it works (a flood wait can be long;
# bot.core.lanes.RENEW_EVERY): a crashed process's rows are sent by another, or the next start, after.
LEASE = timedelta(seconds=15)
MAX_ATTEMPTS = 8
# Chats served at once; Telegram's overall limit paces them anyway.
CONCURRENT_CHATS = 32
# Rows written by another process (or a missed wake-up) are found at least this often.
POLL_SECONDS = 2.0
# Key of Session.info telling that the transaction wrote pushes for the dispatcher to take (it is woken
# after the commit); answers leased at once are handed to it instead.
PUSHED = "outbox_pushed"


class Undeliverable(Exception):
    """The recipient can never be reached (blocked the bot, chat gone): trying again would not help."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to pass on: its kind ("voice", "photo"...), the platform's reference, and that platform."""

    kind: str
    ref: str
    channel: str


@dataclass(frozen=True, slots=True)
class Push:
    """One outbox row as the dispatcher hands it to a channel."""

    id: int
    channel: str
    recipient: str
    replies: tuple[Reply, ...]
    attachment: Attachment | None = None
    # A message already sent ("<chat>:<message id>") to rewrite instead of sending a new one.
    edit: str | None = None
    ticket_id: int | None = None
    attempts: int = 0
    # The reminder this push delivers: the platform's message id is kept on it, for delivery statuses.
    reminder_id: int | None = None
    # The answer to a message the person just sent (not paced like a push; no buttons in a group).
    reply: bool = False


class PushTarget(Protocol):
    """A channel able to deliver pushes; it returns the platform references of the messages sent."""

    name: str

    async def push(self, item: Push) -> list[str]:
        """Deliver one push; raise to have it tried again later."""
        ...


def _encode(
    replies: Sequence[Reply],
    attachment: Attachment | None,
    edit: str | None,
    reminder_id: int | None = None,
    reply: bool = False,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"replies": [_encode_reply(item) for item in replies]}
    if reply:
        payload["reply"] = True
    if reminder_id is not None:
        payload["reminder"] = reminder_id
    if attachment is not None:
        payload["attachment"] = [attachment.kind, attachment.ref, attachment.channel]
    if edit is not None:
        payload["edit"] = edit
    return payload


def _encode_reply(reply: Reply) -> dict[str, Any]:
    encoded: dict[str, Any] = {
        "text": reply.text,
        "buttons": [[button.id, button.title] for button in reply.buttons],
    }
    if reply.document is not None:
        document = reply.document
        # JSON holds text: the (small) file travels as base64.
        content = base64.b64encode(document.content).decode()
        encoded["document"] = [document.filename, content, document.mime_type]
    return encoded


def _decode_reply(item: dict[str, Any]) -> Reply:
    buttons = tuple(Button(button_id, title) for button_id, title in item.get("buttons", ()))
    document = None
    if item.get("document"):
        filename, content, mime_type = item["document"]
        document = Document(filename, base64.b64decode(content), mime_type)
    return Reply(item["text"], buttons, document)


def _decode(row: Any) -> Push:
    payload = row.payload
    replies = tuple(_decode_reply(item) for item in payload.get("replies", ()))
    attachment = payload.get("attachment")
    return Push(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        replies=replies,
        attachment=Attachment(*attachment) if attachment else None,
        edit=payload.get("edit"),
        ticket_id=row.ticket_id,
        attempts=row.attempts,
        reminder_id=payload.get("reminder"),
        reply=bool(payload.get("reply")),
    )


def enqueue(
    session: Session,
    now: datetime,
    channel: str,
    recipient: str,
    replies: Sequence[Reply],
    *,
    user_id: int | None = None,
    ticket_id: int | None = None,
    attachment: Attachment | None = None,
    edit: str | None = None,
    reminder_id: int | None = None,
    reply: bool = False,
) -> Push | None:
    """Write a push in the caller's transaction; user_id is the person it is about (erased with them).

    An answer (reply) that is its chat's oldest row is leased at once and returned: this process sends
    it as soon as the transaction commits, without taking it again (see Dispatcher.hand_over).
    """
    if session.new:
        session.flush()  # the rows this one refers to (a new ticket, a new person) exist first
    connection = session.connection()
    payload = _encode(replies, attachment, edit, reminder_id, reply)
    lease = (
        reply and connection.execute(_OLDER_ROW, {"channel": channel, "recipient": recipient}).first() is None
    )
    # Core, not the ORM: the row is never loaded as an object, and the answers of every message go here.
    row_id = connection.execute(
        _INSERT,
        {
            "channel": channel,
            "recipient": recipient,
            "payload": payload,
            "created_at": now,
            "not_before": now,
            "attempts": 0,
            "leased_until": now + LEASE if lease else None,
            "user_id": user_id,
            "ticket_id": ticket_id,
        },
    ).scalar_one()
    buttons = next((each.buttons for each in reversed(replies) if each.buttons), ())
    if buttons and not reply and edit is None:
        # An answer's buttons are kept by its turn (Turn.remember_shown); a push comes outside any turn.
        connection.execute(
            _SHOWN_BY_PUSH,
            {
                "channel": channel,
                "recipient": recipient,
                "shown": [[button.id, button.title] for button in buttons],
            },
        )
    if not lease:
        session.info[PUSHED] = True  # for the dispatcher to take, once woken
        return None
    return Push(
        id=row_id,
        channel=channel,
        recipient=recipient,
        replies=tuple(replies),
        attachment=attachment,
        edit=edit,
        ticket_id=ticket_id,
        reminder_id=reminder_id,
        reply=reply,
    )


class Outbox:
    """Take, acknowledge and retry outbox rows."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._session_factory = session_factory
        self._clock = clock
        # SQLite: called on the event loop, faster than a thread (see runs_inline).
        self.inline = runs_inline(session_factory)

    def take(
        self, channels: Collection[str], *, recipient: str | None = None, limit: int = CONCURRENT_CHATS
    ) -> list[Push]:
        """Lease the oldest due row of up to limit chats (of this recipient only, if given)."""
        with transaction(self._session_factory) as connection:
            chats = None if recipient is None else [recipient]
            return self._take(connection, channels, limit, chats)

    def _take(
        self, connection: Connection, channels: Collection[str], limit: int, chats: Collection[str] | None
    ) -> list[Push]:
        now = self._clock.now()
        rows = take_heads(
            connection,
            OUTBOX,
            "recipient",
            now=now,
            lease=LEASE,
            channels=channels,
            limit=limit,
            chats=chats,
            due_column="not_before",
        )
        return [_decode(row) for row in rows]

    def renew(self, ids: Collection[int]) -> None:
        """Keep holding the rows being sent."""
        if ids:
            with transaction(self._session_factory) as connection:
                renew_leases(connection, OUTBOX, ids, self._clock.now() + LEASE)

    def sent(self, item: Push, refs: Sequence[str]) -> Push | None:
        """Forget a delivered push (remember where a staff alert was posted); lease the chat's next one."""
        with transaction(self._session_factory) as connection:
            if item.ticket_id is not None and refs and item.edit is None:
                connection.execute(
                    update(Ticket).where(Ticket.id == item.ticket_id).values(alert_ref=refs[0])
                )
            platform_ref = next((ref for ref in refs if ref), None)
            if item.reminder_id is not None and platform_ref is not None:
                connection.execute(
                    update(Reminder)
                    .where(Reminder.id == item.reminder_id)
                    .values(platform_ref=f"{item.channel}:{platform_ref}", delivery_status="sent")
                )
            delete_row(connection, OUTBOX, item.id)
            following = next(iter(self._take(connection, [item.channel], 1, [item.recipient])), None)
            return following

    def undeliverable(self, item: Push) -> Push | None:
        """Drop a push that can never arrive, mark its recipient unreachable; lease the chat's next one.

        The staff see who is unreachable in their summary.
        """
        now = self._clock.now()
        with transaction(self._session_factory) as connection:
            # Only the person the push was addressed to: an alert about a trainee sent to a staff chat
            # that failed says nothing about the trainee.
            connection.execute(
                update(User)
                .where(User.channel == item.channel, User.external_id == item.recipient)
                .values(unreachable_at=now)
            )
            delete_row(connection, OUTBOX, item.id)
            following = next(iter(self._take(connection, [item.channel], 1, [item.recipient])), None)
        log.warning("push %d to %s dropped: the recipient cannot be reached", item.id, item.channel)
        return following

    def failed(self, item: Push) -> Push | None:
        """Try a failed push again later (waiting longer each time), or give up after MAX_ATTEMPTS.

        The chat's later rows wait behind it: they are not the chat's oldest while it is there. Given
        up, it makes way: the chat's next row is leased and returned.
        """
        attempts = item.attempts + 1
        with transaction(self._session_factory) as connection:
            if attempts >= MAX_ATTEMPTS:
                log.error("push %d to %s dropped after %d attempts", item.id, item.channel, attempts)
                delete_row(connection, OUTBOX, item.id)
                following = next(iter(self._take(connection, [item.channel], 1, [item.recipient])), None)
                return following
            retry_at = self._clock.now() + timedelta(seconds=min(600, 5 * 2**attempts))
            connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == item.id)
                .values(attempts=attempts, not_before=retry_at, leased_until=None)
            )
            return None

    def record_status(self, channel: str, message_id: str, status: str, at: datetime) -> bool:
        """Keep what the platform says of a reminder it delivered (sent, delivered, read, failed).

        Statuses may arrive out of order: a status never goes back (read stays read), failed is final.
        """
        rank = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
        if status not in rank:
            return False
        with unit_of_work(self._session_factory) as session:
            reminder = session.scalars(
                select(Reminder).where(Reminder.platform_ref == f"{channel}:{message_id}")
            ).first()
            if reminder is None:
                return False
            if rank.get(reminder.delivery_status or "", 0) < rank[status]:
                reminder.delivery_status, reminder.status_at = status, at
            return True

    def pending(self) -> int:
        """Return how many pushes are waiting (for /stats and the tests)."""
        with self._session_factory() as session:
            return len(session.scalars(select(OutboxMessage.id)).all())


class Dispatcher(QueueWorker[Push]):
    """Send what the outbox holds: chats in parallel, each chat's rows one after the other, in order.

    A chat's rows are a lane (bot.core.lanes): sending one leases the next, so a chat's burst goes
    without a separate take between messages. Answers leased by the transaction that wrote them are
    handed over directly (wake(leased)); the rest is taken when woken, or every few seconds (rows of
    other processes, retries).
    """

    def __init__(
        self,
        outbox: Outbox,
        targets: Mapping[str, PushTarget],
        *,
        recipient: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        concurrency: int = CONCURRENT_CHATS,
    ) -> None:
        super().__init__(
            inline=outbox.inline,
            concurrency=concurrency,
            poll_seconds=poll_seconds,
            chat_of=lambda item: (item.channel, item.recipient),
            what="outbox",
        )
        self._outbox = outbox
        self._targets = dict(targets)
        self._recipient = recipient

    def wake(self, leased: Sequence[Push] = (), *, look: bool = True) -> None:
        """Send rows already leased for it, and (look) take what waits; safe from any thread."""
        if leased:
            items = list(leased)
            self._call_soon(lambda: self.hand_over(items))
        if look:
            super().wake()

    async def dispatch_once(self) -> int:
        """Send everything due now, chat by chat in order, and wait for it; return how many were taken."""
        taken = 0
        while items := await call_database(self._outbox.inline, self._take, self._concurrency):
            taken += len(items)
            self.hand_over(items)
            await self._lanes.wait()
        return taken

    def _take(self, limit: int) -> list[Push]:
        return self._outbox.take(self._targets, recipient=self._recipient, limit=limit)

    def _renew(self, ids: list[int]) -> None:
        self._outbox.renew(ids)

    async def _work(self, item: Push) -> Push | None:
        """Send one row; return the chat's next one, leased, or None (none, or this one waits a retry)."""
        target = self._targets[item.channel]
        try:
            refs = await target.push(item)
        except Undeliverable:
            return await call_database(self._outbox.inline, self._outbox.undeliverable, item)
        except Exception:
            log.warning("push %d to %s failed; will try again", item.id, item.channel, exc_info=True)
            return await call_database(self._outbox.inline, self._outbox.failed, item)
        return await call_database(self._outbox.inline, self._outbox.sent, item, refs)
