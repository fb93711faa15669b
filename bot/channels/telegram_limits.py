"""Telegram's flood limits, kept without bursts: at most N messages in any one second, 20 a minute per group.

python-telegram-bot's AIORateLimiter lets a full second's worth through at once and then adds the rate on
top, and after a 429 it pauses every request *after* it took its place, so the waiting ones leave
together when the pause ends: against 2,000 reminders (bench/reminder_fanout.py) that meant hundreds of
429s and 13 to 29 % over the ideal time. Here each message takes a place before it is sent and gives
it back one period *after its answer arrived*: Telegram received the request before that answer, so it
never sees more than N in a period, whatever the network does. After a 429 everybody waits before
taking a place, so nothing piles up to leave at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

JSONAnswer = bool | dict[str, Any] | list[dict[str, Any]]


def _seconds(delay: int | float | timedelta) -> float:
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


class SlidingWindowRateLimiter(BaseRateLimiter[int]):
    """Keep Bot API sends under Telegram's limits, retrying a 429 after the time it asks for."""

    def __init__(
        self,
        overall_max_rate: float = 30,
        group_max_rate: float = 20,
        *,
        max_retries: int = 3,
        overall_period: float = 1.0,
        group_period: float = 60.0,
    ) -> None:
        self._rate = max(1, int(overall_max_rate))
        self._period = overall_period
        self._group_rate = max(1, int(group_max_rate))
        self._group_period = group_period
        self._max_retries = max_retries
        self._overall: asyncio.Semaphore | None = None
        self._groups: dict[int | str, asyncio.Semaphore] = {}
        self._resume_at = 0.0

    async def initialize(self) -> None:
        """Create the semaphores, on the running loop."""
        self._overall = asyncio.Semaphore(self._rate)

    async def shutdown(self) -> None:
        """Nothing to release: pending give-backs die with the loop."""

    @contextlib.asynccontextmanager
    async def _place(self, semaphore: asyncio.Semaphore, period: float) -> AsyncIterator[None]:
        await semaphore.acquire()
        try:
            yield
        finally:
            asyncio.get_running_loop().call_later(period, semaphore.release)

    async def _wait_for_resume(self) -> None:
        loop = asyncio.get_running_loop()
        while (wait := self._resume_at - loop.time()) > 0:
            await asyncio.sleep(wait)

    def _group_semaphore(self, chat: int | str) -> asyncio.Semaphore:
        # The bot only posts in the staff group (it ignores other groups): a few entries at most.
        semaphore = self._groups.get(chat)
        if semaphore is None:
            semaphore = self._groups[chat] = asyncio.Semaphore(self._group_rate)
        return semaphore

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONAnswer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONAnswer:
        """Send one request within the limits; wait out a 429 and try again, up to max_retries times."""
        chat: int | str | None = data.get("chat_id")
        if isinstance(chat, str):
            with contextlib.suppress(ValueError):
                chat = int(chat)
        # Groups and channels have negative ids or @names; a private chat's id is the user's.
        in_group = isinstance(chat, str) or (isinstance(chat, int) and chat < 0)
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        for attempt in range(retries + 1):
            async with contextlib.AsyncExitStack() as places:
                await self._wait_for_resume()
                if in_group and chat is not None:
                    group = self._group_semaphore(chat)
                    await places.enter_async_context(self._place(group, self._group_period))
                if chat is not None:
                    assert self._overall is not None, "initialize() first"
                    await places.enter_async_context(self._place(self._overall, self._period))
                await self._wait_for_resume()
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as error:
                    if attempt == retries:
                        raise
                    loop = asyncio.get_running_loop()
                    self._resume_at = max(self._resume_at, loop.time() + _seconds(error.retry_after))
        raise AssertionError("the loop returns or raises")
