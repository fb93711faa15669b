"""Training-module sessions, read from a file the centre's admins make in a spreadsheet (parsing only).

``cisp-bot sessions import FILE`` calls read_sessions, which returns every session or raises
SessionFileError listing *every* problem (nothing is imported unless the whole file is right);
check_sessions only lists the problems. One line of a CSV file, or one entry of a YAML file, is one
session:

.. code-block:: text

    module,starts_at,duration_minutes,place,filieres,trainer,id,status
    Sécurité sur chantier,2026-11-25 09:00,90,Salle 2 (1er étage),Bâtiment,Marc,secu-1,
    Cuisine de base,26/11/2026 13:30,2h,Cuisine pédagogique,Horeca - cuisine,Fatima,,
    CV et lettre de motivation,2026-11-27 10:00,1h30,https://meet.jit.si/cisp-cv,toutes,Claire,,
    Gestes et postures,2026-11-30 09:00,60,Salle 1,"Bâtiment;Logistique",,,annulée

.. code-block:: yaml

    # sessions.yaml: the same fields, one entry per session
    - module: Sécurité sur chantier
      début: 25/11/2026 09:00
      durée: 1h30
      lieu: Salle 2 (1er étage)
      filières: [Bâtiment, Logistique]   # or one text: "Bâtiment; Logistique"
      formateur: Marc
      id: secu-1
    - module: CV et lettre de motivation
      début: 2026-11-27 10:00
      durée: 90
      lieu: https://meet.jit.si/cisp-cv
      filières: toutes

Columns (YAML fields), in any order; a name is recognised whatever its case, accents, spaces or
underscores ("Début", "DEBUT", "date de début" and ``starts_at`` are the same column):

- ``module`` (or ``atelier``, ``formation``): required, the module's name.
- ``starts_at`` (or ``début``, ``date et heure``): required, Brussels local time, written
  ``2026-11-25 09:00``, ``25/11/2026 09:00``, ``25-11-2026 9h30`` or ``25/11/2026 09:00:00``. Instead of
  it, a ``date`` column with an ``heure`` column (or a ``date`` column holding the time too).
- ``duration_minutes`` (or ``durée``, ``durée (min)``): required, 10 to 600 minutes: ``90``,
  ``90 min``, ``1h30``, ``2h``, ``1:30``.
- ``place`` (or ``lieu``, ``salle``, ``lien``): required, a room, or a link starting with ``http://`` or
  ``https://``, which makes the session a video session.
- ``filieres`` (or ``filières``, ``filière``): required, one or more filières as trainees see them at
  onboarding (FILIERES), separated by ``;`` ``,`` or ``|``; case, accents and punctuation do not matter
  ("horeca cuisine" is "Horeca - cuisine"). ``toutes`` (or ``tous``) means every filière.
- ``trainer`` (or ``formateur``, ``formatrice``, ``animateur``): optional.
- ``id`` (or ``identifiant``, ``référence``): optional, a stable key the admin keeps when a session
  moves to another day; without it a session is known by its module and start (``key``).
- ``status`` (or ``statut``): optional; ``annulée`` (``annulé``, ``cancelled``) marks the session
  cancelled, empty (or ``prévue``, ``confirmée``) keeps it on.
- ``remarque`` (``commentaire``, ``note``): optional and ignored, for the admins' own notes. Any other
  column is reported (a column "Statu" must not silently leave a cancelled session on).

Texts fit the database's columns: module 120 characters, place 300, trainer 80, id 160.

What spreadsheets produce is read as is: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "texte
Unicode"), else Windows-1252 (Excel on Windows), old Mac Excel's Mac Roman, or Latin-1; columns
separated by ``,``, ``;`` (French Excel) or tabs, told apart by which one splits the header into known
column names (an Excel ``sep=;`` first line is obeyed too); title lines above the header, empty lines,
and empty columns at the end of lines are ignored. The line numbers in problems are those the
spreadsheet shows (the header is usually line 1).

Filières and the column separator: a cell holding ``;`` in a ``;``-separated file must be in double
quotes, which Excel does by itself when it saves. A file written by hand in a text editor should rather
separate filières with ``,`` or ``|`` there (and with ``;`` or ``|`` in a ``,``-separated file); a line
with more values than the header has columns is reported, never guessed at.

``starts_at`` is turned into UTC as Brussels clocks read it: 09:00 is 08:00 UTC in winter and 07:00
UTC in summer; a time in the hour skipped when clocks go forward (e.g. 2026-03-29 02:30) is reported;
a time of the hour repeated in October is its first pass. ``ends_at`` is ``duration`` minutes of real
time later. A YAML file is read as a tree of texts, never through YAML 1.1's guesses (``1:30`` stays
"1:30", not the number 90).
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

from bot.common.clock import BRUSSELS, as_utc
from bot.common.text import clean_text, fold, shorten
from bot.files.office_hours import brussels_instant
from bot.files.problems import ProblemsError
from bot.files.yaml_nodes import describe_syntax_error, is_null_node, node_line, node_text

__all__ = [
    "MAX_CHARS",
    "MAX_DURATION_MINUTES",
    "MIN_DURATION_MINUTES",
    "SessionFileError",
    "SessionProblem",
    "SessionRow",
    "check_sessions",
    "read_sessions",
]

MIN_DURATION_MINUTES = 10
MAX_DURATION_MINUTES = 600
# A year of sessions is a few hundred lines: anything far bigger is not a sessions file.
MAX_FILE_BYTES = 5_000_000
# Years outside this range are typos (and keep every date far from datetime's limits).
FIRST_YEAR = 2000
LAST_YEAR = 2099
# The header is looked for among the first lines only: below that, lines are sessions.
HEADER_SEARCH_LINES = 10
# The sizes of the training_sessions columns: a longer text would only fail in the database, unexplained.
# (The key made of module and start fits: 120 + 17 characters.)
MAX_CHARS = {"module": 120, "place": 300, "trainer": 80, "id": 160}

_SafeLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_SUFFIXES = (".yaml", ".yml")
_SAVE_AS_XLSX = (
    "c'est un classeur de tableur que je ne sais pas lire (xls, ods, ou abîmé) : dans le tableur, "
    "choisissez « Enregistrer sous » puis le type « Classeur Excel (.xlsx) » ou « CSV »"
)
_COLUMN_DELIMITERS = (";", ",", "\t")
_SEP_LINE = re.compile(r"sep=([,;\t])[ \t]*(?:\r\n|\r|\n|$)", re.IGNORECASE)

# Every name a column (or a YAML field) may have; the first is the one problems use.
_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "module": ("module", "nom du module", "atelier", "formation", "intitulé", "cours"),
    "starts_at": ("début", "starts_at", "start", "date de début", "date et heure", "date/heure", "quand"),
    "date": ("date", "jour"),
    "time": ("heure", "heure de début", "time"),
    "duration_minutes": (
        "durée",
        "duration_minutes",
        "duration",
        "durée (minutes)",
        "durée (min)",
        "durée en minutes",
        "minutes",
    ),
    "place": ("lieu", "place", "salle", "local", "lien", "endroit", "location"),
    "filieres": ("filières", "filieres", "filière", "filière(s)"),
    "trainer": (
        "formateur",
        "trainer",
        "formatrice",
        "formateur/formatrice",
        "formateur·trice",
        "formateur ou formatrice",
        "animateur",
        "animatrice",
        "intervenant",
        "intervenante",
    ),
    "id": ("id", "identifiant", "clé", "référence", "ref", "key"),
    "status": ("statut", "status", "état"),
}
_NOTE_NAMES = ("remarque", "remarques", "commentaire", "commentaires", "note", "notes")
# What "il manque ..." says for each required value, with an example.
_MISSING = {
    "module": "il manque le module (son nom)",
    "starts_at": "il manque le début (la date et l'heure, ex. 25/11/2026 09:00)",
    "duration_minutes": "il manque la durée (ex. 90 ou 1h30)",
    "place": "il manque le lieu (une salle, ou un lien https:// pour une séance en visio)",
    "filieres": "il manque les filières (une ou plusieurs, ou « toutes »)",
}
_ALL_FILIERES_WORDS = frozenset({"toutes", "tous", "toutes les filieres", "tous les filieres"})
_CANCELLED_WORDS = frozenset(
    {"annulee", "annule", "annulees", "annules", "annulation", "cancelled", "canceled"}
)
_ACTIVE_WORDS = frozenset(
    {"", "prevue", "prevu", "confirmee", "confirme", "maintenue", "maintenu", "ok", "active", "scheduled"}
)

# ASCII digits only: \d would also accept other scripts' digits that int() understands.
_DATE_PREFIX = re.compile(
    r"(?P<iso_year>[0-9]{4})[-/.](?P<iso_month>[0-9]{1,2})[-/.](?P<iso_day>[0-9]{1,2})"
    r"|(?P<day>[0-9]{1,2})[-/.](?P<month>[0-9]{1,2})[-/.](?P<year>[0-9]{4}|[0-9]{2})(?![0-9])"
)
_DATE_TIME_SEPARATOR = re.compile(r"\s+(?:à\s+)?|\s*[t,]\s*")
_TIME = re.compile(
    r"(?P<hour>[0-9]{1,2})\s*(?::\s*(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?|h\s*(?P<h_minute>[0-9]{2})?)"
)
_DURATION_MINUTES = re.compile(r"(?P<minutes>[0-9]{1,4})(?:[.,]0+)?\s*(?:min|mins|minutes?|mn)?\.?")
_DURATION_HOURS = re.compile(
    r"(?P<hours>[0-9]{1,2})\s*(?:h|heures?)\s*(?:(?P<minutes>[0-9]{1,2})\s*(?:min|minutes?|mn)?)?"
    r"|(?P<clock_hours>[0-9]{1,2}):(?P<clock_minutes>[0-9]{2})(?::00)?"
)
_LINK = re.compile(r"https?://\S", re.IGNORECASE)
_LINK_LIKE = re.compile(r"(?:https?\b|www\.)", re.IGNORECASE)
_FILIERE_GROUPS = re.compile(r"[;|]")

_DATE_EXAMPLE = "écrivez par exemple 25/11/2026 09:00 ou 2026-11-25 09:00"
_DURATION_EXAMPLE = "écrivez des minutes, ex. 90, ou des heures, ex. 1h30"


@dataclass(frozen=True)
class SessionRow:
    """One session of a training module, as the file describes it; instants are aware UTC."""

    key: str  # the admin's id, else "module|2026-11-25T09:00" (Brussels wall time)
    module: str
    starts_at: datetime
    ends_at: datetime
    place: str
    is_video: bool
    filieres: tuple[str, ...]  # canonical names, in the order of the configured filières
    trainer: str | None
    cancelled: bool
    line: int

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at must be timezone-aware")
        object.__setattr__(self, "starts_at", as_utc(self.starts_at))
        object.__setattr__(self, "ends_at", as_utc(self.ends_at))
        if self.ends_at <= self.starts_at:
            raise ValueError(f"session ends ({self.ends_at}) before it starts ({self.starts_at})")
        object.__setattr__(self, "filieres", tuple(self.filieres))


@dataclass(frozen=True, slots=True)
class SessionProblem:
    """Describe one problem in a sessions file, precisely enough for an administrator to fix it."""

    file: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        """Return the problem as ``sessions.csv, ligne 4 : message``, on one line."""
        location = self.file if self.line is None else f"{self.file}, ligne {self.line}"
        message = self.message.replace("\r", " ").replace("\n", " ")
        return f"{location} : {message}"


class SessionFileError(ProblemsError[SessionProblem]):
    """Signal that a sessions file cannot be imported; ``problems`` lists every problem found."""


def read_sessions(path: Path | str, known_filieres: Sequence[str]) -> list[SessionRow]:
    """Return the sessions of the file in file order, or raise SessionFileError listing every problem.

    known_filieres are the filières trainees choose from at onboarding (Settings.filiere_names).
    """
    rows, problems = _read(Path(path), known_filieres)
    if problems:
        raise SessionFileError(problems)
    return rows


def check_sessions(path: Path | str, known_filieres: Sequence[str]) -> list[SessionProblem]:
    """Return every problem in the sessions file, in line order (an empty list means it can be imported)."""
    return _read(Path(path), known_filieres)[1]


# --------------------------------------------------------------------------- what both formats give


@dataclass(frozen=True, slots=True)
class _Value:
    """One value as the admin typed it, where it is, and how to name its column or field in a problem."""

    text: str
    line: int
    where: str


@dataclass(slots=True)
class _Entry:
    """The values of one session, by field, before they are checked."""

    line: int
    values: dict[str, _Value] = field(default_factory=dict)
    # Fields already reported (a typo in the name, an unreadable value): saying they are missing too
    # would only repeat the problem.
    reported: set[str] = field(default_factory=set)

    def report_missing(self, field_name: str, found: _Found) -> None:
        """Report that a required value is absent or empty, unless it was already reported."""
        if field_name in self.reported:
            return
        value = self.values.get(field_name)
        found.add(_MISSING[field_name], self.line if value is None else value.line)


@dataclass(frozen=True, slots=True)
class _Column:
    """One column of a CSV file: its name as written and the field it holds (None: not read)."""

    name: str
    field_name: str | None
    position: int

    @property
    def is_unnamed(self) -> bool:
        """Tell whether the header cell of this column is empty."""
        return not self.name


class _Found:
    """Collect the problems of one file while it is read."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.problems: list[SessionProblem] = []

    def add(self, message: str, line: int | None = None) -> None:
        """Record a problem at line."""
        self.problems.append(SessionProblem(self.file_name, message, line))

    def __len__(self) -> int:
        return len(self.problems)


def _read(path: Path, known_filieres: Sequence[str]) -> tuple[list[SessionRow], list[SessionProblem]]:
    """Read, decode and check the file; return the valid sessions and every problem, in line order."""
    found = _Found(path.name or str(path))
    text = _read_text(path, found)
    if text is None:
        return [], found.problems
    if not text.strip():
        found.add("le fichier est vide : la première ligne doit donner les noms des colonnes")
        return [], found.problems
    if path.suffix.lower() in _YAML_SUFFIXES:
        entries = _yaml_entries(text, found)
    else:
        entries = _csv_entries(text, found)
    rows = _check_entries(entries, _Filieres(known_filieres), found)
    # sorted() keeps the order of the problems of one line; problems of the whole file come first.
    problems = sorted(found.problems, key=lambda problem: problem.line or 0)
    return ([] if problems else rows), problems


def _read_text(path: Path, found: _Found) -> str | None:
    """Return the file's text whatever encoding the spreadsheet saved it in, None after reporting why not."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        found.add("fichier introuvable")
        return None
    except IsADirectoryError:
        found.add("c'est un dossier, pas un fichier de séances")
        return None
    except (OSError, ValueError) as error:
        found.add(f"impossible de lire le fichier ({getattr(error, 'strerror', None) or error})")
        return None
    if len(data) > MAX_FILE_BYTES:
        found.add(f"fichier trop gros (plus de {MAX_FILE_BYTES // 1_000_000} Mo) pour un fichier de séances")
        return None
    # A zip file is a workbook (xlsx, whatever its name says; ods fails there and is told how to save).
    if data.startswith(b"PK\x03\x04"):
        return _workbook_text(data, found)
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # the old Excel format (xls)
        found.add(_SAVE_AS_XLSX)
        return None
    return _decode(data, found)


def _workbook_text(data: bytes, found: _Found) -> str | None:
    """Return the first sheet of an Excel workbook as CSV text, one spreadsheet row per line.

    The problems then name the spreadsheet's own row numbers. Dates and times are written as the CSV
    format reads them (2026-12-01 09:00); a cell's line breaks become spaces.
    """
    from openpyxl import load_workbook  # only for workbooks: not imported by the running bot

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip: openpyxl raises many kinds
        found.add(_SAVE_AS_XLSX)
        return None
    try:
        sheet = workbook.worksheets[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in sheet.iter_rows(values_only=True):
            writer.writerow([_cell_text(value) for value in row])
    finally:
        workbook.close()
    return out.getvalue()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else f"{value:%Y-%m-%d}"
        )
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, time):
        return f"{value.hour}h{value.minute:02d}"  # a duration typed as 1:30
    if isinstance(value, timedelta):
        return str(int(value.total_seconds() // 60))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _decode(data: bytes, found: _Found) -> str | None:
    """Decode bytes the way spreadsheets write CSV files, None after reporting an undecodable file."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            found.add("fichier UTF-16 abîmé : enregistrez-le à nouveau en « CSV UTF-8 »")
            return None
    data = data.removeprefix(codecs.BOM_UTF8)
    if b"\x00" in data:
        found.add("ce n'est pas un fichier texte : enregistrez le tableau au format « CSV UTF-8 »")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return _decode_legacy(data)


def _decode_legacy(data: bytes) -> str:
    """Decode a file not in UTF-8: Windows-1252 (Excel on Windows) unless Mac Roman reads as more French."""
    try:
        windows = data.decode("cp1252")
    except UnicodeDecodeError:
        # Five bytes are undefined in Windows-1252; Latin-1 decodes every byte.
        windows = data.decode("latin-1")
    mac = data.decode("mac_roman")
    return mac if _french_letters(mac) > _french_letters(windows) else windows


def _french_letters(text: str) -> int:
    """Count the lowercase accented letters of French: the right decoding of a French file has most."""
    return sum(text.count(letter) for letter in "àâäçéèêëîïôöùûüÿœ")


# --------------------------------------------------------------------------- column and field names


def _name_key(name: str) -> str:
    """Return what a column name is recognised by: no case, accents, spaces, underscores or punctuation."""
    return fold(name).replace(" ", "").replace("_", "")


@functools.cache
def _field_by_key() -> dict[str, str]:
    """Return the field each recognised column name stands for."""
    return {_name_key(name): field_name for field_name, names in _FIELD_NAMES.items() for name in names}


def _field_of(name: str) -> str | None:
    """Return the field a column or YAML field name stands for, None when unknown."""
    return _field_by_key().get(_name_key(name))


def _is_note(name: str) -> bool:
    """Tell whether the column holds the admins' remarks, which the bot ignores."""
    return _name_key(name) in {_name_key(note) for note in _NOTE_NAMES}


def _meant_name(name: str) -> str | None:
    """Return the known column name an unknown one is probably a typo of, if any."""
    key = _name_key(name)
    if not key:
        return None
    names = [known for names in _FIELD_NAMES.values() for known in names]
    close = process.extractOne(key, [_name_key(known) for known in names], scorer=fuzz.ratio, score_cutoff=75)
    return names[close[2]] if close is not None else None


def _unknown_name_problem(name: str, *, column: bool) -> tuple[str, str | None]:
    """Return the problem of an unknown CSV column (or YAML field), and the field it probably stands for."""
    kind, unknown = ("colonne", "inconnue") if column else ("champ", "inconnu")
    meant = _meant_name(name)
    if meant is not None:
        return f"{kind} {_quote(name)} {unknown} : vouliez-vous dire {_quote(meant)} ?", _field_of(meant)
    possible = ", ".join(names[0] for names in _FIELD_NAMES.values() if names[0] not in ("date", "heure"))
    notes = "une colonne « remarque » est permise" if column else "un champ « remarque » est permis"
    return f"{kind} {_quote(name)} {unknown} (possibles : {possible} ; {notes})", None


def _display(field_name: str) -> str:
    """Return the name problems give a field."""
    return _FIELD_NAMES[field_name][0]


def _quote(text: str) -> str:
    """Return text between French quotes, on one short line, for a problem."""
    return f"« {shorten(text, 50)} »"


# --------------------------------------------------------------------------- CSV


def _csv_entries(text: str, found: _Found) -> list[_Entry]:
    """Return the entries of a CSV text, reporting the problems of its header and of its lines."""
    forced = _SEP_LINE.match(text)
    if forced is not None:
        # Excel writes and obeys a first line "sep=;": keep the line (numbers stay right) but empty.
        text = "\n" + text[forced.end() :]
    delimiter, header_line = _sniff(text, forced[1] if forced is not None else None)
    entries: list[_Entry] = []
    columns: list[_Column] | None = None
    last_line = 0
    try:
        for first_line, last_line, cells in _csv_rows(text, delimiter):
            cells = _without_trailing_empty_cells(cells)
            # Lines above the header are the title a spreadsheet often has; empty lines say nothing.
            if first_line < header_line or not cells:
                continue
            if columns is None:
                columns = _check_header(cells, first_line, found)
                if columns is None:
                    return []
                continue
            entry = _csv_entry(cells, columns, delimiter, (first_line, last_line), found)
            if entry is not None:
                entries.append(entry)
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            message = "une cellule est immense : un guillemet « \" » n'est sans doute jamais fermé"
        else:
            message = f"fichier CSV illisible ({error})"
        found.add(message, last_line + 1)
    if columns is None and not found:
        found.add("le fichier est vide : la première ligne doit donner les noms des colonnes")
    return entries


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, int, list[str]]]:
    """Yield each CSV row with its first and last line (a quoted cell may hold line breaks)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    last_line = 0
    for cells in reader:
        first_line, last_line = last_line + 1, reader.line_num
        yield first_line, last_line, cells


def _without_trailing_empty_cells(cells: list[str]) -> list[str]:
    """Return the cells less the empty ones at the end (spreadsheets pad lines to the widest one)."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def _sniff(text: str, forced: str | None) -> tuple[str, int]:
    """Return the column separator and the line of the header.

    The header is the first line, among the first few, that a separator splits into at least two known
    column names, and the separator is the one that finds most. Failing that, the separator is the one
    the first line holds most of, and the header that line: its problems are then reported.
    """
    best: tuple[int, str, int] | None = None
    for delimiter in _COLUMN_DELIMITERS if forced is None else (forced,):
        for line, cells in _first_rows(text, delimiter):
            known = sum(_field_of(cell) is not None for cell in cells)
            if known >= 2:
                if best is None or known > best[0]:
                    best = (known, delimiter, line)
                break
    if best is not None:
        return best[1], best[2]
    if forced is None:
        first_text = next((line for line in text.splitlines() if line.strip()), "")
        forced = max(_COLUMN_DELIMITERS, key=first_text.count)
    first_rows = _first_rows(text, forced)
    return forced, first_rows[0][0] if first_rows else 1


def _first_rows(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Return the first non-empty rows of the text with their first lines, as far as they can be read."""
    rows: list[tuple[int, list[str]]] = []
    try:
        for first_line, _, cells in _csv_rows(text, delimiter):
            cells = _without_trailing_empty_cells(cells)
            if cells:
                rows.append((first_line, cells))
                if len(rows) == HEADER_SEARCH_LINES:
                    break
    except csv.Error:
        pass
    return rows


def _check_header(cells: list[str], line: int, found: _Found) -> list[_Column] | None:
    """Return the columns, or None after reporting that a required one is missing."""
    columns: list[_Column] = []
    seen: dict[str, str] = {}
    misspelled: set[str] = set()
    unknown: list[str] = []
    for position, cell in enumerate(cells, start=1):
        name = _tidy(cell)
        field_name = _field_of(name) if name else None
        if name and field_name is None and not _is_note(name):
            message, meant = _unknown_name_problem(name, column=True)
            unknown.append(message)
            misspelled.update({meant} if meant is not None else ())
        elif field_name in seen:
            found.add(
                f"colonnes {_quote(seen[field_name])} et {_quote(name)} : la même colonne deux fois", line
            )
            field_name = None
        elif field_name is not None:
            seen[field_name] = name
        columns.append(_Column(name, field_name, position))
    # A line without a single column name is no header: one problem says so better than one per cell.
    if seen or misspelled:
        for message in unknown:
            found.add(message, line)
    # A "date" column (with or without an "heure" one) stands for the "début" column.
    start_told = bool((seen.keys() | misspelled) & {"starts_at", "date", "time"})
    missing = [
        _display(field_name)
        for field_name in ("module", "starts_at", "duration_minutes", "place", "filieres")
        if field_name not in seen.keys() | misspelled and (field_name != "starts_at" or not start_told)
    ]
    if missing:
        found.add(
            f"colonne(s) manquante(s) : {', '.join(missing)} (la ligne {line} doit donner les noms des "
            "colonnes, ex. module;début;durée;lieu;filières;formateur)",
            line,
        )
    start_problem = _start_fields_problem(seen, "colonne")
    if start_problem is not None:
        found.add(start_problem, line)
    required = ("module", "duration_minutes", "place", "filieres")
    if (
        start_problem is not None
        or not seen.keys() & {"starts_at", "date"}
        or not seen.keys() >= set(required)
    ):
        return None
    return columns


def _start_fields_problem(names: dict[str, str], kind: str) -> str | None:
    """Return what is wrong with the columns (kind "colonne") or fields giving the start, if anything."""
    if "starts_at" in names and ("date" in names or "time" in names):
        other = names.get("date") or names["time"]
        return (
            f"{kind}s {_quote(names['starts_at'])} et {_quote(other)} : écrivez le début (date et heure) "
            f"dans {_quote(names['starts_at'])}, ou bien la date dans « date » et l'heure dans « heure »"
        )
    if "time" in names and "date" not in names:
        return f"{kind} {_quote(names['time'])} sans {kind} « date » : ajoutez la date du jour"
    return None


def _csv_entry(
    cells: list[str], columns: list[_Column], delimiter: str, lines: tuple[int, int], found: _Found
) -> _Entry | None:
    """Return the values of one CSV row by field, None after reporting a row that cannot be split right."""
    first_line, last_line = lines
    if len(cells) > len(columns):
        separator = "tabulation" if delimiter == "\t" else delimiter
        others = " ou ".join(f"« {other} »" for other in (",", ";", "|") if other != delimiter)
        found.add(
            f"{len(cells)} valeurs pour {len(columns)} colonnes : une valeur contient sans doute le "
            f'séparateur « {separator} » ; mettez-la entre guillemets "...", et séparez les filières '
            f"par {others}",
            first_line,
        )
        return None
    for column, cell in zip(columns, cells, strict=False):
        if column.field_name is not None and ("\n" in cell or "\r" in cell):
            # Most likely a quote never closed, which swallowed what follows: the rest would only mislead.
            found.add(
                f"colonne {_quote(column.name)} : la valeur s'étend des lignes {first_line} à {last_line} "
                '(un guillemet « " » jamais fermé ?)',
                first_line,
            )
            return None
    entry = _Entry(first_line)
    for column, cell in zip(columns, cells, strict=False):
        if column.is_unnamed and cell.strip():
            found.add(
                f"la colonne n°{column.position} n'a pas de nom mais contient {_quote(cell)} : donnez-lui un "
                "nom (ex. « remarque »)",
                first_line,
            )
        if column.field_name is not None:
            entry.values[column.field_name] = _Value(cell, first_line, f"colonne {_quote(column.name)}")
    return entry


# --------------------------------------------------------------------------- YAML


def _yaml_entries(text: str, found: _Found) -> list[_Entry]:
    """Return the entries of a YAML text, reporting its syntax and field problems."""
    # Composing only, never constructing: the node tree keeps every value as typed, with its line.
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as error:
        found.add(*describe_syntax_error(error))
        return []
    except RecursionError:
        # Only PyYAML's own parser, used without libyaml, nests Python calls as deep as the file.
        found.add("erreur de syntaxe YAML : trop de crochets ou d'accolades les uns dans les autres")
        return []
    finally:
        loader.dispose()
    if root is None or is_null_node(root):
        found.add("le fichier est vide : écrivez une séance par entrée (chacune commence par '- module:')")
        return []
    if not isinstance(root, yaml.SequenceNode):
        found.add(
            "le fichier doit contenir une liste de séances (chacune commence par '- module:')",
            node_line(root),
        )
        return []
    entries: list[_Entry] = []
    for position, node in enumerate(root.value, start=1):
        if not isinstance(node, yaml.MappingNode):
            found.add(
                f"l'entrée n°{position} doit être un ensemble de champs (module, début, durée...)",
                node_line(node),
            )
            continue
        entries.append(_yaml_entry(node, found))
    return entries


def _yaml_entry(node: yaml.MappingNode, found: _Found) -> _Entry:
    """Return the values of one YAML entry by field, reporting unknown, repeated and unreadable fields."""
    entry = _Entry(node_line(node))
    names: dict[str, str] = {}
    for key_node, value_node in node.value:
        name = node_text(key_node)
        if name is None or is_null_node(key_node) or not name.strip():
            found.add("nom de champ illisible (écrivez par exemple 'module: Cuisine')", node_line(key_node))
            continue
        field_name = _field_of(name)
        if field_name is None:
            if not _is_note(name):
                message, meant = _unknown_name_problem(name, column=False)
                found.add(message, node_line(key_node))
                entry.reported.update({meant} if meant is not None else ())
            continue
        where = f"champ {_quote(name)}"
        if field_name in names:
            found.add(
                f"champs {_quote(names[field_name])} et {_quote(name)} : le même champ deux fois",
                node_line(key_node),
            )
            continue
        names[field_name] = name
        text = _yaml_text(value_node, field_name, where, found)
        if text is None:
            entry.reported.add(field_name)
        else:
            entry.values[field_name] = _Value(text, node_line(value_node), where)
    start_problem = _start_fields_problem(names, "champ")
    if start_problem is not None:
        found.add(start_problem, entry.line)
        entry.reported.update({"starts_at", "date", "time"})
    return entry


def _yaml_text(node: yaml.Node, field_name: str, where: str, found: _Found) -> str | None:
    """Return a field's value as one text (a list of filières joined by ";"), None after reporting it."""
    if is_null_node(node):
        return ""
    if field_name == "filieres" and isinstance(node, yaml.SequenceNode):
        names = [node_text(item) for item in node.value]
        if all(name is not None for name in names):
            return ";".join(name for name in names if name is not None)
        found.add(f"{where} : écrivez une liste de noms, ex. [Bâtiment, Logistique]", node_line(node))
        return None
    text = node_text(node)
    if text is None:
        found.add(f"{where} : écrivez un texte, pas une liste ni des sous-champs", node_line(node))
    return text


# --------------------------------------------------------------------------- checking the sessions


class _Filieres:
    """The filières trainees choose from, found again in what an admin wrote."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(dict.fromkeys(name.strip() for name in names if name.strip()))
        self._by_key: dict[str, str] = {}
        for name in self.names:
            self._by_key.setdefault(fold(name), name)

    def read(self, text: str, where: str, line: int, found: _Found) -> tuple[str, ...] | None:
        """Return the canonical names of the filières text lists, in configured order; None if reported."""
        chosen: set[str] = set()
        before = len(found)
        for group in _FILIERE_GROUPS.split(text):
            # A name may hold a comma ("Vente, magasin"): the whole group is tried before its parts.
            parts = [group] if self._known(group) else group.split(",")
            for part in parts:
                if not fold(part):
                    continue
                names = self._known(part)
                if names is None:
                    found.add(self._unknown(part, where), line)
                else:
                    chosen.update(names)
        if len(found) > before:
            return None
        if not chosen:
            found.add(_MISSING["filieres"], line)
            return None
        return tuple(name for name in self.names if name in chosen)

    def _known(self, text: str) -> tuple[str, ...] | None:
        """Return the filières one name stands for (all of them for "toutes"), None when unknown."""
        key = fold(text)
        if key in _ALL_FILIERES_WORDS:
            return self.names
        name = self._by_key.get(key)
        return None if name is None else (name,)

    def _unknown(self, text: str, where: str) -> str:
        """Return the problem of an unknown filière, with the one it probably stands for."""
        shown = _quote(" ".join(text.split()))
        choices = [*self._by_key, "toutes"]
        close = process.extractOne(fold(text), choices, scorer=fuzz.WRatio, score_cutoff=85)
        if close is not None:
            meant = close[0] if close[0] == "toutes" else self._by_key[close[0]]
            return f"{where} : filière {shown} inconnue : vouliez-vous dire {_quote(meant)} ?"
        if not self.names:
            return f"{where} : filière {shown} inconnue (aucune filière n'est configurée, voir FILIERES)"
        possible = ", ".join(self.names)
        return f"{where} : filière {shown} inconnue (filières possibles : {possible}, ou « toutes »)"


@dataclass(frozen=True, slots=True)
class _Identity:
    """What tells one session from another, kept even when the rest of its line has problems."""

    line: int
    id: str | None
    module: str | None
    starts_at: datetime | None
    local_start: datetime | None


def _check_entries(entries: list[_Entry], filieres: _Filieres, found: _Found) -> list[SessionRow]:
    """Return the valid sessions, reporting the problems of each entry and the duplicates."""
    rows: list[SessionRow] = []
    identities: list[_Identity] = []
    for entry in entries:
        row, identity = _check_entry(entry, filieres, found)
        identities.append(identity)
        if row is not None:
            rows.append(row)
    _report_duplicates(identities, found)
    return rows


def _check_entry(entry: _Entry, filieres: _Filieres, found: _Found) -> tuple[SessionRow | None, _Identity]:
    """Check one session's values; return the session when valid and what identifies it."""
    before = len(found)
    module = _required_text(entry, "module", found)
    start = _check_start(entry, found)
    duration = _check_duration(entry, found)
    place = _check_place(entry, found)
    names: tuple[str, ...] | None = None
    value = entry.values.get("filieres")
    if value is None or not value.text.strip():
        entry.report_missing("filieres", found)
    else:
        names = filieres.read(value.text, value.where, value.line, found)
    trainer = _optional_text(entry, "trainer", found)
    cancelled = _check_status(entry, found)
    session_id = _optional_text(entry, "id", found)
    local_start, starts_at = start if start is not None else (None, None)
    identity = _Identity(entry.line, session_id, module, starts_at, local_start)
    if (
        len(found) > before
        or module is None
        or local_start is None
        or starts_at is None
        or duration is None
        or place is None
        or names is None
        or cancelled is None
    ):
        return None, identity
    return SessionRow(
        key=_key(identity),
        module=module,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=duration),
        place=place,
        is_video=_LINK.match(place) is not None,
        filieres=names,
        trainer=trainer,
        cancelled=cancelled,
        line=entry.line,
    ), identity


def _key(identity: _Identity) -> str:
    """Return the session's key: the admin's id, else its module and Brussels start."""
    if identity.id is not None:
        return identity.id
    assert identity.local_start is not None
    return f"{identity.module}|{identity.local_start:%Y-%m-%dT%H:%M}"


def _tidy(text: str) -> str:
    """Return text cleaned of control characters, with every run of spaces (even no-break) made one."""
    return " ".join(clean_text(text).split())


def _optional_text(entry: _Entry, field_name: str, found: _Found) -> str | None:
    """Return a field's tidied text, None when absent or empty; report a text too long to be stored."""
    value = entry.values.get(field_name)
    text = _tidy(value.text) if value is not None else ""
    if value is None or not text:
        return None
    limit = MAX_CHARS.get(field_name)
    if limit is not None and len(text) > limit:
        found.add(f"{value.where} : trop long ({len(text)} caractères, maximum {limit})", value.line)
        entry.reported.add(field_name)
    return text


def _required_text(entry: _Entry, field_name: str, found: _Found) -> str | None:
    """Return a required field's tidied text, reporting it when absent or empty."""
    text = _optional_text(entry, field_name, found)
    if text is None:
        entry.report_missing(field_name, found)
    return text


def _check_start(entry: _Entry, found: _Found) -> tuple[datetime, datetime] | None:
    """Return the start as Brussels wall time (naive) and as a UTC instant, None after reporting it."""
    value = entry.values.get("starts_at")
    if value is None and "date" in entry.values:
        day_value = entry.values["date"]
        time_value = entry.values.get("time")
        value = day_value
        if time_value is not None:
            where = f"{day_value.where} et {time_value.where}"
            value = _Value(f"{day_value.text} {time_value.text}", day_value.line, where)
    if value is None or not _tidy(value.text):
        if not entry.reported & {"starts_at", "date", "time"}:
            entry.report_missing("starts_at", found)
        return None
    text = _tidy(value.text)
    try:
        local = _parse_local_start(text)
    except ValueError as error:
        found.add(f"{value.where} : {_quote(text)} : {error}", value.line)
        return None
    instant = brussels_instant(local.date(), local.time())
    shown = instant.astimezone(BRUSSELS)
    if shown.replace(tzinfo=None) != local:
        found.add(f"{value.where} : {_gap_message(local, shown)}", value.line)
        return None
    return local, instant


def _parse_local_start(text: str) -> datetime:
    """Read a Brussels date and time ("2026-11-25 09:00", "25/11/2026 9h30"), raising ValueError in French."""
    text = text.lower()
    match = _DATE_PREFIX.match(text)
    if match is None:
        raise ValueError(f"date et heure illisibles ({_DATE_EXAMPLE})")
    if match["iso_year"] is not None:
        year_text, month, day = match["iso_year"], int(match["iso_month"]), int(match["iso_day"])
    else:
        year_text, month, day = match["year"], int(match["month"]), int(match["day"])
    if len(year_text) == 2:
        raise ValueError(f"écrivez l'année en entier (20{year_text}), ex. 25/11/2026 09:00")
    year = int(year_text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"année {year} : vérifiez la date ({_DATE_EXAMPLE})")
    try:
        day_date = date(year, month, day)
    except ValueError:
        raise ValueError("ce jour n'existe pas (écrivez jour/mois/année, ex. 25/11/2026 09:00)") from None
    rest = text[match.end() :]
    if not rest.strip():
        raise ValueError("il manque l'heure (ex. 25/11/2026 09:00)")
    separator = _DATE_TIME_SEPARATOR.match(rest)
    time_match = _TIME.fullmatch(rest[separator.end() :].strip()) if separator is not None else None
    if time_match is None:
        raise ValueError(f"heure illisible ({_DATE_EXAMPLE})")
    hour = int(time_match["hour"])
    minute = int(time_match["minute"] or time_match["h_minute"] or 0)
    if hour > 23 or minute > 59 or int(time_match["second"] or 0) != 0:
        raise ValueError(f"heure impossible ({_DATE_EXAMPLE})")
    return datetime.combine(day_date, time(hour, minute))


def _gap_message(local: datetime, jumped_to: datetime) -> str:
    """Say that local falls in the hour Brussels clocks skip in spring, and which hour that is."""
    jump = jumped_to.utcoffset() or timedelta()
    before = (jumped_to - timedelta(seconds=1)).utcoffset() or timedelta()
    gap_start = jumped_to.replace(tzinfo=None) - (jump - before)
    return (
        f"le {local:%d/%m/%Y} à {local:%H:%M} n'existe pas à Bruxelles : cette nuit-là, on passe à l'heure "
        f"d'été et les horloges sautent de {gap_start:%H:%M} à {jumped_to:%H:%M} ; choisissez une autre heure"
    )


def _check_duration(entry: _Entry, found: _Found) -> int | None:
    """Return the duration in minutes, None after reporting it."""
    value = entry.values.get("duration_minutes")
    text = _tidy(value.text) if value is not None else ""
    if value is None or not text:
        entry.report_missing("duration_minutes", found)
        return None
    minutes = _parse_minutes(text.lower())
    if minutes is None:
        found.add(f"{value.where} : {_quote(text)} : durée illisible : {_DURATION_EXAMPLE}", value.line)
        return None
    if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        found.add(
            f"{value.where} : {minutes} minutes, il faut entre {MIN_DURATION_MINUTES} et "
            f"{MAX_DURATION_MINUTES} minutes ({MAX_DURATION_MINUTES // 60} h)",
            value.line,
        )
        return None
    return minutes


def _parse_minutes(text: str) -> int | None:
    """Read "90", "90 min", "1h30", "2h" or "1:30" as minutes, None when unreadable."""
    match = _DURATION_MINUTES.fullmatch(text)
    if match is not None:
        return int(match["minutes"])
    match = _DURATION_HOURS.fullmatch(text)
    if match is None:
        return None
    hours = int(match["hours"] or match["clock_hours"])
    minutes = int(match["minutes"] or match["clock_minutes"] or 0)
    return None if minutes > 59 else hours * 60 + minutes


def _check_place(entry: _Entry, found: _Found) -> str | None:
    """Return the room or video link, None after reporting it."""
    place = _required_text(entry, "place", found)
    if place is None:
        return None
    value = entry.values["place"]
    if _LINK_LIKE.match(place) and _LINK.match(place) is None:
        found.add(
            f"{value.where} : {_quote(place)} : lien incomplet, il doit commencer par https:// "
            "(ex. https://meet.jit.si/cisp-cv)",
            value.line,
        )
        return None
    return place


def _check_status(entry: _Entry, found: _Found) -> bool | None:
    """Return whether the session is cancelled, None after reporting an unknown status."""
    value = entry.values.get("status")
    if value is None:
        return False
    word = fold(value.text)
    if word in _CANCELLED_WORDS:
        return True
    if word in _ACTIVE_WORDS:
        return False
    found.add(
        f"{value.where} : {_quote(value.text)} : statut inconnu (laissez vide, ou écrivez « annulée »)",
        value.line,
    )
    return None


def _report_duplicates(identities: list[_Identity], found: _Found) -> None:
    """Report each session given twice: same id, or same module and start, or the same key."""
    by_id: dict[str, int] = {}
    by_slot: dict[tuple[str, datetime], int] = {}
    by_key: dict[str, int] = {}
    for identity in identities:
        if identity.id is not None:
            first = by_id.setdefault(identity.id.casefold(), identity.line)
            if first != identity.line:
                found.add(f"id {_quote(identity.id)} en double (déjà ligne {first})", identity.line)
                continue
        if identity.module is None or identity.starts_at is None:
            continue
        first = by_slot.setdefault((fold(identity.module), identity.starts_at), identity.line)
        if first != identity.line:
            found.add(
                f"même module et même début que la ligne {first} : une séance en double ? (pour deux groupes "
                "en même temps, donnez-leur des noms de module différents, ex. « … – groupe A »)",
                identity.line,
            )
            continue
        key = _key(identity).casefold()
        first = by_key.setdefault(key, identity.line)
        if first != identity.line:
            found.add(f"clé {_quote(_key(identity))} en double (déjà ligne {first})", identity.line)
