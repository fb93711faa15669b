"""The channel interface: every platform turns its events into IncomingMessage and renders Reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from bot.core.messages import Button, IncomingMessage, Reply

MessageHandler = Callable[[IncomingMessage], Awaitable[list[Reply]]]


class Channel(Protocol):
    """A way to talk to users: start listening, push messages, stop."""

    name: str

    async def start(self, on_message: MessageHandler) -> None:
        """Listen for messages and answer each through on_message."""
        ...

    async def send(self, user_id: str, replies: Sequence[Reply]) -> None:
        """Push replies to a user outside a conversation turn (reminders, relays)."""
        ...

    async def stop(self) -> None:
        """Stop listening and release resources."""
        ...


def numbered_buttons(buttons: Sequence[Button], first_number: int = 1) -> list[str]:
    """Render buttons as numbered text lines, for channels without real buttons."""
    return [f"  {number}. {button.title}" for number, button in enumerate(buttons, start=first_number)]
