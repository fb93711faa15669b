"""The way a message goes: platform -> inbox -> conversation (answers into the outbox) -> platform.

Each step commits before the next is told: the platform is told a message arrived once it is in the
inbox; the stored message is deleted in the transaction that handles it and writes its answers to the
outbox; an answer is deleted from the outbox once the platform took it. A crash anywhere leaves the
message, or its answers, in a table for the next start (or another process) to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from bot.channels.base import Receiver
from bot.common.clock import Clock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.inbox import Delivery, Inbox, InboxWorker, Received
from bot.core.messages import IncomingMessage, Reply
from bot.core.outbox import Dispatcher, Outbox, Push, PushTarget
from bot.storage.db import call_database

log = logging.getLogger(__name__)

# While stopping, answers still due are sent for this long at most (the process must end).
STOPPING_PATIENCE_SECONDS = 10.0


class PlatformChannel(Protocol):
    """A channel whose platform delivers messages that are stored first (Telegram, WhatsApp)."""

    name: str

    async def start(self, receiver: Receiver) -> None:
        """Start receiving; hand what arrives to receiver.store."""
        ...

    async def handle_stored(self, item: Received) -> Received | None:
        """Turn a stored delivery into a message, hand it to receiver.answer, return what it returns."""
        ...

    async def push(self, item: Push) -> list[str]:
        """Deliver an outbox row."""
        ...

    def routes(self) -> list[BaseRoute]:
        """Return the web routes the platform calls (webhooks), served by `cisp-bot run`; none to poll."""
        ...

    async def stop_receiving(self) -> None:
        """Stop taking new deliveries from the platform."""
        ...

    async def stop(self) -> None:
        """Close the connections."""
        ...


class ChannelRefused(Exception):
    """A configured channel cannot start; the message says why, in French, without secrets."""


@dataclass(frozen=True)
class ChannelContext:
    """What a channel is built with: the settings and the parts of the app it works with."""

    settings: Settings
    session_factory: sessionmaker[Session]
    clock: Clock
    outbox: Outbox
    # The commands read in the staff group (the rest of its chatter is not the bot's).
    staff_commands: frozenset[str]


@dataclass(frozen=True)
class Shown:
    """A platform message as the person sees it: its text, and its choices as the platform shows them."""

    text: str
    # The choices' titles as shown (shortened where the platform limits them).
    choices: tuple[str, ...] = ()
    # How the choices appear: "buttons" (tapped), "list" (a menu behind a button), "numbers" (typed).
    style: str = ""


@dataclass(frozen=True)
class ChannelKind:
    """A platform the bot can serve: when it is configured, how its channel is built, how it shows a reply."""

    name: str
    # The settings that turn it on, for the message when no channel is configured.
    settings_hint: str
    configured: Callable[[Settings], bool]
    build: Callable[[ChannelContext], PlatformChannel]
    # The platform's messages for one reply, from the same rendering the channel sends (previews,
    # tests that no button is ever lost).
    render: Callable[[Reply], list[Shown]]


@runtime_checkable
class MediaSource(Protocol):
    """A channel whose people's files can be downloaded ("<kind>:<id>" -> content, MIME type)."""

    name: str

    async def fetch_media(self, ref: str) -> tuple[bytes, str]:
        """Download one of the platform's files."""
        ...


@runtime_checkable
class MediaSink(Protocol):
    """A channel that can pass on the files of people of other platforms (to a social worker)."""

    media_fetchers: dict[str, Callable[[str], Awaitable[tuple[bytes, str]]]]


def connect_media(channels: Sequence[PlatformChannel]) -> None:
    """Let every channel that passes files on download those of the other channels."""
    for sink in channels:
        if isinstance(sink, MediaSink):
            for source in channels:
                if source is not sink and isinstance(source, MediaSource):
                    sink.media_fetchers[source.name] = source.fetch_media


class Pipeline(Receiver):
    """Run the inbox worker and the outbox dispatcher for a set of channels."""

    def __init__(
        self,
        conversation: Conversation,
        inbox: Inbox,
        outbox: Outbox,
        *,
        poll_seconds: float = 1.0,
    ) -> None:
        """Database calls run on the event loop on SQLite, in threads on PostgreSQL (runs_inline)."""
        self._conversation = conversation
        self._inbox = inbox
        self._outbox = outbox
        self._poll_seconds = poll_seconds
        self._channels: list[PlatformChannel] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.worker: InboxWorker | None = None
        self.dispatcher: Dispatcher | None = None

    async def store(self, deliveries: Sequence[Delivery]) -> None:
        """Store deliveries; those leased at once (their sender's oldest) are handled here now."""
        leased = await call_database(self._inbox.inline, self._inbox.store, deliveries)
        if self.worker is not None:
            self.worker.hand_over(leased)

    async def answer(self, item: Received, message: IncomingMessage | None) -> Received | None:
        """Answer a stored delivery, its answers into the outbox, and delete it, in one transaction.

        Return the sender's next stored message, leased in that transaction, if there is one.
        """
        if message is None:
            return await call_database(self._inbox.inline, self._inbox.discard, item)
        following: list[Received | None] = [None]

        def delete_stored(session: Session) -> None:
            following[0] = self._inbox.done(session.connection(), item)

        await call_database(
            self._inbox.inline, self._conversation.handle, message, in_transaction=delete_stored
        )
        return following[0]

    async def start(
        self, channels: Sequence[PlatformChannel], *, more_targets: Sequence[PushTarget] = ()
    ) -> None:
        """Start the channels (which start receiving), then the worker and the dispatcher."""
        self._channels = list(channels)
        targets: dict[str, PushTarget] = {channel.name: channel for channel in channels}
        targets.update({target.name: target for target in more_targets})
        self.dispatcher = Dispatcher(self._outbox, targets, poll_seconds=self._poll_seconds)
        self.worker = InboxWorker(
            self._inbox,
            {channel.name: channel.handle_stored for channel in channels},
            poll_seconds=self._poll_seconds,
        )
        dispatcher = self.dispatcher
        self._conversation.on_push = lambda leased, waiting: dispatcher.wake(leased, look=waiting)
        # The channels first: what is left from a previous run is handled and sent through them.
        for channel in channels:
            await channel.start(self)
        self._tasks = [
            asyncio.create_task(self.dispatcher.run(self._stop)),
            asyncio.create_task(self.worker.run(self._stop)),
        ]

    def wake_dispatcher(self) -> None:
        """Have the dispatcher send what was just written to the outbox (by a periodic job)."""
        if self.dispatcher is not None:
            self.dispatcher.wake()

    async def stop(self) -> None:
        """Stop receiving, finish what is being handled, send its answers, then close the channels.

        What is still waiting then stays in the inbox and the outbox for the next start.
        """
        for channel in self._channels:
            with contextlib.suppress(Exception):
                await channel.stop_receiving()
        self._stop.set()
        for task in self._tasks:
            try:
                await task
            except Exception:
                log.exception("stopping: a background task failed")
        if self.dispatcher is not None and self._tasks:
            # The answers of the last messages handled: sent now rather than at the next start.
            try:
                await asyncio.wait_for(self.dispatcher.dispatch_once(), timeout=STOPPING_PATIENCE_SECONDS)
            except Exception:
                log.warning("stopping: some answers wait in the outbox for the next start")
        self._conversation.on_push = None
        for channel in self._channels:
            try:
                await channel.stop()
            except Exception:
                log.exception("stopping: channel %s did not close cleanly", channel.name)
