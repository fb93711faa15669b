"""Typed button payloads: "action:argument", prefixed, validated and at most 64 bytes.

Telegram limits callback data to 64 bytes, and anything a client sends back may be stale or forged,
so a payload is only trusted after `parse` has checked its action and the shape of its argument.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from enum import StrEnum

from bot.faq.loader import MAX_ID_CHARS

MAX_PAYLOAD_BYTES = 64


class Action(StrEnum):
    """Every kind of button the bot can show."""

    GO = "go"  # navigate: one of GO_TARGETS
    CONSENT = "consent"  # yes, no, info
    NAME = "name"  # ok (keep the suggested first name), other
    FILIERE = "fil"  # index in the configured list and a check of the name: see checked_index
    FAQ = "faq"  # an FAQ entry id
    FORGET = "forget"  # yes, no
    LANGUAGE = "lang"  # fr, nl, en
    TICKET = "tk"  # a request to talk to a person: skip, back, cancel, claim.<id>, fb.<id>.up...
    BOOK = "bk"  # appointments: reason, worker, slot (minutes since 1970), confirm, cancel, move...
    SESSION = "ss"  # module sessions: here.<id>, absent.<id>, video.<id>, skip
    LEARN = "lr"  # FAQ learning: t.<ticket>.<index>.<check> (closing a request), ok.<n>, no.<n>, p.<offset>


GO_TARGETS = ("menu", "ask", "book", "sessions", "person", "help", "start", "tickets")

_ARGUMENT_SHAPES: dict[Action, re.Pattern[str]] = {
    Action.GO: re.compile("|".join(GO_TARGETS)),
    Action.CONSENT: re.compile("yes|no|info"),
    Action.NAME: re.compile("ok|other"),
    Action.FILIERE: re.compile(r"\d{1,2}\.[0-9a-f]{4}|none"),
    Action.FAQ: re.compile(rf"[a-z0-9][a-z0-9-]{{0,{MAX_ID_CHARS - 1}}}"),
    Action.FORGET: re.compile("yes|no"),
    Action.LANGUAGE: re.compile("fr|nl|en"),
    Action.BOOK: re.compile(
        r"list|new|r\.\d{1,2}\.[0-9a-f]{4}|call\.\d{1,2}"
        r"|(?:w|m|s|ok)\.\d{1,2}\.[a-z0-9-]{1,30}(?:\.\d{1,10})?"
        r"|(?:x|xx|mv|here|done|absent|sx)\.\d{1,10}"
        r"|(?:mvs|mvok|mvm)\.\d{1,10}\.[a-z0-9-]{1,30}\.\d{1,10}"
    ),
    Action.SESSION: re.compile(r"skip|(?:here|absent|video)\.\d{1,10}"),
    Action.LEARN: re.compile(r"t\.\d{1,10}\.\d\.[0-9a-f]{4}|(?:ok|no)\.\d{1,10}|p\.\d{1,4}"),
    Action.TICKET: re.compile(
        r"skip|back|cancel|(?:claim|close|draft|follow)\.\d{1,10}|fb\.\d{1,10}\.(?:up|down)"
    ),
}


@dataclass(frozen=True, slots=True)
class Payload:
    """A parsed, shape-checked button payload."""

    action: Action
    argument: str


def pack(action: Action, argument: str) -> str:
    """Build the wire form of a payload; refuse one that would not come back intact."""
    raw = f"{action.value}:{argument}"
    if len(raw.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload over {MAX_PAYLOAD_BYTES} bytes: {raw!r}")
    if not _ARGUMENT_SHAPES[action].fullmatch(argument):
        raise ValueError(f"argument {argument!r} does not fit action {action.value!r}")
    return raw


def parse(raw: str | None) -> Payload | None:
    """Return the payload, or None when it is malformed, unknown or oversized."""
    if not raw or len(raw.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
        return None
    action_text, separator, argument = raw.partition(":")
    if not separator:
        return None
    try:
        action = Action(action_text)
    except ValueError:
        return None
    if not _ARGUMENT_SHAPES[action].fullmatch(argument):
        return None
    return Payload(action, argument)


def checked_index(index: int, name: str) -> str:
    """Return the argument of a button for an item of a configured list: its index, checked by its name.

    The hash makes a button shown before an admin reordered FILIERES refuse to store the wrong one.
    """
    return f"{index}.{zlib.crc32(name.encode('utf-8')) & 0xFFFF:04x}"
