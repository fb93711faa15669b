"""Every flow, walked as a trainee (and a social worker) would, through the terminal channel.

For every bot message: it fits a phone screen (350 characters; files excepted). For every turn: its
buttons end with a person and the menu (the menu itself counts as the menu). Exempt, and marked "!" in
the scripts: consent and a question typed rather than tapped (no buttons at all: "Écrivez votre prénom"),
the answer to an erasure (the person is gone), and staff turns (staff get their own lists). Marked "~": a
person is being reached (a request to the team), or onboarding's choices (a tap from done), so the menu
is enough. `pytest -s` prints the figures.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.channels.console import ConsoleChannel
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.messages import IncomingMessage, Reply
from bot.faq import load_faq
from bot.features.faq import FaqService
from bot.storage.db import unit_of_work
from bot.storage.models import Role
from bot.storage.staff import add_staff
from tests.conftest import SHIPPED_FAQ
from tests.integration.test_booking import AVAILABILITY
from tests.integration.test_sessions import import_csv

MAX_MESSAGE_CHARS = 350
PERSON, MENU = "Parler à quelqu'un", "Menu"

TRAINEE_FLOWS = {
    "onboarding": ["!/start", "!1", "~moi c samira", "2"],
    "faq in steps": ["mon ordi demare plu", "2", "2", "1"],
    "suggestions": ["cv", "1"],
    "fallback": ["abonnement piscine communale"],
    "lost": ["?", "jsp", "9", "je comprends pas"],
    "booking": ["Prendre rendez-vous", "Papiers administratifs", "Claire", "Autres dates", "Demain", "1"],
    "confirm": ["Oui, je réserve"],
    "my appointments": ["Menu", "Mes rendez-vous", "Déplacer (demain)", "Non, garder"],
    "sessions": ["Mes séances"],
    # "aide" is not passed on to the worker; "Menu" is a button here (the console presses it by title).
    "person": ["~Parler à quelqu'un", "~mon contrat", "~je dois signer lundi", "~aide", "~Non, je continue"],
    "back": ["~stop", "Oui, retour au robot"],
    "language": ["/langue", "English", "/langue", "Français"],
    "privacy": ["/mesdonnees", "/stop", "/reprendre", "/oublier", "Non, garder"],
    "help": ["/aide", "merci"],
    "erasure": ["/oublier", "!Oui, tout effacer"],
}
STAFF_FLOW = ["!/aide", "!/tickets", "!/stats", "!/rdv", "!/gaps", "!/apprendre"]


@dataclass
class Turn:
    flow: str
    typed: str
    replies: list[Reply]
    exempt: bool
    menu_enough: bool = False


def turn_of(flow: str, line: str) -> Turn:
    """Read a script line: "!" exempts the turn, "~" says the menu is enough (no person expected)."""
    return Turn(flow, line.lstrip("!~"), [], line.startswith("!"), line.startswith("~"))


@pytest.fixture
def centre(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path, clock: FrozenClock
) -> Conversation:
    """The shipped FAQ, two social workers' hours, module sessions; Tuesday 24/11/2026, 9:00."""
    path = tmp_path / "disponibilites.yaml"
    path.write_text(AVAILABILITY, encoding="utf-8")
    configured = settings.model_copy(update={"availability_file": path, "faq_dir": SHIPPED_FAQ})
    with unit_of_work(session_factory) as session:
        add_staff(session, "console", "claire", "Claire", Role.SOCIAL_WORKER, clock.now())
        add_staff(session, "console", "karim", "Karim", Role.ADMIN, clock.now())
    import_csv(
        session_factory,
        configured,
        tmp_path,
        "CV,2026-11-26 09:00,120,Salle 3,Horticulture,Nadia\n",
        clock.now(),
    )
    return build_conversation(session_factory, build_services(configured, FaqService(SHIPPED_FAQ), clock))


def walk(conversation: Conversation, user: str, flows: dict[str, list[str]]) -> list[Turn]:
    """Type every flow's lines, in order, into one terminal chat; return each turn with its replies."""
    turns = [turn_of(flow, line) for flow, lines in flows.items() for line in lines]
    stdin = io.StringIO("".join(f"{turn.typed}\n" for turn in turns))
    channel = ConsoleChannel(user, stdin=stdin, stdout=io.StringIO())
    waiting = iter(turns)

    async def on_message(message: IncomingMessage) -> list[Reply]:
        replies = conversation.handle(message)
        next(waiting).replies = replies
        return replies

    asyncio.run(channel.start(on_message))
    return turns


def problems(turns: list[Turn]) -> tuple[list[str], list[str], list[str]]:
    """Return the messages over a phone screen, the turns without the menu, and those without a person."""
    too_long, no_menu, no_person = [], [], []
    for turn in turns:
        for reply in turn.replies:
            if len(reply.text) > MAX_MESSAGE_CHARS:
                too_long.append(
                    f"{turn.flow} / {turn.typed!r}: {len(reply.text)} characters: {reply.text[:60]}"
                )
        if turn.exempt or not turn.replies:
            continue
        titles = [button.title for reply in turn.replies for button in reply.buttons]
        # The main menu is the menu: its first button and its way to a person.
        if MENU not in titles and not {"Poser une question", PERSON} <= set(titles):
            no_menu.append(f"{turn.flow} / {turn.typed!r}: {titles}")
        if PERSON not in titles and not turn.menu_enough:
            no_person.append(f"{turn.flow} / {turn.typed!r}: {titles}")
    return too_long, no_menu, no_person


def test_every_flow_fits_a_phone_and_always_offers_the_menu_and_a_person(
    centre: Conversation, capsys: pytest.CaptureFixture[str]
) -> None:
    turns = walk(centre, "samira", TRAINEE_FLOWS) + walk(centre, "claire", {"staff": STAFF_FLOW})
    assert all(turn.replies for turn in turns), [turn.typed for turn in turns if not turn.replies]
    too_long, no_menu, no_person = problems(turns)
    messages = sum(len(turn.replies) for turn in turns)
    checked = sum(not turn.exempt for turn in turns)
    with capsys.disabled():
        print(
            f"\ntranscripts: {len(turns)} turns ({checked} checked), {messages} messages; over "
            f"{MAX_MESSAGE_CHARS} characters: {len(too_long)}; turns without the menu: {len(no_menu)}, "
            f"without a person: {len(no_person)}"
        )
    assert too_long == []
    assert no_menu == []
    assert no_person == []


def test_the_flows_did_what_they_say(centre: Conversation) -> None:
    turns = {(turn.flow, turn.typed): turn for turn in walk(centre, "samira", TRAINEE_FLOWS)}

    def said(flow: str, typed: str) -> str:
        return "\n".join(reply.text for reply in turns[(flow, typed)].replies)

    assert "Bienvenue, Samira" in said("onboarding", "2")
    assert said("faq in steps", "mon ordi demare plu").startswith("Étape 1 sur 5 : Branchez le chargeur")
    assert "Tant mieux" in said("faq in steps", "1")
    assert "C'est une de ces questions ?" in said("suggestions", "cv")
    assert "Appuyez sur un des boutons." in said("lost", "9")
    assert "C'est réservé" in said("confirm", "Oui, je réserve")
    assert "Vos prochaines séances" in said("sessions", "Mes séances")
    assert "Voulez-vous quitter la conversation avec l'équipe ?" in said("person", "aide")
    assert "Votre demande reste ouverte" in said("back", "Oui, retour au robot")
    assert "Voici ce que je garde sur vous" in said("privacy", "/mesdonnees")
    assert "J'ai tout effacé" in said("erasure", "Oui, tout effacer")


@pytest.mark.parametrize("language", [None, "nl", "en"])
def test_every_shipped_entry_reads_on_a_phone_step_by_step(language: str | None) -> None:
    for entry in load_faq(SHIPPED_FAQ).entries:
        steps = entry.steps_in(language)
        for number, step in enumerate(steps, start=1):
            # As the bot sends it: "Étape n sur N : ...", the last with "Toujours pas ? ...".
            shown = f"Étape {number} sur {len(steps)} : {step}" if len(steps) > 1 else step
            if number == len(steps) and len(steps) > 1:
                shown += "\n\nToujours pas ? Une personne de l'équipe peut vous aider."
            assert len(shown) <= MAX_MESSAGE_CHARS, (entry.id, language, number, len(shown))
