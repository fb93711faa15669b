"""An in-process fake of Meta's WhatsApp Cloud API (Graph API), served over HTTP on 127.0.0.1.

The fake speaks the Cloud API's wire protocol, so the production client talks to it unchanged:

* ``POST /{version}/{phone_number_id}/messages`` with ``Authorization: Bearer <token>`` sends text,
  interactive (reply buttons, list), template and media (audio, image, document, video, sticker)
  messages, validated against Meta's documented limits; it also takes read receipts
  (``{"status": "read", "message_id": ...}``);
* ``POST /{version}/{phone_number_id}/media`` uploads a file (multipart), ``GET /{version}/{media_id}``
  gives its download URL, ``DELETE /{version}/{media_id}`` removes it; the URL serves the bytes to a
  request carrying the token, for five minutes;
* every refusal is Graph's error object (``{"error": {"message", "type", "code", "error_data",
  "fbtrace_id"}}``) with Meta's HTTP status.

Tests play the user's side with :meth:`FakeGraphApi.user_sends` & co., which build Meta's webhook
payloads (and open the user's 24-hour window), POST them to the bot's webhook with
:meth:`FakeGraphApi.deliver` (signed as Meta signs them), and assert on what the bot sent with
:meth:`FakeGraphApi.sent_to`, :meth:`FakeGraphApi.wait_for_messages`. The payload builders are also
plain functions (:func:`inbound_text`, :func:`status_update`, ...) for tests without a server.

Usage::

    async with FakeGraphApi(clock=clock.now) as api:
        settings = settings.model_copy(update={"whatsapp_api_url": api.graph_url, ...})
        ...
        await api.deliver(webhook_url, api.user_sends("32470123456", "Bonjour"), app_secret=SECRET)
        [reply] = await api.wait_for_messages("32470123456", 1)

The customer-service window: a message other than a template is refused (131047) unless the user wrote
within the last 24 hours by the fake's clock (``clock``, default the real time). Meta reports this
refusal in a ``failed`` status webhook, some setups synchronously; ``window_refusal="status"`` accepts
the message and records the failure for :meth:`FakeGraphApi.status_of` instead of answering HTTP 400.

Sources (Meta's developer documentation): error codes and their HTTP statuses from "Cloud API error
codes" (developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes);
request shapes and limits from "Send messages", "Text messages", "Interactive reply buttons
messages", "Interactive list messages", "Template messages", "Media"; webhook shapes from the
"messages webhook reference" (text, interactive, audio, image, document, status). The wording of
validation refusals follows answers seen from the real API ("(#100) Param text['body'] must be at most
4096 characters long.", "(#131009) Parameter value is not valid" / "Button title length invalid. Min
length: 1, Max length: 20"); where Meta's wording is not known, the details say plainly what is wrong.

Deliberate simplifications: no groups, reactions, locations, contacts, flows, CTA or product messages
(refused as unsupported by the fake); lengths are counted in code points; a media id must be one the
fake knows (Meta would fail such a message later, in a status webhook); statuses carry ``pricing`` but
no ``conversation`` object.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tests.fakes.serving import BackgroundServing
from tests.fakes.telegram_api import serve_asgi

JSONDict = dict[str, Any]
Clock = Callable[[], datetime]

DEFAULT_TOKEN = "EAAGfake0cisp0bot0token"
DEFAULT_API_VERSION = "v21.0"
DEFAULT_PHONE_NUMBER_ID = "106540352242922"
DEFAULT_DISPLAY_PHONE_NUMBER = "3225550100"
DEFAULT_WABA_ID = "102290129340398"
DEFAULT_PROFILE_NAME = "Samira"
ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# Meta's documented limits (in characters unless said otherwise).
MAX_TEXT_BODY = 4096
MAX_CAPTION = 1024
MAX_BUTTON_BODY = 1024
MAX_LIST_BODY = 4096
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_BUTTON = 20
MAX_SECTIONS = 10
MAX_SECTION_TITLE = 24
MAX_ROWS = 10
MAX_ROW_ID = 200
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
#: How long a URL from GET /{media_id} serves the file.
MEDIA_URL_LIFETIME = timedelta(minutes=5)

MEDIA_TYPES = ("audio", "image", "document", "video", "sticker")
_CAPTIONED = frozenset({"image", "document", "video"})
_PARAMETER_TYPES = frozenset(
    {"text", "currency", "date_time", "image", "document", "video", "location", "payload", "action"}
)
_TEMPLATE_COMPONENTS = frozenset({"header", "body", "button", "footer", "carousel", "limited_time_offer"})
# A template parameter may not hold a new line, a tab or more than 4 spaces in a row (error 132018).
_BAD_PARAMETER_TEXT = re.compile(r"[\n\r\t]| {5,}")


@dataclass(frozen=True)
class ErrorInfo:
    """What Meta's error table says about a code: title (the message after "(#code) "), details, status."""

    title: str
    details: str
    http_status: int


#: The Cloud API error codes the fake produces or injects, from Meta's "Cloud API error codes" page.
ERRORS: dict[int, ErrorInfo] = {
    0: ErrorInfo("AuthException", "We were unable to authenticate the app user.", 401),
    4: ErrorInfo("Application request limit reached", "The app has reached its API call rate limit.", 400),
    10: ErrorInfo("Permission denied", "Permission is either not granted or has been removed.", 403),
    100: ErrorInfo(
        "Invalid parameter", "The request included one or more unsupported or misspelled parameters.", 400
    ),
    190: ErrorInfo(
        "Error validating access token: Session has expired", "Your access token has expired.", 401
    ),
    80007: ErrorInfo("Rate limit issues", "The WhatsApp Business Account has reached its rate limit.", 400),
    130429: ErrorInfo("Rate limit hit", "Cloud API message throughput has been reached.", 400),
    131000: ErrorInfo("Something went wrong", "Message failed to send due to an unknown error.", 500),
    131008: ErrorInfo("Required parameter is missing", "The request is missing a required parameter.", 400),
    131009: ErrorInfo("Parameter value is not valid", "One or more parameter values are invalid.", 400),
    131016: ErrorInfo("Service unavailable", "A service is temporarily unavailable.", 503),
    131026: ErrorInfo(
        "Message undeliverable",
        "Message failed to send because the recipient is not a WhatsApp user or cannot receive it.",
        400,
    ),
    131047: ErrorInfo(
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied "
        "to this number.",
        400,
    ),
    131048: ErrorInfo(
        "Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be sent from this "
        "phone number. This may be because too many previous messages were blocked or flagged as spam.",
        400,
    ),
    131049: ErrorInfo(
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "This message was not delivered to maintain healthy ecosystem engagement.",
        400,
    ),
    131051: ErrorInfo("Unsupported message type", "Message type is not currently supported.", 400),
    131056: ErrorInfo(
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the "
        "same phone number in a short period of time.",
        400,
    ),
    132000: ErrorInfo(
        "Number of parameters does not match the expected number of params",
        "The number of parameters provided does not match the number the template expects.",
        400,
    ),
    132001: ErrorInfo(
        "Template name does not exist in the translation",
        "The template does not exist in the specified language or has not been approved.",
        400,
    ),
    132018: ErrorInfo(
        "There was an issue with the parameters in your template.",
        "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
        400,
    ),
}


# --------------------------------------------------------------------------- errors


class GraphError(Exception):
    """A refusal in Graph's format: raise it inside the fake, or build the answer of an injected failure."""

    def __init__(
        self,
        code: int,
        *,
        message: str | None = None,
        details: str | None = None,
        http_status: int | None = None,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        with_error_data: bool = True,
    ) -> None:
        info = ERRORS.get(code)
        self.code = code
        self.message = message or f"(#{code}) {info.title if info else 'Unknown error'}"
        self.details = details if details is not None else (info.details if info else self.message)
        self.http_status = http_status or (info.http_status if info else 400)
        self.error_type = error_type
        self.subcode = subcode
        self.with_error_data = with_error_data
        super().__init__(self.message)

    def body(self) -> JSONDict:
        """Return Graph's error object."""
        error: JSONDict = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.with_error_data:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = _fbtrace_id()
        return {"error": error}

    def response(self) -> JSONResponse:
        """Return the HTTP answer."""
        return JSONResponse(self.body(), status_code=self.http_status)


def _fbtrace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(18)).decode().rstrip("=")[:23]


def _param(path: str, problem: str) -> GraphError:
    # Graph's schema check, e.g. "(#100) Param text['body'] must be at most 4096 characters long."
    text = f"Param {path} {problem}"
    return GraphError(100, message=f"(#100) {text}.", details=f"{text}.")


def _required(name: str) -> GraphError:
    text = f"The parameter {name} is required."
    return GraphError(100, message=f"(#100) {text}", details=text)


def _value(details: str) -> GraphError:
    # Value checks of interactive messages answer 131009 with the reason in error_data.details.
    return GraphError(131009, details=details)


def _unsupported_object(verb: str, object_id: str) -> GraphError:
    return GraphError(
        100,
        message=(
            f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
            "to missing permissions, or does not support this operation. Please read the Graph API "
            "documentation at https://developers.facebook.com/docs/graph-api"
        ),
        error_type="GraphMethodException",
        subcode=33,
        with_error_data=False,
    )


def window_error() -> GraphError:
    """Return the refusal of a free-form message outside the customer-service window (131047)."""
    return GraphError(131047)


# --------------------------------------------------------------------------- records


@dataclass
class SentMessage:
    """A message the fake accepted from the bot."""

    to: str
    """The recipient's wa_id (the digits of the request's "to")."""
    type: str
    payload: JSONDict
    """The request body, as sent."""
    wamid: str
    at: datetime
    """When it was accepted, by the fake's clock."""
    error: JSONDict | None = None
    """For a message accepted but failed later (``window_refusal="status"``): the status webhook's error."""

    @property
    def content(self) -> JSONDict:
        """The object named after the type: ``payload["text"]``, ``payload["interactive"]``, ..."""
        value = self.payload.get(self.type)
        return value if isinstance(value, dict) else {}

    @property
    def failed(self) -> bool:
        """Whether the message never reached the user."""
        return self.error is not None

    @property
    def text(self) -> str | None:
        """What the user reads: a text's body, an interactive message's body, a media caption."""
        if self.type == "text":
            return self.content.get("body")
        if self.type == "interactive":
            return (self.content.get("body") or {}).get("text")
        if self.type in MEDIA_TYPES:
            return self.content.get("caption")
        return None

    @property
    def interactive_type(self) -> str | None:
        """``"button"`` or ``"list"`` for an interactive message."""
        return self.content.get("type") if self.type == "interactive" else None

    @property
    def choices(self) -> list[JSONDict]:
        """The reply buttons (``{"id", "title"}``) or the list's rows (``{"id", "title", "description"}``)."""
        if self.type != "interactive":
            return []
        action = self.content.get("action") or {}
        if self.interactive_type == "button":
            return [button.get("reply") or {} for button in action.get("buttons") or ()]
        return [row for section in action.get("sections") or () for row in section.get("rows") or ()]

    @property
    def choice_ids(self) -> list[str]:
        """The ids of :attr:`choices`."""
        return [str(choice.get("id")) for choice in self.choices]

    @property
    def template_name(self) -> str | None:
        """A template message's template."""
        return self.content.get("name") if self.type == "template" else None

    @property
    def template_parameters(self) -> list[str]:
        """The text parameters of a template's body component."""
        if self.type != "template":
            return []
        return [
            str(parameter.get("text"))
            for component in self.content.get("components") or ()
            if component.get("type") == "body"
            for parameter in component.get("parameters") or ()
            if parameter.get("type") == "text"
        ]

    @property
    def media(self) -> JSONDict | None:
        """A media message's object: ``{"id": ...}`` or ``{"link": ...}``, with caption/filename."""
        return self.content if self.type in MEDIA_TYPES else None

    @property
    def context_id(self) -> str | None:
        """The wamid this message replies to (``context.message_id``)."""
        context = self.payload.get("context")
        return context.get("message_id") if isinstance(context, dict) else None

    def describe(self) -> str:
        """One line for assertion messages."""
        body = repr(self.text) if self.text is not None else ""
        if self.type == "template":
            body = f"{self.template_name} {self.template_parameters}"
        elif self.media is not None:
            body = f"{self.media.get('id') or self.media.get('link')} {body}".rstrip()
        kind = f"{self.type}/{self.interactive_type}" if self.interactive_type else self.type
        choices = f" choices={self.choice_ids}" if self.choices else ""
        failed = f" (failed: {self.error.get('code')})" if self.error else ""
        return f"{self.wamid[-10:]} to {self.to}: {kind} {body}{choices}{failed}"


@dataclass(frozen=True)
class MediaFile:
    """A file the fake knows: uploaded by the bot, added by a test, or sent by a user."""

    media_id: str
    content: bytes
    mime_type: str
    filename: str | None = None

    @property
    def sha256_hex(self) -> str:
        """The hash GET /{media_id} reports (hex)."""
        return hashlib.sha256(self.content).hexdigest()

    @property
    def sha256_base64(self) -> str:
        """The hash inbound-message webhooks report (base64)."""
        return base64.b64encode(hashlib.sha256(self.content).digest()).decode()


@dataclass(frozen=True)
class ErrorRecord:
    """A request the fake refused (injected failures included)."""

    method: str
    path: str
    payload: Any
    http_status: int
    code: int
    message: str
    details: str


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the fake received it (JSON bodies decoded; uploads as their size)."""

    method: str
    path: str
    body: Any


@dataclass
class _Failure:
    error: GraphError
    endpoint: str


@dataclass(frozen=True)
class _Template:
    body_parameters: int


# --------------------------------------------------------------------------- webhook payloads


@dataclass(frozen=True)
class Business:
    """The business side of webhook payloads: the phone number and its WhatsApp Business Account."""

    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID
    display_phone_number: str = DEFAULT_DISPLAY_PHONE_NUMBER
    waba_id: str = DEFAULT_WABA_ID


DEFAULT_BUSINESS = Business()


def new_wamid() -> str:
    """Return a fresh WhatsApp message id, shaped like Meta's ("wamid." and base64)."""
    return "wamid." + base64.b64encode(b"\x1c\x18\x0b" + secrets.token_bytes(33)).decode()


def unix_timestamp(at: datetime | None = None) -> str:
    """Format a moment (default now) as Meta does: unix seconds as a string."""
    moment = at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("timestamps need a timezone-aware datetime")
    return str(int(moment.timestamp()))


def webhook_envelope(value: Mapping[str, Any], business: Business = DEFAULT_BUSINESS) -> JSONDict:
    """Wrap a ``value`` (messages, contacts, statuses...) as the body Meta POSTs to the webhook."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": business.waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": business.display_phone_number,
                                "phone_number_id": business.phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def inbound_message(
    wa_id: str,
    kind: str,
    content: Mapping[str, Any],
    *,
    name: str = DEFAULT_PROFILE_NAME,
    business: Business = DEFAULT_BUSINESS,
    at: datetime | None = None,
    wamid: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> JSONDict:
    """Build the webhook payload of one message of type ``kind`` from ``wa_id`` (``content`` under it)."""
    message: JSONDict = {}
    if context is not None:
        message["context"] = dict(context)
    message |= {
        "from": wa_id,
        "id": wamid or new_wamid(),
        "timestamp": unix_timestamp(at),
        "type": kind,
        kind: dict(content),
    }
    return webhook_envelope(
        {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}, business
    )


def inbound_text(wa_id: str, body: str, **kwargs: Any) -> JSONDict:
    """Build a text message from a user (kwargs as :func:`inbound_message`)."""
    return inbound_message(wa_id, "text", {"body": body}, **kwargs)


def inbound_button_reply(
    wa_id: str,
    button_id: str,
    title: str,
    *,
    replied_to: str,
    business: Business = DEFAULT_BUSINESS,
    **kwargs: Any,
) -> JSONDict:
    """Build a press on a reply button of the bot's message ``replied_to`` (its wamid)."""
    return inbound_message(
        wa_id,
        "interactive",
        {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
        context={"from": business.display_phone_number, "id": replied_to},
        business=business,
        **kwargs,
    )


def inbound_list_reply(
    wa_id: str,
    row_id: str,
    title: str,
    description: str | None = None,
    *,
    replied_to: str,
    business: Business = DEFAULT_BUSINESS,
    **kwargs: Any,
) -> JSONDict:
    """Build a choice of a row in the bot's list message ``replied_to`` (its wamid)."""
    reply: JSONDict = {"id": row_id, "title": title}
    if description is not None:
        reply["description"] = description
    return inbound_message(
        wa_id,
        "interactive",
        {"type": "list_reply", "list_reply": reply},
        context={"from": business.display_phone_number, "id": replied_to},
        business=business,
        **kwargs,
    )


def _media_content(media: MediaFile, url: str | None, **more: Any) -> JSONDict:
    content: JSONDict = {"mime_type": media.mime_type, "sha256": media.sha256_base64, "id": media.media_id}
    if url is not None:
        content["url"] = url
    content.update({key: value for key, value in more.items() if value is not None})
    return content


def inbound_audio(
    wa_id: str, media: MediaFile, *, voice: bool = True, url: str | None = None, **kwargs: Any
) -> JSONDict:
    """Build an audio message: a voice note recorded in WhatsApp (``voice=True``) or an audio file."""
    return inbound_message(wa_id, "audio", _media_content(media, url, voice=voice), **kwargs)


def inbound_image(
    wa_id: str, media: MediaFile, *, caption: str | None = None, url: str | None = None, **kwargs: Any
) -> JSONDict:
    """Build an image message, with its caption if any."""
    return inbound_message(wa_id, "image", _media_content(media, url, caption=caption), **kwargs)


def inbound_document(
    wa_id: str,
    media: MediaFile,
    *,
    caption: str | None = None,
    url: str | None = None,
    **kwargs: Any,
) -> JSONDict:
    """Build a document message, with its file name (``media.filename``) and caption if any."""
    content = _media_content(media, url, caption=caption, filename=media.filename or "document.pdf")
    return inbound_message(wa_id, "document", content, **kwargs)


def status_error(code: int, *, details: str | None = None) -> JSONDict:
    """Build an entry of a failed status's ``errors`` array."""
    info = ERRORS.get(code)
    title = info.title if info else "Unknown error"
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or (info.details if info else title)},
        "href": ERROR_CODES_URL,
    }


def status_update(
    wamid: str,
    recipient_id: str,
    status: Literal["sent", "delivered", "read", "failed"],
    *,
    business: Business = DEFAULT_BUSINESS,
    at: datetime | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    category: str = "service",
    biz_opaque_callback_data: str | None = None,
) -> JSONDict:
    """Build the status webhook of a message the business sent; ``failed`` carries ``errors``.

    ``category`` is the pricing category ("service" for free-form replies, "utility", "marketing"...
    for templates).
    """
    entry: JSONDict = {
        "id": wamid,
        "status": status,
        "timestamp": unix_timestamp(at),
        "recipient_id": recipient_id,
    }
    if biz_opaque_callback_data is not None:
        entry["biz_opaque_callback_data"] = biz_opaque_callback_data
    if status == "failed":
        entry["errors"] = [dict(error) for error in errors or [status_error(131000)]]
    else:
        entry["pricing"] = {
            "billable": category != "service",
            "pricing_model": "PMP",
            "category": category,
            "type": "free_customer_service" if category == "service" else "regular",
        }
    return webhook_envelope({"statuses": [entry]}, business)


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    r"""Encode a payload as Meta POSTs it: compact JSON, non-ASCII as lowercase \uXXXX (what it signs)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()


def sign(body: bytes, app_secret: str) -> str:
    """Give the X-Hub-Signature-256 value of a webhook body: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- request validation


def _text(value: Any, path: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise _param(path, "is required")
        return None
    if not isinstance(value, str):
        raise _param(path, "must be a string")
    if len(value) > limit:
        raise _param(path, f"must be at most {limit} characters long")
    return value


def _object(value: Any, path: str) -> JSONDict:
    if value is None:
        raise _param(path, "is required")
    if not isinstance(value, dict):
        raise _param(path, "must be a JSON object")
    return value


def _array(value: Any, path: str) -> list[Any]:
    if value is None:
        raise _param(path, "is required")
    if not isinstance(value, list):
        raise _param(path, "must be an array")
    return value


def _check_header_footer(interactive: JSONDict) -> None:
    header = interactive.get("header")
    if header is not None:
        header = _object(header, "interactive['header']")
        if header.get("type") == "text":
            _text(header.get("text"), "interactive['header']['text']", MAX_HEADER_TEXT)
        elif header.get("type") not in ("image", "video", "document"):
            raise _param("interactive['header']['type']", "must be one of {TEXT, IMAGE, VIDEO, DOCUMENT}")
    footer = interactive.get("footer")
    if footer is not None:
        _text(
            _object(footer, "interactive['footer']").get("text"),
            "interactive['footer']['text']",
            MAX_FOOTER_TEXT,
        )


def _check_buttons(action: JSONDict) -> None:
    buttons = _array(action.get("buttons"), "interactive['action']['buttons']")
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        raise _value(f"Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: {MAX_BUTTONS}")
    ids: set[str] = set()
    titles: set[str] = set()
    for index, raw in enumerate(buttons):
        path = f"interactive['action']['buttons'][{index}]"
        button = _object(raw, path)
        if button.get("type") != "reply":
            raise _param(f"{path}['type']", "must be one of {REPLY}")
        reply = _object(button.get("reply"), f"{path}['reply']")
        button_id = _text(reply.get("id"), f"{path}['reply']['id']", MAX_BUTTON_ID)
        title = reply.get("title")
        if not isinstance(title, str) or not 1 <= len(title) <= MAX_BUTTON_TITLE:
            raise _value(f"Button title length invalid. Min length: 1, Max length: {MAX_BUTTON_TITLE}")
        if title in titles:
            raise _value(f"Button title must be unique within the message: {title!r}")
        if button_id in ids:
            raise _value(f"Button id must be unique within the message: {button_id!r}")
        titles.add(title)
        ids.add(str(button_id))


def _check_list(action: JSONDict) -> None:
    label = action.get("button")
    if not isinstance(label, str) or not 1 <= len(label) <= MAX_LIST_BUTTON:
        raise _value(f"Button text length invalid. Min length: 1, Max length: {MAX_LIST_BUTTON}")
    sections = _array(action.get("sections"), "interactive['action']['sections']")
    if not 1 <= len(sections) <= MAX_SECTIONS:
        raise _value(f"Invalid sections count. Min allowed sections: 1, Max allowed sections: {MAX_SECTIONS}")
    row_ids: set[str] = set()
    total = 0
    for s_index, raw_section in enumerate(sections):
        path = f"interactive['action']['sections'][{s_index}]"
        section = _object(raw_section, path)
        title = section.get("title")
        if title is None and len(sections) > 1:
            raise _value("Section title is required when the list has more than one section")
        if title is not None and (not isinstance(title, str) or not 1 <= len(title) <= MAX_SECTION_TITLE):
            raise _value(f"Section title length invalid. Min length: 1, Max length: {MAX_SECTION_TITLE}")
        rows = _array(section.get("rows"), f"{path}['rows']")
        if not rows:
            raise _value("Invalid rows count. Each section needs at least 1 row")
        total += len(rows)
        for r_index, raw_row in enumerate(rows):
            row_path = f"{path}['rows'][{r_index}]"
            row = _object(raw_row, row_path)
            row_id = _text(row.get("id"), f"{row_path}['id']", MAX_ROW_ID)
            row_title = row.get("title")
            if not isinstance(row_title, str) or not 1 <= len(row_title) <= MAX_ROW_TITLE:
                raise _value(f"Row title length invalid. Min length: 1, Max length: {MAX_ROW_TITLE}")
            description = row.get("description")
            if description is not None and (
                not isinstance(description, str) or len(description) > MAX_ROW_DESCRIPTION
            ):
                raise _value(f"Row description length invalid. Max length: {MAX_ROW_DESCRIPTION}")
            if row_id in row_ids:
                raise _value(f"Row id must be unique within the message: {row_id!r}")
            row_ids.add(str(row_id))
    if total > MAX_ROWS:
        raise _value(f"Total row count exceed max allowed count: {MAX_ROWS}")


def _check_interactive(interactive: JSONDict) -> None:
    kind = interactive.get("type")
    if kind not in ("button", "list"):
        raise GraphError(
            131009,
            details=f"Interactive type {kind!r} is not supported by the fake (only 'button' and 'list')",
        )
    body = _object(interactive.get("body"), "interactive['body']")
    limit = MAX_BUTTON_BODY if kind == "button" else MAX_LIST_BODY
    _text(body.get("text"), "interactive['body']['text']", limit)
    _check_header_footer(interactive)
    action = _object(interactive.get("action"), "interactive['action']")
    if kind == "button":
        _check_buttons(action)
    else:
        if interactive.get("header", {}).get("type", "text") != "text":
            raise _param("interactive['header']['type']", "must be TEXT for a list message")
        _check_list(action)


def _check_template(template: JSONDict, known: Mapping[tuple[str, str], _Template] | None) -> None:
    name = _text(template.get("name"), "template['name']", 512)
    language = _object(template.get("language"), "template['language']")
    code = _text(language.get("code"), "template['language']['code']", 15)
    body_parameters = 0
    components = template.get("components")
    if components is not None:
        for c_index, raw in enumerate(_array(components, "template['components']")):
            path = f"template['components'][{c_index}]"
            component = _object(raw, path)
            kind = component.get("type")
            if not isinstance(kind, str) or kind.lower() not in _TEMPLATE_COMPONENTS:
                raise _param(f"{path}['type']", "must be one of {HEADER, BODY, BUTTON, FOOTER}")
            parameters = _array(component.get("parameters", []), f"{path}['parameters']")
            for p_index, raw_parameter in enumerate(parameters):
                p_path = f"{path}['parameters'][{p_index}]"
                parameter = _object(raw_parameter, p_path)
                if parameter.get("type") not in _PARAMETER_TYPES:
                    raise _param(f"{p_path}['type']", "is not a valid parameter type")
                if parameter.get("type") == "text":
                    text = _text(parameter.get("text"), f"{p_path}['text']", 32768)
                    if text is not None and _BAD_PARAMETER_TEXT.search(text):
                        raise GraphError(132018)
            if kind.lower() == "body":
                body_parameters += len(parameters)
    if known is None:
        return
    registered = known.get((str(name), str(code)))
    if registered is None:
        raise GraphError(132001, details=f"template name ({name}) does not exist in {code}")
    if body_parameters != registered.body_parameters:
        raise GraphError(
            132000,
            details=(
                f"body: number of localizable_params ({body_parameters}) does not match the expected "
                f"number of params ({registered.body_parameters})"
            ),
        )


def _check_media(kind: str, media: JSONDict, known: Mapping[str, MediaFile]) -> None:
    path = f"{kind}"
    has_id, has_link = media.get("id") is not None, media.get("link") is not None
    if has_id == has_link:
        raise _param(f"{path}", "must have exactly one of 'id' or 'link'")
    if has_id:
        media_id = media["id"]
        if not isinstance(media_id, str) or media_id not in known:
            raise _param(f"{path}['id']", f"is not a valid media id: {media_id!r}")
    else:
        link = media["link"]
        if not isinstance(link, str) or not re.match(r"https?://[^\s/]+", link):
            raise _param(f"{path}['link']", "must be a valid http(s) URL")
    if "caption" in media:
        if kind not in _CAPTIONED:
            raise _param(f"{path}['caption']", f"is not allowed for {kind} messages")
        _text(media["caption"], f"{path}['caption']", MAX_CAPTION, required=False)
    if "filename" in media:
        if kind != "document":
            raise _param(f"{path}['filename']", f"is not allowed for {kind} messages")
        _text(media["filename"], f"{path}['filename']", 240)


def _wa_id(to: Any) -> str:
    if not isinstance(to, str) or not to.strip():
        raise _required("to")
    digits = re.sub(r"[\s+\-().]", "", to)
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise GraphError(100, details=f"Invalid WhatsApp user phone number: {to!r}")
    return digits


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message: Message = BytesParser(policy=HTTP).parsebytes(header + body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.get_payload():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = content.decode("utf-8")
        else:
            files[name] = (filename, part.get_content_type(), content)
    return fields, files


# --------------------------------------------------------------------------- the fake


class FakeGraphApi(BackgroundServing):
    """A fake WhatsApp Cloud API for one business phone number, on 127.0.0.1 with an ephemeral port."""

    served_name = "Graph API"

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
        display_phone_number: str = DEFAULT_DISPLAY_PHONE_NUMBER,
        waba_id: str = DEFAULT_WABA_ID,
        api_version: str = DEFAULT_API_VERSION,
        clock: Clock | None = None,
        app_secret: str | None = None,
        window: timedelta = CUSTOMER_SERVICE_WINDOW,
        window_refusal: Literal["http", "status"] = "http",
        max_messages_per_second: float | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if max_messages_per_second is not None and max_messages_per_second <= 0:
            raise ValueError("max_messages_per_second must be positive")
        if not re.fullmatch(r"v\d+\.\d+", api_version):
            raise ValueError("api_version looks like 'v21.0'")
        self.token = token
        self.business = Business(phone_number_id, display_phone_number, waba_id)
        self.api_version = api_version
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        # The secret deliver() signs webhook bodies with (Meta's app secret).
        self.app_secret = app_secret
        self.window = window
        self.window_refusal = window_refusal
        # Meta's throughput limit (80 messages/s per number by default), off unless set: beyond it, 130429.
        self.max_messages_per_second = max_messages_per_second
        self.host = host
        self.port: int | None = None

        self._lock = threading.RLock()
        self._messages: list[SentMessage] = []
        self._by_wamid: dict[str, SentMessage] = {}
        self._last_inbound: dict[str, datetime] = {}
        self._inbound_wamids: set[str] = set()
        self._media: dict[str, MediaFile] = {}
        self._media_ids = itertools.count(1_037_543_291_543_636 + secrets.randbelow(10**9) * 1000)
        self._templates: dict[tuple[str, str], _Template] | None = None
        self._failures: deque[_Failure] = deque()
        self._accepted_sends: deque[float] = deque()
        self._url_secret = secrets.token_bytes(16)
        self._mark = 0

        #: Every request, in order.
        self.requests: list[RecordedRequest] = []
        #: Every refusal (validation, window, auth, injected), in order.
        self.errors: list[ErrorRecord] = []
        #: The wamids the bot marked as read.
        self.read_receipts: list[str] = []
        #: (url, HTTP status) of every deliver().
        self.deliveries: list[tuple[str, int]] = []

        self.app: ASGIApp = Starlette(
            routes=[
                Route("/whatsapp_business/attachments/", self._download, methods=["GET"]),
                Route("/{version}/{object_id}/{edge}", self._edge, methods=["POST"]),
                Route("/{version}/{object_id}", self._object, methods=["GET", "DELETE"]),
            ]
        )
        self._exit_stack: contextlib.AsyncExitStack | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._thread_stop: asyncio.Event | None = None
        self._thread_error: BaseException | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """The server's root URL (Meta's ``https://graph.facebook.com``)."""
        if self.port is None:
            raise RuntimeError("the fake Graph API is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def graph_url(self) -> str:
        """The versioned base URL: ``http://127.0.0.1:PORT/v21.0`` (the bot's WHATSAPP_API_URL)."""
        return f"{self.url}/{self.api_version}"

    @property
    def messages_url(self) -> str:
        """The messages endpoint of the fake's phone number."""
        return f"{self.graph_url}/{self.business.phone_number_id}/messages"

    @property
    def phone_number_id(self) -> str:
        """The business phone number id the fake serves."""
        return self.business.phone_number_id

    async def start(self) -> None:
        """Serve in the running event loop; return once the port is listening."""
        self._loop = asyncio.get_running_loop()
        stack = contextlib.AsyncExitStack()
        url = await stack.enter_async_context(serve_asgi(self.app, self.host))
        self._exit_stack = stack
        self.port = int(url.rsplit(":", 1)[1])

    async def stop(self) -> None:
        """Shut the server down."""
        if self._exit_stack is not None:
            await self._exit_stack.aclose()
            self._exit_stack = None
        self._loop = None
        self.port = None

    # ------------------------------------------------------------------ HTTP layer

    def _now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the fake Graph API's clock must give timezone-aware datetimes")
        return now

    def _authenticate(self, request: Request) -> GraphError | None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        token = credentials.strip() if scheme.lower() in ("bearer", "oauth") else None
        token = token or request.query_params.get("access_token")
        if not token:
            return GraphError(
                2500,
                message="An active access token must be used to query information about the current user.",
                http_status=401,
                with_error_data=False,
            )
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return GraphError(
                190,
                message="Invalid OAuth access token - Cannot parse access token",
                http_status=401,
                with_error_data=False,
            )
        return None

    @staticmethod
    def _check_version(version: str) -> GraphError | None:
        # Graph serves every live version; graph_url names the one the fake was built with.
        if re.fullmatch(r"v\d+\.\d+", version):
            return None
        return GraphError(2500, message=f"Unknown path components: /{version}", with_error_data=False)

    def _refuse(self, request: Request, payload: Any, error: GraphError) -> Response:
        with self._lock:
            self.errors.append(
                ErrorRecord(
                    request.method,
                    request.url.path,
                    payload,
                    error.http_status,
                    error.code,
                    error.message,
                    error.details,
                )
            )
        return error.response()

    def _take_failure(self, endpoint: str) -> GraphError | None:
        with self._lock:
            if self._failures and self._failures[0].endpoint in (endpoint, "any"):
                return self._failures.popleft().error
        return None

    async def _read_json(self, request: Request) -> JSONDict:
        body = await request.body()
        mime = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if mime == "application/x-www-form-urlencoded":
            # Graph also takes form fields, nested objects as JSON strings (curl -F 'text={...}').
            data: JSONDict = {}
            for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
                try:
                    data[key] = json.loads(value) if value[:1] in ("{", "[") else value
                except ValueError:
                    data[key] = value
            return data
        try:
            decoded = json.loads(body) if body else {}
        except ValueError:
            raise GraphError(100, details="The request body is not valid JSON") from None
        if not isinstance(decoded, dict):
            raise GraphError(100, details="The request body must be a JSON object")
        return decoded

    async def _edge(self, request: Request) -> Response:
        version, object_id, edge = (request.path_params[key] for key in ("version", "object_id", "edge"))
        if edge == "media":
            return await self._upload(request, version, object_id)
        parse_error: GraphError | None = None
        payload: JSONDict | None = None
        try:
            payload = await self._read_json(request)
        except GraphError as error:
            parse_error = error
        with self._lock:
            self.requests.append(RecordedRequest("POST", request.url.path, payload))
        refusal = self._authenticate(request) or self._check_version(version)
        if refusal is None and (object_id != self.business.phone_number_id or edge != "messages"):
            refusal = _unsupported_object("post", object_id)
        refusal = refusal or self._take_failure("messages") or parse_error
        if refusal is not None:
            return self._refuse(request, payload, refusal)
        assert payload is not None
        try:
            result = self._send(payload)
        except GraphError as error:
            return self._refuse(request, payload, error)
        return JSONResponse(result)

    def _send(self, payload: JSONDict) -> JSONDict:
        if payload.get("messaging_product") != "whatsapp":
            raise _required("messaging_product")
        if "status" in payload:
            return self._mark_read(payload)
        recipient_type = payload.get("recipient_type", "individual")
        if recipient_type != "individual":
            raise GraphError(100, details=f"recipient_type {recipient_type!r} is not supported by the fake")
        wa_id = _wa_id(payload.get("to"))
        kind = payload.get("type", "text")
        if kind not in ("text", "interactive", "template", *MEDIA_TYPES):
            raise GraphError(100, details=f"Message type {kind!r} is not supported by the fake")
        content = _object(payload.get(kind), kind)
        context = payload.get("context")
        if context is not None:
            _text(_object(context, "context").get("message_id"), "context['message_id']", 512)
        with self._lock:
            if kind == "text":
                _text(content.get("body"), "text['body']", MAX_TEXT_BODY)
                if not isinstance(content.get("preview_url", False), bool):
                    raise _param("text['preview_url']", "must be a boolean")
            elif kind == "interactive":
                _check_interactive(content)
            elif kind == "template":
                _check_template(content, self._templates)
            else:
                _check_media(kind, content, self._media)
            now = self._now()
            error: JSONDict | None = None
            if kind != "template" and not self.in_window(wa_id):
                if self.window_refusal == "http":
                    raise window_error()
                error = status_error(131047)
            self._check_throughput()
            message = SentMessage(wa_id, kind, payload, new_wamid(), now, error)
            self._messages.append(message)
            self._by_wamid[message.wamid] = message
        result_message: JSONDict = {"id": message.wamid}
        if kind == "template":
            result_message["message_status"] = "accepted"
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": payload["to"], "wa_id": wa_id}],
            "messages": [result_message],
        }

    def _mark_read(self, payload: JSONDict) -> JSONDict:
        if payload.get("status") != "read":
            raise _param("status", "must be one of {READ}")
        message_id = _text(payload.get("message_id"), "message_id", 512)
        with self._lock:
            if message_id not in self._inbound_wamids:
                raise GraphError(100, details=f"Invalid message_id: {message_id!r} is no message from a user")
            self.read_receipts.append(str(message_id))
        return {"success": True}

    def _check_throughput(self) -> None:
        """Count a send against the throughput limit; raise 130429 beyond it (lock held)."""
        limit = self.max_messages_per_second
        if limit is None:
            return
        now = time.monotonic()
        window = self._accepted_sends
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limit:
            raise GraphError(130429)
        window.append(now)

    async def _upload(self, request: Request, version: str, object_id: str) -> Response:
        fields, files = _parse_multipart(request.headers.get("content-type", ""), await request.body())
        payload: JSONDict = {**fields, **{name: f"<{len(file[2])} bytes>" for name, file in files.items()}}
        with self._lock:
            self.requests.append(RecordedRequest("POST", request.url.path, payload))
        refusal = self._authenticate(request) or self._check_version(version)
        if refusal is None and object_id != self.business.phone_number_id:
            refusal = _unsupported_object("post", object_id)
        refusal = refusal or self._take_failure("media")
        if refusal is None and fields.get("messaging_product") != "whatsapp":
            refusal = _required("messaging_product")
        if refusal is None and "file" not in files:
            refusal = _required("file")
        if refusal is not None:
            return self._refuse(request, payload, refusal)
        filename, part_type, content = files["file"]
        media_id = self.add_media(content, fields.get("type") or part_type, filename=filename)
        return JSONResponse({"id": media_id})

    async def _object(self, request: Request) -> Response:
        version, object_id = request.path_params["version"], request.path_params["object_id"]
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.url.path, dict(request.query_params))
            )
        refusal = self._authenticate(request) or self._check_version(version) or self._take_failure("media")
        with self._lock:
            media = self._media.get(object_id)
        if refusal is None and media is None:
            refusal = _unsupported_object(request.method.lower(), object_id)
        wanted_number = request.query_params.get("phone_number_id")
        if refusal is None and wanted_number not in (None, self.business.phone_number_id):
            refusal = GraphError(100, details=f"Media {object_id} does not belong to {wanted_number}")
        if refusal is not None:
            return self._refuse(request, None, refusal)
        assert media is not None
        if request.method == "DELETE":
            with self._lock:
                self._media.pop(object_id, None)
            return JSONResponse({"success": True})
        return JSONResponse(
            {
                "url": self.media_url(object_id),
                "mime_type": media.mime_type,
                "sha256": media.sha256_hex,
                "file_size": len(media.content),
                "id": media.media_id,
                "messaging_product": "whatsapp",
            }
        )

    def _url_hash(self, media_id: str, expires: str) -> str:
        return hmac.new(self._url_secret, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def media_url(self, media_id: str) -> str:
        """Give a download URL for a media file, valid for MEDIA_URL_LIFETIME by the fake's clock."""
        expires = str(int((self._now() + MEDIA_URL_LIFETIME).timestamp()))
        query = urlencode({"mid": media_id, "ext": expires, "hash": self._url_hash(media_id, expires)})
        return f"{self.url}/whatsapp_business/attachments/?{query}"

    async def _download(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(RecordedRequest("GET", request.url.path, dict(request.query_params)))
        # Meta's media URLs answer only a request that carries the access token.
        refusal = self._authenticate(request) or self._take_failure("media")
        if refusal is not None:
            return self._refuse(request, None, refusal)
        media_id = request.query_params.get("mid", "")
        expires = request.query_params.get("ext", "")
        signature = request.query_params.get("hash", "")
        with self._lock:
            media = self._media.get(media_id)
        valid = hmac.compare_digest(signature, self._url_hash(media_id, expires)) and expires.isdigit()
        if media is None or not valid or self._now().timestamp() > int(expires):
            return Response(b"URL signature expired or invalid", status_code=404, media_type="text/plain")
        return Response(media.content, media_type=media.mime_type)

    # ------------------------------------------------------------------ test-side set-up

    def add_media(self, content: bytes, mime_type: str, *, filename: str | None = None) -> str:
        """Make a file known (as if uploaded); return its media id."""
        with self._lock:
            media_id = str(next(self._media_ids))
            self._media[media_id] = MediaFile(media_id, content, mime_type, filename)
        return media_id

    def media(self, media_id: str) -> MediaFile:
        """Return a file the fake knows."""
        with self._lock:
            return self._media[media_id]

    def add_template(self, name: str, language: str = "fr", *, body_parameters: int = 0) -> None:
        """Approve a template; once one is added, templates not added are refused (132001)."""
        with self._lock:
            if self._templates is None:
                self._templates = {}
            self._templates[(name, language)] = _Template(body_parameters)

    def user_wrote(self, wa_id: str, at: datetime | None = None) -> None:
        """Record that the user wrote at ``at`` (default now): their 24-hour window opens from then."""
        moment = at or self._now()
        if moment.tzinfo is None:
            raise ValueError("user_wrote needs a timezone-aware datetime")
        with self._lock:
            previous = self._last_inbound.get(wa_id)
            if previous is None or moment > previous:
                self._last_inbound[wa_id] = moment

    def last_inbound(self, wa_id: str) -> datetime | None:
        """Return when the user last wrote, as far as the fake knows."""
        with self._lock:
            return self._last_inbound.get(wa_id)

    def in_window(self, wa_id: str) -> bool:
        """Tell whether a free-form message to the user would be accepted now."""
        with self._lock:
            last = self._last_inbound.get(wa_id)
            return last is not None and self._now() - last < self.window

    def fail_next(
        self,
        count: int = 1,
        *,
        code: int = 130429,
        http_status: int | None = None,
        message: str | None = None,
        details: str | None = None,
        endpoint: Literal["messages", "media", "any"] = "messages",
    ) -> None:
        """Refuse the next ``count`` requests to ``endpoint`` with Graph error ``code``.

        The HTTP status, message and details default to Meta's table (:data:`ERRORS`): throttling codes
        (4, 80007, 130429, 131048, 131056) answer 400, as Meta documents, not 429; pass ``http_status``
        to test another answer. "media" covers upload, GET/DELETE of a media id and the download URL.
        """
        with self._lock:
            for _ in range(count):
                error = GraphError(code, message=message, details=details, http_status=http_status)
                self._failures.append(_Failure(error, endpoint))

    # ------------------------------------------------------------------ the user's side

    def _inbound(self, wa_id: str, payload: JSONDict) -> JSONDict:
        message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        with self._lock:
            self._inbound_wamids.add(message["id"])
        self.user_wrote(wa_id, datetime.fromtimestamp(int(message["timestamp"]), UTC))
        return payload

    def _message_of(self, wa_id: str, message: SentMessage | str) -> SentMessage:
        with self._lock:
            recorded = self._by_wamid.get(message if isinstance(message, str) else message.wamid)
        if recorded is None or recorded.to != wa_id:
            raise ValueError(f"the bot sent no message {message!r} to {wa_id}")
        if recorded.failed:
            raise ValueError(f"message {recorded.wamid} never reached {wa_id}")
        return recorded

    def user_sends(self, wa_id: str, body: str, *, name: str = DEFAULT_PROFILE_NAME) -> JSONDict:
        """Build the webhook payload of a text from the user, now; the user's window opens."""
        return self._inbound(
            wa_id, inbound_text(wa_id, body, name=name, business=self.business, at=self._now())
        )

    def user_presses(
        self, wa_id: str, message: SentMessage | str, button_id: str, *, name: str = DEFAULT_PROFILE_NAME
    ) -> JSONDict:
        """Build the payload of a press on a reply button of a bot message (a record or its wamid).

        The message must have been sent to this user with a button of this id, as a real client only
        lets the user press what is on screen; the title comes from the button.
        """
        recorded = self._message_of(wa_id, message)
        if recorded.interactive_type != "button" or button_id not in recorded.choice_ids:
            raise ValueError(f"{recorded.describe()} has no reply button {button_id!r}")
        title = next(str(c.get("title")) for c in recorded.choices if c.get("id") == button_id)
        payload = inbound_button_reply(
            wa_id,
            button_id,
            title,
            replied_to=recorded.wamid,
            name=name,
            business=self.business,
            at=self._now(),
        )
        return self._inbound(wa_id, payload)

    def user_picks(
        self, wa_id: str, message: SentMessage | str, row_id: str, *, name: str = DEFAULT_PROFILE_NAME
    ) -> JSONDict:
        """Build the payload of a choice of a row in a bot list message (a record or its wamid)."""
        recorded = self._message_of(wa_id, message)
        if recorded.interactive_type != "list" or row_id not in recorded.choice_ids:
            raise ValueError(f"{recorded.describe()} has no list row {row_id!r}")
        row = next(c for c in recorded.choices if c.get("id") == row_id)
        payload = inbound_list_reply(
            wa_id,
            row_id,
            str(row.get("title")),
            row.get("description"),
            replied_to=recorded.wamid,
            name=name,
            business=self.business,
            at=self._now(),
        )
        return self._inbound(wa_id, payload)

    def _user_media(self, content: bytes, mime_type: str, filename: str | None = None) -> MediaFile:
        return self.media(self.add_media(content, mime_type, filename=filename))

    def _webhook_url(self, media: MediaFile) -> str | None:
        # Webhooks carry a download URL too; without a running server there is none to give.
        return self.media_url(media.media_id) if self.port is not None else None

    def user_sends_voice(
        self,
        wa_id: str,
        content: bytes = b"OggS\x00fake-opus-voice-note",
        *,
        mime_type: str = "audio/ogg; codecs=opus",
        voice: bool = True,
        name: str = DEFAULT_PROFILE_NAME,
    ) -> JSONDict:
        """Build the payload of a voice note (``voice=False``: an audio file); the media is downloadable."""
        media = self._user_media(content, mime_type)
        payload = inbound_audio(
            wa_id,
            media,
            voice=voice,
            url=self._webhook_url(media),
            name=name,
            business=self.business,
            at=self._now(),
        )
        return self._inbound(wa_id, payload)

    def user_sends_image(
        self,
        wa_id: str,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        *,
        caption: str | None = None,
        mime_type: str = "image/jpeg",
        name: str = DEFAULT_PROFILE_NAME,
    ) -> JSONDict:
        """Build the payload of an image, with its caption if any."""
        media = self._user_media(content, mime_type)
        payload = inbound_image(
            wa_id,
            media,
            caption=caption,
            url=self._webhook_url(media),
            name=name,
            business=self.business,
            at=self._now(),
        )
        return self._inbound(wa_id, payload)

    def user_sends_document(
        self,
        wa_id: str,
        content: bytes = b"%PDF-1.4 fake",
        *,
        filename: str = "attestation.pdf",
        caption: str | None = None,
        mime_type: str = "application/pdf",
        name: str = DEFAULT_PROFILE_NAME,
    ) -> JSONDict:
        """Build the payload of a document, with its file name and caption."""
        media = self._user_media(content, mime_type, filename)
        payload = inbound_document(
            wa_id,
            media,
            caption=caption,
            url=self._webhook_url(media),
            name=name,
            business=self.business,
            at=self._now(),
        )
        return self._inbound(wa_id, payload)

    def status_of(
        self,
        message: SentMessage | str,
        status: Literal["sent", "delivered", "read", "failed"] | None = None,
        *,
        error_code: int | None = None,
    ) -> JSONDict:
        """Build the status webhook of a message the bot sent (a record or its wamid), now.

        By default "failed" for a message the fake failed (``window_refusal="status"``), else "delivered".
        A failed status carries the recorded error, or ``error_code`` (default 131000).
        """
        with self._lock:
            recorded = self._by_wamid.get(message if isinstance(message, str) else message.wamid)
        if recorded is None:
            raise ValueError(f"the bot sent no message {message!r}")
        chosen = status or ("failed" if recorded.failed else "delivered")
        errors = None
        if chosen == "failed":
            errors = (
                [status_error(error_code)]
                if error_code is not None
                else [recorded.error or status_error(131000)]
            )
        callback = recorded.payload.get("biz_opaque_callback_data")
        return status_update(
            recorded.wamid,
            recorded.to,
            chosen,
            business=self.business,
            at=self._now(),
            errors=errors,
            category="service" if recorded.type != "template" else "utility",
            biz_opaque_callback_data=callback if isinstance(callback, str) else None,
        )

    async def deliver(
        self,
        url: str,
        payload: Mapping[str, Any],
        *,
        app_secret: str | None = None,
        signature: str | None = None,
        timeout: float = 5.0,
    ) -> int:
        """POST a webhook payload to the bot as Meta does; return the HTTP status.

        The body is signed with ``app_secret`` (default: the fake's ``app_secret``) in
        X-Hub-Signature-256; ``signature`` sends that value instead (e.g. a forged one), ``""`` none.
        """
        body = encode_payload(payload)
        secret = app_secret if app_secret is not None else self.app_secret
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature is None and secret is not None:
            headers["X-Hub-Signature-256"] = sign(body, secret)
        elif signature:
            headers["X-Hub-Signature-256"] = signature
        async with httpx.AsyncClient(trust_env=False, timeout=timeout) as client:
            response = await client.post(url, content=body, headers=headers)
        with self._lock:
            self.deliveries.append((url, response.status_code))
        return response.status_code

    async def verify_webhook(
        self, url: str, verify_token: str, *, challenge: str = "1158201444", timeout: float = 5.0
    ) -> httpx.Response:
        """Make Meta's subscription handshake (GET hub.mode=subscribe...); return the answer."""
        params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
        async with httpx.AsyncClient(trust_env=False, timeout=timeout) as client:
            return await client.get(url, params=params)

    # ------------------------------------------------------------------ assertions

    def sent_to(self, wa_id: str) -> list[SentMessage]:
        """Return the messages that reached the user, in order (failed ones left out)."""
        with self._lock:
            return [m for m in self._messages if m.to == wa_id and not m.failed]

    def all_sent(self, *, include_failed: bool = False) -> list[SentMessage]:
        """Return every message the fake accepted, in order; failed ones only with ``include_failed``."""
        with self._lock:
            return [m for m in self._messages if include_failed or not m.failed]

    def failed_messages(self) -> list[SentMessage]:
        """Return the messages accepted but failed afterwards (``window_refusal="status"``)."""
        with self._lock:
            return [m for m in self._messages if m.failed]

    def message(self, wamid: str) -> SentMessage:
        """Return a message the bot sent, by its wamid."""
        with self._lock:
            return self._by_wamid[wamid]

    def mark(self) -> None:
        """Make wait_for_messages count from now: "the next N messages"."""
        with self._lock:
            self._mark = len(self._messages)

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` holds; raise AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what} not met within {timeout}s\n{self._summary()}")
            await asyncio.sleep(0.01)

    async def wait_for_messages(self, wa_id: str, count: int, timeout: float = 5.0) -> list[SentMessage]:
        """Wait until at least ``count`` messages reached ``wa_id`` since the last mark(); return them all."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                got = [m for m in self._messages[self._mark :] if m.to == wa_id and not m.failed]
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                lines = "\n".join(f"  {m.describe()}" for m in got) or "  (none)"
                raise AssertionError(
                    f"expected {count} message(s) to {wa_id} within {timeout}s, got {len(got)}:\n"
                    f"{lines}\n{self._summary()}"
                )
            await asyncio.sleep(0.01)

    def _summary(self) -> str:
        with self._lock:
            sent = "\n".join(f"  {m.describe()}" for m in self._messages[-10:]) or "  (none)"
            errors = (
                "\n".join(f"  {e.path}: {e.http_status} {e.message} ({e.details})" for e in self.errors[-10:])
                or "  (none)"
            )
        return f"messages accepted (last 10):\n{sent}\nrefusals (last 10):\n{errors}"


def graph_error_of(response: httpx.Response) -> JSONDict:
    """Return the ``error`` object of a Graph refusal (for assertions)."""
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    return body["error"]
