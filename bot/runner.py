"""`cisp-bot run`: every configured channel in one process, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.app import App
from bot.channels import telegram, whatsapp
from bot.channels.pipeline import ChannelContext, ChannelKind, ChannelRefused, Pipeline, connect_media
from bot.channels.web import create_web_app
from bot.config import Settings
from bot.core.messages import Reply
from bot.core.outbox import enqueue
from bot.faq import FaqError
from bot.features.console_access import console_address
from bot.features.faq import FAQ
from bot.storage.db import unit_of_work
from bot.webconsole import console_routes

log = logging.getLogger(__name__)

# Every platform the bot can serve; `cisp-bot run` starts those the settings turn on.
CHANNEL_KINDS: tuple[ChannelKind, ...] = (whatsapp.KIND, telegram.KIND)
# How often the periodic jobs (escalations, the day's summary) look for work.
JOBS_INTERVAL_SECONDS = 60.0


class NothingToServe(Exception):
    """No channel is configured."""


class CannotServe(Exception):
    """A channel is configured but cannot start (the message says why, in French, without secrets)."""


class WebServer(uvicorn.Server):
    """uvicorn without its own signal handling: the runner stops it, after the channels."""

    task: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave SIGINT and SIGTERM to the runner."""
        yield

    async def stop(self) -> None:
        """Stop serving and wait for the server to end."""
        self.should_exit = True
        if self.task is not None:
            with contextlib.suppress(SystemExit):
                await self.task


# glibc's mallopt parameter for the number of malloc arenas (malloc.h).
M_ARENA_MAX = -8


def limit_malloc_arenas() -> bool:
    """Ask glibc for one malloc arena, before any thread starts; say whether it agreed.

    glibc gives each thread that contends for malloc an arena of its own and rarely hands their free
    pages back: 7 MB of the bot's resident memory (measured). Python allocates under the GIL anyway, so
    the threads (embedding, database) lose nothing measurable (bench/telegram_throughput.py).
    """
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(M_ARENA_MAX, 1))
    except (OSError, AttributeError):
        return False  # not glibc (musl, macOS): its own allocator, nothing to limit


def configured_kinds(settings: Settings) -> list[ChannelKind]:
    """Return the platforms the settings turn on."""
    return [kind for kind in CHANNEL_KINDS if kind.configured(settings)]


async def serve(app: App, stop: asyncio.Event | None = None) -> None:
    """Run the configured channels until stop is set (or SIGINT/SIGTERM), then shut down cleanly."""
    settings, faq = app.settings, app.conversation.services.get(FAQ)
    kinds = configured_kinds(settings)
    if not kinds:
        raise NothingToServe(" or ".join(kind.settings_hint for kind in CHANNEL_KINDS))
    # The event loop shares the GIL with the threads running conversations; with Python's default
    # 5 ms switch interval it would wait that long behind them for every network event.
    sys.setswitchinterval(0.0005)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    _stop_on_signals(loop, stop)
    context = ChannelContext(
        settings,
        app.session_factory,
        app.conversation.services.clock,
        app.outbox,
        app.conversation.features.staff_commands,
    )
    channels = [kind.build(context) for kind in kinds]
    connect_media(channels)  # a WhatsApp trainee's voice note reaches a social worker on Telegram
    # The conversation is synchronous: one database transaction per message, on the event loop on
    # SQLite and in a thread on PostgreSQL (bot.storage.db.runs_inline).
    pipeline = Pipeline(app.conversation, app.inbox, app.outbox)
    alert_staff_of_faq_error = _faq_error_alert(app, pipeline, faq.problem_notice, loop)
    faq.on_reload_failure.append(alert_staff_of_faq_error)
    server: WebServer | None = None
    scheduler: AsyncIOScheduler | None = None
    app.start()
    try:
        routes = [route for channel in channels for route in channel.routes()]
        server = await _start_web_server(app, routes)
        try:
            await pipeline.start(channels)
        except ChannelRefused as error:
            raise CannotServe(str(error)) from error
        if faq.last_error is not None:
            alert_staff_of_faq_error(faq.last_error)
        scheduler = _start_scheduler(app, pipeline)
        await stop.wait()
        log.info("stopping")
    finally:
        if scheduler is not None:
            # A job already running finishes in its thread; its pushes stay in the outbox if unsent.
            scheduler.shutdown(wait=False)
        # What is being handled and sent finishes; what waits stays in the inbox and the outbox for
        # the next start.
        await pipeline.stop()
        if server is not None:
            await server.stop()
        faq.on_reload_failure.remove(alert_staff_of_faq_error)
        app.close()


def _stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop cleanly at the first SIGINT or SIGTERM; exit at once at the second."""

    def on_signal() -> None:
        if stop.is_set():
            # A second Ctrl+C: the person wants out now, whatever is still being sent.
            log.warning("second stop signal: exiting at once")
            os._exit(1)
        stop.set()

    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal_number, on_signal)


def _faq_error_alert(
    app: App, pipeline: Pipeline, notice: Callable[[FaqError], str], loop: asyncio.AbstractEventLoop
) -> Callable[[FaqError], None]:
    """Return what tells the staff group that an FAQ reload failed (through the outbox, from any thread)."""

    def alert_staff_of_faq_error(error: FaqError) -> None:
        group = app.settings.staff_group
        if group is None:
            return  # no staff group: the admins are told at their next message, in /stats and the logs
        try:
            with unit_of_work(app.session_factory) as session:
                enqueue(session, app.conversation.services.clock.now(), *group, [Reply(notice(error))])
        except Exception:
            log.exception("staff alert of the FAQ error not written")
            return
        loop.call_soon_threadsafe(pipeline.wake_dispatcher)

    return alert_staff_of_faq_error


def web_app(app: App, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """Return the web app: the health check, the staff console and the channels' webhooks."""
    faq = app.conversation.services.get(FAQ)
    services = app.conversation.services
    console = console_routes(app.settings, app.session_factory, services.clock, faq, services)
    return create_web_app(engine=app.engine, faq=faq, routes=[*console, *routes])


async def start_web_server(web: Starlette, host: str, port: int) -> WebServer | None:
    """Listen on host:port; return once the server answers, or None when the port is not free."""
    # No access log: a login link's key is in its address.
    config = uvicorn.Config(web, host=host, port=port, log_level="warning", access_log=False)
    server = WebServer(config)
    server.task = asyncio.create_task(server.serve())
    while not server.started:
        if server.task.done():
            return None
        await asyncio.sleep(0.05)
    return server


async def _start_web_server(app: App, routes: list[BaseRoute]) -> WebServer | None:
    """Serve the console, the health check and the webhooks the channels declare, once it answers.

    Listening first: Telegram is told the address only once something answers there. Until the
    pipeline starts, a call stored nothing yet and is answered 503 (sent again). Without webhooks (Telegram
    polling) a busy port costs the console, not the trainees' answers: the bot runs on, and says so.
    """
    settings = app.settings
    server = await start_web_server(web_app(app, routes), settings.host, settings.port)
    if server is None:
        if routes:
            raise CannotServe(f"le port {settings.host}:{settings.port} n'est pas disponible")
        log.warning("console not served: port %s:%d is not free", settings.host, settings.port)
        return None
    log.info("web server (console, webhooks) listening on %s:%d", settings.host, settings.port)
    return server


async def serve_console(
    app: App, on_listening: Callable[[str], None], stop: asyncio.Event | None = None
) -> bool:
    """Serve the console and the health check alone until stop (or SIGINT/SIGTERM); False: port busy."""
    stop = stop or asyncio.Event()
    _stop_on_signals(asyncio.get_running_loop(), stop)
    settings = app.settings
    server = await start_web_server(web_app(app), settings.host, settings.port)
    if server is None:
        return False
    on_listening(console_address(settings))
    try:
        await stop.wait()
    finally:
        await server.stop()
    return True


def _start_scheduler(app: App, pipeline: Pipeline) -> AsyncIOScheduler:
    """Run the periodic jobs (escalations, summaries, reminders, agendas) now, then every interval.

    APScheduler only says when to look: what is due and what was sent is in the database (the reminders
    and outbox tables), so nothing is lost with its in-memory job store at a restart.
    """

    async def tick() -> None:
        try:
            if await asyncio.to_thread(app.run_jobs):
                pipeline.wake_dispatcher()
        except asyncio.CancelledError:
            # Stopping mid-job: its thread finishes (or rolls back) its transaction by itself, and what
            # is still due is found again at the next start. Nothing to report.
            return

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        tick,
        "interval",
        seconds=JOBS_INTERVAL_SECONDS,
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.start()
    return scheduler
