"""The channel interface: every platform turns its events into IncomingMessage and renders Reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from bot.core.inbox import Delivery, Received
from bot.core.messages import Button, IncomingMessage, Reply

MessageHandler = Callable[[IncomingMessage], Awaitable[list[Reply]]]


class Receiver(Protocol):
    """Where a platform's channel hands what it receives: stored first, answered later, durably."""

    async def store(self, deliveries: Sequence[Delivery]) -> None:
        """Store deliveries; once this returns, the platform may be told they arrived."""
        ...

    async def answer(self, item: Received, message: IncomingMessage | None) -> Received | None:
        """Answer a stored delivery (None: nothing to answer) and delete it, in one transaction.

        Return the sender's next stored message, leased in that transaction, if there is one.
        """
        ...


class Channel(Protocol):
    """A way to talk to users: start listening, push messages, stop (the terminal).

    Telegram and WhatsApp start with a Receiver instead, and deliver through the outbox (push).
    """

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
