"""Benchmark Telegram end to end: FAQ questions per second through the fake Bot API, beside an echo bot.

    .venv/bin/python bench/telegram_throughput.py [--users 50] [--messages 10]

Both bots run as their own processes and poll the fake Bot API (served by this process) over HTTP,
through python-telegram-bot's real HTTP layer. The echo bot (bench/echo_bot.py) answers each message
with its text; `cisp-bot run` answers FAQ questions from the shipped FAQ on SQLite, the trainees having
consented beforehand. It runs again with a generated 1,000-entry FAQ, and its resident memory is read
after it has answered everyone.
With words and meaning (the default), each answer costs the model's reading of the message; the vector
cache is filled before each run (`cisp-bot faq match`), so the bot is measured warm. Targets: resident memory
<= 200 MB with 1,000 entries; by words only, cisp-bot >= 0.7 of the echo bot's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.faq_speed import generate_faq  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.core.clock import SystemClock  # noqa: E402
from bot.core.conversation import Conversation  # noqa: E402
from bot.core.messages import IncomingMessage  # noqa: E402
from bot.core.turn import Services  # noqa: E402
from bot.faq import load_faq  # noqa: E402
from bot.features.faq import FaqService  # noqa: E402
from bot.storage.db import make_engine, make_session_factory, upgrade_database  # noqa: E402
from tests.fakes.telegram_api import FakeBotApi  # noqa: E402

TOKEN = "123456:ABC-bench"
QUESTIONS = [
    "jarrive pa a me conecter o wifi",
    "mon ordi demare plu",
    "comment faire mon cv",
    "jai oublié mon mot de passe gmail",
    "la batterie se vide trop vite",
    "comment m inscrire au forem",
    "imprimer un document",
    "mon ordi est tres lent",
]
FIRST_USER = 10_000
LATENCY = 0.030


async def drive(api: FakeBotApi, users: int, messages: int) -> float:
    """Send users x messages questions, wait for every answer; return messages per second."""
    total = users * messages
    before = {user: len(api.sent_messages(FIRST_USER + user)) for user in range(users)}
    started = time.perf_counter()
    for round_number in range(messages):
        for user in range(users):
            api.user_sends(FIRST_USER + user, QUESTIONS[(user + round_number) % len(QUESTIONS)])
    await api.wait_until(
        lambda: all(len(api.sent_messages(FIRST_USER + u)) >= before[u] + messages for u in range(users)),
        timeout=300,
        what=f"{total} answers",
    )
    return total / (time.perf_counter() - started)


def start_process(command: list[str], workdir: Path, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, cwd=workdir, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


async def warm_up(api: FakeBotApi, users: int) -> None:
    """Wait until the bot answers everyone once (it is polling and has loaded everything)."""
    for user in range(users):
        api.add_user(FIRST_USER + user)
    await drive(api, users, 1)


def echo_rate(workdir: Path, users: int, messages: int, latency: float = 0.0) -> float:
    with FakeBotApi(token=TOKEN, latency=latency) as api:
        process = start_process(
            [sys.executable, str(ROOT / "bench" / "echo_bot.py"), api.base_url, TOKEN], workdir
        )
        try:
            asyncio.run(warm_up(api, users))
            return asyncio.run(drive(api, users, messages))
        finally:
            stop_process(process)


def seed_trainees(url: str, users: int) -> None:
    """Create consented trainees, as after onboarding, so that the bot answers their questions."""
    engine = make_engine(url)
    upgrade_database(engine)
    settings = Settings(
        _env_file=None, database_url=url, faq_dir=ROOT / "faq", throttle_messages_per_minute=10_000
    )
    services = Services(settings=settings, faq=FaqService(settings.faq_dir), clock=SystemClock())
    conversation = Conversation(make_session_factory(engine), services)
    for user in range(users):
        for message in (
            IncomingMessage("telegram", str(FIRST_USER + user), button_id="consent:yes"),
            IncomingMessage("telegram", str(FIRST_USER + user), text="Samira"),
            IncomingMessage("telegram", str(FIRST_USER + user), button_id="fil:none"),
        ):
            conversation.handle(message)
    engine.dispose()


def warm_vectors(workdir: Path, faq_dir: Path) -> None:
    """Fill the vector cache first (`faq match` computes it before answering): the bot is measured warm."""
    subprocess.run(
        [sys.executable, "-m", "bot", "faq", "match", "--faq-dir", str(faq_dir)],
        cwd=workdir,
        env={**os.environ, "STATE_DIR": str(workdir / "state"), "FAQ_EMBEDDER": "use"},
        input=b"",
        capture_output=True,
        check=True,
    )


def cisp_run(
    workdir: Path,
    faq_dir: Path,
    users: int,
    messages: int,
    rate_limit: float,
    latency: float = 0.0,
    embedder: str = "use",
) -> tuple[float, float]:
    """Run `cisp-bot run` as a process; return its answers per second and its resident memory (MB)."""
    url = f"sqlite:///{workdir / f'run-{faq_dir.name}-{rate_limit:.0f}-{latency}-{embedder}.sqlite3'}"
    seed_trainees(url, users)
    if embedder != "none":
        warm_vectors(workdir, faq_dir)
    with FakeBotApi(token=TOKEN, latency=latency) as api:
        process = start_process(
            [sys.executable, "-m", "bot", "run"],
            workdir,
            DATABASE_URL=url,
            FAQ_DIR=str(faq_dir),
            FAQ_EMBEDDER=embedder,
            STATE_DIR=str(workdir / "state"),
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=api.base_url,
            TELEGRAM_MESSAGES_PER_SECOND=str(rate_limit),
            THROTTLE_MESSAGES_PER_MINUTE="10000",
        )
        try:
            asyncio.run(warm_up(api, users))
            rate = asyncio.run(drive(api, users, messages))
            memory = resident_memory_mb(process.pid)
        finally:
            stop_process(process)
    return rate, memory


def resident_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    total = args.users * args.messages
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        echo = echo_rate(workdir, args.users, args.messages)
        # Telegram's limit (30 messages/s overall) caps a real bot; the comparison with the echo bot
        # measures what the bot itself costs, with the limiter out of the way.
        words, words_memory = cisp_run(
            workdir, ROOT / "faq", args.users, args.messages, rate_limit=100_000, embedder="none"
        )
        ours, _ = cisp_run(workdir, ROOT / "faq", args.users, args.messages, rate_limit=100_000)
        capped, _ = cisp_run(workdir, ROOT / "faq", args.users, args.messages, rate_limit=30)
        big_faq = workdir / "faq-1000"
        big_faq.mkdir()
        entries = generate_faq(list(load_faq(ROOT / "faq").entries), 1000, big_faq)
        big_rate, memory = cisp_run(workdir, big_faq, args.users, args.messages, rate_limit=100_000)
        # With the round trip to Telegram's servers (30 ms here), answering several chats at once pays.
        echo_far = echo_rate(workdir, args.users, args.messages, latency=LATENCY)
        ours_far, _ = cisp_run(
            workdir, ROOT / "faq", args.users, args.messages, rate_limit=100_000, latency=LATENCY
        )
    print(f"messages        {total} ({args.users} people x {args.messages}); bots as processes, fake Bot API")
    print(f"echo bot        {echo:.0f} messages/s (python-telegram-bot, replies with the text)")
    print(
        f"cisp-bot run    {words:.0f} messages/s by words only (FAQ_EMBEDDER=none; shipped FAQ, SQLite, flood"
        f" limiter lifted): ratio {words / echo:.2f}; resident memory {words_memory:.0f} MB"
    )
    print(
        f"                {ours:.0f} messages/s with words and meaning (the default): ratio {ours / echo:.2f}"
    )
    print(f"with limiter    {capped:.0f} messages/s (Telegram's 30 messages/s overall, as in production)")
    print(
        f"30 ms away      echo bot {echo_far:.0f} messages/s, cisp-bot run {ours_far:.0f} messages/s:"
        f" ratio {ours_far / echo_far:.2f} (each Bot API call answered 30 ms later, as over the internet)"
    )
    print(
        f"1,000 entries   {big_rate:.0f} messages/s; resident memory {memory:.0f} MB"
        f" ({entries} entries, words and meaning; target <= 200)"
    )


if __name__ == "__main__":
    main()
