"""The terminal channel renders buttons as numbers and presses them by number or label."""

from __future__ import annotations

import asyncio
import io

from bot.channels.console import ConsoleChannel
from bot.core.conversation import Conversation
from bot.core.messages import IncomingMessage, Reply


def test_console_presses_buttons_by_number_or_label(conversation: Conversation) -> None:
    stdin = io.StringIO("/start\nj'ACCEPTE\n1\nhorticulture\n/quitter\nnever read\n")
    stdout = io.StringIO()
    channel = ConsoleChannel("samira", user_name="Samira", stdin=stdin, stdout=stdout)

    async def on_message(message: IncomingMessage) -> list[Reply]:
        return conversation.handle(message)

    asyncio.run(channel.start(on_message))
    out = stdout.getvalue()
    assert "  1. J'accepte\n  2. Je refuse\n  3. En savoir plus" in out
    assert "> j'ACCEPTE\n🤖 Comment vous appelez-vous ?" in out
    assert "Merci Samira !" in out
    assert "Bienvenue, Samira" in out
    assert "never read" not in out


def test_numbers_without_buttons_are_text() -> None:
    channel = ConsoleChannel("x")
    assert channel.to_message("3").text == "3"
    assert channel.to_message("3").button_id is None
