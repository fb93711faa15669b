from __future__ import annotations

import tempfile
import textwrap
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypedDict

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.common.clock import BRUSSELS
from bot.files import availability as availability_module
from bot.files.availability import (
    Availability,
    AvailabilityError,
    AvailabilityProblem,
    DaysOverride,
    Slot,
    Worker,
    check_availability,
    fingerprint,
    load_availability,
)
from bot.files.office_hours import TimeRange, belgian_public_holidays, brussels_date, brussels_instant

HALF_HOUR = timedelta(minutes=30)


class Rules(TypedDict, total=False):
    """The booking rules free_slots and is_bookable take, gathered to be passed with **."""

    min_notice: timedelta
    horizon: timedelta
    extra_days_off: list[tuple[str, date]]


NO_NOTICE: Rules = {"min_notice": timedelta(0), "horizon": timedelta(days=21)}


def brussels(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return the UTC instant when Brussels clocks show this date and time."""
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def write(directory: Path, text: str, name: str = "disponibilites.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_text(directory: Path, text: str) -> Availability:
    return load_availability(write(directory, text))


def problems_of(directory: Path, text: str) -> list[AvailabilityProblem]:
    return check_availability(write(directory, text))


def hours(*ranges: str) -> tuple[TimeRange, ...]:
    result = []
    for text in ranges:
        start, end = text.split("-")
        result.append(TimeRange(time.fromisoformat(start), time.fromisoformat(end)))
    return tuple(result)


def week(**days: tuple[TimeRange, ...]) -> tuple[tuple[TimeRange, ...], ...]:
    names = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
    return tuple(days.get(name, ()) for name in names)


CLAIRE = Worker("claire", "Claire", weekly=week(mar=hours("09:00-12:00")))
TUESDAYS = Availability((CLAIRE,))


def starts(slots: list[Slot]) -> list[datetime]:
    return [slot.starts_at for slot in slots]


# The documented format


def documented_example() -> str:
    doc = availability_module.__doc__ or ""
    block = doc.split(".. code-block:: yaml", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def test_the_documented_example_loads(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, documented_example())
    claire = loaded.worker("claire")
    assert claire is not None
    assert (claire.name, claire.account, claire.place, claire.slot_minutes) == (
        "Claire",
        "telegram:123456789",
        "Bureau 2 (1er étage)",
        30,
    )
    assert claire.weekly[1] == hours("09:00-12:00")
    assert claire.weekly[3] == hours("13:30-16:00", "16:30-17:00")
    assert claire.weekly[4] == hours("09:00-10:30")
    assert claire.hours_on(date(2026, 12, 24)) == ()
    assert claire.hours_on(date(2026, 12, 3)) == hours("09:00-11:00")
    assert all(claire.hours_on(date(2026, 12, day)) == () for day in range(28, 32))
    assert claire.hours_on(date(2026, 12, 10)) == hours("13:30-16:00", "16:30-17:00")
    assert check_availability(write(tmp_path, documented_example())) == []


def test_workers_keep_file_order_and_optional_fields_default(tmp_path: Path) -> None:
    loaded = load_text(
        tmp_path,
        """
        - id: zoe
          name: Zoé
          weekly: {}
        - id: claire
          name: Claire
          weekly:
            mar: [09:00-12:00]
        """,
    )
    assert [worker.id for worker in loaded.workers] == ["zoe", "claire"]
    zoe = loaded.worker("zoe")
    assert zoe is not None
    assert (zoe.account, zoe.place, zoe.slot_minutes, zoe.exceptions) == (None, None, 30, ())
    assert loaded.worker("nobody") is None


@pytest.mark.parametrize("text", ["", "# personne pour l'instant\n", "[]\n", "~\n"])
def test_an_empty_file_offers_nobody(tmp_path: Path, text: str) -> None:
    assert load_text(tmp_path, text).workers == ()


def test_a_missing_file_means_no_availability_configured(tmp_path: Path) -> None:
    missing = tmp_path / "disponibilites.yaml"
    assert load_availability(missing).workers == ()
    assert check_availability(missing) == []
    assert load_availability(missing).free_slots(utc(2026, 12, 1), **NO_NOTICE) == []


def test_values_are_read_as_typed_not_as_yaml_11_guesses(tmp_path: Path) -> None:
    # Unquoted 9:30 is the number 570 to YAML 1.1, 2026-12-03 a date object, the key off the boolean
    # False and the id no (Norway) the boolean False too.
    loaded = load_text(
        tmp_path,
        """
        - id: no
          name: yes
          slot_minutes: 45 min
          weekly:
            Mardi: [9:00-12:00]
            jeu: 9:30-12:00
            ven: 9h - 12h, 13h30–15h
            lun , mer: "14:00-16:00"
          exceptions:
            - date: 2026-12-03
              hours: [9:00-11:00]
            - date: 24/12/2026
              off: oui
            - from: 2026-12-28
              to: 2026-12-31
              off: yes
        """,
    )
    worker = loaded.workers[0]
    assert (worker.id, worker.name, worker.slot_minutes) == ("no", "yes", 45)
    assert worker.weekly == week(
        lun=hours("14:00-16:00"),
        mar=hours("09:00-12:00"),
        mer=hours("14:00-16:00"),
        jeu=hours("09:30-12:00"),
        ven=hours("09:00-12:00", "13:30-15:00"),
    )
    assert worker.exceptions == (
        DaysOverride(date(2026, 12, 3), date(2026, 12, 3), hours("09:00-11:00")),
        DaysOverride(date(2026, 12, 24), date(2026, 12, 24)),
        DaysOverride(date(2026, 12, 28), date(2026, 12, 31)),
    )


@pytest.mark.parametrize("name", ["documented", "traps", "problems"])
def test_the_pure_python_parser_reads_like_libyaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # Without libyaml installed, PyYAML's own parser is used: the admins' file must read the same.
    text = {
        "documented": documented_example(),
        "traps": "- id: no\n  name: yes\n  weekly: {mar: [9:00-12:00], jeu: 9h-12h}\n"
        "  exceptions: [{date: 2026-12-03, off: on}]\n",
        "problems": "- id: Claire\n  nom: x\n  weekly:\n    lum: [9:30]\n"
        "- id: claire\n  name: x\n  weekly: {}\n- id: claire\n",
    }[name]
    path = write(tmp_path, text)
    with_libyaml = check_availability(path), fingerprint(path)
    monkeypatch.setattr(availability_module, "_SafeLoader", yaml.SafeLoader)
    assert (check_availability(path), fingerprint(path)) == with_libyaml
    if not with_libyaml[0]:
        assert load_availability(path).workers


def test_a_lone_sexagesimal_time_is_a_problem_not_a_number(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
        - id: claire
          name: Claire
          weekly:
            mar: 9:30
        """,
    )
    assert [str(problem) for problem in problems] == [
        "disponibilites.yaml:5: entrée 'claire': champ 'weekly', jour 'mar' : \"9:30\" : il faut un début "
        "et une fin (écrivez par exemple 09:00-12:00)"
    ]


def test_hours_with_no_hours_and_empty_days(tmp_path: Path) -> None:
    loaded = load_text(
        tmp_path,
        """
        - id: claire
          name: Claire
          weekly:
            lun:
            mar: []
            mer: [09:00-10:00]
          exceptions:
            - date: 2026-12-02
              hours: []
        """,
    )
    claire = loaded.workers[0]
    assert claire.weekly == week(mer=hours("09:00-10:00"))
    assert claire.hours_on(date(2026, 12, 2)) == ()


# Problems

WORKER = """\
- id: claire
  name: Claire
  weekly:
    mar: [09:00-12:00]
"""


@pytest.mark.parametrize(
    ("text", "line", "worker", "message"),
    [
        (
            WORKER.replace("weekly", "weekley"),
            3,
            "claire",
            "champ 'weekley' inconnu : vouliez-vous dire 'weekly' ?",
        ),
        (WORKER.replace("name", "nom"), 2, "claire", "champ 'nom' inconnu : vouliez-vous dire 'name' ?"),
        (WORKER + "  Place: B2\n", 5, "claire", "champ 'Place' inconnu : vouliez-vous dire 'place' ?"),
        (WORKER + "  couleur: bleu\n", 5, "claire", "champ 'couleur' inconnu (champs possibles : id, name"),
        (WORKER + "  name: Claire B.\n", 5, "claire", "champ 'name' en double"),
        (WORKER.replace("- id: claire\n  name", "- name"), 1, "entrée n°1", "champ 'id' manquant ou vide"),
        (WORKER.replace("id: claire", "id:"), 1, "entrée n°1", "champ 'id' manquant ou vide"),
        (WORKER.replace("id: claire", "id: Claire"), 1, "entrée n°1", "id 'Claire' invalide"),
        (WORKER.replace("id: claire", "id: [claire]"), 1, "entrée n°1", "champ 'id' doit être un texte"),
        (WORKER.replace("id: claire", "id: " + "c" * 31), 1, "entrée n°1", "id trop long (31 caractères"),
        (WORKER.replace("  name: Claire\n", ""), 1, "claire", "champ 'name' manquant ou vide"),
        (WORKER.replace("name: Claire", "name: '  '"), 2, "claire", "champ 'name' manquant ou vide"),
        (WORKER.replace("name: Claire", "name: " + "C" * 41), 2, "claire", "champ 'name' trop long"),
        (WORKER + "  account: 123456789\n", 5, "claire", "champ 'account' : écrivez telegram:<numéro"),
        (WORKER + "  account: telegram:claire\n", 5, "claire", "champ 'account' : écrivez telegram:"),
        (
            WORKER + "  slot_minutes: 5\n",
            5,
            "claire",
            "champ 'slot_minutes' : 5 minutes, il faut entre 10 et 180",
        ),
        (WORKER + "  slot_minutes: 181\n", 5, "claire", "181 minutes, il faut entre 10 et 180"),
        (WORKER + "  slot_minutes: une demi-heure\n", 5, "claire", "écrivez un nombre de minutes"),
        (WORKER.replace("  weekly:\n    mar: [09:00-12:00]\n", ""), 1, "claire", "champ 'weekly' manquant"),
        (WORKER.replace("    mar: [09:00-12:00]", "    - mar"), 4, "claire", "écrivez un jour par ligne"),
        (WORKER.replace("mar:", "mardy:"), 4, "claire", '"mardy" : jour inconnu (écrivez lun, mar'),
        (WORKER.replace("mar:", "ven-lun:"), 4, "claire", "le premier jour doit venir avant le dernier"),
        (WORKER + "    mar: [14:00-15:00]\n", 5, "claire", "champ 'weekly' : jour 'mar' en double"),
        (WORKER.replace("09:00-12:00", "9h-12"), 4, "claire", '"9h-12" : heure illisible'),
        (WORKER.replace("09:00-12:00", "09:00-24:00"), 4, "claire", '"09:00-24:00" : heure impossible'),
        (WORKER.replace("09:00-12:00", "12:00-09:00"), 4, "claire", '"12:00-09:00" : la fin doit être après'),
        (WORKER.replace("09:00-12:00", "0900"), 4, "claire", '"0900" : il faut un début et une fin'),
        (
            WORKER.replace("[09:00-12:00]", "[[09:00-12:00]]"),
            4,
            "claire",
            "chaque plage d'heures est un texte",
        ),
        (
            WORKER.replace("[09:00-12:00]", "[09:00-12:00, 11:30-13:00]"),
            4,
            "claire",
            'le mardi : "09:00-12:00" et "11:30-13:00" se chevauchent',
        ),
        (
            WORKER + "    lun-ven: [11:00-11:30]\n",
            5,
            "claire",
            'le mardi : "09:00-12:00" et "11:00-11:30" se chevauchent',
        ),
        (
            WORKER.replace("09:00-12:00", "09:00-09:20"),
            4,
            "claire",
            '"09:00-09:20" est trop court pour un rendez-vous de 30 minutes',
        ),
    ],
)
def test_each_worker_problem_is_named_with_its_line(
    tmp_path: Path, text: str, line: int, worker: str, message: str
) -> None:
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line, problem.worker) == ("disponibilites.yaml", line, worker)
    assert message in problem.message
    with pytest.raises(AvailabilityError) as raised:
        load_availability(tmp_path / "disponibilites.yaml")
    assert raised.value.problems == problems


EXCEPTION = WORKER + "  exceptions:\n"


@pytest.mark.parametrize(
    ("exceptions", "line", "message"),
    [
        ("    - date: 2026-02-30\n      off: true\n", 6, "champ 'date' : date invalide (écrivez par exemple"),
        ("    - date: 30/02/2026\n      off: true\n", 6, "champ 'date' : date invalide"),
        ("    - date: demain\n      off: true\n", 6, "champ 'date' : date invalide"),
        ("    - date:\n      off: true\n", 6, "champ 'date' : date invalide"),
        (
            "    - from: 2026-12-31\n      to: 2026-12-28\n      off: true\n",
            7,
            "'from' (31/12/2026) est après 'to'",
        ),
        ("    - from: 2026-12-28\n      to: 2028-12-31\n      off: true\n", 7, "plus de 400 jours"),
        ("    - from: 2026-12-28\n      off: true\n", 6, "une période a besoin de 'from'"),
        ("    - off: true\n", 6, "il manque 'date'"),
        ("    - dat: 2026-12-24\n      off: true\n", 6, "champ 'dat' inconnu : vouliez-vous dire 'date' ?"),
        ("    - date: 2026-12-24\n      hour: [09:00-10:00]\n", 7, "vouliez-vous dire 'hours' ?"),
        ("    - date: 2026-12-24\n      to: 2026-12-26\n      off: true\n", 6, "pas les deux"),
        ("    - date: 2026-12-24\n", 6, "écrivez 'off: true' (jour de congé) ou 'hours: [...]'"),
        ("    - date: 2026-12-24\n      off: false\n", 6, "écrivez 'off: true' (jour de congé)"),
        (
            "    - date: 2026-12-24\n      off: peut-être\n",
            7,
            "champ 'off' : écrivez true (oui) ou false (non)",
        ),
        ("    - date: 2026-12-24\n      off: true\n      hours: [09:00-10:00]\n", 8, "se contredisent"),
        (
            "    - from: 2026-12-28\n      to: 2026-12-31\n      hours: [09:00-10:00]\n",
            8,
            "'hours' va avec 'date' (un seul jour)",
        ),
        (
            "    - date: 2026-12-24\n      hours: [9h-8h]\n",
            7,
            '"09:00-08:00" : la fin doit être après le début',
        ),
        (
            "    - date: 2026-12-24\n      hours: [09:00-10:00, 09:30-11:00]\n",
            7,
            '"09:00-10:00" et "09:30-11:00" se chevauchent',
        ),
        ("    - date: 2026-12-24\n      hours: [09:00-09:15]\n", 7, "trop court pour un rendez-vous de 30"),
        ("    - date: 2026-12-24\n      off: true\n      motif: Noël\n", 8, "champ 'motif' inconnu"),
        ("    - date: 2026-12-24\n      of: true\n", 7, "champ 'of' inconnu : vouliez-vous dire 'off' ?"),
        (
            "    - date: 2026-12-24\n      off: true\n      au: 2026-12-31\n",
            8,
            "champ 'au' inconnu : vouliez-vous dire 'to' ?",
        ),
        ("    - 2026-12-24\n", 6, "exception : écrivez des champs"),
        ("    date: 2026-12-24\n    off: true\n", 6, "champ 'exceptions' : écrivez une liste"),
        (
            "    - from: 2026-12-20\n      to: 2026-12-31\n      off: true\n"
            "    - date: 2026-12-24\n      off: true\n",
            9,
            "le 24/12/2026 est déjà dans l'exception de la ligne 6",
        ),
    ],
)
def test_each_exception_problem_is_named_with_its_line(
    tmp_path: Path, exceptions: str, line: int, message: str
) -> None:
    problems = problems_of(tmp_path, EXCEPTION + exceptions)
    assert len(problems) == 1, problems
    assert (problems[0].line, problems[0].worker) == (line, "claire")
    assert message in problems[0].message


def test_a_range_only_has_to_hold_one_appointment(tmp_path: Path) -> None:
    assert problems_of(tmp_path, WORKER.replace("09:00-12:00", "09:00-10:30") + "  slot_minutes: 90\n") == []
    assert problems_of(tmp_path, WORKER.replace("09:00-12:00", "09:00-09:10") + "  slot_minutes: 10\n") == []


def test_all_problems_are_listed_in_line_order(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """\
        - id: Claire
          nom: Claire
          weekley:
            mar: [09:00-12:00]
        - id: marc
          name: Marc
          weekly:
            lum: [09:00-12:00]
        - id: marc
          name: Marc D.
          weekly: {}
        - "juste un texte"
        """,
    )
    assert [str(problem) for problem in problems] == [
        "disponibilites.yaml:1: entrée n°1: id 'Claire' invalide : utilisez seulement des minuscules sans "
        "accents, des chiffres et des tirets (ex. 'claire' ou 'marc-dupont')",
        "disponibilites.yaml:2: entrée n°1: champ 'nom' inconnu : vouliez-vous dire 'name' ?",
        "disponibilites.yaml:3: entrée n°1: champ 'weekley' inconnu : vouliez-vous dire 'weekly' ?",
        "disponibilites.yaml:8: entrée 'marc': champ 'weekly' : \"lum\" : jour inconnu (écrivez lun, mar, "
        "mer, jeu, ven, sam ou dim)",
        "disponibilites.yaml:9: entrée 'marc': id 'marc' en double (déjà utilisé ligne 5)",
        "disponibilites.yaml:12: entrée n°4: l'entrée doit être un ensemble de champs (id, name, weekly...)",
    ]
    with pytest.raises(AvailabilityError) as raised:
        load_availability(tmp_path / "disponibilites.yaml")
    error = raised.value
    assert str(error).splitlines() == [str(problem) for problem in problems]
    assert error.summary(limit=2).splitlines()[-1] == "… et 4 autre(s)."


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- id: claire\n  name: Claire\n\tweekly: {}\n", 3, "tabulation interdite"),
        ("- id: claire\n  name: 'Claire\n  weekly: {}\n", 2, "guillemet ouvert ici et jamais fermé"),
        ("- id: claire\n  weekly:\n    mar: [09:00-12:00\n", 3, "crochet « [ » jamais fermé"),
        ("- id: claire\n  name: Claire: la meilleure\n", 2, "un « : » inattendu"),
    ],
)
def test_a_yaml_syntax_error_names_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "disponibilites.yaml"
    path.write_text(text, encoding="utf-8")
    problems = check_availability(path)
    assert len(problems) == 1
    assert (problems[0].line, problems[0].worker) == (line, None)
    assert problems[0].message.startswith("erreur de syntaxe YAML : ")
    assert message in problems[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: claire\nname: Claire\n", "le fichier doit contenir une liste de personnes"),
        ("claire\n", "le fichier doit contenir une liste de personnes"),
    ],
)
def test_the_file_must_hold_a_list(tmp_path: Path, text: str, message: str) -> None:
    problems = problems_of(tmp_path, text)
    assert [(problem.line, problem.message.startswith(message)) for problem in problems] == [(1, True)]


def test_a_file_not_in_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "disponibilites.yaml"
    path.write_bytes(b"- id: claire\n  name: Ren\xe9e\n")
    problems = check_availability(path)
    assert [(problem.line, problem.message) for problem in problems] == [
        (2, "le fichier n'est pas encodé en UTF-8 (enregistrez-le en UTF-8)")
    ]


def test_a_directory_is_not_an_availability_file(tmp_path: Path) -> None:
    with pytest.raises(AvailabilityError, match="c'est un dossier"):
        load_availability(tmp_path)


def test_hours_on_a_public_holiday_are_reported_but_do_not_stop_loading(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        WORKER + "  exceptions:\n    - date: 2026-11-11\n      hours: [09:00-10:00]\n",
    )
    assert [(problem.line, problem.message) for problem in check_availability(path)] == [
        (6, "le 11/11/2026 est un jour férié : le centre est fermé, ces heures ne seront pas proposées")
    ]
    first = load_availability(path).free_slots(brussels(2026, 11, 11), **NO_NOTICE)[0]
    assert brussels_date(first.starts_at) == date(2026, 11, 17)


def test_fingerprint_follows_the_content(tmp_path: Path) -> None:
    path = tmp_path / "disponibilites.yaml"
    missing = fingerprint(path)
    path.write_text("", encoding="utf-8")
    empty = fingerprint(path)
    path.write_text(WORKER, encoding="utf-8")
    first = fingerprint(path)
    assert fingerprint(path) == first
    path.write_text(WORKER.replace("12:00", "11:30"), encoding="utf-8")
    assert len({missing, empty, first, fingerprint(path)}) == 4


# Free slots


@pytest.mark.parametrize(
    ("tuesday", "first_utc_hour"),
    [
        (date(2026, 3, 24), 8),  # winter time, the week before the change of Sunday 29 March
        (date(2026, 3, 31), 7),  # summer time
        (date(2026, 10, 20), 7),  # summer time, the week before the change of Sunday 25 October
        (date(2026, 10, 27), 8),  # winter time
    ],
)
def test_a_morning_gives_six_slots_in_utc_whatever_the_season(tuesday: date, first_utc_hour: int) -> None:
    monday = brussels(tuesday.year, tuesday.month, tuesday.day - 1)
    slots = TUESDAYS.free_slots(monday, min_notice=timedelta(0), horizon=timedelta(days=2))
    first = utc(tuesday.year, tuesday.month, tuesday.day, first_utc_hour)
    assert slots == [
        Slot("claire", first + index * HALF_HOUR, first + (index + 1) * HALF_HOUR) for index in range(6)
    ]
    assert all(slot.starts_at.tzinfo is UTC for slot in slots)


def test_the_weeks_of_the_clock_changes_have_their_tuesdays() -> None:
    spring = TUESDAYS.free_slots(brussels(2026, 3, 23), min_notice=timedelta(0), horizon=timedelta(days=14))
    autumn = TUESDAYS.free_slots(brussels(2026, 10, 19), min_notice=timedelta(0), horizon=timedelta(days=14))
    assert [slot.starts_at.hour for slot in spring] == [8, 8, 9, 9, 10, 10, 7, 7, 8, 8, 9, 9]
    assert [slot.starts_at.hour for slot in autumn] == [7, 7, 8, 8, 9, 9, 8, 8, 9, 9, 10, 10]


@pytest.mark.parametrize("holiday", [date(2026, 11, 11), date(2026, 4, 6)])
def test_public_holidays_give_no_slots(holiday: date) -> None:
    everyday = Availability(
        (
            Worker("claire", "Claire", weekly=(hours("09:00-12:00"),) * 7),
            Worker("marc", "Marc", weekly=(hours("14:00-15:00"),) * 7),
        )
    )
    slots = everyday.free_slots(brussels(2026, holiday.month, holiday.day - 1), **NO_NOTICE)
    days = {brussels_date(slot.starts_at) for slot in slots}
    assert holiday not in days
    assert holiday + timedelta(days=1) in days


def test_exceptions_and_extra_days_off() -> None:
    claire = Worker(
        "claire",
        "Claire",
        weekly=week(mar=hours("09:00-12:00"), jeu=hours("13:30-16:00")),
        exceptions=(
            DaysOverride(date(2026, 12, 1), date(2026, 12, 1)),
            DaysOverride(date(2026, 12, 3), date(2026, 12, 3), hours("09:00-10:00")),
            DaysOverride(date(2026, 12, 5), date(2026, 12, 5), hours("10:00-11:00")),  # a Saturday
        ),
    )
    marc = Worker("marc", "Marc", weekly=week(mar=hours("09:00-10:00")))
    both = Availability((claire, marc))
    slots = both.free_slots(
        brussels(2026, 11, 30),
        min_notice=timedelta(0),
        horizon=timedelta(days=21),
        extra_days_off=[("marc", date(2026, 12, 8)), ("zoe", date(2026, 12, 1))],
    )
    seen = [(slot.worker_id, slot.starts_at.astimezone(BRUSSELS).strftime("%d %H:%M")) for slot in slots]
    assert seen[:9] == [
        ("marc", "01 09:00"),
        ("marc", "01 09:30"),
        ("claire", "03 09:00"),
        ("claire", "03 09:30"),
        ("claire", "05 10:00"),
        ("claire", "05 10:30"),
        ("claire", "08 09:00"),
        ("claire", "08 09:30"),
        ("claire", "08 10:00"),
    ]
    worker_days = {(slot.worker_id, brussels_date(slot.starts_at)) for slot in slots}
    assert ("marc", date(2026, 12, 8)) not in worker_days
    assert ("marc", date(2026, 12, 15)) in worker_days


def test_slots_step_by_the_worker_length_and_must_fit() -> None:
    long = Availability(
        (Worker("marc", "Marc", slot_minutes=45, weekly=week(mar=hours("09:00-12:00", "13:00-13:50"))),)
    )
    slots = long.free_slots(brussels(2026, 12, 1), min_notice=timedelta(0), horizon=timedelta(days=1))
    local = [(slot.starts_at.astimezone(BRUSSELS), slot.ends_at.astimezone(BRUSSELS)) for slot in slots]
    assert [(start.strftime("%H:%M"), end.strftime("%H:%M")) for start, end in local] == [
        ("09:00", "09:45"),
        ("09:45", "10:30"),
        ("10:30", "11:15"),
        ("11:15", "12:00"),
        ("13:00", "13:45"),
    ]


def test_notice_and_horizon_bounds_are_inclusive() -> None:
    first = brussels(2026, 12, 1, 9)
    now = first - timedelta(hours=2)
    slots = TUESDAYS.free_slots(now, min_notice=timedelta(hours=2), horizon=timedelta(hours=2, minutes=30))
    assert starts(slots) == [first, first + HALF_HOUR]
    too_late = TUESDAYS.free_slots(
        now + timedelta(seconds=1), min_notice=timedelta(hours=2), horizon=timedelta(days=1)
    )
    assert starts(too_late)[0] == first + HALF_HOUR


def test_booked_slots_are_left_out_even_when_read_back_naive() -> None:
    first = brussels(2026, 12, 1, 9)
    booked = [
        ("claire", first),
        ("claire", (first + HALF_HOUR).replace(tzinfo=None)),
        ("marc", first + 2 * HALF_HOUR),
    ]
    slots = TUESDAYS.free_slots(
        brussels(2026, 11, 30), booked=booked, min_notice=timedelta(0), horizon=timedelta(days=2)
    )
    assert starts(slots) == [first + index * HALF_HOUR for index in range(2, 6)]


def test_worker_filter() -> None:
    both = Availability((CLAIRE, Worker("marc", "Marc", weekly=week(mar=hours("09:00-10:00")))))
    now = brussels(2026, 11, 30)
    assert {slot.worker_id for slot in both.free_slots(now, **NO_NOTICE, worker_id="marc")} == {"marc"}
    assert both.free_slots(now, **NO_NOTICE, worker_id="nobody") == []


def test_slots_are_sorted_by_time_then_worker() -> None:
    same_hours = week(mar=hours("09:00-10:00"))
    three = Availability(
        tuple(Worker(name, name.title(), weekly=same_hours) for name in ("zoe", "marc", "claire"))
    )
    slots = three.free_slots(brussels(2026, 11, 30), min_notice=timedelta(0), horizon=timedelta(days=2))
    assert [(slot.starts_at.astimezone(BRUSSELS).strftime("%H:%M"), slot.worker_id) for slot in slots] == [
        ("09:00", "claire"),
        ("09:00", "marc"),
        ("09:00", "zoe"),
        ("09:30", "claire"),
        ("09:30", "marc"),
        ("09:30", "zoe"),
    ]
    assert sorted(reversed(slots)) == slots


def test_paging_with_after_and_limit() -> None:
    same_hours = week(mar=hours("09:00-12:00"))
    two = Availability(
        (Worker("claire", "Claire", weekly=same_hours), Worker("marc", "Marc", weekly=same_hours))
    )
    now = brussels(2026, 11, 30)
    everything = two.free_slots(now, **NO_NOTICE)
    assert len(everything) == 36  # three Tuesdays, two workers, six slots
    # A page never ends between claire's and marc's slot of one time, or "after" would lose marc's.
    page = two.free_slots(now, **NO_NOTICE, limit=5)
    assert page == everything[:4]
    pages: list[Slot] = []
    after = None
    while batch := two.free_slots(now, **NO_NOTICE, after=after, limit=5):
        pages += batch
        after = batch[-1].starts_at
    assert pages == everything
    assert two.free_slots(now, **NO_NOTICE, limit=0) == []
    assert two.free_slots(now, **NO_NOTICE, limit=36) == everything
    with pytest.raises(ValueError, match="limit"):
        two.free_slots(now, **NO_NOTICE, limit=-1)
    # A page of one holds one slot, even when another starts at the same time.
    assert two.free_slots(now, **NO_NOTICE, limit=1) == everything[:1]


def test_the_night_of_the_clock_changes() -> None:
    night = Availability(
        (Worker("veille", "Veille", weekly=week(dim=hours("01:00-04:00")), slot_minutes=60),)
    )
    march = night.free_slots(brussels(2026, 3, 28), min_notice=timedelta(0), horizon=timedelta(days=2))
    october = night.free_slots(brussels(2026, 10, 24), min_notice=timedelta(0), horizon=timedelta(days=2))
    # Two real hours pass between 01:00 and 04:00 in March, four in October.
    assert starts(march) == [utc(2026, 3, 29, 0), utc(2026, 3, 29, 1)]
    assert starts(october) == [
        utc(2026, 10, 24, 23),
        utc(2026, 10, 25, 0),
        utc(2026, 10, 25, 1),
        utc(2026, 10, 25, 2),
    ]


def test_is_bookable_rechecks_a_picked_slot() -> None:
    now = brussels(2026, 11, 30, 10)
    rules: Rules = {"min_notice": timedelta(hours=2), "horizon": timedelta(days=14)}
    slot = TUESDAYS.free_slots(now, **rules)[0]
    assert TUESDAYS.is_bookable(slot, now, **rules)
    naive = Slot(slot.worker_id, slot.starts_at.replace(tzinfo=None), slot.ends_at.replace(tzinfo=None))
    assert TUESDAYS.is_bookable(naive, now, **rules)
    assert not TUESDAYS.is_bookable(slot, now, [("claire", slot.starts_at)], **rules)
    assert not TUESDAYS.is_bookable(slot, slot.starts_at - timedelta(hours=1), **rules)  # too soon now
    day_off: Rules = {**rules, "extra_days_off": [("claire", date(2026, 12, 1))]}
    assert not TUESDAYS.is_bookable(slot, now, **day_off)
    shifted = Slot("claire", slot.starts_at + timedelta(minutes=10), slot.ends_at + timedelta(minutes=10))
    assert not TUESDAYS.is_bookable(shifted, now, **rules)
    longer = Slot("claire", slot.starts_at, slot.ends_at + HALF_HOUR)
    assert not TUESDAYS.is_bookable(longer, now, **rules)
    assert not TUESDAYS.is_bookable(Slot("marc", slot.starts_at, slot.ends_at), now, **rules)
    on_a_wednesday = Slot("claire", slot.starts_at + timedelta(days=1), slot.ends_at + timedelta(days=1))
    assert not TUESDAYS.is_bookable(on_a_wednesday, now, **rules)
    holiday_week = Availability((Worker("claire", "Claire", weekly=week(mer=hours("09:00-12:00"))),))
    armistice = Slot("claire", brussels(2026, 11, 11, 9), brussels(2026, 11, 11, 9, 30))
    assert not holiday_week.is_bookable(armistice, brussels(2026, 11, 9), **rules)


def test_ten_workers_over_three_weeks() -> None:
    full_week = week(
        lun=hours("09:00-12:00", "13:00-16:30"),
        mar=hours("09:00-12:00", "13:00-16:30"),
        mer=hours("09:00-12:00"),
        jeu=hours("09:00-12:00", "13:00-16:30"),
        ven=hours("09:00-12:00"),
    )
    ten = Availability(tuple(Worker(f"worker-{index}", f"W{index}", weekly=full_week) for index in range(10)))
    slots = ten.free_slots(brussels(2026, 11, 30), min_notice=timedelta(0), horizon=timedelta(days=21))
    # Three weeks of 13 + 13 + 6 + 13 + 6 slots for each of ten workers.
    assert len(slots) == 3 * 51 * 10
    assert len(set(slots)) == len(slots)


def test_invalid_workers_are_refused_by_the_code_too() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Worker("claire", "Claire", weekly=week(mar=hours("09:00-12:00", "11:00-13:00")))
    with pytest.raises(ValueError, match="two exceptions"):
        Worker(
            "claire",
            "Claire",
            exceptions=(
                DaysOverride(date(2026, 12, 1), date(2026, 12, 3)),
                DaysOverride(date(2026, 12, 3), date(2026, 12, 3)),
            ),
        )
    with pytest.raises(ValueError, match="slot_minutes"):
        Worker("claire", "Claire", slot_minutes=5)
    with pytest.raises(ValueError, match="share an id"):
        Availability((CLAIRE, CLAIRE))


# Properties

YAMLISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "- id: claire\n",
                "- id: \n",
                "  name: Claire\n",
                "  weekly:\n",
                "    mar: [09:00-12:00]\n",
                "    jeu: 9:30-12:00\n",
                "    lun-ven: [9h-12h, 13h-16h]\n",
                "  exceptions:\n",
                "    - date: 2026-12-24\n",
                "      off: true\n",
                "      hours: [09:00-11:00]\n",
                "    - from: 2026-12-28\n",
                "      to: 2026-12-31\n",
                "  slot_minutes: 30\n",
                "  account: telegram:1\n",
                "  place: &p Bureau\n",
                "  place: *p\n",
                "  note: !!binary aGVsbG8=\n",
                "  weekly: {mar: [09:00-12:00]}\n",
                "  <<: {name: X}\n",
                "? [a, b]\n: c\n",
                "---\n",
                "%YAML 1.1\n",
                "- &a [*a]\n",
            ]
        ),
        st.text(alphabet=" \t\n-:[]{},'\"&*!|>#%@`?~09azAZhéç\x00\ufeff", max_size=20),
    ),
    max_size=25,
).map("".join)


# Files shaped like the real one, with values good and bad written unquoted: they reach the checks of
# days, hours and exceptions that random text rarely gets past the YAML parser to.
SCALARS = st.one_of(
    st.sampled_from(
        [
            "claire",
            "Claire",
            "no",
            "",
            "~",
            "30",
            "5",
            "9:30",
            "09:00-12:00",
            "9h-12h30",
            "12:00-09:00",
            "09:00-09:10",
            "[09:00-12:00, 11:00-13:00]",
            "[09:00-12:00, 13:00-16:00]",
            "[]",
            "{}",
            "2026-12-24",
            "24/12/2026",
            "2026-02-30",
            "2026-11-11",
            "true",
            "oui",
            "false",
            "telegram:123",
            "'texte'",
        ]
    ),
    st.text(alphabet="0123456789:-h/ []", max_size=12),
)


def mostly(draw: st.DrawFn, good: list[str]) -> str:
    """Draw one of the good values, or now and then any value."""
    return draw(SCALARS) if draw(st.integers(0, 9)) == 0 else draw(st.sampled_from(good))


@st.composite
def availability_files(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for position in range(draw(st.integers(0, 3))):
        lines.append(f"- id: {mostly(draw, [f'worker-{position}', 'claire'])}")
        lines.append(f"  name: {mostly(draw, ['Claire', 'Marc'])}")
        optional = {
            "account": ["telegram:123", "console:marc"],
            "place": ["Bureau 2"],
            "slot_minutes": ["30", "45"],
        }
        for name in draw(st.lists(st.sampled_from([*optional, "weekley", "nom"]), max_size=3, unique=True)):
            lines.append(f"  {name}: {mostly(draw, optional.get(name, ['x']))}")
        if draw(st.integers(0, 9)):
            lines.append("  weekly:")
            for day in draw(
                st.lists(st.sampled_from(["lun", "mar", "jeudi", "ven", "sam", "lun-ven"]), unique=True)
            ):
                hours_text = mostly(
                    draw, ["[09:00-12:00]", "9h-12h30", "[13:30-16:00, 16:30-17:00]", "", "[]"]
                )
                lines.append(f"    {mostly(draw, [day])}: {hours_text}")
        if draw(st.booleans()):
            lines.append("  exceptions:")
            for day_number in draw(st.lists(st.integers(1, 28), max_size=3, unique=True)):
                if draw(st.booleans()):
                    lines.append(
                        f"    - date: {mostly(draw, [f'2026-12-{day_number:02d}', f'{day_number}/11/2026'])}"
                    )
                    lines.append(f"      {mostly(draw, ['off: true', 'hours: [09:00-10:00]', 'hours: []'])}")
                else:
                    lines.append(f"    - from: {mostly(draw, [f'2027-01-{day_number:02d}'])}")
                    lines.append(f"      to: {mostly(draw, [f'2027-01-{day_number + 1:02d}'])}")
                    lines.append(f"      off: {mostly(draw, ['true', 'oui'])}")
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(availability_files(), YAMLISH, st.text(max_size=200), st.binary(max_size=200)))
@example("- &a [*a]\n")
@example("- id: claire\n  name: Claire\n  weekly: &w {mar: *w}\n")
@example(b"\xff\xfe- id")
def test_loading_anything_raises_only_availability_error(content: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "disponibilites.yaml"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        else:
            path.write_bytes(content)
        problems = check_availability(path)
        try:
            loaded = load_availability(path)
        except AvailabilityError as error:
            assert error.problems
            assert all(problem.message and "\n" not in str(problem) for problem in error.problems)
        else:
            assert all("jour férié" in problem.message for problem in problems)
            assert len({worker.id for worker in loaded.workers}) == len(loaded.workers)
        assert isinstance(fingerprint(path), str)


DST_DAYS = [
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2027, 3, 28, tzinfo=UTC),
]
MOMENTS = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda day, minutes: day + timedelta(minutes=minutes),
        st.sampled_from(DST_DAYS),
        st.integers(-14 * 24 * 60, 3 * 24 * 60),
    ),
)


@st.composite
def ranges_of_a_day(draw: st.DrawFn) -> tuple[TimeRange, ...]:
    # Pairs of sorted distinct minutes never overlap; night hours are rare but cover the clock changes.
    bounds = sorted(draw(st.sets(st.integers(0, 23 * 60 + 59), max_size=6)))
    if len(bounds) % 2:
        bounds = bounds[:-1]
    return tuple(
        TimeRange(time(start // 60, start % 60), time(end // 60, end % 60))
        for start, end in zip(bounds[::2], bounds[1::2], strict=True)
    )


@st.composite
def workers(draw: st.DrawFn, worker_id: str, around: date) -> Worker:
    weekly = tuple(draw(ranges_of_a_day()) for _ in range(7))
    days = sorted(draw(st.sets(st.integers(-3, 25), max_size=4)))
    exceptions = tuple(
        DaysOverride(
            around + timedelta(days=offset), around + timedelta(days=offset), draw(ranges_of_a_day())
        )
        for offset in days
    )
    return Worker(
        worker_id,
        worker_id.title(),
        slot_minutes=draw(st.sampled_from([10, 15, 20, 30, 45, 60, 90, 180])),
        weekly=weekly,
        exceptions=exceptions,
    )


@settings(max_examples=200, deadline=None)
@given(
    now=MOMENTS,
    min_notice=st.timedeltas(timedelta(0), timedelta(days=2)),
    horizon=st.timedeltas(timedelta(0), timedelta(days=21)),
    data=st.data(),
)
def test_free_slots_properties(
    now: datetime, min_notice: timedelta, horizon: timedelta, data: st.DataObject
) -> None:
    today = brussels_date(now)
    team = Availability(
        tuple(
            data.draw(workers(name, today))
            for name in ("claire", "marc", "zoe")[: data.draw(st.integers(1, 3))]
        )
    )
    days_off = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(["claire", "marc", "zoe"]),
                st.integers(0, 21).map(lambda offset: today + timedelta(days=offset)),
            ),
            max_size=4,
        )
    )
    rules: Rules = {"min_notice": min_notice, "horizon": horizon, "extra_days_off": days_off}
    unbooked = team.free_slots(now, **rules)
    booked_slots = data.draw(st.lists(st.sampled_from(unbooked), max_size=5)) if unbooked else []
    booked = [(slot.worker_id, slot.starts_at) for slot in booked_slots]
    slots = team.free_slots(now, booked=booked, **rules)

    assert slots == [slot for slot in unbooked if (slot.worker_id, slot.starts_at) not in booked]
    assert slots == sorted(slots)
    assert len(set(slots)) == len(slots)
    for slot in slots:
        assert now + min_notice <= slot.starts_at <= now + horizon
        worker = team.worker(slot.worker_id)
        assert worker is not None
        assert slot.ends_at - slot.starts_at == timedelta(minutes=worker.slot_minutes)
        day = brussels_date(slot.starts_at)
        assert day not in belgian_public_holidays(day.year)
        assert (slot.worker_id, day) not in days_off
        wall_start = slot.starts_at.astimezone(BRUSSELS).time()
        assert any(
            time_range.start <= wall_start < time_range.end
            and brussels_instant(day, time_range.start) <= slot.starts_at
            and slot.ends_at <= brussels_instant(day, time_range.end)
            and (slot.starts_at - brussels_instant(day, time_range.start)) % (slot.ends_at - slot.starts_at)
            == timedelta(0)
            for time_range in worker.hours_on(day)
        )
    # Re-checking every slot would make the test quadratic: the first ones and a drawn few are enough.
    for slot in slots[:10] + data.draw(
        st.lists(st.sampled_from(slots), max_size=10) if slots else st.just([])
    ):
        assert team.is_bookable(slot, now, booked, **rules)
    for slot in booked_slots:
        assert not team.is_bookable(slot, now, booked, **rules)

    # Paging through "Autres dates" gives the slots in order, each once, whatever the page size.
    page_size = data.draw(st.integers(3, 10))
    paged: list[Slot] = []
    after = None
    for _ in range(20):
        page = team.free_slots(now, booked=booked, after=after, limit=page_size, **rules)
        if not page:
            break
        assert len(page) <= page_size
        paged += page
        after = page[-1].starts_at
    assert paged == slots[: len(paged)]
    assert len(paged) == len(slots) or len(paged) >= 20 * (page_size - 2)
