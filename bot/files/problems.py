"""An error that carries every problem found in an admin's file, not only the first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

ProblemT = TypeVar("ProblemT")


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
