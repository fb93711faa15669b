"""Rewrite an admin's YAML file keeping everything they typed: comments, key order, quotes, layout.

ruamel.yaml in round-trip mode keeps comments and quotes, but has one indentation setting for a whole
file: the layout that rewrites the file unchanged is found first (``layout_of``), and only the lines the
rewrite changes are taken from it (``patch``). Files are written whole, by a rename (``replace_file``),
one writer at a time (``one_writer``), so that a watcher never reads half a file. Used by the FAQ's
editing and learning, and by the social workers' hours.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from difflib import SequenceMatcher
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

try:
    import fcntl
except ImportError:  # not on Windows: one writer at a time is then up to the admins
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Layout:
    """One way of indenting a file: ruamel.yaml's settings, then spaces taken off every line."""

    mapping: int
    sequence: int
    offset: int
    dedent: int


# The shipped style first ("- id:" at the margin, "    - ..." under "  alternatives:"), then the usual others.
LAYOUTS = (
    Layout(2, 4, 2, 2),
    Layout(2, 2, 0, 0),
    Layout(2, 4, 2, 0),
    Layout(4, 6, 2, 2),
    Layout(4, 4, 0, 0),
    Layout(4, 6, 2, 0),
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


def round_trip(layout: Layout) -> YAML:
    parser = YAML(typ="rt")
    parser.preserve_quotes = True
    parser.width = 4096  # never fold the admins' long lines
    parser.indent(mapping=layout.mapping, sequence=layout.sequence, offset=layout.offset)
    return parser


def dump(document: Any, layout: Layout) -> str:
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


def layout_of(document: Any, text: str) -> tuple[Layout, str] | None:
    """Return the layout whose rewrite indents the file's lines as they are (comments aside), and the rewrite.

    None when no layout rewrites the file line for line.
    """
    original = text.splitlines()
    counted = [index for index, line in enumerate(original) if not line.lstrip().startswith("#")]
    best: tuple[int, Layout, str] | None = None
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
