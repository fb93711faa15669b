"""Benchmark the conversation core: messages per second and latency, on a real database.

    .venv/bin/python bench/conversation.py [--database-url URL] [--users 200] [--threads 4]

Each simulated trainee goes through onboarding, asks three questions (misspelled, as trainees write)
and opens /mesdonnees: 8 messages. Prints throughput and p50/p95/p99 latency per message.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from bot.app import build_conversation, build_services
from bot.common.clock import SystemClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.messages import IncomingMessage
from bot.features.faq import FaqService
from bot.storage.db import make_engine, make_session_factory
from bot.storage.migrate import upgrade_database
from bot.storage.models import Base

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["jarrive pa a me conecter o wifi", "mon ordi demare plu", "c koi un cv en pdf"]


def script(user: str) -> list[IncomingMessage]:
    def msg(**kwargs: str) -> IncomingMessage:
        return IncomingMessage("console", user, **kwargs)

    return [
        msg(text="/start"),
        msg(button_id="consent:yes"),
        msg(text="Samira"),
        msg(button_id="fil:1"),
        *[msg(text=question) for question in QUESTIONS],
        msg(text="/mesdonnees"),
    ]


def run_user(conversation: Conversation, user: str) -> list[float]:
    latencies = []
    for message in script(user):
        started = time.perf_counter()
        replies = conversation.handle(message)
        latencies.append(time.perf_counter() - started)
        assert replies
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        engine = make_engine(url)
        upgrade_database(engine)
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(text(f"DELETE FROM {table.name}"))
        settings = Settings(_env_file=None, database_url=url, faq_dir=ROOT / "faq")
        services = build_services(settings, FaqService(settings.faq_dir), SystemClock())
        conversation = build_conversation(make_session_factory(engine), services)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            per_user = list(pool.map(lambda i: run_user(conversation, f"bench-{i}"), range(args.users)))
        elapsed = time.perf_counter() - started
        engine.dispose()
    latencies = sorted(latency for user in per_user for latency in user)
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"database      {engine.dialect.name}")
    print(f"messages      {len(latencies)} from {args.users} trainees on {args.threads} threads")
    print(f"throughput    {len(latencies) / elapsed:.0f} messages/s")
    print(f"latency p50   {quantiles[49] * 1000:.1f} ms")
    print(f"latency p95   {quantiles[94] * 1000:.1f} ms")
    print(f"latency p99   {quantiles[98] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
