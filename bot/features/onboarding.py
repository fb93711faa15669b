"""First contact: welcome, consent, first name, filière; then the menu."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from bot import texts
from bot.common.text import fold, shorten
from bot.core.feature import PERSON_BUTTON, ButtonAction, Command, Feature, GoTarget, MenuEntry, StateStep
from bot.core.messages import Button, Reply
from bot.core.payloads import ButtonKind, checked_index, go_button
from bot.core.turn import IDLE, Turn
from bot.faq.normalize import lexicon
from bot.features.intents import Intent, detect_intent
from bot.features.menu import main_menu
from bot.storage.models import Role, User

# Onboarding: the person gives a first name, then a filière.
ASK_NAME = "ask_name"
ASK_FILIERE = "ask_filiere"
CONSENT = ButtonKind("consent", "yes|no|info")
NAME = ButtonKind("name", "ok|other")  # keep the suggested first name, or type another
# The index of a track in FILIERES, checked by its name (see checked_index), or none.
FILIERE = ButtonKind("fil", r"\d{1,2}\.[0-9a-f]{4}|none")

MAX_NAME_CHARS = 40
# One first name: letters, with hyphens and apostrophes inside ("Marie-Claire", "N'Golo").
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['-][^\W\d_]+)*$")
# What people write around their name ("bonjour, je m'appelle Samira", "moi c'est Karim").
_GREETING_PREFIX = re.compile(r"^(?:bonjour|bonsoir|salut|hello|coucou|bjr|slt|hi)\b[\s,!.]*", re.IGNORECASE)
_INTRODUCTION = re.compile(
    r"^(?:je\s+m\s*'?\s*appel+e?s?|j\s*'?\s*m\s*'?\s*appel+e?s?|"
    r"(?:moi\s+)?(?:c\s*'?\s*est|cest|c)|moi|je\s+suis|j\s*'?\s*suis|chuis|chui|"
    r"mon\s+(?:pr[ée]nom|nom)\s+(?:est|c\s*'?\s*est|cest|c)|my\s+name\s+is|i\s*'?\s*m|i\s+am|"
    r"ik\s+heet|ik\s+ben)\s+",
    re.IGNORECASE,
)
# A longer text is a sentence, not a name.
MAX_NAME_WORDS = 3


def consent_buttons() -> tuple[Button, ...]:
    """Return the three consent choices."""
    return (
        CONSENT.button("yes", texts.BUTTON_CONSENT_YES),
        CONSENT.button("no", texts.BUTTON_CONSENT_NO),
        CONSENT.button("info", texts.BUTTON_CONSENT_INFO),
    )


def _retention(turn: Turn) -> str:
    return texts.retention_text(turn.services.settings.data_retention_days)


def _miss_retention(turn: Turn) -> str:
    return texts.retention_text(turn.services.settings.faq_miss_retention_days)


def welcome(turn: Turn) -> list[Reply]:
    """Greet someone the bot does not know and ask for consent."""
    return [
        Reply(texts.WELCOME.format(centre=turn.services.settings.centre_name)),
        Reply(texts.WELCOME_WHAT),
        Reply(texts.CONSENT_WHAT),
        Reply(texts.CONSENT_MESSAGES.format(miss_retention=_miss_retention(turn))),
        Reply(texts.CONSENT_QUESTION.format(retention=_retention(turn)), consent_buttons()),
    ]


def on_consent(turn: Turn, choice: str) -> list[Reply]:
    """Record consent and start onboarding, or carry on anonymously with nothing stored."""
    if turn.user is not None:
        return [Reply(texts.CONSENT_ALREADY), *resume(turn)]
    if choice == "info":
        details = texts.CONSENT_DETAILS.format(
            retention=_retention(turn),
            miss_retention=_miss_retention(turn),
            ticket_retention=texts.retention_text(turn.services.settings.ticket_retention_days),
        )
        return [Reply(details, consent_buttons())]
    if choice == "no":
        return [
            Reply(texts.CONSENT_DECLINED),
            Reply(texts.CONSENT_DECLINED_NEXT, (go_button("ask", texts.BUTTON_ASK), PERSON_BUTTON)),
        ]
    user = User(
        channel=turn.message.channel,
        external_id=turn.message.user_id,
        role=Role.TRAINEE.value,
        consented_at=turn.now,
        consent_version=texts.CONSENT_VERSION,
        notifications_paused=False,
        created_at=turn.now,
        last_seen_at=turn.now,
    )
    turn.session.add(user)
    turn.user = user
    return ask_name(turn)


def suggested_name(turn: Turn) -> str | None:
    """Return the first word of the platform's display name when it looks like a first name."""
    display = (turn.message.user_name or "").strip()
    return clean_name(display.split(" ")[0]) if display else None


def ask_name(turn: Turn) -> list[Reply]:
    """Ask for the first name, offering the platform's display name as a button."""
    turn.set_state(ASK_NAME)
    suggestion = suggested_name(turn)
    if suggestion:
        button = NAME.button("ok", shorten(suggestion, 20))
        return [Reply(texts.ASK_NAME_WITH_SUGGESTION, (button,))]
    return [Reply(texts.ASK_NAME)]


def clean_name(raw: str) -> str | None:
    """Return the first name in what was typed, or None when the text does not look like one.

    Only the first name is kept, as the consent text promises: "Samira Benali" gives "Samira".
    """
    text = " ".join(raw.replace("’", "'").split()).strip(" .,!?;:")
    text = _GREETING_PREFIX.sub("", text)
    text = _INTRODUCTION.sub("", text).strip(" .,!?;:")
    words = text.split(" ")
    if not text or len(words) > MAX_NAME_WORDS or len(words[0]) > MAX_NAME_CHARS:
        return None
    if not all(_NAME_WORD.match(word) for word in words):
        return None
    # Common words mean a sentence or a greeting ("mon ordi marche pas", "bonjour"), not a name.
    common = lexicon().stop_words
    if any(fold(word) in common for word in words) or detect_intent(text) is not None:
        return None
    name = words[0]
    if name.islower() or name.isupper():
        name = "-".join(part.capitalize() for part in name.split("-"))
    return name


def receive_name(turn: Turn) -> list[Reply]:
    """Take the typed first name and ask for the filière."""
    name = clean_name(turn.text)
    if name is None:
        return [Reply(texts.NAME_NOT_UNDERSTOOD)]
    return _set_name(turn, name)


def on_name_button(turn: Turn, choice: str) -> list[Reply]:
    """Keep the suggested first name."""
    if turn.state != ASK_NAME:
        return [Reply(texts.STALE_BUTTON), *resume(turn)]
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
    turn.set_state(ASK_FILIERE)
    buttons = [
        FILIERE.button(checked_index(index, name), shorten(name, 24))
        for index, name in enumerate(turn.services.settings.filiere_names)
    ]
    buttons.append(FILIERE.button("none", texts.BUTTON_FILIERE_UNKNOWN))
    return [Reply(texts.ASK_FILIERE.format(name=turn.first_name), tuple(buttons))]


def on_filiere(turn: Turn, choice: str) -> list[Reply]:
    """Record the filière chosen by button, if the button still names the same one."""
    if turn.state != ASK_FILIERE:
        return [Reply(texts.STALE_BUTTON), *resume(turn)]
    if choice == "none":
        return _finish(turn, None)
    names = turn.services.settings.filiere_names
    index = int(choice.split(".")[0])
    if index >= len(names) or checked_index(index, names[index]) != choice:
        # The list changed since the buttons were shown: ask again rather than store the wrong one.
        return [Reply(texts.STALE_BUTTON), *ask_filiere(turn)]
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
    turn.set_state(IDLE)
    return [Reply(texts.ONBOARDING_DONE.format(name=turn.first_name)), main_menu(turn)]


def resume(turn: Turn) -> list[Reply]:
    """Show the step the user is at: consent, the pending onboarding question, or the menu."""
    if turn.user is None:
        return welcome(turn)
    if turn.state == ASK_NAME:
        return ask_name(turn)
    if turn.state == ASK_FILIERE:
        return ask_filiere(turn)
    turn.set_state(IDLE)
    return [main_menu(turn)]


def start(turn: Turn) -> list[Reply]:
    """Handle /start: welcome a newcomer, or greet a known user and resume."""
    if turn.user is None:
        return welcome(turn)
    if turn.onboarding:
        return resume(turn)
    greeting = texts.WELCOME_BACK.format(name=turn.first_name).replace("  ", " ")
    turn.set_state(IDLE)
    return [Reply(greeting), main_menu(turn)]


def greet(turn: Turn) -> list[Reply]:
    """Answer a greeting: welcome a newcomer, or greet a known person with the menu."""
    if turn.user is None:
        return welcome(turn)
    greeting = texts.GREETING_REPLY.format(name=turn.first_name).replace("  ", " ")
    turn.set_state(IDLE)
    return [Reply(greeting), main_menu(turn)]


FEATURE = Feature(
    name="onboarding",
    commands={"start": Command(lambda turn, _rest: start(turn), during_onboarding=True)},
    buttons=[
        ButtonAction(CONSENT, on_consent),
        ButtonAction(NAME, on_name_button),
        ButtonAction(FILIERE, on_filiere),
    ],
    states={
        ASK_NAME: StateStep(receive_name, "vous alliez me donner votre prénom", onboarding=True),
        ASK_FILIERE: StateStep(receive_filiere_text, "vous alliez choisir votre formation", onboarding=True),
    },
    go={"start": GoTarget(start, during_onboarding=True)},
    menu=[MenuEntry("start", texts.BUTTON_INTRODUCE, order=90, known=False, anonymous=True)],
    intents={Intent.GREETING.value: greet},
    resume=resume,
)
