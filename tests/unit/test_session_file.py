from __future__ import annotations

import codecs
import tempfile
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.config import DEFAULT_FILIERES
from bot.files import session_file as session_file_module
from bot.files.session_file import (
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    SessionFileError,
    SessionProblem,
    SessionRow,
    check_sessions,
    read_sessions,
)

KNOWN = DEFAULT_FILIERES.split(";")  # Bâtiment, Horticulture, Nettoyage, Horeca - cuisine, ...
HEADER = "module,starts_at,duration_minutes,place,filieres,trainer\n"
GOOD_LINE = "Cuisine,2026-11-25 09:00,90,Salle 1,Horeca - cuisine,Fatima\n"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def write(directory: Path, content: str | bytes, name: str = "sessions.csv") -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def read_text(directory: Path, content: str | bytes, name: str = "sessions.csv") -> list[SessionRow]:
    return read_sessions(write(directory, content, name), KNOWN)


def problems_of(directory: Path, content: str | bytes, name: str = "sessions.csv") -> list[SessionProblem]:
    return check_sessions(write(directory, content, name), KNOWN)


def only_row(directory: Path, line: str, header: str = HEADER) -> SessionRow:
    rows = read_text(directory, header + line)
    assert len(rows) == 1
    return rows[0]


def documented_block(kind: str) -> str:
    doc = session_file_module.__doc__ or ""
    block = doc.split(f".. code-block:: {kind}", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines)).strip() + "\n"


# The documented formats


def test_the_documented_csv_example_loads(tmp_path: Path) -> None:
    path = write(tmp_path, documented_block("text"))
    rows = read_sessions(path, KNOWN)
    assert check_sessions(path, KNOWN) == []
    assert [row.module for row in rows] == [
        "Sécurité sur chantier",
        "Cuisine de base",
        "CV et lettre de motivation",
        "Gestes et postures",
    ]
    security, cooking, letters, postures = rows
    assert (security.key, security.starts_at, security.ends_at) == (
        "secu-1",
        utc(2026, 11, 25, 8),
        utc(2026, 11, 25, 9, 30),
    )
    assert (security.place, security.is_video, security.filieres, security.trainer) == (
        "Salle 2 (1er étage)",
        False,
        ("Bâtiment",),
        "Marc",
    )
    assert cooking.key == "Cuisine de base|2026-11-26T13:30"
    assert cooking.ends_at - cooking.starts_at == timedelta(hours=2)
    assert (letters.is_video, letters.filieres) == (True, tuple(KNOWN))
    assert (postures.cancelled, postures.filieres, postures.trainer) == (
        True,
        ("Bâtiment", "Logistique"),
        None,
    )
    assert [row.line for row in rows] == [2, 3, 4, 5]
    assert not any(row.cancelled for row in rows[:3])


def excel_workbook(path: Path, rows: list[list[Any]]) -> Path:
    """Save rows as the first sheet of an .xlsx workbook, typed cells as Excel keeps them."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_an_excel_workbook_reads_as_its_csv_would_with_its_own_row_numbers(tmp_path: Path) -> None:
    from datetime import time

    header = ["module", "début", "durée", "lieu", "filières", "formateur"]
    path = excel_workbook(
        tmp_path / "séances.xlsx",
        [
            header,
            [
                "Utiliser l'ordinateur",
                datetime(2026, 12, 1, 9, 0),
                180,
                "Salle\ninformatique",
                "Bâtiment",
                "Nadia",
            ],
            [
                "Créer son e-mail",
                "02/12/2026 13:30",
                time(1, 30),
                "https://visio.example.org/e",
                "toutes",
                None,
            ],
        ],
    )
    first, second = read_sessions(path, KNOWN)
    assert (first.module, first.starts_at, first.ends_at - first.starts_at) == (
        "Utiliser l'ordinateur",
        utc(2026, 12, 1, 8),
        timedelta(minutes=180),
    )
    assert first.place == "Salle informatique" and first.filieres == ("Bâtiment",)
    assert second.ends_at - second.starts_at == timedelta(minutes=90) and second.is_video
    assert [first.line, second.line] == [2, 3]
    broken = excel_workbook(
        tmp_path / "erreurs.xlsx", [header, ["CV", "demain", 60, "Salle 1", "Bâtiment", ""]]
    )
    [problem] = check_sessions(broken, KNOWN)
    assert str(problem).startswith("erreurs.xlsx, ligne 2 : colonne « début » : « demain »")
    (tmp_path / "abime.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    [damaged] = check_sessions(tmp_path / "abime.xlsx", KNOWN)
    assert "Classeur Excel (.xlsx)" in damaged.message


def test_the_documented_yaml_example_loads(tmp_path: Path) -> None:
    path = write(tmp_path, documented_block("yaml"), "sessions.yaml")
    rows = read_sessions(path, KNOWN)
    assert check_sessions(path, KNOWN) == []
    assert [(row.key, row.starts_at, row.ends_at - row.starts_at) for row in rows] == [
        ("secu-1", utc(2026, 11, 25, 8), timedelta(minutes=90)),
        (
            "CV et lettre de motivation|2026-11-27T10:00",
            utc(2026, 11, 27, 9),
            timedelta(minutes=90),
        ),
    ]
    assert rows[0].filieres == ("Bâtiment", "Logistique")
    assert (rows[1].is_video, rows[1].filieres, rows[1].trainer) == (True, tuple(KNOWN), None)


# CSV as spreadsheets write it


def test_a_comma_separated_file_with_the_english_headers(tmp_path: Path) -> None:
    rows = read_text(
        tmp_path,
        HEADER
        + GOOD_LINE
        + "Jardin,2026-11-26 13:30,1h30,Serre,horticulture|NETTOYAGE,\n"
        + "CV,2026-11-27 10:00,60,https://meet.jit.si/cisp-cv,Bâtiment; Logistique,Claire\n",
    )
    assert [(row.module, row.starts_at, row.ends_at) for row in rows] == [
        ("Cuisine", utc(2026, 11, 25, 8), utc(2026, 11, 25, 9, 30)),
        ("Jardin", utc(2026, 11, 26, 12, 30), utc(2026, 11, 26, 14)),
        ("CV", utc(2026, 11, 27, 9), utc(2026, 11, 27, 10)),
    ]
    assert [row.filieres for row in rows] == [
        ("Horeca - cuisine",),
        ("Horticulture", "Nettoyage"),
        ("Bâtiment", "Logistique"),
    ]
    assert [row.trainer for row in rows] == ["Fatima", None, "Claire"]
    assert [row.is_video for row in rows] == [False, False, True]
    assert [row.key for row in rows] == [
        "Cuisine|2026-11-25T09:00",
        "Jardin|2026-11-26T13:30",
        "CV|2026-11-27T10:00",
    ]
    assert [row.cancelled for row in rows] == [False, False, False]
    assert all(row.starts_at.tzinfo is UTC for row in rows)


EXCEL_FRENCH = (
    "Module;Début;Durée;Lieu;Filières;Formateur;;\r\n"
    'Sécurité;25/11/2026 09:00;1h30;Salle 2 (1er étage);"Bâtiment;Logistique";Zoé;;\r\n'
    ";;;;;;;\r\n"
    "\r\n"
    "Hygiène en cuisine;26/11/2026 13:30;120;Cuisine pédagogique;horeca - CUISINE;;;\r\n"
)


def test_a_semicolon_file_from_french_excel_in_windows_1252(tmp_path: Path) -> None:
    rows = read_text(tmp_path, EXCEL_FRENCH.encode("cp1252"))
    assert [(row.module, row.place, row.trainer, row.line) for row in rows] == [
        ("Sécurité", "Salle 2 (1er étage)", "Zoé", 2),
        ("Hygiène en cuisine", "Cuisine pédagogique", None, 5),
    ]
    assert rows[0].filieres == ("Bâtiment", "Logistique")
    assert rows[1].filieres == ("Horeca - cuisine",)
    assert (rows[0].starts_at, rows[0].ends_at) == (utc(2026, 11, 25, 8), utc(2026, 11, 25, 9, 30))
    assert rows[1].ends_at - rows[1].starts_at == timedelta(hours=2)


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(EXCEL_FRENCH.encode("utf-8"), id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + EXCEL_FRENCH.encode("utf-8"), id="utf-8 with BOM"),
        pytest.param(EXCEL_FRENCH.encode("latin-1"), id="latin-1"),
        pytest.param(EXCEL_FRENCH.encode("mac_roman"), id="old Mac Excel"),
        pytest.param(
            EXCEL_FRENCH.replace(";", "\t")
            .replace('"Bâtiment\tLogistique"', "Bâtiment;Logistique")
            .encode("utf-16"),
            id="utf-16 tabs",
        ),
        pytest.param(("sep=;\r\n" + EXCEL_FRENCH).encode("cp1252"), id="excel sep line"),
        pytest.param(("Planning de novembre;;;;;\r\n\r\n" + EXCEL_FRENCH).encode("cp1252"), id="title line"),
    ],
)
def test_what_other_spreadsheets_save_reads_the_same(tmp_path: Path, encoded: bytes) -> None:
    rows = read_text(tmp_path, encoded)
    assert [(row.module, row.place, row.trainer, row.filieres) for row in rows] == [
        ("Sécurité", "Salle 2 (1er étage)", "Zoé", ("Bâtiment", "Logistique")),
        ("Hygiène en cuisine", "Cuisine pédagogique", None, ("Horeca - cuisine",)),
    ]


def test_line_numbers_count_the_lines_above_the_header(tmp_path: Path) -> None:
    content = (
        "sep=;\nPlanning de novembre\n\nModule;Début;Durée;Lieu;Filières\n"
        "Cuisine;25/11/2026 09:00;5;S1;Horeca - cuisine\n"
    )
    assert [(problem.line, "5 minutes" in problem.message) for problem in problems_of(tmp_path, content)] == [
        (5, True)
    ]


@pytest.mark.parametrize(
    "header",
    [
        "module,starts_at,duration_minutes,place,filieres,trainer",
        "  MODULE , Date de début ,DUREE (min),Lieu,filière(s),Formatrice",
        "Atelier,Début,Durée en minutes,Salle,Filière,Formateur/formatrice",
        "Module,Starts At,Duration,Lien,FILIERES,Animateur,Remarque",
        "trainer,filieres,place,duration_minutes,starts_at,module",
    ],
)
def test_headers_in_any_case_with_spaces_accents_and_french_names(tmp_path: Path, header: str) -> None:
    values = {
        "module": "Cuisine",
        "starts_at": "2026-11-25 09:00",
        "duration_minutes": "90",
        "place": "Salle 1",
        "filieres": "Horeca - cuisine",
        "trainer": "Fatima",
    }
    order = ["module", "starts_at", "duration_minutes", "place", "filieres", "trainer"]
    if header.startswith("trainer"):
        order.reverse()
    line = ",".join(values[name] for name in order)
    if "Remarque" in header:
        line += ",à revoir avec Fatima"
    row = only_row(tmp_path, line + "\n", header + "\n")
    assert (row.module, row.starts_at, row.place, row.filieres, row.trainer) == (
        "Cuisine",
        utc(2026, 11, 25, 8),
        "Salle 1",
        ("Horeca - cuisine",),
        "Fatima",
    )


def test_a_date_and_an_hour_in_two_columns(tmp_path: Path) -> None:
    row = only_row(
        tmp_path, "25/11/2026;9h30;Cuisine;90;S1;Bâtiment\n", "Date;Heure;Module;Durée;Lieu;Filières\n"
    )
    assert (row.starts_at, row.key) == (utc(2026, 11, 25, 8, 30), "Cuisine|2026-11-25T09:30")
    alone = only_row(
        tmp_path, "25/11/2026 09:30;Cuisine;90;S1;Bâtiment\n", "Date;Module;Durée;Lieu;Filières\n"
    )
    assert alone.starts_at == utc(2026, 11, 25, 8, 30)


@pytest.mark.parametrize(
    "written",
    [
        "2026-11-25 09:00",
        "2026-11-25 9:00",
        "25/11/2026 09:00",
        "25/11/2026 9h",
        "25/11/2026 9h00",
        "25/11/2026 9 h 00",
        "25-11-2026 09:00",
        "25.11.2026 09:00",
        "25/11/2026 09:00:00",
        "2026-11-25T09:00",
        "2026/11/25 09:00",
        "25/11/2026 à 9h",
        "  25/11/2026   09:00  ",
        "25/11/2026\u00a009:00",
    ],
)
def test_start_formats(tmp_path: Path, written: str) -> None:
    row = only_row(tmp_path, f'Cuisine,"{written}",90,S1,Bâtiment\n', "module,début,durée,lieu,filières\n")
    assert row.starts_at == utc(2026, 11, 25, 8)


@pytest.mark.parametrize(
    ("written", "minutes"),
    [
        ("90", 90),
        ("90 min", 90),
        ("90min", 90),
        ("90 minutes", 90),
        ("90,00", 90),
        ("1h30", 90),
        ("1 h 30", 90),
        ("1H30", 90),
        ("2h", 120),
        ("2 heures", 120),
        ("1:30", 90),
        ("01:30:00", 90),
        ("10", MIN_DURATION_MINUTES),
        ("600", MAX_DURATION_MINUTES),
        ("10h", 600),
    ],
)
def test_duration_formats(tmp_path: Path, written: str, minutes: int) -> None:
    row = only_row(tmp_path, f'Cuisine,2026-11-25 09:00,"{written}",S1,Bâtiment\n')
    assert (
        row.ends_at - row.starts_at
        == utc(2026, 1, 1) - utc(2026, 1, 1) + (utc(2026, 1, 1, 0, 1) - utc(2026, 1, 1)) * minutes
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Bâtiment", ("Bâtiment",)),
        ("batiment", ("Bâtiment",)),
        ("  BÂTIMENT  ", ("Bâtiment",)),
        ("horeca cuisine", ("Horeca - cuisine",)),
        ("Horeca-Cuisine", ("Horeca - cuisine",)),
        ("Logistique;Bâtiment", ("Bâtiment", "Logistique")),
        ("Logistique | Bâtiment", ("Bâtiment", "Logistique")),
        ("Logistique, Bâtiment", ("Bâtiment", "Logistique")),
        ("Bâtiment;bâtiment", ("Bâtiment",)),
        ("Bâtiment;;", ("Bâtiment",)),
        ("Vente, magasin", ("Vente - magasin",)),
        ("toutes", tuple(KNOWN)),
        ("Tous", tuple(KNOWN)),
        ("TOUTES les filières", tuple(KNOWN)),
        ("Bâtiment;toutes", tuple(KNOWN)),
    ],
)
def test_filieres_are_matched_to_the_known_names(
    tmp_path: Path, written: str, expected: tuple[str, ...]
) -> None:
    row = only_row(tmp_path, f'Cuisine,2026-11-25 09:00,90,S1,"{written}"\n')
    assert row.filieres == expected


def test_ids_status_and_keys(tmp_path: Path) -> None:
    rows = read_text(
        tmp_path,
        "id,module,starts_at,duration_minutes,place,filieres,status\n"
        "cuisine-1,Cuisine,2026-11-25 09:00,90,S1,Bâtiment,\n"
        "42,Cuisine,2026-11-26 09:00,90,S1,Bâtiment,Annulée\n"
        ",Cuisine,2026-11-27 09:00,90,S1,Bâtiment,cancelled\n"
        ",Cuisine,2026-11-28 09:00,90,S1,Bâtiment,annulé\n"
        ",Cuisine,2026-11-29 09:00,90,S1,Bâtiment,prévue\n",
    )
    assert [(row.key, row.cancelled) for row in rows] == [
        ("cuisine-1", False),
        ("42", True),
        ("Cuisine|2026-11-27T09:00", True),
        ("Cuisine|2026-11-28T09:00", True),
        ("Cuisine|2026-11-29T09:00", False),
    ]


def test_video_sessions_are_told_by_their_link(tmp_path: Path) -> None:
    rows = read_text(
        tmp_path,
        HEADER
        + "A,2026-11-25 09:00,90,https://meet.jit.si/cisp-cv,Bâtiment,\n"
        + "B,2026-11-25 10:00,90,HTTP://visio.example.be/salle?id=3,Bâtiment,\n"
        + "C,2026-11-25 11:00,90,https://teams.microsoft.com/l/x (code 1234),Bâtiment,\n"
        + "D,2026-11-25 12:00,90,Salle https (informatique),Bâtiment,\n",
    )
    assert [(row.place, row.is_video) for row in rows] == [
        ("https://meet.jit.si/cisp-cv", True),
        ("HTTP://visio.example.be/salle?id=3", True),
        ("https://teams.microsoft.com/l/x (code 1234)", True),
        ("Salle https (informatique)", False),
    ]


# Brussels time


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-10-23 09:00", utc(2026, 10, 23, 7)),  # summer time, UTC+2
        ("2026-10-26 09:00", utc(2026, 10, 26, 8)),  # the clocks went back on the 25th: UTC+1
        ("2026-03-27 09:00", utc(2026, 3, 27, 8)),
        ("2026-03-30 09:00", utc(2026, 3, 30, 7)),
        ("2026-03-29 03:00", utc(2026, 3, 29, 1)),
        ("2026-10-25 02:30", utc(2026, 10, 25, 0, 30)),  # the repeated hour: its first pass
    ],
)
def test_brussels_wall_time_becomes_utc_across_clock_changes(
    tmp_path: Path, written: str, expected: datetime
) -> None:
    row = only_row(tmp_path, f"Cuisine,{written},90,S1,Bâtiment\n")
    assert row.starts_at == expected
    assert row.ends_at == expected + (timedelta(minutes=90))


def test_a_time_the_spring_clock_change_skips_is_reported(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, HEADER + GOOD_LINE + "Jardin,2026-03-29 02:30,90,Serre,Horticulture,\n")
    assert [(problem.line, problem.message) for problem in problems] == [
        (
            3,
            "colonne « starts_at » : le 29/03/2026 à 02:30 n'existe pas à Bruxelles : cette nuit-là, on "
            "passe à l'heure d'été et les horloges sautent de 02:00 à 03:00 ; choisissez une autre heure",
        )
    ]


# Problems, each with its line


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (",2026-11-26 09:00,90,S1,Bâtiment,", "il manque le module (son nom)"),
        ("Jardin,,90,S1,Bâtiment,", "il manque le début (la date et l'heure, ex. 25/11/2026 09:00)"),
        ("Jardin,demain,90,S1,Bâtiment,", "colonne « starts_at » : « demain » : date et heure illisibles"),
        ("Jardin,2026-02-30 09:00,90,S1,Bâtiment,", "« 2026-02-30 09:00 » : ce jour n'existe pas"),
        ("Jardin,11/26/2026 09:00,90,S1,Bâtiment,", "ce jour n'existe pas (écrivez jour/mois/année"),
        ("Jardin,26/11/26 09:00,90,S1,Bâtiment,", "écrivez l'année en entier (2026)"),
        ("Jardin,26/11/1926 09:00,90,S1,Bâtiment,", "année 1926 : vérifiez la date"),
        ("Jardin,26/11/2026,90,S1,Bâtiment,", "il manque l'heure"),
        ("Jardin,26/11/2026 25:00,90,S1,Bâtiment,", "heure impossible"),
        ("Jardin,26/11/2026 09:00:30,90,S1,Bâtiment,", "heure impossible"),
        ("Jardin,26/11/2026 midi,90,S1,Bâtiment,", "heure illisible"),
        ("Jardin,2026-03-29 02:30,90,S1,Bâtiment,", "le 29/03/2026 à 02:30 n'existe pas à Bruxelles"),
        ("Jardin,2026-11-26 09:00,,S1,Bâtiment,", "il manque la durée (ex. 90 ou 1h30)"),
        (
            "Jardin,2026-11-26 09:00,9,S1,Bâtiment,",
            "colonne « duration_minutes » : 9 minutes, il faut entre 10 et 600",
        ),
        ("Jardin,2026-11-26 09:00,601,S1,Bâtiment,", "601 minutes, il faut entre 10 et 600 minutes"),
        ("Jardin,2026-11-26 09:00,10h01,S1,Bâtiment,", "601 minutes, il faut entre 10 et 600 minutes"),
        ("Jardin,2026-11-26 09:00,une heure,S1,Bâtiment,", "« une heure » : durée illisible"),
        ("Jardin,2026-11-26 09:00,1h75,S1,Bâtiment,", "« 1h75 » : durée illisible"),
        ('Jardin,2026-11-26 09:00,"1,5",S1,Bâtiment,', "« 1,5 » : durée illisible"),
        ("Jardin,2026-11-26 09:00,90,,Bâtiment,", "il manque le lieu (une salle, ou un lien https://"),
        ("Jardin,2026-11-26 09:00,90,  ,Bâtiment,", "il manque le lieu"),
        ("Jardin,2026-11-26 09:00,90,www.zoom.us/j/1,Bâtiment,", "« www.zoom.us/j/1 » : lien incomplet"),
        (
            "Jardin,2026-11-26 09:00,90,https//zoom.us,Bâtiment,",
            "lien incomplet, il doit commencer par https://",
        ),
        ("Jardin,2026-11-26 09:00,90,S1,,", "il manque les filières (une ou plusieurs, ou « toutes »)"),
        ("Jardin,2026-11-26 09:00,90,S1,;,", "il manque les filières"),
        (
            "Jardin,2026-11-26 09:00,90,S1,Batimant,",
            "colonne « filieres » : filière « Batimant » inconnue : vouliez-vous dire « Bâtiment » ?",
        ),
        (
            "Jardin,2026-11-26 09:00,90,S1,Horeca,",
            "filière « Horeca » inconnue : vouliez-vous dire « Horeca - cuisine » ?",
        ),
        (
            "Jardin,2026-11-26 09:00,90,S1,toute,",
            "filière « toute » inconnue : vouliez-vous dire « toutes » ?",
        ),
        (
            "Jardin,2026-11-26 09:00,90,S1,Informatique,",
            "filière « Informatique » inconnue (filières possibles : Bâtiment, Horticulture, Nettoyage, "
            "Horeca - cuisine, Vente - magasin, Logistique, ou « toutes »)",
        ),
        (
            "Cuisine,2026-11-25 09:00,60,Salle 2,Bâtiment,",
            "même module et même début que la ligne 2 : une séance en double ?",
        ),
        (
            "cuisine,25/11/2026 9h,60,Salle 2,Bâtiment,",
            "même module et même début que la ligne 2",
        ),
        (
            "Jardin,2026-11-26 09:00,90,S1,Bâtiment,Marc,en trop",
            "7 valeurs pour 6 colonnes : une valeur contient sans doute le séparateur « , » ; mettez-la "
            'entre guillemets "...", et séparez les filières par « ; » ou « | »',
        ),
        (
            'Jardin,2026-11-26 09:00,90,"S1\nS2",Bâtiment,',
            "colonne « place » : la valeur s'étend des lignes 3 à 4",
        ),
    ],
)
def test_each_row_problem_is_named_with_its_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, HEADER + GOOD_LINE + line + "\n")
    problems = check_sessions(path, KNOWN)
    assert len(problems) == 1, problems
    assert (problems[0].file, problems[0].line) == ("sessions.csv", 3)
    assert message in problems[0].message
    with pytest.raises(SessionFileError) as raised:
        read_sessions(path, KNOWN)
    assert raised.value.problems == problems
    assert str(raised.value) == f"sessions.csv, ligne 3 : {problems[0].message}"


def test_every_problem_of_a_file_is_listed_in_line_order(tmp_path: Path) -> None:
    content = (
        "Module;Début;Durée;Lieu;Filières;Formateur\n"
        "Cuisine;29/03/2026 02:30;5;;Batimant;Marc\n"
        ";25/11/2026 09:00;90;S1;Bâtiment\n"
        "Jardin;25/11/2026 09:00;90;S1;Bâtiment;Horeca;Zoé\n"
    )
    problems = problems_of(tmp_path, content.encode("cp1252"))
    assert [(problem.line, problem.message.split(" : ")[0]) for problem in problems] == [
        (2, "colonne « Début »"),
        (2, "colonne « Durée »"),
        (2, "il manque le lieu (une salle, ou un lien https:// pour une séance en visio)"),
        (2, "colonne « Filières »"),
        (3, "il manque le module (son nom)"),
        (4, "7 valeurs pour 6 colonnes"),
    ]
    assert "séparez les filières par « , » ou « | »" in problems[-1].message
    with pytest.raises(SessionFileError) as raised:
        read_sessions(tmp_path / "sessions.csv", KNOWN)
    assert raised.value.summary(limit=2).splitlines() == [
        str(problems[0]),
        str(problems[1]),
        "… et 4 autre(s).",
    ]


def test_the_same_id_twice_is_reported(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        "id,module,starts_at,duration_minutes,place,filieres\n"
        "s1,Cuisine,2026-11-25 09:00,90,S1,Bâtiment\n"
        "s2,Jardin,2026-11-25 09:00,90,S1,Bâtiment\n"
        "S1,Jardin,2026-11-26 09:00,90,S1,Bâtiment\n",
    )
    assert [(problem.line, problem.message) for problem in problems] == [
        (4, "id « S1 » en double (déjà ligne 2)")
    ]


def test_an_id_equal_to_another_sessions_key_is_reported(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        "id,module,starts_at,duration_minutes,place,filieres\n"
        ",Cuisine,2026-11-25 09:00,90,S1,Bâtiment\n"
        "Cuisine|2026-11-25T09:00,Jardin,2026-11-26 09:00,90,S1,Bâtiment\n",
    )
    assert [(problem.line, problem.message) for problem in problems] == [
        (3, "clé « Cuisine|2026-11-25T09:00 » en double (déjà ligne 2)")
    ]


@pytest.mark.parametrize(
    ("header", "line", "message"),
    [
        (
            HEADER,
            "M" * 121 + ",2026-11-25 09:00,90,S1,Bâtiment,",
            "colonne « module » : trop long (121 caractères, maximum 120)",
        ),
        (
            HEADER,
            "Cuisine,2026-11-25 09:00,90," + "S" * 301 + ",Bâtiment,",
            "colonne « place » : trop long (301 caractères",
        ),
        (
            HEADER,
            "Cuisine,2026-11-25 09:00,90,S1,Bâtiment," + "F" * 81,
            "colonne « trainer » : trop long (81 caractères",
        ),
        (
            HEADER.replace("trainer", "id"),
            "Cuisine,2026-11-25 09:00,90,S1,Bâtiment," + "i" * 161,
            "colonne « id » : trop long",
        ),
    ],
)
def test_texts_too_long_to_be_stored_are_reported(
    tmp_path: Path, header: str, line: str, message: str
) -> None:
    problems = problems_of(tmp_path, header + line + "\n")
    assert [(problem.line, message in problem.message) for problem in problems] == [(2, True)]


def test_the_longest_module_still_makes_a_key_that_fits(tmp_path: Path) -> None:
    row = only_row(tmp_path, "M" * 120 + ",2026-11-25 09:00,90,S1,Bâtiment,\n")
    assert len(row.key) <= session_file_module.MAX_CHARS["id"]


def test_two_modules_at_the_same_time_are_fine(tmp_path: Path) -> None:
    rows = read_text(tmp_path, HEADER + GOOD_LINE + "Jardin,2026-11-25 09:00,90,Serre,Horticulture,\n")
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "module,starts_at,place,filieres",
            "colonne(s) manquante(s) : durée (la ligne 1 doit donner les noms des colonnes",
        ),
        ("module,place", "colonne(s) manquante(s) : début, durée, filières"),
        ("Module;Lieu;Filières;Formateur", "colonne(s) manquante(s) : début, durée"),
        (
            "module,starts_at,durre,place,filieres",
            "colonne « durre » inconnue : vouliez-vous dire « durée » ?",
        ),
        (
            "module,starts_at,duration_minutes,place,filieres,statu",
            "colonne « statu » inconnue : vouliez-vous dire « statut » ?",
        ),
        (
            "module,starts_at,duration_minutes,place,filieres,prix",
            "colonne « prix » inconnue (possibles : module, début, durée, lieu, filières, formateur, id, "
            "statut ; une colonne « remarque » est permise)",
        ),
        (
            "module,starts_at,duration_minutes,place,filieres,formateur,formatrice",
            "colonnes « formateur » et « formatrice » : la même colonne deux fois",
        ),
        (
            "module,starts_at,date,duration_minutes,place,filieres",
            "colonnes « starts_at » et « date » : écrivez le début (date et heure) dans « starts_at »",
        ),
        (
            "module,heure,duration_minutes,place,filieres",
            "colonne « heure » sans colonne « date »",
        ),
    ],
)
def test_each_header_problem_is_reported_once(tmp_path: Path, header: str, message: str) -> None:
    problems = problems_of(tmp_path, header + "\n" + GOOD_LINE)
    assert len(problems) == 1, problems
    assert problems[0].line == 1
    assert message in problems[0].message


def test_an_unnamed_column_must_stay_empty(tmp_path: Path) -> None:
    header = "module,starts_at,,duration_minutes,place,filieres\n"
    assert read_text(tmp_path, header + "Cuisine,2026-11-25 09:00,,90,S1,Bâtiment\n")
    problems = problems_of(tmp_path, header + "Cuisine,2026-11-25 09:00,Salle 3,90,S1,Bâtiment\n")
    assert [(problem.line, problem.message) for problem in problems] == [
        (2, "la colonne n°3 n'a pas de nom mais contient « Salle 3 » : donnez-lui un nom (ex. « remarque »)")
    ]


def test_an_unknown_status_is_reported(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, HEADER.replace("trainer", "statut") + "Cuisine,2026-11-25 09:00,90,S1,Bâtiment,reportée\n"
    )
    assert [(problem.line, problem.message) for problem in problems] == [
        (2, "colonne « statut » : « reportée » : statut inconnu (laissez vide, ou écrivez « annulée »)")
    ]


def test_an_unclosed_quote_is_reported_where_it_opens(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, HEADER + GOOD_LINE + 'Jardin,2026-11-26 09:00,90,"Serre,Bâtiment,\n' + GOOD_LINE
    )
    assert [problem.line for problem in problems] == [3]
    assert 'un guillemet « " » jamais fermé ?' in problems[0].message


def test_no_filiere_configured(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + GOOD_LINE)
    assert [problem.message for problem in check_sessions(path, [])] == [
        "colonne « filieres » : filière « Horeca - cuisine » inconnue (aucune filière n'est configurée, voir "
        "FILIERES)"
    ]


# Problems of the whole file


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("", "sessions.csv", "le fichier est vide : la première ligne doit donner les noms des colonnes"),
        ("\n ;;;\n\n", "sessions.csv", "le fichier est vide"),
        (
            b"PK\x03\x04rest of a workbook",
            "sessions.csv",
            "c'est un classeur de tableur que je ne sais pas lire",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "sessions.xls", "c'est un classeur de tableur"),
        (b"module\x00,x", "sessions.csv", "ce n'est pas un fichier texte"),
        ("", "sessions.yaml", "le fichier est vide"),
        ("# rien encore\n", "sessions.yaml", "le fichier est vide : écrivez une séance par entrée"),
    ],
)
def test_file_problems(tmp_path: Path, content: str | bytes, name: str, message: str) -> None:
    problems = problems_of(tmp_path, content, name)
    assert len(problems) == 1, problems
    assert problems[0].message.startswith(message)
    assert problems[0].line is None
    assert str(problems[0]) == f"{name} : {problems[0].message}"


def test_a_missing_file_and_a_folder_are_reported(tmp_path: Path) -> None:
    assert [problem.message for problem in check_sessions(tmp_path / "absent.csv", KNOWN)] == [
        "fichier introuvable"
    ]
    assert [problem.message for problem in check_sessions(tmp_path, KNOWN)] == [
        "c'est un dossier, pas un fichier de séances"
    ]
    with pytest.raises(SessionFileError):
        read_sessions(tmp_path / "absent.csv", KNOWN)


def test_a_file_with_only_a_header_holds_no_session(tmp_path: Path) -> None:
    assert read_text(tmp_path, HEADER) == []
    assert read_text(tmp_path, "[]\n", "sessions.yaml") == []


# YAML


def test_yaml_values_are_read_as_typed(tmp_path: Path) -> None:
    rows = read_text(
        tmp_path,
        """\
        - Module: Cuisine
          starts_at: 2026-11-25 09:00
          duration_minutes: 1:30
          place: https://meet.jit.si/cuisine
          filieres: Horeca - cuisine; bâtiment
          trainer: ~
          id: 12
          status: annulée
        - module: Jardin
          date: 26/11/2026
          heure: 13h30
          durée: 2h
          lieu: Serre
          filières: [tous]
          remarque: apporter des gants
        """.replace("        ", ""),
        "sessions.yml",
    )
    assert [(row.key, row.starts_at, row.ends_at, row.cancelled, row.trainer, row.line) for row in rows] == [
        ("12", utc(2026, 11, 25, 8), utc(2026, 11, 25, 9, 30), True, None, 1),
        ("Jardin|2026-11-26T13:30", utc(2026, 11, 26, 12, 30), utc(2026, 11, 26, 14, 30), False, None, 9),
    ]
    assert rows[0].filieres == ("Bâtiment", "Horeca - cuisine")
    assert rows[0].is_video
    assert rows[1].filieres == tuple(KNOWN)


YAML_SESSION = """\
- module: Cuisine
  début: 2026-11-25 09:00
  durée: 90
  lieu: Salle 1
  filières: [Bâtiment]
"""


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            YAML_SESSION.replace("durée", "durre"),
            3,
            "champ « durre » inconnu : vouliez-vous dire « durée » ?",
        ),
        (YAML_SESSION + "  couleur: bleu\n", 6, "champ « couleur » inconnu (possibles : module, début"),
        (YAML_SESSION + "  lieu: Salle 2\n", 6, "champs « lieu » et « lieu » : le même champ deux fois"),
        (YAML_SESSION + "  place: Salle 2\n", 6, "champs « lieu » et « place » : le même champ deux fois"),
        (YAML_SESSION.replace("  durée: 90\n", ""), 1, "il manque la durée"),
        (YAML_SESSION.replace("durée: 90", "durée:"), 3, "il manque la durée"),
        (YAML_SESSION.replace("durée: 90", "durée: 5"), 3, "champ « durée » : 5 minutes, il faut entre 10"),
        (YAML_SESSION.replace("[Bâtiment]", "[Bâtiment, [Horeca]]"), 5, "écrivez une liste de noms"),
        (YAML_SESSION.replace("[Bâtiment]", "[Bâtimen]"), 5, "vouliez-vous dire « Bâtiment » ?"),
        (YAML_SESSION.replace("[Bâtiment]", "[]"), 5, "il manque les filières"),
        (
            YAML_SESSION.replace("Salle 1", "{salle: 1}"),
            4,
            "champ « lieu » : écrivez un texte, pas une liste",
        ),
        (
            YAML_SESSION.replace("2026-11-25 09:00", "2026-03-29 02:15"),
            2,
            "le 29/03/2026 à 02:15 n'existe pas",
        ),
        (YAML_SESSION + "  date: 2026-11-25\n", 1, "champs « début » et « "),
        (YAML_SESSION + "  heure: 09:00\n", 1, "champs « début » et « "),
        (YAML_SESSION + "  [a, b]: c\n", 6, "nom de champ illisible"),
        (YAML_SESSION + YAML_SESSION, 6, "même module et même début que la ligne 1"),
        (YAML_SESSION + "- Cuisine\n", 6, "l'entrée n°2 doit être un ensemble de champs"),
        ("module: Cuisine\n", 1, "le fichier doit contenir une liste de séances"),
        (YAML_SESSION + "  lieu: 'Salle\n", 6, "erreur de syntaxe YAML"),
        (YAML_SESSION + "\tdurée: 90\n", 6, "erreur de syntaxe YAML"),
    ],
)
def test_each_yaml_problem_is_named_with_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    problems = problems_of(tmp_path, text, "sessions.yaml")
    assert len(problems) == 1, problems
    assert (problems[0].file, problems[0].line) == ("sessions.yaml", line)
    assert message in problems[0].message


def test_the_pure_python_yaml_parser_reads_like_libyaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, documented_block("yaml") + "- module: x\n  durre: 5\n", "sessions.yaml")
    with_libyaml = check_sessions(path, KNOWN)
    monkeypatch.setattr(session_file_module, "_SafeLoader", yaml.SafeLoader)
    assert check_sessions(path, KNOWN) == with_libyaml
    assert with_libyaml


def test_session_rows_refuse_naive_or_reversed_instants() -> None:
    start = utc(2026, 11, 25, 8)
    with pytest.raises(ValueError, match="timezone-aware"):
        SessionRow("k", "m", start.replace(tzinfo=None), start, "p", False, ("Bâtiment",), None, False, 1)
    with pytest.raises(ValueError, match="before it starts"):
        SessionRow("k", "m", start, start, "p", False, ("Bâtiment",), None, False, 1)


# Properties: whatever the file holds, only SessionFileError comes out


CSVISH = st.text(
    alphabet=';,\t|"\n\r 0123456789-/:hH.aémoduleMODULEdébutlieufiliresBâtimenttoutes\x00\ufeff', max_size=300
)
CELLS = {
    "module": ["Cuisine", "Jardin", "", "cuisine"],
    "starts_at": [
        "2026-11-25 09:00",
        "25/11/2026 9h30",
        "2026-03-29 02:30",
        "2026-10-25 02:30",
        "31/02/2026 9:00",
        "",
        "x",
    ],
    "duration_minutes": ["90", "1h30", "5", "601", "2h", "", "1,5"],
    "place": ["Salle 1", "https://meet.jit.si/x", "", "www.x"],
    "filieres": ["Bâtiment", "toutes", "horeca cuisine|Logistique", "Batimant", "", "Bâtiment;Logistique"],
    "trainer": ["Marc", ""],
    "id": ["s1", "s2", ""],
    "status": ["", "annulée", "bof"],
}


@st.composite
def session_files(draw: st.DrawFn) -> bytes:
    fields = draw(st.permutations(list(CELLS)))[: draw(st.integers(3, len(CELLS)))]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    lines = [delimiter.join(fields)]
    for _ in range(draw(st.integers(0, 6))):
        cells = [draw(st.sampled_from(CELLS[name])) for name in fields]
        lines.append(delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in cells))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return "\r\n".join(lines).encode(encoding)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.one_of(session_files(), CSVISH, st.text(max_size=200), st.binary(max_size=200)),
    suffix=st.sampled_from([".csv", ".txt", ".yaml"]),
)
@example(content=b"\xff\xfemodule", suffix=".csv")
@example(content=b"\xff\xfe\x00\xd8", suffix=".csv")
@example(content="- &a [*a]\n", suffix=".yaml")
@example(content="- module: &m [*m]\n", suffix=".yaml")
@example(content="module,starts_at\n" + "a" * 200_000, suffix=".csv")
@example(
    content=HEADER + "a,0001-01-01 00:00,90,S,Bâtiment\nb,9999-12-31 23:59,90,S,Bâtiment\n", suffix=".csv"
)
def test_reading_anything_raises_only_session_file_error(content: str | bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"sessions{suffix}"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        else:
            path.write_bytes(content)
        problems = check_sessions(path, KNOWN)
        try:
            rows = read_sessions(path, KNOWN)
        except SessionFileError as error:
            assert error.problems == problems
            assert problems
            assert all(problem.message and "\n" not in str(problem) for problem in problems)
            assert [problem.line or 0 for problem in problems] == sorted(
                problem.line or 0 for problem in problems
            )
        else:
            assert problems == []
            assert len({row.key.casefold() for row in rows}) == len(rows)
            for row in rows:
                assert row.starts_at.tzinfo is UTC
                assert (
                    MIN_DURATION_MINUTES * 60
                    <= (row.ends_at - row.starts_at).total_seconds()
                    <= MAX_DURATION_MINUTES * 60
                )
                assert row.filieres and set(row.filieres) <= set(KNOWN)
                assert row.module and row.place


def test_a_first_line_without_any_column_name_is_one_problem(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "Cuisine;25/11/2026 09:00;90;S1;Bâtiment\n")
    assert [(problem.line, problem.message) for problem in problems] == [
        (
            1,
            "colonne(s) manquante(s) : module, début, durée, lieu, filières (la ligne 1 doit donner les noms "
            "des colonnes, ex. module;début;durée;lieu;filières;formateur)",
        )
    ]


def test_a_problem_of_a_date_and_an_hour_names_both_columns(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, "Module;Date;Heure;Durée;Lieu;Filières\nCuisine;25/11/2026;;90;S1;Bâtiment\n"
    )
    assert [(problem.line, problem.message) for problem in problems] == [
        (
            2,
            "colonne « Date » et colonne « Heure » : « 25/11/2026 » : il manque l'heure "
            "(ex. 25/11/2026 09:00)",
        )
    ]
