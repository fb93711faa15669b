"""/mesdonnees shows everything kept, /oublier erases everything: on both databases."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.common.clock import FrozenClock
from bot.core.conversation import Conversation
from bot.features.privacy import (
    INTERNAL_COLUMNS,
    NON_PERSONAL_TABLES,
    PERSONAL_TABLES,
    SHOWN_COLUMNS,
    TRANSIENT_TABLES,
    purge_inactive,
)
from bot.storage.db import unit_of_work
from bot.storage.models import Base, ConversationState, FaqMiss, User
from tests.integration.test_onboarding import onboarded


def test_my_data_lists_every_stored_value(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    chat = onboarded(conversation, "samira")
    chat.send("/mesdonnees")
    chat.expect("Voici tout ce que je garde sur vous", "Je ne garde pas vos autres messages")
    for line in (
        "Prénom : Samira",
        "Filière : Horticulture",
        "Application : console",
        "Numéro de compte dans l'application : samira",
        "Rôle : stagiaire",
        "Accord donné le : 24/11/2026",
        "Rappels : actifs",
        "Compte créé le : 24/11/2026",
        "Dernier message le : 24/11/2026",
        "Où vous en êtes : menu principal",
        "Étape enregistrée le : 24/11/2026",
    ):
        assert line in chat.text, line


def test_every_column_of_personal_tables_is_shown_or_internal() -> None:
    for table_name in PERSONAL_TABLES:
        for column in Base.metadata.tables[table_name].columns:
            qualified = f"{table_name}.{column.name}"
            assert column.name in SHOWN_COLUMNS[table_name] or qualified in INTERNAL_COLUMNS, (
                f"{qualified} is stored but /mesdonnees does not show it"
            )


def test_personal_tables_are_erased_with_the_user() -> None:
    for table_name in PERSONAL_TABLES - {"users"} - TRANSIENT_TABLES:
        table = Base.metadata.tables[table_name]
        # The row belongs to a person: a cascade from users, directly or through another personal table.
        owners = [
            fk
            for fk in table.foreign_keys
            if fk.ondelete == "CASCADE" and fk.column.table.name in PERSONAL_TABLES
        ]
        assert owners, f"{table_name} must be erased with its owner (ON DELETE CASCADE) so /oublier can"
        # Other links to people (the social worker of a ticket) must not keep a row alive nor block
        # erasing them.
        others = [fk for fk in table.foreign_keys if fk.column.table.name == "users" and fk not in owners]
        assert all(fk.ondelete == "SET NULL" for fk in others), f"{table_name}: ON DELETE SET NULL needed"


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
        > le wifi marche pas
        < D'accord, je garde tout.
        < Cliquez sur l'icône du Wi-Fi
        > /oublier
        > Oui
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
    chat.send("abonnement piscine communale")  # kept for the gaps report
    with session_factory() as session:
        user_id = session.scalars(select(User.id)).one()
        assert session.scalars(select(FaqMiss)).all(), "the test needs a row in every personal table"
    chat.send("/oublier")
    chat.press("Oui, tout effacer")
    with session_factory() as session:
        assert session.get(User, user_id) is None
        for table in Base.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column.table.name != "users":
                    continue
                count = session.scalar(
                    text(f"SELECT count(*) FROM {table.name} WHERE {fk.parent.name} = :id"), {"id": user_id}
                )
                assert count == 0, f"{table.name}.{fk.parent.name} still holds the user"


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


def test_numbered_choices_are_shown_shared_and_erased(
    conversation: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    from bot.storage.choices import NumberedChoices

    chat = onboarded(conversation, "samira")
    shown = [(f"fil:{index}.abcd", f"Filière {index}") for index in range(12)]
    NumberedChoices(session_factory).remember("console", "samira", shown, clock.now())
    # Another instance (its own store) reads what this one showed.
    assert NumberedChoices(session_factory).recall("console", "samira") == shown
    chat.send("/mesdonnees")
    assert "Choix montrés avec un numéro : Filière 0 / Filière 1" in chat.text
    NumberedChoices(session_factory).remember("console", "samira", [], clock.now())
    assert NumberedChoices(session_factory).recall("console", "samira") == []
    NumberedChoices(session_factory).remember("console", "samira", shown, clock.now())
    chat.send("/oublier")
    chat.send("Oui, tout effacer")
    assert NumberedChoices(session_factory).recall("console", "samira") == []
    with session_factory() as session:
        assert session.scalar(text("SELECT count(*) FROM numbered_choices")) == 0
    # Nobody without an account gets a row: there would be no one to erase it with.
    NumberedChoices(session_factory).remember("console", "stranger", shown, clock.now())
    assert NumberedChoices(session_factory).recall("console", "stranger") == []
