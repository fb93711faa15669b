"""The Telegram rate limiter: never more than N sends in any period, 429s waited out, groups limited."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.channels.telegram_limits import SlidingWindowRateLimiter


async def test_never_more_than_the_rate_in_any_period() -> None:
    limiter = SlidingWindowRateLimiter(overall_max_rate=5, overall_period=0.2)
    await limiter.initialize()
    started: list[float] = []

    async def send(number: int) -> dict[str, Any]:
        started.append(time.monotonic())
        await asyncio.sleep(0.01)  # the answer takes a while: the place is held until it plus a period
        return {"ok": number}

    answers = await asyncio.gather(
        *(
            limiter.process_request(send, (n,), {}, "sendMessage", {"chat_id": 1000 + n}, None)
            for n in range(20)
        )
    )
    assert [answer["ok"] for answer in answers if isinstance(answer, dict)] == list(range(20))
    started.sort()
    for index in range(len(started) - 5):
        assert started[index + 5] - started[index] >= 0.2 - 0.005  # the 6th after any 5 waits a period
    assert started[-1] - started[0] < 1.0  # and it is not much slower than that


async def test_a_429_is_waited_out_by_everyone_then_retried() -> None:
    limiter = SlidingWindowRateLimiter(overall_max_rate=100, max_retries=2)
    await limiter.initialize()
    calls: list[float] = []

    async def flaky() -> dict[str, Any]:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RetryAfter(1)
        return {"ok": True}

    begun = time.monotonic()
    assert await limiter.process_request(flaky, (), {}, "sendMessage", {"chat_id": 7}, None) == {"ok": True}
    assert calls[1] - begun >= 0.99


async def test_gives_up_after_max_retries() -> None:
    limiter = SlidingWindowRateLimiter(max_retries=0)
    await limiter.initialize()

    async def always_limited() -> dict[str, Any]:
        raise RetryAfter(0)

    with pytest.raises(RetryAfter):
        await limiter.process_request(always_limited, (), {}, "sendMessage", {"chat_id": 7}, None)


async def test_groups_have_their_own_per_minute_limit_and_other_calls_pass() -> None:
    limiter = SlidingWindowRateLimiter(overall_max_rate=100, group_max_rate=2, group_period=0.3)
    await limiter.initialize()
    started: list[float] = []

    async def send() -> bool:
        started.append(time.monotonic())
        return True

    await asyncio.gather(
        *(limiter.process_request(send, (), {}, "sendMessage", {"chat_id": -100777}, None) for _ in range(4))
    )
    assert started[2] - started[0] >= 0.29
    # getUpdates, answerCallbackQuery...: no chat, no limit.
    assert await limiter.process_request(send, (), {}, "getMe", {}, None) is True
