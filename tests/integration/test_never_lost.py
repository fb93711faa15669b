"""A trainee is never lost: typed numbers press buttons, help in their words, always a way out."""

from __future__ import annotations

import pytest

from bot.core.conversation import Conversation
from tests.integration.test_onboarding import onboarded

MENU = ["Poser une question", "Prendre rendez-vous", "Mes rendez-vous", "Mes séances", "Parler à quelqu'un"]


def test_a_typed_number_presses_the_button_of_that_number(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.script("""
        > 1
        < Écrivez votre question
        > menu
        > 5
        < En une phrase, c'est à quel sujet ?
        [Passer] [Menu]
    """)


@pytest.mark.parametrize("typed", ["9", "0", "12"])
def test_a_number_that_names_no_button_shows_the_buttons_again(
    conversation: Conversation, typed: str
) -> None:
    chat = onboarded(conversation, "samira")
    chat.send(typed)
    chat.expect("Appuyez sur un des boutons.")
    chat.expect_buttons(*MENU)
    assert "pas compris" not in chat.text


def test_a_typed_button_title_presses_it(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.send("poser une question")
    chat.expect("Écrivez votre question")


@pytest.mark.parametrize(
    "lost", ["aide", "?", "???", "jsp", "je comprends pas", "j comprend pa", "chui perdu", "help"]
)
def test_help_in_the_trainees_words_says_what_the_bot_does_with_the_menu(
    conversation: Conversation, lost: str
) -> None:
    chat = onboarded(conversation, "samira")
    chat.send(lost)
    assert len(chat.last) == 1 and len(chat.text) <= 350, chat.text
    chat.expect("Je réponds à vos questions sur l'ordinateur")
    chat.expect_buttons(*MENU)


def test_aide_as_a_command_also_lists_the_commands(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.send("/aide")
    chat.expect("/mesdonnees", "Je réponds à vos questions")
    assert all(len(reply.text) <= 350 for reply in chat.last)


def test_every_turn_ends_with_the_menu_and_a_person(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    for message in [
        "le wifi marche pas",
        "cv",
        "zorglub",
        "/langue",
        "/mesdonnees",
        "/stop",
        "/reprendre",
        "99",
    ]:
        chat.send(message)
        titles = [button.title for button in chat.last[-1].buttons]
        assert "Parler à quelqu'un" in titles, (message, titles)
        assert "Menu" in titles or titles == MENU, (message, titles)
