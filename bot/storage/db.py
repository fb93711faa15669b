"""Engine, sessions and migrations: SQLite (WAL) by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

P = ParamSpec("P")
T = TypeVar("T")


def normalize_url(url: str) -> str:
    """Pick psycopg 3 for a bare postgresql:// URL (SQLAlchemy would otherwise want psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """Create the engine; for SQLite, create the folder, enable WAL and serialise writers."""
    url = normalize_url(url)
    parsed = make_url(url)
    # hide_parameters: SQL errors are logged, and their parameters would be names and ids of trainees.
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy issue BEGIN itself (below), instead of pysqlite's deferred guess.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits, not
        # the file. FULL would wait for the disk at every message.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: two handlers of the same user can't interleave
        # a read and a write and lose an update (the SQLite equivalent of SELECT ... FOR UPDATE).
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory used by every unit of work."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(
    factory: sessionmaker[Session], *, undo: Callable[[], None] | None = None
) -> Iterator[Session]:
    """Open a session, commit when the block succeeds, roll back when it raises.

    undo: what to take back outside the database (a file written) when the block or its commit fails,
    run before the writer's lock is given back, so that no other writer sees what was not kept.
    """
    with _writer_lock(factory), factory() as session:
        try:
            with session.begin():
                yield session
        except BaseException:
            if undo is not None:
                undo()
            raise


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """Open a connection in a transaction, without the ORM: for the queues' small statements.

    Half the cost of a unit of work (measured): every message goes through a few of these.
    """
    engine = factory.kw.get("bind")
    assert isinstance(engine, Engine), "a session factory bound to an engine"
    with _writer_lock(factory), engine.begin() as connection:
        yield connection


def runs_inline(factory: sessionmaker[Session]) -> bool:
    """Say whether database calls are best made on the event loop: SQLite, a local file.

    A call there is a fraction of a millisecond and every write takes the one write lock anyway: a
    thread would cost more in hand-offs than it saves (measured). PostgreSQL means round trips and
    row locks that can wait: a thread, so that one wait never holds up the other chats.
    """
    engine = factory.kw.get("bind")
    return isinstance(engine, Engine) and engine.dialect.name == "sqlite"


async def call_database(inline: bool, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a synchronous database call on the event loop (inline) or in a thread."""
    if inline:
        return function(*args, **kwargs)
    return await asyncio.to_thread(function, *args, **kwargs)


# One lock per SQLite engine. SQLite has one writer at a time anyway; queueing the threads of this
# process here is much faster than letting SQLite's busy handler make them sleep and poll (a few ms
# each time, tens of ms under load). Other processes on the same file still wait on busy_timeout.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_SQLITE_WRITERS_GUARD = threading.Lock()


def _writer_lock(factory: sessionmaker[Session]) -> AbstractContextManager[object]:
    engine = factory.kw.get("bind")
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return nullcontext()
    with _SQLITE_WRITERS_GUARD:
        return _SQLITE_WRITERS.setdefault(engine, threading.Lock())
