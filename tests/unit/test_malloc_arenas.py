"""`cisp-bot run` asks glibc for one malloc arena (7 MB of resident memory, bench/telegram_throughput.py)."""

from __future__ import annotations

import platform

import pytest

from bot.runner import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_limit() -> None:
    assert limit_malloc_arenas() is True
