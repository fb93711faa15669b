"""Each channel kind declares how it shows a reply; on every kind, no text and no button is ever lost."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels import telegram, whatsapp
from bot.channels.pipeline import ChannelKind, Shown
from bot.core.messages import Button, Reply
from bot.runner import CHANNEL_KINDS

TITLES = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40
).filter(lambda title: title.strip() != "")
REPLIES = st.builds(
    lambda text, titles: Reply(text, tuple(Button(f"b:{n}", title) for n, title in enumerate(titles))),
    st.text(max_size=5000),
    st.lists(TITLES, max_size=14),
)
# What a platform allows in one message: its text, and a choice's title by how choices are shown.
LIMITS = {
    "telegram": (telegram.MAX_TEXT, {"buttons": 10_000}),
    "whatsapp": (whatsapp.MAX_TEXT, {"buttons": whatsapp.MAX_BUTTON_TITLE, "list": whatsapp.MAX_ROW_TITLE}),
}


def test_every_channel_kind_declares_its_rendering() -> None:
    assert {kind.name for kind in CHANNEL_KINDS} == set(LIMITS)


def words(text: str) -> list[str]:
    return text.split()


def check(kind: ChannelKind, reply: Reply, messages: list[Shown]) -> None:
    """Assert the platform's messages hold the whole text and every button, within its limits."""
    text_limit, title_limits = LIMITS[kind.name]
    shown_words = [word for message in messages for word in words(message.text)]
    assert all(word in shown_words for word in words(reply.text)), "a word of the reply was lost"
    choices = [title for message in messages for title in message.choices]
    assert len(choices) == len(reply.buttons), "a button was lost (or shown twice)"
    for message in messages:
        assert len(message.text) <= text_limit
        for title in message.choices:
            if message.style in title_limits:
                assert len(title) <= title_limits[message.style]
    # Buttons come after the text they belong to: on the last message.
    assert all(not message.choices for message in messages[:-1])


@settings(max_examples=150, deadline=None)
@given(REPLIES)
def test_no_text_and_no_button_is_lost(reply: Reply) -> None:
    for kind in CHANNEL_KINDS:
        check(kind, reply, kind.render(reply))


def test_how_whatsapp_shows_few_many_and_too_many_buttons() -> None:
    def styles(count: int) -> list[str]:
        buttons = tuple(Button(f"b:{n}", f"Choix {n}") for n in range(count))
        return [message.style for message in whatsapp.KIND.render(Reply("Que voulez-vous ?", buttons))]

    assert styles(0) == [""]
    assert styles(3) == ["buttons"]
    assert styles(4) == ["list"]
    assert styles(11) == ["numbers"]


def test_telegram_shows_the_buttons_under_the_last_piece_of_a_long_text() -> None:
    reply = Reply("mot " * 3000, (Button("go:menu", "Menu"),))
    messages = telegram.KIND.render(reply)
    assert len(messages) >= 3
    assert [message.choices for message in messages][-1] == ("Menu",)
