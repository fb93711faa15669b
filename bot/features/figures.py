"""The figures the staff see in pictures: counts per day, kept without anything that identifies a person.

Questions are counted as they are answered (answered, suggested, not understood; which entry answered),
one row per day and kind, never with a person or a message. What other tables already hold (requests,
appointments, reminders) is read from them. `/oublier` has nothing to erase here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.common.clock import BRUSSELS, as_utc
from bot.core.feature import Feature
from bot.core.turn import Services
from bot.storage.models import Appointment, AppointmentStatus, DailyCount, Reminder, Ticket

# Four weeks: long enough to see a trend, short enough for a phone screen.
DAYS_SHOWN = 28
# Counts are kept a year: a centre compares this term with the same weeks of last year.
KEPT_DAYS = 400
QUESTION_KINDS = ("answer", "suggest", "fallback")
ENTRY_COUNT = "entry"


def count(session: Session, now: datetime, name: str, key: str = "") -> None:
    """Add one to today's count of name (and key: an entry's id), in the caller's transaction."""
    day = as_utc(now).astimezone(BRUSSELS).date()
    values = {"day": day, "name": name, "key": key[:80], "count": 1}
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(DailyCount).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "name", "key"], set_={"count": DailyCount.count + 1}
    )
    session.execute(statement)


@dataclass(frozen=True)
class Series:
    """One figure per day over the days shown, oldest first."""

    label: str
    values: list[int]

    @property
    def total(self) -> int:
        """Return the sum over the days."""
        return sum(self.values)


@dataclass(frozen=True)
class Figures:
    """What the stats page shows."""

    days: list[date]
    questions: list[Series]
    top_entries: list[tuple[str, int]]
    requests: Series
    waiting_minutes_median: float | None
    appointments: list[Series]
    reminders: list[Series]


def _days(now: datetime) -> list[date]:
    today = as_utc(now).astimezone(BRUSSELS).date()
    return [today - timedelta(days=DAYS_SHOWN - 1 - offset) for offset in range(DAYS_SHOWN)]


def _by_day(days: list[date], moments: list[datetime]) -> list[int]:
    index = {day: position for position, day in enumerate(days)}
    values = [0] * len(days)
    for moment in moments:
        position = index.get(as_utc(moment).astimezone(BRUSSELS).date())
        if position is not None:
            values[position] += 1
    return values


def figures(session: Session, now: datetime) -> Figures:
    """Gather the four weeks' figures: questions, entries most asked, requests, appointments, reminders."""
    days = _days(now)
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=BRUSSELS)
    rows = session.execute(
        select(DailyCount.day, DailyCount.name, DailyCount.key, DailyCount.count).where(
            DailyCount.day >= days[0]
        )
    ).all()
    counted: dict[str, list[int]] = {kind: [0] * len(days) for kind in QUESTION_KINDS}
    entries: dict[str, int] = {}
    position = {day: index for index, day in enumerate(days)}
    for day, name, key, value in rows:
        if name in counted and day in position:
            counted[name][position[day]] += value
        elif name == ENTRY_COUNT:
            entries[key] = entries.get(key, 0) + value
    labels = {"answer": "répondues", "suggest": "avec des propositions", "fallback": "pas comprises"}
    tickets = session.execute(
        select(Ticket.opened_at, Ticket.claimed_at).where(Ticket.opened_at >= since)
    ).all()
    waits = sorted(
        (as_utc(claimed) - as_utc(opened)).total_seconds() / 60 for opened, claimed in tickets if claimed
    )
    booked = session.scalars(select(Appointment.booked_at).where(Appointment.booked_at >= since)).all()
    missed = session.scalars(
        select(Appointment.starts_at).where(
            Appointment.starts_at >= since, Appointment.status == AppointmentStatus.NO_SHOW.value
        )
    ).all()
    sent = session.scalars(select(Reminder.sent_at).where(Reminder.sent_at >= since)).all()
    failed = session.scalars(
        select(Reminder.status_at).where(Reminder.status_at >= since, Reminder.delivery_status == "failed")
    ).all()
    return Figures(
        days=days,
        questions=[Series(labels[kind], counted[kind]) for kind in QUESTION_KINDS],
        top_entries=sorted(entries.items(), key=lambda item: (-item[1], item[0]))[:10],
        requests=Series("demandes", _by_day(days, [opened for opened, _ in tickets])),
        waiting_minutes_median=waits[len(waits) // 2] if waits else None,
        appointments=[
            Series("réservés", _by_day(days, [moment for moment in booked if moment])),
            Series("pas venu·e", _by_day(days, list(missed))),
        ],
        reminders=[
            Series("envoyés", _by_day(days, [moment for moment in sent if moment])),
            Series("pas arrivés", _by_day(days, [moment for moment in failed if moment])),
        ],
    )


def _purge_old_counts(session: Session, _services: Services, now: datetime) -> None:
    from sqlalchemy import delete

    oldest = as_utc(now).astimezone(BRUSSELS).date() - timedelta(days=KEPT_DAYS)
    session.execute(delete(DailyCount).where(DailyCount.day < oldest))


def question_total(session: Session, since: date) -> int:
    """Return how many questions were counted since a day (all outcomes)."""
    total = session.scalar(
        select(func.sum(DailyCount.count)).where(DailyCount.day >= since, DailyCount.name.in_(QUESTION_KINDS))
    )
    return int(total or 0)


FEATURE = Feature(
    name="figures",
    purges=(_purge_old_counts,),
    # Counts per day and kind: no person, no message.
    other_tables=frozenset({"daily_counts"}),
)
