"""/mesdonnees shows everything kept, /oublier erases everything: on both databases."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import FrozenClock
from bot.core.conversation import Conversation
from bot.features.privacy import NON_PERSONAL_TABLES, PERSONAL_TABLES, purge_inactive
from bot.storage.db import unit_of_work
from bot.storage.models import Base, ConversationState, User
from tests.integration.test_onboarding import onboarded


def test_my_data_lists_every_stored_field(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    chat = onboarded(conversation, "samira")
    chat.send("/mesdonnees")
    with session_factory() as session:
        user = session.scalars(select(User)).one()
        # Every column of the user's row shows up, in words or as its value.
        assert user.first_name and user.first_name in chat.text
        assert user.filiere and user.filiere in chat.text
        assert user.external_id in chat.text and user.channel in chat.text
    chat.expect(
        "Voici tout ce que je garde sur vous",
        "Je ne garde pas le texte de vos messages",
    )
    for label in (
        "Prénom",
        "Filière",
        "Accord donné le : 24/11/2026",
        "Rappels : actifs",
        "Premier message",
        "Dernier message",
        "Où vous en êtes : menu principal",
    ):
        assert label in chat.text, label


def test_forget_erases_every_row_after_confirmation(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    keep = onboarded(conversation, "other", name="Karim")
    chat = onboarded(conversation, "samira")
    chat.script("""
        > /oublier
        < Voulez-vous vraiment tout effacer ?
        [Oui, tout effacer] [Non, garder]
        > Non, garder
        < D'accord, je garde tout.
        > /oublier
        > je sais pas
        < Appuyez sur un bouton
        > Oui, tout effacer
        < C'est fait. J'ai tout effacé.
        > /mesdonnees
        < Je ne garde rien sur vous.
    """)
    with session_factory() as session:
        users = session.scalars(select(User)).all()
        assert [user.external_id for user in users] == ["other"]
        assert session.scalar(select(func.count()).select_from(ConversationState)) == 1
    keep.send("/mesdonnees")
    keep.expect("Prénom : Karim")


def test_forget_button_pressed_again_later_is_harmless(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.send("/oublier")
    confirm = next(button.id for button in chat.buttons if button.title == "Oui, tout effacer")
    chat.press_payload(confirm)
    chat.expect("C'est fait")
    chat.press_payload(confirm)
    chat.expect("Je ne garde rien sur vous.")


def test_forget_confirmation_is_not_stale_state(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.script("""
        > [forget:yes]
        < Ce bouton n'est plus valable
        > /mesdonnees
        < Prénom : Samira
    """)


def test_stop_and_resume_notifications(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    chat = onboarded(conversation, "samira")
    chat.script("""
        > /stop
        < Je ne vous enverrai plus de rappels
        > /mesdonnees
        < Rappels : arrêtés
    """)
    with session_factory() as session:
        assert session.scalars(select(User.notifications_paused)).one() is True
    chat.script("""
        > /reprendre
        < à nouveau les rappels
        > /mesdonnees
        < Rappels : actifs
    """)


def test_inactive_trainees_are_erased_after_retention(
    conversation: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    onboarded(conversation, "old")
    clock.advance(timedelta(days=200))
    onboarded(conversation, "recent", name="Karim")
    clock.advance(timedelta(days=200))
    with unit_of_work(session_factory) as session:
        assert purge_inactive(session, clock.now(), retention_days=365) == 1
    with session_factory() as session:
        assert session.scalars(select(User.external_id)).all() == ["recent"]


def test_every_table_is_declared_personal_or_not(
    engine: object, session_factory: sessionmaker[Session]
) -> None:
    declared = PERSONAL_TABLES | NON_PERSONAL_TABLES
    assert set(Base.metadata.tables) <= declared, "declare new tables in bot.features.privacy"
    with session_factory() as session:
        actual = set(inspect(session.get_bind()).get_table_names())
    assert actual <= declared, f"undeclared tables: {actual - declared}"


def test_forget_leaves_no_row_referencing_the_user(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    chat = onboarded(conversation, "samira")
    with session_factory() as session:
        user_id = session.scalars(select(User.id)).one()
    chat.send("/oublier")
    chat.press("Oui, tout effacer")
    with session_factory() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if column.name in ("user_id",) or (table.name == "users" and column.name == "id"):
                    count = session.scalar(
                        text(f"SELECT count(*) FROM {table.name} WHERE {column.name} = :id"), {"id": user_id}
                    )
                    assert count == 0, f"{table.name}.{column.name} still holds the user"


def test_message_text_is_never_logged_at_info(
    conversation: Conversation, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "monsecretzorglub"
    with caplog.at_level(logging.INFO):
        chat = onboarded(conversation, "samira")
        chat.send(f"mon mot de passe gmail est {secret}")
        chat.send(f"/test {secret}")
        chat.press_payload(f"faq:{secret}")
        chat.press_payload(f"forged:{secret}")
        chat.send("/oublier")
        chat.press("Oui, tout effacer")
    logged = "\n".join(record.getMessage() for record in caplog.records if record.levelno >= logging.INFO)
    assert secret not in logged
    assert "Samira" not in logged
