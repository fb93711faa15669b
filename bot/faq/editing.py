"""Rewrite one entry of an admin's FAQ file (the staff console's form), keeping everything else as it was.

The same round trip as adding an alternative (bot/faq/alternatives.py): ruamel.yaml keeps comments, key
order and quotes; only the lines that change are taken from its rewrite; the result must read back as
the old file with this one entry changed, or nothing is written. Before anything is written, the new
text is checked with the whole FAQ, in a copy of the folder, as `cisp-bot faq check` would.
"""

from __future__ import annotations

import copy
import functools
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from bot.faq.alternatives import AlternativeError, cannot_keep_layout
from bot.faq.loader import FaqProblem, check_faq
from bot.files.yaml_rewrite import (
    LAYOUTS,
    Layout,
    dump,
    layout_of,
    one_writer,
    patch,
    position_of,
    replace_file,
    round_trip,
)

# The fields the console's form edits, in the order a new field is placed in the entry.
EDITED_FIELDS = (
    "question",
    "button",
    "alternatives",
    "keywords",
    "steps",
    "answer",
    "steps_nl",
    "answer_nl",
    "steps_en",
    "answer_en",
    "follow_ups",
)
LIST_FIELDS = frozenset({"alternatives", "keywords", "steps", "steps_nl", "steps_en", "follow_ups"})

EditError = AlternativeError


@dataclass(frozen=True)
class Rewrite:
    """An entry rewritten in its file's text: the text before, the text after."""

    file_name: str
    before: str
    after: str


def read_file_text(directory: Path, file_name: str) -> str:
    """Return an FAQ file's text as the admins wrote it (Windows line ends read as plain ones)."""
    _check_name(file_name)
    try:
        return (directory / file_name).read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as error:
        raise EditError(f"impossible de lire {file_name}") from error


def entry_values(text: str, entry_id: str) -> dict[str, Any] | None:
    """Return the fields of entry_id in a file's text, as plain values, or None when it is not there."""
    for entry in _document(text):
        if isinstance(entry, dict) and entry.get("id") == entry_id:
            return copy.deepcopy(entry)  # the reading is shared (below): the caller gets its own
    return None


@functools.lru_cache(maxsize=64)
def _document(text: str) -> tuple[Any, ...]:
    """Read a file's text as plain data (its entries), with libyaml's reader where PyYAML has it.

    Remembered: the history reads each text twice (a save's "after" is the next one's "before").
    """
    try:
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return ()
    return tuple(document) if isinstance(document, list) else ()


def _parsed(text: str, file_name: str) -> tuple[Any, Any]:
    """Read a file's text twice: as plain data (to check the result) and as ruamel.yaml's tree (to edit)."""
    try:
        return yaml.safe_load(text), round_trip(LAYOUTS[0]).load(text)
    except (yaml.YAMLError, RuamelError) as error:
        raise EditError(f"{file_name} a une erreur de syntaxe : corrigez-la d'abord (faq check)") from error


def _opened(text: str, file_name: str, entry_id: str) -> tuple[Any, Any, int, Layout, str]:
    """Return the data, the tree, the entry's position, the file's layout and its unchanged rewrite."""
    before, document = _parsed(text, file_name)
    position = position_of(document, entry_id)
    if position is None:
        raise EditError(f"l'entrée '{entry_id}' n'est plus dans {file_name}")
    found = layout_of(document, text)
    if found is None:
        raise cannot_keep_layout(file_name)
    layout, unchanged = found
    return before, document, position, layout, unchanged


def rewritten(text: str, file_name: str, entry_id: str, values: Mapping[str, Any]) -> str:
    """Return the file's text with entry_id's edited fields set to values (None or empty: removed)."""
    before, document, position, layout, unchanged = _opened(text, file_name, entry_id)
    entry = document[position]
    expected = copy.deepcopy(before)
    for name in EDITED_FIELDS:
        value = values.get(name)
        empty = value is None or value == "" or value == [] or value == ()
        if empty:
            entry.pop(name, None)
            expected[position].pop(name, None)
            continue
        plain = list(value) if name in LIST_FIELDS and isinstance(value, list | tuple) else value
        if expected[position].get(name) == plain:
            continue  # unchanged: its lines stay exactly as typed
        _set(entry, name, plain)
        expected[position][name] = plain
    new_text = patch(text, unchanged, dump(document, layout))
    if new_text is None:
        raise cannot_keep_layout(file_name)
    try:
        same = yaml.safe_load(new_text) == expected
    except yaml.YAMLError:
        same = False
    if not same:
        raise EditError(f"la réécriture de {file_name} changerait autre chose : rien n'est écrit")
    return new_text


def appended(text: str, file_name: str, values: Mapping[str, Any]) -> str:
    """Return the file's text with a new entry at its end (its id first, then the fields in form order)."""
    before, document = _parsed(text, file_name)
    if before is None:
        before, document = [], CommentedSeq()
    if not isinstance(document, CommentedSeq) or not isinstance(before, list):
        raise EditError(f"{file_name} n'est pas une liste d'entrées")
    found = layout_of(document, text) if text.strip() else (LAYOUTS[0], "")
    if found is None:
        raise cannot_keep_layout(file_name)
    layout, unchanged = found
    model = next((entry.get("question") for entry in document if isinstance(entry, CommentedMap)), None)
    entry = CommentedMap()
    entry["id"] = str(values["id"])
    plain: dict[str, Any] = {"id": str(values["id"])}
    for name in EDITED_FIELDS:
        value = values.get(name)
        if value is None or value == "" or value == [] or value == ():
            continue
        plain[name] = list(value) if isinstance(value, list | tuple) else value
        entry["question"] = entry.get("question", _quoted("", model))  # keeps "question" second
        _set(entry, name, plain[name])
    document.append(entry)
    new_text = patch(text, unchanged, dump(document, layout)) if text.strip() else dump(document, layout)
    if new_text is None:
        raise cannot_keep_layout(file_name)
    try:
        same = yaml.safe_load(new_text) == [*before, plain]
    except yaml.YAMLError:
        same = False
    if not same:
        raise EditError(f"l'ajout dans {file_name} changerait autre chose : rien n'est écrit")
    return new_text


def without_entry(text: str, file_name: str, entry_id: str) -> str:
    """Return the file's text without entry_id (undoing its creation), everything else as it was."""
    before, document, position, layout, unchanged = _opened(text, file_name, entry_id)
    del document[position]
    new_text = patch(text, unchanged, dump(document, layout))
    expected = [entry for index, entry in enumerate(before) if index != position]
    try:
        same = new_text is not None and (yaml.safe_load(new_text) or []) == expected
    except yaml.YAMLError:
        same = False
    if new_text is None or not same:
        raise EditError(
            f"le retrait de '{entry_id}' changerait autre chose dans {file_name} : rien n'est écrit"
        )
    return new_text


def problems_with(
    directory: Path, file_name: str, new_text: str, languages: Iterable[str] = ()
) -> list[FaqProblem]:
    """Return what `faq check` would say of the FAQ folder with file_name's text replaced by new_text."""
    _check_name(file_name)
    with tempfile.TemporaryDirectory(prefix="cisp-faq-check-") as folder:
        copy_dir = Path(folder) / "faq"
        # Hidden files, drafts and the last valid copy are not the FAQ: only what check_faq reads.
        shutil.copytree(directory, copy_dir, ignore=shutil.ignore_patterns(".*", "drafts"))
        (copy_dir / file_name).write_text(new_text, encoding="utf-8")
        return check_faq(copy_dir, languages)


def write_entry(directory: Path, file_name: str, expected_before: str, new_text: str) -> Rewrite:
    """Write the file's new text, unless someone changed the file since expected_before was read."""
    _check_name(file_name)
    path = directory / file_name
    with one_writer(directory):
        current = read_file_text(directory, file_name)
        if current != expected_before:
            raise EditError(
                f"{file_name} a changé pendant que vous écriviez (une autre personne ?) : "
                "rouvrez la question, puis refaites la modification"
            )
        raw = path.read_bytes()
        bom, crlf = raw.startswith(b"\xef\xbb\xbf"), b"\r\n" in raw
        written = new_text.replace("\n", "\r\n") if crlf else new_text
        replace_file(path, ("\ufeff" if bom else "") + written)
    return Rewrite(file_name, current, new_text)


def _set(entry: CommentedMap, name: str, value: Any) -> None:
    """Set a field, in the quotes (and list style) the entry's other texts use."""
    model = entry.get("question")
    if isinstance(value, list):
        old = entry.get(name)
        # New keywords follow the shipped style, [wifi, internet]: quoted only where YAML needs it.
        item_model = old[0] if isinstance(old, list) and old else (None if name == "keywords" else model)
        items = [_quoted(str(item), item_model) for item in value]
        sequence = CommentedSeq(items)
        if isinstance(old, CommentedSeq) and old.fa.flow_style():
            sequence.fa.set_flow_style()
        elif old is None and name == "keywords":
            sequence.fa.set_flow_style()  # the shipped style: keywords: [wifi, internet]
        value = sequence
    else:
        value = _quoted(str(value), entry.get(name, model))
    if name in entry:
        entry[name] = value
        return
    keys = list(entry.keys())
    order = {field: index for index, field in enumerate(("id", *EDITED_FIELDS))}
    place = next((index for index, key in enumerate(keys) if order.get(key, 99) > order[name]), len(keys))
    entry.insert(place, name, value)


def _quoted(text: str, model: Any) -> str:
    if isinstance(model, SingleQuotedScalarString):
        return SingleQuotedScalarString(text)
    if isinstance(model, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(text)
    return text


def _check_name(file_name: str) -> None:
    if Path(file_name).name != file_name or not file_name.endswith(".yaml") or file_name.startswith("."):
        raise EditError(f"nom de fichier FAQ inattendu : {file_name}")
