from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import FEATURES
from bot.core.feature import Features
from bot.core.messages import Button
from bot.core.payloads import GO, MAX_PAYLOAD_BYTES, ButtonKind, Codec, Payload, checked_index
from bot.faq.loader import MAX_ID_CHARS
from bot.features.faq import ENTRY
from bot.features.onboarding import FILIERE

CODEC = Features(FEATURES).codec


def test_round_trip() -> None:
    assert CODEC.parse(ENTRY.pack("wifi-connexion")) == Payload(ENTRY, "wifi-connexion")
    assert CODEC.parse("go:menu") == Payload(GO, "menu")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "go",
        "go:",
        "go:Menu",
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
    assert CODEC.parse(raw) is None


def test_every_valid_faq_id_fits_in_a_payload() -> None:
    longest = "a" * MAX_ID_CHARS
    assert CODEC.parse(ENTRY.pack(longest)) == Payload(ENTRY, longest)


def test_checked_index_checks_the_name() -> None:
    argument = checked_index(3, "Horticulture")
    assert CODEC.parse(FILIERE.pack(argument)) == Payload(FILIERE, argument)
    assert checked_index(3, "Horticulture") != checked_index(3, "Nettoyage")


def test_pack_refuses_what_would_not_come_back() -> None:
    with pytest.raises(ValueError):
        ENTRY.pack("x" * 64)
    with pytest.raises(ValueError):
        GO.pack("no-where")
    with pytest.raises(ValueError):
        Button("x" * (MAX_PAYLOAD_BYTES + 1), "title")


@given(st.text(max_size=100))
def test_parse_never_raises(raw: str) -> None:
    payload = CODEC.parse(raw)
    if payload is not None:
        assert payload.kind.pack(payload.argument) == raw


def test_two_kinds_cannot_share_a_prefix() -> None:
    with pytest.raises(ValueError, match="prefix 'faq'"):
        Codec([ENTRY, ButtonKind("faq", "x")])
