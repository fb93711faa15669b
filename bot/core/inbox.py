"""Received messages: stored before the platform is told they arrived, handled once, in order per person.

A channel stores what its platform delivers (`Inbox.store`) and only then confirms it (Telegram's next
getUpdates offset, a webhook's 200): a crash after that finds the message in the table. The worker
takes the oldest row of each sender (`bot.storage.queue`), hands it to the channel, and the row is
deleted in the transaction that handles the message (`Inbox.done`), the one that also writes the
replies to the outbox. A worker that died lets its lease lapse: another (or the next start) takes
the row again, and the record of handled deliveries skips it if it had been handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from bot.storage.db import unit_of_work
from bot.storage.models import InboxMessage
from bot.storage.queue import renew_leases, take_heads

log = logging.getLogger(__name__)

INBOX = cast(Table, InboxMessage.__table__)
# Held this long by the worker that took it, renewed every RENEW_EVERY while it works: a crashed
# process's messages are taken again after at most this long.
LEASE = timedelta(seconds=15)
RENEW_EVERY = 5.0
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

    def store(self, deliveries: Sequence[Delivery]) -> None:
        """Store deliveries in one transaction; once this returns, the platform may be told."""
        if not deliveries:
            return
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
        with unit_of_work(self._session_factory) as session:
            session.execute(_store_statement(session.get_bind().dialect.name), rows)

    def take(self, channels: Collection[str], limit: int) -> list[Received]:
        """Lease the oldest waiting message of up to limit senders."""
        now = self._clock.now()
        with unit_of_work(self._session_factory) as session:
            rows = take_heads(
                session,
                INBOX,
                "sender",
                now=now,
                lease=LEASE,
                channels=channels,
                limit=limit,
                count_attempt=True,
            )
        return [
            Received(row.id, row.channel, row.sender, row.delivery_id, row.payload, row.attempts + 1)
            for row in rows
        ]

    def renew(self, ids: Collection[int]) -> None:
        """Keep holding the messages being handled."""
        if ids:
            with unit_of_work(self._session_factory) as session:
                renew_leases(session, INBOX, ids, self._clock.now() + LEASE)

    @staticmethod
    def done(session: Session, item_id: int) -> None:
        """Delete a handled message, in the transaction that handled it."""
        session.execute(delete(INBOX).where(INBOX.c.id == item_id))

    def discard(self, item_id: int) -> None:
        """Delete a message that needs no handling (not for the bot) or cannot be handled."""
        with unit_of_work(self._session_factory) as session:
            self.done(session, item_id)

    def pending(self) -> int:
        """Return how many messages wait (for /stats and the tests)."""
        with self._session_factory() as session:
            return int(session.scalar(select(func.count()).select_from(INBOX)) or 0)


Handler = Callable[[Received], Awaitable[None]]


class InboxWorker:
    """Hand stored messages to their channels: one at a time per sender, senders in parallel."""

    def __init__(
        self,
        inbox: Inbox,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = CONCURRENT_SENDERS,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._inbox = inbox
        self._handlers = dict(handlers)
        self._concurrency = concurrency
        self._poll_seconds = poll_seconds
        self._working: dict[int, asyncio.Task[None]] = {}
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Ask the worker to look for messages now; safe from any thread."""
        if self._loop is None or self._wakeup is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the bot is stopping
            self._loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until stop is set; what is being handled then is finished."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        renewer = asyncio.create_task(self._renew_leases(stop))
        try:
            while not stop.is_set():
                self._wakeup.clear()
                try:
                    await self._take_and_start()
                except Exception:
                    log.exception("inbox: taking messages failed; trying again shortly")
                await self._wait(stop)
        finally:
            if self._working:
                await asyncio.wait(set(self._working.values()))
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _take_and_start(self) -> None:
        free = self._concurrency - len(self._working)
        if free <= 0:
            return
        for item in await asyncio.to_thread(self._inbox.take, self._handlers, free):
            if item.id in self._working:
                continue  # its lease lapsed while it was being handled (a clock moved on): taken again
            self._working[item.id] = asyncio.create_task(self._handle(item))

    async def _wait(self, stop: asyncio.Event) -> None:
        assert self._wakeup is not None
        waiters = {asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())}
        _, pending = await asyncio.wait(
            waiters, timeout=self._poll_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in pending:
            waiter.cancel()

    async def _handle(self, item: Received) -> None:
        try:
            if item.attempts > MAX_ATTEMPTS:
                log.error("inbox: %s message %d given up after %d tries", item.channel, item.id, MAX_ATTEMPTS)
                await asyncio.to_thread(self._inbox.discard, item.id)
                return
            await self._handlers[item.channel](item)
        except Exception:
            # Left leased: taken again once the lease lapses, and given up after MAX_ATTEMPTS.
            log.exception("inbox: %s message %d not handled; it will be tried again", item.channel, item.id)
        finally:
            self._working.pop(item.id, None)
            self.wake()  # the sender's next message, if any, can go now

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(RENEW_EVERY)
            try:
                await asyncio.to_thread(self._inbox.renew, list(self._working))
            except Exception:
                log.warning("inbox: leases not renewed", exc_info=True)
