"""Languages that keep their promise: /langue offers FAQ_LANGUAGES, and faq check says what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.features.faq import FaqService
from bot.features.language import LANGUAGE
from tests.conftest import SHIPPED_FAQ
from tests.dialogue import Chat
from tests.integration.test_cli import run
from tests.integration.test_onboarding import onboarded
from tests.unit.test_faq_loader import PARTLY_TRANSLATED


def conversation_with(
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    faq_languages: str,
    faq_dir: Path | None = None,
) -> Conversation:
    configured = settings.model_copy(update={"faq_languages": faq_languages})
    faq = FaqService(faq_dir or settings.faq_dir)
    return build_conversation(session_factory, build_services(configured, faq, clock))


def test_langue_offers_the_configured_languages(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    chat = onboarded(conversation_with(session_factory, settings, clock, "fr,en"), "tom")
    chat.script("""
        > /langue
        < En quelle langue voulez-vous les réponses ? / In which language?
        [Français] [English] [Parler à quelqu'un] [Menu]
        > English
        < Noted: answers will come in English
        > wifi marche pas
        < Click the Wi-Fi icon
    """)
    assert "welke taal" not in chat.text


def test_the_default_offers_french_dutch_and_english(conversation: Conversation) -> None:
    chat = onboarded(conversation, "anna")
    chat.script("""
        > /langue
        < En quelle langue voulez-vous les réponses ? / In welke taal? / In which language?
        [Français] [Nederlands] [English] [Parler à quelqu'un] [Menu]
    """)


def test_with_french_only_there_is_nothing_to_choose(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    chat = onboarded(conversation_with(session_factory, settings, clock, "fr"), "tom")
    chat.script("""
        > /langue
        < Ici, les réponses sont en français.
        [Parler à quelqu'un] [Menu]
        > the wifi does not work on my computer
        < Cliquez sur l'icône du Wi-Fi
    """)


def test_a_language_no_longer_offered_is_not_kept(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    everything = onboarded(conversation_with(session_factory, settings, clock, "fr,nl,en"), "tom")
    everything.script("""
        > /langue
        > English
        > wifi marche pas
        < Click the Wi-Fi icon
    """)
    # The admins keep Dutch only: the English choice and a button sent before no longer count.
    chat = Chat(conversation_with(session_factory, settings, clock, "fr,nl"), "tom")
    chat.script(f"""
        > wifi marche pas
        < Cliquez sur l'icône du Wi-Fi
        > [{LANGUAGE.pack("en")}]
        < Cette langue n'est plus proposée.
        < In welke taal?
        [Français] [Nederlands] [Parler à quelqu'un] [Menu]
    """)


@pytest.mark.parametrize(
    ("language", "answer"),
    [
        ("English", "Plug in the charger and wait 10 minutes: the battery may be empty."),
        ("Nederlands", "Sluit de lader aan en wacht 10 minuten: de batterij is misschien leeg."),
    ],
)
def test_a_trainee_who_chose_a_language_gets_the_shipped_answer_in_it(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock, language: str, answer: str
) -> None:
    conversation = conversation_with(session_factory, settings, clock, "fr,nl,en", faq_dir=SHIPPED_FAQ)
    chat = onboarded(conversation, "samira")
    # Words-only matching does not find this entry from "my laptop does not turn on": the trainee
    # asks in French, as many do, and reads the answer in the language chosen.
    chat.script(f"""
        > /langue
        > {language}
        > mon ordi ne s'allume pas
        < {answer}
    """)
    assert "Branchez le chargeur" not in chat.text


@pytest.mark.parametrize("value", ["nl,en", "en,fr", "fr,de", "fr,en,EN", "", " , "])
def test_invalid_faq_languages_are_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="FAQ_LANGUAGES"):
        Settings.model_validate({"faq_languages": value})


def test_faq_languages_are_read_leniently() -> None:
    assert Settings(_env_file=None).faq_language_codes == ["fr", "nl", "en"]
    settings = Settings.model_validate({"faq_languages": " FR , en "})
    assert settings.faq_languages == "fr,en"
    assert settings.faq_language_codes == ["fr", "en"]


def test_faq_check_warns_about_a_missing_language(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "emploi.yaml").write_text(PARTLY_TRANSLATED, encoding="utf-8")
    result = run(["faq", "check", "--faq-dir", str(faq_dir)], tmp_path)
    # A warning: the FAQ is valid and loads, the French answer is shown meanwhile.
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "attention : emploi.yaml:8: entrée 'cv-creer': pas de réponse en anglais (answer_en), alors que "
        "/langue propose l'anglais : la réponse en français est montrée à la place",
        f"OK : {faq_dir} (1 fiche(s) à compléter, voir ci-dessus)",
    ]

    # Through FAQ_DIR, with the settings of the running bot.
    from_settings = run(["faq", "check"], tmp_path, FAQ_DIR=str(faq_dir), FAQ_LANGUAGES="fr,en")
    assert from_settings.returncode == 0 and "cv-creer" in from_settings.stdout

    for offered in ("fr", "fr,nl"):
        quiet = run(["faq", "check", "--faq-dir", str(faq_dir)], tmp_path, FAQ_LANGUAGES=offered)
        assert quiet.returncode == 0
        assert quiet.stdout.splitlines() == [f"OK : {faq_dir}"], offered


def test_faq_check_still_fails_on_errors_and_shows_the_warnings_too(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "emploi.yaml").write_text(
        PARTLY_TRANSLATED + "- id: vide\n  question: Q ?\n", encoding="utf-8"
    )
    result = run(["faq", "check", "--faq-dir", str(faq_dir)], tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("emploi.yaml:12: entrée 'vide': champ 'answer' manquant")
    assert lines[1].startswith("attention : emploi.yaml:8: entrée 'cv-creer'")
    assert not any(line.startswith("OK") for line in lines)


def test_faq_check_refuses_an_unknown_language(tmp_path: Path) -> None:
    result = run(["faq", "check"], tmp_path, FAQ_LANGUAGES="fr,de")
    assert result.returncode == 1
    assert "FAQ_LANGUAGES" in result.stderr and "de" in result.stderr


@pytest.mark.parametrize(
    ("faq_languages", "line"),
    [
        ("fr,nl,en", "/langue : réponses en néerlandais ou en anglais"),
        ("fr,en", "/langue : réponses en anglais"),
        ("fr", None),
    ],
)
def test_help_lists_langue_with_the_languages_offered(
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    faq_languages: str,
    line: str | None,
) -> None:
    chat = onboarded(conversation_with(session_factory, settings, clock, faq_languages), "tom")
    chat.send("/aide")
    help_lines = chat.text.splitlines()
    assert "/mesdonnees : ce que je garde sur vous" in help_lines
    if line is None:
        assert not any("/langue" in text for text in help_lines)
    else:
        assert line in help_lines
