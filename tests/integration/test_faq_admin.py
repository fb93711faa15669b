"""The admins' side of the FAQ: hot reload, the gaps report, answers in other languages."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import FrozenClock
from bot.core.conversation import Conversation
from bot.core.turn import Services
from bot.features.faq import FaqService
from bot.features.faq_watch import FaqWatcher
from bot.features.gaps import find_gaps
from bot.storage.db import unit_of_work
from bot.storage.models import FaqMiss, Role
from bot.storage.staff import add_staff
from tests.dialogue import Chat
from tests.integration.test_cli import run
from tests.integration.test_onboarding import onboarded

WIFI = "- id: wifi\n  question: Comment avoir le wifi ?\n  answer: Cliquez sur l'icône du Wi-Fi.\n"
CV = "- id: cv\n  question: Comment faire un CV ?\n  answer: Venez au module CV.\n"


def wait_until(condition: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def test_edits_are_picked_up_and_a_broken_edit_keeps_the_last_good_faq(
    tmp_path: Path, session_factory: sessionmaker[Session], conversation: Conversation, clock: FrozenClock
) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text(WIFI, encoding="utf-8")
    service = FaqService(faq_dir)
    watcher = FaqWatcher(service, interval_seconds=0.05)
    watcher.start()
    try:
        (faq_dir / "a.yaml").write_text(WIFI + CV, encoding="utf-8")
        assert wait_until(lambda: service.base.get("cv") is not None), "edit not picked up"

        (faq_dir / "a.yaml").write_text(WIFI + CV + "- id: broken\n  question: [oops\n", encoding="utf-8")
        assert wait_until(lambda: service.last_error is not None), "broken edit not noticed"
        assert service.base.get("cv") is not None, "the last valid FAQ must stay in use"

        # The admin is told once, at the next message; trainees are not.
        with unit_of_work(session_factory) as session:
            add_staff(session, "console", "boss", "Nadia", Role.ADMIN, clock.now())
        live = Conversation(session_factory, Services(conversation.services.settings, service, clock))
        admin = Chat(live, "boss")
        admin.send("/aide")
        admin.expect("Les fichiers FAQ modifiés ont des erreurs", "a.yaml:9: erreur de syntaxe YAML")
        admin.send("/aide")
        assert "ont des erreurs" not in admin.text
        trainee = onboarded(live, "samira")
        assert all("ont des erreurs" not in line for line in trainee.transcript)

        (faq_dir / "a.yaml").write_text(CV, encoding="utf-8")
        assert wait_until(lambda: service.base.get("wifi") is None and service.last_error is None)
    finally:
        watcher.stop()


def test_unanswered_questions_feed_the_gaps_report(
    conversation: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    samira = onboarded(conversation, "samira")
    karim = onboarded(conversation, "karim", name="Karim")
    samira.send("comment imprimer mon attestation de chomage")
    samira.expect("Je n'ai pas compris")
    karim.send("imprimer attestation chômage ??")
    samira.send("cv")
    samira.expect("C'est une de ces questions ?")
    samira.press("Comment faire mon CV ?")  # a used suggestion is not a gap
    karim.send("cv")  # suggestions left unused: a gap
    karim.send("/menu")
    # Staff testing the bot and people who declined leave nothing.
    anonymous = Chat(conversation, "anon")
    anonymous.send("imprimer attestation chomage")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(FaqMiss)) == 4
        gaps = find_gaps(session, clock.now(), days=30)
    assert [gap.count for gap in gaps] == [2, 1]
    assert gaps[0].fallbacks == 2
    assert "comment imprimer mon attestation de chomage" in gaps[0].examples
    assert gaps[1].suggested["creer-cv"] == 1

    samira.send("/mesdonnees")
    samira.expect("Question non comprise, le : 24/11/2026 ; Texte : « comment imprimer mon attestation")

    clock.advance(timedelta(days=91))
    conversation.purge_expired_data()
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(FaqMiss)) == 0


def test_answers_in_the_language_of_the_message(conversation: Conversation) -> None:
    chat = onboarded(conversation, "tom")
    chat.script("""
        > my wifi is not working, how do I connect?
        < Click the Wi-Fi icon
        > mijn wifi werkt niet, hoe kan ik verbinden?
        < Klik op het wifi-icoon
        > le wifi marche pas
        < Cliquez sur l'icône du Wi-Fi
    """)
    anonymous = Chat(conversation, "visitor")
    anonymous.send("the wifi does not work on my computer")
    anonymous.expect("Click the Wi-Fi icon")


def test_answers_in_the_chosen_language(conversation: Conversation) -> None:
    chat = onboarded(conversation, "anna")
    chat.script("""
        > /langue
        < En quelle langue
        [Français] [Nederlands] [English]
        > Nederlands
        < Genoteerd
        > wifi werkt niet
        < Klik op het wifi-icoon
        > cv pdf
        < Dans Word, cliquez sur Fichier
        > /mesdonnees
        < Langue des réponses : néerlandais
        > /langue
        > Français
        > le wifi marche pas
        < Cliquez sur l'icône du Wi-Fi
    """)


def test_faq_match_cli_needs_no_database(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text(WIFI + CV, encoding="utf-8")
    queries = "le wifi marche pa\nbonjour\nquel temps fait-il\n\nje veux parler à quelqu'un\n"
    result = run(
        ["faq", "match", "--faq-dir", str(faq_dir)],
        tmp_path,
        stdin=queries,
        DATABASE_URL="sqlite:////nonexistent/dir/never.sqlite3",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["query"] for line in lines] == queries.splitlines()
    assert lines[0] == {
        "query": "le wifi marche pa",
        "decision": "answer",
        "id": "wifi",
        "suggestions": [],
        "intent": None,
        "score": lines[0]["score"],
    }
    assert 0 < lines[0]["score"] <= 1
    assert lines[1]["decision"] == "intent" and lines[1]["intent"] == "greeting"
    assert lines[2]["decision"] == "fallback" and lines[2]["id"] is None
    assert lines[3]["decision"] == "fallback"
    assert lines[4]["intent"] == "person"


def test_faq_gaps_cli(tmp_path: Path) -> None:
    questions = "comment renouveler mon abonnement à la piscine\nabonnement piscine renouveler\n"
    script = "/start\n1\nSamira\n2\n" + questions
    assert run(["chat", "--user", "samira"], tmp_path, stdin=script).returncode == 0
    result = run(["faq", "gaps", "--since", "7"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 question(s) sans bonne réponse depuis 7 jours, en 1 groupe :" in result.stdout
    assert "« comment renouveler mon abonnement à la piscine »" in result.stdout, result.stdout
    as_json = json.loads(run(["faq", "gaps", "--json"], tmp_path).stdout)
    assert as_json[0]["count"] == 2
