"""The console's keys: the signing secret, the session cookie, CSRF checks and who is asking."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import Request

from bot.config import Settings

COOKIE = "cisp_console"
SECRET_FILE = "console-secret"


def console_secret(settings: Settings) -> str:
    """Return CONSOLE_SECRET, else the key kept in STATE_DIR (made at the first start, for us alone)."""
    if settings.console_secret is not None and settings.console_secret.get_secret_value():
        return settings.console_secret.get_secret_value()
    path = settings.state_dir / SECRET_FILE
    if not path.exists():
        _create_secret(path)
    return path.read_text(encoding="ascii").strip()


def _create_secret(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once keep the first one's key, not one each.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(32) + "\n")


class Keys:
    """Sign and check the session cookie; hash where requests come from."""

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._secret = secret.encode()
        self._signer = TimestampSigner(secret, salt="cisp-bot console session")
        self.max_age_seconds = max_age_seconds

    def cookie_value(self, session_token: str) -> str:
        """Return the cookie's value for a session key: signed, so a forged cookie costs no query."""
        return self._signer.sign(session_token).decode()

    def session_token(self, request: Request) -> str | None:
        """Return the session key of the request's cookie when its signature holds and it is not too old."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            return self._signer.unsign(value, max_age=self.max_age_seconds).decode()
        except (BadSignature, UnicodeDecodeError):
            return None

    def source(self, request: Request) -> str:
        """Return a keyed hash of the requester's address: refused logins are counted without keeping it."""
        host = request.client.host if request.client else "?"
        return hmac.new(self._secret, host.encode(), hashlib.sha256).hexdigest()


def same_token(given: str | None, expected: str) -> bool:
    """Compare a form's CSRF token with the session's in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def same_origin(request: Request, public_url: str | None) -> bool:
    """Say whether a form was sent by a page of this site (the Origin header, when the browser sends it).

    Behind a reverse proxy the site is PUBLIC_URL (the proxy may rewrite Host); otherwise the Host asked.
    """
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    if public_url:
        site = urlsplit(public_url)
        given = urlsplit(origin)
        return (given.scheme, given.netloc) == (site.scheme, site.netloc)
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


def addressed_locally(request: Request) -> bool:
    """Say whether the request names this machine as its host (localhost, 127.0.0.1, [::1])."""
    return is_loopback_host(urlsplit(f"//{request.headers.get('host', '')}").hostname or "")


def is_loopback_host(host: str) -> bool:
    """Say whether a host name or address is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def from_this_machine(request: Request) -> bool:
    """Say whether the request comes from this machine (the console's only visitors without PUBLIC_URL)."""
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
