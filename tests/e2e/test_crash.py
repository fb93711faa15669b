"""Crashes: `cisp-bot run` killed by SIGKILL in the middle of a burst, then started again.

Ten trainees, onboarded through the platform, each send five FAQ questions at once. The bot is killed
while it is answering, started again on the same database and STATE_DIR, and every question must be
answered exactly once, each person's answers in the order of their questions.

Where the kill falls is chosen, not left to chance: the bot talks to the fake platform API through a
gate (tests/fakes/proxy.py). Five answers go through; the next one or two reach the platform, which
records them, but their HTTP answers are kept back; every later send waits in the gate, unforwarded.
The bot is killed a second later (time to record what was answered and to go on storing and handling
messages). So the test knows exactly which sends the platform performed without the bot hearing of it:
only those may rightly be sent again, once. Everything else must be exactly once. After a kill the
test waits past the dead process's leases (15 s) before judging, for a late duplicate to show.

Recognising answers: each question is an entry's own question from the shipped FAQ, whose answer is
one message (the entry's answer text, with its buttons) on Telegram and on WhatsApp; each person asks
five different entries. A person's messages after onboarding must be exactly those five answers, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import texts
from bot.faq import load_faq
from tests.conftest import SHIPPED_FAQ, TEST_DATABASE_URL
from tests.fakes.graph_api import DEFAULT_TOKEN as GRAPH_TOKEN
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_api import SentMessage as GraphMessage
from tests.fakes.proxy import HttpProxy, Withheld
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.telegram_api import SentMessage as TelegramMessage

TOKEN = "123456:ABC-cisp_crash"
SECRET = "meta-app-secret"
VERIFY = "verify-me-please"
NAMES = ["Samira", "Karim", "Fatou", "Jonas", "Ilse", "Mehmet", "Nadia", "Paulo", "Aïcha", "Luc"]
QUESTIONS_EACH = 5
FIRST_TELEGRAM_USER = 30_001
FIRST_WA_ID = 32_470_555_001
# Sends that go through before the gate closes, and sends the platform performs while their answer is
# kept from the bot (the only ones that may be seen twice).
LET_THROUGH = 5
WITHHELD = 2
# After the gate filled, before the kill: the bot receives and records what was answered, and goes on
# storing and handling messages whose answers now wait.
SETTLE_SECONDS = 1.0
# Everything answered within this after the restart; it covers a dead process's lease (about 15 s).
FINISH_SECONDS = 40.0
# Once every answer is there: time for a duplicate to show up; after a kill, until past the dead
# process's leases, when a send it had taken but not recorded as done would be made again.
QUIET_SECONDS = 2.0
LEASE_SECONDS = 15.0

# Entries of the shipped FAQ whose own question gets their answer by words alone, in one message, and
# that leave the conversation where it was (no request to a person, no booking).
ENTRIES = [
    "creer-adresse-email",
    "mot-de-passe-email-oublie",
    "mot-de-passe-windows-oublie",
    "choisir-mot-de-passe",
    "envoyer-email-piece-jointe",
    "email-non-recu-spam",
    "arnaque-message",
    "victime-arnaque",
    "itsme-lecteur-eid",
    "code-pin-carte-identite",
    "myforem-connexion",
    "inscription-forem",
    "trouver-offres-emploi",
    "alerte-offres-emploi",
    "creer-cv",
    "mettre-a-jour-cv",
    "cv-en-pdf",
    "lettre-motivation",
    "repondre-offre-email",
    "candidature-spontanee",
    "relancer-candidature",
    "refus-candidature",
    "preparer-entretien",
    "tenue-entretien",
    "titres-services",
]


# --------------------------------------------------------------------------- the questions


@dataclass(frozen=True)
class Question:
    entry: str
    text: str
    answer: str


def shipped_questions() -> dict[str, Question]:
    """Read each entry's question and the first message of its French answer from the shipped FAQ."""
    questions: dict[str, Question] = {}
    for entry in load_faq(SHIPPED_FAQ).entries:
        steps = entry.steps_in(None)
        first = (
            texts.FAQ_STEP.format(number=1, count=len(steps), step=steps[0]) if len(steps) > 1 else steps[0]
        )
        questions[entry.id] = Question(entry.id, entry.question, first.strip())
    return questions


def plan(people: int) -> list[list[Question]]:
    """Give each person five different entries' questions (person p asks ENTRIES[p], [p + 5], ...)."""
    questions = shipped_questions()
    missing = [entry for entry in ENTRIES if entry not in questions]
    assert not missing, f"entries gone from the shipped FAQ: {missing}"
    step = len(ENTRIES) // QUESTIONS_EACH
    return [
        [questions[ENTRIES[(person + step * k) % len(ENTRIES)]] for k in range(QUESTIONS_EACH)]
        for person in range(people)
    ]


# --------------------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class Received:
    """A message a person received after onboarding."""

    text: str
    resendable: bool = False
    """The platform performed its send but its answer never reached the bot: a resend is legitimate."""
    after_kill: float | None = None
    """When the platform recorded it, in seconds after the kill (negative: before), if there was one."""


@dataclass
class Verdict:
    total: int
    lost: int = 0
    duplicated: int = 0
    disordered: int = 0
    unexpected: int = 0
    resent: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.disordered or self.unexpected)

    def summary(self) -> str:
        return (
            f"{self.lost} of {self.total} questions never answered, {self.duplicated} answers sent more than"
            f" once, {self.disordered} people got answers out of order, {self.unexpected} unexpected"
            f" messages ({self.resent} legitimate resends of sends whose answer the bot never got)"
        )

    def report(self, *more: str) -> str:
        lines = [self.summary(), *self.details[:20]]
        if len(self.details) > 20:
            lines.append(f"... and {len(self.details) - 20} more people")
        return "\n".join([*lines, *more])


def judge(asked: Mapping[str, Sequence[Question]], received: Mapping[str, Sequence[Received]]) -> Verdict:
    """Compare what each person received with the answers to their questions, in order, once each."""
    verdict = Verdict(total=sum(len(questions) for questions in asked.values()))
    for person, questions in asked.items():
        answers = [question.answer for question in questions]
        label = {question.answer: question.entry for question in questions}
        kept: list[str] = []
        shown: list[str] = []  # for the report: which entry, when
        resendable: Counter[str] = Counter()
        for message in received.get(person, []):
            text = message.text.strip()
            if resendable[text]:
                # The second copy of a send the bot never heard answered: allowed, once.
                resendable[text] -= 1
                verdict.resent += 1
                continue
            kept.append(text)
            when = "" if message.after_kill is None else f"@{message.after_kill:+.0f}s"
            shown.append(label.get(text, repr(text[:50])) + when)
            if message.resendable:
                resendable[text] += 1
        counts = Counter(kept)
        lost = [answer for answer in answers if not counts[answer]]
        duplicated = sum(counts[answer] - 1 for answer in answers if counts[answer] > 1)
        unexpected = [text for text in kept if text not in label]
        firsts = list(dict.fromkeys(text for text in kept if text in label))
        in_order = firsts == [answer for answer in answers if counts[answer]]
        verdict.lost += len(lost)
        verdict.duplicated += duplicated
        verdict.unexpected += len(unexpected)
        verdict.disordered += not in_order
        if kept != answers:
            verdict.details.append(
                f"{person}: asked {[question.entry for question in questions]}, answered {shown}"
                + (f"; lost {[label[answer] for answer in lost]}" if lost else "")
            )
    return verdict


# --------------------------------------------------------------------------- the bot as a process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Settings of the test's environment that must not reach the bot (each test sets its own).
_NOT_INHERITED = ("TELEGRAM_", "WHATSAPP_", "PUBLIC_URL", "DATABASE_URL", "STATE_DIR", "FAQ_")


class BotProcess:
    """`cisp-bot run` as a process, started, killed and started again; its output goes to a file."""

    def __init__(self, workdir: Path, name: str, **env: str) -> None:
        self.workdir = workdir
        self.name = name
        self.log = workdir / f"{name}.log"
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(_NOT_INHERITED) and key not in ("HOST", "PORT")
        }
        self.env = {
            **inherited,
            "FAQ_DIR": str(SHIPPED_FAQ),
            "FAQ_EMBEDDER": "none",
            "STATE_DIR": str(workdir / f"state-{name}"),
            # Bursts are the point: no "slow down", no pacing of the platforms' overall limits.
            "THROTTLE_MESSAGES_PER_MINUTE": "10000",
            "TELEGRAM_MESSAGES_PER_SECOND": "1000",
            "WHATSAPP_MESSAGES_PER_SECOND": "1000",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"----- start {self.starts}\n".encode())
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when the machine or the OOM killer stops it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 10)

    async def stop(self) -> None:
        """SIGTERM, as systemd stops it; SIGKILL if it does not end.

        Awaited in a thread: the fakes serve in this event loop, and a stopping bot still calls them.
        """
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, 20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait, 10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name}.log (end)\n" + "\n".join(text.splitlines()[-lines:])


async def wait_healthy(bot: BotProcess, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if not bot.alive():
                raise AssertionError(f"{bot.name} ended while starting\n{bot.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{bot.name} did not answer /healthz within {timeout}s\n{bot.tail()}")


async def eventually(predicate: Callable[[], bool], timeout: float) -> bool:
    """Wait until predicate() holds or timeout; tell whether it holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def until_acknowledged(post: Callable[[], Awaitable[int]], timeout: float = 60) -> int:
    """POST a webhook call again until it gets 200, as Meta and Telegram do; give the number of tries."""
    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        tries += 1
        with contextlib.suppress(httpx.HTTPError):
            if await post() == 200:
                return tries
        if time.monotonic() >= deadline:
            raise AssertionError(f"no 200 after {tries} deliveries in {timeout}s")
        await asyncio.sleep(0.2)


def is_telegram_send(method: str, path: str, body: bytes) -> bool:
    return path.endswith("/sendMessage")


def is_whatsapp_send(method: str, path: str, body: bytes) -> bool:
    # A message to a person, not a read receipt.
    return path.endswith("/messages") and b'"to"' in body


async def stop_all(bots: Sequence[BotProcess], senders: asyncio.Future[list[None]] | None) -> None:
    """Stop the webhook senders still trying, then the bots."""
    if senders is not None and not senders.done():
        senders.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await senders
    for bot in bots:
        await bot.stop()


async def kill_mid_burst(gate: HttpProxy, victim: BotProcess, watched: Sequence[BotProcess]) -> float:
    """Wait until the gate filled, let the bot work a second more, SIGKILL it, open the gate; give when."""
    try:
        await gate.wait_until_holding(timeout=30)
    except AssertionError as error:
        raise AssertionError(f"{error}\n" + "\n".join(bot.tail() for bot in watched)) from None
    await asyncio.sleep(SETTLE_SECONDS)
    await victim.kill()
    killed_at = time.time()  # wall clock, as the fakes date messages
    await asyncio.sleep(0.3)  # the proxy sees its connections closed
    await gate.release()
    return killed_at


async def quiet(killed_at: float | None) -> None:
    """Leave a duplicate the time to show up (past the leases of a killed process)."""
    until = time.time() + QUIET_SECONDS
    if killed_at is not None:
        until = max(until, killed_at + LEASE_SECONDS + QUIET_SECONDS)
    await asyncio.sleep(until - time.time())


# --------------------------------------------------------------------------- Telegram


Deliver = Callable[[int], Awaitable[None]]


async def polled(update_id: int) -> None:
    """In polling mode the bot fetches the update itself."""


def webhook_delivery(api: FakeBotApi) -> Deliver:
    async def deliver(update_id: int) -> None:
        await until_acknowledged(functools.partial(api.deliver_to_webhook, update_id, timeout=10))

    return deliver


async def telegram_said(api: FakeBotApi, chat: int, since: int, count: int) -> list[TelegramMessage]:
    if not await eventually(lambda: len(api.sent_messages(chat)) >= since + count, timeout=30):
        got = [m.describe() for m in api.sent_messages(chat)[since:]]
        raise AssertionError(f"expected {count} message(s) to {chat}, got {got}")
    return api.sent_messages(chat)[since:]


def telegram_button(messages: Sequence[TelegramMessage], title: str) -> tuple[TelegramMessage, str]:
    for message in messages:
        for candidate in message.buttons:
            if candidate["text"] == title:
                return message, candidate["callback_data"]
    raise AssertionError(f"no button {title!r} in {[m.describe() for m in messages]}")


async def telegram_onboard(api: FakeBotApi, chat: int, name: str, deliver: Deliver) -> None:
    """Consent, name and filière through the bot, as a new trainee does."""
    since = len(api.sent_messages(chat))
    await deliver(api.user_sends(chat, "/start", first_name=name))
    welcome = await telegram_said(api, chat, since, 5)
    steps = [("J'accepte", 1), (name, 1), ("Horticulture", 2)]  # the profile's name is offered as a button
    for title, count in steps:
        since = len(api.sent_messages(chat))
        message, data = telegram_button(welcome, title)
        await deliver(api.user_presses(chat, message, data, first_name=name))
        welcome = await telegram_said(api, chat, since, count)
    assert f"Bienvenue, {name}" in (welcome[0].rendered_text or ""), welcome[0].describe()


def telegram_received(
    api: FakeBotApi, baselines: Mapping[int, int], undelivered: Sequence[Withheld], killed_at: float | None
) -> dict[str, list[Received]]:
    resendable = set()
    for withheld in undelivered:
        answer = withheld.response_json() or {}
        if answer.get("ok"):
            resendable.add((answer["result"]["chat"]["id"], answer["result"]["message_id"]))
    return {
        str(chat): [
            Received(
                m.rendered_text or m.text or f"<{m.method}>",
                (m.chat_id, m.message_id) in resendable,
                None if killed_at is None else m.date - killed_at,  # whole seconds: Telegram's dates
            )
            for m in api.sent_messages(chat)[since:]
        ]
        for chat, since in baselines.items()
    }


def calls_made(api: FakeBotApi, method: str, count: int) -> bool:
    return len(api.calls_to(method)) >= count


def telegram_answered(api: FakeBotApi, baselines: Mapping[int, int], each: int) -> Callable[[], bool]:
    return lambda: all(len(api.sent_messages(chat)) >= since + each for chat, since in baselines.items())


def polling_env(tmp_path: Path, api_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'crash.sqlite3'}",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_url,
    }


@pytest.mark.parametrize("kill", [False, True], ids=["no-kill", "killed"])
async def test_telegram_polling_burst_each_question_answered_once_in_order(
    tmp_path: Path, kill: bool
) -> None:
    people = list(range(FIRST_TELEGRAM_USER, FIRST_TELEGRAM_USER + len(NAMES)))
    questions = dict(zip(people, plan(len(people)), strict=True))
    killed_at: float | None = None
    async with FakeBotApi(token=TOKEN) as api, HttpProxy() as gate:
        gate.upstreams = [api.url]
        bot = BotProcess(tmp_path, "bot", **polling_env(tmp_path, f"{gate.url}/bot"))
        bot.start()
        try:
            await asyncio.gather(
                *(telegram_onboard(api, chat, name, polled) for chat, name in zip(people, NAMES, strict=True))
            )
            baselines = {chat: len(api.sent_messages(chat)) for chat in people}
            if kill:
                gate.hold(is_telegram_send, let_through=LET_THROUGH, withhold_answers=WITHHELD)
            for k in range(QUESTIONS_EACH):
                for chat in people:
                    api.user_sends(chat, questions[chat][k].text, first_name=NAMES[chat - people[0]])
            if kill:
                killed_at = await kill_mid_burst(gate, bot, [bot])
                bot.start()  # same database, same STATE_DIR
            if await eventually(telegram_answered(api, baselines, QUESTIONS_EACH), FINISH_SECONDS):
                await quiet(killed_at)
        finally:
            await stop_all([bot], None)
        verdict = judge(
            {str(chat): questions[chat] for chat in people},
            telegram_received(api, baselines, gate.undelivered, killed_at),
        )
    assert verdict.ok, verdict.report(f"{gate.dropped} sends never forwarded", bot.tail())
    if kill:
        assert gate.undelivered, "the kill was meant to fall while a platform's answer was kept back"


# --------------------------------------------------------------------------- WhatsApp


async def whatsapp_said(graph: FakeGraphApi, wa_id: str, since: int, count: int) -> list[GraphMessage]:
    if not await eventually(lambda: len(graph.sent_to(wa_id)) >= since + count, timeout=30):
        got = [m.describe() for m in graph.sent_to(wa_id)[since:]]
        raise AssertionError(f"expected {count} message(s) to {wa_id}, got {got}")
    return graph.sent_to(wa_id)[since:]


def whatsapp_answered(graph: FakeGraphApi, baselines: Mapping[str, int], each: int) -> Callable[[], bool]:
    return lambda: all(len(graph.sent_to(wa_id)) >= since + each for wa_id, since in baselines.items())


async def whatsapp_onboard(graph: FakeGraphApi, webhook: str, wa_id: str, name: str) -> None:
    """Consent, name and filière through the bot, as a new trainee does."""

    async def step(payload: dict[str, Any], count: int) -> list[GraphMessage]:
        since = len(graph.sent_to(wa_id))
        await until_acknowledged(lambda: graph.deliver(webhook, payload))
        return await whatsapp_said(graph, wa_id, since, count)

    welcome = await step(graph.user_sends(wa_id, "Bonjour", name=name), 5)
    asked = await step(graph.user_presses(wa_id, welcome[-1], "consent:yes", name=name), 1)
    filieres = await step(graph.user_presses(wa_id, asked[-1], "name:ok", name=name), 1)
    horticulture = next(c["id"] for c in filieres[-1].choices if c["title"] == "Horticulture")
    done = await step(graph.user_picks(wa_id, filieres[-1], horticulture, name=name), 2)
    assert f"Bienvenue, {name}" in (done[0].text or ""), done[0].describe()


@pytest.mark.parametrize("kill", [False, True], ids=["no-kill", "killed"])
async def test_whatsapp_burst_each_message_answered_once_in_order(tmp_path: Path, kill: bool) -> None:
    people = [str(FIRST_WA_ID + n) for n in range(len(NAMES))]
    names = dict(zip(people, NAMES, strict=True))
    questions = dict(zip(people, plan(len(people)), strict=True))
    port = free_port()
    webhook = f"http://127.0.0.1:{port}/whatsapp"
    killed_at: float | None = None
    redelivered: list[str] = []  # the questions whose webhook call got no 200 the first time
    async with FakeGraphApi(app_secret=SECRET) as graph, HttpProxy() as gate:
        gate.upstreams = [graph.url]
        bot = BotProcess(
            tmp_path,
            "bot",
            DATABASE_URL=f"sqlite:///{tmp_path / 'crash.sqlite3'}",
            WHATSAPP_TOKEN=GRAPH_TOKEN,
            WHATSAPP_PHONE_NUMBER_ID=graph.phone_number_id,
            WHATSAPP_APP_SECRET=SECRET,
            WHATSAPP_VERIFY_TOKEN=VERIFY,
            WHATSAPP_API_URL=f"{gate.url}/{graph.api_version}",
            HOST="127.0.0.1",
            PORT=str(port),
        )

        async def send_questions(wa_id: str) -> None:
            for question in questions[wa_id]:
                # The same payload (same wamid) each time: what Meta sends again when it got no 200.
                payload = graph.user_sends(wa_id, question.text, name=names[wa_id])
                if await until_acknowledged(functools.partial(graph.deliver, webhook, payload)) > 1:
                    redelivered.append(f"{wa_id}:{question.entry}")

        senders: asyncio.Future[list[None]] | None = None
        bot.start()
        try:
            await wait_healthy(bot, port)
            await asyncio.gather(*(whatsapp_onboard(graph, webhook, wa_id, names[wa_id]) for wa_id in people))
            baselines = {wa_id: len(graph.sent_to(wa_id)) for wa_id in people}
            if kill:
                gate.hold(is_whatsapp_send, let_through=LET_THROUGH, withhold_answers=WITHHELD)
            # Each person's messages one after the other (each acknowledged before the next, retried
            # until it is), ten people at once.
            senders = asyncio.gather(*(send_questions(wa_id) for wa_id in people))
            if kill:
                killed_at = await kill_mid_burst(gate, bot, [bot])
                bot.start()  # same database, same STATE_DIR, same port
            await asyncio.wait_for(senders, timeout=FINISH_SECONDS)
            if await eventually(whatsapp_answered(graph, baselines, QUESTIONS_EACH), FINISH_SECONDS):
                await quiet(killed_at)
        finally:
            await stop_all([bot], senders)
        resendable: set[str] = set()
        for withheld in gate.undelivered:
            answer = withheld.response_json() or {}
            resendable.update(message["id"] for message in answer.get("messages", []))
        received = {
            wa_id: [
                Received(
                    m.text or m.describe(),
                    m.wamid in resendable,
                    None if killed_at is None else m.at.timestamp() - killed_at,
                )
                for m in graph.sent_to(wa_id)[since:]
            ]
            for wa_id, since in baselines.items()
        }
        verdict = judge(questions, received)
    assert verdict.ok, verdict.report(
        f"webhook calls delivered again (no 200 at first): {redelivered}",
        f"{gate.dropped} sends never forwarded",
        bot.tail(),
    )
    if kill:
        assert gate.undelivered, "the kill was meant to fall while a platform's answer was kept back"


# --------------------------------------------------------------------------- two processes, PostgreSQL


def _admin_conninfo(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """Give a database of its own on TEST_DATABASE_URL's server (a schema if it may not create one)."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL not set")
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"cisp_crash_{uuid.uuid4().hex[:12]}"
    base = make_url(TEST_DATABASE_URL)
    try:
        with psycopg.connect(_admin_conninfo(TEST_DATABASE_URL), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.errors.InsufficientPrivilege:
        with psycopg.connect(_admin_conninfo(TEST_DATABASE_URL), autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{name}"')
        try:
            yield base.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
                hide_password=False
            )
        finally:
            with psycopg.connect(_admin_conninfo(TEST_DATABASE_URL), autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        return
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(TEST_DATABASE_URL), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def two_processes_behind_a_proxy(tmp_path: Path, database_url: str, *, kill_one: bool) -> None:
    people = list(range(FIRST_TELEGRAM_USER, FIRST_TELEGRAM_USER + len(NAMES)))
    questions = dict(zip(people, plan(len(people)), strict=True))
    ports = [free_port(), free_port()]
    async with (
        FakeBotApi(token=TOKEN) as api,
        HttpProxy() as gate,
        HttpProxy([f"http://127.0.0.1:{port}" for port in ports]) as front,
    ):
        gate.upstreams = [api.url]
        bots = [
            BotProcess(
                tmp_path,
                name,
                DATABASE_URL=database_url,
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=f"{gate.url}/bot",
                PUBLIC_URL=front.url,
                HOST="127.0.0.1",
                PORT=str(port),
            )
            for name, port in zip(("bot-a", "bot-b"), ports, strict=True)
        ]
        deliver = webhook_delivery(api)
        redelivered: list[str] = []  # the questions whose webhook call got no 200 the first time
        senders: asyncio.Future[list[None]] | None = None
        killed_at: float | None = None

        async def send_questions(chat: int) -> None:
            for question in questions[chat]:
                update_id = api.user_sends(chat, question.text, first_name=NAMES[chat - people[0]])
                post = functools.partial(api.deliver_to_webhook, update_id, timeout=10)
                if await until_acknowledged(post) > 1:
                    redelivered.append(f"{chat}:{question.entry}")

        try:
            # One after the other: the first creates the tables, the second finds them.
            for number, (bot, port) in enumerate(zip(bots, ports, strict=True), start=1):
                bot.start()
                await wait_healthy(bot, port)
                ok = await eventually(functools.partial(calls_made, api, "setWebhook", number), timeout=30)
                assert ok, f"{bot.name} did not set its webhook\n{bot.tail()}"
            assert api.webhook_url == f"{front.url}/telegram"
            await asyncio.gather(
                *(
                    telegram_onboard(api, chat, name, deliver)
                    for chat, name in zip(people, NAMES, strict=True)
                )
            )
            baselines = {chat: len(api.sent_messages(chat)) for chat in people}
            if kill_one:
                gate.hold(is_telegram_send, let_through=LET_THROUGH, withhold_answers=WITHHELD)
            senders = asyncio.gather(*(send_questions(chat) for chat in people))
            if kill_one:
                # The proxy skips the dead process (connection refused): the other one finishes the work,
                # its own and what the dead one had taken.
                killed_at = await kill_mid_burst(gate, bots[1], bots)
            await asyncio.wait_for(senders, timeout=FINISH_SECONDS)
            done = await eventually(telegram_answered(api, baselines, QUESTIONS_EACH), FINISH_SECONDS)
            if kill_one:
                bots[1].start()  # and it comes back without sending anything again
                await wait_healthy(bots[1], ports[1])
            if done:
                await quiet(killed_at)
        finally:
            await stop_all(bots, senders)
        verdict = judge(
            {str(chat): questions[chat] for chat in people},
            telegram_received(api, baselines, gate.undelivered, killed_at),
        )
        served = Counter(upstream for upstream, path, status in front.forwarded if status == 200)
    assert verdict.ok, verdict.report(
        f"webhook calls delivered again (no 200 at first): {redelivered}",
        f"webhook calls answered by each process: {dict(served)}",
        *(bot.tail() for bot in bots),
    )
    assert len(served) == 2, f"both processes should have served webhook calls: {dict(served)}"


async def test_two_processes_on_postgresql_answer_each_message_once_in_order(
    tmp_path: Path, fresh_postgres: str
) -> None:
    await two_processes_behind_a_proxy(tmp_path, fresh_postgres, kill_one=False)


async def test_two_processes_on_postgresql_one_killed_mid_burst(tmp_path: Path, fresh_postgres: str) -> None:
    await two_processes_behind_a_proxy(tmp_path, fresh_postgres, kill_one=True)


def test_the_verdict_tells_loss_duplicates_disorder_and_allowed_resends() -> None:
    q = [Question(f"e{n}", f"q{n}", f"a{n}") for n in range(3)]
    asked = {"p": q}
    assert judge(asked, {"p": [Received("a0"), Received("a1"), Received("a2")]}).ok
    lost = judge(asked, {"p": [Received("a0"), Received("a2")]})
    assert (lost.lost, lost.disordered) == (1, 0)
    twice = judge(asked, {"p": [Received("a0"), Received("a1"), Received("a1"), Received("a2")]})
    assert (twice.duplicated, twice.ok) == (1, False)
    resent = judge(asked, {"p": [Received("a0"), Received("a1", True), Received("a1"), Received("a2")]})
    assert resent.ok and resent.resent == 1
    thrice = judge(asked, {"p": [Received("a0", True), Received("a0"), Received("a0"), Received("a1")]})
    assert thrice.duplicated == 1 and thrice.lost == 1
    swapped = judge(asked, {"p": [Received("a1"), Received("a0"), Received("a2")]})
    assert swapped.disordered == 1 and not swapped.ok
    stray = judge(asked, {"p": [Received("a0"), Received("Bonjour"), Received("a1"), Received("a2")]})
    assert stray.unexpected == 1
    assert json.dumps(stray.details)  # readable, plain strings
