"""The WhatsApp channel, on the Cloud API: webhook in, Graph API out, each Reply in WhatsApp's own form.

In: Meta posts to /whatsapp (see bot.channels.web): the body is checked against X-Hub-Signature-256,
each message is stored in the inbox, and only then is Meta answered 200 (Meta sends again what it got
no 200 for). The inbox worker hands the messages back one at a time per person. A message id already
handled is skipped (Meta delivers at least once; the conversation records message ids).

Out: a text up to 4,096 characters; 1-3 buttons as reply buttons (titles shortened to 20 characters);
4-10 as a list (rows of 24, descriptions of 72); more as numbered text, a typed number pressing the
button. Outside the 24-hour window after the person's last message, WhatsApp accepts only approved
templates: pushes then go as WHATSAPP_TEMPLATE_NAME with the text as its parameter, and a refusal for
that reason (131047) is never retried as free text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import texts
from bot.channels.base import Receiver
from bot.channels.pipeline import ChannelContext, ChannelKind, Shown
from bot.channels.web import bounded_body, json_object
from bot.common.clock import Clock, SystemClock, as_utc
from bot.common.text import shorten
from bot.config import Settings
from bot.core.inbox import Delivery, Received
from bot.core.messages import Button, Document, IncomingMessage, Reply
from bot.core.outbox import Push, Undeliverable
from bot.storage.choices import NumberedChoices
from bot.storage.db import call_database
from bot.storage.models import User

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTON_TITLE = 20
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10
MAX_TEMPLATE_PARAMETER = 1024
# The window is 24 h after the last message; the bot knows that time to the hour (users.last_seen_at).
WINDOW = timedelta(hours=23)
# Meta advises about one message every 6 seconds to one person, in bursts: pushes are paced so.
PUSH_INTERVAL_SECONDS = 6.0
RETRIES = 5
# Graph error codes (WhatsApp Cloud API error codes).
RE_ENGAGEMENT = 131047
RATE_LIMITED = {4, 80007, 130429, 131048, 131056}
UNDELIVERABLE = {131026, 131051}
PACING_MEMORY = 10_000

LastInbound = Callable[[str], Awaitable[datetime | None]]
# (message id, status, when): what Meta says of a message the bot sent.
StatusSink = Callable[[str, str, datetime], Coroutine[Any, Any, None]]


def verify_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """Tell whether X-Hub-Signature-256 is the HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    # Constant time: the comparison must not tell how much of a forged signature was right.
    return hmac.compare_digest(header.removeprefix("sha256="), expected)


def _split(text: str, limit: int = MAX_TEXT) -> list[str]:
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(". "), window.rfind(" "))
        cut = cut + 1 if cut > limit // 3 else limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [*pieces, rest] if rest else pieces or [""]


def _unique_titles(buttons: Sequence[Button], limit: int) -> list[str]:
    """Shorten button titles; WhatsApp refuses two equal titles, so a clash gets a number."""
    titles: list[str] = []
    for button in buttons:
        title = shorten(button.title, limit)
        number = 2
        while title in titles:
            suffix = f" {number}"
            title = shorten(button.title, limit - len(suffix)) + suffix
            number += 1
        titles.append(title)
    return titles


def render(reply: Reply) -> tuple[list[dict[str, Any]], list[Button]]:
    """Return the Graph API message bodies of a reply (without "to"), and the buttons shown as numbers."""
    buttons = list(reply.buttons)
    if not buttons:
        return [
            {"type": "text", "text": {"body": piece, "preview_url": False}} for piece in _split(reply.text)
        ], []
    if len(buttons) > MAX_LIST_ROWS:
        lines = [
            reply.text,
            "",
            *(f"{n}. {b.title}" for n, b in enumerate(buttons, start=1)),
            "",
            texts.WHATSAPP_TYPE_NUMBER,
        ]
        return [
            {"type": "text", "text": {"body": piece, "preview_url": False}}
            for piece in _split("\n".join(lines))
        ], buttons
    messages: list[dict[str, Any]] = []
    body = reply.text.strip() or texts.WHATSAPP_CHOOSE
    if len(body) > MAX_INTERACTIVE_BODY:
        # The text goes first as plain messages; the choice follows with a short body.
        messages += [
            {"type": "text", "text": {"body": piece, "preview_url": False}} for piece in _split(body)
        ]
        body = texts.WHATSAPP_CHOOSE
    if len(buttons) <= MAX_REPLY_BUTTONS:
        titles = _unique_titles(buttons, MAX_BUTTON_TITLE)
        action: dict[str, Any] = {
            "buttons": [
                {"type": "reply", "reply": {"id": button.id, "title": title}}
                for button, title in zip(buttons, titles, strict=True)
            ]
        }
        messages.append(
            {
                "type": "interactive",
                "interactive": {"type": "button", "body": {"text": body}, "action": action},
            }
        )
        return messages, []
    titles = _unique_titles(buttons, MAX_ROW_TITLE)
    rows = []
    for button, title in zip(buttons, titles, strict=True):
        row: dict[str, Any] = {"id": button.id, "title": title}
        description = button.description or (button.title if title != button.title else None)
        if description:
            row["description"] = shorten(description, MAX_ROW_DESCRIPTION)
        rows.append(row)
    action = {"button": texts.WHATSAPP_LIST_BUTTON, "sections": [{"rows": rows}]}
    messages.append(
        {"type": "interactive", "interactive": {"type": "list", "body": {"text": body}, "action": action}}
    )
    return messages, []


def _attachment(message: dict[str, Any]) -> tuple[str, str] | None:
    """Return (the conversation's kind, "<kind>:<media id>") of a media message."""
    kinds = {
        "audio": "voice",
        "image": "photo",
        "document": "document",
        "video": "video",
        "sticker": "sticker",
    }
    for kind, ours in kinds.items():
        media = message.get(kind)
        if isinstance(media, dict) and media.get("id"):
            return ours, f"{kind}:{media['id']}"
    if message.get("type") == "location":
        return "location", ""
    if message.get("type") == "contacts":
        return "contact", ""
    return None


def _typed_number(message: dict[str, Any]) -> int | None:
    """Return the number a text message is made of ("3", " 12 "), None for any other message."""
    if message.get("type") != "text":
        return None
    body = (message.get("text") or {}).get("body")
    if not isinstance(body, str) or not body.strip().isdigit() or len(body.strip()) > 3:
        return None
    return int(body.strip())


class WhatsAppChannel:
    """Talk to trainees on WhatsApp through the Cloud API."""

    name = CHANNEL

    def __init__(
        self,
        settings: Settings,
        *,
        choices: NumberedChoices,
        last_inbound: LastInbound | None = None,
        clock: Clock | None = None,
    ) -> None:
        assert settings.whatsapp_configured
        assert settings.whatsapp_token is not None and settings.whatsapp_app_secret is not None
        self.settings = settings
        self._token = settings.whatsapp_token.get_secret_value()
        self._app_secret = settings.whatsapp_app_secret.get_secret_value()
        self._url = f"{settings.whatsapp_api_url.rstrip('/')}/{settings.whatsapp_phone_number_id}/messages"
        self._last_inbound = last_inbound
        self.on_status: StatusSink | None = None
        self._clock: Clock = clock or SystemClock()
        self._client: httpx.AsyncClient | None = None
        self._receiver: Receiver | None = None
        # The choices shown as numbered text, in the database: the typed number may reach another process.
        self._choices = choices
        self._last_push: dict[str, float] = {}
        self._sent_times: list[float] = []
        self._rate_lock = asyncio.Lock()

    # ------------------------------------------------------------------ lifecycle

    async def start(self, receiver: Receiver) -> None:
        """Get ready: the webhook route feeds messages in."""
        self._receiver = receiver
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0), headers={"Authorization": f"Bearer {self._token}"}
        )
        log.info("WhatsApp channel started (webhook)")

    async def stop_receiving(self) -> None:
        """Nothing to stop: the webhook server stops on its own (what it stores waits in the inbox)."""

    async def stop(self) -> None:
        """Close the connections (the dispatcher has finished sending)."""
        if self._client is not None:
            await self._client.aclose()

    # ------------------------------------------------------------------ webhook

    def verify(self, mode: str | None, token: str | None, challenge: str | None) -> str | None:
        """Answer Meta's subscription handshake: the challenge when the verify token matches."""
        expected = self.settings.whatsapp_verify_token
        assert expected is not None
        if mode != "subscribe" or token is None or challenge is None:
            return None
        return (
            challenge if hmac.compare_digest(token.encode(), expected.get_secret_value().encode()) else None
        )

    def signature_ok(self, body: bytes, header: str | None) -> bool:
        """Check X-Hub-Signature-256."""
        return verify_signature(body, header, self._app_secret)

    def routes(self) -> list[BaseRoute]:
        """Return the webhook routes: Meta's handshake and its signed posts, at /whatsapp."""
        return [
            Route("/whatsapp", self._verify_route, methods=["GET"]),
            Route("/whatsapp", self._on_webhook, methods=["POST"]),
        ]

    async def _verify_route(self, request: Request) -> Response:
        """Answer Meta's verification of the webhook address."""
        params = request.query_params
        challenge = self.verify(
            params.get("hub.mode"), params.get("hub.verify_token"), params.get("hub.challenge")
        )
        if challenge is None:
            log.warning("WhatsApp webhook verification with a wrong token, refused")
            return Response("forbidden", status_code=403)
        return Response(challenge, media_type="text/plain")

    async def _on_webhook(self, request: Request) -> Response:
        """Store the messages and statuses of a signed WhatsApp call; 200 only once stored."""
        body = await bounded_body(request)
        if body is None:
            return JSONResponse({"ok": False}, status_code=413)
        signature = request.headers.get("x-hub-signature-256")
        # Checked on the raw bytes, before anything is parsed or done: a forged call has no effect.
        if not signature:
            log.warning("WhatsApp webhook call without a signature, refused")
            return JSONResponse({"ok": False}, status_code=401)
        if not self.signature_ok(body, signature):
            log.warning("WhatsApp webhook call with a wrong signature, refused")
            return JSONResponse({"ok": False}, status_code=403)
        payload = json_object(body)
        if payload is None:
            return JSONResponse({"ok": False}, status_code=400)
        # 200 once the messages are stored (a few milliseconds): Meta sends again what got no 200, and a
        # message id already stored or handled is skipped then.
        try:
            await self.feed(payload)
        except Exception:
            log.exception("WhatsApp webhook call not stored; Meta will send it again")
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    async def feed(self, payload: dict[str, Any]) -> int:
        """Record a webhook payload's statuses and store its messages; return how many messages.

        Once this returns, Meta may be answered 200: the messages are in the inbox.
        """
        assert self._receiver is not None, "start() first"
        deliveries, statuses = self.deliveries(payload)
        for status in statuses:
            await self._status(status)
        await self._receiver.store(deliveries)
        return len(deliveries)

    def deliveries(self, payload: dict[str, Any]) -> tuple[list[Delivery], list[dict[str, Any]]]:
        """Return the messages of a webhook payload, as the inbox keeps them, and its delivery statuses."""
        deliveries: list[Delivery] = []
        statuses: list[dict[str, Any]] = []
        for entry in payload.get("entry") or ():
            for change in entry.get("changes") or ():
                value = change.get("value") or {}
                if change.get("field") != "messages" or not isinstance(value, dict):
                    continue
                names = {
                    contact.get("wa_id"): (contact.get("profile") or {}).get("name")
                    for contact in value.get("contacts") or ()
                    if isinstance(contact, dict)
                }
                statuses += [status for status in value.get("statuses") or () if isinstance(status, dict)]
                for message in value.get("messages") or ():
                    sender, message_id = message.get("from"), message.get("id")
                    if isinstance(sender, str) and isinstance(message_id, str):
                        stored = {"message": message, "name": names.get(sender)}
                        deliveries.append(Delivery(CHANNEL, sender, message_id, stored))
        return deliveries, statuses

    def _stored_message(
        self, stored: dict[str, Any], shown: Sequence[tuple[str, str]] = ()
    ) -> IncomingMessage | None:
        message = stored.get("message")
        if not isinstance(message, dict):
            return None
        return self._message(message, {message.get("from"): stored.get("name")}, shown)

    async def handle_stored(self, item: Received) -> Received | None:
        """Have the conversation answer a stored message (a typed number presses the choice shown)."""
        assert self._receiver is not None, "start() first"
        message = item.payload.get("message")
        shown: list[tuple[str, str]] = []
        if isinstance(message, dict) and _typed_number(message) is not None:
            shown = await call_database(self._choices.inline, self._choices.recall, CHANNEL, item.sender)
        return await self._receiver.answer(item, self._stored_message(item.payload, shown))

    async def _status(self, status: dict[str, Any]) -> None:
        """Hand a delivery status (sent, delivered, read, failed) to whoever records them."""
        if self.on_status is None:
            return
        message_id, state, stamp = status.get("id"), status.get("status"), status.get("timestamp")
        if not isinstance(message_id, str) or not isinstance(state, str):
            return
        at = (
            datetime.fromtimestamp(int(stamp), UTC)
            if isinstance(stamp, str | int) and str(stamp).isdigit()
            else self._clock.now()
        )
        if state == "failed":
            codes = [error.get("code") for error in status.get("errors") or () if isinstance(error, dict)]
            log.warning("WhatsApp could not deliver a message (errors %s)", codes)
        await self.on_status(message_id, state, at)

    def _message(
        self, message: dict[str, Any], names: dict[Any, Any], shown: Sequence[tuple[str, str]]
    ) -> IncomingMessage | None:
        sender, message_id = message.get("from"), message.get("id")
        if not isinstance(sender, str) or not isinstance(message_id, str):
            return None
        kind = message.get("type")
        common: dict[str, Any] = {"user_name": names.get(sender), "delivery_id": message_id}
        if kind == "text":
            body = (message.get("text") or {}).get("body")
            number = _typed_number(message)
            if number is not None and 1 <= number <= len(shown):
                return IncomingMessage(CHANNEL, sender, button_id=shown[number - 1][0], **common)
            return IncomingMessage(CHANNEL, sender, text=body, **common)
        if kind == "interactive":
            interactive = message.get("interactive") or {}
            reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
            return IncomingMessage(CHANNEL, sender, button_id=str(reply.get("id") or ""), **common)
        if kind == "button":  # a quick-reply button of a template
            return IncomingMessage(CHANNEL, sender, text=(message.get("button") or {}).get("text"), **common)
        found = _attachment(message)
        if found is not None:
            caption = (message.get(str(kind)) or {}).get("caption") if isinstance(kind, str) else None
            return IncomingMessage(
                CHANNEL, sender, text=caption, attachment=found[0], attachment_ref=found[1] or None, **common
            )
        return IncomingMessage(CHANNEL, sender, attachment="other", **common)

    # ------------------------------------------------------------------ outgoing

    async def _deliver(self, wa_id: str, replies: Sequence[Reply]) -> list[str]:
        """Answer within the window (the person just wrote): at once, each reply in WhatsApp's form."""
        refs = []
        numbered: list[Button] = []
        for reply in replies:
            refs += await self._send_reply(wa_id, reply)
            numbered = render(reply)[1]
        await self._remember_numbers(wa_id, numbered)
        return refs

    async def _send_reply(self, wa_id: str, reply: Reply) -> list[str]:
        """Send one reply's messages, then its file (the /mesdonnees export, an appointment's .ics)."""
        refs = [await self._post(wa_id, body) for body in render(reply)[0]]
        if reply.document is not None:
            refs.append(await self._post(wa_id, await self._document_body(reply.document)))
        return refs

    async def _document_body(self, document: Document) -> dict[str, Any]:
        """Upload a file to WhatsApp's media store; return the message that sends it, or says it failed."""
        assert self._client is not None, "start() first"
        upload_url = self._url.rsplit("/", 1)[0] + "/media"
        try:
            response = await self._client.post(
                upload_url,
                data={"messaging_product": "whatsapp", "type": document.mime_type},
                files={"file": (document.filename, document.content, document.mime_type)},
            )
            response.raise_for_status()
            media_id = str(response.json()["id"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            log.warning("WhatsApp did not take a file to send (%s)", document.filename, exc_info=True)
            note = texts.DOCUMENT_NOT_SENT.format(filename=document.filename)
            return {"type": "text", "text": {"body": note, "preview_url": False}}
        return {"type": "document", "document": {"id": media_id, "filename": document.filename}}

    async def _remember_numbers(self, wa_id: str, numbered: list[Button]) -> None:
        """Keep the choices the last message showed with numbers (none: a typed number is text again)."""
        choices = [(button.id, button.title) for button in numbered]
        await call_database(
            self._choices.inline, self._choices.remember, CHANNEL, wa_id, choices, self._clock.now()
        )

    async def push(self, item: Push) -> list[str]:
        """Deliver an outbox push: free messages within the window, the approved template outside it."""
        wa_id = item.recipient
        if item.reply:
            try:
                return await self._deliver(wa_id, item.replies)
            except _WindowClosed:  # the person wrote more than a day ago: the message sat that long
                return [await self._send_template(wa_id, item.replies)]
        await self._pace(wa_id)
        if not await self._in_window(wa_id):
            return [await self._send_template(wa_id, item.replies)]
        refs: list[str] = []
        numbered: list[Button] = []
        try:
            for reply in item.replies:
                refs += await self._send_reply(wa_id, reply)
                numbered = render(reply)[1]
            await self._remember_numbers(wa_id, numbered)
            if item.attachment is not None:
                refs.append(await self._post(wa_id, self._attachment_body(item)))
        except _WindowClosed:
            # Never retried as free text: the template says it instead.
            refs.append(await self._send_template(wa_id, item.replies))
        return refs

    async def fetch_media(self, ref: str) -> tuple[bytes, str]:
        """Download a file a person sent ("<kind>:<media id>"): its bytes and a file name."""
        assert self._client is not None, "start() first"
        kind, _, media_id = ref.partition(":")
        base = self.settings.whatsapp_api_url.rstrip("/")
        described = await self._client.get(f"{base}/{media_id}")
        described.raise_for_status()
        info = described.json()
        downloaded = await self._client.get(str(info["url"]))
        downloaded.raise_for_status()
        extension = str(info.get("mime_type", "")).split("/")[-1].split(";")[0] or "bin"
        return downloaded.content, f"{kind}-{media_id}.{extension}"

    def _attachment_body(self, item: Push) -> dict[str, Any]:
        attachment = item.attachment
        assert attachment is not None
        kind, _, media_id = attachment.ref.partition(":")
        if (
            attachment.channel == CHANNEL
            and kind in ("audio", "image", "document", "video", "sticker")
            and media_id
        ):
            return {"type": kind, kind: {"id": media_id}}
        note = texts.ATTACHMENT_NOT_PASSED.format(kind=attachment.kind)
        return {"type": "text", "text": {"body": note, "preview_url": False}}

    async def _in_window(self, wa_id: str) -> bool:
        if self._last_inbound is None:
            return True
        last = await self._last_inbound(wa_id)
        return last is not None and self._clock.now() - as_utc(last) < WINDOW

    async def _send_template(self, wa_id: str, replies: Sequence[Reply]) -> str:
        text = "\n".join(reply.text for reply in replies).strip() or texts.WHATSAPP_CHOOSE
        template = {
            "name": self.settings.whatsapp_template_name,
            "language": {"code": self.settings.whatsapp_template_language},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": shorten(text, MAX_TEMPLATE_PARAMETER)}],
                }
            ],
        }
        sent = await self._post(wa_id, {"type": "template", "template": template})
        # The template carries the text only: a number typed after it must not press a button never seen.
        await call_database(self._choices.inline, self._choices.forget_shown, CHANNEL, wa_id)
        return sent

    async def _pace(self, wa_id: str) -> None:
        wait = self._last_push.get(wa_id, 0.0) + PUSH_INTERVAL_SECONDS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_push[wa_id] = time.monotonic()
        if len(self._last_push) > PACING_MEMORY:
            horizon = time.monotonic() - PUSH_INTERVAL_SECONDS
            self._last_push = {key: at for key, at in self._last_push.items() if at >= horizon}

    async def _respect_rate(self) -> None:
        """Keep under WHATSAPP_MESSAGES_PER_SECOND in any one second."""
        rate = max(1, int(self.settings.whatsapp_messages_per_second))
        async with self._rate_lock:
            now = time.monotonic()
            self._sent_times = [at for at in self._sent_times if now - at < 1.0]
            if len(self._sent_times) >= rate:
                await asyncio.sleep(1.0 - (now - self._sent_times[0]))
                self._sent_times.pop(0)
            self._sent_times.append(time.monotonic())

    async def _post(self, wa_id: str, body: dict[str, Any]) -> str:
        """Send one message; back off on rate limits; return its id (wamid)."""
        assert self._client is not None, "start() first"
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id, **body}
        for attempt in range(RETRIES + 1):
            await self._respect_rate()
            try:
                response = await self._client.post(self._url, json=payload)
            except httpx.HTTPError as error:
                if attempt == RETRIES:
                    raise
                log.warning("WhatsApp API unreachable (%s); trying again", type(error).__name__)
                await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
                continue
            if response.status_code < 400:
                with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
                    return str(response.json()["messages"][0]["id"])
                return ""
            code = _error_code(response)
            if code == RE_ENGAGEMENT:
                raise _WindowClosed()
            if code in UNDELIVERABLE:
                raise Undeliverable(f"WhatsApp error {code}")
            if code in RATE_LIMITED or response.status_code == 429 or response.status_code >= 500:
                if attempt == RETRIES:
                    response.raise_for_status()
                log.warning("WhatsApp API busy (error %s); waiting before trying again", code)
                await asyncio.sleep(min(60.0, 2.0 * 2**attempt))
                continue
            log.error("WhatsApp API refused a message (HTTP %s, error %s)", response.status_code, code)
            return ""
        return ""


class _WindowClosed(Exception):
    """WhatsApp refused free text: the 24-hour window is closed (error 131047)."""


def _error_code(response: httpx.Response) -> int | None:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        code = response.json()["error"]["code"]
        return int(code)
    return None


def _last_inbound(session_factory: sessionmaker[Session]) -> LastInbound:
    """Return how the channel learns when a person last wrote (their last_seen_at, to the hour)."""

    def read(wa_id: str) -> datetime | None:
        with session_factory() as session:
            return session.scalar(
                select(User.last_seen_at).where(User.channel == CHANNEL, User.external_id == wa_id)
            )

    async def last_inbound(wa_id: str) -> datetime | None:
        return await asyncio.to_thread(read, wa_id)

    return last_inbound


def _build(context: ChannelContext) -> WhatsAppChannel:
    channel = WhatsAppChannel(
        context.settings,
        choices=NumberedChoices(context.session_factory),
        last_inbound=_last_inbound(context.session_factory),
        clock=context.clock,
    )

    async def record_status(message_id: str, status: str, at: datetime) -> None:
        await asyncio.to_thread(context.outbox.record_status, CHANNEL, message_id, status, at)

    channel.on_status = record_status
    return channel


# Served when every WHATSAPP_* setting is there, by its webhook.
def shown(reply: Reply) -> list[Shown]:
    """Return the WhatsApp messages of a reply as the person sees them (what WhatsAppChannel sends)."""
    messages = []
    for body in render(reply)[0]:
        if body["type"] == "text":
            messages.append(Shown(body["text"]["body"]))
            continue
        interactive = body["interactive"]
        action = interactive["action"]
        if interactive["type"] == "button":
            titles = tuple(button["reply"]["title"] for button in action["buttons"])
            messages.append(Shown(interactive["body"]["text"], titles, "buttons"))
        else:
            titles = tuple(row["title"] for section in action["sections"] for row in section["rows"])
            messages.append(Shown(interactive["body"]["text"], titles, "list"))
    if render(reply)[1]:
        last = messages[-1]
        numbered = tuple(button.title for button in reply.buttons)
        messages[-1] = Shown(last.text, numbered, "numbers")
    return messages


KIND = ChannelKind(
    name=CHANNEL,
    settings_hint="WHATSAPP_*",
    configured=lambda settings: settings.whatsapp_configured,
    build=_build,
    render=shown,
)
