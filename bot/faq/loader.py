"""Load and validate the FAQ: a directory of YAML files edited by the centre's staff.

Every ``*.yaml`` file directly inside the FAQ directory holds a YAML list of entries. Sub-directories
(``drafts/``) and hidden files are ignored so that unpublished drafts never reach the trainees.
Validation collects *every* problem (with file, entry, field and line) instead of stopping at the
first one: an administrator fixing the files should see the whole list at once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from bot.common.languages import LANGUAGES, TRANSLATED_ANSWER_FIELDS, TRANSLATED_STEPS_FIELDS
from bot.files.problems import EntryProblem, ProblemsError
from bot.files.yaml_nodes import describe_syntax_error

__all__ = [
    "LANGUAGES",
    "FaqBase",
    "FaqEntry",
    "FaqError",
    "FaqProblem",
    "check_faq",
    "fingerprint",
    "load_faq",
]

_SafeLoader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FAQ_FILE_SUFFIX = ".yaml"
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# An id travels in button payloads ("faq:<id>"), which Telegram limits to 64 bytes.
MAX_ID_CHARS = 60
REQUIRED_TEXT_FIELDS = ("question",)
# The id of a draft the bot wrote from a request (FAQ_DIR/drafts/): never published as it is.
DRAFT_ID = re.compile(r"brouillon-demande-\d+")
# Plain language on a phone (warnings of faq check, not errors): a message fits the screen, a step is
# short, a sentence can be read in one go.
MAX_MESSAGE_CHARS = 350
MAX_STEP_CHARS = 200
MAX_SENTENCE_WORDS = 20
# The steps' buttons carry the step's number in one digit (64 bytes hold "s:<n>.<the longest id>").
MAX_STEPS = 9
# Their names in the admins' messages: "pas de réponse en anglais", "/langue propose l'anglais".
_LANGUAGE_NAMES = {"nl": ("néerlandais", "le néerlandais"), "en": ("anglais", "l'anglais")}
KNOWN_FIELDS = (
    "id",
    "question",
    "answer",
    "alternatives",
    "keywords",
    "follow_ups",
    "button",
    "answer_nl",
    "answer_en",
    "steps",
    "steps_nl",
    "steps_en",
)
# A short label for buttons (WhatsApp list rows show 24 characters).
MAX_BUTTON_CHARS = 24
# Two questions with the same content words and at least this similar (rapidfuzz ratio on normalised
# letters) are one question.
NEAR_DUPLICATE_SCORE = 85


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """Hold one question/answer pair of the FAQ."""

    id: str
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    follow_ups: tuple[str, ...] = ()
    source: str = ""
    translations: tuple[tuple[str, str], ...] = ()  # (language, answer) pairs besides French
    button: str | None = None  # short label for buttons; None: the question, shortened
    # The answer as short steps, shown one at a time (empty: the answer is one message).
    steps: tuple[str, ...] = ()
    translated_steps: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (language, steps) besides French

    def answer_in(self, language: str | None) -> str:
        """Return the answer in language when the file provides it, else the French answer."""
        for code, answer in self.translations:
            if code == language:
                return answer
        return self.answer

    def steps_in(self, language: str | None) -> tuple[str, ...]:
        """Return the answer in language as the messages to show one after the other (one: no steps)."""
        for code, steps in self.translated_steps:
            if code == language:
                return steps
        if language in {code for code, _ in self.translations}:
            return (self.answer_in(language),)
        return self.steps or (self.answer,)


@dataclass(frozen=True, slots=True)
class FaqProblem(EntryProblem):
    """One problem found in the FAQ files; its entry is an FAQ entry."""

    # A warning does not stop the FAQ from loading (a translation still to write).
    warning: bool = False
    # The field the problem is in, when one is ("question", "steps"...): the console shows it there.
    field: str | None = None


class FaqError(ProblemsError[FaqProblem]):
    """Signal that the FAQ cannot be loaded; ``problems`` lists every problem found."""

    more_hint = " : cisp-bot faq check les montre tous"


@dataclass(frozen=True)
class FaqBase:
    """Hold the validated FAQ entries, in file order, with a lookup by id."""

    entries: tuple[FaqEntry, ...]
    directory: Path
    _by_id: dict[str, FaqEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the entries by id once."""
        object.__setattr__(self, "_by_id", {entry.id: entry for entry in self.entries})

    def get(self, entry_id: str) -> FaqEntry | None:
        """Return the entry with this id, or None."""
        return self._by_id.get(entry_id)

    def __len__(self) -> int:
        """Return the number of entries."""
        return len(self.entries)


def load_faq(directory: Path) -> FaqBase:
    """Load the FAQ directory, raising FaqError that lists all the problems found.

    Near-identical questions are reported by check_faq but do not stop loading: the bot answers
    well enough with them, and refusing a reload for them would be worse.
    """
    directory = Path(directory)
    entries, problems, _ = _read_directory(directory)
    problems += _lexicon_problems(directory)
    if problems:
        raise FaqError(problems)
    return FaqBase(entries=tuple(entries), directory=directory)


def fingerprint(directory: Path) -> str:
    """Return a digest of the FAQ files, the admins' lexicon and intents: equal digests, same contents."""
    digest = hashlib.sha256()
    directory = Path(directory)
    paths = sorted(
        [
            *directory.glob(f"*{FAQ_FILE_SUFFIX}"),
            *directory.glob(f"lexique/*{FAQ_FILE_SUFFIX}"),
            *directory.glob(f"intentions/*{FAQ_FILE_SUFFIX}"),
        ]
    )
    for path in paths:
        try:
            content = path.read_bytes()
        except OSError:
            continue  # removed while listing: the next look sees it gone
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def check_faq(directory: Path, languages: Iterable[str] = ()) -> list[FaqProblem]:
    """Return every problem in the FAQ directory (an empty list means the FAQ is valid).

    languages: the languages the bot offers (FAQ_LANGUAGES); each entry without an answer in one
    of them gets a warning (``warning=True``), not an error: the French answer is shown instead, and
    an entry just written in French can be published before it is translated.
    """
    _, problems, raw_entries = _read_directory(Path(directory))
    return (
        problems
        + _near_duplicate_questions(raw_entries)
        + _lexicon_problems(Path(directory))
        + _missing_translations(raw_entries, languages)
        + _hard_to_read(raw_entries)
    )


# --------------------------------------------------------------------------- implementation


def _lexicon_problems(directory: Path) -> list[FaqProblem]:
    """Return the problems of the admins' lexicon additions (FAQ_DIR/lexique/*.yaml)."""
    from bot.faq.normalize import LEXICON_DIR_NAME, check_lexicon_dir

    if not directory.is_dir():
        return []
    return check_lexicon_dir(directory / LEXICON_DIR_NAME)


@dataclass(slots=True)
class _RawEntry:
    """Keep what is needed to check an entry after all files are read (ids may point across files)."""

    entry: FaqEntry
    line: int
    follow_up_lines: dict[str, int]


def _faq_files(directory: Path) -> list[Path]:
    """Return the published FAQ files: ``*.yaml`` directly in the directory, hidden files excluded."""
    return sorted(
        path
        for path in directory.iterdir()
        if path.suffix == FAQ_FILE_SUFFIX and not path.name.startswith(".") and path.is_file()
    )


def _read_directory(
    directory: Path,
) -> tuple[list[FaqEntry], list[FaqProblem], list[tuple[str, _RawEntry]]]:
    """Read and validate every FAQ file; return the valid entries, all problems, and the raw entries."""
    if directory.exists() and not directory.is_dir():
        return [], [FaqProblem(str(directory), "c'est un fichier, pas un dossier FAQ")], []
    if not directory.is_dir():
        return [], [FaqProblem(str(directory), "le dossier FAQ n'existe pas")], []
    try:
        files = _faq_files(directory)
    except OSError as error:
        return [], [FaqProblem(str(directory), f"impossible de lire le dossier FAQ ({error.strerror})")], []
    if not files:
        return [], [FaqProblem(str(directory), f"aucun fichier {FAQ_FILE_SUFFIX} dans le dossier FAQ")], []

    problems: list[FaqProblem] = []
    raw_entries: list[tuple[str, _RawEntry]] = []
    for path in files:
        for raw in _read_file(path, problems):
            raw_entries.append((path.name, raw))

    if not raw_entries and not problems:
        problems.append(FaqProblem(str(directory), "aucune entrée dans les fichiers FAQ"))

    first_seen: dict[str, tuple[str, int]] = {}
    entries: list[FaqEntry] = []
    for file_name, raw in raw_entries:
        entry_id = raw.entry.id
        if entry_id in first_seen:
            other_file, other_line = first_seen[entry_id]
            problems.append(
                FaqProblem(
                    file_name,
                    f"id '{entry_id}' en double (déjà utilisé dans {other_file}, ligne {other_line})",
                    entry_id,
                    raw.line,
                )
            )
            continue
        first_seen[entry_id] = (file_name, raw.line)
        entries.append(raw.entry)

    # A follow-up into an entry that has a problem of its own, or into a file that cannot be read at all,
    # is not this entry's mistake: one broken file shows its errors, not errors in files nobody touched.
    existing = set(first_seen) | {problem.entry for problem in problems if problem.entry}
    unreadable = {problem.file for problem in problems if problem.entry is None}
    for file_name, raw in raw_entries:
        for follow_up in raw.entry.follow_ups:
            if follow_up not in existing and not (unreadable - {file_name}):
                problems.append(
                    FaqProblem(
                        file_name,
                        f"champ 'follow_ups' : l'id '{follow_up}' n'existe pas",
                        raw.entry.id,
                        raw.follow_up_lines.get(follow_up, raw.line),
                    )
                )
    return entries, problems, raw_entries


def _read_file(path: Path, problems: list[FaqProblem]) -> Iterator[_RawEntry]:
    """Yield the valid entries of one file, appending its problems to ``problems``."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as error:
        problems.append(FaqProblem(name, f"impossible de lire le fichier ({error.strerror})"))
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad_line = data[: error.start].count(b"\n") + 1
        problems.append(
            FaqProblem(name, "le fichier n'est pas encodé en UTF-8 (enregistrez-le en UTF-8)", line=bad_line)
        )
        return

    # Safe loaders only: composing keeps the node tree (with line numbers) and constructing it with the
    # same safe loader gives exactly what yaml.safe_load would return. libyaml's parser is ten times
    # faster (a 1,000-entry FAQ loads in a fraction of a second); PyYAML's own is the fallback.
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
        document = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as error:
        problems.append(_syntax_problem(name, error, text))
        return
    finally:
        loader.dispose()

    if root is None or document is None:
        # A file holding only comments is harmless (e.g. a placeholder): it simply has no entries.
        return
    if not isinstance(root, yaml.SequenceNode) or not isinstance(document, list):
        problems.append(
            FaqProblem(
                name,
                "le fichier doit contenir une liste d'entrées (chaque entrée commence par '- id:')",
                line=root.start_mark.line + 1,
            )
        )
        return

    for position, (node, value) in enumerate(zip(root.value, document, strict=True), start=1):
        raw = _check_entry(name, position, node, value, problems)
        if raw is not None:
            yield raw


def _syntax_problem(file_name: str, error: yaml.YAMLError, source: str) -> FaqProblem:
    """Describe a YAML syntax error in French, at the line where the admin should look."""
    message, line = describe_syntax_error(error, source)
    return FaqProblem(file_name, message, line=line)


Report = Callable[[str, str], None]


def _check_entry(
    file_name: str, position: int, node: yaml.Node, value: Any, problems: list[FaqProblem]
) -> _RawEntry | None:
    """Validate one entry; return it when valid, else append its problems and return None."""
    entry_line = node.start_mark.line + 1
    fallback_label = f"entrée n°{position}"
    if not isinstance(node, yaml.MappingNode) or not isinstance(value, dict):
        problems.append(
            FaqProblem(
                file_name,
                "l'entrée doit être un ensemble de champs (id, question, answer...)",
                fallback_label,
                entry_line,
            )
        )
        return None
    label = str(value.get("id", fallback_label))
    field_lines = _field_lines(
        node,
        lambda message, line, entry=None: problems.append(
            FaqProblem(file_name, message, entry or label, line)
        ),
    )
    entry_problems = _unknown_fields(field_lines)

    def report(message: str, field_name: str) -> None:
        entry_problems.append((message, field_lines.get(field_name, entry_line), field_name))

    label = _checked_id(value, fallback_label, report)
    if DRAFT_ID.fullmatch(label):
        report(
            "c'est un brouillon tiré d'une demande, pas encore relu : enlevez les noms et les détails "
            "personnels, donnez-lui un id à vous (ex. 'wifi-maison'), puis publiez-le",
            "id",
        )
    texts: dict[str, str] = {}
    for field_name in REQUIRED_TEXT_FIELDS:
        field_value = value.get(field_name)
        if field_value is None or (isinstance(field_value, str) and not field_value.strip()):
            report(f"champ '{field_name}' manquant ou vide", field_name)
        elif not isinstance(field_value, str):
            report(f"champ '{field_name}' doit être un texte (mettez-le entre guillemets)", field_name)
        else:
            texts[field_name] = field_value.strip()
    steps = _checked_steps(value, "steps", report)
    _checked_answer(value, steps, texts, report)
    alternatives = _string_list(value, "alternatives", report, allow_empty_items=False)
    keywords = _string_list(value, "keywords", report, allow_empty_items=True)
    follow_ups = _string_list(value, "follow_ups", report, allow_empty_items=False)
    translated_steps = [
        (code, checked)
        for code, field_name in TRANSLATED_STEPS_FIELDS.items()
        if (checked := _checked_steps(value, field_name, report))
    ]
    translations = _checked_translations(value, report)
    translated = {code for code, _ in translations}
    translations += [(code, "\n".join(each)) for code, each in translated_steps if code not in translated]
    button = _checked_button(value, report)
    problems.extend(
        FaqProblem(file_name, message, label, line, field=field) for message, line, field in entry_problems
    )
    if entry_problems:
        return None
    entry = FaqEntry(
        id=str(value["id"]),
        question=texts["question"],
        answer=texts["answer"],
        alternatives=tuple(item.strip() for item in alternatives),
        keywords=tuple(item.strip() for item in keywords if item.strip()),
        follow_ups=tuple(item.strip() for item in follow_ups),
        source=file_name,
        translations=tuple(translations),
        button=button,
        steps=steps,
        translated_steps=tuple(translated_steps),
    )
    follow_up_line = field_lines.get("follow_ups", entry_line)
    return _RawEntry(entry, entry_line, dict.fromkeys(entry.follow_ups, follow_up_line))


def _field_lines(node: yaml.MappingNode, duplicate: Callable[..., None]) -> dict[str, int]:
    """Return the line of each field of an entry; report a field written twice (or a forgotten dash)."""
    field_lines: dict[str, int] = {}
    glued = False  # a second "id:" in one entry: the next entry's dash is missing
    first_id: str | None = None
    for key_node, value_node in node.value:
        if (
            getattr(key_node, "value", None) == "id"
            and first_id is None
            and isinstance(value_node, yaml.ScalarNode)
        ):
            first_id = str(value_node.value)
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if isinstance(key, str):
            line = key_node.start_mark.line + 1
            if key == "id" and key in field_lines and not glued:
                glued = True
                # Its fields then all look doubled: one problem, the real slip, instead of one per field.
                # Named after the first entry: what points to it (a follow-up) is not wrong.
                duplicate(
                    "deux entrées collées : il manque sans doute le tiret « - » au début de cette ligne "
                    "(chaque entrée commence par « - id: »)",
                    line,
                    first_id,
                )
            elif key in field_lines and not glued:
                duplicate(f"champ '{key}' en double dans la même entrée", line)
            field_lines.setdefault(key, line)
    return field_lines


def _unknown_fields(field_lines: dict[str, int]) -> list[tuple[str, int, str]]:
    """Return the problems of fields spelt like a known one (extra fields are welcome)."""
    found = []
    for key, line in field_lines.items():
        if key in KNOWN_FIELDS:
            continue
        # A field spelled like a known field is a typo that would hide content.
        close = process.extractOne(key, KNOWN_FIELDS, scorer=fuzz.ratio, score_cutoff=75)
        if close is not None:
            found.append((f"champ '{key}' inconnu : vouliez-vous dire '{close[0]}' ?", line, key))
    return found


def _checked_id(value: dict[str, Any], fallback_label: str, report: Report) -> str:
    """Check the entry's id; return how the entry is named in problems (its id, when it has one)."""
    entry_id = value.get("id")
    if "id" not in value or entry_id is None or entry_id == "":
        report("champ 'id' manquant ou vide", "id")
        return fallback_label
    if not isinstance(entry_id, str):
        report("champ 'id' doit être un texte (mettez-le entre guillemets)", "id")
        return fallback_label
    if not ID_PATTERN.fullmatch(entry_id):
        report(
            f"id '{entry_id}' invalide : utilisez seulement des minuscules sans accents, des chiffres "
            "et des tirets (ex. 'wifi-mot-de-passe')",
            "id",
        )
    elif len(entry_id) > MAX_ID_CHARS:
        report(f"id trop long ({len(entry_id)} caractères, maximum {MAX_ID_CHARS})", "id")
    return entry_id


def _checked_answer(
    value: dict[str, Any], steps: tuple[str, ...], texts: dict[str, str], report: Report
) -> None:
    """Put the entry's answer in texts: its own, or its steps one per line; report a missing one."""
    answer = value.get("answer")
    if isinstance(answer, str) and answer.strip():
        texts["answer"] = answer.strip()
    elif answer is not None and not isinstance(answer, str):
        report("champ 'answer' doit être un texte (mettez-le entre guillemets)", "answer")
    elif steps:
        texts["answer"] = "\n".join(steps)
    elif "steps" not in value:
        report("champ 'answer' manquant ou vide (ou donnez la réponse en 'steps')", "answer")


def _checked_steps(value: dict[str, Any], field_name: str, report: Report) -> tuple[str, ...]:
    """Return an entry's steps in one language (none if it gives none); report a wrong shape."""
    if field_name not in value:
        return ()
    steps = value[field_name]
    if not isinstance(steps, list) or not steps:
        report(
            f"champ '{field_name}' : une liste d'étapes, chacune sur une ligne qui commence par « - »",
            field_name,
        )
        return ()
    if not all(isinstance(step, str) and step.strip() for step in steps):
        report(f"champ '{field_name}' : chaque étape doit être un texte non vide", field_name)
        return ()
    if len(steps) > MAX_STEPS:
        report(f"champ '{field_name}' : {len(steps)} étapes, au plus {MAX_STEPS}", field_name)
        return ()
    return tuple(step.strip() for step in steps)


def _checked_translations(value: dict[str, Any], report: Report) -> list[tuple[str, str]]:
    """Return the answers in other languages, (language, text); report an empty or non-text one."""
    translations: list[tuple[str, str]] = []
    for language, field_name in TRANSLATED_ANSWER_FIELDS.items():
        if field_name not in value:
            continue
        translated = value[field_name]
        if not isinstance(translated, str) or not translated.strip():
            report(f"champ '{field_name}' doit être un texte non vide", field_name)
        else:
            translations.append((language, translated.strip()))
    return translations


def _checked_button(value: dict[str, Any], report: Report) -> str | None:
    """Return the entry's short button title, if it gives one; report an empty or too long one."""
    button = value.get("button")
    if button is not None and (not isinstance(button, str) or not button.strip()):
        report("champ 'button' doit être un texte non vide", "button")
    elif isinstance(button, str) and len(button.strip()) > MAX_BUTTON_CHARS:
        report(
            f"champ 'button' trop long ({len(button.strip())} caractères, maximum {MAX_BUTTON_CHARS})",
            "button",
        )
    return button.strip() if isinstance(button, str) else None


def _string_list(
    value: dict[Any, Any],
    field_name: str,
    report: Callable[[str, str], None],
    *,
    allow_empty_items: bool,
) -> list[str]:
    """Return an optional list-of-strings field, reporting a wrong type or empty items."""
    items = value.get(field_name)
    if items is None:
        # `alternatives:` left blank is how people write "none yet": treat it as an empty list.
        return []
    if not isinstance(items, list):
        report(f"champ '{field_name}' doit être une liste (une ligne '- ...' par élément)", field_name)
        return []
    result: list[str] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, str):
            report(
                f"champ '{field_name}' : l'élément n°{index} doit être un texte (mettez-le entre guillemets)",
                field_name,
            )
        elif not allow_empty_items and not item.strip():
            report(f"champ '{field_name}' : l'élément n°{index} est vide", field_name)
        else:
            result.append(item)
    return result


def _missing_translations(
    raw_entries: list[tuple[str, _RawEntry]], languages: Iterable[str]
) -> list[FaqProblem]:
    """Warn about each entry that has no answer in an offered language (one line per entry)."""
    offered = [code for code in dict.fromkeys(languages) if code != "fr"]
    unknown = [code for code in offered if code not in TRANSLATED_ANSWER_FIELDS]
    if unknown:
        raise ValueError(f"unknown FAQ languages {unknown}; known: {', '.join(LANGUAGES)}")
    warnings = []
    for file_name, raw in raw_entries:
        translated = {code for code, _ in raw.entry.translations}
        missing = [code for code in offered if code not in translated]
        if not missing:
            continue
        absent = " ni ".join(
            f"en {_LANGUAGE_NAMES[code][0]} ({TRANSLATED_ANSWER_FIELDS[code]})" for code in missing
        )
        proposed = " et ".join(_LANGUAGE_NAMES[code][1] for code in missing)
        warnings.append(
            FaqProblem(
                file_name,
                f"pas de réponse {absent}, alors que /langue propose {proposed} : "
                "la réponse en français est montrée à la place",
                raw.entry.id,
                raw.line,
                warning=True,
            )
        )
    return warnings


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _hard_to_read(raw_entries: list[tuple[str, _RawEntry]]) -> list[FaqProblem]:
    """Warn about answers a trainee reads with difficulty on a phone: long messages, steps, sentences."""
    warnings = []
    for file_name, raw in raw_entries:
        entry = raw.entry
        for language in ("fr", *(code for code, _ in entry.translations)):
            for message in _reading_problems(entry, language):
                warnings.append(FaqProblem(file_name, message, entry.id, raw.line, warning=True))
    return warnings


def _reading_problems(entry: FaqEntry, language: str) -> list[str]:
    """Return what is hard to read in one language of an entry, one line per kind of problem."""
    messages = entry.steps_in(None if language == "fr" else language)
    where = "" if language == "fr" else f" en {_LANGUAGE_NAMES[language][0]}"
    as_steps = len(messages) > 1
    found = []
    longest = max(messages, key=len)
    if len(longest) > MAX_MESSAGE_CHARS:
        found.append(
            f"réponse{where} de {len(longest)} caractères : plus qu'un écran de téléphone "
            f"({MAX_MESSAGE_CHARS}) ; donnez-la en étapes courtes ('steps')"
        )
    elif as_steps and len(longest) > MAX_STEP_CHARS:
        found.append(
            f"étape{where} de {len(longest)} caractères (« {longest[:40]}... ») : "
            f"gardez chaque étape sous {MAX_STEP_CHARS} caractères"
        )
    sentences = [sentence for message in messages for sentence in _SENTENCE_END.split(message)]
    wordy = [sentence for sentence in sentences if len(sentence.split()) > MAX_SENTENCE_WORDS]
    if wordy:
        found.append(
            f"phrase{where} de {len(wordy[0].split())} mots (« {wordy[0][:40]}... ») : "
            f"coupez les phrases de plus de {MAX_SENTENCE_WORDS} mots"
        )
    return found


def _near_duplicate_questions(raw_entries: list[tuple[str, _RawEntry]]) -> list[FaqProblem]:
    """Report entries whose question says the same as an earlier entry's: trainees can't choose.

    Same content words (after the lexicon and stemming) and nearly the same letters: "Comment se
    connecter au Wi-Fi ?" and "comment se connecter au wifi" are one question; "activer le Wi-Fi" and
    "désactiver le Wi-Fi", or "local 12" and "local 21", are two.
    """
    from bot.faq.normalize import normalize, tokens

    seen: list[tuple[frozenset[str], str, str, _RawEntry]] = []
    problems = []
    for file_name, raw in raw_entries:
        # Numbers are part of what a question asks ("local 12" and "local 21" are two rooms).
        words = frozenset(tokens(raw.entry.question)) | frozenset(re.findall(r"\d+", raw.entry.question))
        # Spaces removed: "wi-fi" and "wifi" are the same word to a trainee.
        letters = normalize(raw.entry.question).replace(" ", "")
        for other_words, other_letters, other_file, other in seen:
            if other.entry.id == raw.entry.id:
                continue
            same_words = bool(words) and words == other_words
            if letters == other_letters or (
                same_words and fuzz.ratio(letters, other_letters) >= NEAR_DUPLICATE_SCORE
            ):
                problems.append(
                    FaqProblem(
                        file_name,
                        f"question presque identique à celle de l'entrée '{other.entry.id}' "
                        f"({other_file}, ligne {other.line}) : fusionnez-les ou précisez la différence",
                        raw.entry.id,
                        raw.line,
                    )
                )
                break
        seen.append((words, letters, file_name, raw))
    return problems
