"""Add a phrasing to an entry's `alternatives` in the admins' FAQ file, keeping everything else as it was.

The file is read and written with ruamel.yaml in round-trip mode, so the admins' comments, key order,
quotes and block texts survive. ruamel.yaml has one indentation setting for a whole file, while the FAQ
files put the entries' dashes at the margin and indent the lists inside them: the layout that rewrites
the file unchanged is found first, and a file no layout reproduces is refused rather than reformatted.
The result is checked (it must read back as the old data plus the new phrasing) and written whole, by a
rename, so that the bot's file watcher never reads half a file.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from io import StringIO
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from bot.common.text import fold

try:
    import fcntl
except ImportError:  # not on Windows: one writer at a time is then up to the admins
    fcntl = None  # type: ignore[assignment]


class AddResult(StrEnum):
    """What adding a phrasing did."""

    ADDED = "added"
    ALREADY_THERE = "already_there"  # the entry's question or one of its alternatives says it already


class AlternativeError(Exception):
    """The phrasing could not be added; the message says why, in French, for an admin."""


@dataclass(frozen=True)
class _Layout:
    """One way of indenting a file: ruamel.yaml's settings, then spaces taken off every line."""

    mapping: int
    sequence: int
    offset: int
    dedent: int


# The shipped style first ("- id:" at the margin, "    - ..." under "  alternatives:"), then the usual others.
LAYOUTS = (
    _Layout(2, 4, 2, 2),
    _Layout(2, 2, 0, 0),
    _Layout(2, 4, 2, 0),
    _Layout(4, 6, 2, 2),
    _Layout(4, 4, 0, 0),
    _Layout(4, 6, 2, 0),
)


def same_phrasing(text: str) -> str:
    """Return the form two phrasings are compared in: lowercase, no accents, punctuation or spaces."""
    # Spaces go too, as in the loader's near-duplicate check: "wi-fi" and "wifi" are one word to a trainee.
    return fold(text).replace(" ", "")


def add_alternative(directory: Path, file_name: str, entry_id: str, question: str) -> AddResult:
    """Add question to the alternatives of entry_id in directory/file_name, unless it is already there."""
    question = " ".join(question.split())
    if not question:
        raise AlternativeError("la phrase est vide")
    if Path(file_name).name != file_name or not file_name.endswith(".yaml"):
        raise AlternativeError(f"nom de fichier FAQ inattendu : {file_name}")
    path = directory / file_name
    with one_writer(directory):
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise AlternativeError(f"impossible de lire {file_name} ({error.strerror})") from error
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise AlternativeError(f"{file_name} n'est pas en UTF-8") from error
        # Written back as they came: a byte-order mark and Windows line ends (Notepad) are kept.
        bom, crlf = raw.startswith(b"\xef\xbb\xbf"), "\r\n" in text
        text = text.replace("\r\n", "\n")
        new_text = _with_alternative(text, file_name, entry_id, question)
        if new_text is None:
            return AddResult.ALREADY_THERE
        if crlf:
            new_text = new_text.replace("\n", "\r\n")
        replace_file(path, ("\ufeff" if bom else "") + new_text)
    return AddResult.ADDED


def _with_alternative(text: str, file_name: str, entry_id: str, question: str) -> str | None:
    """Return the file's text with the phrasing added, or None when the entry already has it."""
    try:
        before = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise AlternativeError(f"{file_name} a une erreur de syntaxe (cisp-bot faq check)") from error
    try:
        # The indentation settings only matter for writing: one reading serves every layout.
        document = round_trip(LAYOUTS[0]).load(text)
    except RuamelError as error:
        raise AlternativeError(f"{file_name} a une erreur de syntaxe (cisp-bot faq check)") from error
    position = position_of(document, entry_id)
    if position is None:
        raise AlternativeError(f"l'entrée '{entry_id}' n'est plus dans {file_name}")
    entry = document[position]
    known = [entry.get("question"), *(entry.get("alternatives") or [])]
    if any(isinstance(item, str) and same_phrasing(item) == same_phrasing(question) for item in known):
        return None
    found = layout_of(document, text)
    if found is None:
        raise cannot_keep_layout(file_name)
    layout, unchanged = found
    _append(entry, question)
    new_text = patch(text, unchanged, dump(document, layout))
    if new_text is None:
        raise cannot_keep_layout(file_name)
    # The proof that nothing else moved: the new file reads as the old one plus the phrasing.
    expected = copy.deepcopy(before)
    expected[position]["alternatives"] = [*(expected[position].get("alternatives") or []), question]
    try:
        same = yaml.safe_load(new_text) == expected
    except yaml.YAMLError:
        same = False
    if not same:
        raise AlternativeError(f"la réécriture de {file_name} changerait autre chose : rien n'est écrit")
    return new_text


def cannot_keep_layout(file_name: str) -> AlternativeError:
    return AlternativeError(
        f"je ne sais pas réécrire {file_name} sans changer sa mise en page : "
        "ajoutez la phrase à la main dans ses 'alternatives'"
    )


def patch(text: str, unchanged: str, changed: str) -> str | None:
    """Apply to the admin's text only the lines that ruamel.yaml's rewrite changed.

    ruamel.yaml may move a comment by a space or two; the admin's lines are kept as typed, line for line,
    and only the added or changed lines come from the rewrite. None when the rewrite is not line for line
    the same file (then its changes cannot be placed safely).
    """
    original, before, after = text.splitlines(True), unchanged.splitlines(True), changed.splitlines(True)
    if original and not original[-1].endswith("\n"):
        original[-1] += "\n"
    if len(original) != len(before) or any(
        a.split() != b.split() for a, b in zip(original, before, strict=True)
    ):
        return None
    lines: list[str] = []
    for tag, first, last, new_first, new_last in SequenceMatcher(
        None, before, after, autojunk=False
    ).get_opcodes():
        lines += original[first:last] if tag == "equal" else after[new_first:new_last]
    return "".join(lines)


def round_trip(layout: _Layout) -> YAML:
    parser = YAML(typ="rt")
    parser.preserve_quotes = True
    parser.width = 4096  # never fold the admins' long lines
    parser.indent(mapping=layout.mapping, sequence=layout.sequence, offset=layout.offset)
    return parser


def dump(document: Any, layout: _Layout) -> str:
    stream = StringIO()
    round_trip(layout).dump(document, stream, transform=_dedent(layout.dedent))
    return stream.getvalue()


def _dedent(spaces: int) -> Callable[[str], str] | None:
    if not spaces:
        return None
    margin = " " * spaces

    def transform(text: str) -> str:
        return "".join(line[spaces:] if line.startswith(margin) else line for line in text.splitlines(True))

    return transform


def layout_of(document: Any, text: str) -> tuple[_Layout, str] | None:
    """Return the layout whose rewrite indents the file's lines as they are (comments aside), and the rewrite.

    None when no layout rewrites the file line for line.
    """
    original = text.splitlines()
    counted = [index for index, line in enumerate(original) if not line.lstrip().startswith("#")]
    best: tuple[int, _Layout, str] | None = None
    for layout in LAYOUTS:
        rewritten = dump(document, layout)
        lines = rewritten.splitlines()
        if len(lines) != len(original):
            continue
        # Comments may move by a space in the rewrite; patch keeps the admin's lines anyway.
        same = sum(_indent(original[index]) == _indent(lines[index]) for index in counted)
        if same == len(counted):
            return layout, rewritten
        if best is None or same > best[0]:
            best = (same, layout, rewritten)
    return (best[1], best[2]) if best is not None else None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def position_of(document: Any, entry_id: str) -> int | None:
    if not isinstance(document, CommentedSeq):
        return None
    for position, entry in enumerate(document):
        if isinstance(entry, CommentedMap) and entry.get("id") == entry_id:
            return position
    return None


def _append(entry: CommentedMap, question: str) -> None:
    """Append the phrasing in the quotes the neighbouring phrasings use."""
    alternatives = entry.get("alternatives")
    model = alternatives[-1] if isinstance(alternatives, list) and alternatives else entry.get("question")
    value: str = question
    if isinstance(model, DoubleQuotedScalarString):
        value = DoubleQuotedScalarString(question)
    elif isinstance(model, SingleQuotedScalarString):
        value = SingleQuotedScalarString(question)
    if isinstance(alternatives, CommentedSeq):
        last = len(alternatives) - 1
        alternatives.append(value)
        # Full-line comments after the last phrasing belong before the next field: they follow the new
        # last phrasing. (A comment at the end of the old last line stays on that line.)
        comment = alternatives.ca.items.get(last)
        if comment and comment[0] is not None and "\n" in comment[0].value.rstrip("\n"):
            own_line, _, following = comment[0].value.partition("\n")
            comment[0].value = own_line + "\n"
            moved = copy.copy(comment[0])
            moved.value = "\n" + following  # no comment at the end of the new line, then the lines
            alternatives.ca.items[last + 1] = [moved, None, None, None]
        return
    block = CommentedSeq([value])
    if "alternatives" in entry:
        entry["alternatives"] = block  # "alternatives:" left empty
        return
    keys = list(entry.keys())
    entry.insert(keys.index("question") + 1 if "question" in keys else len(keys), "alternatives", block)


@contextmanager
def one_writer(directory: Path) -> Iterator[None]:
    """Hold the FAQ folder's lock: the bot and `cisp-bot faq accept` never rewrite a file at once."""
    if fcntl is None:
        yield
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


def replace_file(path: Path, text: str) -> None:
    """Write the file whole or not at all: a temporary file beside it, then one rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
