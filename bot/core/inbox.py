"""Received messages: stored before the platform is told they arrived, handled once, in order per person.

A channel stores what its platform delivers (`Inbox.store`) and only then confirms it (Telegram's next
getUpdates offset, a webhook's 200): a crash after that finds the message in the table. The worker
takes the oldest row of each sender (`bot.storage.queue`), hands it to the channel, and the row is
deleted in the transaction that handles the message (`Inbox.done`), the one that also writes the
replies to the outbox. A worker that died lets its lease lapse: another (or the next start) takes
the row again, and the record of handled deliveries skips it if it had been handled.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from bot.common.clock import Clock
from bot.core.lanes import QueueWorker
from bot.storage.db import call_database, runs_inline, transaction
from bot.storage.models import InboxMessage
from bot.storage.queue import delete_row, renew_leases, take_heads

log = logging.getLogger(__name__)

INBOX = cast(Table, InboxMessage.__table__)
# Held this long by the worker that took it, renewed while it works (bot.core.lanes.RENEW_EVERY): a
# crashed process's messages are taken again after at most this long.
LEASE = timedelta(seconds=15)
# A message whose handling failed this many times (a bug, not a person) is given up, with an error.
MAX_ATTEMPTS = 5
# Rows stored by another process (or a missed wake-up) are found at least this often.
POLL_SECONDS = 1.0
CONCURRENT_SENDERS = 8


@dataclass(frozen=True, slots=True)
class Received:
    """One stored message, as the worker hands it to its channel."""

    id: int
    channel: str
    sender: str
    delivery_id: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a channel stores: where it is from, the platform's id, and what the platform sent."""

    channel: str
    sender: str
    delivery_id: str
    payload: dict[str, Any]


@functools.cache
def _store_statement(dialect: str) -> Any:
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    # A delivery already waiting (the platform sent it again) is not stored twice.
    return insert(INBOX).on_conflict_do_nothing(index_elements=["channel", "delivery_id"])


class Inbox:
    """Store, take and finish received messages."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._session_factory = session_factory
        self._clock = clock
        # SQLite: called on the event loop, faster than a thread (see runs_inline).
        self.inline = runs_inline(session_factory)

    def store(self, deliveries: Sequence[Delivery]) -> list[Received]:
        """Store deliveries in one transaction; once this returns, the platform may be told.

        The messages that are their sender's oldest are leased in the same transaction and returned,
        for this process to handle at once (the others wait for the ones before them).
        """
        if not deliveries:
            return []
        now = self._clock.now()
        rows = [
            {
                "channel": delivery.channel,
                "sender": delivery.sender,
                "delivery_id": delivery.delivery_id,
                "payload": delivery.payload,
                "received_at": now,
                "leased_until": None,
                "attempts": 0,
            }
            for delivery in deliveries
        ]
        channels = {delivery.channel for delivery in deliveries}
        senders = {delivery.sender for delivery in deliveries}
        with transaction(self._session_factory) as connection:
            connection.execute(_store_statement(connection.dialect.name), rows)
            return self._take(connection, now, channels, len(senders), senders)

    def take(self, channels: Collection[str], limit: int) -> list[Received]:
        """Lease the oldest waiting message of up to limit senders."""
        with transaction(self._session_factory) as connection:
            return self._take(connection, self._clock.now(), channels, limit)

    @staticmethod
    def _take(
        connection: Connection,
        now: datetime,
        channels: Collection[str],
        limit: int,
        senders: Collection[str] | None = None,
    ) -> list[Received]:
        rows = take_heads(
            connection,
            INBOX,
            "sender",
            now=now,
            lease=LEASE,
            channels=channels,
            limit=limit,
            chats=senders,
            count_attempt=True,
        )
        return [
            Received(row.id, row.channel, row.sender, row.delivery_id, row.payload, row.attempts)
            for row in rows
        ]

    def renew(self, ids: Collection[int]) -> None:
        """Keep holding the messages being handled."""
        if ids:
            with transaction(self._session_factory) as connection:
                renew_leases(connection, INBOX, ids, self._clock.now() + LEASE)

    def done(self, connection: Connection, item: Received) -> Received | None:
        """Delete a handled message, in the transaction that handled it; lease its sender's next one."""
        delete_row(connection, INBOX, item.id)
        following = next(
            iter(self._take(connection, self._clock.now(), [item.channel], 1, [item.sender])), None
        )
        return following

    def discard(self, item: Received) -> Received | None:
        """Delete a message that needs no handling (not for the bot); lease its sender's next one."""
        with transaction(self._session_factory) as connection:
            return self.done(connection, item)

    def pending(self) -> int:
        """Return how many messages wait (for /stats and the tests)."""
        with self._session_factory() as session:
            return int(session.scalar(select(func.count()).select_from(INBOX)) or 0)


def _sender_of(item: Received) -> tuple[str, str]:
    return item.channel, item.sender


# Handles one stored message; returns the sender's next one, leased in the same transaction, if any.
Handler = Callable[[Received], Awaitable["Received | None"]]


class InboxWorker(QueueWorker[Received]):
    """Hand stored messages to their channels: one at a time per sender, senders in parallel.

    Each sender's messages are a lane (bot.core.lanes): handling one leases the next, so a person's
    burst goes through without a separate take between messages.
    """

    def __init__(
        self,
        inbox: Inbox,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = CONCURRENT_SENDERS,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        super().__init__(
            inline=inbox.inline,
            concurrency=concurrency,
            poll_seconds=poll_seconds,
            chat_of=_sender_of,
            what="inbox",
        )
        self._inbox = inbox
        self._handlers = dict(handlers)

    def _take(self, limit: int) -> list[Received]:
        return self._inbox.take(self._handlers, limit)

    def _renew(self, ids: list[int]) -> None:
        self._inbox.renew(ids)

    async def _work(self, item: Received) -> Received | None:
        """Handle one message; return the sender's next one, or None (none, or this one failed)."""
        try:
            if item.attempts > MAX_ATTEMPTS:
                log.error("inbox: %s message %d given up after %d tries", item.channel, item.id, MAX_ATTEMPTS)
                return await call_database(self._inbox.inline, self._inbox.discard, item)
            return await self._handlers[item.channel](item)
        except Exception:
            # Left leased: taken again once the lease lapses, and given up after MAX_ATTEMPTS.
            log.exception("inbox: %s message %d not handled; it will be tried again", item.channel, item.id)
            return None
