"""Lanes: one task per chat working through its items in order, chats in parallel.

The inbox worker and the outbox dispatcher both hold rows leased from a queue table. Working on one
row returns the chat's next row, leased in the same transaction, so a lane goes on without asking the
table again. A row handed over for a chat whose lane is busy waits for that lane.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, Protocol, TypeVar

from bot.storage.db import call_database

log = logging.getLogger(__name__)

# Leases of the rows held are renewed this often (they last 15 s).
RENEW_EVERY = 5.0


class Leased(Protocol):
    """A leased row: its id."""

    @property
    def id(self) -> int:
        """Return the row's id."""
        ...


Item = TypeVar("Item", bound=Leased)


class Lanes(Generic[Item]):
    """Run work(item) for each chat's items, one after the other; work returns the chat's next item."""

    def __init__(
        self,
        work: Callable[[Item], Awaitable[Item | None]],
        chat_of: Callable[[Item], Hashable],
        on_free: Callable[[], None],
    ) -> None:
        self._work = work
        self._chat_of = chat_of
        self._on_free = on_free
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}
        self._current: dict[Hashable, Item] = {}
        self._waiting: dict[Hashable, list[Item]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, item: Item) -> None:
        """Work on item now, or after what its chat's lane is doing."""
        chat = self._chat_of(item)
        if chat in self._tasks:
            current = self._current.get(chat)
            waiting = self._waiting.setdefault(chat, [])
            # The same row again (its lease lapsed while it was worked on, a clock moved on): once is enough.
            if (current is None or current.id != item.id) and all(other.id != item.id for other in waiting):
                waiting.append(item)
            return
        task = asyncio.create_task(self._lane(chat, item))
        self._tasks[chat] = task
        task.add_done_callback(lambda _: self._finished(chat))

    def held(self) -> list[int]:
        """Return the ids of the rows held: being worked on, or waiting for their lane."""
        ids = [item.id for item in self._current.values()]
        return ids + [item.id for waiting in self._waiting.values() for item in waiting]

    async def wait(self) -> None:
        """Wait until every lane is done."""
        while self._tasks:
            await asyncio.wait(set(self._tasks.values()))

    async def _lane(self, chat: Hashable, first: Item) -> None:
        item: Item | None = first
        while item is not None:
            self._current[chat] = item
            item = await self._work(item)
            if item is None and self._waiting.get(chat):
                item = self._waiting[chat].pop(0)

    def _finished(self, chat: Hashable) -> None:
        del self._tasks[chat]
        self._current.pop(chat, None)
        waiting = self._waiting.pop(chat, [])
        if waiting:
            # Handed over between the lane's last look and its end: a new lane takes them.
            first, *rest = waiting
            self.add(first)
            self._waiting[chat] = rest
        self._on_free()


async def wait_for_wakeup(wakeup: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    """Wait until woken, stopped, or timeout seconds have passed."""
    waiters = {asyncio.ensure_future(wakeup.wait()), asyncio.ensure_future(stop.wait())}
    _, pending = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()


class QueueWorker(Generic[Item]):
    """Work through a queue table's rows in lanes, renewing the leases held.

    Takes what waits when woken (and every few seconds), and works on what is handed over. The inbox
    worker and the outbox dispatcher are two of these.
    """

    def __init__(
        self,
        *,
        inline: bool,
        concurrency: int,
        poll_seconds: float,
        chat_of: Callable[[Item], Hashable],
        what: str,
    ) -> None:
        self._inline = inline
        self._concurrency = concurrency
        self._poll_seconds = poll_seconds
        self._what = what
        self._lanes: Lanes[Item] = Lanes(self._work, chat_of, self._lane_ended)
        self._full = False
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _take(self, limit: int) -> list[Item]:
        """Lease up to limit rows, each its chat's oldest (a database call)."""
        raise NotImplementedError

    async def _work(self, item: Item) -> Item | None:
        """Work on one row; return its chat's next row, leased, or None."""
        raise NotImplementedError

    def _renew(self, ids: list[int]) -> None:
        """Renew the leases of these rows (a database call)."""
        raise NotImplementedError

    def wake(self) -> None:
        """Ask for a look at what waits, now; safe from any thread."""
        self._call_soon(self._set_wakeup)

    def hand_over(self, items: Sequence[Item]) -> None:
        """Work on rows this process has leased (on the worker's event loop)."""
        for item in items:
            self._lanes.add(item)

    def _call_soon(self, callback: Callable[[], None]) -> None:
        if self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the bot is stopping
            self._loop.call_soon_threadsafe(callback)

    def _set_wakeup(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until stop is set; what is being worked on then is finished, the rest waits for later."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        renewer = asyncio.create_task(self._renew_leases(stop))
        try:
            while not stop.is_set():
                self._wakeup.clear()
                try:
                    free = self._concurrency - len(self._lanes)
                    taken = await call_database(self._inline, self._take, free) if free > 0 else []
                    # No room, or as many as there was room for: more may wait, look again when a lane ends.
                    self._full = free <= 0 or len(taken) >= free
                    self.hand_over(taken)
                except Exception:
                    log.exception("%s: taking rows failed; trying again shortly", self._what)
                await wait_for_wakeup(self._wakeup, stop, self._poll_seconds)
        finally:
            await self._lanes.wait()
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    def _lane_ended(self) -> None:
        if self._full:
            self._full = False
            self._set_wakeup()  # rows may have been left for want of room

    async def _renew_leases(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(RENEW_EVERY)
            try:
                await call_database(self._inline, self._renew, self._lanes.held())
            except Exception:
                log.warning("%s: leases not renewed", self._what, exc_info=True)
