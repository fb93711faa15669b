"""Add a phrasing to an entry's `alternatives` in the admins' FAQ file, keeping everything else as it was.

The file is rewritten as files/yaml_rewrite.py does (comments, key order, quotes and layout kept; a file
no layout reproduces is refused rather than reformatted). The result is checked (it must read back as the
old data plus the new phrasing) and written whole, by a rename, so that the bot's file watcher never
reads half a file.
"""

from __future__ import annotations

import copy
from enum import StrEnum
from pathlib import Path

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from bot.common.text import fold
from bot.files.yaml_rewrite import (
    LAYOUTS,
    dump,
    layout_of,
    one_writer,
    patch,
    position_of,
    replace_file,
    round_trip,
)


class AddResult(StrEnum):
    """What adding a phrasing did."""

    ADDED = "added"
    ALREADY_THERE = "already_there"  # the entry's question or one of its alternatives says it already


class AlternativeError(Exception):
    """The phrasing could not be added; the message says why, in French, for an admin."""


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
