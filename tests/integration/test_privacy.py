"""/mesdonnees shows everything kept, /oublier erases everything: on both databases."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.app import FEATURES
from bot.common.clock import FrozenClock
from bot.core.conversation import Conversation
from bot.core.feature import Features
from bot.features.privacy import purge_inactive
from bot.storage.db import unit_of_work
from bot.storage.models import Base, ConversationState, FaqMiss, Ticket, TicketMessage, User
from tests.integration.test_onboarding import onboarded

# What the features declare they keep about people (and what they keep that is about nobody).
DECLARED = Features(FEATURES)
PERSONAL_TABLES = frozenset(DECLARED.personal_tables)
UNLINKED_TABLES = frozenset(name for name, table in DECLARED.personal_tables.items() if not table.linked)


def test_my_data_lists_every_stored_value(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    chat = onboarded(conversation, "samira")
    chat.send("/mesdonnees")
    chat.expect(
        "Voici ce que je garde sur vous", "Samira, formation Horticulture", "Pour tout effacer", "fichier"
    )
    assert len(chat.last) <= 5 and all(len(reply.text) <= 350 for reply in chat.last)
    assert [button.title for button in chat.last[-1].buttons] == ["Parler à quelqu'un", "Menu"]
    assert "Je ne garde pas vos autres messages" in chat.document
    for line in (
        "Prénom : Samira",
        "Formation : Horticulture",
        "Application : le terminal",
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
    for table_name, declared in DECLARED.personal_tables.items():
        columns = {column.name for column in Base.metadata.tables[table_name].columns}
        for column in columns:
            assert column in declared.columns or column in declared.internal, (
                f"{table_name}.{column} is stored but /mesdonnees does not show it"
            )
        assert set(declared.columns) | declared.internal <= columns, f"{table_name}: no such column"


def test_personal_tables_are_erased_with_the_user() -> None:
    for table_name in PERSONAL_TABLES - {"users"} - UNLINKED_TABLES:
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
        [Oui, tout effacer] [Non, garder] [Parler à quelqu'un] [Menu]
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
    declared = PERSONAL_TABLES | DECLARED.other_tables
    assert set(Base.metadata.tables) <= declared, "declare new tables in the feature that keeps them"
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


def test_my_data_of_a_busy_trainee_stays_short_and_the_file_keeps_everything_whole(
    conversation: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    chat = onboarded(conversation, "samira")
    long_answer = "Bonjour Samira, " + "voici ce qu'il faut apporter lundi au bureau 2. " * 12
    with unit_of_work(session_factory) as session:
        user = session.scalars(select(User)).one()
        for number in range(30):
            session.add(
                FaqMiss(user=user, asked_at=clock.now(), question=f"question {number}", outcome="fallback")
            )
        ticket = Ticket(trainee=user, subject="mon contrat", opened_at=clock.now(), status="closed")
        ticket.messages.append(TicketMessage(author="staff", text=long_answer, sent_at=clock.now()))
        session.add(ticket)
    chat.send("/mesdonnees")
    assert 3 <= len(chat.last) <= 5
    for reply in chat.last:
        assert len(reply.text) <= 350, reply.text
    chat.expect("30 questions que je n'ai pas comprises", "1 demande à une personne (terminée)")
    assert f"Texte : « {long_answer} »" in chat.document, "staff texts are given whole"
    assert chat.document.count("Question non comprise, le") == 30
    assert "confirm" not in chat.text and "idle" not in chat.text, "no internal state names"


def test_two_features_cannot_declare_one_table() -> None:
    from bot.core.feature import Feature
    from bot.core.personal import PersonalTable

    twice = Feature(name="copy", personal_tables=[PersonalTable("faq_misses", {})])
    with pytest.raises(ValueError, match="faq_misses"):
        Features([*FEATURES, twice])
