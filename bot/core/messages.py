"""Channel-neutral message types: what every channel turns platform events into, and back."""

from __future__ import annotations

from dataclasses import dataclass

# Telegram's limit on a button's callback data.
MAX_PAYLOAD_BYTES = 64


@dataclass(frozen=True, slots=True)
class Button:
    """A choice shown to the user; pressing it sends back its id."""

    id: str
    title: str
    description: str | None = None

    def __post_init__(self) -> None:
        if len(self.id.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"button payload over {MAX_PAYLOAD_BYTES} bytes: {self.id!r}")
        if not self.title.strip():
            raise ValueError("button without a title")


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One thing a user sent: text, a pressed button, or an attachment."""

    channel: str
    user_id: str
    text: str | None = None
    button_id: str | None = None
    attachment: str | None = None
    user_name: str | None = None
    # The platform's id of this delivery (Telegram update_id): a redelivered one is handled only once.
    delivery_id: str | None = None
    # The platform's reference of the attached file (Telegram file_id), to pass it on to a person.
    attachment_ref: str | None = None
    # The group chat the message came from (the staff group); None for a private chat.
    chat_id: str | None = None
    # The bot message this one replies to ("<chat>:<message id>"): a worker answering a ticket alert.
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A small file sent with a reply (an appointment's .ics, for the phone's calendar)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show, with its buttons (and a file, where the channel can send one)."""

    text: str
    buttons: tuple[Button, ...] = ()
    document: Document | None = None
