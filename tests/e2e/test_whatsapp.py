"""WhatsApp end to end: signed webhook posts in, the Cloud API out, against a fake Graph API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from bot.app import App, build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.inbox import Inbox
from bot.core.outbox import Outbox
from bot.features.faq import FaqService
from bot.features.faq_watch import FaqWatcher
from bot.runner import serve
from bot.storage.db import make_session_factory
from tests.fakes.graph_api import DEFAULT_TOKEN, FakeGraphApi, SentMessage

SECRET = "meta-app-secret"
VERIFY = "verify-me-please"
SAMIRA = "32470123456"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Bot:
    api: FakeGraphApi
    settings: Settings
    engine: Engine
    clock: FrozenClock
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}/whatsapp"

    async def restart(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=20)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(serve(make_app(self.settings, self.engine, self.clock), self.stop))
        await wait_listening(self.settings.port)


def make_app(settings: Settings, engine: Engine, clock: FrozenClock) -> App:
    faq = FaqService(settings.faq_dir)
    session_factory = make_session_factory(engine)
    conversation = build_conversation(session_factory, build_services(settings, faq, clock))
    return App(
        settings,
        engine,
        session_factory,
        conversation,
        FaqWatcher(faq, 0),
        Outbox(session_factory, clock),
        Inbox(session_factory, clock),
    )


async def wait_listening(port: int) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                await client.get(f"http://127.0.0.1:{port}/healthz")
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the webhook server did not start")


def whatsapp_settings(settings: Settings, api: FakeGraphApi, **changes: object) -> Settings:
    """Return the settings of a bot on WhatsApp, talking to the fake Graph API."""
    return settings.model_copy(
        update={
            "whatsapp_token": SecretStr(DEFAULT_TOKEN),
            "whatsapp_phone_number_id": api.phone_number_id,
            "whatsapp_app_secret": SecretStr(SECRET),
            "whatsapp_verify_token": SecretStr(VERIFY),
            "whatsapp_api_url": api.graph_url,
            **changes,
        }
    )


@pytest.fixture
async def bot(engine: Engine, settings: Settings, clock: FrozenClock) -> AsyncIterator[Bot]:
    async with FakeGraphApi(clock=clock.now, app_secret=SECRET) as api:
        configured = whatsapp_settings(settings, api, port=free_port())
        stop = asyncio.Event()
        task = asyncio.create_task(serve(make_app(configured, engine, clock), stop))
        await wait_listening(configured.port)
        running = Bot(api, configured, engine, clock, stop, task)
        try:
            yield running
        finally:
            running.stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(running.task, timeout=20)


async def said(bot: Bot, count: int) -> list[SentMessage]:
    messages = await bot.api.wait_for_messages(SAMIRA, count, timeout=10)
    bot.api.mark()
    return messages


async def onboard(bot: Bot) -> None:
    api = bot.api
    api.mark()
    assert await api.deliver(bot.webhook, api.user_sends(SAMIRA, "Bonjour")) == 200
    welcome = await said(bot, 5)
    consent = welcome[-1]
    assert consent.interactive_type == "button"
    assert [choice["title"] for choice in consent.choices] == ["J'accepte", "Je refuse", "En savoir plus"]
    await api.deliver(bot.webhook, api.user_presses(SAMIRA, consent, "consent:yes"))
    [name] = await said(bot, 1)
    # The profile name is offered as a button.
    await api.deliver(bot.webhook, api.user_presses(SAMIRA, name, "name:ok"))
    [filieres] = await said(bot, 1)
    assert filieres.interactive_type == "list"  # 7 choices: a list
    horticulture = next(c["id"] for c in filieres.choices if c["title"] == "Horticulture")
    await api.deliver(bot.webhook, api.user_picks(SAMIRA, filieres, horticulture))
    done = await said(bot, 2)
    assert "Bienvenue, Samira" in (done[0].text or "")
    assert done[1].interactive_type == "list"  # the menu: 4 choices


async def test_verification_handshake(bot: Bot) -> None:
    good = await bot.api.verify_webhook(bot.webhook, VERIFY, challenge="1158201444")
    assert (good.status_code, good.text) == (200, "1158201444")
    bad = await bot.api.verify_webhook(bot.webhook, "wrong")
    assert bad.status_code == 403


async def test_onboarding_and_an_faq_answer_with_buttons(bot: Bot) -> None:
    await onboard(bot)
    api = bot.api
    await api.deliver(bot.webhook, api.user_sends(SAMIRA, "le wifi marche pa sur mon ordi"))
    [answer] = await said(bot, 1)
    assert answer.interactive_type == "button"
    assert (answer.payload["interactive"]["body"]["text"]).startswith("Cliquez sur l'icône du Wi-Fi")
    assert [c["title"] for c in answer.choices] == ["Mot de passe e-mail", "Parler à quelqu'un", "Menu"]


async def test_signature_failures_do_nothing(bot: Bot) -> None:
    api = bot.api
    payload = api.user_sends(SAMIRA, "Bonjour")
    assert await api.deliver(bot.webhook, payload, signature="") == 401
    assert await api.deliver(bot.webhook, payload, signature="sha256=" + "0" * 64) == 403
    assert await api.deliver(bot.webhook, payload, app_secret="another-secret") == 403
    await asyncio.sleep(0.3)
    assert api.sent_to(SAMIRA) == []


async def test_an_oversized_delivery_is_refused_unread(bot: Bot) -> None:
    api = bot.api
    oversized = {"object": "whatsapp_business_account", "entry": [], "padding": "x" * 1_000_001}
    assert await api.deliver(bot.webhook, oversized) == 413
    assert await api.deliver(bot.webhook, api.user_sends(SAMIRA, "Bonjour")) == 200
    assert len(await api.wait_for_messages(SAMIRA, 5, timeout=10)) == 5


async def test_the_same_delivery_three_times_across_a_restart_is_handled_once(bot: Bot) -> None:
    api = bot.api
    payload = api.user_sends(SAMIRA, "Bonjour")
    assert await api.deliver(bot.webhook, payload) == 200
    welcome = await api.wait_for_messages(SAMIRA, 5, timeout=10)
    assert await api.deliver(bot.webhook, payload) == 200
    await bot.restart()
    assert await api.deliver(bot.webhook, payload) == 200
    await asyncio.sleep(0.5)
    assert len(api.sent_to(SAMIRA)) == len(welcome) == 5  # the welcome, once


async def test_outside_the_window_a_push_goes_as_the_template(bot: Bot) -> None:
    await onboard(bot)
    api = bot.api
    api.add_template(bot.settings.whatsapp_template_name, "fr", body_parameters=1)
    await api.deliver(bot.webhook, api.user_sends(SAMIRA, "je veux parler à l'assistante sociale"))
    await said(bot, 2)
    await api.deliver(bot.webhook, api.user_sends(SAMIRA, "mon contrat"))
    await said(bot, 3)
    # Two days later a social worker answers: the window is closed, the template carries the text.
    bot.clock.advance(timedelta(days=2))
    factory = make_session_factory(bot.engine)
    from sqlalchemy import select

    from bot.core.messages import Button, Reply
    from bot.core.outbox import enqueue
    from bot.storage.db import unit_of_work
    from bot.storage.models import ConversationState

    back = Button("ho.back", "Retour au robot")
    with unit_of_work(factory) as session:
        pushed = [Reply("💬 Claire : Passez lundi à 9 h.", (back,))]
        enqueue(session, bot.clock.now(), "whatsapp", SAMIRA, pushed)
    await bot.restart()  # the dispatcher looks at once
    [template] = await said(bot, 1)
    assert template.template_name == bot.settings.whatsapp_template_name
    assert template.template_parameters == ["💬 Claire : Passez lundi à 9 h."]
    assert not [error for error in api.errors if "131047" in str(error)]
    # The template carried no button: a number typed now presses none (not even the ones before).
    with factory() as session:
        assert session.scalars(select(ConversationState.shown)).all() == [None]


async def test_a_telegram_social_worker_answers_a_whatsapp_trainee(
    engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    from sqlalchemy.orm import Session, sessionmaker

    from bot.storage.db import unit_of_work
    from bot.storage.models import Role
    from bot.storage.staff import add_staff
    from tests.e2e.test_handoff_telegram import text_has, wait_for
    from tests.e2e.test_telegram import STAFF_GROUP, TOKEN, button
    from tests.fakes.telegram_api import FakeBotApi

    claire = 501
    factory: sessionmaker[Session] = make_session_factory(engine)
    with unit_of_work(factory) as session:
        add_staff(session, "telegram", str(claire), "Claire", Role.SOCIAL_WORKER, clock.now())
    async with FakeGraphApi(clock=clock.now, app_secret=SECRET) as graph, FakeBotApi(token=TOKEN) as telegram:
        telegram.add_group(STAFF_GROUP, chat_type="supergroup", title="Équipe sociale")
        telegram.add_user(claire, first_name="Claire")
        configured = whatsapp_settings(
            settings,
            graph,
            port=free_port(),
            telegram_bot_token=SecretStr(TOKEN),
            telegram_api_url=telegram.base_url,
            telegram_staff_chat_id=STAFF_GROUP,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve(make_app(configured, engine, clock), stop))
        await wait_listening(configured.port)
        bot = Bot(graph, configured, engine, clock, stop, task)
        try:
            await onboard(bot)
            await graph.deliver(
                bot.webhook, graph.user_sends(SAMIRA, "je veux parler à l'assistante sociale")
            )
            await said(bot, 2)
            await graph.deliver(bot.webhook, graph.user_sends(SAMIRA, "mon ordi est cassé"))
            await said(bot, 3)
            alert = await wait_for(
                telegram, STAFF_GROUP, text_has("Demande n°1 : Samira (Horticulture), sur WhatsApp")
            )
            message, claim = button([alert], "✋ Je prends")
            telegram.user_presses(claire, message, claim, chat_id=STAFF_GROUP, first_name="Claire")
            await wait_for(telegram, claire, text_has("Vous suivez la demande n°1 de Samira"))
            telegram.user_sends(
                claire, "Bonjour Samira, passez au bureau 2 demain à 9 h.", first_name="Claire"
            )
            await wait_for(telegram, claire, text_has("✓ Envoyé à Samira."))
            relayed = await graph.wait_for_messages(SAMIRA, 2, timeout=15)
            texts_seen = [
                m.text or m.payload.get("interactive", {}).get("body", {}).get("text") for m in relayed
            ]
            assert "🙋 Claire a pris votre demande. Vous allez recevoir sa réponse ici." in texts_seen
            assert "💬 Claire : Bonjour Samira, passez au bureau 2 demain à 9 h." in texts_seen
            # Her answer, on WhatsApp, reaches Claire on Telegram.
            await graph.deliver(bot.webhook, graph.user_sends(SAMIRA, "merci, j'y serai"))
            await wait_for(telegram, claire, text_has("Samira (n°1) : merci, j'y serai"))
            # Her voice note on WhatsApp is downloaded from Meta and uploaded to Claire's chat.
            voice = b"OggS\x00samira-voice-note"
            await graph.deliver(bot.webhook, graph.user_sends_voice(SAMIRA, voice))
            audio = await wait_for(telegram, claire, lambda message: message.audio is not None)
            assert audio.audio is not None and audio.audio.content == voice
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=20)


async def test_faq_suggestions_come_as_a_list(bot: Bot) -> None:
    await onboard(bot)
    api = bot.api
    await api.deliver(bot.webhook, api.user_sends(SAMIRA, "cv"))
    [suggestions] = await said(bot, 1)
    assert suggestions.interactive_type == "list"
    titles = [choice["title"] for choice in suggestions.choices]
    assert titles[-2:] == ["Parler à quelqu'un", "Menu"] and len(titles) >= 4
    assert all(len(title) <= 24 for title in titles)
    first = suggestions.choices[0]["id"]
    await api.deliver(bot.webhook, api.user_picks(SAMIRA, suggestions, first))
    [answer] = await said(bot, 1)
    assert answer.text or answer.payload.get("interactive", {}).get("body", {}).get("text")


async def test_a_session_reminder_and_its_delivery_statuses_are_recorded(bot: Bot) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from bot.features.sessions import import_sessions
    from bot.files.session_file import SessionRow
    from bot.storage.db import unit_of_work
    from bot.storage.models import Reminder

    await onboard(bot)
    api = bot.api
    factory = make_session_factory(bot.engine)
    starts_at = datetime(
        2026, 11, 24, 13, 0, tzinfo=UTC
    )  # today 14:00: yesterday's 18:00 reminder is due now
    row = SessionRow(
        key="cv-1",
        module="Écrire son CV",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        place="Salle 3",
        is_video=False,
        filieres=("Horticulture",),
        trainer="Nadia",
        cancelled=False,
        line=2,
    )
    with unit_of_work(factory) as session:
        import_sessions(session, [row], bot.settings, bot.clock.now())
    await bot.restart()  # the scheduler's first tick sends what is due
    [reminder] = await said(bot, 1)
    assert reminder.interactive_type == "button"
    assert "Rappel : Écrire son CV" in reminder.payload["interactive"]["body"]["text"]

    def status() -> str | None:
        with factory() as session:
            return session.scalars(select(Reminder.delivery_status)).one()

    await api.wait_until(lambda: status() == "sent", timeout=10, what="the reminder's wamid recorded")
    await api.deliver(bot.webhook, api.status_of(reminder, "read"))
    await api.deliver(bot.webhook, api.status_of(reminder, "delivered"))  # late and out of order
    await api.wait_until(lambda: status() == "read", timeout=10, what="read recorded")
    await asyncio.sleep(0.3)
    assert status() == "read"


async def test_a_rate_limit_answer_is_waited_out_not_dropped(bot: Bot) -> None:
    api = bot.api
    api.fail_next(2, code=130429)  # Meta's "rate limit hit", twice
    assert await api.deliver(bot.webhook, api.user_sends(SAMIRA, "Bonjour")) == 200
    welcome = await api.wait_for_messages(SAMIRA, 5, timeout=20)
    assert len(welcome) == 5
    assert [error.code for error in api.errors][:2] == [130429, 130429]


# Thirteen choices (twelve tracks and "Je ne sais pas encore"): more than WhatsApp's list holds, so the
# filières are shown as numbered text, and a typed number presses one.
TWELVE_FILIERES = ";".join(f"Filière {number}" for number in range(1, 13))


async def test_two_instances_on_one_database_answer_one_trainee_alternately(
    engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    from sqlalchemy import select

    from bot.storage.db import make_engine
    from bot.storage.models import User

    async with FakeGraphApi(clock=clock.now, app_secret=SECRET) as api:
        base = whatsapp_settings(settings, api, filieres=TWELVE_FILIERES)
        url = engine.url.render_as_string(hide_password=False)
        # Two instances as two processes would be: their own engine, port, conversation and memory.
        instances = [base.model_copy(update={"port": free_port()}) for _ in range(2)]
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(serve(make_app(configured, make_engine(url), clock), stop))
            for configured in instances
        ]
        try:
            for configured in instances:
                await wait_listening(configured.port)
            first, second = (f"http://127.0.0.1:{configured.port}/whatsapp" for configured in instances)
            api.mark()
            assert await api.deliver(first, api.user_sends(SAMIRA, "Bonjour")) == 200
            consent = (await api.wait_for_messages(SAMIRA, 5, timeout=10))[-1]
            api.mark()
            await api.deliver(second, api.user_presses(SAMIRA, consent, "consent:yes"))
            [name] = await api.wait_for_messages(SAMIRA, 1, timeout=10)
            api.mark()
            await api.deliver(first, api.user_presses(SAMIRA, name, "name:ok"))
            [filieres] = await api.wait_for_messages(SAMIRA, 1, timeout=10)
            assert filieres.type == "text" and "3. Filière 3" in (filieres.text or "")
            # The number reaches the other instance, which never showed the list.
            api.mark()
            await api.deliver(second, api.user_sends(SAMIRA, "3"))
            done = await api.wait_for_messages(SAMIRA, 2, timeout=10)
            assert "Bienvenue, Samira" in (done[0].text or "")
            api.mark()
            await api.deliver(first, api.user_sends(SAMIRA, "3"))  # no numbered choices any more: text
            answers = await api.wait_for_messages(SAMIRA, 1, timeout=10)
            assert not any("Bienvenue" in (answer.text or "") for answer in answers)
        finally:
            stop.set()
            for task in tasks:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, timeout=20)
    with engine.connect() as connection:
        filiere = connection.scalar(select(User.filiere).where(User.external_id == SAMIRA))
    assert filiere == "Filière 3"


async def test_my_data_arrives_as_a_file(bot: Bot) -> None:
    await onboard(bot)
    api = bot.api
    await api.deliver(bot.webhook, api.user_sends(SAMIRA, "/mesdonnees"))
    summary, footer, announce, document = await said(bot, 4)
    assert "Samira, formation Horticulture" in (summary.text or "")
    assert "/oublier" in (footer.text or "")
    assert [choice["title"] for choice in announce.choices] == ["Parler à quelqu'un", "Menu"]
    assert document.type == "document" and document.media is not None
    assert document.media["filename"] == "mes-donnees.txt"
    export = api.media(str(document.media["id"]))
    assert export.mime_type == "text/plain"
    text = export.content.decode()
    assert "Prénom : Samira" in text and "Application : WhatsApp" in text
