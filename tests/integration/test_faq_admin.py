"""The admins' side of the FAQ: hot reload, the gaps report, answers in other languages."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.core.conversation import Conversation
from bot.faq import FaqError
from bot.features.faq import FaqService
from bot.features.faq_watch import FaqWatcher
from bot.features.gaps import find_gaps
from bot.storage.db import unit_of_work
from bot.storage.models import FaqMiss, Role, User
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
        # (A look during the write may see a half-written file first: wait for the broken one.)
        assert wait_until(lambda: service.kept_old_files == ("a.yaml",)), "broken edit not noticed"
        assert service.base.get("cv") is not None, "the last valid FAQ must stay in use"

        # The admin is told once, at the next message; trainees are not.
        with unit_of_work(session_factory) as session:
            add_staff(session, "console", "boss", "Nadia", Role.ADMIN, clock.now())
        live = build_conversation(
            session_factory, build_services(conversation.services.settings, service, clock)
        )
        admin = Chat(live, "boss")
        admin.send("/aide")
        admin.expect(
            "Fichier FAQ à corriger : a.yaml. Le bot garde l'ancienne version de : a.yaml.",
            "a.yaml:8: erreur de syntaxe YAML : crochet « [ » jamais fermé",
        )
        admin.send("/aide")
        assert "à corriger" not in admin.text
        trainee = onboarded(live, "samira")
        assert all("à corriger" not in line for line in trainee.transcript)

        (faq_dir / "a.yaml").write_text(CV, encoding="utf-8")
        assert wait_until(lambda: service.base.get("wifi") is None and service.last_error is None)
    finally:
        watcher.stop()


def test_kept_questions_hide_numbers_and_addresses_and_need_the_new_consent(
    conversation: Conversation, session_factory: sessionmaker[Session]
) -> None:
    samira = onboarded(conversation, "samira")
    samira.send("appelez moi au 0470 12 34 56 ou samira.b@gmail.com pour la piscine")
    old = onboarded(conversation, "old", name="Karim")
    with unit_of_work(session_factory) as session:
        user = session.scalars(select(User).where(User.external_id == "old")).one()
        user.consent_version = 1  # consented before questions were kept
    old.send("abonnement piscine renouveler")
    with session_factory() as session:
        kept = session.scalars(select(FaqMiss.question)).all()
    assert kept == ["appelez moi au [numéro] ou [e-mail] pour la piscine"]


def test_gaps_do_not_merge_questions_that_only_share_one_word(
    conversation: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    chat = onboarded(conversation, "samira")
    for question in (
        "piscine",
        "horaire de la piscine communale",
        "carte piscine perdue",
        "carte de piscine perdue svp",
    ):
        chat.send(question)
        chat.send("/menu")
    with session_factory() as session:
        gaps = find_gaps(session, clock.now(), days=30)
    groups = sorted(sorted(gap.examples) for gap in gaps)
    expected = [
        ["carte de piscine perdue svp", "carte piscine perdue"],
        ["horaire de la piscine communale"],
        ["piscine"],
    ]
    assert groups == expected


def test_a_restart_after_a_broken_edit_starts_from_the_last_valid_copy(tmp_path: Path) -> None:
    faq_dir, copy_dir = tmp_path / "faq", tmp_path / "state" / "faq-valide"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text(WIFI + CV, encoding="utf-8")
    (faq_dir / "lexique").mkdir()
    (faq_dir / "lexique" / "belge.yaml").write_text("replacements:\n  natel: telephone\n", encoding="utf-8")
    FaqService(faq_dir, last_valid_dir=copy_dir)
    assert (copy_dir / "a.yaml").exists() and (copy_dir / "lexique" / "belge.yaml").exists()

    (faq_dir / "a.yaml").write_text("- id: broken\n  question: [oops\n", encoding="utf-8")
    restarted = FaqService(faq_dir, last_valid_dir=copy_dir)
    assert restarted.base.get("cv") is not None
    assert restarted.last_error is not None and "a.yaml" in str(restarted.last_error)
    assert restarted.error_notice_for(1) is not None
    # The broken files were not copied over the valid ones.
    assert "Comment faire un CV" in (copy_dir / "a.yaml").read_text(encoding="utf-8")


def test_first_start_on_a_broken_faq_refuses_to_start(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text("- id: broken\n  question: [oops\n", encoding="utf-8")
    with pytest.raises(FaqError):
        FaqService(faq_dir, last_valid_dir=tmp_path / "state" / "faq-valide")


def test_watcher_waits_for_the_file_to_settle_and_notices_undo(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text(WIFI, encoding="utf-8")
    service = FaqService(faq_dir)
    watcher = FaqWatcher(service, interval_seconds=60)  # driven by hand: check_once is one look
    (faq_dir / "a.yaml").write_text(WIFI + CV, encoding="utf-8")
    assert not watcher.check_once(), "a change is loaded only once it stayed the same for one look"
    assert watcher.check_once() and service.base.get("cv") is not None

    (faq_dir / "a.yaml").write_text(WIFI + "- id: cv\n  question: [", encoding="utf-8")  # half-written
    assert not watcher.check_once()
    (faq_dir / "a.yaml").write_text(WIFI + CV, encoding="utf-8")  # the save completes: same as in use
    assert not watcher.check_once()
    assert service.last_error is None and service.base.get("cv") is not None

    (faq_dir / "a.yaml").write_text("- id: x\n  question: [", encoding="utf-8")
    watcher.check_once()
    assert watcher.check_once() and service.last_error is not None
    assert not watcher.check_once(), "the same broken files are not reloaded again and again"
    (faq_dir / "a.yaml").write_text(WIFI + CV, encoding="utf-8")  # undone
    # The broken file was served in its last valid version: the undo is an edit, loaded once settled.
    watcher.check_once()
    assert watcher.check_once() and service.last_error is None


def test_lexicon_edits_are_reloaded(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text(
        "- id: gsm\n  question: Mon téléphone ne charge plus\n  answer: Changez le câble.\n"
        "- id: cv\n  question: Comment faire un CV ?\n  answer: Venez au module CV.\n",
        encoding="utf-8",
    )
    service = FaqService(faq_dir)
    watcher = FaqWatcher(service, interval_seconds=60)
    before = service.match("mon zorglophone charge plus")
    (faq_dir / "lexique").mkdir()
    (faq_dir / "lexique" / "local.yaml").write_text(
        "synonyms:\n  - [telephone, zorglophone]\n", encoding="utf-8"
    )
    watcher.check_once()
    assert watcher.check_once()
    after = service.match("mon zorglophone charge plus")
    assert after.entry is not None and after.entry.id == "gsm"
    assert before.confidence < after.confidence


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
    karim.send("???")  # nothing to learn from
    # Staff testing the bot and people who declined leave nothing.
    with unit_of_work(session_factory) as session:
        add_staff(session, "console", "boss", "Nadia", Role.ADMIN, clock.now())
    Chat(conversation, "boss").send("imprimer attestation chomage")
    anonymous = Chat(conversation, "anon")
    anonymous.send("imprimer attestation chomage")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(FaqMiss)) == 3
        gaps = find_gaps(session, clock.now(), days=30)
    assert [gap.count for gap in gaps] == [2, 1]
    assert gaps[0].fallbacks == 2
    assert "comment imprimer mon attestation de chomage" in gaps[0].examples
    assert gaps[1].suggested["creer-cv"] == 1

    samira.send("/mesdonnees")
    samira.expect("1 question que je n'ai pas comprise", "Question non comprise, le : 24/11/2026")
    assert "Texte : « comment imprimer mon attestation" in samira.document

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


def test_a_pressed_button_keeps_the_language_of_the_question(conversation: Conversation) -> None:
    chat = onboarded(conversation, "tom")
    chat.script("""
        > how do I connect to the wifi network on my laptop please
        < Click the Wi-Fi icon
        > Mot de passe e-mail
        < Sur la page de connexion
        > [faq:wifi-connexion]
        < Click the Wi-Fi icon
    """)


def test_answers_in_the_chosen_language(conversation: Conversation) -> None:
    chat = onboarded(conversation, "anna")
    chat.script("""
        > /langue
        < En quelle langue
        [Français] [Nederlands] [English] [Parler à quelqu'un] [Menu]
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


def test_faq_match_cli_survives_bad_bytes_and_bad_settings(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import FIXTURE_FAQ

    result = subprocess.run(
        [sys.executable, "-m", "bot", "faq", "match", "--faq-dir", str(FIXTURE_FAQ)],
        input=b"wifi\n\xff\xfe casse\nmon ordi\n",
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "DATA_RETENTION_DAYS": "10"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [line["decision"] for line in lines] == ["answer", "fallback", "suggest"]
    assert lines[2]["suggestions"] and lines[2]["id"] is None and lines[2]["intent"] is None
    check = run(["faq", "check", "--faq-dir", str(FIXTURE_FAQ)], tmp_path, DATA_RETENTION_DAYS="10")
    assert check.returncode == 0, check.stderr


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


def test_one_broken_file_keeps_its_last_valid_version_and_the_others_are_served(tmp_path: Path) -> None:
    faq_dir, copy_dir = tmp_path / "faq", tmp_path / "state" / "faq-valide"
    faq_dir.mkdir()
    (faq_dir / "laptop.yaml").write_text(WIFI, encoding="utf-8")
    service = FaqService(faq_dir, last_valid_dir=copy_dir)
    # One admin breaks laptop.yaml; another writes a valid new file beside it.
    (faq_dir / "laptop.yaml").write_text(WIFI + "- id: broken\n  question: [oops\n", encoding="utf-8")
    (faq_dir / "emploi.yaml").write_text(CV, encoding="utf-8")
    assert service.reload() == 2
    assert service.base.get("cv") is not None and service.base.get("wifi") is not None
    assert service.kept_old_files == ("laptop.yaml",)
    notice = service.error_notice_for(1)
    assert notice is not None
    assert notice.startswith(
        "⚠️ Fichier FAQ à corriger : laptop.yaml. Le bot garde l'ancienne version de : laptop.yaml. "
        "Les autres modifications sont en service."
    )
    # The copy kept for a restart is the combination served: the new file, the old laptop.yaml.
    assert (copy_dir / "emploi.yaml").exists()
    assert "oops" not in (copy_dir / "laptop.yaml").read_text(encoding="utf-8")
    # A restart on the same files serves the same combination.
    restarted = FaqService(faq_dir, last_valid_dir=copy_dir)
    assert restarted.base.get("cv") is not None and restarted.base.get("wifi") is not None
    assert restarted.kept_old_files == ("laptop.yaml",) and restarted.last_error is not None
    # Repaired: everything as edited, no error left.
    (faq_dir / "laptop.yaml").write_text(WIFI, encoding="utf-8")
    service.reload()
    assert service.kept_old_files == () and service.last_error is None


def test_a_new_broken_file_is_left_out_and_the_others_are_served(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text(WIFI, encoding="utf-8")
    service = FaqService(faq_dir)
    (faq_dir / "a.yaml").write_text(WIFI + CV, encoding="utf-8")
    (faq_dir / "nouveau.yaml").write_text("- id: x\n  question: Quoi ?\n", encoding="utf-8")  # no answer
    assert service.reload() == 2
    assert service.base.get("cv") is not None and service.base.get("x") is None
    assert service.kept_old_files == () and service.left_out_files == ("nouveau.yaml",)
    assert service.last_error is not None
    notice = service.problem_notice(service.last_error)
    assert "Pas encore en service : nouveau.yaml." in notice and "ancienne version" not in notice


def test_a_broken_lexicon_file_keeps_its_last_valid_version(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    (faq_dir / "lexique").mkdir(parents=True)
    (faq_dir / "a.yaml").write_text(
        "- id: gsm\n  question: Mon téléphone ne charge plus\n  answer: Changez le câble.\n" + CV,
        encoding="utf-8",
    )
    (faq_dir / "lexique" / "local.yaml").write_text(
        "synonyms:\n  - [telephone, zorglophone]\n", encoding="utf-8"
    )
    service = FaqService(faq_dir)
    (faq_dir / "lexique" / "local.yaml").write_text("synonyms: [[[\n", encoding="utf-8")
    (faq_dir / "a.yaml").write_text(
        "- id: gsm\n  question: Mon téléphone ne charge plus\n  answer: Changez le câble.\n" + CV + WIFI,
        encoding="utf-8",
    )
    service.reload()
    assert service.base.get("wifi") is not None, "the valid FAQ edit is served"
    assert service.kept_old_files == ("lexique/local.yaml",)
    result = service.match("mon zorglophone charge plus")
    assert result.entry is not None and result.entry.id == "gsm", "the old lexicon file still applies"


def test_old_versions_that_clash_with_the_new_files_keep_the_whole_previous_faq(tmp_path: Path) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text(WIFI + CV, encoding="utf-8")
    service = FaqService(faq_dir)
    # cv moves to b.yaml while a.yaml breaks: its old version still holds cv, twice with b.yaml.
    (faq_dir / "a.yaml").write_text(WIFI + "- id: broken\n  question: [oops\n", encoding="utf-8")
    (faq_dir / "b.yaml").write_text(CV.replace("Venez", "Passez"), encoding="utf-8")
    with pytest.raises(FaqError):
        service.reload()
    assert len(service.base) == 2 and service.kept_old_files == ()
    entry = service.base.get("cv")
    assert entry is not None and "Venez" in entry.answer
