"""What a feature keeps about a person, declared by the feature: /mesdonnees shows it, /oublier erases it.

Each feature declares its tables that hold personal data (`PersonalTable`: a label for every column the
person may read, the columns that only link rows) and the tables it keeps that hold nothing about a
person. Its describer (`DataDescriber`) gives, for the person of a turn, one short line for the summary
and the complete lines of the export. Tests read the declarations: a table or column nobody declared
fails them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.common.clock import BRUSSELS, as_utc, local_date_text

if TYPE_CHECKING:
    from bot.core.turn import Turn

# How one stored value reads in /mesdonnees.
Show = Callable[[Any], str]


def show_date(value: Any) -> str:
    """Show a stored instant as its day in Brussels, or "(non)"."""
    return local_date_text(value) if isinstance(value, datetime) else "(non)"


def show_date_time(value: Any) -> str:
    """Show a stored instant as its day and time in Brussels, or "(non)"."""
    if not isinstance(value, datetime):
        return "(non)"
    local = as_utc(value).astimezone(BRUSSELS)
    return f"{local:%d/%m/%Y} à {local.hour} h {local.minute:02d}"


def show_text(value: Any) -> str:
    """Show a text the person gave, or "(pas donné)"."""
    return str(value) if value else "(pas donné)"


def show_named(names: Mapping[str, str], missing: str = "(non)") -> Show:
    """Return how to show a stored code by its name for the person (the code itself if unnamed)."""

    def show(value: Any) -> str:
        return missing if value is None else names.get(str(value), str(value))

    return show


def show_quoted(value: Any) -> str:
    """Show a message's text in quotes, whole, or "(aucun)"."""
    return f"« {value} »" if value else "(aucun)"


@dataclass(frozen=True)
class PersonalTable:
    """A table that holds personal data: how each column reads, and the columns that only link rows."""

    name: str
    # column -> (label, how to show the value), in the order of the export.
    columns: Mapping[str, tuple[str, Show]]
    # Keys and references that mean nothing to the person (ids, the platform's references).
    internal: frozenset[str] = frozenset()
    # False: personal but not linked to a person by a key (a message waiting before anyone knows who
    # sent it), so not erased by the cascade from users; the feature says how it goes.
    linked: bool = True

    def block(self, row: object, *, nested: bool = False, **shown: str | None) -> list[str]:
        """Return one row as lines "label : value", each value whole, under a bullet.

        shown: values the caller shows itself (a worker's name for their id); None leaves a column out.
        A column with nothing stored is left out: the export shows what is kept.
        """
        lines = []
        for column, (label, show) in self.columns.items():
            if column in shown:
                value = shown[column]
            else:
                stored = getattr(row, column)
                value = None if stored is None else show(stored)
            if value is not None:
                lines.append(f"{label} : {value}")
        first, rest = ("   – ", "     ") if nested else ("• ", "  ")
        return [(rest if index else first) + line for index, line in enumerate(lines)]


@dataclass(frozen=True)
class DataSection:
    """What one feature keeps about a person: a line of the summary, a part of the export."""

    # One short plain sentence ("1 rendez-vous : mercredi 25 novembre à 9 h 00").
    summary: str
    # The heading of this part of the export file, and every value, whole.
    title: str
    lines: Sequence[str]


# The part of /mesdonnees of one feature for the person of the turn; None when it keeps nothing.
DataDescriber = Callable[["Turn"], DataSection | None]
