"""The ASGI app of `cisp-bot run`: a health check at /healthz, and the webhooks each channel declares."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence, Sized
from typing import Any, Protocol

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

log = logging.getLogger(__name__)

# A webhook call carries a few kilobytes; anything far bigger is not from the platform.
MAX_BODY_BYTES = 1_000_000


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


def create_web_app(*, engine: Engine, faq: FaqHealth, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """Build the web app: the health check, and the routes the running channels declare (their webhooks)."""

    async def healthz(request: Request) -> Response:
        """Say whether the FAQ is served and the database answers."""
        entries = len(faq.base)
        checks: dict[str, Any] = {"faq_entries": entries, "faq_error": faq.last_error is not None}
        try:
            await asyncio.to_thread(_ping, engine)
            checks["database"] = "ok"
        except Exception:
            log.exception("health check: database unreachable")
            checks["database"] = "unreachable"
        healthy = checks["database"] == "ok" and entries > 0
        return JSONResponse({"ok": healthy, **checks}, status_code=200 if healthy else 503)

    return Starlette(routes=[Route("/healthz", healthz, methods=["GET"]), *routes])


async def bounded_body(request: Request) -> bytes | None:
    """Return the request's body, or None when it is (or says it is) larger than MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        return None
    body = await request.body()
    return body if len(body) <= MAX_BODY_BYTES else None


def json_object(body: bytes) -> dict[str, Any] | None:
    """Return the body read as a JSON object, or None when it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
