"""Benchmark a reminder fan-out: 2,000 session reminders due at once, through the outbox to Telegram's limit.

    .venv/bin/python bench/reminder_fanout.py [--count 2000] [--rate 30] [--latency 0]

On SQLite (a temporary file), `count` consented trainees of one filière are enrolled in one module
session whose reminder is due now; `send_session_reminders` writes one outbox row each. Then the real
TelegramChannel (its rate limiter set to `rate` messages/s, as TELEGRAM_MESSAGES_PER_SECOND) and the
real outbox Dispatcher deliver them to the fake Bot API, which serves from a thread of its own, accepts
at most `rate` messages in any one second and answers Telegram's 429 "retry after 1" beyond; with
`--latency 0.03` it answers each call 30 ms later, as Telegram's servers over the internet.
Timed: from the dispatcher's start until every trainee's private chat has received its reminder.
Target: <= 1.15 x the ideal count / rate; no duplicate, nothing lost, the outbox empty afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot import texts  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.common.clock import SystemClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.inbox import Delivery, Received  # noqa: E402
from bot.core.messages import IncomingMessage  # noqa: E402
from bot.core.outbox import Dispatcher, Outbox  # noqa: E402
from bot.features.sessions import import_sessions, send_session_reminders  # noqa: E402
from bot.files.session_file import SessionRow  # noqa: E402
from bot.storage.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from bot.storage.migrate import upgrade_database  # noqa: E402
from bot.storage.models import Role, User  # noqa: E402
from tests.fakes.telegram_api import FakeBotApi  # noqa: E402

TOKEN = "123456:ABC-bench"
FIRST_USER = 10_000
FILIERE = "Horticulture"
TARGET_RATIO = 1.15
# After the last message arrives, the dispatcher still deletes the last rows (a few transactions).
DRAIN_TIMEOUT = 30.0


@dataclass
class Result:
    """What one fan-out measured."""

    written: int
    write_seconds: float
    elapsed: float
    refusals: int
    duplicates: int
    lost: int
    left_in_outbox: int


def seed(session_factory: sessionmaker[Session], settings: Settings, count: int, now: datetime) -> None:
    """Create consented trainees of one filière and import one session of theirs starting in 5 minutes."""
    with unit_of_work(session_factory) as session:
        session.add_all(
            User(
                channel="telegram",
                external_id=str(FIRST_USER + number),
                role=Role.TRAINEE.value,
                first_name="Stagiaire",
                filiere=FILIERE,
                consented_at=now,
                consent_version=texts.CONSENT_VERSION,
                created_at=now,
                last_seen_at=now,
            )
            for number in range(count)
        )
    # Starting 5 minutes from now, the "1h" reminder is due (55 minutes ago, well within the grace);
    # so soon, quiet hours hold nothing back either.
    starts_at = now + timedelta(minutes=5)
    row = SessionRow(
        key="bench-fanout",
        module="Sécurité sur chantier",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        place="Salle 2 (1er étage)",
        is_video=False,
        filieres=(FILIERE,),
        trainer="Marc",
        cancelled=False,
        line=2,
    )
    with unit_of_work(session_factory) as session:
        import_sessions(session, [row], settings, now)


class NoTrainee:
    """Receive nothing: only pushes are measured (no trainee writes during the fan-out)."""

    async def store(self, deliveries: Sequence[Delivery]) -> None:
        """Keep nothing."""

    async def answer(self, item: Received, message: IncomingMessage | None) -> None:
        """Answer nothing."""


async def deliver(
    api: FakeBotApi, settings: Settings, outbox: Outbox, count: int, timeout: float
) -> tuple[float, int]:
    """Run the channel and the dispatcher until every chat has its reminder; return (seconds, rows left)."""
    # Pushes only: no command is read.
    channel = TelegramChannel(settings, staff_commands=frozenset())
    await channel.start(NoTrainee())
    dispatcher = Dispatcher(outbox, {channel.name: channel})
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        await api.wait_until(
            lambda: len({message.chat_id for message in api.sent_messages()}) >= count,
            timeout=timeout,
            what=f"a reminder in each of {count} chats",
        )
        elapsed = time.perf_counter() - started
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while (left := await asyncio.to_thread(outbox.pending)) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await channel.stop()
    return elapsed, left


def fan_out(workdir: Path, count: int, rate: float, latency: float = 0.0) -> Result:
    """Write count reminders due now, deliver them through the flood-limited fake, check what arrived."""
    url = f"sqlite:///{workdir / 'fanout.sqlite3'}"
    engine = make_engine(url)
    upgrade_database(engine)
    session_factory = make_session_factory(engine)
    clock = SystemClock()
    now = clock.now()
    with FakeBotApi(token=TOKEN, max_messages_per_second=rate, latency=latency) as api:
        settings = Settings(
            _env_file=None,
            database_url=url,
            state_dir=workdir / "state",
            telegram_bot_token=TOKEN,
            telegram_api_url=api.base_url,
            telegram_messages_per_second=rate,
            session_reminders="1h",
        )
        seed(session_factory, settings, count, now)
        for number in range(count):
            api.add_user(FIRST_USER + number)
        write_started = time.perf_counter()
        with unit_of_work(session_factory) as session:
            written = send_session_reminders(session, settings, now)
        write_seconds = time.perf_counter() - write_started
        if written != count:
            raise SystemExit(f"{written} reminders written for {count} trainees: nothing to measure")
        outbox = Outbox(session_factory, clock)
        # Far beyond any plausible delivery time: a stuck run fails instead of hanging.
        elapsed, left = asyncio.run(deliver(api, settings, outbox, count, timeout=10 * count / rate + 60))
        per_chat = Counter(message.chat_id for message in api.sent_messages())
        refusals = api.flood_refusals
    engine.dispose()
    chats = range(FIRST_USER, FIRST_USER + count)
    return Result(
        written=written,
        write_seconds=write_seconds,
        elapsed=elapsed,
        refusals=refusals,
        duplicates=sum(1 for chat in chats if per_chat[chat] > 1),
        lost=sum(1 for chat in chats if per_chat[chat] == 0),
        left_in_outbox=left,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000, help="trainees, each due one reminder")
    parser.add_argument("--rate", type=float, default=30, help="messages/s: the fake's limit and the bot's")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the fake waits before answering")
    args = parser.parse_args()
    # The channel's warnings (flood waits, failed pushes) are part of what is measured: show them.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        result = fan_out(Path(tmp), args.count, args.rate, args.latency)
    ideal = args.count / args.rate
    print(
        f"messages        {result.written} session reminders due at once, one per trainee's private chat;"
        f" SQLite, fake Bot API answering after {args.latency * 1000:.0f} ms"
    )
    print(f"written in      {result.write_seconds:.2f} s (send_session_reminders: reminder and outbox rows)")
    print(f"delivered in    {result.elapsed:.1f} s (dispatcher started -> last chat received its reminder)")
    print(f"ideal           {ideal:.1f} s ({args.count} / {args.rate:g} messages/s)")
    print(f"ratio           {result.elapsed / ideal:.3f} (target <= {TARGET_RATIO})")
    print(f"429 answered    {result.refusals} (the fake allows {args.rate:g} messages in any one second)")
    print(f"duplicates      {result.duplicates} (chats that received more than one reminder)")
    print(f"lost            {result.lost} (chats that received none)")
    print(f"outbox left     {result.left_in_outbox} rows")


if __name__ == "__main__":
    main()
