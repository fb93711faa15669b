"""Leasing the oldest row of each chat from a queue table (the inbox, the outbox).

A row is taken only when no older row of the same chat is left, whoever holds it: one chat's rows are
handled one after the other, in order, even by several processes; different chats go in parallel.
A lease is an instant: the holder renews it while it works; past it (the holder died), another takes
the row again.

Every message goes through these statements: each is built once (taking is one UPDATE ... RETURNING,
one round trip) and run on a connection, without the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Table, Update, bindparam, delete, exists, or_, select, update
from sqlalchemy.sql.expression import Delete


@functools.cache
def _take_statement(
    table: Table, chat_column: str, dialect: str, *, some_chats: bool, due_column: str | None
) -> Update:
    older = table.alias("older")
    chat_of = table.c[chat_column]
    candidates = (
        select(table.c.id)
        .where(
            table.c.channel.in_(bindparam("channels", expanding=True)),
            or_(table.c.leased_until.is_(None), table.c.leased_until < bindparam("now")),
            ~exists().where(
                older.c.channel == table.c.channel, older.c[chat_column] == chat_of, older.c.id < table.c.id
            ),
        )
        .order_by(table.c.id)
        .limit(bindparam("limit"))
    )
    if some_chats:
        candidates = candidates.where(chat_of.in_(bindparam("chats", expanding=True)))
    if due_column is not None:
        candidates = candidates.where(table.c[due_column] <= bindparam("now"))
    if dialect != "sqlite":
        # Two processes taking at once: the second skips the rows the first is taking, and their
        # chats' later rows are not heads while those rows exist (SQLite: one writer at a time).
        candidates = candidates.with_for_update(skip_locked=True)
    return (
        update(table)
        .where(table.c.id.in_(candidates.scalar_subquery()))
        .values(leased_until=bindparam("until"), attempts=table.c.attempts + bindparam("increment"))
        .returning(*table.c)
    )


def take_heads(
    connection: Connection,
    table: Table,
    chat_column: str,
    *,
    now: datetime,
    lease: timedelta,
    channels: Collection[str],
    limit: int,
    chats: Collection[str] | None = None,
    due_column: str | None = None,
    count_attempt: bool = False,
) -> list[Row[Any]]:
    """Lease the oldest row of up to limit chats that have nothing older, held or not; oldest first.

    With chats, only theirs. The rows are returned as they are after the lease.
    """
    dialect = connection.dialect.name
    statement = _take_statement(
        table, chat_column, dialect, some_chats=chats is not None, due_column=due_column
    )
    values: dict[str, Any] = {
        "channels": list(channels),
        "now": now,
        "limit": limit,
        "until": now + lease,
        "increment": 1 if count_attempt else 0,
    }
    if chats is not None:
        if not chats:
            return []
        values["chats"] = list(chats)
    rows = connection.execute(statement, values).all()
    return sorted(rows, key=lambda row: row.id)


@functools.cache
def _renew_statement(table: Table) -> Update:
    return (
        update(table)
        .where(table.c.id.in_(bindparam("ids", expanding=True)))
        .values(leased_until=bindparam("until"))
    )


def renew_leases(connection: Connection, table: Table, ids: Collection[int], until: datetime) -> None:
    """Keep holding these rows until the given instant (the work on them is still going on)."""
    if ids:
        connection.execute(_renew_statement(table), {"ids": list(ids), "until": until})


@functools.cache
def _delete_statement(table: Table) -> Delete:
    return delete(table).where(table.c.id == bindparam("row_id"))


def delete_row(connection: Connection, table: Table, row_id: int) -> None:
    """Delete one row by its id (a message handled, a push sent)."""
    connection.execute(_delete_statement(table), {"row_id": row_id})
