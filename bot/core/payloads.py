"""Typed button payloads: "prefix:argument", at most 64 bytes, checked against the kind that owns them.

Telegram limits callback data to 64 bytes, and anything a client sends back may be stale or forged,
so a payload is only trusted after the codec has found its kind and checked the shape of its argument.
Each feature declares its own kinds (a prefix and an argument shape); the codec is built from them.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.core.messages import MAX_PAYLOAD_BYTES, Button

_PREFIX = re.compile(r"[a-z]{1,8}")


@dataclass(frozen=True)
class ButtonKind:
    """One kind of button: a short prefix and the regular expression its argument must match."""

    prefix: str
    shape: str
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"button prefix {self.prefix!r}: 1 to 8 lowercase letters")
        object.__setattr__(self, "_pattern", re.compile(self.shape))

    def fits(self, argument: str) -> bool:
        """Say whether an argument has this kind's shape."""
        return self._pattern.fullmatch(argument) is not None

    def pack(self, argument: str) -> str:
        """Build the wire form of a payload; refuse one that would not come back intact."""
        raw = f"{self.prefix}:{argument}"
        if len(raw.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload over {MAX_PAYLOAD_BYTES} bytes: {raw!r}")
        if not self.fits(argument):
            raise ValueError(f"argument {argument!r} does not fit button kind {self.prefix!r}")
        return raw

    def button(self, argument: str, title: str, description: str | None = None) -> Button:
        """Return a button of this kind."""
        return Button(self.pack(argument), title, description)


# Navigation: the argument names a target that a feature declares (the codec cannot know them all).
GO = ButtonKind("go", r"[a-z]{1,20}")


def go_button(target: str, title: str) -> Button:
    """Return a navigation button."""
    return GO.button(target, title)


@dataclass(frozen=True, slots=True)
class Payload:
    """A parsed, shape-checked button payload."""

    kind: ButtonKind
    argument: str


class Codec:
    """Read payloads back: find the kind by its prefix, check the argument's shape and the length."""

    def __init__(self, kinds: Iterable[ButtonKind]) -> None:
        self._kinds: dict[str, ButtonKind] = {}
        for kind in kinds:
            if kind.prefix in self._kinds:
                raise ValueError(f"two button kinds use the prefix {kind.prefix!r}")
            self._kinds[kind.prefix] = kind

    def parse(self, raw: str | None) -> Payload | None:
        """Return the payload, or None when it is malformed, unknown or oversized."""
        if not raw or len(raw.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
            return None
        prefix, separator, argument = raw.partition(":")
        kind = self._kinds.get(prefix) if separator else None
        if kind is None or not kind.fits(argument):
            return None
        return Payload(kind, argument)


def checked_index(index: int, name: str) -> str:
    """Return the argument of a button for an item of a configured list: its index, checked by its name.

    The hash makes a button shown before an admin reordered FILIERES refuse to store the wrong one.
    """
    return f"{index}.{zlib.crc32(name.encode('utf-8')) & 0xFFFF:04x}"
