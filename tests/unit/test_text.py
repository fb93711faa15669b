from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.common.text import MAX_TEXT_CHARS, clean_text, fold, shorten
from bot.features.intents import Intent, detect_intent, strip_greeting
from bot.features.onboarding import clean_name
from bot.texts import retention_text


def test_clean_text_removes_controls_and_bounds_length() -> None:
    assert clean_text("a\x00b\x1b[0m  c\u200b") == "ab[0m c"
    assert len(clean_text("x" * 50_000)) == MAX_TEXT_CHARS
    assert clean_text("\ud800abc") == "abc"
    assert clean_text(None) == ""


@given(st.text())
def test_clean_text_never_raises(raw: str) -> None:
    cleaned = clean_text(raw)
    assert len(cleaned) <= MAX_TEXT_CHARS
    cleaned.encode("utf-8")


def test_fold_and_shorten() -> None:
    assert fold("Élève  l'ÉCOLE !") == "eleve l ecole"
    assert shorten("Comment connecter l'ordinateur au Wi-Fi ?", 20) == "Comment connecter…"
    assert shorten("Anticonstitutionnellement", 10) == "Anticonst…"
    assert shorten("court", 10) == "court"


def test_names() -> None:
    assert clean_name("samira") == "Samira"
    assert clean_name("MARIE-CLAIRE") == "Marie-Claire"
    assert clean_name("N’Golo") == "N'Golo"
    # Only the first name is kept, as the consent text promises.
    assert clean_name("Samira Benali") == "Samira"
    assert clean_name("je m'appelle samira") == "Samira"
    assert clean_name("Bonjour, moi c'est Karim.") == "Karim"
    assert clean_name("mon prénom est Léa") == "Léa"
    # How trainees introduce themselves, SMS included.
    for said in (
        "moi c samira",
        "c samira",
        "je suis Samira B.",
        "moi cest samira",
        "chui samira",
        "moi samira",
        "jm'appel samira",
        "slt c samira",
        "I'm Samira",
        "ik ben Samira",
    ):
        assert clean_name(said) == "Samira", said
    assert clean_name("je suis perdu") is None
    assert clean_name("je suis en horticulture") is None
    assert clean_name("c pour le wifi") is None
    assert clean_name("bonjour") is None
    assert clean_name("mon ordi ne marche") is None
    assert clean_name("parler à quelqu'un") is None
    assert clean_name("123") is None
    assert clean_name("comment je fais pour le wifi stp") is None
    assert clean_name("") is None


def test_closed_word_intents() -> None:
    assert detect_intent("Bonjour") is Intent.GREETING
    assert detect_intent("slt") is Intent.GREETING
    assert detect_intent("Merciii beaucoup !") is Intent.THANKS
    assert detect_intent("menu") is Intent.MENU
    assert detect_intent("aide") is Intent.HELP
    for lost in ("?", "??", "jsp", "je comprends pas", "j'comprend rien", "je suis perdue", "i'm lost"):
        assert detect_intent(lost) is Intent.HELP, lost
    # What a trainee asks the bot to do is recognised from examples (tests/unit/test_intents.py).
    assert detect_intent("je veux parler à l'assistante sociale") is None
    assert detect_intent("bonjour mon ordi demarre pas") is None


def test_strip_greeting() -> None:
    assert strip_greeting("Bonjour, mon ordi démarre pas") == "mon ordi démarre pas"
    assert strip_greeting("ordi") == "ordi"


def test_retention_text() -> None:
    assert retention_text(365) == "1 an"
    assert retention_text(180) == "6 mois"
    assert retention_text(45) == "45 jours"
