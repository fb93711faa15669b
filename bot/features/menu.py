"""The main menu and the menu items whose capability is not built yet (they say so plainly)."""

from __future__ import annotations

from bot import texts
from bot.core.messages import Button, Reply
from bot.core.payloads import Action, pack
from bot.core.turn import State, Turn
from bot.features.staff import STAFF_HELP


def go_button(target: str, title: str) -> Button:
    """Return a navigation button."""
    return Button(pack(Action.GO, target), title)


MENU_BUTTON = go_button("menu", texts.BUTTON_MENU)
PERSON_BUTTON = go_button("person", texts.BUTTON_PERSON)
INTRODUCE_BUTTON = go_button("start", texts.BUTTON_INTRODUCE)


def main_menu() -> Reply:
    """Return the main menu."""
    return Reply(
        texts.MENU,
        (
            go_button("ask", texts.BUTTON_ASK),
            go_button("book", texts.BUTTON_BOOK),
            go_button("sessions", texts.BUTTON_SESSIONS),
            PERSON_BUTTON,
        ),
    )


def anonymous_menu() -> Reply:
    """Return the menu for someone who has not consented: what works without an account."""
    return Reply(
        texts.ANONYMOUS_MENU,
        (go_button("ask", texts.BUTTON_ASK), PERSON_BUTTON, INTRODUCE_BUTTON),
    )


def show_menu(turn: Turn) -> list[Reply]:
    """Show the menu (the caller makes sure no onboarding step is pending)."""
    if turn.user is None:
        return [anonymous_menu()]
    turn.set_state(State.IDLE)
    return [main_menu()]


def ask_question(turn: Turn) -> list[Reply]:
    """Invite the user to type a question; the next text goes straight to the FAQ."""
    turn.set_state(State.ASKING)
    return [Reply(texts.ASK_QUESTION, (MENU_BUTTON,))]


def needs_account(turn: Turn) -> list[Reply]:
    """Explain that this needs the person to introduce themselves first."""
    return [Reply(texts.NEEDS_ACCOUNT, (INTRODUCE_BUTTON, MENU_BUTTON))]


def show_help(turn: Turn) -> list[Reply]:
    """Explain what the bot can do and list the commands."""
    settings = turn.services.settings
    # /langue is listed only when it offers something besides French.
    others = [texts.HELP_LANGUAGE_NAMES[code] for code in settings.faq_language_codes[1:]]
    language_line = texts.HELP_LANGUAGE_LINE.format(languages=" ou en ".join(others)) if others else ""
    help_text = texts.HELP.format(contact=settings.centre_contact, language_line=language_line)
    if turn.is_staff:
        help_text += "\n\n" + STAFF_HELP
    return [Reply(help_text, (MENU_BUTTON,))]
