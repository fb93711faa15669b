"""Dialogues at the edges: interrupting onboarding, coming back after /oublier, changed settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_app, build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.features.faq import FAQ
from bot.storage.models import User
from tests.conftest import FIXTURE_FAQ
from tests.dialogue import Chat
from tests.integration.test_onboarding import onboarded


def test_onboarding_waits_for_its_answers_but_menu_skips_the_questions_left(
    conversation: Conversation,
) -> None:
    chat = Chat(conversation, "samira")
    chat.script("""
        > /start
        > J'accepte
        < Écrivez votre prénom
        > [go:book]
        < Encore une petite étape
        < Écrivez votre prénom
        > Samira
        < Quelle est votre formation
        [Bâtiment] [Horticulture] [Nettoyage] [Horeca - cuisine] [Vente - magasin] [Logistique]
        [Autre / ne sais pas] [Menu]
        > bricolage
        < Je n'ai pas trouvé cette formation
        > [faq:wifi-connexion]
        < Cliquez sur l'icône du Wi-Fi
        > /mesdonnees
        < Où vous en êtes : vous alliez choisir votre formation
        > Menu
        < Que voulez-vous faire ?
        > /mesdonnees
        < Où vous en êtes : menu principal
    """)
    assert "Formation" not in chat.document, "skipped: nothing stored"
    other = Chat(conversation, "karim")
    other.script("""
        > /start
        > J'accepte
        > /menu
        < Que voulez-vous faire ?
    """)


def test_coming_back_after_forget_starts_afresh(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.script("""
        > /oublier
        > Oui, tout effacer
        < J'ai tout effacé
        > /start
        < Vous êtes d'accord ?
        > J'accepte
        < Écrivez votre prénom
    """)


def test_faq_question_wins_over_a_similar_intent(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.script("""
        > Où puis-je voir mon horaire de formation ?
        < Votre horaire est affiché à l'accueil.
        > où je peux voir mon horaire
        < Votre horaire est affiché à l'accueil.
        > mon horaire
        < Vous n'avez pas de séance prévue dans le bot.
        > je veux parler à l'assistante sociale
        < En une phrase, c'est à quel sujet ?
        > Menu
        > comment contacter mon conseiller forem
        < Je ne suis pas sûr
    """)


def test_poser_une_question_sends_the_next_text_to_the_faq(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.script("""
        > Poser une question
        > je veux prendre un rdv au forem pour m'inscrire
        < Allez sur www.leforem.be
    """)


def test_filiere_button_from_before_a_reorder_is_refused(
    session_factory: sessionmaker[Session], settings: Settings, conversation: Conversation, clock: FrozenClock
) -> None:
    chat = Chat(conversation, "samira")
    chat.script("""
        > /start
        > J'accepte
        > Samira
        < Quelle est votre formation
    """)
    old_button = next(button.id for button in chat.buttons if button.title == "Horticulture")
    reordered = settings.model_copy(update={"filieres": "Horticulture;Bâtiment;Nettoyage"})
    services = build_services(reordered, conversation.services.get(FAQ), clock)
    after_change = Chat(build_conversation(session_factory, services), "samira")
    after_change.press_payload(old_button)
    after_change.expect("Ce bouton n'est plus valable", "Quelle est votre formation")
    after_change.press("Horticulture")
    after_change.expect("Bienvenue, Samira")
    with session_factory() as session:
        assert session.scalars(select(User.filiere)).one() == "Horticulture"


def test_messages_keep_the_account_alive_and_start_purges_the_silent(
    engine: Engine, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    live = build_app(settings.model_copy(update={"database_url": url}), clock)
    onboarded(live.conversation, "silent")
    active = onboarded(live.conversation, "active", name="Karim")
    for _ in range(3):
        clock.advance(timedelta(days=200))
        active.send("merci")
    live.close()
    restarted = build_app(settings.model_copy(update={"database_url": url}), clock)
    restarted.close()
    with session_factory() as session:
        assert session.scalars(select(User.external_id)).all() == ["active"]


def test_sql_parameters_never_reach_the_logs(engine: Engine) -> None:
    assert engine.hide_parameters


@pytest.mark.parametrize(
    ("field", "value"),
    [("filieres", "x" * 61), ("filieres", " ; ;"), ("filieres", "A;a"), ("log_level", "verbose")],
)
def test_invalid_settings_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"faq_dir": FIXTURE_FAQ, field: value})
