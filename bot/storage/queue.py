"""Leasing the oldest row of each chat from a queue table (the inbox, the outbox).

A row is taken only when no older row of the same chat is left, whoever holds it: one chat's rows are
handled one after the other, in order, even by several processes; different chats go in parallel.
A lease is an instant: the holder renews it while it works; past it (the holder died), another takes
the row again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, exists, or_, select, update
from sqlalchemy.orm import Session


def take_heads(
    session: Session,
    table: Table,
    chat_column: str,
    *,
    now: datetime,
    lease: timedelta,
    channels: Collection[str],
    limit: int,
    chat: str | None = None,
    extra: Sequence[ColumnElement[bool]] = (),
    count_attempt: bool = False,
) -> list[Row[Any]]:
    """Lease the oldest row of up to limit chats that have nothing older, held or not; return them."""
    older = table.alias("older")
    chat_of, older_chat = table.c[chat_column], older.c[chat_column]
    query = (
        select(table)
        .where(
            table.c.channel.in_(list(channels)),
            or_(table.c.leased_until.is_(None), table.c.leased_until < now),
            ~exists().where(
                older.c.channel == table.c.channel, older_chat == chat_of, older.c.id < table.c.id
            ),
            *extra,
        )
        .order_by(table.c.id)
        .limit(limit)
    )
    if chat is not None:
        query = query.where(chat_of == chat)
    if session.get_bind().dialect.name != "sqlite":
        # Two processes taking at once: the second skips the rows the first is taking, and their
        # chats' later rows are not heads while those rows exist (SQLite: one writer at a time).
        query = query.with_for_update(of=table, skip_locked=True)
    rows = list(session.execute(query))
    if rows:
        values: dict[str, Any] = {"leased_until": now + lease}
        if count_attempt:
            values["attempts"] = table.c.attempts + 1
        session.execute(update(table).where(table.c.id.in_([row.id for row in rows])).values(**values))
    return rows


def renew_leases(session: Session, table: Table, ids: Collection[int], until: datetime) -> None:
    """Keep holding these rows until the given instant (the work on them is still going on)."""
    if ids:
        session.execute(update(table).where(table.c.id.in_(list(ids))).values(leased_until=until))
