"""The Telegram channel, on python-telegram-bot 22: Update -> IncomingMessage, Reply -> sendMessage.

Thin on purpose: it knows Telegram, not the conversation. It answers button presses (no spinner left),
removes the pressed keyboard (a stale button can't be pressed twice), escapes every text for HTML,
splits long answers, paces pushes, and honours Telegram's flood limits without dropping messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import html
import logging
import time
import warnings
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.channels.base import Receiver
from bot.channels.pipeline import ChannelContext, ChannelKind, ChannelRefused, Shown
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_limits import SlidingWindowRateLimiter
from bot.channels.web import bounded_body, json_object
from bot.config import Settings
from bot.core.inbox import Delivery, Received
from bot.core.messages import Button, IncomingMessage, Reply
from bot.core.outbox import Push, Undeliverable

log = logging.getLogger(__name__)

MediaFetcher = Callable[[str], Awaitable[tuple[bytes, str]]]

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
# Pushes (reminders, relays) to one private chat: at most one message a second (Telegram's advice).
PUSH_INTERVAL_SECONDS = 1.0
PUSH_MEMORY = 10_000
ALBUM_MEMORY = 10_000
NETWORK_RETRIES = 5
# While stopping, flood waits longer than this are not waited out (the process must end).
STOPPING_PATIENCE_SECONDS = 5
# Connections for chats served at once (the inbox worker's and the dispatcher's).
CONCURRENT_REQUESTS = 16
# Long polling: Telegram holds getUpdates open this long when there is nothing new.
POLL_TIMEOUT_SECONDS = 20
# After a failed getUpdates or a failed store, wait before trying again (doubling, up to the last).
POLL_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
# Keyboards kept built (a few kinds of answers, each with its buttons).
KEYBOARD_MEMORY = 1024
SEND_MESSAGE = "sendMessage"
GET_UPDATES = "getUpdates"
# Telegram counts the text after entity parsing, in UTF-16 units; escaping only adds characters, so
# measuring the escaped text is a safe upper bound.
MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH


def build_application(settings: Settings) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the python-telegram-bot application for these settings (its bot, limits and connections).

    Its Updater and update queue are not used: updates are stored in the inbox before Telegram is told
    they arrived (TelegramChannel polls), and the inbox worker hands them back one chat at a time.
    """
    assert settings.telegram_bot_token is not None
    base_url = settings.telegram_api_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(base_url)
        .base_file_url(base_url.removesuffix("/bot") + "/file/bot")
        # 30 messages/s overall and 20/min per group, as Telegram asks, without bursts; RetryAfter is
        # retried there, and below too.
        .rate_limiter(
            SlidingWindowRateLimiter(
                overall_max_rate=settings.telegram_messages_per_second, group_max_rate=20, max_retries=3
            )
        )
        # Long polling (through do_api_request too) holds one of these connections.
        .request(AiohttpRequest(CONCURRENT_REQUESTS + 1))
        .updater(None)
    )
    return builder.build()


def telegram_length(text: str) -> int:
    """Return a text's length as Telegram counts it: in UTF-16 code units (an emoji often counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a text into pieces whose HTML-escaped length fits in one message, at the nicest boundary."""
    pieces: list[str] = []
    rest = text.strip()
    while telegram_length(html.escape(rest, quote=False)) > limit:
        cut = _fitting_prefix_length(rest, limit)
        window = rest[:cut]
        # Prefer a paragraph, then a line, then a sentence, then a word; a hard cut only as a last resort.
        for separator in ("\n\n", "\n", ". ", " "):
            position = window.rfind(separator)
            if position > cut // 3:
                cut = position + len(separator)
                break
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces or [""]


def _fitting_prefix_length(text: str, limit: int) -> int:
    """Return the longest prefix length whose escaped form fits in limit."""
    length = 0
    size = 0
    for char in text:
        size += telegram_length(html.escape(char, quote=False))
        if size > limit:
            break
        length += 1
    return max(1, length)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Return one inline button per row, or None."""
    return _keyboard(reply.buttons) if reply.buttons else None


@functools.lru_cache(maxsize=KEYBOARD_MEMORY)
def _keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup:
    # The same keyboards come back all the time (the menu, an entry's follow-ups), and building
    # python-telegram-bot's objects is slow: built once, then shared (they are immutable).
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button.title, callback_data=button.id)] for button in buttons]
    )


def _command(text: str | None) -> str | None:
    """Return the command of a text ("/stats@cisp_bot ..." -> "stats"), or None."""
    if not text or not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].casefold() if len(text) > 1 else None


def attachment_ref(message: Message) -> str | None:
    """Return "<kind>:<file_id>" of a message's file, so that it can be sent on without a download."""
    if message.photo:
        return f"photo:{message.photo[-1].file_id}"  # the largest size
    for kind in ("voice", "audio", "video_note", "document", "video", "animation", "sticker"):
        media = getattr(message, kind)
        if media is not None:
            return f"{kind}:{media.file_id}"
    return None


def attachment_kind(message: Message) -> str | None:
    """Name what a message carries besides text, in the conversation's words."""
    if message.voice or message.audio or message.video_note:
        return "voice"
    if message.photo:
        return "photo"
    if message.document:
        return "document"
    if message.sticker:
        return "sticker"
    if message.video or message.animation:
        return "video"
    if message.location or message.venue:
        return "location"
    if message.contact:
        return "contact"
    return None


def _chat_of(data: dict[str, Any]) -> str:
    """Return the chat an update belongs to (its messages are handled in order), from its JSON."""
    for kind in ("message", "edited_message", "callback_query"):
        part = data.get(kind)
        if not isinstance(part, dict):
            continue
        message = part.get("message") if kind == "callback_query" else part
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and "id" in chat:
            return str(chat["id"])
        sender = part.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return str(sender["id"])
    return f"update:{data.get('update_id')}"  # nothing to order it with: on its own


class Sent(NamedTuple):
    """Where a message was posted (what Telegram answers to sendMessage, without the rest)."""

    chat_id: int
    message_id: int


class TelegramChannel:
    """Talk to trainees and staff on Telegram."""

    name = CHANNEL

    def __init__(self, settings: Settings, *, staff_commands: frozenset[str], webhook: bool = False) -> None:
        self.settings = settings
        # The only commands read in the staff group (the rest of its chatter is not the bot's).
        self.staff_commands = staff_commands
        self.application = build_application(settings)
        # Messages go through Bot.do_api_request (see _send_with_retries), which python-telegram-bot
        # answers with a suggestion to use send_message instead, at every call: heard, declined.
        for endpoint in (SEND_MESSAGE, GET_UPDATES):
            warnings.filterwarnings("ignore", message=f"Please use 'Bot.{endpoint}'", category=PTBUserWarning)
        self._receiver: Receiver | None = None
        self._polling: asyncio.Task[None] | None = None
        # Platform -> how to download one of its files ("<kind>:<id>"): to pass on a WhatsApp trainee's
        # voice note or document to a social worker here.
        self.media_fetchers: dict[str, MediaFetcher] = {}
        self._last_push: dict[int, float] = {}
        self._push_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._webhook = webhook
        self._stopping = False
        self._albums: dict[int, str] = {}  # the last album seen in each chat
        self._fallback_text = html.escape(
            texts.INTERNAL_ERROR.format(contact=settings.centre_contact), quote=False
        )
        token = settings.telegram_bot_token
        assert token is not None
        self._bot_id = token.get_secret_value().split(":", 1)[0]

    # ------------------------------------------------------------------ lifecycle

    async def start(self, receiver: Receiver) -> None:
        """Start the bot: long polling, or waiting for the webhook server to feed updates."""
        self._receiver = receiver
        try:
            await self.application.initialize()
        except InvalidToken as error:
            raise ChannelRefused(
                "Telegram refuse TELEGRAM_BOT_TOKEN : vérifiez le jeton donné par @BotFather"
            ) from error
        await self.application.start()
        if self._webhook:
            assert self.settings.public_url is not None
            await self.application.bot.set_webhook(
                url=f"{self.settings.public_url}/telegram",
                secret_token=self.settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            # A webhook left from an earlier run would make getUpdates fail: polling replaces it.
            await self.application.bot.delete_webhook()
            self._polling = asyncio.create_task(self._poll(receiver))
        log.info("Telegram channel started (%s)", "webhook" if self._webhook else "polling")

    async def stop_receiving(self) -> None:
        """Stop asking Telegram for updates (what was stored stays for the worker, or the next start)."""
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None

    async def stop(self) -> None:
        """Stop polling and close the connections (the dispatcher has finished sending)."""
        self._stopping = True
        await self.stop_receiving()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _poll(self, receiver: Receiver) -> None:
        """Long-poll Telegram; confirm updates (the next offset) only once they are stored."""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self._get_updates(offset)
                if updates:
                    await receiver.store([self.delivery(update) for update in updates])
                    offset = max(int(update["update_id"]) for update in updates) + 1
                failures = 0
            except InvalidToken:
                log.error("Telegram refuses TELEGRAM_BOT_TOKEN: polling stopped")
                return
            except Exception as error:
                # Not stored, so not confirmed: Telegram gives the same updates again next time.
                delay = POLL_RETRY_SECONDS[min(failures, len(POLL_RETRY_SECONDS) - 1)]
                failures += 1
                log.warning(
                    "Telegram polling failed (%s); trying again in %.1f s", type(error).__name__, delay
                )
                await asyncio.sleep(delay)

    async def _get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        api_kwargs: dict[str, Any] = {"timeout": POLL_TIMEOUT_SECONDS, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            api_kwargs["offset"] = offset
        # The raw JSON: it is stored as Telegram sent it, and read into objects once, when handled.
        updates = await self.application.bot.do_api_request(
            GET_UPDATES, api_kwargs=api_kwargs, read_timeout=POLL_TIMEOUT_SECONDS + 10
        )
        return [update for update in updates if isinstance(update, dict) and "update_id" in update]

    async def feed(self, data: dict[str, Any]) -> None:
        """Store an update received by the webhook server, before the server answers Telegram.

        Raises KeyError, TypeError or ValueError for a body that is not an update. Telegram resends an
        update it got no answer for; the inbox and the record of handled deliveries make that harmless.
        """
        assert self._receiver is not None, "start() first"
        Update.de_json(data, self.application.bot)  # refuse what is not an update, before storing it
        await self._receiver.store([self.delivery(data)])

    def routes(self) -> list[BaseRoute]:
        """Return the webhook route (webhook mode only): Telegram posts updates to /telegram."""
        return [Route("/telegram", self._on_webhook, methods=["POST"])] if self._webhook else []

    async def _on_webhook(self, request: Request) -> Response:
        """Store a Telegram update sent with the right secret; 200 only once stored."""
        secret = self.settings.webhook_secret
        assert secret is not None
        given = request.headers.get(SECRET_HEADER, "")
        # Constant time: the comparison must not tell an attacker how much of the secret they got right.
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call with a wrong or missing secret, refused")
            return JSONResponse({"ok": False}, status_code=403)
        body = await bounded_body(request)
        if body is None:
            return JSONResponse({"ok": False}, status_code=413)
        data = json_object(body)
        if data is None or not isinstance(data.get("update_id"), int):
            return JSONResponse({"ok": False}, status_code=400)
        # Stored before answering: if this process dies first, Telegram sends the update again.
        try:
            await self.feed(data)
        except (KeyError, TypeError, ValueError):
            log.warning("webhook call with an update that is not one, refused")
            return JSONResponse({"ok": False}, status_code=400)
        except Exception:
            log.exception("Telegram webhook call not stored; Telegram will send it again")
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    def delivery(self, data: dict[str, Any]) -> Delivery:
        """Return what the inbox keeps of an update: its chat (handled in order), its id, the update."""
        # update_ids are counted per bot: a database that served another bot (a test one) must not skip.
        return Delivery(CHANNEL, _chat_of(data), f"{self._bot_id}:{int(data['update_id'])}", data)

    # ------------------------------------------------------------------ incoming

    def incoming(self, update: Update) -> IncomingMessage | None:
        """Turn an update into a message for the conversation, or None when it is not for the bot."""
        # update_ids are counted per bot: a database that served another bot (a test one) must not skip.
        delivery = f"{self._bot_id}:{update.update_id}"
        query = update.callback_query
        if query is not None:
            chat = update.effective_chat
            if chat is None or (
                chat.type != ChatType.PRIVATE and chat.id != self.settings.telegram_staff_chat_id
            ):
                return None  # buttons are only sent in private chats and in the staff group
            return IncomingMessage(
                CHANNEL,
                str(query.from_user.id),
                button_id=query.data or "",
                user_name=query.from_user.first_name,
                delivery_id=delivery,
                chat_id=None if chat.type == ChatType.PRIVATE else str(chat.id),
            )
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return None
        chat = message.chat
        text = message.text or message.caption
        if message.media_group_id is not None:
            # An album arrives as one message per photo: answer the first only.
            if self._albums.get(chat.id) == message.media_group_id:
                return None
            if len(self._albums) > ALBUM_MEMORY:
                self._albums.clear()
            self._albums[chat.id] = message.media_group_id
        # In groups the bot only serves the staff group: staff commands, and replies to its own messages
        # (a worker answering a ticket alert). It ignores the chatter, and never starts a trainee's
        # dialogue there (its answers would be read by everyone).
        reply_to = None
        if chat.type != ChatType.PRIVATE:
            if chat.id != self.settings.telegram_staff_chat_id:
                return None
            replied = message.reply_to_message
            if (
                replied is not None
                and replied.from_user is not None
                and str(replied.from_user.id) == self._bot_id
            ):
                reply_to = f"{chat.id}:{replied.message_id}"
            elif _command(text) not in self.staff_commands:
                return None
        return IncomingMessage(
            CHANNEL,
            str(message.from_user.id),
            text=text,
            attachment=attachment_kind(message),
            user_name=message.from_user.first_name,
            delivery_id=delivery,
            attachment_ref=attachment_ref(message),
            chat_id=None if chat.type == ChatType.PRIVATE else str(chat.id),
            reply_to=reply_to,
        )

    async def handle_stored(self, item: Received) -> Received | None:
        """Handle a stored update: settle its button, then have the conversation answer it."""
        assert self._receiver is not None, "start() first"
        update = Update.de_json(item.payload, self.application.bot)
        message = self.incoming(update)
        if update.callback_query is not None and message is not None and message.chat_id is not None:
            # A button of the staff group ("Je prends"): its keyboard stays until the claim is decided
            # (the winner's claim rewrites the alert); another worker's tap gets an answer, not silence.
            await self._answer_query(update)
        elif update.callback_query is not None:
            fresh = await self._settle_pressed_button(update)
            # Taken again after a crash: this very press may have taken its keyboard away, unhandled.
            if message is not None and not fresh and item.attempts == 1:
                log.info("button pressed again on an old keyboard, ignored")
                message = None
        return await self._receiver.answer(item, message)

    async def _answer_query(self, update: Update) -> None:
        """Stop the button's spinner."""
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()
        except TelegramError as error:
            log.info("callback query not answered: %s", error)

    async def _settle_pressed_button(self, update: Update) -> bool:
        """Stop the spinner and take the keyboard away; return False when it was already taken away."""
        query = update.callback_query
        assert query is not None
        await self._answer_query(update)
        if query.message is None or not isinstance(query.message, Message):
            return True
        if not query.message.reply_markup:
            return False
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return False  # removed by an earlier press of the same keyboard
            log.debug("keyboard not removed: %s", error)  # too old to edit: handle the press anyway
        except TelegramError as error:
            log.info("keyboard not removed: %s", error)
        return True

    # ------------------------------------------------------------------ outgoing

    async def send(self, user_id: str, replies: Sequence[Reply]) -> None:
        """Push replies to a private chat, at most one message a second per chat."""
        chat_id = int(user_id)
        async with self._push_locks[chat_id]:
            for piece, markup in self._messages(replies):
                wait = self._last_push.get(chat_id, 0.0) + PUSH_INTERVAL_SECONDS - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._send_with_retries(chat_id, piece, markup)
                self._last_push[chat_id] = time.monotonic()
        if len(self._last_push) > PUSH_MEMORY:
            # Forget chats pushed to long ago: the pacing only matters within a second.
            horizon = time.monotonic() - PUSH_INTERVAL_SECONDS
            for stale in [chat for chat, at in self._last_push.items() if at < horizon]:
                del self._last_push[stale]
                lock = self._push_locks.get(stale)
                if lock is not None and not lock.locked():
                    del self._push_locks[stale]

    async def push(self, item: Push) -> list[str]:
        """Deliver an outbox push: rewrite a message, or send replies (paced) then a passed-on file."""
        chat_id = int(item.recipient)
        if item.edit is not None:
            await self._edit(item)
            return []
        if item.reply:
            return await self._deliver(chat_id, item.replies)
        refs: list[str] = []
        async with self._push_locks[chat_id]:
            messages = self._messages(item.replies)
            for piece, markup in messages:
                await self._pace(chat_id)
                sent = await self._send_with_retries(chat_id, piece, markup, pushing=True)
                if sent is not None:
                    refs.append(f"{sent.chat_id}:{sent.message_id}")
            if item.attachment is not None:
                await self._pace(chat_id)
                await self._send_attachment(chat_id, item)
            if any(reply.document is not None for reply in item.replies):
                await self._pace(chat_id)
                await self._send_documents(chat_id, item.replies)
        return refs

    async def _pace(self, chat_id: int) -> None:
        wait = self._last_push.get(chat_id, 0.0) + PUSH_INTERVAL_SECONDS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_push[chat_id] = time.monotonic()

    async def _edit(self, item: Push) -> None:
        assert item.edit is not None
        chat_text, _, message_text = item.edit.partition(":")
        reply = item.replies[-1] if item.replies else Reply("")
        try:
            await self.application.bot.edit_message_text(
                html.escape(split_text(reply.text)[0], quote=False),
                chat_id=int(chat_text),
                message_id=int(message_text),
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(reply),
            )
        except BadRequest as error:
            # Too old to edit, deleted, or already as wanted: the change was shown another way too.
            log.info("message not rewritten: %s", error)

    async def _send_attachment(self, chat_id: int, item: Push) -> None:
        attachment = item.attachment
        assert attachment is not None
        kind, _, file_id = attachment.ref.partition(":")
        senders = {
            "photo": self.application.bot.send_photo,
            "voice": self.application.bot.send_voice,
            "audio": self.application.bot.send_audio,
            "video_note": self.application.bot.send_video_note,
            "document": self.application.bot.send_document,
            "video": self.application.bot.send_video,
            "animation": self.application.bot.send_animation,
            "sticker": self.application.bot.send_sticker,
        }
        send = senders.get(kind)
        fetch = self.media_fetchers.get(attachment.channel)
        if attachment.channel != CHANNEL and fetch is not None:
            # A file from another platform (a WhatsApp voice note): downloaded there, uploaded here.
            await self._send_fetched(chat_id, attachment.kind, attachment.ref, fetch)
            return
        if attachment.channel != CHANNEL or send is None or not file_id:
            # A file from another platform cannot be sent on by reference: say where it is.
            note = texts.ATTACHMENT_NOT_PASSED.format(kind=attachment.kind)
            await self._send_with_retries(chat_id, html.escape(note, quote=False), None)
            return
        try:
            await send(chat_id, file_id)
        except Forbidden:
            log.warning("chat %s blocked the bot; file not delivered", chat_id)
        except BadRequest as error:
            log.warning("file not passed on: %s", error)
            note = texts.ATTACHMENT_NOT_PASSED.format(kind=attachment.kind)
            await self._send_with_retries(chat_id, html.escape(note, quote=False), None)

    async def _send_fetched(self, chat_id: int, kind: str, ref: str, fetch: MediaFetcher) -> None:
        try:
            content, filename = await fetch(ref)
        except Exception:
            log.warning("file not fetched from its platform", exc_info=True)
            note = texts.ATTACHMENT_NOT_PASSED.format(kind=kind)
            await self._send_with_retries(chat_id, html.escape(note, quote=False), None)
            return
        upload = InputFile(content, filename=filename)
        bot = self.application.bot
        try:
            if kind == "voice":
                await bot.send_audio(chat_id, upload)  # WhatsApp's OGG may not be a Telegram voice note
            elif kind == "photo":
                await bot.send_photo(chat_id, upload)
            else:
                await bot.send_document(chat_id, upload)
        except Forbidden:
            log.warning("chat %s blocked the bot; file not delivered", chat_id)
        except BadRequest as error:
            log.warning("file not passed on: %s", error)
            note = texts.ATTACHMENT_NOT_PASSED.format(kind=kind)
            await self._send_with_retries(chat_id, html.escape(note, quote=False), None)

    async def _deliver(self, chat_id: int, replies: Sequence[Reply]) -> list[str]:
        """Answer a message just received: at once (not paced like a push), files after the texts."""
        if chat_id < 0:
            replies = [Reply(reply.text) for reply in replies]  # no buttons in groups
        refs = []
        for piece, markup in self._messages(replies):
            sent = await self._send_with_retries(chat_id, piece, markup, pushing=True)
            if sent is not None:
                refs.append(f"{sent.chat_id}:{sent.message_id}")
        await self._send_documents(chat_id, replies)
        return refs

    async def _send_documents(self, chat_id: int, replies: Sequence[Reply]) -> None:
        """Send the files of the replies (an .ics), after their texts."""
        for reply in replies:
            document = reply.document
            if document is None:
                continue
            try:
                await self.application.bot.send_document(
                    chat_id, InputFile(document.content, filename=document.filename)
                )
            except Forbidden:
                log.warning("chat %s blocked the bot; file not delivered", chat_id)
            except BadRequest:
                log.exception("Telegram refused a file to chat %s", chat_id)

    @staticmethod
    def _messages(replies: Sequence[Reply]) -> list[tuple[str, InlineKeyboardMarkup | None]]:
        """Return (escaped text, keyboard) per Telegram message; buttons go on a reply's last piece."""
        messages = []
        for reply in replies:
            pieces = split_text(reply.text)
            for index, piece in enumerate(pieces):
                markup = keyboard(reply) if index == len(pieces) - 1 else None
                messages.append((html.escape(piece, quote=False), markup))
        return messages

    async def _send_with_retries(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None, *, pushing: bool = False
    ) -> Sent | None:
        """Send one message; wait out flood limits (never drop), retry network errors with backoff.

        With ``pushing`` (an outbox push), a chat that can never be reached raises Undeliverable, so
        that the person is marked unreachable rather than tried again forever.
        """
        network_failures = 0
        while True:
            try:
                # The request of Bot.send_message, without turning Telegram's answer into a Message
                # object: that parsing cost a fifth of the channel's CPU per reply (measured).
                sent = await self.application.bot.do_api_request(
                    SEND_MESSAGE,
                    api_kwargs={
                        "chat_id": chat_id,
                        "text": text,
                        "parse_mode": ParseMode.HTML,
                        "reply_markup": markup,
                    },
                )
                return Sent(sent["chat"]["id"], sent["message_id"])
            except RetryAfter as error:
                delay = error.retry_after
                seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
                if self._stopping and seconds > STOPPING_PATIENCE_SECONDS:
                    log.error("stopping: message to chat %s not sent (flood limit, %.0f s)", chat_id, seconds)
                    return None
                log.warning("Telegram flood limit: waiting %.0f s before sending again", seconds)
                await asyncio.sleep(seconds)
            except ChatMigrated as error:
                log.error("chat %s became %s: update TELEGRAM_STAFF_CHAT_ID", chat_id, error.new_chat_id)
                chat_id = error.new_chat_id
            except Forbidden as error:
                # The person blocked the bot: nothing will ever get through.
                log.warning("chat %s blocked the bot; message not delivered", chat_id)
                if pushing:
                    raise Undeliverable(str(error)) from error
                return None
            except BadRequest as error:
                if pushing and "chat not found" in str(error).lower():
                    log.warning("chat %s does not exist (any more); message not delivered", chat_id)
                    raise Undeliverable(str(error)) from error
                log.exception("Telegram refused a message to chat %s", chat_id)
                if text != self._fallback_text:
                    # Never silence: the person gets a plain message rather than nothing.
                    text, markup = self._fallback_text, None
                    continue
                return None
            except NetworkError:
                # A timed-out request may still have reached Telegram: a retry can then show the
                # message twice, which is better than losing it.
                network_failures += 1
                if network_failures > NETWORK_RETRIES or self._stopping:
                    log.exception(
                        "message to chat %s not delivered after %d tries", chat_id, network_failures
                    )
                    raise
                await asyncio.sleep(min(30.0, 0.5 * 2**network_failures))


def _build(context: ChannelContext) -> TelegramChannel:
    webhook = context.settings.public_url is not None
    return TelegramChannel(context.settings, staff_commands=context.staff_commands, webhook=webhook)


# Served when TELEGRAM_BOT_TOKEN is set: by webhook with PUBLIC_URL, else by long polling.
def shown(reply: Reply) -> list[Shown]:
    """Return the Telegram messages of a reply as the person sees them (what TelegramChannel sends)."""
    messages = []
    for text, markup in TelegramChannel._messages([reply]):
        titles = tuple(row[0].text for row in markup.inline_keyboard) if markup is not None else ()
        messages.append(Shown(html.unescape(text), titles, "buttons" if titles else ""))
    return messages


KIND = ChannelKind(
    name=CHANNEL,
    settings_hint="TELEGRAM_BOT_TOKEN",
    configured=lambda settings: settings.telegram_bot_token is not None,
    build=_build,
    render=shown,
)
