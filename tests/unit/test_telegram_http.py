"""The Telegram channel's HTTP client: Bot API calls arrive as sent, and failures surface as with httpx."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.channels.telegram_http import AiohttpRequest
from tests.fakes.telegram_api import FakeBotApi

TOKEN = "123456:ABC-fake_token"
USER = 42


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


def bot_for(base_url: str, request: AiohttpRequest) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=request, get_updates_request=AiohttpRequest(1))


async def test_texts_keyboards_and_files_arrive_as_sent(api: FakeBotApi) -> None:
    api.add_user(USER)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Oui, c'est ça", callback_data="faq:wifi")]])
    content = bytes(range(256)) * 8  # binary, with CR/LF bytes
    async with bot_for(api.base_url, AiohttpRequest(2)) as bot:
        await bot.send_message(
            USER, "<b>Réglé</b> &amp; rangé", parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
        await bot.send_document(USER, content, filename="rendez-vous.ics", caption="Votre rendez-vous")

    text, document = api.sent_messages(USER)
    assert text.rendered_text == "Réglé & rangé"
    assert text.callback_data == ["faq:wifi"]
    assert document.document is not None
    assert (document.document.filename, document.document.content) == ("rendez-vous.ics", content)
    assert document.text == "Votre rendez-vous"


async def test_an_error_answer_raises_what_python_telegram_bot_raises(api: FakeBotApi) -> None:
    async with bot_for(api.base_url, AiohttpRequest(1)) as bot:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(999, "Bonjour")


async def test_an_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()


async def test_a_silent_server_times_out() -> None:
    test_over = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await test_over.wait()
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(1, read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
        test_over.set()
        server.close()
        await server.wait_closed()
