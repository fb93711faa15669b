"""Staff actions exist for staff only; nothing a trainee types or presses reaches them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.core.conversation import Conversation
from bot.features.faq import FaqService
from bot.storage.db import unit_of_work
from bot.storage.models import Role
from bot.storage.staff import add_staff, list_staff, remove_staff
from tests.dialogue import Chat
from tests.integration.test_onboarding import onboarded


def _add_admin(session_factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(session_factory) as session:
        add_staff(session, "console", "boss", "Nadia", Role.ADMIN, clock.now())


def test_staff_can_test_the_matcher(
    conversation: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    _add_admin(session_factory, clock)
    chat = Chat(conversation, "boss")
    chat.script("""
        > /test le wifi marche pa
        < Résultat : answer
        < wifi-connexion
        > /staff
        < Commandes du personnel
        > /stats
        < Stagiaires inscrits : 0 (nouveaux : 0, actifs : 0)
        < FAQ : 8 questions
        > /gaps
        < Aucune question sans réponse depuis 30 jours.
    """)
    trainee = onboarded(conversation, "samira")
    trainee.send("abonnement piscine communale")
    chat.script("""
        > /stats
        < Stagiaires inscrits : 1 (nouveaux : 1, actifs : 1)
        < Questions sans bonne réponse : 1
        > /gaps
        < 1. 1 fois : « abonnement piscine communale »
    """)


def test_trainee_cannot_use_staff_commands(
    conversation: Conversation, caplog: pytest.LogCaptureFixture
) -> None:
    chat = onboarded(conversation, "samira")
    with caplog.at_level(logging.WARNING):
        for command in ("/test wifi", "/recharger", "/staff", "/TEST@cisp_bot wifi", "/stats", "/gaps"):
            chat.send(command)
            chat.expect("Je ne connais pas cette commande")
            assert "Résultat" not in chat.text
    refusals = [record for record in caplog.records if "refused" in record.getMessage()]
    assert len(refusals) == 6
    # The log names the attempt, never what was typed.
    assert all("wifi" not in record.getMessage() for record in refusals)
    for payload in ("staff:reload", "test:wifi", "recharger:", "go:staff"):
        chat.press_payload(payload)
        chat.expect("Ce bouton n'est plus valable")


def test_reload_keeps_old_faq_when_files_are_broken(
    session_factory: sessionmaker[Session], conversation: Conversation, clock: FrozenClock, tmp_path: Path
) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text(
        "- id: wifi\n  question: Comment avoir le wifi ?\n  answer: Cliquez sur l'icône.\n", encoding="utf-8"
    )
    services = conversation.services
    live = build_conversation(session_factory, build_services(services.settings, FaqService(faq_dir), clock))
    _add_admin(session_factory, clock)
    chat = Chat(live, "boss")
    (faq_dir / "a.yaml").write_text("- id: wifi\n  question: [broken\n", encoding="utf-8")
    chat.send("/recharger")
    # The only file is broken: its last valid version stays in use, and the admin is told which.
    chat.expect("FAQ rechargée : 1 questions", "Fichier FAQ à corriger : a.yaml", "a.yaml:2")
    assert len(chat.last) == 2
    (faq_dir / "b.yaml").unlink(missing_ok=True)
    (faq_dir / "a.yaml").write_text(
        "- id: wifi\n  question: Comment avoir le wifi ?\n  answer: Cliquez sur l'icône.\n"
        "- id: cv\n  question: Comment faire un CV ?\n  answer: Venez au module CV.\n",
        encoding="utf-8",
    )
    chat.send("/recharger")
    chat.expect("FAQ rechargée : 2 questions")


def test_staff_registry(session_factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(session_factory) as session:
        _, created = add_staff(session, "telegram", "111", "Claire", Role.SOCIAL_WORKER, clock.now())
        assert created
        _, created = add_staff(session, "telegram", "111", "Claire D.", Role.ADMIN, clock.now())
        assert not created
    with unit_of_work(session_factory) as session:
        members = list_staff(session)
        assert [(m.first_name, m.role) for m in members] == [("Claire D.", "admin")]
        assert remove_staff(session, "telegram", "111")
        assert not remove_staff(session, "telegram", "111")
    with pytest.raises(ValueError), unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "2", "X", Role.TRAINEE, clock.now())


def test_staff_cannot_erase_themselves_from_chat(
    conversation: Conversation, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    _add_admin(session_factory, clock)
    chat = Chat(conversation, "boss")
    chat.send("/oublier")
    chat.expect("gérés par un admin")
