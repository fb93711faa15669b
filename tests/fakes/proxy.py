"""An HTTP reverse proxy on 127.0.0.1 for crash tests: round robin over upstreams, and a gate on requests.

Round robin: each request goes to the next upstream, as a reverse proxy in front of several
`cisp-bot run` processes does. An upstream that refuses the connection is skipped for the next one
(nginx's ``proxy_next_upstream error``: the request never reached it); any other failure answers 502.

The gate: between a bot and a fake platform API, it lets a test stop the bot's sends at a moment it
chooses and know exactly what the platform saw. After :meth:`HttpProxy.hold`, matching requests go
through normally ``let_through`` times; the next ``withhold_answers`` reach the upstream (the fake
records them) but their answers are kept back; the rest wait before being forwarded. A test then kills
the bot and calls :meth:`HttpProxy.release`: waiting requests whose client is gone are never forwarded,
and the kept-back answers whose client is gone are listed in :attr:`HttpProxy.undelivered`: the only
sends the platform performed and the bot never heard of (a bot may rightly send those again).
The gate is driven from the proxy's event loop: serve it with ``async with``.

Usage::

    async with FakeBotApi(token=TOKEN) as api, HttpProxy([api.url]) as gate:
        ...  # the bot talks to gate.url + "/bot"
        gate.hold(lambda method, path, body: path.endswith("/sendMessage"), let_through=5)
        await gate.wait_until_holding(timeout=20)
        process.kill()
        await gate.release()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.serving import BackgroundServing
from tests.fakes.telegram_api import serve_asgi

#: (HTTP method, path, body): whether the gate applies to a request.
Matcher = Callable[[str, str, bytes], bool]

# Headers that belong to one connection, not to the message (RFC 9110 7.6.1), and those the proxy
# recomputes (the body is forwarded decoded, so its length and encoding are the proxy's).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
        "accept-encoding",
    }
)
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


@dataclass(frozen=True)
class Withheld:
    """A request the upstream answered while its client died waiting for the answer."""

    method: str
    path: str
    request_body: bytes
    status_code: int
    response_body: bytes

    def request_json(self) -> Any:
        """The request's body as JSON (None when it is not JSON)."""
        with contextlib.suppress(ValueError):
            return json.loads(self.request_body)
        return None

    def response_json(self) -> Any:
        """The upstream's answer as JSON (None when it is not JSON)."""
        with contextlib.suppress(ValueError):
            return json.loads(self.response_body)
        return None


@dataclass
class _Gate:
    matches: Matcher
    let_through: int
    withhold_answers: int
    opened: asyncio.Event
    passing: int = 0  # let through, not yet answered
    passed: int = 0  # let through and answered
    withheld: int = 0  # forwarded with the answer kept back


class HttpProxy(BackgroundServing):
    """A reverse proxy on 127.0.0.1 with an ephemeral port, over one or more upstream root URLs."""

    served_name = "proxy"

    def __init__(
        self, upstreams: Sequence[str] = (), *, host: str = "127.0.0.1", timeout: float = 60.0
    ) -> None:
        #: The upstreams' root URLs (``http://127.0.0.1:PORT``), in round-robin order; may be set later.
        self.upstreams = [upstream.rstrip("/") for upstream in upstreams]
        self.host = host
        self.port: int | None = None
        self.timeout = timeout
        self._lock = threading.Lock()
        self._next = 0
        self._gate: _Gate | None = None
        #: Requests forwarded whose answer is being kept back.
        self.withholding = 0
        #: Requests waiting to be forwarded.
        self.waiting = 0
        #: Waiting requests never forwarded, their client being gone at release().
        self.dropped = 0
        #: Answers kept back whose client was gone at release(): sends the bot never heard of.
        self.undelivered: list[Withheld] = []
        #: (upstream, path, HTTP status) of every forwarded request; status 0 when the upstream failed.
        self.forwarded: list[tuple[str, str, int]] = []
        self._client: httpx.AsyncClient | None = None
        self._exit_stack: contextlib.AsyncExitStack | None = None
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=_METHODS)])

    @property
    def url(self) -> str:
        """The proxy's root URL."""
        if self.port is None:
            raise RuntimeError("the proxy is not running")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Serve in the running event loop; give once the port is listening."""
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(
            trust_env=False,
            timeout=self.timeout,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )
        stack = contextlib.AsyncExitStack()
        url = await stack.enter_async_context(serve_asgi(self.app, self.host))
        self._exit_stack = stack
        self.port = int(url.rsplit(":", 1)[1])

    async def stop(self) -> None:
        """Let every held request go, then shut down."""
        await self.release()
        if self._exit_stack is not None:
            await self._exit_stack.aclose()
            self._exit_stack = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.port = None

    # ------------------------------------------------------------------ the gate

    def hold(self, matches: Matcher, *, let_through: int = 0, withhold_answers: int = 0) -> None:
        """Gate the requests ``matches`` accepts: some pass, some get their answer kept back, others wait."""
        with self._lock:
            if self._gate is not None:
                raise RuntimeError("the gate is already closed: release() first")
            self._gate = _Gate(matches, let_through, withhold_answers, asyncio.Event())

    async def release(self) -> None:
        """Open the gate: held requests of live clients go on; those of dead clients are dropped or listed.

        Call it once the bot is dead (and its connections closed): a client is judged gone when its
        connection is.
        """
        with self._lock:
            gate, self._gate = self._gate, None
        if gate is None:
            return
        gate.opened.set()
        # The held handlers look at their connection and finish (or forward) before this returns.
        deadline = time.monotonic() + 5
        while (self.waiting or self.withholding) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def wait_until_holding(self, timeout: float) -> None:
        """Wait until the requests let through were answered and an answer is kept back (if any is to be).

        Not all ``withhold_answers``: a client that sends one request at a time stops at the first.
        """
        gate = self._gate
        if gate is None:
            raise RuntimeError("hold() first")
        deadline = time.monotonic() + timeout
        while gate.passed < gate.let_through or self.withholding < min(1, gate.withhold_answers):
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"the gate did not fill within {timeout}s: {gate.passed} of {gate.let_through} let "
                    f"through, {self.withholding} of {gate.withhold_answers} answers kept back, "
                    f"{self.waiting} waiting"
                )
            await asyncio.sleep(0.01)

    def _ticket(self, method: str, path: str, body: bytes) -> tuple[str, _Gate | None]:
        with self._lock:
            gate = self._gate
            if gate is None or not gate.matches(method, path, body):
                return "free", None
            if gate.passing + gate.passed < gate.let_through:
                gate.passing += 1
                return "pass", gate
            if gate.withheld < gate.withhold_answers:
                gate.withheld += 1
                return "withhold", gate
            return "wait", gate

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        ticket, gate = self._ticket(request.method, path, body)
        if ticket == "wait":
            assert gate is not None
            self.waiting += 1
            try:
                await gate.opened.wait()
            finally:
                self.waiting -= 1
            if await request.is_disconnected():
                self.dropped += 1
                return Response(status_code=502)
        response = await self._forward(request, body)
        if ticket == "pass":
            assert gate is not None
            with self._lock:
                gate.passing -= 1
                gate.passed += 1
        elif ticket == "withhold":
            assert gate is not None
            self.withholding += 1
            try:
                await gate.opened.wait()
            finally:
                self.withholding -= 1
            if await request.is_disconnected():
                self.undelivered.append(
                    Withheld(request.method, path, body, response.status_code, bytes(response.body))
                )
        return response

    async def _forward(self, request: Request, body: bytes) -> Response:
        assert self._client is not None
        headers = {name: value for name, value in request.headers.items() if name.lower() not in _HOP_BY_HOP}
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        with self._lock:
            upstreams = list(self.upstreams)
            first = self._next
            self._next += 1
        for attempt in range(len(upstreams)):
            upstream = upstreams[(first + attempt) % len(upstreams)]
            try:
                answer = await self._client.request(
                    request.method, upstream + target, content=body, headers=headers
                )
            except httpx.ConnectError:
                self.forwarded.append((upstream, request.url.path, 0))
                continue  # it never got the request: the next upstream may take it
            except httpx.HTTPError:
                self.forwarded.append((upstream, request.url.path, 0))
                return Response(b"upstream failed", status_code=502)
            self.forwarded.append((upstream, request.url.path, answer.status_code))
            kept = {name: value for name, value in answer.headers.items() if name.lower() not in _HOP_BY_HOP}
            return Response(answer.content, status_code=answer.status_code, headers=kept)
        return Response(b"no upstream answers", status_code=502)
