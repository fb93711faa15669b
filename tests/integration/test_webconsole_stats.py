"""The figures as pictures: counted as trainees use the bot, shown over four weeks, nobody identifiable."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from bot.app import build_conversation, build_services
from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.features.faq import FaqService
from bot.features.figures import DAYS_SHOWN, figures
from bot.storage.models import DailyCount
from tests.integration.test_onboarding import onboarded
from tests.integration.test_webconsole_faq_edit import browser_of, faq, faq_dir, web

__all__ = ["faq", "faq_dir", "web"]  # fixtures shared with the edit tests


def test_questions_are_counted_by_outcome_and_entry_and_drawn_with_their_numbers(
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    faq: FaqService,
    clock: FrozenClock,
) -> None:
    conversation = build_conversation(session_factory, build_services(settings, faq, clock))
    samira = onboarded(conversation, "samira")
    samira.send("mon ordi demare plu")  # answered
    samira.send("mon ecran")  # suggestions
    samira.press_payload("faq:ecran-probleme")  # the entry shown: counted as asked
    clock.advance(timedelta(days=1))
    samira.send("ou est la machine a cafe du deuxieme etage")  # suggestions, not taken
    samira.send("zzz qqq www")  # not understood
    samira.script("""
        > Parler à quelqu'un
        > mon contrat
    """)
    with session_factory() as session:
        found = figures(session, clock.now())
        rows = session.scalars(select(DailyCount)).all()
    assert len(found.days) == DAYS_SHOWN and found.days[-1].isoformat() == "2026-11-25"
    answered, suggested, fallback = found.questions
    assert (answered.total, suggested.total, fallback.total) == (1, 2, 1)
    assert (answered.values[-2], suggested.values[-1], fallback.values[-1]) == (1, 1, 1)
    assert dict(found.top_entries) == {"ordinateur-ne-demarre-pas": 1, "ecran-probleme": 1}
    assert found.requests.total == 1 and found.waiting_minutes_median is None
    # A count has a day, a kind and an entry: no person, no message.
    assert {column.key for column in inspect(DailyCount).columns} == {"day", "name", "key", "count"}
    assert all("machine" not in row.key and "zzz" not in row.key for row in rows)

    claire = browser_of(web, session_factory, settings, clock, "claire")
    page = html.unescape(claire.get("/console/chiffres").text)
    assert "Les chiffres des 4 dernières semaines" in page
    assert (
        'role="img" aria-label="Questions par jour : répondues, avec des propositions, pas comprises"' in page
    )
    assert "répondues : 1" in page and "avec des propositions : 2" in page and "pas comprises : 1" in page
    assert 'Mon ordinateur ne s\'allume pas, que faire ? <span class="meta">(1 fois)</span>' in page
    assert "<td>mercredi 25 novembre</td><td>0</td><td>1</td><td>1</td>" in page
    assert "pas encore de demande prise" in page
    assert "Samira" not in page and "machine a cafe" not in page


def test_staff_questions_are_not_counted(
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    faq: FaqService,
    clock: FrozenClock,
) -> None:
    conversation = build_conversation(session_factory, build_services(settings, faq, clock))
    from tests.dialogue import Chat

    Chat(conversation, "111", channel="telegram").send("mon ordi demare plu")  # Claire, staff
    with session_factory() as session:
        assert session.scalars(select(DailyCount)).all() == []
