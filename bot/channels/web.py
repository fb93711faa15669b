"""The ASGI app of webhooks: Telegram's at /telegram, WhatsApp's at /whatsapp, a health check at /healthz."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sized
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.whatsapp import WhatsAppChannel

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A Telegram update is a few kilobytes; anything far bigger is not Telegram.
MAX_BODY_BYTES = 1_000_000

UpdateSink = Callable[[dict[str, Any]], Awaitable[None]]


def _ping(engine: Engine) -> None:
    with engine.connect() as connection:
        # On the driver's connection: a statement through SQLAlchemy would open a transaction, and on
        # SQLite take the write lock, just to say that all is well.
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.cursor().execute("SELECT 1")


class FaqHealth(Protocol):
    """What the health check reads of the FAQ in use."""

    @property
    def base(self) -> Sized:
        """Return the entries served."""
        ...

    @property
    def last_error(self) -> object:
        """Return the last reload's error, None when it went well."""
        ...


@dataclass(frozen=True)
class _Routes:
    """The webhooks and the health check, over the channels that run."""

    engine: Engine
    faq: FaqHealth
    telegram_sink: UpdateSink | None
    telegram_secret: str | None
    whatsapp: WhatsAppChannel | None

    async def whatsapp_verify(self, request: Request) -> Response:
        """Answer Meta's verification of the webhook address."""
        assert self.whatsapp is not None
        params = request.query_params
        challenge = self.whatsapp.verify(
            params.get("hub.mode"), params.get("hub.verify_token"), params.get("hub.challenge")
        )
        if challenge is None:
            log.warning("WhatsApp webhook verification with a wrong token, refused")
            return Response("forbidden", status_code=403)
        return Response(challenge, media_type="text/plain")

    async def whatsapp_webhook(self, request: Request) -> Response:
        """Store the messages and statuses of a signed WhatsApp call; 200 only once stored."""
        assert self.whatsapp is not None
        body = await _bounded_body(request)
        if body is None:
            return JSONResponse({"ok": False}, status_code=413)
        signature = request.headers.get("x-hub-signature-256")
        # Checked on the raw bytes, before anything is parsed or done: a forged call has no effect.
        if not signature:
            log.warning("WhatsApp webhook call without a signature, refused")
            return JSONResponse({"ok": False}, status_code=401)
        if not self.whatsapp.signature_ok(body, signature):
            log.warning("WhatsApp webhook call with a wrong signature, refused")
            return JSONResponse({"ok": False}, status_code=403)
        payload = _json_object(body)
        if payload is None:
            return JSONResponse({"ok": False}, status_code=400)
        # 200 once the messages are stored (a few milliseconds): Meta sends again what got no 200, and a
        # message id already stored or handled is skipped then.
        try:
            await self.whatsapp.feed(payload)
        except Exception:
            log.exception("WhatsApp webhook call not stored; Meta will send it again")
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    async def telegram_webhook(self, request: Request) -> Response:
        """Store a Telegram update sent with the right secret; 200 only once stored."""
        assert self.telegram_sink is not None and self.telegram_secret is not None
        given = request.headers.get(SECRET_HEADER, "")
        # Constant time: the comparison must not tell an attacker how much of the secret they got right.
        if not hmac.compare_digest(given.encode(), self.telegram_secret.encode()):
            log.warning("webhook call with a wrong or missing secret, refused")
            return JSONResponse({"ok": False}, status_code=403)
        body = await _bounded_body(request)
        if body is None:
            return JSONResponse({"ok": False}, status_code=413)
        data = _json_object(body)
        if data is None or not isinstance(data.get("update_id"), int):
            return JSONResponse({"ok": False}, status_code=400)
        # Stored before answering: if this process dies first, Telegram sends the update again.
        try:
            await self.telegram_sink(data)
        except (KeyError, TypeError, ValueError):
            log.warning("webhook call with an update that is not one, refused")
            return JSONResponse({"ok": False}, status_code=400)
        except Exception:
            log.exception("Telegram webhook call not stored; Telegram will send it again")
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    async def healthz(self, request: Request) -> Response:
        """Say whether the FAQ is served and the database answers."""
        entries = len(self.faq.base)
        checks: dict[str, Any] = {"faq_entries": entries, "faq_error": self.faq.last_error is not None}
        try:
            await asyncio.to_thread(_ping, self.engine)
            checks["database"] = "ok"
        except Exception:
            log.exception("health check: database unreachable")
            checks["database"] = "unreachable"
        healthy = checks["database"] == "ok" and entries > 0
        return JSONResponse({"ok": healthy, **checks}, status_code=200 if healthy else 503)


def create_web_app(
    *,
    engine: Engine,
    faq: FaqHealth,
    telegram_sink: UpdateSink | None,
    telegram_secret: str | None,
    whatsapp: WhatsAppChannel | None = None,
) -> Starlette:
    """Build the web app; each channel's route exists only when that channel runs."""
    handlers = _Routes(engine, faq, telegram_sink, telegram_secret, whatsapp)
    routes = [Route("/healthz", handlers.healthz, methods=["GET"])]
    if telegram_sink is not None:
        routes.append(Route("/telegram", handlers.telegram_webhook, methods=["POST"]))
    if whatsapp is not None:
        routes.append(Route("/whatsapp", handlers.whatsapp_verify, methods=["GET"]))
        routes.append(Route("/whatsapp", handlers.whatsapp_webhook, methods=["POST"]))
    return Starlette(routes=routes)


async def _bounded_body(request: Request) -> bytes | None:
    """Return the request's body, or None when it is (or says it is) larger than MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        return None
    body = await request.body()
    return body if len(body) <= MAX_BODY_BYTES else None


def _json_object(body: bytes) -> dict[str, Any] | None:
    """Return the body read as a JSON object, or None when it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
