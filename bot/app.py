"""Composition root: the one place that builds the engine, the FAQ, the conversation and the channels."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.common.clock import Clock, SystemClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.feature import Feature, Features
from bot.core.inbox import Inbox
from bot.core.outbox import PUSHED, Outbox
from bot.core.turn import Services
from bot.faq.semantic import Progress, load_embedder
from bot.features import (
    booking,
    console_access,
    faq,
    faq_editing,
    figures,
    handoff,
    language,
    learning,
    menu,
    onboarding,
    privacy,
    sessions,
    staff,
)
from bot.features.faq import FAQ, FaqService
from bot.features.faq_watch import FaqWatcher
from bot.storage.db import make_engine, make_session_factory, unit_of_work
from bot.storage.migrate import bring_up_to_date

log = logging.getLogger(__name__)

LAST_VALID_FAQ_DIR = "faq-derniere-version-valide"
# The FAQ's and the intents' vectors, keyed by model and text: a restart does not embed them again.
EMBEDDINGS_DIR = "embeddings"


# Every feature of the bot. Adding one: write its module with its FEATURE, and list it here.
FEATURES: tuple[Feature, ...] = (
    onboarding.FEATURE,
    # First among those that keep data: /mesdonnees shows the account first.
    privacy.FEATURE,
    menu.FEATURE,
    faq.FEATURE,
    language.FEATURE,
    handoff.FEATURE,
    booking.FEATURE,
    sessions.FEATURE,
    learning.FEATURE,
    staff.FEATURE,
    console_access.FEATURE,
    faq_editing.FEATURE,
    figures.FEATURE,
)


def build_services(settings: Settings, faq_service: FaqService, clock: Clock) -> Services:
    """Return the services the features use, with the FAQ loaded by the caller."""
    return Services(settings, clock, {FAQ: faq_service})


def build_conversation(session_factory: sessionmaker[Session], services: Services) -> Conversation:
    """Return the conversation over every feature of the bot."""
    return Conversation(session_factory, services, Features(FEATURES))


@dataclass
class App:
    """Everything a running bot needs, built once."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    conversation: Conversation
    faq_watcher: FaqWatcher
    outbox: Outbox
    inbox: Inbox

    def start(self) -> None:
        """Start the background work: watching the FAQ files."""
        self.faq_watcher.start()

    def run_jobs(self) -> bool:
        """Run the features' periodic jobs once (escalations, reminders, the day's summary...).

        Each job in its own transaction: a summary lost to a race with another process (it is posted
        once a day) does not undo the escalations. Return whether pushes were written.
        """
        services = self.conversation.services
        pushed = False
        for name, job in self.conversation.features.jobs.items():
            try:
                with unit_of_work(self.session_factory) as session:
                    job(session, services, services.clock.now())
                    pushed = pushed or bool(session.info.get(PUSHED))
            except Exception:
                log.exception("periodic job %s failed; it runs again at the next tick", name)
        return pushed

    def close(self) -> None:
        """Stop the background work and release the database connections."""
        self.faq_watcher.stop()
        self.engine.dispose()


def configure_logging(settings: Settings, log_file: Path | None = None) -> None:
    """Set up logging (to stderr, or to log_file); message texts are never logged above DEBUG."""
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        filename=log_file,
        force=True,
    )
    # httpx logs every request's URL at INFO, and Telegram's URLs contain the bot's token.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    secrets = [
        secret.get_secret_value()
        for secret in (settings.telegram_bot_token, settings.telegram_webhook_secret)
        if secret is not None and secret.get_secret_value()
    ]
    if secrets:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_Redact(secrets))


class _Redact(logging.Filter):
    """Hide secrets in log lines: python-telegram-bot logs its API URLs, token included, at DEBUG."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the secrets."""
        record.msg, record.args = self._hide(record.getMessage()), None
        if record.exc_info:
            # Tracebacks of network errors quote the URL, token included.
            record.exc_text = self._hide(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True

    def _hide(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return text


def build_faq_service(
    settings: Settings,
    *,
    directory: Path | None = None,
    keep_valid_copy: bool = True,
    progress: Progress | None = None,
    embed_in_background: bool = False,
) -> FaqService:
    """Load the FAQ with its embedder (when it loads here) and the vectors cached in STATE_DIR.

    Raises FaqError on an invalid FAQ dir with no valid copy yet (first start): nothing to answer with.
    """
    return FaqService(
        directory or settings.faq_dir,
        last_valid_dir=settings.state_dir / LAST_VALID_FAQ_DIR if keep_valid_copy else None,
        embedder=load_embedder(settings.faq_embedder, table_dir=settings.state_dir / EMBEDDINGS_DIR),
        cache_dir=settings.state_dir / EMBEDDINGS_DIR,
        progress=progress,
        embed_in_background=embed_in_background,
    )


def build_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    migrate: bool = True,
    progress: Progress | None = None,
    embed_in_background: bool = True,
) -> App:
    """Build the app: load and validate the FAQ, migrate the database, erase expired data.

    embed_in_background: a running bot answers at once, by words, while the meaning of a new FAQ is
    computed; False computes it first.
    """
    clock = clock or SystemClock()
    faq_service = build_faq_service(settings, progress=progress, embed_in_background=embed_in_background)
    engine = make_engine(settings.database_url)
    if migrate:
        bring_up_to_date(engine)
    session_factory = make_session_factory(engine)
    conversation = build_conversation(session_factory, build_services(settings, faq_service, clock))
    conversation.purge_expired_data()
    watcher = FaqWatcher(faq_service, settings.faq_reload_seconds)
    return App(
        settings,
        engine,
        session_factory,
        conversation,
        watcher,
        Outbox(session_factory, clock),
        Inbox(session_factory, clock),
    )
