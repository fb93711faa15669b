from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.faq import normalize, tokens
from bot.faq.normalize import MAX_INPUT_CHARS, lexicon, stem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Où est l'ÉCRAN ?", "ou est l ecran"),
        ("jarrive pa a ouvrir l’ordi", "j arrive pas a ouvrir l ordinateur"),
        ("C koi le MDP ???", "c est quoi le mot de passe"),
        ("nooon plsss", "non s il te plait"),
        ("qu'il vienne jusqu'à l'accueil", "qu il vienne jusqu a l accueil"),
        ("aujourd'hui", "aujourdhui"),
        ("g oublié", "j ai oublie"),
        ("jsais pas", "je sais pas"),
        ("chai pas", "je sais pas"),
        ("jvois rien", "je vois rien"),
        ("pk mon tel", "pourquoi mon telephone"),
        ("lordi", "l ordinateur"),
        ("lécran", "l ecran"),
        ("cœur", "coeur"),
        ("", ""),
        ("   \n\t ", ""),
        ("😀🎉", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_keeps_real_words_that_look_like_glued_articles() -> None:
    assert normalize("le lien du mail") == "le lien du mail"
    assert normalize("un jpeg") == "un jpeg"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon ordinateur portable", ["ordinateur"]),
        ("le PC", ["ordinateur"]),
        ("mon curriculum vitae", ["cv"]),
        ("un courriel", ["email"]),
        ("un e-mail", ["email"]),
        ("le mail", ["email"]),
        ("le mot de passe", ["motdepass"]),
        ("mdp", ["motdepass"]),
        ("password", ["motdepass"]),
        ("wachtwoord", ["motdepass"]),
        ("battery", ["batteri"]),
        ("batterij", ["batteri"]),
        ("Comment faire pour que ça marche ?", []),
    ],
)
def test_tokens_apply_lexicon_and_stop_words(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


@pytest.mark.parametrize("text", ["mon GSM", "mon tel", "mon portable", "smartphone", "mon téléphone"])
def test_phone_synonyms(text: str) -> None:
    assert tokens(text) == tokens("téléphone")


def test_tokens_share_a_stem_across_inflections() -> None:
    assert tokens("télécharger")[0] == tokens("téléchargés")[0] == tokens("téléchargement")[0]
    assert tokens("formatrice") == tokens("formateurs")
    assert tokens("sauvegarder") == tokens("enregistré")


def test_mot_de_passe_does_not_match_passer() -> None:
    assert set(tokens("mot de passe")).isdisjoint(tokens("passer le permis"))


def test_stem_is_light() -> None:
    assert stem("pdf") == "pdf"
    assert stem("batteries") == stem("batterie")
    assert stem("c3") == "c3"


def test_lexicon_is_loaded_once() -> None:
    assert lexicon() is lexicon()
    assert "mdp" in lexicon().replacements


def test_long_input_is_truncated() -> None:
    text = "ordi " * 5000
    assert len(normalize(text)) <= len("ordinateur ") * (MAX_INPUT_CHARS // len("ordi ") + 1)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_and_tokens_never_raise(text: str) -> None:
    normalized = normalize(text)
    assert isinstance(normalized, str)
    assert normalized == normalized.strip()
    assert "  " not in normalized
    words = tokens(text)
    assert all(isinstance(word, str) and word and " " not in word for word in words)


@settings(max_examples=30, deadline=None)
@given(st.text(min_size=1, max_size=50), st.integers(min_value=200, max_value=400))
def test_huge_input(chunk: str, repeat: int) -> None:
    text = (chunk * repeat)[:10_000].ljust(10_000, "x")
    assert len(text) == 10_000
    assert isinstance(normalize(text), str)
    assert isinstance(tokens(text), list)


EMOJI = st.sampled_from(["😀", "🎉", "👍🏽", "❤️", "🇧🇪", "👨‍👩‍👧", "🙏", "\u200d", "\ufe0f"])
CONTROL = st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"])


@given(st.lists(st.one_of(EMOJI, CONTROL)).map("".join))
def test_control_and_emoji_only_input_has_no_tokens(text: str) -> None:
    assert normalize(text) == ""
    assert tokens(text) == []
