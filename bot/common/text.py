"""Cleaning what users type before anything else reads it."""

from __future__ import annotations

import re
import unicodedata

# Longer messages are cut: nobody asks a question in more, and it bounds the work per message.
MAX_TEXT_CHARS = 4000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"[ \t]+")


def clean_text(raw: str | None) -> str:
    """Return the text with control characters removed, spaces collapsed and length bounded."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFC", raw[: MAX_TEXT_CHARS * 2])
    # Lone surrogates can arrive from broken clients and can't be encoded: drop them.
    text = text.encode("utf-8", "ignore").decode("utf-8")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    return text.strip()[:MAX_TEXT_CHARS]


def fold(text: str) -> str:
    """Return text lowercased, without accents and punctuation: for comparing labels and names."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w]+", " ", without_accents).split())


def shorten(text: str, limit: int) -> str:
    """Return text cut to limit characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Prefer ending on a whole word, unless that throws away most of the text.
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-(") + "…"
