"""python-telegram-bot's Bot API requests over aiohttp instead of httpx.

Measured on `bench/telegram_throughput.py`, the conversation left out: the Telegram channel cost 1.2 ms of
CPU per answered message with python-telegram-bot's default client (httpx over httpcore, anyio and h11, all
pure Python) and 0.45 ms with aiohttp (C-accelerated HTTP parsing), everything else equal. Same requests on
the wire (form-encoded parameters, multipart for files), same timeouts, same errors for the caller.
"""

from __future__ import annotations

import ssl
import urllib.request
from typing import Any

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# python-telegram-bot's own defaults (HTTPXRequest), in seconds.
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0


def _given(value: Any, default: float | None) -> float | None:
    """Return a timeout passed by python-telegram-bot, or the default when it passed none."""
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


def _sum(*timeouts: float | None) -> float | None:
    """Return the sum of the timeouts, or None (no limit) if one of them is unlimited."""
    return None if any(timeout is None for timeout in timeouts) else sum(t for t in timeouts if t)


class AiohttpRequest(BaseRequest):
    """Send Bot API requests through one aiohttp session with a bounded connection pool."""

    def __init__(
        self,
        connection_pool_size: int,
        *,
        read_timeout: float | None = READ_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
        media_write_timeout: float | None = MEDIA_WRITE_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout (python-telegram-bot adds it to long polling's)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (inside the running event loop, as aiohttp requires)."""
        if self._session is None or self._session.closed:
            # The same certificate authorities as httpx, python-telegram-bot's default client.
            context = ssl.create_default_context(cafile=certifi.where())
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=context),
                # The Bot API sets no cookies worth keeping.
                cookie_jar=aiohttp.DummyCookieJar(),
                # Proxies come from the environment, as with httpx; but only when there is one: the
                # look-up (environment, ~/.netrc) would otherwise cost more CPU than the request itself.
                trust_env=bool(urllib.request.getproxies()),
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; return the status code and the body, or raise TimedOut or NetworkError."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout: the whole request gets the sum of the four instead.
            total=_sum(pool, connect, write, read),
            connect=_sum(pool, connect),  # waiting for a pooled connection, then connecting
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method,
                url,
                data=self._body(request_data),
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error

    @staticmethod
    def _body(request_data: RequestData | None) -> dict[str, str] | aiohttp.FormData | None:
        """Return the parameters form-encoded, or as multipart when files go with them."""
        if request_data is None:
            return None
        if not request_data.contains_files:
            return request_data.json_parameters or None
        form = aiohttp.FormData()
        for name, value in request_data.json_parameters.items():
            form.add_field(name, value)
        for name, (filename, content, mime_type) in request_data.multipart_data.items():
            form.add_field(name, content, filename=filename, content_type=mime_type)
        return form
