"""Answers in steps: one short step per message, "Ça marche", the next step, a person, the menu."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.faq import FaqError, check_faq, load_faq
from bot.features.faq import FaqService
from tests.integration.test_onboarding import onboarded

STEPS_FAQ = """\
- id: ecran-noir
  question: "Mon écran reste noir, que faire ?"
  button: "Écran noir"
  keywords: [écran, noir]
  steps:
    - "Appuyez sur la touche « Fn » et sur la touche avec un petit écran, en même temps."
    - "Débranchez le chargeur, puis rebranchez-le."
    - "Gardez le bouton d'allumage enfoncé 15 secondes, puis rallumez."
  steps_en:
    - "Press the « Fn » key and the key with a small screen, together."
    - "Unplug the charger, then plug it in again."
  follow_ups: [wifi-maison]

- id: wifi-maison
  question: "Comment me connecter au Wi-Fi à la maison ?"
  keywords: [wifi, maison]
  answer: "Cliquez sur l'icône du Wi-Fi en bas à droite, puis sur le nom de votre réseau."
"""


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "faq"
    directory.mkdir()
    (directory / "ordinateur.yaml").write_text(STEPS_FAQ, encoding="utf-8")
    return directory


@pytest.fixture
def centre(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock, faq_dir: Path
) -> Conversation:
    return build_conversation(session_factory, build_services(settings, FaqService(faq_dir), clock))


def test_steps_load_with_their_answer_and_translations(faq_dir: Path) -> None:
    entry = load_faq(faq_dir).get("ecran-noir")
    assert entry is not None
    assert len(entry.steps) == 3 and entry.answer.startswith("Appuyez sur la touche")
    assert entry.steps_in("en") == (
        "Press the « Fn » key and the key with a small screen, together.",
        "Unplug the charger, then plug it in again.",
    )
    assert entry.answer_in("en").endswith("plug it in again.")
    assert entry.steps_in("nl") == entry.steps, "no Dutch: the French steps"
    wifi = load_faq(faq_dir).get("wifi-maison")
    assert wifi is not None and wifi.steps_in(None) == (wifi.answer,)


def test_the_trainee_goes_through_the_steps(centre: Conversation) -> None:
    chat = onboarded(centre, "samira")
    chat.script("""
        > mon écran reste noir
        < Étape 1 sur 3 : Appuyez sur la touche « Fn »
        [✅ Ça marche] [➡️ Étape suivante] [Parler à quelqu'un] [Menu]
        > ➡️ Étape suivante
        < Étape 2 sur 3 : Débranchez le chargeur
        [✅ Ça marche] [➡️ Étape suivante] [Parler à quelqu'un] [Menu]
        > ➡️ Étape suivante
        < Étape 3 sur 3 : Gardez le bouton d'allumage
        < Toujours pas ? Une personne de l'équipe peut vous aider.
        [✅ Ça marche] [Parler à quelqu'un] [Menu]
        > ✅ Ça marche
        < Tant mieux ! 🙂 Ceci peut aussi vous aider :
        < Que voulez-vous faire ?
    """)
    assert [button.title for button in chat.last[0].buttons] == ["Comment me connecter au Wi-Fi à la…"]
    for reply in chat.last:
        assert len(reply.text) <= 350


def test_it_worked_at_the_first_step(centre: Conversation) -> None:
    chat = onboarded(centre, "samira")
    chat.send("écran noir")
    chat.press("✅ Ça marche")
    chat.expect("Tant mieux", "Que voulez-vous faire ?")
    assert "Parler à quelqu'un" in [button.title for button in chat.buttons]


def test_a_forged_or_stale_step_is_answered_kindly(centre: Conversation) -> None:
    chat = onboarded(centre, "samira")
    chat.script("""
        > [s:7.ecran-noir]
        < Cette réponse a changé. Je reprends au début.
        < Étape 1 sur 3
        > [s:2.plus-la]
        < Cette question n'existe plus.
        > [s:x.ecran-noir]
        < Ce bouton n'est plus valable
    """)


def test_steps_in_english(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock, faq_dir: Path
) -> None:
    configured = settings.model_copy(update={"faq_languages": "fr,en"})
    chat = onboarded(
        build_conversation(session_factory, build_services(configured, FaqService(faq_dir), clock)), "tom"
    )
    chat.send("/langue")
    chat.press("English")
    chat.send("écran noir")
    chat.expect("Étape 1 sur 2 : Press the « Fn » key")


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ("steps: []", "une liste d'étapes"),
        ('steps: "une seule ligne"', "une liste d'étapes"),
        ('steps:\n    - ""', "chaque étape doit être un texte non vide"),
        ("steps:\n" + "".join(f'    - "étape {n}"\n' for n in range(10)), "10 étapes, au plus 9"),
    ],
)
def test_wrong_steps_are_refused_with_their_line(tmp_path: Path, steps: str, problem: str) -> None:
    (tmp_path / "general.yaml").write_text(
        f'- id: essai\n  question: "Une question ?"\n  {steps}\n', encoding="utf-8"
    )
    with pytest.raises(FaqError) as raised:
        load_faq(tmp_path)
    assert problem in str(raised.value)
    assert "general.yaml:3: entrée 'essai'" in str(raised.value)


def test_faq_check_warns_about_hard_to_read_answers(tmp_path: Path) -> None:
    long_sentence = " ".join(["mot"] * 25) + "."
    (tmp_path / "general.yaml").write_text(
        '- id: longue\n  question: "Une longue réponse ?"\n'
        f'  answer: "{"Une phrase courte. " * 25}"\n'
        '- id: etapes\n  question: "Des étapes longues ?"\n  steps:\n'
        f'    - "{"a" * 210}"\n    - "{long_sentence}"\n',
        encoding="utf-8",
    )
    problems = check_faq(tmp_path)
    assert all(problem.warning for problem in problems)
    lines = [str(problem) for problem in problems]
    assert any("general.yaml:1: entrée 'longue': réponse de 474 caractères" in line for line in lines), lines
    assert any("entrée 'etapes': étape de 210 caractères" in line for line in lines), lines
    assert any("entrée 'etapes': phrase de 25 mots" in line for line in lines), lines
    load_faq(tmp_path)  # warnings never stop the FAQ
