"""Tests that read as dialogues: what the trainee sends, what the bot answers.

    chat = Chat(conversation, "samira", user_name="Samira")
    chat.script('''
        > /start
        < Bonjour
        [J'accepte] [Je refuse] [En savoir plus]
        > J'accepte
        < prénom
    ''')

`> text` sends text, or presses the button of the last answer whose title is exactly text (as the
console does); `> [raw payload]` sends a raw (possibly forged) payload; `> (voice)` an attachment;
`> (received)` takes what others pushed to this user (a relay, an alert) from the outbox.
`< fragment` expects a reply containing fragment, after the previously matched one.
`[A] [B]` expects exactly these buttons, in order, over all replies of the last answer (a long list may
go on over the next lines).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from bot.core.conversation import Conversation
from bot.core.messages import Button, IncomingMessage, Reply
from bot.core.outbox import Outbox


def shown_text(reply: Reply) -> str:
    """Return a reply's text, followed by its file's when the file is text."""
    document = reply.document
    if document is None or not document.mime_type.startswith("text/plain"):
        return reply.text
    return f"{reply.text}\n{document.content.decode()}"


@dataclass
class Chat:
    """One user talking to the conversation core."""

    conversation: Conversation
    user_id: str
    channel: str = "console"
    user_name: str | None = None
    last: list[Reply] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def buttons(self) -> list[Button]:
        return [button for reply in self.last for button in reply.buttons]

    @property
    def text(self) -> str:
        """Return what the last answer says, with the text of the files it sent (the /mesdonnees export)."""
        return "\n".join(shown_text(reply) for reply in self.last)

    @property
    def document(self) -> str:
        """Return the text of the one text file of the last answer."""
        [content] = [shown_text(reply) for reply in self.last if reply.document is not None]
        return content

    def _send(self, message: IncomingMessage) -> list[Reply]:
        self.last = self.conversation.handle(message)
        for reply in self.last:
            self.transcript.append(f"< {reply.text}")
            if reply.buttons:
                self.transcript.append(" ".join(f"[{button.title}]" for button in reply.buttons))
        return self.last

    def send(self, text: str) -> list[Reply]:
        self.transcript.append(f"> {text}")
        return self._send(IncomingMessage(self.channel, self.user_id, text=text, user_name=self.user_name))

    def press(self, title: str) -> list[Reply]:
        matches = [button for button in self.buttons if button.title == title]
        assert matches, f"no button {title!r} in {[b.title for b in self.buttons]}\n{self.dump()}"
        self.transcript.append(f"> [{title}]")
        return self.press_payload(matches[0].id, log=False)

    def press_payload(self, payload: str, *, log: bool = True) -> list[Reply]:
        if log:
            self.transcript.append(f"> [{payload}]")
        return self._send(
            IncomingMessage(self.channel, self.user_id, button_id=payload, user_name=self.user_name)
        )

    def received(self) -> list[Reply]:
        """Take what was pushed to this user (relays, alerts) from the outbox, as a dispatcher does."""
        outbox = Outbox(self.conversation.session_factory, self.conversation.services.clock)
        replies: list[Reply] = []
        # One row at a time: sending one leases the chat's next, as a dispatcher's lane does.
        taken = outbox.take([self.channel], recipient=self.user_id, limit=1)
        item = taken[0] if taken else None
        while item is not None:
            replies.extend(item.replies)
            if item.attachment is not None:
                replies.append(Reply(f"({item.attachment.kind} {item.attachment.ref})"))
            item = outbox.sent(item, [])
        self.transcript.append("(received)")
        for reply in replies:
            self.transcript.append(f"< {reply.text}")
            if reply.buttons:
                self.transcript.append(" ".join(f"[{button.title}]" for button in reply.buttons))
        self.last = replies
        return replies

    def attach(self, kind: str) -> list[Reply]:
        self.transcript.append(f"> ({kind})")
        return self._send(IncomingMessage(self.channel, self.user_id, attachment=kind))

    def dump(self) -> str:
        return "\n".join(self.transcript[-30:])

    def expect(self, *fragments: str) -> None:
        """Assert each fragment appears in the last answer, in order."""
        position = 0
        texts = [shown_text(reply) for reply in self.last]
        for fragment in fragments:
            found = next((i for i in range(position, len(texts)) if fragment in texts[i]), None)
            assert found is not None, f"expected {fragment!r} in the answer:\n{self.dump()}"
            position = found

    def expect_buttons(self, *titles: str) -> None:
        actual = [button.title for button in self.buttons]
        assert actual == list(titles), f"buttons {actual} != {list(titles)}\n{self.dump()}"

    def script(self, dialogue: str) -> None:
        """Play a dialogue written as in the module docstring."""
        pending: list[str] = []
        # Buttons may continue on the next lines: consecutive button lines are one expectation.
        buttons: list[str] | None = None
        for raw_line in textwrap.dedent(dialogue).strip().splitlines():
            line = raw_line.strip()
            if not line:
                continue
            if line.startswith("["):
                buttons = (buttons or []) + re.findall(r"\[([^\]]+)\]", line)
                continue
            if buttons is not None:
                self.expect_buttons(*buttons)
                buttons = None
            if line.startswith("> "):
                if pending:
                    self.expect(*pending)
                    pending = []
                self._play(line[2:])
            elif line.startswith("< "):
                pending.append(line[2:])
            else:
                raise ValueError(f"unreadable dialogue line: {line!r}")
        if buttons is not None:
            self.expect_buttons(*buttons)
        if pending:
            self.expect(*pending)

    def _play(self, sent: str) -> None:
        if sent.startswith("[") and sent.endswith("]"):
            self.press_payload(sent[1:-1])
        elif sent == "(received)":
            self.received()
        elif sent.startswith("(") and sent.endswith(")"):
            self.attach(sent[1:-1])
        elif any(button.title == sent for button in self.buttons):
            self.press(sent)
        else:
            self.send(sent)
