from __future__ import annotations

import contextlib
import math
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.common.clock import BRUSSELS
from bot.files.office_hours import (
    LOOKAHEAD_DAYS,
    OfficeHours,
    TimeRange,
    french_day_and_time,
    french_time,
    office_hours_from,
    parse_closed_dates,
    parse_office_hours,
)

STANDARD_SETTING = "lun-jeu 09:00-12:00 13:00-16:30; ven 09:00-12:00"
STANDARD = parse_office_hours(STANDARD_SETTING)
# Christmas week 2026: 25 December and 1 January are public holidays, the centre closes the rest.
CHRISTMAS_CLOSURE = [date(2026, 12, 24), *(date(2026, 12, day) for day in range(28, 32))]
# Open through the night of the clock changes, to see ranges that lose or gain an hour.
NIGHT_SHIFT = parse_office_hours("sam-dim 01:00-04:00 09:00-12:00")


def brussels(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return the UTC instant when Brussels clocks show this date and time (the first one, in October)."""
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Parsing


def test_parse_the_usual_schedule() -> None:
    assert STANDARD.weekly[0] == (TimeRange(time(9), time(12)), TimeRange(time(13), time(16, 30)))
    assert STANDARD.weekly[3] == STANDARD.weekly[0]
    assert STANDARD.weekly[4] == (TimeRange(time(9), time(12)),)
    assert STANDARD.weekly[5] == STANDARD.weekly[6] == ()
    assert not STANDARD.is_empty
    assert STANDARD.as_setting() == STANDARD_SETTING


@pytest.mark.parametrize(
    "setting",
    [
        "Lundi - Jeudi 9h-12h, 13h-16h30 ; Vendredi 9h00 – 12h00;",
        "lun,mar,mer,jeu 09:00-12:00 13:00-16:30; ven 9:00-12:00",
        "lun-jeu 13:00-16:30; lun-ven 09:00-12:00",
        "  lun.-jeu. 09:00-12:00  13:00-16:30 ;; ven 09:00-12:00  ",
    ],
)
def test_parse_accepts_what_an_admin_may_write(setting: str) -> None:
    assert parse_office_hours(setting) == STANDARD


def test_parse_lists_and_touching_ranges() -> None:
    hours = parse_office_hours("lun,mer,sam 08:00-10:00 10:00-11:00")
    assert (
        hours.as_setting()
        == "lun 08:00-10:00 10:00-11:00; mer 08:00-10:00 10:00-11:00; sam 08:00-10:00 10:00-11:00"
    )
    assert hours.is_open(brussels(2026, 11, 30, 10))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("lun 13:00-12:00", 'heures de bureau : "13:00-12:00" : la fin doit être après le début'),
        ("lun 09:00-09:00", '"09:00-09:00" : la fin doit être après le début'),
        ("lum 09:00-12:00", '"lum" : jour inconnu'),
        ("lun-vend 09:00-12:00", '"lun-vend" : jour inconnu'),
        ("lun-mar-mer 09:00-12:00", '"lun-mar-mer" : jour inconnu'),
        ("ven-lun 09:00-12:00", '"ven-lun" : le premier jour doit venir avant le dernier'),
        ("lun 25:00-26:00", '"25:00-26:00" : heure impossible'),
        ("lun 09:60-12:00", '"09:60-12:00" : heure impossible'),
        ("lun 9.00-12.00", '"9.00-12.00" : heure illisible'),
        ("lun 09:00", '"09:00" : il faut un début et une fin'),
        ("lun-ven", '"lun-ven" : il manque les heures'),
        ("09:00-12:00", '"09:00-12:00" : il manque les jours'),
        ("lun 09:00-12:00 11:00-13:00", '"09:00-12:00" et "11:00-13:00" se chevauchent le lundi'),
        ("lun-ven 09:00-12:00; mer 11:30-14:00", '"09:00-12:00" et "11:30-14:00" se chevauchent le mercredi'),
        ("lun ٠٩:٠٠-١٢:٠٠", "heure illisible"),
    ],
)
def test_parse_names_the_wrong_part(setting: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_office_hours(setting)
    assert message in str(raised.value)
    assert str(raised.value).startswith("heures de bureau : ")


@given(st.text())
def test_parse_raises_only_value_error(setting: str) -> None:
    with contextlib.suppress(ValueError):
        parse_office_hours(setting)


# Settings shaped like real ones, with days and hours often wrong, missing or overlapping.
NEAR_MISS = (
    r"(((lun|mer|Ven|dim|lum)([-,](lun|jeu|dim))?)? "
    r"((2[0-5]|[01]?[0-9])[:h]([0-6][0-9])?[-–](2[0-5]|[01]?[0-9])[:h]([0-6][0-9])?[ ,]?){0,3};?){1,3}"
)


@given(st.from_regex(NEAR_MISS, fullmatch=True))
def test_parse_raises_only_value_error_on_near_misses(setting: str) -> None:
    try:
        hours = parse_office_hours(setting)
    except ValueError:
        return
    assert parse_office_hours(hours.as_setting()) == hours


@st.composite
def weekly_schedules(draw: st.DrawFn) -> OfficeHours:
    weekly = []
    for _ in range(7):
        boundaries = sorted(draw(st.sets(st.integers(0, 24 * 60 - 1), max_size=6)))
        ranges = [
            TimeRange(time(*divmod(start, 60)), time(*divmod(end, 60)))
            for start, end in zip(boundaries[::2], boundaries[1::2], strict=False)
        ]
        weekly.append(tuple(ranges))
    return OfficeHours(tuple(weekly))


@given(weekly_schedules())
def test_setting_text_reads_back_the_same(hours: OfficeHours) -> None:
    assert parse_office_hours(hours.as_setting()) == hours


# Centre closures and settings


def test_parse_closed_dates() -> None:
    assert parse_closed_dates("") == parse_closed_dates(" , ") == frozenset()
    assert parse_closed_dates("2026-12-24, 2026-12-28..2026-12-31") == frozenset(CHRISTMAS_CLOSURE)
    assert parse_closed_dates("24/12/2026,28/12/2026 .. 31/12/2026") == frozenset(CHRISTMAS_CLOSURE)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("2026-02-30", 'fermetures du centre : "2026-02-30" : date invalide'),
        ("24-12-2026", '"24-12-2026" : date invalide'),
        ("2026-12-31..2026-12-28", '"2026-12-31..2026-12-28" : la fin doit être après le début'),
        ("2026-12-24..2062-12-24", '"2026-12-24..2062-12-24" : plus de 400 jours'),
        ("2026-12-28..", '"2026-12-28.." : date invalide'),
    ],
)
def test_parse_closed_dates_names_the_wrong_part(setting: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_closed_dates(setting)
    assert message in str(raised.value)


@given(st.text())
def test_parse_closed_dates_raises_only_value_error(setting: str) -> None:
    with contextlib.suppress(ValueError):
        parse_closed_dates(setting)


def test_office_hours_from_the_settings() -> None:
    hours = office_hours_from(STANDARD_SETTING, "2026-12-24")
    assert hours is not None
    assert hours.weekly == STANDARD.weekly
    assert hours.closed_dates == {date(2026, 12, 24)}
    assert office_hours_from(" ", "") is None


# An empty schedule


@pytest.mark.parametrize("setting", ["", "   ", " ; ;"])
def test_empty_schedule_is_never_open(setting: str) -> None:
    hours = parse_office_hours(setting)
    at = utc(2026, 11, 30, 10)
    assert hours.is_empty
    assert hours == OfficeHours()
    assert not hours.is_open(at)
    assert hours.next_opening(at) is None
    assert hours.describe_next_opening(at) == "la réouverture du centre"
    assert hours.open_minutes_between(at, at + timedelta(days=30)) == 0
    assert hours.instant_after_open_minutes(at, 30) is None
    assert hours.instant_after_open_minutes(at, 0) == at
    assert hours.closing_time(date(2026, 11, 30)) is None


# An ordinary week


def test_friday_evening_waits_for_monday_morning() -> None:
    friday_evening = brussels(2026, 11, 27, 18)
    monday_morning = brussels(2026, 11, 30, 9)
    assert not STANDARD.is_open(friday_evening)
    assert STANDARD.next_opening(friday_evening) == monday_morning == utc(2026, 11, 30, 8)
    assert STANDARD.describe_next_opening(friday_evening) == "lundi 30 novembre à 9 h"
    assert STANDARD.open_minutes_between(friday_evening, monday_morning) == 0
    # A ticket left at 11:45 on Friday: 15 minutes count on Friday, the other 15 on Monday.
    ticket = brussels(2026, 11, 27, 11, 45)
    assert STANDARD.instant_after_open_minutes(ticket, 30) == brussels(2026, 11, 30, 9, 15)
    assert STANDARD.open_minutes_between(ticket, brussels(2026, 11, 30, 9, 15)) == 30


def test_lunch_break_does_not_count() -> None:
    monday = (2026, 11, 30)
    assert STANDARD.is_open(brussels(*monday, 11, 59))
    assert not STANDARD.is_open(brussels(*monday, 12))
    assert not STANDARD.is_open(brussels(*monday, 12, 30))
    assert STANDARD.is_open(brussels(*monday, 13))
    assert not STANDARD.is_open(brussels(*monday, 16, 30))
    assert STANDARD.next_opening(brussels(*monday, 12, 30)) == brussels(*monday, 13)
    assert STANDARD.describe_next_opening(brussels(*monday, 12, 30)) == "aujourd'hui à 13 h"
    assert STANDARD.open_minutes_between(brussels(*monday, 11), brussels(*monday, 14)) == 120
    assert STANDARD.instant_after_open_minutes(brussels(*monday, 11, 45), 30) == brussels(*monday, 13, 15)
    # Exactly used up when the morning ends: the answer is noon, not the end of the lunch break.
    assert STANDARD.instant_after_open_minutes(brussels(*monday, 11, 30), 30) == brussels(*monday, 12)


def test_open_now_answers_now() -> None:
    at = brussels(2026, 11, 30, 10, 7)
    assert STANDARD.is_open(at)
    assert STANDARD.next_opening(at) == at
    assert STANDARD.describe_next_opening(at) == "maintenant"


def test_closing_time() -> None:
    assert (
        STANDARD.closing_time(date(2026, 11, 30))
        == brussels(2026, 11, 30, 16, 30)
        == utc(2026, 11, 30, 15, 30)
    )
    assert STANDARD.closing_time(date(2026, 11, 27)) == utc(2026, 11, 27, 11)
    assert STANDARD.closing_time(date(2026, 11, 28)) is None
    assert STANDARD.closing_time(date(2026, 11, 11)) is None


def test_naive_instants_are_taken_as_utc_like_the_rest_of_the_bot() -> None:
    assert STANDARD.next_opening(datetime(2026, 11, 27, 17)) == utc(2026, 11, 30, 8)


def test_minutes_must_be_a_finite_positive_number() -> None:
    for minutes in (-1, math.nan, math.inf):
        with pytest.raises(ValueError):
            STANDARD.instant_after_open_minutes(utc(2026, 11, 30, 8), minutes)


# Closed days


def test_armistice_day_is_closed() -> None:
    # 11 November 2026 is a Wednesday.
    tuesday_evening = brussels(2026, 11, 10, 17)
    assert not STANDARD.is_open(brussels(2026, 11, 11, 10))
    assert STANDARD.next_opening(tuesday_evening) == brussels(2026, 11, 12, 9)
    assert STANDARD.describe_next_opening(tuesday_evening) == "jeudi 12 novembre à 9 h"
    assert STANDARD.open_minutes_between(brussels(2026, 11, 10, 16), brussels(2026, 11, 12, 10)) == 90


def test_easter_monday_is_closed_but_not_good_friday() -> None:
    assert STANDARD.is_open(brussels(2026, 4, 3, 10))
    assert not STANDARD.is_open(brussels(2026, 4, 6, 10))
    assert STANDARD.next_opening(brussels(2026, 4, 3, 12)) == brussels(2026, 4, 7, 9)
    assert STANDARD.describe_next_opening(brussels(2026, 4, 3, 12)) == "mardi 7 avril à 9 h"


def test_labour_day_is_closed() -> None:
    # 1 May 2026 is a Friday: from Thursday evening, nothing opens before Monday.
    assert STANDARD.next_opening(brussels(2026, 4, 30, 16, 30)) == brussels(2026, 5, 4, 9)
    assert STANDARD.instant_after_open_minutes(brussels(2026, 4, 30, 16), 60) == brussels(2026, 5, 4, 9, 30)


def test_extra_closure_dates() -> None:
    hours = parse_office_hours(STANDARD_SETTING, closed_dates=CHRISTMAS_CLOSURE)
    wednesday_evening = brussels(2026, 12, 23, 17)
    assert STANDARD.next_opening(wednesday_evening) == brussels(2026, 12, 24, 9)
    assert hours.next_opening(wednesday_evening) == brussels(2027, 1, 4, 9)
    assert hours.describe_next_opening(wednesday_evening) == "lundi 4 janvier à 9 h"
    assert hours.closing_time(date(2026, 12, 24)) is None
    assert hours.open_minutes_between(wednesday_evening, brussels(2027, 1, 4, 9)) == 0


def test_search_gives_up_after_the_lookahead() -> None:
    # From Monday 4 January 2027, the last day looked at is Tuesday 8 February 2028.
    start = date(2027, 1, 4)
    closed = [start + timedelta(days=offset) for offset in range(LOOKAHEAD_DAYS + 1)]
    hours = parse_office_hours(STANDARD_SETTING, closed_dates=closed)
    at = brussels(2027, 1, 4)
    assert hours.next_opening(at) is None
    assert hours.instant_after_open_minutes(at, 1) is None
    assert hours.describe_next_opening(at) == "la réouverture du centre"
    last_day_open = parse_office_hours(STANDARD_SETTING, closed_dates=closed[:-1])
    assert last_day_open.next_opening(at) == brussels(2028, 2, 8, 9)


# Daylight saving time (29 March and 25 October 2026)


def test_spring_change_moves_the_utc_opening_by_an_hour() -> None:
    assert STANDARD.next_opening(brussels(2026, 3, 27, 18)) == utc(2026, 3, 30, 7)
    assert STANDARD.next_opening(brussels(2026, 3, 20, 18)) == utc(2026, 3, 23, 8)
    # Friday 09:00 (UTC+1) to Monday 12:00 (UTC+2): two mornings of 3 hours each.
    assert STANDARD.open_minutes_between(utc(2026, 3, 27, 8), utc(2026, 3, 30, 10)) == 360
    assert STANDARD.instant_after_open_minutes(brussels(2026, 3, 27, 11, 30), 60) == utc(2026, 3, 30, 7, 30)
    assert STANDARD.closing_time(date(2026, 3, 30)) == utc(2026, 3, 30, 14, 30)


def test_autumn_change_moves_the_utc_opening_by_an_hour() -> None:
    assert STANDARD.next_opening(brussels(2026, 10, 23, 18)) == utc(2026, 10, 26, 8)
    assert STANDARD.next_opening(brussels(2026, 10, 16, 18)) == utc(2026, 10, 19, 7)
    assert STANDARD.open_minutes_between(utc(2026, 10, 23, 7), utc(2026, 10, 26, 11)) == 360
    assert STANDARD.describe_next_opening(utc(2026, 10, 25, 22, 59)) == "demain à 9 h"
    assert STANDARD.describe_next_opening(utc(2026, 10, 25, 23)) == "aujourd'hui à 9 h"


def test_mornings_last_three_hours_on_the_days_the_clocks_change() -> None:
    for sunday in (date(2026, 3, 29), date(2026, 10, 25)):
        periods = NIGHT_SHIFT.open_periods(sunday)
        morning_start, morning_end = periods[-1]
        assert morning_end - morning_start == timedelta(hours=3)
        assert morning_start.astimezone(BRUSSELS).hour == 9


def test_night_ranges_follow_the_clocks() -> None:
    # 01:00-04:00 lasts 2 hours when 02:00 becomes 03:00, and 4 hours when 03:00 becomes 02:00 again.
    assert NIGHT_SHIFT.open_minutes_between(utc(2026, 3, 28, 22), utc(2026, 3, 29, 6)) == 120
    assert NIGHT_SHIFT.open_minutes_between(utc(2026, 10, 24, 21), utc(2026, 10, 25, 6)) == 240
    assert NIGHT_SHIFT.is_open(utc(2026, 3, 29, 1, 30))
    assert NIGHT_SHIFT.closing_time(date(2026, 3, 29)) == utc(2026, 3, 29, 10)


def test_a_range_inside_the_skipped_hour_is_empty_that_day() -> None:
    hours = parse_office_hours("dim 01:00-02:30 02:30-03:00 03:00-04:00")
    # 02:30 does not exist on 29 March: the first range ends, and the third starts, when clocks jump.
    assert hours.open_periods(date(2026, 3, 29)) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 1)),
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),
    ]
    assert hours.open_minutes_between(utc(2026, 3, 28), utc(2026, 3, 30)) == 120
    # 02:30 happens twice on 25 October: ranges start at the first one.
    assert hours.open_periods(date(2026, 10, 25))[1] == (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2))


# French wording


def test_french_wording() -> None:
    now = brussels(2026, 11, 29, 20)
    assert french_time(brussels(2026, 11, 30, 9)) == "9 h"
    assert french_time(brussels(2026, 11, 30, 13, 30)) == "13 h 30"
    assert french_time(brussels(2026, 11, 30, 9, 5)) == "9 h 05"
    assert french_day_and_time(brussels(2026, 11, 30, 13, 30), now) == "demain à 13 h 30"
    assert french_day_and_time(brussels(2026, 12, 1, 9), now) == "mardi 1er décembre à 9 h"
    assert french_day_and_time(brussels(2027, 8, 16, 9), now) == "lundi 16 août 2027 à 9 h"
    afternoons = parse_office_hours("lun-ven 13:30-16:00")
    assert afternoons.describe_next_opening(brussels(2026, 11, 30, 17)) == "demain à 13 h 30"


# Properties

SCHEDULES = [
    STANDARD,
    parse_office_hours(STANDARD_SETTING, closed_dates=CHRISTMAS_CLOSURE),
    NIGHT_SHIFT,
    parse_office_hours("dim 01:00-02:30 02:30-03:00 03:00-04:00; mer 00:00-23:59"),
]
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
spans = st.timedeltas(min_value=timedelta(), max_value=timedelta(days=20))
around_the_changes = [utc(2026, 3, 28, 23, 30), utc(2026, 10, 24, 23, 45), utc(2026, 3, 27, 11, 59)]


@given(st.sampled_from(SCHEDULES), instants, spans, spans)
@example(NIGHT_SHIFT, around_the_changes[0], timedelta(hours=2), timedelta(hours=5))
@example(NIGHT_SHIFT, around_the_changes[1], timedelta(hours=3), timedelta(hours=1))
def test_open_minutes_are_additive_and_never_negative(
    hours: OfficeHours, start: datetime, first: timedelta, second: timedelta
) -> None:
    middle, end = start + first, start + first + second
    whole = hours.open_minutes_between(start, end)
    assert whole == pytest.approx(
        hours.open_minutes_between(start, middle) + hours.open_minutes_between(middle, end), abs=1e-6
    )
    assert 0 <= whole <= (end - start) / timedelta(minutes=1)
    assert hours.open_minutes_between(end, start) == 0


@given(st.sampled_from(SCHEDULES), instants, st.floats(min_value=0.001, max_value=5000))
@example(STANDARD, around_the_changes[2], 1.0)
@example(NIGHT_SHIFT, around_the_changes[0], 90.0)
def test_instant_after_open_minutes_inverts_open_minutes_between(
    hours: OfficeHours, start: datetime, minutes: float
) -> None:
    deadline = hours.instant_after_open_minutes(start, minutes)
    assert deadline is not None
    assert hours.open_minutes_between(start, deadline) == pytest.approx(minutes, abs=1e-6)
    # The first such instant: a moment earlier, the minutes were not all there.
    assert hours.open_minutes_between(start, deadline - timedelta(milliseconds=1)) < minutes


@given(st.sampled_from(SCHEDULES), instants)
@example(NIGHT_SHIFT, around_the_changes[0])
def test_next_opening_is_open_and_nothing_opens_before(hours: OfficeHours, at: datetime) -> None:
    opening = hours.next_opening(at)
    assert opening is not None
    assert opening >= at
    assert hours.is_open(opening)
    assert hours.open_minutes_between(at, opening) == 0
    assert (opening == at) == hours.is_open(at)
    closing = hours.closing_time(opening.astimezone(BRUSSELS).date())
    assert closing is not None
    assert closing > opening


def test_a_schedule_built_in_code_is_checked_too() -> None:
    with pytest.raises(ValueError, match="la fin doit être après le début"):
        TimeRange(time(12), time(9))
    with pytest.raises(ValueError, match="se chevauchent le dimanche"):
        OfficeHours(((),) * 6 + ((TimeRange(time(9), time(12)), TimeRange(time(10), time(11))),))
    with pytest.raises(ValueError):
        OfficeHours(((),) * 5)
