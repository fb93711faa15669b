"""Measure the one window where a crash can double a message: sent, but not yet deleted from the outbox.

    .venv/bin/python bench/crash_window.py [--users 50] [--messages 10] [--database URL]

In one process, as `cisp-bot run` does: the real TelegramChannel polls the fake Bot API, the inbox
worker hands each update to the conversation (shipped FAQ, words only), the answers go to the outbox,
and the dispatcher sends them. For every answer, the window runs from the moment the Bot API's answer
to sendMessage is back in the bot (the message exists for the trainee) to the commit that deletes its
outbox row: a crash inside it sends that answer again at the next start. The Bot API's own delay to
send its answer back over the internet adds to it (not measured here: a local fake answers at once).
Beside it, the plain baseline: the same DELETE committed alone, in a loop, on the same database. Then
one person asks alone, and the bench prints how long each answer waits, after the transaction that
handled the question, before it leaves for Telegram (the target: a few milliseconds).
--database takes a scratch PostgreSQL database: its tables are dropped first.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import Engine, delete, insert, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot.app import build_conversation, build_services  # noqa: E402
from bot.channels.pipeline import Pipeline  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.common.clock import SystemClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.conversation import Conversation  # noqa: E402
from bot.core.inbox import Inbox, Received  # noqa: E402
from bot.core.messages import IncomingMessage  # noqa: E402
from bot.core.outbox import Outbox, Push  # noqa: E402
from bot.features.faq import FaqService  # noqa: E402
from bot.storage.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from bot.storage.migrate import upgrade_database  # noqa: E402
from bot.storage.models import Base, OutboxMessage  # noqa: E402
from tests.fakes.telegram_api import FakeBotApi  # noqa: E402

TOKEN = "123456:ABC-window"
FIRST_USER = 20_000
ALONE = 30  # questions of one person alone, each once the last is answered
QUESTIONS = ["le wifi marche pa", "mon ordi demare plu", "comment faire mon cv", "imprimer un document"]


class TimedOutbox(Outbox):
    """The real outbox, noting when each row's deletion is committed."""

    def __init__(self, session_factory: sessionmaker[Session], returned: dict[int, float]) -> None:
        super().__init__(session_factory, SystemClock())
        self.returned = returned
        self.windows: list[float] = []

    def sent(self, item: Push, refs: Sequence[str]) -> None:
        """Delete the row, and measure how long after the platform's answer it was gone."""
        super().sent(item, refs)
        if item.id in self.returned:
            self.windows.append(time.perf_counter() - self.returned.pop(item.id))


class TimedTelegram(TelegramChannel):
    """The real channel, noting when each message is handled, its answer leaves, and Telegram's is back."""

    def __init__(self, settings: Settings, returned: dict[int, float]) -> None:
        # Trainees' questions only: no staff command is read.
        super().__init__(settings, staff_commands=frozenset())
        self.returned = returned
        self.handled: dict[str, float] = {}
        self.leaving: list[float] = []

    async def handle_stored(self, item: Received) -> Received | None:
        """Handle, then note the instant the handling transaction had committed."""
        following = await super().handle_stored(item)
        self.handled[item.sender] = time.perf_counter()
        return following

    async def push(self, item: Push) -> list[str]:
        """Send, noting how long after the handling it started, and when the answer came back."""
        handled = self.handled.pop(item.recipient, None)
        if handled is not None:
            self.leaving.append(time.perf_counter() - handled)
        refs = await super().push(item)
        self.returned[item.id] = time.perf_counter()
        return refs


def fresh_database(url: str) -> Engine:
    """Return an engine on an empty, migrated database."""
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade_database(engine)
    return engine


def seed(conversation: Conversation, users: int) -> None:
    """Onboard the trainees (consent, name, filière) directly, as after their first visit."""
    for user in range(users):
        for message in (
            IncomingMessage("telegram", str(FIRST_USER + user), button_id="consent:yes"),
            IncomingMessage("telegram", str(FIRST_USER + user), text="Samira"),
            IncomingMessage("telegram", str(FIRST_USER + user), button_id="fil:none"),
        ):
            conversation.handle(message)


def answered(channel: TimedTelegram, count: int) -> bool:
    """Say whether the lone person's first count answers have left."""
    return len(channel.leaving) >= count


def bot_settings(url: str, api: FakeBotApi) -> Settings:
    """Return the settings of a bot on this database, talking to the fake Bot API without a limit."""
    return Settings(
        _env_file=None,
        database_url=url,
        faq_dir=ROOT / "faq",
        faq_embedder="none",
        throttle_messages_per_minute=10_000,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_url=api.base_url,
        telegram_messages_per_second=10_000,
    )


async def measure(url: str, users: int, messages: int) -> tuple[list[float], list[float]]:
    """Answer users x messages questions at once, then one person's alone, through the pipeline.

    Return the windows of the burst, and how long each answer of the lone person waited after its
    handling to leave (nothing else queueing), in seconds.
    """
    engine = fresh_database(url)
    factory = make_session_factory(engine)
    returned: dict[int, float] = {}
    async with FakeBotApi(token=TOKEN) as api:
        settings = bot_settings(url, api)
        services = build_services(settings, FaqService(settings.faq_dir), SystemClock())
        conversation = build_conversation(factory, services)
        seed(conversation, users)
        outbox = TimedOutbox(factory, returned)
        pipeline = Pipeline(conversation, Inbox(factory, SystemClock()), outbox)
        channel = TimedTelegram(settings, returned)
        await pipeline.start([channel])
        try:
            for round_number in range(messages):
                for user in range(users):
                    api.user_sends(FIRST_USER + user, QUESTIONS[(user + round_number) % len(QUESTIONS)])
            await api.wait_until(
                lambda: len(outbox.windows) >= users * messages, timeout=300, what="every answer sent"
            )
            windows = list(outbox.windows)
            channel.leaving.clear()
            for number in range(ALONE):
                api.user_sends(FIRST_USER, QUESTIONS[number % len(QUESTIONS)])
                await api.wait_until(functools.partial(answered, channel, number + 1), timeout=30, what="it")
                await asyncio.sleep(0.05)
        finally:
            await pipeline.stop()
    engine.dispose()
    return windows, channel.leaving


def baseline(url: str, count: int) -> list[float]:
    """Return how long a lone DELETE of one outbox row takes to commit, count times."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    timings = []
    now = SystemClock().now()
    row = {
        "channel": "x",
        "recipient": "x",
        "payload": {},
        "created_at": now,
        "not_before": now,
        "attempts": 0,
    }
    for _ in range(count):
        with unit_of_work(factory) as session:
            row_id = session.execute(insert(OutboxMessage).returning(OutboxMessage.id), [row]).scalar_one()
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.id == row_id))
        timings.append(time.perf_counter() - started)
    engine.dispose()
    return timings


def describe(name: str, values: list[float]) -> str:
    """Return a line with the median, p99 and largest value, in milliseconds."""
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:<46} p50 {statistics.median(ordered) * 1000:6.2f} ms   p99 {p99 * 1000:6.2f} ms"
        f"   max {ordered[-1] * 1000:6.2f} ms   ({len(ordered)} messages)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--database", default=None, help="a scratch database URL (emptied); SQLite if unset")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'window.sqlite3'}"
        windows, leaving = asyncio.run(measure(url, args.users, args.messages))
        lone = baseline(url, len(windows))
    print(f"database: {url.split(':', 1)[0]}; {args.users} trainees x {args.messages} questions, all at once")
    print(describe("sent -> deleted from the outbox (the window)", windows))
    print(describe("baseline: a lone DELETE, committed", lone))
    print(describe("alone: handled -> answer leaves", leaving))


if __name__ == "__main__":
    main()
