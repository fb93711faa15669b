"""The main menu and the menu items whose capability is not built yet (they say so plainly)."""

from __future__ import annotations

from bot import texts
from bot.core.messages import Button, Reply
from bot.core.payloads import Action, pack
from bot.core.turn import State, Turn


def go_button(target: str, title: str) -> Button:
    """Return a navigation button."""
    return Button(pack(Action.GO, target), title)


MENU_BUTTON = go_button("menu", texts.BUTTON_MENU)
PERSON_BUTTON = go_button("person", texts.BUTTON_PERSON)
ASK_BUTTON = go_button("ask", texts.BUTTON_OTHER_QUESTION)


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


def show_menu(turn: Turn) -> list[Reply]:
    """Return to the menu and forget any half-finished step."""
    turn.set_state(State.IDLE)
    return [main_menu()]


def ask_question(turn: Turn) -> list[Reply]:
    """Invite the user to type a question."""
    turn.set_state(State.ASKING)
    return [Reply(texts.ASK_QUESTION, (MENU_BUTTON,))]


def not_built_yet(turn: Turn, target: str) -> list[Reply]:
    """Say plainly that this capability is coming, and who to turn to meanwhile."""
    turn.set_state(State.IDLE)
    contact = texts.MEANWHILE_CONTACT.format(contact=turn.services.settings.centre_contact)
    if target == "book":
        return [Reply(texts.NOT_YET_BOOKING), Reply(contact, (MENU_BUTTON,))]
    if target == "sessions":
        return [Reply(texts.NOT_YET_SESSIONS), Reply(texts.NOT_YET_SESSIONS_MEANWHILE, (MENU_BUTTON,))]
    return [Reply(texts.NOT_YET_PERSON), Reply(contact, (MENU_BUTTON,))]


def show_help(turn: Turn) -> list[Reply]:
    """Explain what the bot can do and list the commands."""
    return [Reply(texts.HELP, (MENU_BUTTON,))]
