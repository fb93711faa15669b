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

import asyncio
import base64
import contextlib
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from bot.core.messages import Button, Document, Reply
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage, Reminder, Ticket, User
from bot.storage.queue import renew_leases, take_heads

log = logging.getLogger(__name__)

OUTBOX = cast(Table, OutboxMessage.__table__)
# A dispatcher holds the rows it sends this long, renewing every RENEW_EVERY while it works (a flood
# wait can be long): a crashed process's rows are sent by another (or the next start) after this.
LEASE = timedelta(seconds=15)
RENEW_EVERY = 5.0
MAX_ATTEMPTS = 8
# Chats served at once; Telegram's overall limit paces them anyway.
CONCURRENT_CHATS = 32
# Rows written by another process (or a missed wake-up) are found at least this often.
POLL_SECONDS = 2.0
# Key of Session.info telling that the transaction wrote pushes (the dispatcher is woken after it).
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
) -> None:
    """Write a push in the caller's transaction; user_id is the person it is about (erased with them)."""
    session.info[PUSHED] = True
    if session.new:
        session.flush()  # the rows this one refers to (a new ticket, a new person) exist first
    # Core, not the ORM: the row is never loaded as an object, and the answers of every message go here.
    session.execute(
        OUTBOX.insert(),
        {
            "channel": channel,
            "recipient": recipient,
            "payload": _encode(replies, attachment, edit, reminder_id, reply),
            "created_at": now,
            "not_before": now,
            "attempts": 0,
            "leased_until": None,
            "user_id": user_id,
            "ticket_id": ticket_id,
        },
    )


class Outbox:
    """Take, acknowledge and retry outbox rows."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def take(
        self, channels: Collection[str], *, recipient: str | None = None, limit: int = CONCURRENT_CHATS
    ) -> list[Push]:
        """Lease the oldest due row of up to limit chats (of this recipient only, if given)."""
        now = self._clock.now()
        with unit_of_work(self._session_factory) as session:
            rows = take_heads(
                session,
                OUTBOX,
                "recipient",
                now=now,
                lease=LEASE,
                channels=channels,
                limit=limit,
                chat=recipient,
                extra=(OUTBOX.c.not_before <= now,),
            )
        return [_decode(row) for row in rows]

    def renew(self, ids: Collection[int]) -> None:
        """Keep holding the rows being sent."""
        if ids:
            with unit_of_work(self._session_factory) as session:
                renew_leases(session, OUTBOX, ids, self._clock.now() + LEASE)

    def sent(self, item: Push, refs: Sequence[str]) -> None:
        """Forget a delivered push; remember where a staff alert was posted."""
        with unit_of_work(self._session_factory) as session:
            if item.ticket_id is not None and refs and item.edit is None:
                session.execute(update(Ticket).where(Ticket.id == item.ticket_id).values(alert_ref=refs[0]))
            platform_ref = next((ref for ref in refs if ref), None)
            if item.reminder_id is not None and platform_ref is not None:
                session.execute(
                    update(Reminder)
                    .where(Reminder.id == item.reminder_id)
                    .values(platform_ref=f"{item.channel}:{platform_ref}", delivery_status="sent")
                )
            session.execute(delete(OutboxMessage).where(OutboxMessage.id == item.id))

    def undeliverable(self, item: Push) -> None:
        """Drop a push that can never arrive, and mark its recipient unreachable (staff see it)."""
        now = self._clock.now()
        with unit_of_work(self._session_factory) as session:
            # Only the person the push was addressed to: an alert about a trainee sent to a staff chat
            # that failed says nothing about the trainee.
            session.execute(
                update(User)
                .where(User.channel == item.channel, User.external_id == item.recipient)
                .values(unreachable_at=now)
                .execution_options(synchronize_session=False)
            )
            session.execute(delete(OutboxMessage).where(OutboxMessage.id == item.id))
        log.warning("push %d to %s dropped: the recipient cannot be reached", item.id, item.channel)

    def failed(self, item: Push) -> None:
        """Try a failed push again later (waiting longer each time), or give up after MAX_ATTEMPTS.

        The chat's later rows wait behind it: they are not the chat's oldest while it is there.
        """
        attempts = item.attempts + 1
        with unit_of_work(self._session_factory) as session:
            if attempts >= MAX_ATTEMPTS:
                log.error("push %d to %s dropped after %d attempts", item.id, item.channel, attempts)
                session.execute(delete(OutboxMessage).where(OutboxMessage.id == item.id))
                return
            retry_at = self._clock.now() + timedelta(seconds=min(600, 5 * 2**attempts))
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == item.id)
                .values(attempts=attempts, not_before=retry_at, leased_until=None)
            )

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


class Dispatcher:
    """Send what the outbox holds: at once when woken, else every few seconds; chats in parallel."""

    def __init__(
        self,
        outbox: Outbox,
        targets: Mapping[str, PushTarget],
        *,
        recipient: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        concurrency: int = CONCURRENT_CHATS,
    ) -> None:
        self._outbox = outbox
        self._targets = dict(targets)
        self._recipient = recipient
        self._poll_seconds = poll_seconds
        self._concurrency = concurrency
        self._sending: dict[int, asyncio.Task[None]] = {}
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Ask for a dispatch now; safe from any thread (the conversation may run in one)."""
        if self._loop is None or self._wakeup is None:
            return
        # A closed loop raises RuntimeError: the bot is stopping, and nothing is left to wake.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until stop is set; what is being sent then is finished, the rest stays for later."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        renewer = asyncio.create_task(self._renew_leases(stop))
        try:
            while not stop.is_set():
                self._wakeup.clear()
                try:
                    await self._start_sending()
                except Exception:
                    log.exception("outbox dispatch failed; trying again shortly")
                await self._wait(stop)
        finally:
            if self._sending:
                await asyncio.wait(set(self._sending.values()))
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def dispatch_once(self) -> int:
        """Send everything due now, chat by chat in order, and wait for it; return how many were sent."""
        sent = 0
        while items := await asyncio.to_thread(self._take, self._concurrency):
            await asyncio.gather(*(self._send(item) for item in items))
            sent += len(items)
        return sent

    def _take(self, limit: int) -> list[Push]:
        return self._outbox.take(self._targets, recipient=self._recipient, limit=limit)

    async def _start_sending(self) -> None:
        free = self._concurrency - len(self._sending)
        if free <= 0:
            return
        for item in await asyncio.to_thread(self._take, free):
            if item.id in self._sending:
                continue  # its lease lapsed while it was being sent (a clock moved on): taken again
            self._sending[item.id] = asyncio.create_task(self._send_and_wake(item))

    async def _send_and_wake(self, item: Push) -> None:
        try:
            await self._send(item)
        finally:
            self._sending.pop(item.id, None)
            self.wake()  # the chat's next row, if any, is now its oldest

    async def _wait(self, stop: asyncio.Event) -> None:
        assert self._wakeup is not None
        waiters = {asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())}
        _, pending = await asyncio.wait(
            waiters, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in pending:
            waiter.cancel()

    async def _send(self, item: Push) -> None:
        target = self._targets[item.channel]
        try:
            refs = await target.push(item)
        except Undeliverable:
            await asyncio.to_thread(self._outbox.undeliverable, item)
            return
        except Exception:
            log.warning("push %d to %s failed; will try again", item.id, item.channel, exc_info=True)
            await asyncio.to_thread(self._outbox.failed, item)
            return
        await asyncio.to_thread(self._outbox.sent, item, refs)

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(RENEW_EVERY)
            try:
                await asyncio.to_thread(self._outbox.renew, list(self._sending))
            except Exception:
                log.warning("outbox: leases not renewed", exc_info=True)
