"""The terminal channel: buttons as numbered options; scriptable when stdin is not a terminal."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO

from bot.channels.base import MessageHandler, numbered_buttons
from bot.common.text import fold
from bot.core.messages import Button, IncomingMessage, Reply
from bot.core.outbox import Push

BOT_PREFIX = "🤖 "
PROMPT = "vous > "
QUIT_WORDS = frozenset({"/quit", "/quitter", "/exit"})


class ConsoleChannel:
    """Chat with the bot in a terminal, as one user."""

    name = "console"

    def __init__(
        self,
        user_id: str,
        user_name: str | None = None,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self.user_id = user_id
        # Run once each answer is shown: what others sent meanwhile is printed after it.
        self.after_answer: Callable[[], Awaitable[object]] | None = None
        self.user_name = user_name
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._buttons: list[Button] = []
        self._running = False

    @property
    def interactive(self) -> bool:
        """Say whether a person is typing (a terminal) rather than a script."""
        return self._stdin.isatty()

    async def open(self, on_message: MessageHandler, opening: str) -> None:
        """Show the bot's answer to opening (as if typed, not shown): the chat starts with the bot."""
        if self.interactive:
            self._write("(Tapez le numéro d'un bouton, ou votre message. /quitter pour sortir.)\n")
        await self._answer(on_message, opening)

    async def start(self, on_message: MessageHandler) -> None:
        """Read lines until end of input, answering each one."""
        self._running = True
        if self.interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  (enables editing and history in input())
        while self._running:
            line = await asyncio.to_thread(self._read_line)
            if line is None:
                break
            text = line.rstrip("\r\n")
            if text.strip().casefold() in QUIT_WORDS:
                break
            if not self.interactive:
                self._write(f"> {text}\n")
            await self._answer(on_message, text)

    async def _answer(self, on_message: MessageHandler, text: str) -> None:
        self._render(await on_message(self.to_message(text)))
        if self.after_answer is not None:
            await self.after_answer()

    def _read_line(self) -> str | None:
        if self.interactive and self._stdin is sys.stdin:
            # input() gives line editing and history (readline) to a person typing.
            try:
                return input(PROMPT)
            except EOFError:
                return None
        line = self._stdin.readline()
        return line if line else None

    def to_message(self, text: str) -> IncomingMessage:
        """Turn a typed line into a message: a button number or label presses that button."""
        button = self._pressed_button(text.strip())
        if button is not None:
            return IncomingMessage(self.name, self.user_id, button_id=button.id, user_name=self.user_name)
        return IncomingMessage(self.name, self.user_id, text=text, user_name=self.user_name)

    def _pressed_button(self, typed: str) -> Button | None:
        if typed.isdigit() and 1 <= int(typed) <= len(self._buttons):
            return self._buttons[int(typed) - 1]
        folded = fold(typed)
        if not folded:
            return None
        for button in self._buttons:
            if fold(button.title) == folded:
                return button
        return None

    async def send(self, user_id: str, replies: Sequence[Reply]) -> None:
        """Print pushed messages (the console has only one user)."""
        self._render(replies)

    async def push(self, item: Push) -> list[str]:
        """Print an outbox push addressed to this console's user (a relay, an alert)."""
        replies = list(item.replies)
        if item.attachment is not None:
            replies.append(Reply(f"[pièce jointe : {item.attachment.kind}]"))
        if self.interactive:
            self._write("\n")
        self._render(replies)
        return []

    async def stop(self) -> None:
        """Stop reading after the current line."""
        self._running = False

    def _render(self, replies: Sequence[Reply]) -> None:
        self._buttons = [button for reply in replies for button in reply.buttons]
        number = 1
        for reply in replies:
            self._write(BOT_PREFIX + reply.text.replace("\n", "\n   ") + "\n")
            document = reply.document
            if document is not None and document.mime_type.startswith("text/plain"):
                # A terminal has nowhere to save a file: the text is shown (the /mesdonnees export).
                content = document.content.decode("utf-8", errors="replace").rstrip()
                self._write(f"   📎 {document.filename} :\n   " + content.replace("\n", "\n   ") + "\n")
            elif document is not None:
                self._write(f"   📎 {document.filename} (fichier joint)\n")
            for line in numbered_buttons(reply.buttons, first_number=number):
                self._write(line + "\n")
            number += len(reply.buttons)
        self._stdout.flush()

    def _write(self, text: str) -> None:
        self._stdout.write(text)
        self._stdout.flush()
