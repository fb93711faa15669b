"""Messages of one person arriving at the same time (double taps, retries) never corrupt state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.core.messages import IncomingMessage
from bot.core.payloads import checked_index
from bot.storage.models import ConversationState, User

FILIERES = Settings(_env_file=None).filiere_names


def test_double_tapped_consent_creates_one_account(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    message = IncomingMessage("telegram", "777", button_id="consent:yes", user_name="Samira")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: conversation.handle(message), range(16)))
    assert all(texts.INTERNAL_ERROR not in [reply.text for reply in replies] for replies in answers)
    asked_name = [replies for replies in answers if "Comment vous appelez-vous" in replies[0].text]
    assert len(asked_name) == 1
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert session.scalar(select(func.count()).select_from(ConversationState)) == 1


def test_parallel_trainees_do_not_mix_states(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    def onboard(index: int) -> None:
        user = f"user-{index}"
        for message in (
            IncomingMessage("console", user, text="/start"),
            IncomingMessage("console", user, button_id="consent:yes"),
            IncomingMessage("console", user, text=f"Prenom{'abcdefghij'[index]}"),
            IncomingMessage(
                "console", user, button_id=f"fil:{checked_index(index % 6, FILIERES[index % 6])}"
            ),
        ):
            conversation.handle(message)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(onboard, range(10)))
    with session_factory() as session:
        users = session.scalars(select(User).order_by(User.external_id)).all()
        assert len(users) == 10
        for user in users:
            index = int(user.external_id.split("-")[1])
            assert user.first_name == f"Prenom{'abcdefghij'[index]}"
            assert user.filiere is not None


def test_simultaneous_messages_of_one_user_are_serialised(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    for message in (
        IncomingMessage("console", "busy", text="/start"),
        IncomingMessage("console", "busy", button_id="consent:yes"),
    ):
        conversation.handle(message)
    burst = [
        IncomingMessage("console", "busy", text=text)
        for text in ["Samira", "/aide", "Karim", "/mesdonnees", "?", "Léa"] * 3
    ]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(conversation.handle, burst))
    assert all(texts.INTERNAL_ERROR.split(".")[0] not in replies[0].text for replies in answers)
    with session_factory() as session:
        user = session.scalars(select(User).where(User.external_id == "busy")).one()
        state = session.scalars(select(ConversationState.state)).one()
    # The first name typed first was taken; later names were answered as filière attempts.
    assert user.first_name in ("Samira", "Karim", "Léa")
    assert state == "ask_filiere"
    # Exactly one message was handled in the name step.
    assert sum("Quelle est votre formation" in replies[0].text for replies in answers) == 1


def test_a_redelivered_update_is_handled_once(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    consent = IncomingMessage("telegram", "55", button_id="consent:yes", delivery_id="1001")
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: conversation.handle(consent), range(12)))
    assert sum(1 for replies in answers if replies) == 1, "one handling, the copies say nothing"
    assert conversation.handle(consent) == []
    # A new delivery of the same press is a new message (answered as a stale choice).
    assert conversation.handle(IncomingMessage("telegram", "55", button_id="consent:yes", delivery_id="1002"))
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
