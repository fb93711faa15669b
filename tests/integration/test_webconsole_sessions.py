"""Module sessions in the console: the spreadsheet previewed line by line, then imported (both databases)."""

from __future__ import annotations

import html
import io
import re
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.common.clock import FrozenClock
from bot.config import Settings
from bot.storage.db import unit_of_work
from bot.storage.models import OutboxMessage, Role, TrainingSession, User
from bot.storage.staff import add_staff
from tests.integration.test_webconsole_faq_edit import browser_of, faq, faq_dir, form_of, web

__all__ = ["faq", "faq_dir", "web"]  # fixtures shared with the edit tests

HEADER = ["id", "module", "début", "durée", "lieu", "filières", "formateur"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def trainings(session_factory: sessionmaker[Session]) -> list[tuple[str, str, bool]]:
    with session_factory() as session:
        rows = session.scalars(select(TrainingSession).order_by(TrainingSession.starts_at))
        return [(row.key, row.module, row.cancelled) for row in rows]


def pushes(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


@pytest.fixture
def karim(
    web: Starlette, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> TestClient:
    return browser_of(web, session_factory, settings, clock, "karim")


def preview(browser: TestClient, data: bytes, name: str = "séances.xlsx") -> tuple[int, str]:
    token = form_of(browser.get("/console/seances").text)["csrf"]
    response = browser.post(
        "/console/seances/apercu", data={"csrf": token}, files={"fichier": (name, data, XLSX)}
    )
    return response.status_code, html.unescape(response.text)


def test_a_spreadsheet_is_previewed_line_by_line_then_imported(
    karim: TestClient, session_factory: sessionmaker[Session]
) -> None:
    data = workbook(
        [
            ["cv-1", "Écrire son CV", datetime(2026, 11, 26, 9, 0), 120, "Salle 3", "Horticulture", "Nadia"],
            ["noel", "Fête de fin d'année", datetime(2026, 12, 25, 14, 0), 60, "Cafétéria", "toutes", None],
        ]
    )
    status, page = preview(karim, data)
    assert status == 200, page
    assert "Rien n'est encore changé. Si c'est bien ça : 2 nouvelle(s)" in page
    assert re.search(r"<td>2</td>\s*<td>Écrire son CV", page) and "jeudi 26 novembre à 10 h" not in page
    assert "⚠️ jour férié" in page and "1 séance(s) un jour où le centre est fermé" in page
    assert "Salle 3 · 120 min · Horticulture" in page and "déjà passée" not in page
    assert trainings(session_factory) == []
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
    imported = karim.post("/console/seances/importer", data=fields)
    assert (
        imported.status_code == 303 and imported.headers["location"] == "/console/seances?importe=2-0-0-0-0"
    )
    assert [key for key, _, _ in trainings(session_factory)] == ["cv-1", "noel"]
    listed = html.unescape(karim.get(imported.headers["location"]).text)
    assert "Importé." in listed and "Écrire son CV" in listed and "⚠️ jour férié" in listed
    building = html.unescape(karim.get("/console/seances", params={"formation": "Bâtiment"}).text)
    assert "Écrire son CV" not in building and "Fête de fin d'année" in building  # "toutes": everyone's
    assert "Écrire son CV" in html.unescape(
        karim.get("/console/seances", params={"formation": "Horticulture"}).text
    )


def test_a_moved_session_is_told_to_its_trainees_only_when_imported(
    karim: TestClient, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    first = workbook(
        [["cv-1", "Écrire son CV", datetime(2026, 11, 26, 9, 0), 120, "Salle 3", "Horticulture", "Nadia"]]
    )
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', preview(karim, first)[1]))
    assert karim.post("/console/seances/importer", data=fields).status_code == 303
    with unit_of_work(session_factory) as session:
        session.add(
            User(
                channel="console",
                external_id="samira",
                first_name="Samira",
                filiere="Horticulture",
                created_at=clock.now(),
                consented_at=clock.now(),
                last_seen_at=clock.now(),
                notifications_paused=False,
            )
        )
    told_before = pushes(session_factory)
    moved = workbook(
        [["cv-1", "Écrire son CV", datetime(2026, 11, 27, 9, 0), 120, "Salle 3", "Horticulture", "Nadia"]]
    )
    _, page = preview(karim, moved)
    assert "déplacée (les stagiaires sont prévenus)" in page and "1 stagiaire(s) seront prévenu(s)" in page
    assert pushes(session_factory) == told_before  # a preview tells no one
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
    assert karim.post("/console/seances/importer", data=fields).headers["location"].endswith("=0-1-0-0-0")
    assert pushes(session_factory) == told_before + 1


def test_a_mistake_names_its_row_and_nothing_is_imported(
    karim: TestClient, session_factory: sessionmaker[Session]
) -> None:
    data = workbook(
        [
            ["cv-1", "Écrire son CV", datetime(2026, 11, 26, 9, 0), 120, "Salle 3", "Horticulture", "Nadia"],
            ["cv-2", "Écrire son CV", "demain matin", 120, "Salle 3", "Horticultur", "Nadia"],
        ]
    )
    status, page = preview(karim, data)
    assert status == 422
    assert "Ligne 3 : colonne « début » : « demain matin »" in page
    assert "Importer" not in page.split("<main>", 1)[1]
    assert trainings(session_factory) == []
    status, wrong = preview(karim, b"%PDF-1.4", "planning.pdf")
    assert status == 422 and "envoyez un classeur Excel (.xlsx), un fichier CSV ou YAML" in wrong
    status, csv_page = preview(
        karim,
        b"module,starts_at,duration_minutes,place,filieres\nCV,2026-11-30 09:00,60,Salle 1,toutes\n",
        "s.csv",
    )
    assert status == 200 and "1 nouvelle(s)" in csv_page
    past = "module,starts_at,duration_minutes,place,filieres\nCV,2025-11-30 09:00,60,Salle 1,toutes\n"
    status, past_page = preview(karim, past.encode(), "s.csv")
    assert status == 200 and "1 séance(s) déjà passée(s) : vérifiez la date (l'année ?)" in past_page


def test_only_admins_import_and_every_form_needs_its_token(
    web: Starlette,
    karim: TestClient,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    claire = browser_of(web, session_factory, settings, clock, "claire")
    page = html.unescape(claire.get("/console/seances").text)
    assert "Les prochaines séances" in page and "Importer le fichier" not in page
    token = form_of(page)["csrf"]
    data = workbook([["cv-1", "CV", datetime(2026, 11, 26, 9, 0), 60, "Salle 3", "toutes", None]])
    refused = claire.post(
        "/console/seances/apercu", data={"csrf": token}, files={"fichier": ("s.xlsx", data, XLSX)}
    )
    assert refused.status_code == 403
    forged = karim.post("/console/seances/importer", data={"nom": "s.xlsx", "contenu": ""})
    assert forged.status_code == 403
    token = form_of(karim.get("/console/seances").text)["csrf"]
    damaged = karim.post("/console/seances/importer", data={"csrf": token, "nom": "s.xlsx", "contenu": "%%%"})
    assert damaged.status_code == 422 and "envoyez le fichier à nouveau" in html.unescape(damaged.text)
    assert trainings(session_factory) == []
    with unit_of_work(session_factory) as session:
        add_staff(session, "telegram", "333", "Léa", Role.ADMIN, clock.now())
