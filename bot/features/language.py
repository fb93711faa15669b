"""The language of FAQ answers: French by default, or another language FAQ_LANGUAGES offers."""

from __future__ import annotations

from bot import texts
from bot.core.feature import MENU_BUTTON, ButtonAction, Command, Feature
from bot.core.messages import Reply
from bot.core.payloads import ButtonKind
from bot.core.turn import Turn
from bot.features.menu import needs_account

# How each language the FAQ files can hold is named on its button; FAQ_LANGUAGES says which are offered.
LANGUAGES = {"fr": "Français", "nl": "Nederlands", "en": "English"}
LANGUAGE = ButtonKind("lang", "fr|nl|en")


def offered_languages(turn: Turn) -> list[str]:
    """Return the languages answers can come in (FAQ_LANGUAGES), French first."""
    return turn.services.settings.faq_language_codes


def ask_language(turn: Turn) -> list[Reply]:
    """Offer the languages answers can come in; with French alone, say so."""
    if turn.user is None:
        return needs_account(turn)
    offered = offered_languages(turn)
    if len(offered) == 1:
        return [Reply(texts.LANGUAGE_ONLY_FRENCH, (MENU_BUTTON,))]
    question = " / ".join(
        [texts.LANGUAGE_QUESTION, *(texts.LANGUAGE_QUESTION_IN[code] for code in offered[1:])]
    )
    buttons = tuple(LANGUAGE.button(code, LANGUAGES[code]) for code in offered)
    return [Reply(f"{question}\n{texts.LANGUAGE_NOTE}", buttons)]


def on_language(turn: Turn, code: str) -> list[Reply]:
    """Remember the chosen language (None stands for French, the default)."""
    if turn.user is None:
        return needs_account(turn)
    if code not in offered_languages(turn):
        # A button sent before the admins changed FAQ_LANGUAGES.
        return [Reply(texts.LANGUAGE_NOT_OFFERED), *ask_language(turn)]
    turn.user.language = None if code == "fr" else code
    return [Reply(texts.LANGUAGE_SET[code], (MENU_BUTTON,))]


_ASK = Command(lambda turn, _rest: ask_language(turn), during_onboarding=True)

FEATURE = Feature(
    name="language",
    commands={"langue": _ASK, "taal": _ASK, "language": _ASK},
    buttons=[ButtonAction(LANGUAGE, on_language)],
)
