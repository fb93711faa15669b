"""An error that carries every problem found in an admin's file, not only the first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

ProblemT = TypeVar("ProblemT")


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """One problem in an admin's file, at its line and entry, precisely enough for them to fix it."""

    file: str
    message: str
    # The entry's id, or "entrée n°3" when it has no usable one.
    entry: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        """Return the problem as ``file:line: entrée 'id': message``, on one line."""
        location = self.file if self.line is None else f"{self.file}:{self.line}"
        # One line per problem, whatever an id or a message holds.
        message = self.message.replace("\n", "\\n")
        if self.entry is None:
            return f"{location}: {message}"
        # An entry without a usable id is already labelled "entrée n°3": do not quote it again.
        entry = self.entry.replace("\n", "\\n")
        label = entry if entry.startswith("entrée n°") else f"entrée '{entry}'"
        return f"{location}: {label}: {message}"


class ProblemsError(Exception, Generic[ProblemT]):
    """Signal that a file cannot be used; ``problems`` lists every problem found, one per line."""

    # Appended to the count of problems left out of a summary: where to see them all.
    more_hint = ""

    def __init__(self, problems: Iterable[ProblemT]) -> None:
        """Store the problems and build a message listing one problem per line."""
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def summary(self, limit: int = 15) -> str:
        """Return the first problems, one per line, and how many more there are (for chat messages)."""
        lines = [str(problem) for problem in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"… et {len(self.problems) - limit} autre(s){self.more_hint}.")
        return "\n".join(lines)
