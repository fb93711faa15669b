"""Lanes: one task per chat working through its items in order, chats in parallel.

The inbox worker and the outbox dispatcher both hold rows leased from a queue table. Working on one
row returns the chat's next row, leased in the same transaction, so a lane goes on without asking the
table again. A row handed over for a chat whose lane is busy waits for that lane.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar


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
