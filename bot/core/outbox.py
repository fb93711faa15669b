"""Pushed messages: written with the change that causes them, sent by a dispatcher, deleted once sent.

A relay to a trainee, an alert to the staff group, a reminder: none is sent from inside a conversation
turn. The turn writes an outbox row in its own transaction, so a push is never lost to a crash and never
sent for a change that was rolled back. A dispatcher takes rows (a lease, so that two processes never
send the same row), hands them to the channel and deletes them. A failed send waits and is tried again;
after MAX_ATTEMPTS it is logged as an error and dropped.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from bot.core.messages import Button, Document, Reply
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage, Reminder, Ticket, User

log = logging.getLogger(__name__)

# A dispatcher that took a row and died: another may take it after this long.
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
BATCH_SIZE = 20
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


class PushTarget(Protocol):
    """A channel able to deliver pushes; it returns the platform references of the messages sent."""

    name: str

    async def push(self, item: Push) -> list[str]:
        """Deliver one push; raise to have it tried again later."""
        ...


def _encode(
    replies: Sequence[Reply], attachment: Attachment | None, edit: str | None, reminder_id: int | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"replies": [_encode_reply(reply) for reply in replies]}
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


def _decode(row: OutboxMessage) -> Push:
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
) -> None:
    """Write a push in the caller's transaction; user_id is the person it is about (erased with them)."""
    session.info[PUSHED] = True
    session.add(
        OutboxMessage(
            channel=channel,
            recipient=recipient,
            payload=_encode(replies, attachment, edit, reminder_id),
            created_at=now,
            not_before=now,
            attempts=0,
            user_id=user_id,
            ticket_id=ticket_id,
        )
    )


class Outbox:
    """Take, acknowledge and retry outbox rows."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._session_factory = session_factory
        self._clock = clock

    def take(
        self, channels: Collection[str], *, recipient: str | None = None, limit: int = BATCH_SIZE
    ) -> list[Push]:
        """Lease up to limit due rows for these channels (and this recipient), oldest first."""
        now = self._clock.now()
        with unit_of_work(self._session_factory) as session:
            query = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.channel.in_(list(channels)),
                    OutboxMessage.not_before <= now,
                    or_(OutboxMessage.leased_until.is_(None), OutboxMessage.leased_until < now),
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
            if recipient is not None:
                query = query.where(OutboxMessage.recipient == recipient)
            if session.get_bind().dialect.name != "sqlite":
                # Another process's dispatcher skips the rows this one is taking (SQLite: the
                # transaction already holds the only write lock).
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            for row in rows:
                row.leased_until = now + LEASE
            return [_decode(row) for row in rows]

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
        """Try a failed push again later (waiting longer each time), or give up after MAX_ATTEMPTS."""
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
    """Send what the outbox holds through the channels: at once when woken, else every few seconds."""

    def __init__(
        self,
        outbox: Outbox,
        targets: Mapping[str, PushTarget],
        *,
        recipient: str | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._outbox = outbox
        self._targets = dict(targets)
        self._recipient = recipient
        self._poll_seconds = poll_seconds
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
        """Dispatch until stop is set."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        while not stop.is_set():
            try:
                while await self.dispatch_once():
                    pass
            except Exception:
                log.exception("outbox dispatch failed; trying again shortly")
            self._wakeup.clear()
            waiters = {asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())}
            _, pending = await asyncio.wait(
                waiters, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()

    async def dispatch_once(self) -> int:
        """Send one batch of due pushes; return how many were taken."""
        items = await asyncio.to_thread(self._outbox.take, self._targets, recipient=self._recipient)
        # In order within one chat; chats in parallel, so that one paced chat holds up no other.
        by_chat: dict[tuple[str, str], list[Push]] = {}
        for item in items:
            by_chat.setdefault((item.channel, item.recipient), []).append(item)
        await asyncio.gather(*(self._send_in_order(chat_items) for chat_items in by_chat.values()))
        return len(items)

    async def _send_in_order(self, items: list[Push]) -> None:
        for position, item in enumerate(items):
            target = self._targets[item.channel]
            try:
                refs = await target.push(item)
            except Undeliverable:
                await asyncio.to_thread(self._outbox.undeliverable, item)
                continue
            except Exception:
                log.warning("push %d to %s failed; will try again", item.id, item.channel, exc_info=True)
                # The chat's later pushes wait too, so that they do not overtake this one.
                for waiting in items[position:]:
                    await asyncio.to_thread(self._outbox.failed, waiting)
                return
            await asyncio.to_thread(self._outbox.sent, item, refs)
