from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.common.clock import FrozenClock, as_utc, local_date_text


def test_dates_are_shown_in_brussels_time_across_daylight_saving() -> None:
    # 23:30 UTC is already the next day in Brussels, in winter (UTC+1) and in summer (UTC+2).
    assert local_date_text(datetime(2026, 3, 28, 23, 30, tzinfo=UTC)) == "29/03/2026"
    assert local_date_text(datetime(2026, 3, 29, 22, 30, tzinfo=UTC)) == "30/03/2026"
    assert local_date_text(datetime(2026, 10, 24, 21, 59, tzinfo=UTC)) == "24/10/2026"
    assert local_date_text(datetime(2026, 10, 25, 22, 59, tzinfo=UTC)) == "25/10/2026"
    assert local_date_text(datetime(2026, 10, 25, 23, 0, tzinfo=UTC)) == "26/10/2026"


def test_frozen_clock_moves_only_when_told() -> None:
    clock = FrozenClock(datetime(2026, 3, 29, 0, 59, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(minutes=2))
    assert clock.now() == datetime(2026, 3, 29, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 1, 1))


def test_naive_values_read_from_sqlite_are_utc() -> None:
    assert as_utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
