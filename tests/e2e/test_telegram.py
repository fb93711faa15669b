"""Telegram end to end: python-telegram-bot's real HTTP layer against the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.pipeline import Pipeline
from bot.channels.telegram import TelegramChannel, split_text, telegram_length
from bot.channels.web import create_web_app
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.inbox import Inbox
from bot.core.messages import Reply
from bot.core.outbox import Outbox, Push
from bot.features.faq import FAQ
from bot.storage.db import unit_of_work
from bot.storage.models import Role
from bot.storage.staff import add_staff
from tests.fakes.telegram_api import FakeBotApi, SentMessage, serve_asgi

TOKEN = "123456:ABC-cisp_test"
SAMIRA = 4242
STAFF_GROUP = -100777


@dataclass
class Bot:
    api: FakeBotApi
    channel: TelegramChannel
    conversation: Conversation


def telegram_settings(settings: Settings, api: FakeBotApi, **more: object) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": TOKEN,
            "telegram_api_url": api.base_url,
            "telegram_staff_chat_id": STAFF_GROUP,
            **more,
        }
    )


@dataclass
class Started:
    """A Telegram channel running as in `cisp-bot run`: stored updates in, answers out by the outbox."""

    channel: TelegramChannel
    pipeline: Pipeline

    async def stop(self) -> None:
        await self.pipeline.stop()


async def start_channel(settings: Settings, conversation: Conversation, *, webhook: bool = False) -> Started:
    channel = TelegramChannel(settings, staff_commands=conversation.features.staff_commands, webhook=webhook)
    return await start_built_channel(channel, conversation)


async def start_built_channel(channel: TelegramChannel, conversation: Conversation) -> Started:
    factory, clock = conversation.session_factory, conversation.services.clock
    pipeline = Pipeline(conversation, Inbox(factory, clock), Outbox(factory, clock), poll_seconds=0.2)
    await pipeline.start([channel])
    return Started(channel, pipeline)


@pytest.fixture
async def bot(conversation: Conversation, settings: Settings) -> AsyncIterator[Bot]:
    from pydantic import SecretStr

    async with FakeBotApi(token=TOKEN) as api:
        configured = telegram_settings(settings, api, telegram_bot_token=SecretStr(TOKEN))
        started = await start_channel(configured, conversation)
        try:
            yield Bot(api, started.channel, conversation)
        finally:
            await started.stop()


async def next_messages(api: FakeBotApi, chat_id: int, count: int) -> list[SentMessage]:
    messages = await api.wait_for_messages(chat_id, count, timeout=10)
    api.mark()
    return messages


def shown(message: SentMessage) -> str:
    assert message.rendered_text is not None, "not a text message"
    return message.rendered_text


def button(messages: list[SentMessage], title: str) -> tuple[SentMessage, str]:
    for message in messages:
        for candidate in message.buttons:
            if candidate["text"] == title:
                return message, candidate["callback_data"]
    raise AssertionError(f"no button {title!r} in {[m.buttons for m in messages]}")


async def onboard(api: FakeBotApi, user_id: int = SAMIRA, name: str = "Samira") -> None:
    api.mark()
    api.user_sends(user_id, "/start", first_name=name)
    welcome = await next_messages(api, user_id, 5)
    assert "Vous êtes d'accord ?" in shown(welcome[-1])
    message, data = button(welcome, "J'accepte")
    api.user_presses(user_id, message, data, first_name=name)
    asked = await next_messages(api, user_id, 1)
    message, data = button(asked, name)  # the profile's first name is offered as a button
    api.user_presses(user_id, message, data, first_name=name)
    filieres = await next_messages(api, user_id, 1)
    message, data = button(filieres, "Horticulture")
    api.user_presses(user_id, message, data, first_name=name)
    done = await next_messages(api, user_id, 2)
    assert f"Bienvenue, {name}" in shown(done[0])


async def test_onboarding_faq_answer_and_buttons(bot: Bot) -> None:
    api = bot.api
    await onboard(api)
    # Every pressed button was answered (no spinner) and its keyboard taken away.
    assert len(api.answered_callbacks) == 3
    edits = api.calls_to("editMessageReplyMarkup")
    assert len(edits) == 3
    for edit in edits:
        assert not api.message(SAMIRA, int(edit["message_id"])).reply_markup

    api.user_sends(SAMIRA, "le wifi marche pa sur mon ordi")
    answer = (await next_messages(api, SAMIRA, 1))[0]
    assert shown(answer).startswith("Cliquez sur l'icône du Wi-Fi")
    assert [b["text"] for b in answer.buttons] == ["Mot de passe e-mail", "Parler à quelqu'un", "Menu"]
    assert answer.parse_mode == "HTML"

    message, data = button([answer], "Mot de passe e-mail")
    api.user_presses(SAMIRA, message, data)
    follow_up = (await next_messages(api, SAMIRA, 1))[0]
    assert "Mot de passe oublié" in shown(follow_up)
    # The keyboard is gone: a second tap on the old button (a slow phone) is not handled twice.
    api.user_presses(SAMIRA, message, data, check_button=False)
    api.user_sends(SAMIRA, "merci")
    after = await next_messages(api, SAMIRA, 1)
    assert [shown(reply) for reply in after] == ["Avec plaisir ! 😊"]


async def test_text_with_special_characters_renders_as_written(bot: Bot, tmp_path: Path) -> None:
    api = bot.api
    await onboard(api, name="Zoë")
    special = "Ouvrez <Paramètres> & cliquez sur [Réseau] (Wi-Fi) : *_ok_* ; 5 < 6 > 4"
    await bot.channel.send(str(SAMIRA), [Reply(special)])
    sent = (await next_messages(api, SAMIRA, 1))[0]
    assert shown(sent) == special


async def test_long_answers_are_split_cleanly(bot: Bot) -> None:
    api = bot.api
    api.add_user(SAMIRA)
    paragraph = "Une ligne d'explication & des <détails>. " * 40
    long_text = "\n\n".join([paragraph.strip()] * 8)  # about 13,000 characters
    await bot.channel.send(str(SAMIRA), [Reply(long_text, ())])
    pieces = await next_messages(api, SAMIRA, 4)
    assert all(len(shown(piece)) <= 4096 for piece in pieces)
    assert "\n\n".join(shown(piece) for piece in pieces) == long_text
    assert all(len(chunk) <= 4096 for chunk in split_text("x" * 10_000))
    # Telegram counts UTF-16 units: an emoji counts twice.
    emoji_text = "🙂 " * 3000
    assert all(telegram_length(chunk) <= 4096 for chunk in split_text(emoji_text))
    await bot.channel.send(str(SAMIRA), [Reply(emoji_text)])
    emoji_pieces = await next_messages(api, SAMIRA, 3)
    assert " ".join(shown(piece) for piece in emoji_pieces).split() == emoji_text.split()


async def test_voice_photo_document_sticker_get_kind_answers(bot: Bot) -> None:
    api = bot.api
    await onboard(api)
    for send, expected in (
        (api.user_sends_voice, "messages vocaux"),
        (api.user_sends_photo, "photos"),
        (api.user_sends_document, "fichiers"),
        (api.user_sends_sticker, "avec des mots"),
    ):
        send(SAMIRA)
        reply = (await next_messages(api, SAMIRA, 1))[0]
        assert expected in shown(reply)


async def test_an_album_gets_one_answer(bot: Bot) -> None:
    api = bot.api
    await onboard(api)
    for _ in range(4):
        api.user_sends_photo(SAMIRA, media_group_id="album-1")
    api.user_sends(SAMIRA, "merci")
    replies = await next_messages(api, SAMIRA, 2)
    assert [shown(reply).split(".")[0] for reply in replies] == [
        "🖼️ Je ne peux pas regarder les photos",
        "Avec plaisir ! 😊",
    ]


async def test_staff_commands_are_refused_to_trainees(
    bot: Bot, session_factory: sessionmaker[Session], clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    await onboard(api)
    with caplog.at_level(logging.WARNING):
        api.user_sends(SAMIRA, "/stats")
        refused = (await next_messages(api, SAMIRA, 1))[0]
    assert "Je ne connais pas cette commande" in shown(refused)
    assert any("staff command /stats refused" in record.getMessage() for record in caplog.records)

    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "900", "Claire", Role.SOCIAL_WORKER, clock.now())
    api.user_sends(900, "/stats", first_name="Claire")
    stats = (await next_messages(api, 900, 1))[0]
    assert "Stagiaires inscrits : 1" in shown(stats)


async def test_staff_group_serves_staff_commands_only(
    bot: Bot, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    api = bot.api
    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "900", "Claire", Role.ADMIN, clock.now())
    api.add_group(STAFF_GROUP, title="Équipe", chat_type="supergroup")
    api.user_sends(900, "bonjour l'équipe", first_name="Claire", chat_id=STAFF_GROUP, chat_type="supergroup")
    api.user_sends(900, "/gaps", first_name="Claire", chat_id=STAFF_GROUP, chat_type="supergroup")
    replies = await next_messages(api, STAFF_GROUP, 1)
    assert len(replies) == 1 and "Aucune question sans réponse" in shown(replies[0])
    # An alert to the staff group, as the outbox hands it over: shown as written (no markup read in it).
    await bot.channel.push(Push(0, "telegram", str(STAFF_GROUP), (Reply("⚠️ Test <alerte> & co"),)))
    alert = (await next_messages(api, STAFF_GROUP, 1))[0]
    assert shown(alert) == "⚠️ Test <alerte> & co"
    # Anyone else's commands and dialogue stay out of the group (their answers would be read by all).
    api.user_sends(555, "/start", first_name="Inconnu", chat_id=STAFF_GROUP, chat_type="supergroup")
    api.user_sends(555, "/mesdonnees", first_name="Inconnu", chat_id=STAFF_GROUP, chat_type="supergroup")
    api.user_sends(555, "/stats", first_name="Inconnu", chat_id=STAFF_GROUP, chat_type="supergroup")
    refused = await next_messages(api, STAFF_GROUP, 1)
    assert [shown(m) for m in refused] == [
        "Je ne connais pas cette commande. Tapez /aide pour voir ce que je sais faire."
    ]
    assert not refused[0].buttons
    # Other groups are ignored entirely.
    api.add_group(-100888, title="Autre")
    api.user_sends(900, "/stats", chat_id=-100888, chat_type="group")
    await asyncio.sleep(0.5)
    assert api.sent_messages(-100888) == []


async def test_flood_limit_answer_is_waited_out_and_sent(bot: Bot) -> None:
    api = bot.api
    await onboard(api)
    # Four 429s in a row: more than the rate limiter retries by itself; the channel keeps waiting.
    api.fail_next("sendMessage", error_code=429, retry_after=1, times=4)
    api.user_sends(SAMIRA, "le wifi marche pa")
    answers = await api.wait_for_messages(SAMIRA, 1, timeout=15)
    await asyncio.sleep(0.3)
    assert shown(answers[0]).startswith("Cliquez sur l'icône du Wi-Fi")
    assert len([m for m in api.sent_messages(SAMIRA) if shown(m).startswith("Cliquez")]) == 1, "sent once"
    assert sum(1 for error in api.errors if error.error_code == 429) == 4


async def test_an_update_delivered_twice_is_handled_once(bot: Bot) -> None:
    api = bot.api
    await onboard(api)
    update_id = api.user_sends(SAMIRA, "le wifi marche pa")
    await next_messages(api, SAMIRA, 1)
    api.redeliver(update_id)
    api.user_sends(SAMIRA, "merci")
    after = await next_messages(api, SAMIRA, 1)
    assert [shown(message) for message in after] == ["Avec plaisir ! 😊"]


async def test_webhook_requires_the_secret(
    conversation: Conversation, settings: Settings, engine: Engine
) -> None:
    from pydantic import SecretStr

    async with FakeBotApi(token=TOKEN) as api:
        # The server listens before the channel starts (Telegram is told the address then); the routes
        # are the channel's own, known once it is built.
        web = create_web_app(engine=engine, faq=conversation.services.get(FAQ), routes=())
        async with serve_asgi(web) as url:
            configured = telegram_settings(
                settings,
                api,
                telegram_bot_token=SecretStr(TOKEN),
                public_url=url,
                telegram_webhook_secret=SecretStr("s3cret-value"),
            )
            channel = TelegramChannel(
                configured, staff_commands=conversation.features.staff_commands, webhook=True
            )
            web.router.routes.extend(channel.routes())
            started = await start_built_channel(channel, conversation)
            try:
                assert api.webhook_url == f"{url}/telegram"
                update_id = api.user_sends(SAMIRA, "/start")
                assert await api.deliver_to_webhook(update_id, secret_token="wrong") == 403
                assert await api.deliver_to_webhook(update_id, send_secret=False) == 403
                assert api.sent_messages(SAMIRA) == []
                assert await api.deliver_to_webhook(update_id) == 200
                welcome = await api.wait_for_messages(SAMIRA, 5, timeout=10)
                assert "Bonjour" in shown(welcome[0])
                async with httpx.AsyncClient() as client:
                    health = await client.get(f"{url}/healthz")
                    assert health.status_code == 200 and health.json()["database"] == "ok"
                    garbage = await client.post(
                        f"{url}/telegram",
                        content=b"{not json",
                        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"},
                    )
                    assert garbage.status_code == 400
                    # More than a webhook body can be: refused before it is read or parsed.
                    huge = await client.post(
                        f"{url}/telegram",
                        content=b"{" + b" " * 1_000_001 + b"}",
                        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"},
                    )
                    assert huge.status_code == 413
                    not_an_update = await client.post(
                        f"{url}/telegram",
                        content=b"[1, 2]",
                        headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-value"},
                    )
                    assert not_an_update.status_code == 400
                assert api.sent_messages(SAMIRA) == welcome
            finally:
                await started.stop()
