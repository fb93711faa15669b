"""Bad input gets a short polite answer, never a crash, and loses nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.core.conversation import Conversation
from bot.core.messages import IncomingMessage
from bot.storage.models import User
from tests.dialogue import Chat
from tests.integration.test_onboarding import onboarded


def test_odd_messages_get_polite_answers(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.script("""
        > /nimportequoi
        < Je ne connais pas cette commande
        > [go:nowhere]
        < Ce bouton n'est plus valable
        > [faq:does-not-exist]
        < Cette question n'existe plus
        > [fil:3]
        < Que voulez-vous faire ?
        > [consent:yes]
        < Vous avez déjà donné votre accord.
        > (voice)
        < Je ne peux pas écouter les messages vocaux
        > (photo)
        < Je ne peux pas regarder les photos
        > (sticker)
        < écrivez votre question avec des mots
        > (hologram)
        < Je ne peux lire que le texte
        > 🙂🙂🙂
        < Je n'ai pas compris votre question.
    """)
    assert chat.text != texts.INTERNAL_ERROR


def test_empty_huge_and_control_character_messages(conversation: Conversation) -> None:
    chat = onboarded(conversation, "samira")
    chat.send("")
    chat.expect("Je n'ai rien reçu")
    chat.send("   \n\t ")
    chat.expect("Je n'ai rien reçu")
    chat.send("wifi " * 2000)
    assert chat.text and texts.INTERNAL_ERROR not in chat.text
    chat.send("wi\x00fi\x07 ne\u200b marche pas\x1b[31m")
    chat.expect("Cliquez sur l'icône du Wi-Fi")
    chat.send("/mesdonnees")
    chat.expect("Prénom : Samira")


def test_oversized_forged_payload(conversation: Conversation) -> None:
    chat = Chat(conversation, "x")
    chat.press_payload("faq:" + "a" * 500)
    chat.expect("Ce bouton n'est plus valable", "Bonjour")


def test_forged_payloads_before_consent_create_nothing(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    chat = Chat(conversation, "x")
    chat.script("""
        > [fil:0.abcd]
        < Ce bouton n'est plus valable.
        < je garde votre prénom
        > [name:ok]
        < Ce bouton n'est plus valable.
        < je garde votre prénom
        > [go:menu]
        < je dois d'abord vous connaître
        [Poser une question] [Parler à quelqu'un] [Me présenter]
        > [go:book]
        < je dois d'abord vous connaître
        > [go:sessions]
        < je dois d'abord vous connaître
        > [forget:yes]
        < Je ne garde rien sur vous.
        > /stop
        < je dois d'abord vous connaître
        > /menu
        < je dois d'abord vous connaître
    """)
    with session_factory() as session:
        assert session.scalars(select(User)).all() == []


text_or_payload = st.one_of(
    st.builds(lambda t: ("text", t), st.text(max_size=300)),
    st.builds(lambda t: ("text", t), st.sampled_from(["/start", "/oublier", "/menu", "/test x", "/", "//"])),
    st.builds(lambda p: ("button", p), st.text(max_size=80)),
    st.builds(
        lambda a, b: ("button", f"{a}:{b}"),
        st.sampled_from(["go", "consent", "name", "fil", "faq", "forget", "staff"]),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", max_size=20),
    ),
    st.builds(lambda k: ("attachment", k), st.sampled_from(["voice", "photo", "document", "sticker"])),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(text_or_payload, min_size=1, max_size=8))
def test_random_input_never_breaks_the_core(
    conversation: Conversation, session_factory: sessionmaker[Session], inputs: list[tuple[str, str]]
) -> None:
    if _find(session_factory, "fuzz-known") is None:
        onboarded(conversation, "fuzz-known")
    for user_id in ("fuzz-known", "fuzz-unknown"):
        for kind, value in inputs:
            message = IncomingMessage(
                "console",
                user_id,
                text=value if kind == "text" else None,
                button_id=value if kind == "button" else None,
                attachment=value if kind == "attachment" else None,
            )
            replies = conversation.handle(message)
            assert replies, f"no answer to {kind} {value!r}"
            assert all(reply.text.strip() for reply in replies)
            assert texts.INTERNAL_ERROR not in [reply.text for reply in replies], f"{kind} {value!r}"
    # Whatever was sent, a known user who never asked to be forgotten is still fully there.
    if not any(value.startswith("/oublier") for _, value in inputs):
        assert _find(session_factory, "fuzz-known") == "Samira"


def _find(session_factory: sessionmaker[Session], external_id: str) -> str | None:
    with session_factory() as session:
        user = session.scalars(select(User).where(User.external_id == external_id)).one_or_none()
        return None if user is None else user.first_name or ""
