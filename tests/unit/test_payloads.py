from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.messages import Button
from bot.core.payloads import MAX_PAYLOAD_BYTES, Action, Payload, pack, parse


def test_round_trip() -> None:
    assert parse(pack(Action.FAQ, "wifi-connexion")) == Payload(Action.FAQ, "wifi-connexion")
    assert parse("go:menu") == Payload(Action.GO, "menu")


@pytest.mark.parametrize(
    "raw", ["", "go", "go:", "go:nowhere", "nope:menu", "fil:abc", "fil:123", "faq:UPPER", "faq:" + "a" * 70]
)
def test_malformed_payloads_are_refused(raw: str) -> None:
    assert parse(raw) is None


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
        assert payload.pack() == raw
