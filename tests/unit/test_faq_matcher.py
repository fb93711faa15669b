from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.faq import FaqBase, FaqEntry, FaqMatcher, MatchResult, Outcome, load_faq

FAQ_YAML = """\
- id: wifi-centre
  question: "Comment me connecter au Wi-Fi du centre ?"
  alternatives:
    - "Quel est le mot de passe du Wi-Fi ?"
  keywords: [Wi-Fi, mot de passe, réseau]
  answer: "Le mot de passe est affiché à l'accueil."

- id: batterie-ordinateur
  question: "Comment faire durer la batterie de l'ordinateur plus longtemps ?"
  alternatives:
    - "La batterie de mon ordinateur portable se vide trop vite."
  keywords: [batterie, autonomie]
  answer: "Activez l'économiseur de batterie."

- id: ecran-noir
  question: "L'écran de mon ordinateur reste noir, que faire ?"
  alternatives:
    - "Mon ordinateur ne veut plus s'allumer."
  keywords: [écran noir, allumer]
  answer: "Branchez le chargeur et appuyez 10 secondes sur le bouton."

- id: cv-photo
  question: "Faut-il mettre une photo sur mon CV ?"
  alternatives:
    - "Quelle photo choisir pour mon curriculum vitae ?"
  keywords: [photo, CV]
  answer: "Ce n'est pas obligatoire."

- id: cv-modele
  question: "Où trouver un modèle de CV ?"
  alternatives:
    - "Comment faire mon CV sur l'ordinateur ?"
  keywords: [modèle, CV]
  answer: "Demandez les modèles au formateur."

- id: cv-imprimer
  question: "Comment imprimer mon CV au centre ?"
  alternatives:
    - "Où est l'imprimante du cybercafé ?"
  keywords: [imprimer, imprimante, CV]
  answer: "L'imprimante est au cybercafé."

- id: gsm-sonnerie
  question: "Comment mettre mon téléphone en silencieux pendant la formation ?"
  alternatives:
    - "Comment couper la sonnerie de mon GSM ?"
  keywords: [silencieux, sonnerie]
  answer: "Appuyez sur le bouton du volume."

- id: mail-piece-jointe
  question: "Comment envoyer un document en pièce jointe par e-mail ?"
  alternatives:
    - "Comment joindre un fichier à un courriel ?"
  keywords: [pièce jointe, e-mail]
  answer: "Cliquez sur le trombone."
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> FaqBase:
    directory = tmp_path_factory.mktemp("faq")
    (directory / "general.yaml").write_text(FAQ_YAML, encoding="utf-8")
    return load_faq(directory)


@pytest.fixture(scope="module")
def matcher(base: FaqBase) -> FaqMatcher:
    return FaqMatcher(base)


def assert_valid(result: MatchResult) -> None:
    assert isinstance(result.outcome, Outcome)
    assert 0.0 <= result.confidence <= 1.0
    if result.outcome is Outcome.ANSWER:
        assert isinstance(result.entry, FaqEntry)
        assert result.suggestions == ()
    elif result.outcome is Outcome.SUGGEST:
        assert result.entry is None
        assert 1 <= len(result.suggestions) <= 3
        assert len({entry.id for entry in result.suggestions}) == len(result.suggestions)
    else:
        assert result.entry is None
        assert result.suggestions == ()


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?!...", "😀😀"])
def test_empty_or_contentless_text_falls_back(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result == MatchResult(Outcome.FALLBACK, None, (), 0.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Comment me connecter au Wi-Fi du centre ?", "wifi-centre"),
        ("c koi le mdp du wifi stp", "wifi-centre"),
        ("wifi paswoord", "wifi-centre"),
        ("wat is het wachtwoord van de wifi", "wifi-centre"),
        ("ma baterie de lordi se vide tro vite", "batterie-ordinateur"),
        ("battery of my laptop is empty too fast", "batterie-ordinateur"),
        ("ECRAN NOIR !!!", "ecran-noir"),
        ("jarrive pa a allumer mon pc", "ecran-noir"),
        ("faut une foto sur le cv ?", "cv-photo"),
        ("mettre mon gsm en silencieux", "gsm-sonnerie"),
        ("comment joindre un fichier a un mail", "mail-piece-jointe"),
    ],
)
def test_answers_clear_questions(matcher: FaqMatcher, text: str, expected: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert result.outcome is Outcome.ANSWER, matcher.candidates(text)
    assert result.entry is not None and result.entry.id == expected


def test_generic_word_in_several_entries_suggests(matcher: FaqMatcher) -> None:
    result = matcher.match("cv")
    assert_valid(result)
    assert result.outcome is Outcome.SUGGEST
    assert {entry.id for entry in result.suggestions} == {"cv-photo", "cv-modele", "cv-imprimer"}


@pytest.mark.parametrize("text", ["ordi", "mon ordinateur", "pc"])
def test_short_generic_message_is_never_answered(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert result.outcome is not Outcome.ANSWER


@pytest.mark.parametrize(
    "text",
    [
        "quel temps fera-t-il demain à Namur",
        "j'ai mal au dos",
        "combien coûte un ticket de bus",
    ],
)
def test_out_of_scope_falls_back(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert result.outcome is Outcome.FALLBACK, matcher.candidates(text)


@pytest.mark.parametrize(
    "text",
    [
        "comment changer le fond d'écran de mon ordinateur",
        "comment faire une lettre de motivation",
        "je peux charger mon gsm avec le chargeur de l'ordi",
        "comment trouver un appartement pas cher",
    ],
)
def test_near_misses_are_not_answered(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert result.outcome is not Outcome.ANSWER, matcher.candidates(text)


def test_candidates_are_sorted_and_limited(matcher: FaqMatcher) -> None:
    found = matcher.candidates("photo cv modele", limit=2)
    assert len(found) == 2
    assert found[0][1] >= found[1][1]
    assert all(0.0 <= confidence <= 1.0 for _, confidence in found)
    assert matcher.candidates("cv", limit=0) == []
    assert matcher.candidates("") == []


def test_single_entry_base(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        '- id: wifi\n  question: "Quel est le mot de passe du wifi ?"\n  answer: "À l\'accueil."\n',
        encoding="utf-8",
    )
    matcher = FaqMatcher(load_faq(tmp_path))
    assert matcher.match("mdp wifi").outcome is Outcome.ANSWER
    assert matcher.match("recette des boulets").outcome is Outcome.FALLBACK


def test_empty_base_never_raises(tmp_path: Path) -> None:
    matcher = FaqMatcher(FaqBase(entries=(), directory=tmp_path))
    assert matcher.match("wifi").outcome is Outcome.FALLBACK
    assert matcher.candidates("wifi") == []


def test_match_is_fast_even_for_huge_input(matcher: FaqMatcher) -> None:
    texts = ["wifi mdp", "ma baterie de lordi se vide tro vite " * 300, "x" * 10_000, "é" * 10_000]
    for text in texts:
        matcher.match(text)  # warm up
    for text in texts:
        start = time.perf_counter()
        assert_valid(matcher.match(text))
        assert time.perf_counter() - start < 0.05


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_match_never_raises_on_random_text(matcher: FaqMatcher, text: str) -> None:
    assert_valid(matcher.match(text))


WORDS = st.sampled_from(
    [
        "wifi",
        "mdp",
        "cv",
        "photo",
        "ordi",
        "batterie",
        "gsm",
        "le",
        "de",
        "koi",
        "pa",
        "écran",
        "noir",
        "😀",
        "\x00",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=12).map(" ".join))
def test_match_on_random_word_salads_is_valid(matcher: FaqMatcher, text: str) -> None:
    result = matcher.match(text)
    assert_valid(result)
    assert [entry for entry, _ in matcher.candidates(text, limit=3)] == [
        entry for entry, _ in matcher.candidates(text, limit=5)[:3]
    ]


@settings(max_examples=20, deadline=None)
@given(st.text(min_size=1, max_size=20), st.integers(min_value=500, max_value=1000))
def test_match_on_10000_chars(matcher: FaqMatcher, chunk: str, repeat: int) -> None:
    assert_valid(matcher.match((chunk * repeat)[:10_000]))
