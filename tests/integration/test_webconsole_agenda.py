"""The social workers' agenda in the console: their day and week; came, did not come, cancel with a word."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.core.conversation import Conversation
from bot.features.faq import FaqService
from bot.storage.db import unit_of_work
from bot.storage.models import Appointment, Role
from bot.storage.staff import add_staff
from tests.dialogue import Chat
from tests.integration.test_onboarding import onboarded
from tests.integration.test_webconsole_faq_edit import browser_of, faq, faq_dir, form_of, web

__all__ = ["faq", "faq_dir", "web"]  # fixtures shared with the edit tests

AVAILABILITY = """\
- id: claire
  name: Claire
  account: telegram:111
  place: Bureau 2
  weekly:
    lun-ven: [09:00-12:00]
"""


@pytest.fixture
def booked(
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    faq: FaqService,
    clock: FrozenClock,
) -> Chat:
    """Samira has an appointment with Claire today at 11:00 (it is Tuesday 24/11/2026, 9:00)."""
    settings.availability_file.write_text(AVAILABILITY, encoding="utf-8")
    conversation: Conversation = build_conversation(session_factory, build_services(settings, faq, clock))
    samira = onboarded(conversation, "samira")
    samira.script("""
        > Prendre rendez-vous
        > Papiers administratifs
        > Aujourd'hui à 11 h
        > Oui, je réserve
        < C'est réservé
    """)
    return samira


def status(session_factory: sessionmaker[Session]) -> str:
    with session_factory() as session:
        return session.scalars(select(Appointment.status)).one()


def test_a_social_worker_sees_her_day_cancels_one_with_a_word(
    booked: Chat,
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    claire = browser_of(web, session_factory, settings, clock, "claire")
    page = html.unescape(claire.get("/console/agenda").text)
    assert "Agenda du mardi 24 novembre" in page
    assert "11 h 00 · Samira</strong> (Horticulture) · Papiers administratifs" in page
    assert "Annuler ce rendez-vous" in page and "✅ Venu·e" not in page  # not started yet
    token = form_of(page)["csrf"]
    early = claire.post("/console/agenda/1/venu", data={"csrf": token})
    assert early.headers["location"] == "/console/agenda?fait=pas_commence&jour=2026-11-24"
    assert status(session_factory) == "booked"
    booked.received()
    cancelled = claire.post("/console/agenda/1/annuler", data={"csrf": token, "message": "Je suis malade."})
    assert cancelled.headers["location"] == "/console/agenda?fait=annule&jour=2026-11-24"
    booked.script("""
        > (received)
        < Claire a dû annuler votre rendez-vous aujourd'hui à 11 h.
        < Son message : « Je suis malade. »
    """)
    assert status(session_factory) == "cancelled"
    assert "la personne est prévenue" in html.unescape(claire.get(cancelled.headers["location"]).text)


def test_once_started_she_says_who_came(
    booked: Chat,
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    claire = browser_of(web, session_factory, settings, clock, "claire")
    clock.advance(timedelta(hours=2, minutes=5))  # 11:05 in Brussels
    page = html.unescape(claire.get("/console/agenda").text)
    assert "✅ Venu·e" in page and "Annuler ce rendez-vous" not in page
    token = form_of(page)["csrf"]
    assert (
        claire.post("/console/agenda/1/venu", data={"csrf": token})
        .headers["location"]
        .endswith("fait=note&jour=2026-11-24")
    )
    assert status(session_factory) == "done"
    assert "✅ venu·e" in html.unescape(claire.get("/console/agenda").text)
    assert claire.post("/console/agenda/1/plus-tard", data={"csrf": token}).status_code == 404


def test_the_week_and_who_sees_what(
    booked: Chat,
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    karim = browser_of(web, session_factory, settings, clock, "karim")  # an admin: everyone's
    week = html.unescape(karim.get("/console/agenda?jour=2026-11-24&vue=semaine").text)
    assert "Semaine du lundi 23 novembre" in week and "Mardi 24 novembre" in week and "avec Claire" in week
    assert "Lundi 23 novembre" not in week  # days without an appointment are left out of a week
    next_day = html.unescape(karim.get("/console/agenda?jour=2026-11-25").text)
    assert "Pas de rendez-vous." in next_day
    assert "Agenda du mardi 24 novembre" in html.unescape(karim.get("/console/agenda?jour=n'importe").text)
    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "333", "Léa", Role.SOCIAL_WORKER, clock.now())
    lea = browser_of(web, session_factory, settings, clock, "léa")
    page = html.unescape(lea.get("/console/agenda").text)
    assert "Vous n'avez pas d'agenda" in page and "Samira" not in page
    refused = lea.post("/console/agenda/1/annuler", data={"csrf": form_of(page)["csrf"]})
    assert refused.headers["location"] == "/console/agenda?fait=introuvable"
    assert status(session_factory) == "booked"
