"""WhatsApp's forms of a reply, the webhook signature, and what the webhook payloads become."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.whatsapp import (
    MAX_BUTTON_TITLE,
    MAX_ROW_DESCRIPTION,
    MAX_ROW_TITLE,
    render,
    verify_signature,
)
from bot.common.text import shorten
from bot.core.messages import Button, Reply


def buttons(count: int, title: str = "Choix") -> tuple[Button, ...]:
    return tuple(Button(f"go:{number}", f"{title} {number}") for number in range(1, count + 1))


def test_text_only_is_split_at_4096() -> None:
    bodies, numbered = render(Reply("mot " * 2000))
    assert numbered == [] and len(bodies) == 2
    assert all(body["type"] == "text" and len(body["text"]["body"]) <= 4096 for body in bodies)


def test_up_to_three_buttons_are_reply_buttons_with_short_titles() -> None:
    [body], _ = render(
        Reply(
            "Que voulez-vous faire ?",
            (
                Button("go:ask", "Poser une question"),
                Button("go:person", "Parler à quelqu'un de l'équipe sociale"),
            ),
        )
    )
    interactive = body["interactive"]
    assert interactive["type"] == "button" and interactive["body"]["text"] == "Que voulez-vous faire ?"
    titles = [button["reply"]["title"] for button in interactive["action"]["buttons"]]
    assert titles == ["Poser une question", "Parler à quelqu'un…"]
    assert all(len(title) <= MAX_BUTTON_TITLE for title in titles)


def test_four_to_ten_buttons_are_a_list_and_long_titles_keep_their_words() -> None:
    choices = (*buttons(3), Button("faq:x", "Comment récupérer mon mot de passe Gmail oublié ?"))
    [body], numbered = render(Reply("C'est une de ces questions ?", choices))
    assert numbered == []
    interactive = body["interactive"]
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [button.id for button in choices]
    assert all(len(row["title"]) <= MAX_ROW_TITLE for row in rows)
    assert rows[3]["description"].startswith("Comment récupérer mon mot de passe Gmail")
    assert all(len(row.get("description", "")) <= MAX_ROW_DESCRIPTION for row in rows)


def test_more_than_ten_become_numbered_text() -> None:
    bodies, numbered = render(Reply("Quelle est votre formation ?", buttons(12)))
    assert [body["type"] for body in bodies] == ["text"]
    assert "12. Choix 12" in bodies[0]["text"]["body"] and len(numbered) == 12


def test_equal_shortened_titles_are_told_apart() -> None:
    same = (
        Button("a:1", "Rendez-vous mardi 1er décembre"),
        Button("a:2", "Rendez-vous mardi 1er décembre à 10 h"),
    )
    [body], _ = render(Reply("Quand ?", same))
    titles = [button["reply"]["title"] for button in body["interactive"]["action"]["buttons"]]
    assert len(set(titles)) == 2


def test_a_long_text_with_buttons_goes_first_as_text() -> None:
    bodies, _ = render(Reply("x " * 800, buttons(2)))
    assert [body["type"] for body in bodies] == ["text", "interactive"]
    assert bodies[1]["interactive"]["body"]["text"] == "Choisissez :"


@given(st.text(min_size=1, max_size=80))
def test_shorten_never_exceeds_the_limit(title: str) -> None:
    assert len(shorten(title, 20)) <= 20


def test_signature_is_the_hmac_of_the_raw_body() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    good = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert verify_signature(body, good, "secret")
    assert not verify_signature(body + b" ", good, "secret")
    assert not verify_signature(body, good, "other")
    assert not verify_signature(body, None, "secret")
    assert not verify_signature(body, good.removeprefix("sha256="), "secret")
