"""Measure the staff console's pages with a 1,000-entry FAQ, beside a plain page of the same server.

Usage: .venv/bin/python bench/console_pages.py [--entries N] [--requests N]

A real server (uvicorn, the console's routes, a SQLite file) on a free port of this machine, and a real
HTTP client (one connection per request, as a browser's first visit): the FAQ list whole, a search, one
entry, "Tester une question" (the matcher by words: meaning is measured by bench/faq_speed.py). The plain
baseline is a page of the same size as the list, returned as it is, on the same server. Target (issue
17): the FAQ list with 1,000 entries, p95 <= 200 ms.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.faq_speed import generate_faq  # noqa: E402
from bot.common.clock import SystemClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.faq import load_faq  # noqa: E402
from bot.features import console_access  # noqa: E402
from bot.features.faq import FaqService  # noqa: E402
from bot.storage.db import make_engine, make_session_factory, unit_of_work  # noqa: E402
from bot.storage.migrate import upgrade_database  # noqa: E402
from bot.storage.models import Role  # noqa: E402
from bot.storage.staff import add_staff  # noqa: E402
from bot.webconsole import console_routes  # noqa: E402
from bot.webconsole.security import COOKIE  # noqa: E402

PORT = 8779


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(path: str, cookie: str, count: int) -> tuple[list[float], int]:
    """Return the milliseconds of count GET requests of path, and the size of the last answer."""
    times, size = [], 0
    for _ in range(count):
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        connection.request("GET", path, headers={"Cookie": f"{COOKIE}={cookie}"})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status == 200, (path, response.status)
        size = len(body)
    return times, size


def log_in(settings: Settings, factory: object) -> str:
    """Log Claire in through the real login form; return the cookie's value."""
    with unit_of_work(factory) as session:  # type: ignore[arg-type]
        user, _ = add_staff(session, "console", "claire", "Claire", Role.SOCIAL_WORKER, SystemClock().now())
        link = console_access.create_login_link(session, user, SystemClock().now(), settings)
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    body = urlencode({"cle": link.split("cle=", 1)[1]})
    connection.request("POST", "/console/entrer", body, {"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    assert response.status == 303, response.status
    cookie = response.getheader("set-cookie") or ""
    return cookie.split(";", 1)[0].split("=", 1)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        faq_dir = root / "faq"
        faq_dir.mkdir()
        generate_faq(list(load_faq(REPO_ROOT / "faq").entries), args.entries, faq_dir)
        engine = make_engine(f"sqlite:///{root / 'bench.sqlite3'}")
        upgrade_database(engine)
        factory = make_session_factory(engine)
        settings = Settings(_env_file=None, state_dir=root / "state", port=PORT, faq_dir=faq_dir)
        faq = FaqService(faq_dir)
        routes = console_routes(settings, factory, SystemClock(), faq)
        list_page = b""

        async def plain(_request: Request) -> HTMLResponse:
            return HTMLResponse(list_page)

        app = Starlette(routes=[Route("/plain", plain), *routes])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=PORT, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        cookie = log_in(settings, factory)
        first = faq.base.entries[len(faq.base) // 2].id
        pages = {
            "FAQ list, all entries": "/console/faq",
            "FAQ search 'mot de passe'": "/console/faq?" + urlencode({"q": "mot de passe"}),
            "one entry": f"/console/faq/entree/{first}",
            "Tester une question": "/console/faq/tester?" + urlencode({"q": "jarrive pa a me conecter"}),
        }
        timed(pages["FAQ list, all entries"], cookie, 3)  # warm up: templates compiled, caches filled
        list_page = b"x" * timed(pages["FAQ list, all entries"], cookie, 1)[1]
        print(f"{len(faq.base)} entries; {args.requests} requests each, one connection per request")
        print(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>9}")
        for name, path in {"plain page (baseline)": "/plain", **pages}.items():
            times, size = timed(path, cookie, args.requests)
            print(f"{name:<28} {statistics.median(times):8.1f} {percentile(times, 0.95):8.1f} {size:9d}")
        server.should_exit = True
        thread.join(10)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
