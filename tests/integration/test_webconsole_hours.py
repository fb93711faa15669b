"""The social workers' hours in the console: the form writes disponibilites.yaml back, the bot offers them."""

from __future__ import annotations

import html
import shutil
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.files.availability import load_availability
from bot.webconsole.hours_pages import parsed_days_off
from tests.conftest import ROOT
from tests.integration.test_webconsole_faq_edit import browser_of, faq, faq_dir, form_of, web

__all__ = ["faq", "faq_dir", "web"]  # fixtures shared with the edit tests


@pytest.fixture
def hours_file(settings: Settings) -> str:
    """The shipped disponibilites.yaml (its comments, its two workers), where the settings point."""
    shutil.copy(ROOT / "disponibilites.yaml", settings.availability_file)
    return settings.availability_file.read_text(encoding="utf-8")


@pytest.fixture
def karim(
    hours_file: str,
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> TestClient:
    return browser_of(web, session_factory, settings, clock, "karim")


def test_everyone_reads_the_hours_and_the_next_free_slots(
    hours_file: str,
    web: Starlette,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    claire = browser_of(web, session_factory, settings, clock, "claire")
    page = html.unescape(claire.get("/console/horaires").text)
    assert "<h2>Claire</h2>" in page and "<h2>Karim</h2>" in page
    assert '<th scope="row">Vendredi</th><td>09:00-12:00</td>' in page
    assert "Congés :</strong> 24/12/2026 ; 28/12/2026 au 31/12/2026 congés d'hiver" in page
    # Tuesday 24/11/2026, 9:00: the bot's own offer (the minimum notice counted).
    assert (
        "Prochains moments libres</strong> (comme le bot les propose) :" in page and "aujourd'hui à" in page
    )
    assert "Modifier les horaires" not in page
    assert claire.get("/console/horaires/claire").status_code == 403


def test_an_admin_changes_a_day_and_adds_a_day_off_the_file_keeps_the_rest(
    karim: TestClient, hours_file: str, settings: Settings
) -> None:
    form = form_of(karim.get("/console/horaires/claire").text)
    assert form["jour4"] == "09:00-12:00" and form["jour0"] == "09:00-12:00 13:30-16:00"
    assert form["conges"] == "24/12/2026\n28/12/2026 au 31/12/2026 congés d'hiver"
    form["jour4"] = "9h-11h"
    form["conges"] += "\n04/01/2027 formation"
    saved = karim.post("/console/horaires/claire", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/console/horaires?fait=1"
    after = settings.availability_file.read_text(encoding="utf-8")
    assert after.startswith(hours_file.split("- id: claire")[0])  # the admins' comments, untouched
    assert hours_file.split("- id: karim")[1] == after.split("- id: karim")[1]  # Karim, untouched
    assert (
        "    ven: [09:00-11:00]" in after
        and "    - date: 2027-01-04\n      off: true\n      note: formation" in after
    )
    claire = load_availability(settings.availability_file).worker("claire")
    assert claire is not None and date(2027, 1, 4) in {override.first for override in claire.exceptions}
    assert "Le bot propose déjà les nouveaux horaires" in html.unescape(
        karim.get(saved.headers["location"]).text
    )


def test_a_mistake_is_shown_beside_its_day_and_nothing_is_written(
    karim: TestClient, hours_file: str, settings: Settings
) -> None:
    form = form_of(karim.get("/console/horaires/claire").text)
    refused = karim.post(
        "/console/horaires/claire",
        data={**form, "jour1": "9h-midi", "conges": "le 24 décembre", "slot_minutes": "5"},
    )
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    assert 'id="jour1-error">« 9h-midi »' in page
    assert 'id="conges-error">ligne 1 « le 24 décembre » : écrivez 24/12/2026' in page
    assert 'id="slot_minutes-error">un nombre de minutes entre 10 et 180' in page
    assert 'value="9h-midi"' in page  # what was typed stays, to correct
    overlapping = karim.post("/console/horaires/claire", data={**form, "jour2": "09:00-12:00 11:00-13:00"})
    assert overlapping.status_code == 422 and "Rien n'a été enregistré" in html.unescape(overlapping.text)
    assert settings.availability_file.read_text(encoding="utf-8") == hours_file
    assert (
        karim.post(
            "/console/horaires/claire", data={k: v for k, v in form.items() if k != "csrf"}
        ).status_code
        == 403
    )


def test_days_off_are_read_as_admins_write_them() -> None:
    days, problems = parsed_days_off(
        "24/12/2026\n2026-12-28 au 2026-12-31 (congés d'hiver)\n\n31/12/2026 - 01/12/2026\n"
    )
    assert [(d.first, d.last, d.note) for d in days] == [
        (date(2026, 12, 24), date(2026, 12, 24), None),
        (date(2026, 12, 28), date(2026, 12, 31), "congés d'hiver"),
    ]
    assert problems == [
        "ligne 4 « 31/12/2026 - 01/12/2026 » : écrivez 24/12/2026, ou 28/12/2026 au 31/12/2026"
    ]


def test_a_day_off_over_a_booked_appointment_is_flagged_with_the_way_to_cancel_it(
    karim: TestClient, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    from datetime import UTC, datetime

    from bot.storage.db import unit_of_work
    from bot.storage.models import Appointment, User

    with unit_of_work(session_factory) as session:
        samira = User(
            channel="console",
            external_id="samira",
            first_name="Samira",
            created_at=clock.now(),
            consented_at=clock.now(),
            last_seen_at=clock.now(),
            notifications_paused=False,
        )
        session.add(samira)
        session.flush()
        session.add(
            Appointment(
                trainee_id=samira.id,
                worker_id="claire",
                starts_at=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
                ends_at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
                reason="Papiers administratifs",
                status="booked",
                booked_at=clock.now(),
            )
        )
    form = form_of(karim.get("/console/horaires/claire").text)
    form["conges"] += "\n27/11/2026 malade"
    saved = karim.post("/console/horaires/claire", data=form)
    page = html.unescape(karim.get(saved.headers["location"]).text)
    assert "⚠️ Encore prévu un jour de congé de Claire" in page
    assert "Samira, vendredi 27 novembre à 10 h" in page and "/console/agenda?jour=2026-11-27" in page
