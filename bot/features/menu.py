"""The main menu, help, and "Poser une question"."""

from __future__ import annotations

from bot import texts
from bot.core.feature import MENU_BUTTON, Command, Feature, GoTarget, MenuEntry, StateStep
from bot.core.messages import Reply
from bot.core.payloads import go_button
from bot.core.turn import IDLE, Turn
from bot.features.intents import Intent

# The person pressed "Poser une question": whatever they type next is a question for the FAQ.
ASKING = "asking"
INTRODUCE_BUTTON = go_button("start", texts.BUTTON_INTRODUCE)


def main_menu(turn: Turn) -> Reply:
    """Return the main menu."""
    return Reply(texts.MENU, turn.features.menu_buttons())


def anonymous_menu(turn: Turn) -> Reply:
    """Return the menu for someone who has not consented: what works without an account."""
    return Reply(texts.ANONYMOUS_MENU, turn.features.menu_buttons(anonymous=True))


def show_menu(turn: Turn) -> list[Reply]:
    """Show the menu; during onboarding, the questions left are skipped (first name, formation)."""
    if turn.user is None:
        return [anonymous_menu(turn)]
    turn.set_state(IDLE)
    return [main_menu(turn)]


def ask_question(turn: Turn) -> list[Reply]:
    """Invite the user to type a question; the next text goes straight to the FAQ."""
    turn.set_state(ASKING)
    return [Reply(texts.ASK_QUESTION, (MENU_BUTTON,))]


def needs_account(turn: Turn) -> list[Reply]:
    """Explain that this needs the person to introduce themselves first."""
    return [Reply(texts.NEEDS_ACCOUNT, (INTRODUCE_BUTTON, MENU_BUTTON))]


def show_help(turn: Turn) -> list[Reply]:
    """Say in one short message what the bot can do, with the menu's buttons (a person among them)."""
    if turn.onboarding:
        return [Reply(texts.HELP_ONBOARDING), *turn.features.resume(turn)]
    anonymous = turn.user is None
    if not anonymous:
        turn.set_state(IDLE)
    text = texts.HELP_ANONYMOUS if anonymous else texts.HELP
    return [Reply(text, turn.features.menu_buttons(anonymous=anonymous))]


def show_commands(turn: Turn) -> list[Reply]:
    """Handle /aide: what the bot can do, then the commands (for those who type them)."""
    settings = turn.services.settings
    # /langue is listed only when it offers something besides French.
    others = [texts.HELP_LANGUAGE_NAMES[code] for code in settings.faq_language_codes[1:]]
    language_line = texts.HELP_LANGUAGE_LINE.format(languages=" ou en ".join(others)) if others else ""
    commands = texts.HELP_COMMANDS.format(contact=settings.centre_contact, language_line=language_line)
    replies = [Reply(commands)]
    if turn.is_staff:
        replies.append(Reply(texts.STAFF_HELP))
    return [*replies, *show_help(turn)]


def _nothing_pending(turn: Turn) -> None:
    """Read nothing in this state: the message is answered as free text."""
    return None


FEATURE = Feature(
    name="menu",
    commands={
        "menu": Command(lambda turn, _rest: show_menu(turn), during_onboarding=True),
        "aide": Command(lambda turn, _rest: show_commands(turn), during_onboarding=True),
        "help": Command(lambda turn, _rest: show_commands(turn), during_onboarding=True),
    },
    states={
        IDLE: StateStep(_nothing_pending, "menu principal"),
        ASKING: StateStep(_nothing_pending, "vous alliez poser une question"),
    },
    # "Menu" works during onboarding too: the questions left (first name, formation) are skipped.
    go={
        "menu": GoTarget(show_menu, during_onboarding=True),
        "ask": GoTarget(ask_question),
        "help": GoTarget(show_help),
    },
    menu=[MenuEntry("ask", texts.BUTTON_ASK, order=10, anonymous=True)],
    intents={Intent.HELP.value: show_help, Intent.MENU.value: show_menu},
)
