from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.messages import Button
from bot.core.payloads import MAX_PAYLOAD_BYTES, Action, Payload, checked_index, pack, parse
from bot.faq.loader import MAX_ID_CHARS


def test_round_trip() -> None:
    assert parse(pack(Action.FAQ, "wifi-connexion")) == Payload(Action.FAQ, "wifi-connexion")
    assert parse("go:menu") == Payload(Action.GO, "menu")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "go",
        "go:",
        "go:nowhere",
        "nope:menu",
        "fil:abc",
        "fil:123",
        "fil:1",
        "fil:1.zzzz",
        "faq:UPPER",
        "faq:" + "a" * 70,
    ],
)
def test_malformed_payloads_are_refused(raw: str) -> None:
    assert parse(raw) is None


def test_every_valid_faq_id_fits_in_a_payload() -> None:
    longest = "a" * MAX_ID_CHARS
    assert parse(pack(Action.FAQ, longest)) == Payload(Action.FAQ, longest)


def test_checked_index_checks_the_name() -> None:
    argument = checked_index(3, "Horticulture")
    assert parse(pack(Action.FILIERE, argument)) == Payload(Action.FILIERE, argument)
    assert checked_index(3, "Horticulture") != checked_index(3, "Nettoyage")


def test_pack_refuses_what_would_not_come_back() -> None:
    with pytest.raises(ValueError):
        pack(Action.FAQ, "x" * 64)
    with pytest.raises(ValueError):
        pack(Action.GO, "nowhere")
    with pytest.raises(ValueError):
        Button("x" * (MAX_PAYLOAD_BYTES + 1), "title")


@given(st.text(max_size=100))
def test_parse_never_raises(raw: str) -> None:
    payload = parse(raw)
    if payload is not None:
        assert pack(payload.action, payload.argument) == raw


def test_every_button_kind_has_a_step() -> None:
    from bot.core.conversation import BUTTON_STEPS

    assert set(BUTTON_STEPS) | {Action.GO} == set(Action)
