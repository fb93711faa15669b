"""First contact: welcome, consent, first name, filière; then the menu."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from bot import texts
from bot.core.messages import Button, Reply
from bot.core.payloads import Action, pack
from bot.core.text import fold, shorten
from bot.core.turn import State, Turn
from bot.features.menu import main_menu
from bot.storage.models import Role, User

MAX_NAME_CHARS = 40
# A first name is letters, with hyphens, apostrophes and spaces ("Marie-Claire", "N'Golo").
_NAME_PATTERN = re.compile(r"^[^\W\d_]+(?:[-' ][^\W\d_]+){0,3}$")


def consent_buttons() -> tuple[Button, ...]:
    """Return the three consent choices."""
    return (
        Button(pack(Action.CONSENT, "yes"), texts.BUTTON_CONSENT_YES),
        Button(pack(Action.CONSENT, "no"), texts.BUTTON_CONSENT_NO),
        Button(pack(Action.CONSENT, "info"), texts.BUTTON_CONSENT_INFO),
    )


def _retention(turn: Turn) -> str:
    return texts.retention_text(turn.services.settings.data_retention_days)


def welcome(turn: Turn) -> list[Reply]:
    """Greet someone the bot does not know and ask for consent."""
    return [
        Reply(texts.WELCOME.format(centre=turn.services.settings.centre_name)),
        Reply(texts.WELCOME_WHAT),
        Reply(texts.CONSENT_QUESTION.format(retention=_retention(turn)), consent_buttons()),
    ]


def on_consent(turn: Turn, choice: str) -> list[Reply]:
    """Record consent and start onboarding, or carry on anonymously with nothing stored."""
    if turn.user is not None:
        return [Reply(texts.CONSENT_ALREADY), *resume(turn)]
    if choice == "info":
        return [Reply(texts.CONSENT_DETAILS.format(retention=_retention(turn)), consent_buttons())]
    if choice == "no":
        return [
            Reply(texts.CONSENT_DECLINED),
            Reply(texts.CONSENT_DECLINED_NEXT),
        ]
    user = User(
        channel=turn.message.channel,
        external_id=turn.message.user_id,
        role=Role.TRAINEE.value,
        consented_at=turn.now,
        notifications_paused=False,
        created_at=turn.now,
        last_seen_at=turn.now,
    )
    turn.session.add(user)
    turn.user = user
    return ask_name(turn)


def suggested_name(turn: Turn) -> str | None:
    """Return the platform display name's first word when it looks like a first name."""
    display = (turn.message.user_name or "").strip()
    first = display.split(" ")[0] if display else ""
    return clean_name(first)


def ask_name(turn: Turn) -> list[Reply]:
    """Ask for the first name, offering the platform's display name as a button."""
    turn.set_state(State.ASK_NAME)
    suggestion = suggested_name(turn)
    if suggestion:
        button = Button(pack(Action.NAME, "ok"), shorten(suggestion, 20))
        return [Reply(texts.ASK_NAME_WITH_SUGGESTION, (button,))]
    return [Reply(texts.ASK_NAME)]


def clean_name(raw: str) -> str | None:
    """Return a tidy first name, or None when the text does not look like one."""
    name = " ".join(raw.replace("’", "'").split()).strip(" .,!")
    if not name or len(name) > MAX_NAME_CHARS or not _NAME_PATTERN.match(name):
        return None
    if name.islower() or name.isupper():
        name = "-".join(part.capitalize() for part in name.split("-"))
        name = " ".join(part[:1].upper() + part[1:] for part in name.split(" "))
    return name


def receive_name(turn: Turn) -> list[Reply]:
    """Take the typed first name and ask for the filière."""
    name = clean_name(turn.text)
    if name is None:
        return [Reply(texts.NAME_NOT_UNDERSTOOD)]
    return _set_name(turn, name)


def on_name_button(turn: Turn, choice: str) -> list[Reply]:
    """Keep the suggested first name."""
    if turn.state is not State.ASK_NAME:
        return resume(turn)
    name = suggested_name(turn)
    if choice != "ok" or name is None:
        return [Reply(texts.ASK_NAME)]
    return _set_name(turn, name)


def _set_name(turn: Turn, name: str) -> list[Reply]:
    assert turn.user is not None
    turn.user.first_name = name
    return ask_filiere(turn)


def ask_filiere(turn: Turn) -> list[Reply]:
    """Ask for the filière with one button per configured track."""
    turn.set_state(State.ASK_FILIERE)
    buttons = [
        Button(pack(Action.FILIERE, str(index)), shorten(name, 24))
        for index, name in enumerate(turn.services.settings.filiere_names)
    ]
    buttons.append(Button(pack(Action.FILIERE, "none"), texts.BUTTON_FILIERE_UNKNOWN))
    return [Reply(texts.ASK_FILIERE.format(name=turn.first_name), tuple(buttons))]


def on_filiere(turn: Turn, choice: str) -> list[Reply]:
    """Record the filière chosen by button."""
    names = turn.services.settings.filiere_names
    if turn.state is not State.ASK_FILIERE:
        return resume(turn)
    if choice == "none":
        return _finish(turn, None)
    index = int(choice)
    if index >= len(names):
        # The list changed since the buttons were shown.
        return [Reply(texts.FILIERE_NOT_UNDERSTOOD), *ask_filiere(turn)]
    return _finish(turn, names[index])


def receive_filiere_text(turn: Turn) -> list[Reply]:
    """Accept a typed filière when it clearly names one of the tracks."""
    names = turn.services.settings.filiere_names
    found = process.extractOne(
        fold(turn.text), {name: fold(name) for name in names}, scorer=fuzz.WRatio, score_cutoff=85
    )
    if found is None:
        return [Reply(texts.FILIERE_NOT_UNDERSTOOD), *ask_filiere(turn)]
    return _finish(turn, found[2])


def _finish(turn: Turn, filiere: str | None) -> list[Reply]:
    assert turn.user is not None
    turn.user.filiere = filiere
    turn.set_state(State.IDLE)
    return [Reply(texts.ONBOARDING_DONE.format(name=turn.first_name)), main_menu()]


def resume(turn: Turn) -> list[Reply]:
    """Show the step the user is at: the pending onboarding question, or the menu."""
    if turn.user is None:
        return welcome(turn)
    if turn.state is State.ASK_NAME:
        return ask_name(turn)
    if turn.state is State.ASK_FILIERE:
        return ask_filiere(turn)
    turn.set_state(State.IDLE)
    return [main_menu()]


def start(turn: Turn) -> list[Reply]:
    """Handle /start: welcome a newcomer, or greet a known user and resume."""
    if turn.user is None:
        return welcome(turn)
    if turn.state in (State.ASK_NAME, State.ASK_FILIERE):
        return resume(turn)
    greeting = texts.WELCOME_BACK.format(name=turn.first_name).replace("  ", " ")
    turn.set_state(State.IDLE)
    return [Reply(greeting), main_menu()]
