"""An in-process fake of the Telegram Bot API, served over HTTP on 127.0.0.1.

The fake speaks the Bot API's wire protocol (``POST /bot<token>/<method>`` with JSON, form or
multipart parameters; ``{"ok": ..., "result"/"error_code"/"description"/"parameters"}`` answers;
``GET /file/bot<token>/<path>`` downloads), so a real python-telegram-bot ``Application`` talks to
it through its real httpx layer. Tests play the user's side with :meth:`FakeBotApi.user_sends`,
:meth:`FakeBotApi.user_presses` & co., and assert on what the bot did with
:meth:`FakeBotApi.sent_messages`, :meth:`FakeBotApi.wait_for_messages`, :attr:`FakeBotApi.calls`.

Usage::

    async with FakeBotApi(token="123:ABC") as api:
        app = bot_builder(api, "123:ABC").build()
        ...
        api.user_sends(42, "Bonjour")
        [reply] = await api.wait_for_messages(42, 1)

Everything the test side calls is thread-safe: state sits behind one lock and wake-ups reach the
server's event loop through ``call_soon_threadsafe``. The server also runs in a thread of its own
with ``with FakeBotApi(...) as api:``.

Files: photos, voice notes, audio, videos, video notes, stickers and documents, sent by the user
(``user_sends_voice`` & co.) or by the bot (uploaded, or by the file_id of a file the fake knows),
can be sent again by file_id, downloaded with getFile, and copied with copyMessage. As on Telegram,
a photo's file_id is refused where another kind is expected and the other way round, while the
other kinds (all "documents" to Telegram) cross freely and stay what they are: a voice note's file_id
sent with sendAudio gives a voice message.

Flood limits: ``FakeBotApi(max_messages_per_second=30)`` accepts at most 30 messages (sendMessage,
send* of files, copyMessage) in any one second and answers the others with Telegram's 429
"Too Many Requests: retry after 1"; :attr:`FakeBotApi.flood_refusals` counts them. Off by default.

Deliberate simplifications: no inline mode, channels, payments or business features; media are
recorded, not inspected (durations and sizes of uploads come from the parameters, or are 0); the
MarkdownV2 check is a strict subset of Telegram's parser; lengths are counted in code points.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import html
import ipaddress
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from email.utils import collapse_rfc2231_value
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from telegram.ext import ApplicationBuilder

from tests.fakes.serving import BackgroundServing

JSONDict = dict[str, Any]
Keyboard = list[list[JSONDict]]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

#: Update types delivered when ``allowed_updates`` is empty or was never set (as on Telegram).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

ERR_MESSAGE_TOO_LONG = "Bad Request: message is too long"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
ERR_TEXT_EMPTY = "Bad Request: message text is empty"
ERR_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
ERR_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
ERR_CHAT_NOT_FOUND = "Bad Request: chat not found"
ERR_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_COPY_NOT_FOUND = "Bad Request: message to copy not found"
ERR_BLOCKED = "Forbidden: bot was blocked by the user"
ERR_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
ERR_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
ERR_OTHER_POLLER = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
ENTITY_ERROR_PREFIX = "Bad Request: can't parse entities: "
#: The methods that post a message, which the optional overall limit (``max_messages_per_second``) counts.
MESSAGE_SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendVideoNote",
        "sendSticker",
        "copyMessage",
    }
)

_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
}

# Parameters python-telegram-bot sends as bare strings: never JSON-decode them from form data.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "data",
        "callback_query_id",
        "url",
        "secret_token",
        "action",
        "file_id",
        "inline_message_id",
        "ip_address",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "query",
        "business_connection_id",
        "message_effect_id",
        "document",
        "photo",
        "voice",
        "audio",
        "video",
        "animation",
        "sticker",
        "video_note",
        "thumbnail",
        "cover",
        "performer",
    }
)

#: The file kinds the fake knows (each a Message field), with TDLib's name for the kind, which Telegram
#: quotes in "can't use file of type Photo as Document".
FILE_TYPE_NAMES = {
    "photo": "Photo",
    "voice": "VoiceNote",
    "audio": "Audio",
    "video": "Video",
    "video_note": "VideoNote",
    "sticker": "Sticker",
    "document": "Document",
}
# Where Telegram's downloads put each kind (the start of getFile's file_path).
_FILE_DIRECTORIES = {
    "photo": "photos",
    "voice": "voice",
    "audio": "music",
    "video": "videos",
    "video_note": "video_notes",
    "sticker": "stickers",
    "document": "documents",
}
# What Telegram reports for an upload whose part says only application/octet-stream.
_DEFAULT_MIME_TYPES = {"voice": "audio/ogg", "audio": "audio/mpeg", "video": "video/mp4"}
# The first characters of Telegram's file_ids, which encode the kind.
_FILE_ID_PREFIXES = {
    "photo": "AgACAgQ",
    "voice": "AwACAgQ",
    "audio": "CQACAgQ",
    "video": "BAACAgQ",
    "video_note": "DQACAgQ",
    "sticker": "CAACAgQ",
    "document": "BQACAgQ",
}


# --------------------------------------------------------------------------- formatting


class EntityParseError(ValueError):
    """Formatted text Telegram would refuse; the message is the part after "can't parse entities: "."""


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


@dataclass
class _OpenEntity:
    type: str
    start: int  # UTF-16 offset in the plain text
    index: int  # index in the source text, for error messages
    tag: str = ""
    extra: JSONDict = field(default_factory=dict)
    emit: bool = True


class _PlainText:
    """The text as the user will see it, with the entities found so far."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[JSONDict] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += _u16(text)

    def close(self, entity: _OpenEntity, end: int | None = None) -> None:
        stop = self.length if end is None else end
        if entity.emit and stop > entity.start:
            self.entities.append(
                {"type": entity.type, "offset": entity.start, "length": stop - entity.start, **entity.extra}
            )

    def result(self) -> tuple[str, list[JSONDict]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_HTML_ATTRIBUTE = re.compile(r"([a-zA-Z_][a-zA-Z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{0,31});")
_HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into the plain text and its entities, or raise EntityParseError.

    Accepts the tags Telegram documents (b, strong, i, em, u, ins, s, strike, del,
    span class="tg-spoiler", tg-spoiler, a href, code, pre, blockquote, tg-emoji) and the entities
    &lt; &gt; &amp; &quot; and numeric ones. A raw "<" or "&" that starts no tag or entity is an error.
    """
    plain = _PlainText()
    stack: list[_OpenEntity] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "<" and text.startswith("</", i):
            end = text.find(">", i)
            if end < 0:
                raise EntityParseError(f"Can't find end of the tag at byte offset {_byte_offset(text, i)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            top = stack.pop()
            if name != top.tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {_byte_offset(text, i)}, expected "</{top.tag}>", '
                    f'found "</{name}>"'
                )
            plain.close(top)
            i = end + 1
        elif char == "<":
            i = _html_start_tag(text, i, plain, stack)
        elif char == "&":
            match = _HTML_ENTITY.match(text, i)
            if match is None:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            plain.add(_html_entity(match.group(1), text, i))
            i = match.end()
        else:
            plain.add(char)
            i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return plain.result()


def _html_start_tag(text: str, i: int, plain: _PlainText, stack: list[_OpenEntity]) -> int:
    match = _HTML_START_TAG.match(text, i)
    tag = match.group(1).lower() if match else ""
    if match is None or tag not in _HTML_TAGS:
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, i)}')
    attributes: dict[str, str] = {}
    pos, n = match.end(), len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            raise EntityParseError(
                f"Can't find end of the tag starting at byte offset {_byte_offset(text, i)}"
            )
        if text[pos] == ">":
            pos += 1
            break
        attribute = _HTML_ATTRIBUTE.match(text, pos)
        if attribute is None:
            raise EntityParseError(
                f'Unexpected character in tag "{tag}" at byte offset {_byte_offset(text, pos)}'
            )
        value = attribute.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        attributes[attribute.group(1).lower()] = html.unescape(value)
        pos = attribute.end()
    entity = _OpenEntity(type=_HTML_TAGS[tag], start=plain.length, index=i, tag=tag)
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError('Tag "span" must have class "tg-spoiler"')
    if tag == "a":
        entity.emit = "href" in attributes
        entity.extra = {"url": attributes.get("href", "")}
    elif tag == "tg-emoji":
        if "emoji-id" not in attributes:
            raise EntityParseError('Tag "tg-emoji" must have attribute "emoji-id"')
        entity.extra = {"custom_emoji_id": attributes["emoji-id"]}
    elif tag == "blockquote" and "expandable" in attributes:
        entity.type = "expandable_blockquote"
    elif tag == "code" and stack and stack[-1].tag == "pre":
        language = attributes.get("class", "")
        if language.startswith("language-"):
            stack[-1].extra = {"language": language.removeprefix("language-")}
        entity.emit = False
    stack.append(entity)
    return pos


def _html_entity(reference: str, text: str, index: int) -> str:
    if reference in _HTML_NAMED_ENTITIES:
        return _HTML_NAMED_ENTITIES[reference]
    if reference.startswith("#"):
        code = int(reference[2:], 16) if reference[1:2] in ("x", "X") else int(reference[1:])
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
    raise EntityParseError(
        f'Unsupported HTML entity "&{reference};" at byte offset {_byte_offset(text, index)}'
    )


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def parse_markdown_v2(text: str) -> tuple[str, list[JSONDict]]:
    """Parse MarkdownV2 into the plain text and its entities, or raise EntityParseError.

    A strict subset of Telegram's parser: *bold*, _italic_, __underline__, ~strike~, ||spoiler||,
    `code`, ```pre```, [text](url), ![emoji](tg://emoji?id=...), and ">" quotes at line starts.
    Any other unescaped character of ``_*[]()~`>#+-=|{}.!`` is an error.
    """
    plain = _PlainText()
    stack: list[_OpenEntity] = []
    quote: _OpenEntity | None = None
    quote_end = 0
    line_start = True
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if line_start:
            line_start = False
            if char == ">":
                if quote is None:
                    quote = _OpenEntity(type="blockquote", start=plain.length, index=i)
                i += 1
                continue
            if quote is not None:
                plain.close(quote, quote_end)
                quote = None
        if char == "\\" and i + 1 < n:
            plain.add(text[i + 1])
            line_start = text[i + 1] == "\n"
            i += 2
        elif char == "`":
            i = _mdv2_code(text, i, plain)
        elif char in "*~" or (char == "_" and not text.startswith("__", i)):
            kind = {"*": "bold", "~": "strikethrough", "_": "italic"}[char]
            _mdv2_toggle(text, i, kind, plain, stack)
            i += 1
        elif text.startswith("__", i) or text.startswith("||", i):
            _mdv2_toggle(text, i, "underline" if char == "_" else "spoiler", plain, stack)
            i += 2
        elif char == "[" or text.startswith("![", i):
            stack.append(
                _OpenEntity(type="text_link" if char == "[" else "custom_emoji", start=plain.length, index=i)
            )
            i += 1 if char == "[" else 2
        elif char == "]" and stack and stack[-1].type in ("text_link", "custom_emoji"):
            i = _mdv2_url(text, i, plain, stack.pop())
        elif char in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            if char == "\n":
                quote_end = plain.length
                line_start = True
            plain.add(char)
            i += 1
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[top.type]} entity at byte offset {_byte_offset(text, top.index)}"
        )
    if quote is not None:
        plain.close(quote)
    return plain.result()


def _mdv2_toggle(text: str, i: int, kind: str, plain: _PlainText, stack: list[_OpenEntity]) -> None:
    if not any(entity.type == kind for entity in stack):
        stack.append(_OpenEntity(type=kind, start=plain.length, index=i))
        return
    top = stack[-1]
    if top.type != kind:
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[top.type]} entity at byte offset {_byte_offset(text, top.index)}"
        )
    plain.close(stack.pop())


def _mdv2_scan(text: str, start: int, closing: str) -> tuple[str, int] | None:
    """Read escaped text up to ``closing``; give (content, index after closing) or None."""
    content: list[str] = []
    k, n = start, len(text)
    while k < n:
        if text[k] == "\\" and k + 1 < n:
            content.append(text[k + 1])
            k += 2
        elif text.startswith(closing, k):
            return "".join(content), k + len(closing)
        else:
            content.append(text[k])
            k += 1
    return None


def _mdv2_code(text: str, i: int, plain: _PlainText) -> int:
    pre = text.startswith("```", i)
    scanned = _mdv2_scan(text, i + (3 if pre else 1), "```" if pre else "`")
    if scanned is None:
        name = "PreCode" if pre else "Code"
        raise EntityParseError(f"Can't find end of {name} entity at byte offset {_byte_offset(text, i)}")
    content, after = scanned
    extra: JSONDict = {}
    if pre and "\n" in content:
        first, rest = content.split("\n", 1)
        if first and not any(c.isspace() for c in first):
            extra = {"language": first}
            content = rest
        elif not first:
            content = rest
    entity = _OpenEntity(type="pre" if pre else "code", start=plain.length, index=i, extra=extra)
    plain.add(content)
    plain.close(entity)
    return after


def _mdv2_url(text: str, i: int, plain: _PlainText, entity: _OpenEntity) -> int:
    if not text.startswith("(", i + 1):
        raise EntityParseError(f"Can't find end of a url at byte offset {_byte_offset(text, i)}")
    scanned = _mdv2_scan(text, i + 2, ")")
    if scanned is None:
        raise EntityParseError(f"Can't find end of a url at byte offset {_byte_offset(text, i)}")
    url, after = scanned
    if entity.type == "custom_emoji":
        entity.extra = {"custom_emoji_id": url.rsplit("id=", 1)[-1]}
    else:
        entity.extra = {"url": url}
    plain.close(entity)
    return after


def parse_markdown(text: str) -> tuple[str, list[JSONDict]]:
    """Parse legacy Markdown (*bold*, _italic_, `code`, ```pre```, [text](url)), or raise EntityParseError."""
    plain = _PlainText()
    i, n = 0, len(text)
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            plain.add(text[i + 1])
            i += 2
            continue
        link = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(text, i) if char == "[" else None
        if link is not None:
            entity = _OpenEntity(type="text_link", start=plain.length, index=i, extra={"url": link.group(2)})
            plain.add(link.group(1))
            plain.close(entity)
            i = link.end()
        elif char in kinds:
            marker = "```" if text.startswith("```", i) else char
            end = text.find(marker, i + len(marker))
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            kind = "pre" if marker == "```" else kinds[char]
            entity = _OpenEntity(type=kind, start=plain.length, index=i)
            plain.add(text[i + len(marker) : end])
            plain.close(entity)
            i = end + len(marker)
        else:
            plain.add(char)
            i += 1
    return plain.result()


def render(text: str, parse_mode: str | None) -> tuple[str, list[JSONDict]]:
    """Give (plain text, entities) as Telegram would for ``parse_mode``; raise EntityParseError."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    if mode:
        raise EntityParseError(f"unsupported parse_mode {parse_mode!r}")
    return text, []


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.content)


@dataclass
class SentFile:
    """A file the bot sent (uploaded, or re-sent by file_id / URL)."""

    file_id: str
    file_unique_id: str
    filename: str | None
    mime_type: str | None
    size: int
    content: bytes | None = None
    url: str | None = None
    kind: str = "document"
    """What the message shows it as: a key of FILE_TYPE_NAMES ("voice", "photo", ...)."""
    attributes: JSONDict = field(default_factory=dict)
    """The kind's other fields, as in the message's JSON (duration, width, emoji, ...)."""


@dataclass
class SentMessage:
    """A message the bot sent, as the fake recorded it; edits and deletion update it in place."""

    message_id: int
    chat_id: int
    method: str
    date: int
    text: str | None = None
    """The text (or caption) exactly as the bot sent it, markup included; a copy's is the copied one's."""
    parse_mode: str | None = None
    rendered_text: str | None = None
    """What the user sees: the text once ``parse_mode`` markup was parsed."""
    entities: list[JSONDict] = field(default_factory=list)
    reply_markup: Keyboard | None = None
    """The inline keyboard: rows of buttons such as ``{"text": ..., "callback_data": ...}``."""
    reply_keyboard: JSONDict | None = None
    """A non-inline markup (keyboard, remove_keyboard, force_reply), as sent."""
    markup_history: list[Keyboard | None] = field(default_factory=list)
    """Every inline keyboard the message has had, oldest first, the current one last."""
    text_history: list[str | None] = field(default_factory=list)
    """Every text the message has had, as sent, oldest first, the current one last."""
    edit_date: int | None = None
    deleted: bool = False
    document: SentFile | None = None
    photo: SentFile | None = None
    voice: SentFile | None = None
    audio: SentFile | None = None
    video: SentFile | None = None
    video_note: SentFile | None = None
    sticker: SentFile | None = None
    reply_to_message_id: int | None = None
    copied_from: tuple[int, int] | None = None
    """(chat_id, message_id) of the message copyMessage copied."""

    @property
    def file(self) -> SentFile | None:
        """The message's file, whatever its kind; None for a text message."""
        return next((f for kind in FILE_TYPE_NAMES if (f := getattr(self, kind)) is not None), None)

    @property
    def buttons(self) -> list[JSONDict]:
        """The inline keyboard's buttons, row by row."""
        return [button for row in self.reply_markup or [] for button in row]

    @property
    def callback_data(self) -> list[str]:
        """The callback_data of the inline keyboard's buttons."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def describe(self) -> str:
        """One line for assertion messages."""
        file = self.file
        if file is None:
            body = repr(self.text) if self.text is not None else f"<{self.method}>"
        else:
            body = f"<{self.method} {file.kind}>" + (f" {self.text!r}" if self.text is not None else "")
        flags = " (deleted)" if self.deleted else ""
        keys = f" buttons={self.callback_data}" if self.reply_markup else ""
        return f"#{self.message_id} to {self.chat_id}: {body}{keys}{flags}"


@dataclass(frozen=True)
class AnsweredCallback:
    """An answerCallbackQuery call the fake accepted."""

    callback_query_id: str
    update_id: int
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(frozen=True)
class ApiErrorRecord:
    """A call the fake answered with an error."""

    method: str
    params: JSONDict
    error_code: int
    description: str


@dataclass
class _User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str = "fr"
    blocked_bot: bool = False

    def to_json(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["language_code"] = self.language_code
        return data


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    user: _User | None = None

    def to_json(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
        else:
            data["title"] = self.title or "Groupe"
        return data


@dataclass
class _Pending:
    update_id: int
    kind: str
    update: JSONDict
    redelivered: bool = False


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    drop_connection: bool


@dataclass
class _FileEntry:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    kind: str = "document"
    file_name: str | None = None
    mime_type: str | None = None
    attributes: JSONDict = field(default_factory=dict)


class _ApiError(Exception):
    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, description)


class _ConnectionDropped(Exception):
    """Raised after a response has started, so that uvicorn closes the connection mid-answer."""


class _DroppedResponse(Response):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"ok": tr', "more_body": True})
        raise _ConnectionDropped("fake Bot API dropped the connection on purpose")


class _DropFilter(logging.Filter):
    """Keep uvicorn from logging a traceback for connections dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        for _ in range(10):  # down the chain of causes, however Starlette wrapped it
            if exc is None:
                break
            if isinstance(exc, _ConnectionDropped):
                return False
            exc = (
                exc.__cause__
                or exc.__context__
                or (exc.exceptions[0] if isinstance(exc, BaseExceptionGroup) else None)
            )
        return True


class _Server(uvicorn.Server):
    """Uvicorn without signal handling (the test runner keeps Ctrl-C), quicker to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        # As uvicorn's, but looks at should_exit every 10 ms rather than 100: tests stop servers often.
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.01)


class _Params:
    """Request parameters with Bot API coercions (form data carries every value as a string)."""

    def __init__(self, data: JSONDict, files: dict[str, UploadedFile]) -> None:
        self.data = data
        self.files = files

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def get_str(self, name: str, *, required: bool = False) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise _bad_request(f"Bad Request: {name} is empty")
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, *, required: bool = False) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                raise _bad_request(f"Bad Request: {name} is empty")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad_request(f"Bad Request: invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad_request(f"Bad Request: can't parse {name} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.data.get(name)
        if value is None or value == "":
            raise _bad_request(f"Bad Request: {name} is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad_request(ERR_CHAT_NOT_FOUND) from None


def _decode_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(content_type: str, body: bytes) -> tuple[JSONDict, dict[str, UploadedFile]]:
    header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message: Message = BytesParser(policy=HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise _bad_request("Bad Request: can't parse multipart/form-data")
    data: JSONDict = {}
    files: dict[str, UploadedFile] = {}
    for part in message.get_payload():
        assert isinstance(part, Message)
        raw_name = part.get_param("name", header="content-disposition")
        if raw_name is None:
            continue
        name = collapse_rfc2231_value(raw_name)
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            data[name] = _decode_form_value(name, content.decode("utf-8"))
        else:
            files[name] = UploadedFile(filename, part.get_content_type(), content)
    return data, files


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_keyboard(raw: Any) -> tuple[Keyboard | None, JSONDict | None]:
    """Give (inline keyboard rows, other markup) from a reply_markup parameter."""
    if raw is None or raw == "":
        return None, None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _bad_request("Bad Request: can't parse reply keyboard markup JSON object") from None
    if not isinstance(raw, dict):
        raise _bad_request("Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in raw:
        return None, raw
    rows = raw["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request(
            'Bad Request: can\'t parse inline keyboard button: field "inline_keyboard" must be an Array'
        )
    keyboard: Keyboard = []
    for row in rows:
        buttons: list[JSONDict] = []
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad_request("Bad Request: can't parse inline keyboard button: Text must be non-empty")
            if len(button) == 1:
                raise _bad_request("Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("Bad Request: BUTTON_DATA_INVALID")
            buttons.append(dict(button))
        if buttons:
            keyboard.append(buttons)
    return (keyboard or None), None


# --------------------------------------------------------------------------- the fake


class FakeBotApi(BackgroundServing):
    """A fake Telegram Bot API server for one bot token, on 127.0.0.1 with an ephemeral port."""

    served_name = "Bot API"

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = "cisp_test_bot",
        bot_first_name: str = "CISP",
        host: str = "127.0.0.1",
        latency: float = 0.0,
        max_messages_per_second: float | None = None,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError("the fake Bot API only listens on loopback addresses")
        if max_messages_per_second is not None and max_messages_per_second <= 0:
            raise ValueError("max_messages_per_second must be positive")
        self.token = token
        # Seconds added before answering each call other than getUpdates: the round trip to Telegram's
        # servers, which a local fake does not have (benchmarks use it; tests keep 0).
        self.latency = latency
        # Telegram's overall flood limit (30 messages/s for a bot), off by default: at most this many
        # messages accepted in any one second; beyond, Telegram's 429 with retry_after.
        self.max_messages_per_second = max_messages_per_second
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123
        self.host = host
        self.port: int | None = None

        self._lock = threading.RLock()
        self._update_id = 700_000_000
        self._pending: list[_Pending] = []
        self._history: dict[int, JSONDict] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._users: dict[int, _User] = {}
        self._chats: dict[int, _Chat] = {}
        self._next_message_ids: dict[int, int] = {}
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._messages: list[SentMessage] = []
        self._by_key: dict[tuple[int, int], SentMessage] = {}
        self._callbacks: dict[str, tuple[int, bool]] = {}
        self._callback_counter = 0
        self._files: dict[str, _FileEntry] = {}
        self._files_by_path: dict[str, _FileEntry] = {}
        self._file_counter = 0
        self._failures: dict[str, deque[_Failure]] = {}
        self._mark_messages = 0
        self._mark_calls = 0
        # Arrival times (time.monotonic) of the messages accepted within the last second.
        self._accepted_sends: deque[float] = deque()

        #: Every call as (method, params); files appear as UploadedFile values.
        self.calls: list[tuple[str, JSONDict]] = []
        #: Every call answered with an error (injected ones included).
        self.errors: list[ApiErrorRecord] = []
        #: How many sends the overall limit (``max_messages_per_second``) answered with 429.
        self.flood_refusals = 0
        self.answered_callbacks: list[AnsweredCallback] = []
        #: (chat_id, action) for every sendChatAction.
        self.chat_actions: list[tuple[int, str]] = []
        #: setMyCommands state: (scope as JSON, language_code) -> commands.
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        #: (chat_id, message_id) of user messages the bot deleted.
        self.deleted_user_messages: list[tuple[int, int]] = []
        #: (update_id, HTTP status) for every deliver_to_webhook.
        self.webhook_deliveries: list[tuple[int, int]] = []
        self.webhook_url = ""
        self.webhook_secret_token: str | None = None
        self.webhook_allowed_updates: list[str] | None = None
        self.webhook_max_connections = 40

        self._handlers: dict[str, Callable[[_Params, Request], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendVoice": self._send_voice,
            "sendAudio": self._send_audio,
            "sendVideo": self._send_video,
            "sendVideoNote": self._send_video_note,
            "sendSticker": self._send_sticker,
            "copyMessage": self._copy_message,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getFile": self._get_file,
        }
        self._method_names = {name.lower(): name for name in self._handlers}
        self.app: ASGIApp = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

        self._exit_stack: contextlib.AsyncExitStack | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._wakeup = asyncio.Event()
        self._closing = False
        self._drop_filter = _DropFilter()
        self._thread: threading.Thread | None = None
        self._thread_stop: asyncio.Event | None = None
        self._thread_error: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """The URL python-telegram-bot appends the token to: ``http://127.0.0.1:PORT/bot``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """The file download URL python-telegram-bot appends the token to."""
        return f"{self.url}/file/bot"

    @property
    def url(self) -> str:
        """The server's root URL."""
        if self.port is None:
            raise RuntimeError("the fake Bot API is not running")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Serve in the running event loop; give once the port is listening."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wakeup = asyncio.Event()
        self._closing = False
        logging.getLogger("uvicorn.error").addFilter(self._drop_filter)
        stack = contextlib.AsyncExitStack()
        url = await stack.enter_async_context(serve_asgi(self.app, self.host))
        self._exit_stack = stack
        self.port = int(url.rsplit(":", 1)[1])

    async def stop(self) -> None:
        """Release waiting long polls and shut the server down."""
        self._closing = True
        self._wake()
        if self._exit_stack is not None:
            await self._exit_stack.aclose()
            self._exit_stack = None
        logging.getLogger("uvicorn.error").removeFilter(self._drop_filter)
        self._loop = None

    def _wake(self) -> None:
        old, self._wakeup = self._wakeup, asyncio.Event()
        old.set()

    def _notify(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            self._wake()
        else:
            with contextlib.suppress(RuntimeError):  # loop closed in between
                loop.call_soon_threadsafe(self._wake)

    # ------------------------------------------------------------------ HTTP layer

    async def _endpoint(self, request: Request) -> Response:
        token = request.path_params["token"]
        requested = request.path_params["method"]
        if token != self.token:
            return self._error_response(401, "Unauthorized")
        method = self._method_names.get(requested.lower(), requested)
        if self.latency and method != "getUpdates":
            await asyncio.sleep(self.latency)
        try:
            params = await self._read_params(request)
        except _ApiError as error:
            return self._error_response(error.error_code, error.description)
        with self._lock:
            self.calls.append((method, params.data | params.files))
            queue = self._failures.get(method)
            failure = queue.popleft() if queue else None
        if failure is not None:
            return self._failure_response(method, params, failure)
        if method in MESSAGE_SENDING_METHODS and (retry_after := self._over_flood_limit()) is not None:
            return self._record_error(
                method,
                params,
                _ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}),
            )
        handler = self._handlers.get(method)
        if handler is None:
            return self._record_error(method, params, _ApiError(404, "Not Found"))
        try:
            result = handler(params, request)
            if asyncio.iscoroutine(result):
                result = await result
        except _ApiError as error:
            return self._record_error(method, params, error)
        except Exception as exc:  # a bug of the fake: say so in the answer and in api.errors
            logging.getLogger(__name__).exception("fake Bot API failed on %s", method)
            bug = _ApiError(500, f"Internal Server Error: fake Bot API bug: {exc!r}")
            return self._record_error(method, params, bug)
        return JSONResponse({"ok": True, "result": result})

    def _over_flood_limit(self) -> int | None:
        """Count a send against the overall limit; give the seconds to wait if it is refused, else None.

        A sliding window: a send is accepted when fewer than ``max_messages_per_second`` were accepted
        in the second before it. Refused sends do not count (they post nothing).
        """
        limit = self.max_messages_per_second
        if limit is None:
            return None
        now = time.monotonic()
        with self._lock:
            window = self._accepted_sends
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) < limit:
                window.append(now)
                return None
            self.flood_refusals += 1
            # Room comes back within the second; Telegram's retry_after counts whole seconds, at least 1.
            return 1

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return self._error_response(401, "Unauthorized")
        with self._lock:
            entry = self._files_by_path.get(request.path_params["path"])
        if entry is None:
            return self._error_response(404, "Not Found")
        return Response(entry.content, media_type="application/octet-stream")

    async def _read_params(self, request: Request) -> _Params:
        data: JSONDict = {key: _decode_form_value(key, value) for key, value in request.query_params.items()}
        files: dict[str, UploadedFile] = {}
        content_type = request.headers.get("content-type", "")
        mime = content_type.split(";", 1)[0].strip().lower()
        body = await request.body()
        if mime == "application/json" and body:
            try:
                decoded = json.loads(body)
            except ValueError:
                raise _bad_request("Bad Request: can't parse JSON object") from None
            if not isinstance(decoded, dict):
                raise _bad_request("Bad Request: can't parse JSON object")
            data.update(decoded)
        elif mime == "application/x-www-form-urlencoded":
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            data.update({key: _decode_form_value(key, value) for key, value in pairs})
        elif mime == "multipart/form-data":
            form, files = _parse_multipart(content_type, body)
            data.update(form)
        return _Params(data, files)

    @staticmethod
    def _error_response(code: int, description: str, parameters: JSONDict | None = None) -> JSONResponse:
        body: JSONDict = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return JSONResponse(body, status_code=code)

    def _record_error(self, method: str, params: _Params, error: _ApiError) -> Response:
        with self._lock:
            self.errors.append(ApiErrorRecord(method, dict(params.data), error.error_code, error.description))
        return self._error_response(error.error_code, error.description, error.parameters)

    def _failure_response(self, method: str, params: _Params, failure: _Failure) -> Response:
        with self._lock:
            self.errors.append(
                ApiErrorRecord(method, dict(params.data), failure.error_code, failure.description)
            )
        if failure.drop_connection:
            return _DroppedResponse()
        if failure.error_code == 502:
            return Response(_BAD_GATEWAY_HTML, status_code=502, media_type="text/html")
        parameters = {"retry_after": failure.retry_after} if failure.retry_after is not None else None
        return self._error_response(failure.error_code, failure.description, parameters)

    # ------------------------------------------------------------------ state helpers (lock held)

    def _bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _ensure_user(
        self, user_id: int, first_name: str, last_name: str | None, username: str | None, language_code: str
    ) -> _User:
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = _User(user_id, first_name, last_name, username, language_code)
        else:
            user.first_name, user.language_code = first_name, language_code
            user.last_name = last_name or user.last_name
            user.username = username or user.username
        if user_id not in self._chats:
            self._chats[user_id] = _Chat(user_id, "private", user=user)
        return user

    def _ensure_group(self, chat_id: int, chat_type: str, title: str | None) -> _Chat:
        if chat_type not in ("group", "supergroup"):
            raise ValueError(f"chat_type must be 'private', 'group' or 'supergroup', not {chat_type!r}")
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(chat_id, chat_type, title=title or "Groupe CISP")
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_ids.get(chat_id, 1)
        self._next_message_ids[chat_id] = message_id + 1
        return message_id

    def _queue(self, kind: str, payload: JSONDict) -> int:
        with self._lock:
            self._update_id += 1
            update_id = self._update_id
            update = {"update_id": update_id, kind: payload}
            self._history[update_id] = update
            self._pending.append(_Pending(update_id, kind, update))
        self._notify()
        return update_id

    def _chat_for_send(self, p: _Params) -> _Chat:
        chat_id = p.chat_id()
        if isinstance(chat_id, str):
            found = [
                c for c in self._chats.values() if c.user is not None and f"@{c.user.username}" == chat_id
            ]
            if not found:
                raise _bad_request(ERR_CHAT_NOT_FOUND)
            chat = found[0]
        else:
            existing = self._chats.get(chat_id)
            if existing is None:
                raise _bad_request(ERR_CHAT_NOT_FOUND)
            chat = existing
        if chat.user is not None and chat.user.blocked_bot:
            raise _ApiError(403, ERR_BLOCKED)
        return chat

    def _message_json(self, message: SentMessage, *, nested: bool = False) -> JSONDict:
        """The Message JSON of a bot message; ``nested`` for one shown as a reply_to_message."""
        chat = self._chats[message.chat_id]
        data: JSONDict = {
            "message_id": message.message_id,
            "from": self._bot_user(),
            "chat": chat.to_json(),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        # Telegram nests one level only: a reply_to_message has no reply_to_message of its own.
        if message.reply_to_message_id is not None and not nested:
            replied = self._replied_json(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = replied
        file = message.file
        text_key = "text" if file is None else "caption"
        if message.rendered_text is not None:
            data[text_key] = message.rendered_text
            if message.entities:
                data["entities" if text_key == "text" else "caption_entities"] = message.entities
        if file is not None:
            data[file.kind] = self._file_json(file)
        if message.reply_markup:
            data["reply_markup"] = {"inline_keyboard": message.reply_markup}
        return data

    def _replied_json(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The JSON of a message (the user's or the bot's) as shown in a reply_to_message."""
        user_message = self._user_messages.get((chat_id, message_id))
        if user_message is not None:
            return {key: value for key, value in user_message.items() if key != "reply_to_message"}
        bot_message = self._by_key.get((chat_id, message_id))
        return self._message_json(bot_message, nested=True) if bot_message is not None else None

    def _file_json(self, file: SentFile) -> Any:
        """The value of the message's field for this file: a PhotoSize list, or a Voice, Audio, ... object."""
        if file.kind == "photo":
            return self._photo_sizes(file.file_id, file.file_unique_id, file.size)
        data: JSONDict = {"file_id": file.file_id, "file_unique_id": file.file_unique_id}
        data.update(file.attributes)
        if file.kind == "document":
            data["file_name"] = file.filename or "file"
            data["mime_type"] = file.mime_type or "application/octet-stream"
        else:
            if file.kind in ("audio", "video") and file.filename:
                data["file_name"] = file.filename
            if file.kind in ("voice", "audio", "video") and file.mime_type:
                data["mime_type"] = file.mime_type
        data["file_size"] = file.size
        return data

    @staticmethod
    def _photo_sizes(file_id: str, unique_id: str, size: int) -> list[JSONDict]:
        return [
            {
                "file_id": f"{file_id}-s",
                "file_unique_id": f"{unique_id}s",
                "width": 90,
                "height": 68,
                "file_size": max(1, size // 40),
            },
            {
                "file_id": f"{file_id}-m",
                "file_unique_id": f"{unique_id}m",
                "width": 320,
                "height": 240,
                "file_size": max(1, size // 8),
            },
            {
                "file_id": file_id,
                "file_unique_id": unique_id,
                "width": 1280,
                "height": 960,
                "file_size": size,
            },
        ]

    def _new_file(
        self,
        kind: str,
        extension: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        attributes: JSONDict | None = None,
    ) -> _FileEntry:
        with self._lock:
            self._file_counter += 1
            number = self._file_counter
            entry = _FileEntry(
                file_id=f"{_FILE_ID_PREFIXES[kind]}AAxkBAAI{number:06d}fake",
                file_unique_id=f"AgAD{number:06d}",
                file_path=f"{_FILE_DIRECTORIES[kind]}/file_{number}.{extension}",
                content=content,
                kind=kind,
                file_name=file_name,
                mime_type=mime_type,
                attributes=dict(attributes or {}),
            )
            self._files[entry.file_id] = entry
            self._files_by_path[entry.file_path] = entry
            if kind == "photo":
                # The smaller sizes are files of their own, which can be downloaded and sent too.
                for size in self._photo_sizes(entry.file_id, entry.file_unique_id, len(content))[:-1]:
                    thumbnail = _FileEntry(
                        size["file_id"],
                        size["file_unique_id"],
                        f"{entry.file_path}.{size['width']}",
                        content,
                        kind="photo",
                    )
                    self._files[thumbnail.file_id] = thumbnail
                    self._files_by_path[thumbnail.file_path] = thumbnail
            return entry

    @staticmethod
    def _sent_file(entry: _FileEntry) -> SentFile:
        return SentFile(
            entry.file_id,
            entry.file_unique_id,
            entry.file_name,
            entry.mime_type,
            len(entry.content),
            content=entry.content,
            kind=entry.kind,
            attributes=dict(entry.attributes),
        )

    def _file_from_json(self, kind: str, value: Any) -> SentFile:
        """The SentFile of a message's media field (a user's message, for copyMessage)."""
        obj: JSONDict = value[-1] if kind == "photo" else value  # a photo's largest size is last
        entry = self._files.get(obj["file_id"])
        if entry is not None:
            return self._sent_file(entry)
        skip: tuple[str, ...] = (
            "file_id",
            "file_unique_id",
            "file_size",
            "file_name",
            "mime_type",
            "thumbnail",
        )
        if kind == "photo":
            skip += ("width", "height")
        return SentFile(
            obj["file_id"],
            obj["file_unique_id"],
            obj.get("file_name"),
            obj.get("mime_type"),
            int(obj.get("file_size", 0)),
            kind=kind,
            attributes={key: item for key, item in obj.items() if key not in skip},
        )

    def _render_checked(
        self, text: str, parse_mode: str | None, *, caption: bool
    ) -> tuple[str, list[JSONDict]]:
        try:
            plain, entities = render(text, parse_mode)
        except EntityParseError as error:
            if str(error).startswith("unsupported parse_mode"):
                raise _bad_request("Bad Request: unsupported parse_mode") from None
            raise _bad_request(ENTITY_ERROR_PREFIX + str(error)) from None
        if caption:
            if len(plain) > MAX_CAPTION_LENGTH:
                raise _bad_request(ERR_CAPTION_TOO_LONG)
        else:
            if not plain.strip():
                raise _bad_request(ERR_TEXT_EMPTY)
            if len(plain) > MAX_MESSAGE_LENGTH:
                raise _bad_request(ERR_MESSAGE_TOO_LONG)
        return plain, entities

    def _reply_to(self, p: _Params) -> int | None:
        parameters = p.get_json("reply_parameters")
        if isinstance(parameters, dict) and "message_id" in parameters:
            return int(parameters["message_id"])
        return p.get_int("reply_to_message_id")

    def _record_message(self, message: SentMessage) -> JSONDict:
        message.markup_history.append(message.reply_markup)
        message.text_history.append(message.text)
        self._messages.append(message)
        self._by_key[(message.chat_id, message.message_id)] = message
        return self._message_json(message)

    def _bot_message_for_edit(self, p: _Params) -> SentMessage:
        if p.raw("inline_message_id") is not None:
            raise _bad_request(ERR_EDIT_NOT_FOUND)
        chat_id = p.chat_id()
        message_id = p.get_int("message_id", required=True)
        if isinstance(chat_id, str) or message_id is None:
            raise _bad_request(ERR_EDIT_NOT_FOUND)
        if chat_id not in self._chats:
            raise _bad_request(ERR_CHAT_NOT_FOUND)
        message = self._by_key.get((chat_id, message_id))
        if message is None or message.deleted:
            if (chat_id, message_id) in self._user_messages:
                raise _bad_request("Bad Request: message can't be edited")
            raise _bad_request(ERR_EDIT_NOT_FOUND)
        return message

    # ------------------------------------------------------------------ Bot API methods

    def _get_me(self, p: _Params, request: Request) -> JSONDict:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, p: _Params, request: Request) -> list[JSONDict]:
        with self._lock:
            if self.webhook_url:
                raise _ApiError(409, ERR_WEBHOOK_ACTIVE)
        offset = p.get_int("offset")
        limit = min(max(p.get_int("limit") or 100, 1), 100)
        try:
            timeout = max(float(p.raw("timeout") or 0), 0.0)
        except (TypeError, ValueError):
            raise _bad_request("Bad Request: invalid timeout specified") from None
        allowed = p.get_json("allowed_updates")
        with self._lock:
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) if allowed else None
            self._confirm(offset)
            self._poll_generation += 1
            generation = self._poll_generation
        self._wake()  # a poll still waiting is now superseded
        assert self._loop is not None
        deadline = self._loop.time() + timeout
        while True:
            event = self._wakeup
            with self._lock:
                batch = self._take(limit)
                superseded = self._poll_generation != generation
            if batch or self._closing:
                return batch
            if superseded:
                if await request.is_disconnected():  # a poll its client gave up on: nobody to tell
                    return []
                raise _ApiError(409, ERR_OTHER_POLLER)
            remaining = deadline - self._loop.time()
            if remaining <= 0 or await request.is_disconnected():
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.25))

    def _confirm(self, offset: int | None) -> None:
        if not offset:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
            return
        self._pending = [u for u in self._pending if u.update_id >= offset or u.redelivered]

    def _take(self, limit: int) -> list[JSONDict]:
        allowed = self._allowed_updates or DEFAULT_UPDATE_TYPES
        self._pending = [u for u in self._pending if u.kind in allowed]
        self._pending.sort(key=lambda u: u.update_id)
        batch = self._pending[:limit]
        for pending in batch:
            pending.redelivered = False
        return [pending.update for pending in batch]

    def _set_webhook(self, p: _Params, request: Request) -> bool:
        url = p.get_str("url") or ""
        secret = p.get_str("secret_token")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not _is_loopback(parts.hostname):
                raise _bad_request(
                    "Bad Request: bad webhook: the fake Bot API only delivers to loopback URLs"
                )
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad_request("Bad Request: secret token contains unallowed characters")
        allowed = p.get_json("allowed_updates")
        with self._lock:
            self.webhook_url = url
            self.webhook_secret_token = secret if url else None
            if isinstance(allowed, list):
                self.webhook_allowed_updates = allowed
                self._allowed_updates = frozenset(allowed) if allowed else None
            self.webhook_max_connections = p.get_int("max_connections") or 40
            if p.get_bool("drop_pending_updates"):
                self._pending.clear()
        self._notify()
        return True

    def _delete_webhook(self, p: _Params, request: Request) -> bool:
        with self._lock:
            self.webhook_url = ""
            self.webhook_secret_token = None
            if p.get_bool("drop_pending_updates"):
                self._pending.clear()
        return True

    def _get_webhook_info(self, p: _Params, request: Request) -> JSONDict:
        with self._lock:
            info: JSONDict = {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
            }
            if self.webhook_url:
                info["max_connections"] = self.webhook_max_connections
                info["ip_address"] = "127.0.0.1"
                if self.webhook_allowed_updates:
                    info["allowed_updates"] = self.webhook_allowed_updates
            return info

    def _send_message(self, p: _Params, request: Request) -> JSONDict:
        text = p.get_str("text")
        if not text:
            raise _bad_request(ERR_TEXT_EMPTY)
        parse_mode = p.get_str("parse_mode")
        plain, entities = self._render_checked(text, parse_mode, caption=False)
        if parse_mode is None and isinstance(given := p.get_json("entities"), list):
            entities = given
        keyboard, other = _parse_keyboard(p.raw("reply_markup"))
        with self._lock:
            chat = self._chat_for_send(p)
            message = SentMessage(
                message_id=self._next_message_id(chat.id),
                chat_id=chat.id,
                method="sendMessage",
                date=int(time.time()),
                text=text,
                parse_mode=parse_mode,
                rendered_text=plain,
                entities=entities,
                reply_markup=keyboard,
                reply_keyboard=other,
                reply_to_message_id=self._reply_to(p),
            )
            return self._record_message(message)

    def _send_file(self, p: _Params, method: str, kind: str, *, captioned: bool = True) -> JSONDict:
        """Send a file of ``kind``: uploaded, by file_id or by URL; ``captioned`` if the method takes one."""
        caption = p.get_str("caption") if captioned else None
        parse_mode = p.get_str("parse_mode") if captioned else None
        plain: str | None = None
        entities: list[JSONDict] = []
        if caption:
            plain, entities = self._render_checked(caption, parse_mode, caption=True)
            if parse_mode is None and isinstance(given := p.get_json("caption_entities"), list):
                entities = given
        keyboard, other = _parse_keyboard(p.raw("reply_markup"))
        value = p.raw(kind)
        upload = p.files.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = p.files.get(value.removeprefix("attach://"))
        with self._lock:
            chat = self._chat_for_send(p)
            sent = self._input_file(p, kind, value, upload)
            message = SentMessage(
                message_id=self._next_message_id(chat.id),
                chat_id=chat.id,
                method=method,
                date=int(time.time()),
                text=caption,
                parse_mode=parse_mode,
                rendered_text=plain,
                entities=entities,
                reply_markup=keyboard,
                reply_keyboard=other,
                reply_to_message_id=self._reply_to(p),
            )
            setattr(message, sent.kind, sent)
            return self._record_message(message)

    def _input_file(self, p: _Params, kind: str, value: Any, upload: UploadedFile | None) -> SentFile:
        """The file a send method names: an upload, a known file_id, or an HTTP URL."""
        if upload is not None:
            extension = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
            mime_type: str | None = upload.content_type
            if kind in _DEFAULT_MIME_TYPES and mime_type in (None, "", "application/octet-stream"):
                # Telegram reads the type from the file itself, not from the part's header.
                mime_type = _DEFAULT_MIME_TYPES[kind]
            entry = self._new_file(
                kind,
                extension,
                upload.content,
                file_name=upload.filename,
                mime_type=mime_type,
                attributes=self._file_attributes(p, kind, extension),
            )
            return self._sent_file(entry)
        if isinstance(value, str) and value in self._files:
            known = self._files[value]
            # Telegram files photos apart from documents (voice, audio, video, sticker... are documents
            # with attributes): a file_id crosses within a class, and keeps what it is.
            if (known.kind == "photo") != (kind == "photo"):
                real, wanted = FILE_TYPE_NAMES[known.kind], FILE_TYPE_NAMES[kind]
                raise _bad_request(f"Bad Request: can't use file of type {real} as {wanted}")
            return self._sent_file(known)
        if isinstance(value, str) and value.startswith(("http://", "https://")) and kind != "video_note":
            # Telegram downloads the URL; the fake records it without fetching (video notes can't be
            # sent by URL, the documentation says).
            entry = self._new_file(
                kind, "bin", b"", attributes=self._file_attributes(p, kind, value.rsplit(".", 1)[-1])
            )
            sent = self._sent_file(entry)
            sent.filename, sent.content, sent.url = value.rsplit("/", 1)[-1], None, value
            return sent
        if value:
            raise _bad_request(ERR_WRONG_FILE)
        raise _bad_request(f"Bad Request: there is no {kind} in the request")

    @staticmethod
    def _file_attributes(p: _Params, kind: str, extension: str) -> JSONDict:
        """The fields of an uploaded file's object, from the parameters where Telegram would read the file."""
        duration = p.get_int("duration") or 0
        if kind == "voice":
            return {"duration": duration}
        if kind == "audio":
            attributes: JSONDict = {"duration": duration}
            for name in ("performer", "title"):
                if (text := p.get_str(name)) is not None:
                    attributes[name] = text
            return attributes
        if kind == "video":
            return {
                "width": p.get_int("width") or 0,
                "height": p.get_int("height") or 0,
                "duration": duration,
            }
        if kind == "video_note":
            return {"length": p.get_int("length") or 0, "duration": duration}
        if kind == "sticker":
            attributes = {
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": extension.lower() == "tgs",
                "is_video": extension.lower() == "webm",
            }
            if (emoji := p.get_str("emoji")) is not None:
                attributes["emoji"] = emoji
            return attributes
        return {}

    def _send_document(self, p: _Params, request: Request) -> JSONDict:
        return self._send_file(p, "sendDocument", "document")

    def _send_photo(self, p: _Params, request: Request) -> JSONDict:
        return self._send_file(p, "sendPhoto", "photo")

    def _send_voice(self, p: _Params, request: Request) -> JSONDict:
        return self._send_file(p, "sendVoice", "voice")

    def _send_audio(self, p: _Params, request: Request) -> JSONDict:
        return self._send_file(p, "sendAudio", "audio")

    def _send_video(self, p: _Params, request: Request) -> JSONDict:
        return self._send_file(p, "sendVideo", "video")

    def _send_video_note(self, p: _Params, request: Request) -> JSONDict:
        return self._send_file(p, "sendVideoNote", "video_note", captioned=False)

    def _send_sticker(self, p: _Params, request: Request) -> JSONDict:
        return self._send_file(p, "sendSticker", "sticker", captioned=False)

    def _copy_message(self, p: _Params, request: Request) -> JSONDict:
        message_id = p.get_int("message_id", required=True)
        assert message_id is not None  # required=True
        # A caption given, even empty, replaces the original one; absent, the original stays.
        caption = p.get_str("caption")
        parse_mode = p.get_str("parse_mode")
        new_caption: tuple[str, list[JSONDict]] = ("", [])
        if caption:
            new_caption = self._render_checked(caption, parse_mode, caption=True)
            if parse_mode is None and isinstance(given := p.get_json("caption_entities"), list):
                new_caption = (new_caption[0], given)
        keyboard, other = _parse_keyboard(p.raw("reply_markup"))
        with self._lock:
            chat = self._chat_for_send(p)
            from_chat_id = p.chat_id("from_chat_id")
            if isinstance(from_chat_id, str) or from_chat_id not in self._chats:
                raise _bad_request(ERR_CHAT_NOT_FOUND)
            copy = self._copy_of(from_chat_id, message_id)
            if (
                copy.file is not None
                and copy.file.kind not in ("sticker", "video_note")
                and caption is not None
            ):
                copy.text, copy.parse_mode = caption or None, parse_mode
                copy.rendered_text, copy.entities = new_caption[0] or None, new_caption[1]
            # Telegram copies the content only: the keyboard is the one passed, if any.
            copy.message_id = self._next_message_id(chat.id)
            copy.chat_id = chat.id
            copy.reply_markup, copy.reply_keyboard = keyboard, other
            copy.reply_to_message_id = self._reply_to(p)
            self._record_message(copy)
            return {"message_id": copy.message_id}

    def _copy_of(self, chat_id: int, message_id: int) -> SentMessage:
        """A new bot message (not yet numbered nor recorded) with the content of a message in a chat."""
        copy = SentMessage(
            message_id=0,
            chat_id=0,
            method="copyMessage",
            date=int(time.time()),
            copied_from=(chat_id, message_id),
        )
        bot_message = self._by_key.get((chat_id, message_id))
        if bot_message is not None:
            if bot_message.deleted:
                raise _bad_request(ERR_COPY_NOT_FOUND)
            copy.text, copy.parse_mode = bot_message.text, bot_message.parse_mode
            copy.rendered_text, copy.entities = bot_message.rendered_text, list(bot_message.entities)
            if (file := bot_message.file) is not None:
                setattr(copy, file.kind, dataclasses.replace(file, attributes=dict(file.attributes)))
            return copy
        user_message = self._user_messages.get((chat_id, message_id))
        if user_message is None or (chat_id, message_id) in self.deleted_user_messages:
            raise _bad_request(ERR_COPY_NOT_FOUND)
        kind = next((kind for kind in FILE_TYPE_NAMES if kind in user_message), None)
        if kind is not None:
            file = self._file_from_json(kind, user_message[kind])
            setattr(copy, file.kind, file)
            copy.text = copy.rendered_text = user_message.get("caption")
            copy.entities = list(user_message.get("caption_entities", []))
        elif "text" in user_message:
            copy.text = copy.rendered_text = user_message["text"]
            copy.entities = list(user_message.get("entities", []))
        else:  # content the fake does not model (a location, a poll...)
            raise _bad_request("Bad Request: message can't be copied")
        return copy

    def _edit_message_text(self, p: _Params, request: Request) -> JSONDict:
        text = p.get_str("text")
        if not text:
            raise _bad_request(ERR_TEXT_EMPTY)
        parse_mode = p.get_str("parse_mode")
        plain, entities = self._render_checked(text, parse_mode, caption=False)
        keyboard, _ = _parse_keyboard(p.raw("reply_markup"))
        with self._lock:
            message = self._bot_message_for_edit(p)
            if message.file is not None:
                raise _bad_request("Bad Request: there is no text in the message to edit")
            if (
                plain == message.rendered_text
                and entities == message.entities
                and keyboard == message.reply_markup
            ):
                raise _bad_request(ERR_NOT_MODIFIED)
            message.text, message.parse_mode, message.rendered_text, message.entities = (
                text,
                parse_mode,
                plain,
                entities,
            )
            message.text_history.append(text)
            if keyboard != message.reply_markup:
                # Telegram drops the inline keyboard of a message edited without one.
                message.reply_markup = keyboard
                message.markup_history.append(keyboard)
            message.edit_date = int(time.time())
            return self._message_json(message)

    def _edit_message_reply_markup(self, p: _Params, request: Request) -> JSONDict:
        keyboard, _ = _parse_keyboard(p.raw("reply_markup"))
        with self._lock:
            message = self._bot_message_for_edit(p)
            if keyboard == message.reply_markup:
                raise _bad_request(ERR_NOT_MODIFIED)
            message.reply_markup = keyboard
            message.markup_history.append(keyboard)
            message.edit_date = int(time.time())
            return self._message_json(message)

    def _delete_message(self, p: _Params, request: Request) -> bool:
        chat_id = p.chat_id()
        message_id = p.get_int("message_id", required=True)
        with self._lock:
            if isinstance(chat_id, str) or message_id is None or chat_id not in self._chats:
                raise _bad_request(ERR_CHAT_NOT_FOUND)
            key = (chat_id, message_id)
            message = self._by_key.get(key)
            if message is not None and not message.deleted:
                message.deleted = True
                return True
            if key in self._user_messages and key not in self.deleted_user_messages:
                self.deleted_user_messages.append(key)
                return True
            raise _bad_request(ERR_DELETE_NOT_FOUND)

    def _answer_callback_query(self, p: _Params, request: Request) -> bool:
        query_id = p.get_str("callback_query_id", required=True) or ""
        text = p.get_str("text")
        if text is not None and len(text) > 200:
            raise _bad_request("Bad Request: MESSAGE_TOO_LONG")
        with self._lock:
            state = self._callbacks.get(query_id)
            if state is None or state[1]:
                raise _bad_request(ERR_QUERY_INVALID)
            self._callbacks[query_id] = (state[0], True)
            self.answered_callbacks.append(
                AnsweredCallback(query_id, state[0], text, p.get_bool("show_alert"), p.get_str("url"))
            )
        return True

    def _send_chat_action(self, p: _Params, request: Request) -> bool:
        action = p.get_str("action")
        if action not in CHAT_ACTIONS:
            raise _bad_request("Bad Request: wrong parameter action in request")
        with self._lock:
            chat = self._chat_for_send(p)
            self.chat_actions.append((chat.id, action))
        return True

    @staticmethod
    def _commands_key(p: _Params) -> tuple[str, str]:
        scope = p.get_json("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.get_str("language_code") or ""

    def _set_my_commands(self, p: _Params, request: Request) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list):
            raise _bad_request("Bad Request: commands is empty")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise _bad_request("Bad Request: command description is empty")
        with self._lock:
            self.commands[self._commands_key(p)] = commands
        return True

    def _get_my_commands(self, p: _Params, request: Request) -> list[JSONDict]:
        with self._lock:
            return self.commands.get(self._commands_key(p), [])

    def _delete_my_commands(self, p: _Params, request: Request) -> bool:
        with self._lock:
            self.commands.pop(self._commands_key(p), None)
        return True

    def _get_chat(self, p: _Params, request: Request) -> JSONDict:
        chat_id = p.chat_id()
        with self._lock:
            chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
            if chat is None:
                raise _bad_request(ERR_CHAT_NOT_FOUND)
            return chat.to_json() | {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }

    def _get_file(self, p: _Params, request: Request) -> JSONDict:
        file_id = p.get_str("file_id", required=True) or ""
        with self._lock:
            entry = self._files.get(file_id)
        if entry is None:
            raise _bad_request("Bad Request: invalid file_id")
        return {
            "file_id": entry.file_id,
            "file_unique_id": entry.file_unique_id,
            "file_size": len(entry.content),
            "file_path": entry.file_path,
        }

    # ------------------------------------------------------------------ the user's side

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str = "Samira",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "fr",
    ) -> None:
        """Register a user who has started the bot, so the bot may message them first."""
        with self._lock:
            self._ensure_user(user_id, first_name, last_name, username, language_code)

    def add_group(self, chat_id: int, *, title: str = "Groupe CISP", chat_type: str = "group") -> None:
        """Register a group the bot is a member of."""
        with self._lock:
            self._ensure_group(chat_id, chat_type, title)

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """Make sends to this user fail with 403 "Forbidden: bot was blocked by the user"."""
        with self._lock:
            user = self._users.get(user_id) or self._ensure_user(user_id, "Samira", None, None, "fr")
            user.blocked_bot = blocked

    def _user_message(
        self,
        user_id: int,
        content: JSONDict,
        *,
        first_name: str,
        chat_id: int | None,
        chat_type: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "fr",
        reply_to: SentMessage | int | None = None,
    ) -> int:
        with self._lock:
            user = self._ensure_user(user_id, first_name, last_name, username, language_code)
            if chat_type == "private":
                if chat_id not in (None, user_id):
                    raise ValueError(f"a private chat's id is the user's id ({user_id}), not {chat_id}")
                chat = self._chats[user_id]
            else:
                if chat_id is None:
                    raise ValueError("a group message needs a (negative) chat_id")
                chat = self._ensure_group(chat_id, chat_type, None)
            message_id = self._next_message_id(chat.id)
            message: JSONDict = {
                "message_id": message_id,
                "from": user.to_json(),
                "chat": chat.to_json(),
                "date": int(time.time()),
            }
            if reply_to is not None:
                if isinstance(reply_to, SentMessage) and reply_to.chat_id != chat.id:
                    raise ValueError(
                        f"message {reply_to.message_id} is in chat {reply_to.chat_id}, not {chat.id}"
                    )
                replied_id = reply_to.message_id if isinstance(reply_to, SentMessage) else reply_to
                replied = self._replied_json(chat.id, replied_id)
                if replied is None:
                    raise ValueError(f"no message {replied_id} in chat {chat.id} to reply to")
                message["reply_to_message"] = replied
            message.update(content)
            self._user_messages[(chat.id, message_id)] = message
            return self._queue("message", message)

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Samira",
        chat_id: int | None = None,
        chat_type: str = "private",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "fr",
        reply_to: SentMessage | int | None = None,
    ) -> int:
        """Queue an update with a text message from the user; give its update_id.

        A private chat's id is the user's id; for a group pass a negative ``chat_id`` and
        ``chat_type="group"`` or ``"supergroup"``. A leading "/command" gets its bot_command entity.
        """
        content: JSONDict = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?", text)
        if command is not None:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": _u16(command.group(0))}]
        return self._user_message(
            user_id,
            content,
            first_name=first_name,
            chat_id=chat_id,
            chat_type=chat_type,
            last_name=last_name,
            username=username,
            language_code=language_code,
            reply_to=reply_to,
        )

    def _user_file_message(
        self,
        user_id: int,
        entry: _FileEntry,
        caption: str | None,
        extra: JSONDict | None = None,
        **options: Any,
    ) -> int:
        """Queue a message from the user showing a file of the fake's; give the update_id."""
        payload: JSONDict = {entry.kind: self._file_json(self._sent_file(entry))}
        payload.update(extra or {})
        if caption is not None:
            payload["caption"] = caption
        return self._user_message(user_id, payload, **options)

    def user_sends_voice(
        self,
        user_id: int,
        *,
        duration: int = 4,
        content: bytes = b"OggS\x00fake-voice",
        caption: str | None = None,
        first_name: str = "Samira",
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: SentMessage | int | None = None,
    ) -> int:
        """Queue a voice message (OGG/Opus as Telegram's clients record it); give the update_id."""
        entry = self._new_file(
            "voice", "oga", content, mime_type="audio/ogg", attributes={"duration": duration}
        )
        return self._user_file_message(
            user_id,
            entry,
            caption,
            first_name=first_name,
            chat_id=chat_id,
            chat_type=chat_type,
            reply_to=reply_to,
        )

    def user_sends_audio(
        self,
        user_id: int,
        *,
        file_name: str = "enregistrement.mp3",
        mime_type: str = "audio/mpeg",
        duration: int = 95,
        performer: str | None = None,
        title: str | None = None,
        content: bytes = b"ID3\x04fake-mp3",
        caption: str | None = None,
        first_name: str = "Samira",
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: SentMessage | int | None = None,
    ) -> int:
        """Queue an audio file message (music player, not a voice note); give the update_id."""
        attributes: JSONDict = {"duration": duration}
        if performer is not None:
            attributes["performer"] = performer
        if title is not None:
            attributes["title"] = title
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "mp3"
        entry = self._new_file(
            "audio", extension, content, file_name=file_name, mime_type=mime_type, attributes=attributes
        )
        return self._user_file_message(
            user_id,
            entry,
            caption,
            first_name=first_name,
            chat_id=chat_id,
            chat_type=chat_type,
            reply_to=reply_to,
        )

    def user_sends_video(
        self,
        user_id: int,
        *,
        file_name: str = "video.mp4",
        mime_type: str = "video/mp4",
        duration: int = 12,
        width: int = 1280,
        height: int = 720,
        content: bytes = b"\x00\x00\x00\x18ftypmp42fake",
        caption: str | None = None,
        first_name: str = "Samira",
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: SentMessage | int | None = None,
    ) -> int:
        """Queue a video message; give the update_id."""
        entry = self._new_file(
            "video",
            "mp4",
            content,
            file_name=file_name,
            mime_type=mime_type,
            attributes={"width": width, "height": height, "duration": duration},
        )
        return self._user_file_message(
            user_id,
            entry,
            caption,
            first_name=first_name,
            chat_id=chat_id,
            chat_type=chat_type,
            reply_to=reply_to,
        )

    def user_sends_video_note(
        self,
        user_id: int,
        *,
        duration: int = 7,
        length: int = 384,
        content: bytes = b"\x00\x00\x00\x18ftypmp42fake-round",
        first_name: str = "Samira",
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: SentMessage | int | None = None,
    ) -> int:
        """Queue a video note (the round video message, which has no caption); give the update_id."""
        entry = self._new_file(
            "video_note", "mp4", content, attributes={"length": length, "duration": duration}
        )
        return self._user_file_message(
            user_id,
            entry,
            None,
            first_name=first_name,
            chat_id=chat_id,
            chat_type=chat_type,
            reply_to=reply_to,
        )

    def user_sends_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        first_name: str = "Samira",
        chat_id: int | None = None,
        chat_type: str = "private",
        media_group_id: str | None = None,
        reply_to: SentMessage | int | None = None,
    ) -> int:
        """Queue a photo message (three PhotoSize, the largest last); give the update_id.

        Photos sent together (an album) arrive as separate messages sharing a media_group_id.
        """
        entry = self._new_file("photo", "jpg", content)
        extra = {"media_group_id": media_group_id} if media_group_id is not None else None
        return self._user_file_message(
            user_id,
            entry,
            caption,
            extra,
            first_name=first_name,
            chat_id=chat_id,
            chat_type=chat_type,
            reply_to=reply_to,
        )

    def user_sends_document(
        self,
        user_id: int,
        *,
        file_name: str = "attestation.pdf",
        mime_type: str = "application/pdf",
        content: bytes = b"%PDF-1.4\nfake\n%%EOF\n",
        caption: str | None = None,
        first_name: str = "Samira",
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: SentMessage | int | None = None,
    ) -> int:
        """Queue a document message; give the update_id."""
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        entry = self._new_file("document", extension, content, file_name=file_name, mime_type=mime_type)
        return self._user_file_message(
            user_id,
            entry,
            caption,
            first_name=first_name,
            chat_id=chat_id,
            chat_type=chat_type,
            reply_to=reply_to,
        )

    def user_sends_sticker(
        self,
        user_id: int,
        *,
        emoji: str = "👍",
        first_name: str = "Samira",
        chat_id: int | None = None,
        chat_type: str = "private",
        reply_to: SentMessage | int | None = None,
    ) -> int:
        """Queue a (static, regular) sticker message; give the update_id."""
        attributes = {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakeStickers",
        }
        entry = self._new_file("sticker", "webp", b"RIFF\x00\x00\x00\x00WEBPfake", attributes=attributes)
        return self._user_file_message(
            user_id,
            entry,
            None,
            first_name=first_name,
            chat_id=chat_id,
            chat_type=chat_type,
            reply_to=reply_to,
        )

    def user_presses(
        self,
        user_id: int,
        message: SentMessage | int,
        data: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Samira",
        check_button: bool = True,
    ) -> int:
        """Queue a callback_query for a button of a bot message; give the update_id.

        ``message`` is a recorded message or its message_id in ``chat_id`` (default: the user's
        private chat). With ``check_button`` the message must be live and show a button with this
        callback_data, as a real client only lets the user press what is on screen.
        """
        with self._lock:
            if isinstance(message, SentMessage):
                key = (message.chat_id, message.message_id)
            else:
                key = (user_id if chat_id is None else chat_id, message)
            recorded = self._by_key.get(key)
            if recorded is None:
                raise ValueError(f"the bot sent no message {key[1]} in chat {key[0]}")
            if check_button:
                if recorded.deleted:
                    raise ValueError(f"message {key[1]} in chat {key[0]} was deleted")
                if data not in recorded.callback_data:
                    raise ValueError(
                        f"message {key[1]} in chat {key[0]} has no button with callback_data {data!r}; "
                        f"its buttons: {recorded.callback_data}"
                    )
            user = self._users.get(user_id) or self._ensure_user(user_id, first_name, None, None, "fr")
            self._callback_counter += 1
            query_id = str(4_382_000_000_000_000_000 + self._callback_counter)
            query = {
                "id": query_id,
                "from": user.to_json(),
                "message": self._message_json(recorded),
                "chat_instance": str(-(7_000_000_000_000_000_000 + abs(recorded.chat_id))),
                "data": data,
            }
            update_id = self._queue("callback_query", query)
            self._callbacks[query_id] = (update_id, False)
            return update_id

    def queue_update(self, kind: str, payload: JSONDict) -> int:
        """Queue any other update type (e.g. "edited_message", "my_chat_member"); give the update_id."""
        return self._queue(kind, payload)

    def redeliver(self, update_id: int) -> None:
        """Queue an update again, same update_id, as Telegram does after a bot restart.

        The copy is handed out once even to a poller whose offset is already past it.
        """
        with self._lock:
            update = self._history.get(update_id)
            if update is None:
                raise ValueError(f"no update {update_id} was ever queued")
            kind = next(key for key in update if key != "update_id")
            bisect.insort(
                self._pending, _Pending(update_id, kind, update, redelivered=True), key=lambda u: u.update_id
            )
        self._notify()

    def pending_updates(self) -> list[JSONDict]:
        """The updates not yet confirmed, oldest first."""
        with self._lock:
            return [pending.update for pending in sorted(self._pending, key=lambda u: u.update_id)]

    def update(self, update_id: int) -> JSONDict:
        """The JSON of a queued update."""
        with self._lock:
            return self._history[update_id]

    # ------------------------------------------------------------------ webhook delivery

    async def deliver_to_webhook(
        self,
        update: int | Mapping[str, Any],
        *,
        secret_token: str | None = None,
        send_secret: bool = True,
        timeout: float = 5.0,
    ) -> int:
        """POST an update (a queued update_id, or an update's JSON) to the webhook; give the HTTP status.

        The header X-Telegram-Bot-Api-Secret-Token carries the secret set with setWebhook, or
        ``secret_token`` if given (e.g. a wrong one); ``send_secret=False`` leaves it out.
        A 2xx answer confirms the update: it leaves the pending queue.
        """
        with self._lock:
            url = self.webhook_url
            if not url:
                raise RuntimeError("no webhook is set: the bot must call setWebhook first")
            if isinstance(update, int):
                if update not in self._history:
                    raise ValueError(f"no update {update} was ever queued")
                payload = self._history[update]
            else:
                payload = dict(update)
                if "update_id" not in payload:
                    self._update_id += 1
                    payload["update_id"] = self._update_id
            secret = secret_token if secret_token is not None else self.webhook_secret_token
        headers = {"Content-Type": "application/json"}
        if send_secret and secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with httpx.AsyncClient(trust_env=False, timeout=timeout) as client:
            response = await client.post(url, content=json.dumps(payload).encode(), headers=headers)
        update_id = int(payload["update_id"])
        with self._lock:
            self.webhook_deliveries.append((update_id, response.status_code))
            if response.is_success:
                self._pending = [u for u in self._pending if u.update_id != update_id]
        return response.status_code

    async def deliver_pending_to_webhook(self, **kwargs: Any) -> list[int]:
        """Deliver every pending update to the webhook, oldest first; give the statuses."""
        return [
            await self.deliver_to_webhook(update["update_id"], **kwargs) for update in self.pending_updates()
        ]

    # ------------------------------------------------------------------ failure injection

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        *,
        drop_connection: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail before doing anything.

        429 answers carry ``parameters.retry_after`` (default 1), which python-telegram-bot turns
        into RetryAfter; 502 answers with nginx's HTML page, as Telegram's front does;
        ``drop_connection`` starts an answer and closes the connection mid-body.
        """
        canonical = self._method_names.get(method.lower(), method)
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            elif drop_connection:
                description = "connection dropped"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(
                    error_code, "Bad Gateway" if error_code == 502 else "Error"
                )
        failure = _Failure(error_code, description, retry_after, drop_connection)
        with self._lock:
            self._failures.setdefault(canonical, deque()).extend([failure] * times)

    # ------------------------------------------------------------------ assertions

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """The messages the bot sent, in order, to one chat or to all."""
        with self._lock:
            return [m for m in self._messages if chat_id is None or m.chat_id == chat_id]

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        """A message the bot sent."""
        with self._lock:
            return self._by_key[(chat_id, message_id)]

    def calls_to(self, method: str) -> list[JSONDict]:
        """The parameters of every call of ``method``."""
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def callback_answer(self, update_id: int) -> AnsweredCallback | None:
        """The answerCallbackQuery to a press (its update_id): the popup the user saw; None if unanswered."""
        with self._lock:
            return next((a for a in self.answered_callbacks if a.update_id == update_id), None)

    async def wait_for_callback_answer(self, update_id: int, timeout: float = 5.0) -> AnsweredCallback:
        """Wait until the bot answered the press queued as ``update_id``; give the answer."""
        await self.wait_until(
            lambda: self.callback_answer(update_id) is not None,
            timeout,
            what=f"an answerCallbackQuery to update {update_id}",
        )
        answer = self.callback_answer(update_id)
        assert answer is not None
        return answer

    def mark(self) -> None:
        """Make wait_for_messages and wait_for_calls count from now: "the next N messages"."""
        with self._lock:
            self._mark_messages = len(self._messages)
            self._mark_calls = len(self.calls)

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` holds; raise AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what} not met within {timeout}s\n{self._summary()}")
            await asyncio.sleep(0.01)

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 5.0) -> list[SentMessage]:
        """Wait until the bot sent at least ``count`` messages to ``chat_id`` since the last mark().

        Gives all the messages sent there since the mark (possibly more than ``count``).
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                got = [m for m in self._messages[self._mark_messages :] if m.chat_id == chat_id]
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                lines = "\n".join(f"  {m.describe()}" for m in got) or "  (none)"
                raise AssertionError(
                    f"expected {count} message(s) to chat {chat_id} within {timeout}s, got {len(got)}:\n"
                    f"{lines}\n{self._summary()}"
                )
            await asyncio.sleep(0.01)

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[JSONDict]:
        """Wait until ``method`` was called ``count`` times since the last mark(); give their params."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                got = [params for name, params in self.calls[self._mark_calls :] if name == method]
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                summary = self._summary()
                raise AssertionError(
                    f"expected {count} call(s) of {method} within {timeout}s, got {len(got)}\n{summary}"
                )
            await asyncio.sleep(0.01)

    def _summary(self) -> str:
        with self._lock:
            sent = "\n".join(f"  {m.describe()}" for m in self._messages[-10:]) or "  (none)"
            errors = (
                "\n".join(f"  {e.method}: {e.error_code} {e.description}" for e in self.errors[-10:])
                or "  (none)"
            )
            methods = [name for name, _ in self.calls[-15:] if name != "getUpdates"]
        return (
            f"messages sent (last 10):\n{sent}\nerrors answered (last 10):\n{errors}\nrecent calls: {methods}"
        )


@contextlib.asynccontextmanager
async def serve_asgi(app: ASGIApp, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an ASGI app (e.g. a webhook receiver) on an ephemeral loopback port; give its root URL."""
    if not _is_loopback(host):
        raise ValueError("only loopback addresses")
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it every keep-alive answer waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.005)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def bot_builder(api: FakeBotApi, token: str | None = None) -> ApplicationBuilder:
    """An ApplicationBuilder aimed at the fake, with short timeouts; add handlers and build()."""
    return (
        ApplicationBuilder()
        .token(api.token if token is None else token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .connect_timeout(2.0)
        .read_timeout(5.0)
        .write_timeout(5.0)
        .pool_timeout(2.0)
        .get_updates_connect_timeout(2.0)
        .get_updates_read_timeout(5.0)
        .get_updates_write_timeout(5.0)
        .get_updates_pool_timeout(2.0)
    )
