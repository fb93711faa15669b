"""Dialogues of first contact, on both databases."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation
from bot.core.conversation import Conversation
from bot.storage.models import User
from tests.dialogue import Chat

FILIERES = "[Bâtiment] [Horticulture] [Nettoyage] [Horeca - cuisine] [Vente - magasin] [Logistique] "
FILIERES += "[Autre / ne sais pas]"
MENU = "[Poser une question] [Prendre rendez-vous] [Mes rendez-vous] [Mes séances] [Parler à quelqu'un]"


def test_newcomer_consents_gives_name_and_filiere(conversation: Conversation) -> None:
    chat = Chat(conversation, "samira", user_name="Samira Benali")
    chat.script(f"""
        > /start
        < Bonjour ! Je suis le robot d'aide de l'ASBL Horizon.
        < ordinateur prêté
        < je garde votre prénom, votre formation et le numéro de votre compte
        < Je ne garde pas vos messages
        < après 1 an sans message
        [J'accepte] [Je refuse] [En savoir plus]
        > En savoir plus
        < Ce que je garde
        < /oublier
        [J'accepte] [Je refuse] [En savoir plus]
        > J'accepte
        < Comment vous appelez-vous ?
        [Samira] [Menu]
        > Samira
        < Merci Samira ! Quelle est votre formation
        {FILIERES} [Menu]
        > Horticulture
        < Bienvenue, Samira
        < Que voulez-vous faire ?
        {MENU}
    """)


def test_typed_name_and_typed_filiere_are_understood(conversation: Conversation) -> None:
    chat = Chat(conversation, "42", channel="telegram")
    chat.script("""
        > bonjour
        [J'accepte] [Je refuse] [En savoir plus]
        > J'accepte
        < Écrivez votre prénom.
        > 123 ???
        < Je n'ai pas compris votre prénom
        > marie-claire
        < Merci Marie-Claire !
        > horticulure
        < Bienvenue, Marie-Claire
    """)


def test_declining_stores_nothing_and_still_answers(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    chat = Chat(conversation, "anon")
    chat.script("""
        > /start
        > Je refuse
        < Je ne garde rien sur vous.
        < Vous pouvez quand même poser vos questions.
        [Poser une question] [Parler à quelqu'un]
        > jarrive pa a me conecter au wifi
        < Cliquez sur l'icône du Wi-Fi
        > Parler à quelqu'un
        < je dois garder votre prénom et vos messages
        < Vous pouvez aussi vous adresser à l'accueil (081 00 00 00).
        [Me présenter] [Menu]
        > Menu
        < je dois d'abord vous connaître
        [Poser une question] [Parler à quelqu'un] [Me présenter]
        > /aide
        < Pour parler à une personne : l'accueil (081 00 00 00)
        > /mesdonnees
        < Je ne garde rien sur vous.
    """)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_menu_items_with_nothing_configured_say_so(conversation: Conversation) -> None:
    chat = onboarded(conversation, "karim")
    chat.script("""
        > Prendre rendez-vous
        < Les rendez-vous ne sont pas encore ouverts dans le bot. Adressez-vous à l'accueil (081 00 00 00).
        [Parler à quelqu'un] [Menu]
        > Menu
        > Mes séances
        < Vous n'avez pas de séance prévue dans le bot. Votre formateur ou votre formatrice vous donne
        [Parler à quelqu'un] [Menu]
    """)


def test_restart_mid_onboarding_loses_nothing(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    chat = Chat(conversation, "lea", user_name="Léa")
    chat.script("""
        > /start
        > J'accepte
        > Léa
        < Quelle est votre formation
    """)
    # A new Conversation on the same database is what a restarted process has.
    restarted = build_conversation(session_factory, conversation.services)
    again = Chat(restarted, "lea", user_name="Léa")
    again.script("""
        > Nettoyage
        < Bienvenue, Léa
    """)


def test_returning_user_is_greeted_by_name(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.script(f"""
        > /start
        < Re-bonjour Samira !
        {MENU}
        > slt
        < Bonjour Samira !
        > merci bcp
        < Avec plaisir
    """)


def test_question_flow_and_follow_up(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.script("""
        > Poser une question
        < Écrivez votre question
        > le wifi marche pa sur mon ordi
        < Cliquez sur l'icône du Wi-Fi
        [Mot de passe e-mail] [Parler à quelqu'un] [Menu]
        > Mot de passe e-mail
        < Mot de passe oublié
    """)


def onboarded(conversation: Conversation, user_id: str, name: str = "Samira") -> Chat:
    """Return a chat whose user has gone through onboarding."""
    chat = Chat(conversation, user_id)
    chat.script(f"""
        > /start
        > J'accepte
        > {name}
        > Horticulture
        < Bienvenue, {name}
    """)
    return chat
