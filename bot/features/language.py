"""The language of FAQ answers: French by default, Dutch or English where the FAQ files provide them."""

from __future__ import annotations

from bot import texts
from bot.core.messages import Button, Reply
from bot.core.payloads import Action, pack
from bot.core.turn import Turn
from bot.features.menu import MENU_BUTTON, needs_account

LANGUAGES = {"fr": "Français", "nl": "Nederlands", "en": "English"}


def ask_language(turn: Turn) -> list[Reply]:
    """Offer the languages answers can come in."""
    if turn.user is None:
        return needs_account(turn)
    buttons = tuple(Button(pack(Action.LANGUAGE, code), name) for code, name in LANGUAGES.items())
    return [Reply(texts.LANGUAGE_QUESTION, buttons)]


def on_language(turn: Turn, code: str) -> list[Reply]:
    """Remember the chosen language (None stands for French, the default)."""
    if turn.user is None:
        return needs_account(turn)
    turn.user.language = None if code == "fr" else code
    return [Reply(texts.LANGUAGE_SET[code], (MENU_BUTTON,))]
