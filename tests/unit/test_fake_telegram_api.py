"""The fake Bot API speaks the protocol: a bare python-telegram-bot bot runs against it over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageId,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import (
    EntityParseError,
    FakeBotApi,
    bot_builder,
    parse_html,
    parse_markdown_v2,
    serve_asgi,
)

TOKEN = "123456:ABC-fake_token"
USER = 42
WORKER = 77  # a social worker, in the staff group
GROUP = -1001234567890
KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Oui", callback_data="yes"), InlineKeyboardButton("Non", callback_data="no")]]
)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    """The bot of an initialized, not polling, application."""
    async with bot_builder(api, TOKEN).build() as app:
        yield app.bot


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    if message.text == "menu":
        await message.reply_text("Choisissez :", reply_markup=KEYBOARD)
    else:
        await message.reply_text(message.text)


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"Reçu : {query.data}")
    await query.edit_message_reply_markup(reply_markup=None)


def echo_app(api: FakeBotApi, rate_limiter: AIORateLimiter | None = None) -> Application:
    builder = bot_builder(api, TOKEN)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(on_press))
    return app


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


# --------------------------------------------------------------------------- the echo bot


async def test_a_user_message_is_echoed(api: FakeBotApi) -> None:
    async with polling(echo_app(api)):
        api.user_sends(USER, "Bonjour, j'ai une question")
        [reply] = await api.wait_for_messages(USER, 1)

    assert reply.text == "Bonjour, j'ai une question"
    assert reply.chat_id == USER
    assert reply.message_id == 2  # the user's message was 1: one counter per chat
    assert reply.reply_markup is None
    assert ("getMe", {}) in api.calls
    assert not api.errors
    # The polling loop confirmed the update on its way out.
    assert api.pending_updates() == []


async def test_a_button_press_is_answered_and_the_keyboard_removed(api: FakeBotApi) -> None:
    async with polling(echo_app(api)):
        api.user_sends(USER, "menu")
        [menu] = await api.wait_for_messages(USER, 1)
        assert menu.callback_data == ["yes", "no"]
        assert menu.reply_markup == [
            [{"text": "Oui", "callback_data": "yes"}, {"text": "Non", "callback_data": "no"}]
        ]

        update_id = api.user_presses(USER, menu, "yes")
        await api.wait_until(lambda: menu.reply_markup is None, what="keyboard removed")

    [answer] = api.answered_callbacks
    assert answer.text == "Reçu : yes"
    assert answer.update_id == update_id
    assert menu.markup_history == [menu.markup_history[0], None]
    with pytest.raises(ValueError, match="no button"):
        api.user_presses(USER, menu, "yes")  # nothing left on screen to press


# PTB's own rate limiter reads RetryAfter.retry_after, deprecated as an int since PTB 22.2.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_429_is_retried_after_retry_after_then_succeeds(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", error_code=429, retry_after=1)
    async with polling(echo_app(api, AIORateLimiter(max_retries=2))):
        started = time.monotonic()
        api.user_sends(USER, "encore")
        [reply] = await api.wait_for_messages(USER, 1, timeout=5)
        waited = time.monotonic() - started

    assert reply.text == "encore"
    assert len(api.calls_to("sendMessage")) == 2
    [error] = api.errors
    assert (error.method, error.error_code) == ("sendMessage", 429)
    assert waited >= 1.0


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_an_overall_flood_limit_refuses_sends_beyond_it_with_429() -> None:
    async with FakeBotApi(token=TOKEN, max_messages_per_second=3) as api:
        api.add_user(USER)
        async with bot_builder(api, TOKEN).build() as app:
            await asyncio.gather(*(app.bot.send_message(USER, f"n°{number}") for number in range(3)))
            with pytest.raises(RetryAfter, match="Retry in 1 seconds"):
                await app.bot.send_message(USER, "de trop")
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"{api.base_url}{TOKEN}/sendMessage", data={"chat_id": USER, "text": "?"}
                )
            assert answer.status_code == 429
            assert answer.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
            # Only messages count: other methods are served.
            assert (await app.bot.get_chat(USER)).id == USER
            await asyncio.sleep(1.0)  # the three accepted sends leave the window
            await app.bot.send_message(USER, "enfin")

    assert sorted(m.text or "" for m in api.sent_messages(USER)) == ["enfin", "n°0", "n°1", "n°2"]
    assert api.flood_refusals == 2
    assert [(e.method, e.error_code) for e in api.errors] == [("sendMessage", 429)] * 2


# --------------------------------------------------------------------------- Bot API errors


async def test_text_over_4096_characters_is_refused(api: FakeBotApi, bot: Bot) -> None:
    api.add_user(USER)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "a" * 4097)
    # The limit counts the text after markup: 4096 characters in bold fit.
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert [e.description for e in api.errors] == ["Bad Request: message is too long"]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("<b>gras", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Tom & Jerry", "Can't find end of the entity starting at byte offset 4"),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="rouge">x</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_bad_html_is_refused(text: str, detail: str) -> None:
    with pytest.raises(EntityParseError) as error:
        parse_html(text)
    assert str(error.value) == detail


async def test_bad_html_is_a_400_that_sends_nothing(api: FakeBotApi, bot: Bot) -> None:
    api.add_user(USER)
    with pytest.raises(BadRequest, match="Can't parse entities: can't find end tag"):
        await bot.send_message(USER, "<b>gras", parse_mode=ParseMode.HTML)
    [error] = api.errors
    assert (
        error.description
        == "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    assert api.sent_messages() == []


async def test_good_html_and_markdown_v2_are_rendered(api: FakeBotApi, bot: Bot) -> None:
    api.add_user(USER)
    html_text = (
        '<b>Rendez-vous</b> &amp; <a href="https://cisp.example/rdv?a=1&amp;b=2">lien</a> '
        "<tg-spoiler>secret</tg-spoiler> &lt;3 &#233;"
    )
    sent = await bot.send_message(USER, html_text, parse_mode=ParseMode.HTML)
    assert sent.text == "Rendez-vous & lien secret <3 é"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 11),
        ("text_link", 14, 4),
        ("spoiler", 19, 6),
    ]
    assert sent.entities[1].url == "https://cisp.example/rdv?a=1&b=2"

    with pytest.raises(BadRequest, match=r"character '\.' is reserved"):
        await bot.send_message(USER, "Merci.", parse_mode=ParseMode.MARKDOWN_V2)
    sent = await bot.send_message(USER, "*Merci* \\(vraiment\\)\\.", parse_mode=ParseMode.MARKDOWN_V2)
    assert sent.text == "Merci (vraiment)."
    recorded = api.message(USER, sent.message_id)
    assert recorded.text == "*Merci* \\(vraiment\\)\\."
    assert recorded.rendered_text == "Merci (vraiment)."
    assert recorded.parse_mode == "MarkdownV2"


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("*gras _italique_* __souligné__ ~barré~ ||caché||", "gras italique souligné barré caché"),
        ("`a_b*c` et ```python\nprint(1)\n```", "a_b*c et print(1)\n"),
        ("[lien](https://example.org/a_(b\\))", "lien"),
        (">citation\n>suite\nfin", "citation\nsuite\nfin"),
        ("1\\+1 \\= 2\\!", "1+1 = 2!"),
    ],
)
def test_markdown_v2_accepts_entity_syntax(text: str, plain: str) -> None:
    assert parse_markdown_v2(text)[0] == plain


@pytest.mark.parametrize(
    "text", ["a-b", "1+1", "(x)", "fin!", "#tag", "x = 1", "{}", "a|b", "*gras", "_a *b_ c*"]
)
def test_markdown_v2_rejects_unescaped_reserved_characters(text: str) -> None:
    with pytest.raises(EntityParseError):
        parse_markdown_v2(text)


def test_html_entities_offsets_count_utf16() -> None:
    plain, entities = parse_html("😀 <b>x</b>")
    assert plain == "😀 x"
    assert entities == [{"type": "bold", "offset": 3, "length": 1}]


async def test_edits_and_deletions(api: FakeBotApi, bot: Bot) -> None:
    api.add_user(USER)
    sent = await bot.send_message(USER, "Choisissez :", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=999)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD)

    edited = await bot.edit_message_text("Merci !", chat_id=USER, message_id=sent.message_id)
    assert isinstance(edited, type(sent))
    assert edited.text == "Merci !"
    assert edited.edit_date is not None
    recorded = api.message(USER, sent.message_id)
    assert recorded.text_history == ["Choisissez :", "Merci !"]
    assert recorded.reply_markup is None  # edited without a keyboard: Telegram drops it

    assert await bot.delete_message(USER, sent.message_id)
    assert recorded.deleted
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("trop tard", chat_id=USER, message_id=sent.message_id)


async def test_unknown_chat_blocked_user_and_answered_query(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "Bonjour")
    api.add_user(USER)
    api.block_bot(USER)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "Rappel")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("12345")


async def test_wrong_token_and_unknown_method(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=api.base_url, base_file_url=api.base_file_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}999:WRONG/getMe")
        assert response.status_code == 401
        assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        response = await client.post(f"{api.base_url}{TOKEN}/sendTelepathy")
        assert response.status_code == 404
        assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_server_failures_surface_as_network_errors(api: FakeBotApi, bot: Bot) -> None:
    api.add_user(USER)
    api.fail_next("sendMessage", error_code=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER, "un")
    api.fail_next("sendMessage", drop_connection=True)
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "deux")
    await bot.send_message(USER, "trois")
    assert [m.text for m in api.sent_messages(USER)] == ["trois"]


# --------------------------------------------------------------------------- updates


async def test_get_updates_offset_confirms_and_drops(api: FakeBotApi, bot: Bot) -> None:
    first = api.user_sends(USER, "un")
    second = api.user_sends(USER, "deux")
    assert second == first + 1

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first, second]
    assert updates[0].message is not None and updates[0].message.text == "un"
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first]
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]  # confirms the first
    assert [u.update_id for u in await bot.get_updates()] == [second]
    assert await bot.get_updates(offset=second + 1) == ()
    assert api.pending_updates() == []


async def test_long_polling_waits_for_an_update_or_times_out(api: FakeBotApi, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2

    asyncio.get_running_loop().call_later(0.2, api.user_sends, USER, "réveil")
    started = time.monotonic()
    [update] = await bot.get_updates(timeout=5)
    assert time.monotonic() - started < 1
    assert update.message is not None and update.message.text == "réveil"


async def test_allowed_updates_filters_update_types(api: FakeBotApi, bot: Bot) -> None:
    api.user_sends(USER, "texte")
    await bot.send_message(USER, "menu", reply_markup=KEYBOARD)
    pressed = api.user_presses(USER, api.sent_messages(USER)[0], "no")
    assert [u.update_id for u in await bot.get_updates(allowed_updates=["callback_query"])] == [pressed]


async def test_a_second_poller_terminates_the_first(api: FakeBotApi, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.1)
    async with httpx.AsyncClient() as other_instance:
        second = await other_instance.post(f"{api.base_url}{TOKEN}/getUpdates", data={"timeout": "0"})
    assert second.json() == {"ok": True, "result": []}
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await first


async def test_redeliver_queues_the_same_update_id_again(api: FakeBotApi, bot: Bot) -> None:
    update_id = api.user_sends(USER, "une fois")
    [update] = await bot.get_updates()
    assert await bot.get_updates(offset=update_id + 1) == ()

    api.redeliver(update_id)
    [again] = await bot.get_updates(offset=update_id + 1)  # a poller already past it still gets it
    assert again.update_id == update_id
    assert again.to_dict() == update.to_dict()
    assert await bot.get_updates(offset=update_id + 1) == ()


async def test_a_redelivered_update_reaches_the_handlers_twice(api: FakeBotApi) -> None:
    async with polling(echo_app(api)):
        update_id = api.user_sends(USER, "doublon")
        await api.wait_for_messages(USER, 1)
        api.redeliver(update_id)
        replies = await api.wait_for_messages(USER, 2)
    assert [m.text for m in replies] == ["doublon", "doublon"]


async def test_media_updates_parse_and_files_download(api: FakeBotApi, bot: Bot) -> None:
    ids = [
        api.user_sends_voice(USER, content=b"OggS-voice-bytes"),
        api.user_sends_photo(USER, caption="ma carte"),
        api.user_sends_document(USER, file_name="CV.pdf"),
        api.user_sends_sticker(USER),
    ]
    voice, photo, document, sticker = (u.message for u in await bot.get_updates())
    assert all(m is not None for m in (voice, photo, document, sticker))
    assert voice is not None and voice.voice is not None and voice.voice.mime_type == "audio/ogg"
    assert photo is not None and len(photo.photo) == 3 and photo.caption == "ma carte"
    assert document is not None and document.document is not None
    assert document.document.file_name == "CV.pdf"
    assert sticker is not None and sticker.sticker is not None and sticker.sticker.emoji == "👍"
    assert ids == sorted(ids)

    file = await bot.get_file(voice.voice.file_id)
    assert bytes(await file.download_as_bytearray()) == b"OggS-voice-bytes"
    thumbnail = await bot.get_file(photo.photo[0].file_id)
    assert len(await thumbnail.download_as_bytearray()) > 0


async def test_uploads_are_recorded_with_filename_and_size(api: FakeBotApi, bot: Bot) -> None:
    api.add_user(USER)
    content = bytes(range(256)) * 40  # binary, with CR/LF bytes
    sent = await bot.send_document(
        USER,
        content,
        filename="attestation.pdf",
        caption="<b>Votre</b> attestation",
        parse_mode=ParseMode.HTML,
    )
    assert sent.document is not None and sent.document.file_name == "attestation.pdf"
    assert sent.caption == "Votre attestation"
    await bot.send_photo(USER, b"\xff\xd8\xff\xe0photo", filename="plan.jpg")
    await bot.send_document(USER, sent.document.file_id)  # re-sent by file_id

    document, photo, again = api.sent_messages(USER)
    assert document.document is not None
    assert (document.document.filename, document.document.size) == ("attestation.pdf", len(content))
    assert document.document.content == content
    assert photo.photo is not None and photo.photo.filename == "plan.jpg"
    assert again.document is not None and again.document.content == content


async def test_groups_commands_chat_actions_and_get_chat(api: FakeBotApi, bot: Bot) -> None:
    update_id = api.user_sends(USER, "/start@cisp_test_bot rdv", chat_id=-1001234, chat_type="supergroup")
    [update] = await bot.get_updates()
    assert update.update_id == update_id
    message = update.message
    assert message is not None and message.chat.type == "supergroup" and message.chat.id == -1001234
    assert message.from_user is not None and message.from_user.language_code == "fr"
    assert not message.from_user.is_bot
    assert message.parse_entities() == {message.entities[0]: "/start@cisp_test_bot"}

    await bot.send_chat_action(-1001234, "typing")
    assert api.chat_actions == [(-1001234, "typing")]
    await bot.set_my_commands([("start", "Commencer"), ("aide", "Obtenir de l'aide")], language_code="fr")
    assert [c.command for c in await bot.get_my_commands(language_code="fr")] == ["start", "aide"]
    chat = await bot.get_chat(USER)
    assert (chat.id, chat.type, chat.first_name) == (USER, "private", "Samira")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(31337)


async def test_json_and_form_requests_are_both_understood(api: FakeBotApi) -> None:
    api.add_user(USER)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    url = f"{api.base_url}{TOKEN}/sendMessage"
    async with httpx.AsyncClient() as client:
        as_json = await client.post(url, json={"chat_id": USER, "text": "json", "reply_markup": markup})
        as_form = await client.post(
            url, data={"chat_id": str(USER), "text": "123", "reply_markup": str(markup)}
        )
        as_query = await client.get(url, params={"chat_id": USER, "text": "query"})
    assert as_json.json()["result"]["reply_markup"] == markup
    assert as_form.status_code == 400  # str(dict) is not JSON
    assert as_query.json()["result"]["text"] == "query"
    assert [params["text"] for params in api.calls_to("sendMessage")] == ["json", "123", "query"]
    assert api.calls_to("sendMessage")[0]["chat_id"] == USER


# --------------------------------------------------------------------------- media relay and copies


def messages_of(updates: tuple[Update, ...]) -> list[Message]:
    messages = [update.message for update in updates]
    assert all(message is not None for message in messages)
    return [message for message in messages if message is not None]


async def test_user_media_are_relayed_by_file_id(api: FakeBotApi, bot: Bot) -> None:
    api.add_group(GROUP, chat_type="supergroup")
    api.user_sends_voice(USER, duration=6)
    api.user_sends_audio(USER, title="Entretien", performer="Samira")
    api.user_sends_video(USER, caption="ma vidéo", width=640, height=360)
    api.user_sends_video_note(USER, length=240)
    api.user_sends_sticker(USER, emoji="🙏")
    voice, audio, video, note, sticker = messages_of(await bot.get_updates())
    assert voice.voice and audio.audio and video.video and note.video_note and sticker.sticker
    assert (audio.audio.title, audio.audio.performer, audio.audio.file_name) == (
        "Entretien",
        "Samira",
        "enregistrement.mp3",
    )
    assert (video.video.width, video.video.height, video.caption) == (640, 360, "ma vidéo")
    assert note.video_note.length == 240

    sent_voice = await bot.send_voice(
        GROUP,
        voice.voice.file_id,
        caption="<b>Samira</b> : message vocal",
        parse_mode=ParseMode.HTML,
        reply_markup=KEYBOARD,
    )
    assert sent_voice.voice is not None and sent_voice.voice.file_id == voice.voice.file_id
    assert sent_voice.voice.mime_type == "audio/ogg"
    assert sent_voice.caption == "Samira : message vocal"
    assert sent_voice.reply_markup == KEYBOARD
    sent_audio = await bot.send_audio(GROUP, audio.audio.file_id, caption="audio")
    assert sent_audio.audio is not None and sent_audio.audio.title == "Entretien"
    sent_video = await bot.send_video(GROUP, video.video.file_id, reply_parameters=ReplyParameters(1))
    assert sent_video.video is not None and sent_video.video.width == 640
    sent_note = await bot.send_video_note(GROUP, note.video_note.file_id)
    assert sent_note.video_note is not None and sent_note.video_note.length == 240
    sent_sticker = await bot.send_sticker(GROUP, sticker.sticker.file_id, reply_markup=KEYBOARD)
    assert sent_sticker.sticker is not None and sent_sticker.sticker.emoji == "🙏"

    recorded = api.sent_messages(GROUP)
    assert [m.method for m in recorded] == [
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendVideoNote",
        "sendSticker",
    ]
    assert [m.file.kind if m.file else None for m in recorded] == [
        "voice",
        "audio",
        "video",
        "video_note",
        "sticker",
    ]
    relayed_voice = recorded[0]
    assert relayed_voice.voice is not None and relayed_voice.voice.file_id == voice.voice.file_id
    assert relayed_voice.voice.attributes == {"duration": 6}
    assert relayed_voice.text == "<b>Samira</b> : message vocal"
    assert relayed_voice.rendered_text == "Samira : message vocal"
    assert relayed_voice.callback_data == ["yes", "no"]
    assert api.calls_to("sendVoice")[0]["voice"] == voice.voice.file_id
    assert recorded[2].reply_to_message_id == 1
    assert recorded[4].callback_data == ["yes", "no"]
    assert relayed_voice.describe() == (
        f"#1 to {GROUP}: <sendVoice voice> '<b>Samira</b> : message vocal' buttons=['yes', 'no']"
    )
    assert not api.errors


async def test_media_uploads_are_recorded_downloadable_and_sendable_again(api: FakeBotApi, bot: Bot) -> None:
    api.add_user(USER)
    voice = await bot.send_voice(USER, b"OggS-bot-voice", duration=3, caption="Réponse de Marc")
    audio = await bot.send_audio(
        USER, b"ID3-bot-audio", filename="consignes.mp3", performer="CISP", title="Consignes"
    )
    video = await bot.send_video(USER, b"mp4-video", filename="visite.mp4", width=640, height=360)
    note = await bot.send_video_note(USER, b"mp4-round", length=240)
    sticker = await bot.send_sticker(USER, b"RIFF-webp", emoji="👋")

    assert voice.voice is not None and voice.voice.mime_type == "audio/ogg"
    assert voice.caption == "Réponse de Marc"
    assert audio.audio is not None and (audio.audio.title, audio.audio.file_name) == (
        "Consignes",
        "consignes.mp3",
    )
    assert audio.audio.mime_type == "audio/mpeg"
    assert video.video is not None and (video.video.width, video.video.height) == (640, 360)
    assert note.video_note is not None and note.video_note.length == 240
    assert sticker.sticker is not None and sticker.sticker.emoji == "👋"

    recorded_voice, recorded_audio, *_ = api.sent_messages(USER)
    assert recorded_voice.voice is not None and recorded_voice.voice.content == b"OggS-bot-voice"
    assert recorded_voice.voice.attributes == {"duration": 3}
    assert recorded_audio.audio is not None and recorded_audio.audio.filename == "consignes.mp3"
    file = await bot.get_file(voice.voice.file_id)
    assert file.file_path is not None and file.file_path.startswith(f"{api.base_file_url}{TOKEN}/voice/")
    assert bytes(await file.download_as_bytearray()) == b"OggS-bot-voice"

    again = await bot.send_voice(USER, voice.voice.file_id)
    assert again.voice is not None and again.voice.file_unique_id == voice.voice.file_unique_id
    assert again.caption is None
    assert api.calls_to("sendVoice")[1]["voice"] == voice.voice.file_id


async def test_unknown_and_mismatched_file_ids_are_refused_like_telegram(api: FakeBotApi, bot: Bot) -> None:
    api.user_sends_photo(USER)
    api.user_sends_voice(USER)
    photo, voice = messages_of(await bot.get_updates())
    assert voice.voice is not None

    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_voice(USER, "AwACAgQAAxkBAAIunknown")
    with pytest.raises(BadRequest, match="Can't use file of type photo as voicenote"):
        await bot.send_voice(USER, photo.photo[-1].file_id)
    with pytest.raises(BadRequest, match="Can't use file of type voicenote as photo"):
        await bot.send_photo(USER, voice.voice.file_id)
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}{TOKEN}/sendSticker", data={"chat_id": str(USER)})
    assert response.status_code == 400
    # python-telegram-bot lower-cases the descriptions it raises: the fake's own words are in api.errors.
    assert [e.description for e in api.errors] == [
        "Bad Request: wrong file identifier/HTTP URL specified",
        "Bad Request: can't use file of type Photo as VoiceNote",
        "Bad Request: can't use file of type VoiceNote as Photo",
        "Bad Request: there is no sticker in the request",
    ]
    assert api.sent_messages(USER) == []

    # Voice notes, audio, documents... are all documents to Telegram: the file_id crosses, and the
    # message still shows a voice note.
    as_document = await bot.send_document(USER, voice.voice.file_id)
    assert as_document.voice is not None and as_document.document is None
    [recorded] = api.sent_messages(USER)
    assert recorded.method == "sendDocument"
    assert recorded.voice is not None and recorded.voice.file_id == voice.voice.file_id


async def test_copy_message_copies_the_content_only(api: FakeBotApi, bot: Bot) -> None:
    api.add_group(GROUP, chat_type="supergroup")
    photo_update = api.user_sends_photo(USER, caption="mon attestation")
    text_update = api.user_sends(USER, "/aide j'ai une question")
    voice_update = api.user_sends_voice(USER)
    photo_id, text_id, voice_id = (
        api.update(u)["message"]["message_id"] for u in (photo_update, text_update, voice_update)
    )
    photo_file_id = api.update(photo_update)["message"]["photo"][-1]["file_id"]

    copied = await bot.copy_message(GROUP, USER, photo_id, reply_markup=KEYBOARD)
    assert isinstance(copied, MessageId)
    photo_copy = api.message(GROUP, copied.message_id)
    assert (photo_copy.method, photo_copy.copied_from) == ("copyMessage", (USER, photo_id))
    assert photo_copy.photo is not None and photo_copy.photo.file_id == photo_file_id
    assert photo_copy.rendered_text == "mon attestation"
    assert photo_copy.callback_data == ["yes", "no"]
    assert photo_copy.describe().endswith("<copyMessage photo> 'mon attestation' buttons=['yes', 'no']")

    # A text message keeps its text and entities: a caption means nothing to it.
    text_copy = api.message(GROUP, (await bot.copy_message(GROUP, USER, text_id, caption="x")).message_id)
    assert text_copy.file is None and text_copy.rendered_text == "/aide j'ai une question"
    assert text_copy.entities == [{"type": "bot_command", "offset": 0, "length": 5}]
    # A new caption replaces the original one, an empty one removes it.
    voice_copy = api.message(
        GROUP,
        (
            await bot.copy_message(
                GROUP, USER, voice_id, caption="De <b>Samira</b>", parse_mode=ParseMode.HTML
            )
        ).message_id,
    )
    assert voice_copy.voice is not None and voice_copy.rendered_text == "De Samira"
    assert voice_copy.entities == [{"type": "bold", "offset": 3, "length": 6}]
    bare = api.message(GROUP, (await bot.copy_message(GROUP, USER, photo_id, caption="")).message_id)
    assert bare.photo is not None and bare.rendered_text is None
    # A bot message is copied too, the original keyboard left behind.
    reminder = await bot.send_message(
        USER, "<b>Rappel</b> demain", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )
    reminder_copy = api.message(GROUP, (await bot.copy_message(GROUP, USER, reminder.message_id)).message_id)
    assert reminder_copy.rendered_text == "Rappel demain"
    assert reminder_copy.entities == [{"type": "bold", "offset": 0, "length": 6}]
    assert reminder_copy.reply_markup is None

    # What the group sees, in a reply to the copy: the photo, with no link to the original.
    reply_update = api.user_sends(
        WORKER, "Je regarde", chat_id=GROUP, chat_type="supergroup", reply_to=copied.message_id
    )
    shown = api.update(reply_update)["message"]["reply_to_message"]
    assert shown["photo"][-1]["file_id"] == photo_file_id
    assert shown["caption"] == "mon attestation"
    assert "forward_origin" not in shown and shown["from"]["is_bot"]

    with pytest.raises(BadRequest, match="Message to copy not found"):
        await bot.copy_message(GROUP, USER, 999)
    assert await bot.delete_message(USER, photo_id)
    with pytest.raises(BadRequest, match="Message to copy not found"):
        await bot.copy_message(GROUP, USER, photo_id)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.copy_message(GROUP, 31337, text_id)
    api.block_bot(USER)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.copy_message(USER, GROUP, copied.message_id)


async def test_a_group_press_reply_edit_and_popup(api: FakeBotApi, bot: Bot) -> None:
    api.add_group(GROUP, title="Assistants sociaux", chat_type="supergroup")
    ticket = await bot.send_message(GROUP, "Samira demande à être rappelée", reply_markup=KEYBOARD)

    pressed = api.user_presses(WORKER, api.message(GROUP, ticket.message_id), "yes", first_name="Marc")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "yes"
    assert query.from_user.id == WORKER and query.from_user.first_name == "Marc"
    assert isinstance(query.message, Message)
    assert (query.message.chat.id, query.message.chat.type, query.message.message_id) == (
        GROUP,
        "supergroup",
        ticket.message_id,
    )
    assert api.callback_answer(pressed) is None
    await bot.answer_callback_query(query.id, text="Vous prenez la demande", show_alert=True)
    answer = await api.wait_for_callback_answer(pressed)
    assert (answer.text, answer.show_alert) == ("Vous prenez la demande", True)

    edited = await bot.edit_message_text(
        "Pris en charge par Marc", chat_id=GROUP, message_id=ticket.message_id
    )
    assert isinstance(edited, Message) and edited.chat.type == "supergroup"
    assert api.message(GROUP, ticket.message_id).text_history == [
        "Samira demande à être rappelée",
        "Pris en charge par Marc",
    ]

    # The worker answers in the group, replying to the ticket: by text, then by voice.
    api.user_sends(
        WORKER,
        "Je l'appelle demain",
        chat_id=GROUP,
        chat_type="supergroup",
        reply_to=ticket.message_id,
        first_name="Marc",
    )
    api.user_sends_voice(
        WORKER,
        chat_id=GROUP,
        chat_type="supergroup",
        reply_to=api.message(GROUP, ticket.message_id),
        first_name="Marc",
    )
    text_reply, voice_reply = messages_of(await bot.get_updates(offset=update.update_id + 1))
    for reply in (text_reply, voice_reply):
        replied = reply.reply_to_message
        assert replied is not None and replied.message_id == ticket.message_id
        assert replied.from_user is not None and replied.from_user.is_bot
        assert replied.text == "Pris en charge par Marc"
        assert reply.chat.id == GROUP and reply.from_user is not None and reply.from_user.id == WORKER
    assert voice_reply.voice is not None

    # The bot relays the voice note to the trainee.
    api.add_user(USER)
    relayed = await bot.copy_message(USER, GROUP, voice_reply.message_id)
    relayed_voice = api.message(USER, relayed.message_id).voice
    assert relayed_voice is not None and relayed_voice.file_id == voice_reply.voice.file_id

    # A reply_to_message never holds a reply_to_message of its own, as on Telegram.
    thanks = await bot.send_message(GROUP, "Merci", reply_parameters=ReplyParameters(text_reply.message_id))
    assert thanks.reply_to_message is not None and thanks.reply_to_message.text == "Je l'appelle demain"
    nested = api.user_sends(
        WORKER, "De rien", chat_id=GROUP, chat_type="supergroup", reply_to=thanks.message_id
    )
    shown = api.update(nested)["message"]["reply_to_message"]
    assert shown["text"] == "Merci" and "reply_to_message" not in shown
    with pytest.raises(ValueError, match="no message 999"):
        api.user_sends(WORKER, "?", chat_id=GROUP, chat_type="supergroup", reply_to=999)
    assert not api.errors


# --------------------------------------------------------------------------- webhook mode


async def test_webhook_mode(api: FakeBotApi) -> None:
    app = echo_app(api)
    secret = "s3cret-token"

    async def receive(request: Request) -> Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return Response(status_code=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return Response()

    receiver = Starlette(routes=[Route("/telegram", receive, methods=["POST"])])
    async with serve_asgi(receiver) as root, app:
        await app.start()
        await app.bot.set_webhook(f"{root}/telegram", secret_token=secret, allowed_updates=["message"])
        with pytest.raises(Conflict, match="webhook is active"):
            await app.bot.get_updates()

        update_id = api.user_sends(USER, "par webhook")
        info = await app.bot.get_webhook_info()
        assert (info.url, info.pending_update_count, info.allowed_updates) == (
            f"{root}/telegram",
            1,
            ("message",),
        )

        assert await api.deliver_to_webhook(update_id, secret_token="wrong") == 403
        assert await api.deliver_to_webhook(update_id, send_secret=False) == 403
        assert await api.deliver_to_webhook(update_id) == 200
        [reply] = await api.wait_for_messages(USER, 1)
        assert reply.text == "par webhook"
        assert (await app.bot.get_webhook_info()).pending_update_count == 0

        api.user_sends(USER, "oubliée")
        assert await app.bot.delete_webhook(drop_pending_updates=True)
        assert await app.bot.get_updates() == ()
        await app.stop()
    assert api.webhook_deliveries == [(update_id, 403), (update_id, 403), (update_id, 200)]


# --------------------------------------------------------------------------- helpers


async def test_wait_for_messages_counts_from_the_mark_and_explains_timeouts(
    api: FakeBotApi, bot: Bot
) -> None:
    api.add_user(USER)
    await bot.send_message(USER, "avant")
    api.mark()
    await bot.send_message(USER, "après")
    assert [m.text for m in await api.wait_for_messages(USER, 1)] == ["après"]
    with contextlib.suppress(BadRequest):
        await bot.send_message(USER, "<b>cassé", parse_mode=ParseMode.HTML)
    with pytest.raises(AssertionError) as failure:
        await api.wait_for_messages(USER, 2, timeout=0.1)
    report = str(failure.value)
    assert "expected 2 message(s) to chat 42" in report
    assert "'après'" in report
    assert "can't parse entities" in report


def test_the_server_also_runs_in_a_thread() -> None:
    with FakeBotApi(token=TOKEN) as api:
        api.user_sends(USER, "depuis un autre fil")
        response = httpx.post(f"{api.base_url}{TOKEN}/getUpdates", data={"timeout": "1"})
        body: dict[str, Any] = response.json()
        assert body["ok"] and body["result"][0]["message"]["text"] == "depuis un autre fil"
        assert httpx.get(f"{api.base_url}{TOKEN}/getMe").json()["result"]["is_bot"] is True
