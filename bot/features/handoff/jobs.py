"""Talking to a person: the periodic jobs (unclaimed requests escalated, the day's summary) and the purge."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from bot.common.clock import BRUSSELS, as_utc
from bot.config import Settings
from bot.core.messages import Reply
from bot.core.outbox import enqueue
from bot.core.turn import Services
from bot.features.handoff.actions import alert_staff, purge_closed
from bot.features.handoff.common import (
    button,
    display_name,
    filiere_of,
    list_line,
    spoken_when,
)
from bot.features.handoff.queries import open_tickets, staff_members
from bot.features.hours import OFFICE_HOURS
from bot.files.office_hours import OfficeHours
from bot.storage.models import (
    JobRun,
    Role,
    Ticket,
    TicketStatus,
    User,
)

log = logging.getLogger(__name__)


def escalate_unclaimed(session: Session, settings: Settings, hours: OfficeHours | None, now: datetime) -> int:
    """Alert the group again, and the admins, about tickets unclaimed after N minutes of office hours."""
    minutes = settings.handoff_escalation_minutes
    count = 0
    for ticket in session.scalars(
        select(Ticket).where(
            Ticket.status == TicketStatus.OPEN.value,
            Ticket.claimed_by_id.is_(None),
            Ticket.escalated_at.is_(None),
        )
    ):
        waited = (
            hours.open_minutes_between(ticket.opened_at, now)
            if hours is not None
            else (now - ticket.opened_at).total_seconds() / 60
        )
        if waited < minutes:
            continue
        ticket.escalated_at = now
        text = texts.TICKET_ESCALATED.format(id=ticket.id, name=display_name(ticket.trainee), minutes=minutes)
        claim_button = (button(f"claim.{ticket.id}", texts.BUTTON_CLAIM),)
        alert_staff(session, settings, now, [Reply(text, claim_button)], about=ticket, admins_too=True)
        count += 1
    if count:
        log.info("%d unclaimed tickets escalated", count)
    return count


def summarise_day(session: Session, settings: Settings, hours: OfficeHours | None, now: datetime) -> bool:
    """After the day's closing time, post the open tickets in the staff group, once per day."""
    if hours is None:
        return False
    today = as_utc(now).astimezone(BRUSSELS).date()
    closing = hours.closing_time(today)
    if closing is None or now < closing:
        return False
    period = today.isoformat()
    if session.get(JobRun, ("daily-summary", period)) is not None:
        return False
    session.add(JobRun(job="daily-summary", period=period, done_at=now))
    # Two processes racing: the primary key lets one insert; the other's transaction fails and rolls back.
    session.flush()
    tickets = open_tickets(session)
    if tickets:
        lines = [texts.TICKET_DAY_SUMMARY.format(count=len(tickets))]
        lines += [list_line(ticket, now) for ticket in tickets]
    else:
        lines = [texts.TICKET_DAY_SUMMARY_NONE]
    trainees = select(User).where(User.role == Role.TRAINEE.value)
    unreachable = session.scalars(trainees.where(User.unreachable_at.is_not(None)).order_by(User.id)).all()
    if unreachable:
        lines.append(texts.UNREACHABLE_TITLE)
        lines += [
            texts.UNREACHABLE_LINE.format(
                name=display_name(user),
                filiere=filiere_of(user),
                channel=texts.CHANNEL_NAMES.get(user.channel, user.channel),
                since=spoken_when(user.unreachable_at, now) if user.unreachable_at else "",
            )
            for user in unreachable
        ]
    summary = Reply("\n".join(lines))
    group = settings.staff_group
    if group is not None:
        enqueue(session, now, *group, [summary])
    else:
        for member in staff_members(session):
            enqueue(session, now, member.channel, member.external_id, [summary])
    return True


def escalation_job(session: Session, services: Services, now: datetime) -> None:
    """Remind the staff of requests nobody took (the periodic job)."""
    escalate_unclaimed(session, services.settings, services.get(OFFICE_HOURS), now)


def summary_job(session: Session, services: Services, now: datetime) -> None:
    """Post the day's summary of requests to the staff (the periodic job)."""
    summarise_day(session, services.settings, services.get(OFFICE_HOURS), now)


def purge_job(session: Session, services: Services, now: datetime) -> None:
    """Erase closed requests past their retention period."""
    purge_closed(session, now, services.settings.ticket_retention_days)
