"""The admins' to-do list: questions the FAQ did not answer, grouped by similarity, biggest first."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.faq import tokens
from bot.storage.models import FaqMiss

# Two unanswered questions sharing more than this share of their content words are one gap.
SAME_GAP_SHARE = 0.5
# Two words this close (rapidfuzz ratio) are the same word misspelled.
SAME_WORD_SCORE = 85
MAX_EXAMPLES = 3


@dataclass
class Gap:
    """Similar questions that the FAQ could not answer."""

    examples: list[str] = field(default_factory=list)
    count: int = 0
    fallbacks: int = 0
    suggested: Counter[str] = field(default_factory=Counter)
    last_asked: datetime | None = None
    # The stored questions of the gap: handling the gap (in the console) removes them from the list.
    miss_ids: list[int] = field(default_factory=list)

    def add(self, miss: FaqMiss) -> None:
        """Count one more question in this gap."""
        self.count += 1
        self.miss_ids.append(miss.id)
        self.fallbacks += miss.outcome == "fallback"
        self.suggested.update(miss.suggested.split())
        if miss.question not in self.examples and len(self.examples) < MAX_EXAMPLES:
            self.examples.append(miss.question)
        if self.last_asked is None or miss.asked_at > self.last_asked:
            self.last_asked = miss.asked_at

    def as_dict(self) -> dict[str, object]:
        """Return the gap as JSON-ready data."""
        return {
            "count": self.count,
            "fallbacks": self.fallbacks,
            "unused_suggestions": self.count - self.fallbacks,
            "examples": self.examples,
            "suggested": dict(self.suggested.most_common()),
            "last_asked": self.last_asked.isoformat() if self.last_asked else None,
        }


def unanswered(session: Session, since: datetime) -> list[FaqMiss]:
    """Return the questions since a moment that ended in a fallback or in suggestions nobody chose.

    (A question whose suggestion was chosen is deleted at once: it is not a gap.)
    """
    return list(
        session.scalars(
            select(FaqMiss)
            .where(FaqMiss.asked_at >= since, FaqMiss.handled_by_id.is_(None))
            .order_by(FaqMiss.asked_at)
        )
    )


def _similarity(words: frozenset[str], other: frozenset[str]) -> float:
    """Return the share of content words two questions have in common (typos forgiven)."""
    if not words or not other:
        return 0.0
    shared = sum(
        1
        for word in words
        if word in other or process.extractOne(word, other, scorer=fuzz.ratio, score_cutoff=SAME_WORD_SCORE)
    )
    return shared / max(len(words), len(other))


def group_gaps(misses: list[FaqMiss]) -> list[Gap]:
    """Group questions that share most of their content words, biggest groups first (then most recent).

    A question joins the group of the member it is most similar to, if they share more than half their
    content words: "cv" does not swallow every question mentioning a CV ("cv anglais" shares half,
    "envoyer mon cv par mail" a quarter), and questions with no content word ("???") stay apart.
    """
    gaps: list[Gap] = []
    members: list[tuple[frozenset[str], int]] = []
    for miss in misses:
        words = frozenset(tokens(miss.question))
        best_gap, best_score = None, 0.0
        for other, gap_index in members:
            score = _similarity(words, other)
            if score > best_score:
                best_gap, best_score = gap_index, score
        if best_gap is None or best_score <= SAME_GAP_SHARE:
            gaps.append(Gap())
            best_gap = len(gaps) - 1
        gaps[best_gap].add(miss)
        members.append((words, best_gap))
    return sorted(
        gaps, key=lambda gap: (gap.count, gap.last_asked.timestamp() if gap.last_asked else 0.0), reverse=True
    )


def forget_misses(session: Session, miss_ids: list[int]) -> int:
    """Take handled questions off the list (answered by a new phrasing or entry, or not for the FAQ)."""
    if not miss_ids:
        return 0
    result = session.execute(delete(FaqMiss).where(FaqMiss.id.in_(miss_ids)))
    return int(getattr(result, "rowcount", 0) or 0)


def mark_handled(session: Session, miss_ids: list[int], revision_id: int) -> None:
    """Take questions off the gaps list as handled by a save (undoing the save puts them back)."""
    if miss_ids:
        session.execute(update(FaqMiss).where(FaqMiss.id.in_(miss_ids)).values(handled_by_id=revision_id))


def unhandle(session: Session, revision_id: int) -> None:
    """Put back on the gaps list the questions a save had handled (the save was undone)."""
    session.execute(update(FaqMiss).where(FaqMiss.handled_by_id == revision_id).values(handled_by_id=None))


def find_gaps(session: Session, now: datetime, days: int) -> list[Gap]:
    """Return the gaps of the last `days` days."""
    return group_gaps(unanswered(session, now - timedelta(days=days)))
