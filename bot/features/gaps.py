"""The admins' to-do list: questions the FAQ did not answer, grouped by similarity, biggest first."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.faq import tokens
from bot.storage.models import FaqMiss

# Two unanswered questions whose content words are this similar (token_set_ratio) are one gap.
SAME_GAP_SCORE = 70
MAX_EXAMPLES = 3


@dataclass
class Gap:
    """Similar questions that the FAQ could not answer."""

    examples: list[str] = field(default_factory=list)
    count: int = 0
    fallbacks: int = 0
    suggested: Counter[str] = field(default_factory=Counter)
    last_asked: datetime | None = None

    def add(self, miss: FaqMiss) -> None:
        """Count one more question in this gap."""
        self.count += 1
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
    """Return the questions since a moment that ended in a fallback or in suggestions nobody chose."""
    return list(
        session.scalars(
            select(FaqMiss)
            .where(
                FaqMiss.asked_at >= since,
                or_(FaqMiss.outcome == "fallback", FaqMiss.chosen.is_(None)),
            )
            .order_by(FaqMiss.asked_at)
        )
    )


def group_gaps(misses: list[FaqMiss]) -> list[Gap]:
    """Group similar questions, biggest groups first (then the most recent)."""
    gaps: list[Gap] = []
    keys: list[str] = []
    for miss in misses:
        key = " ".join(sorted(set(tokens(miss.question)))) or miss.question.casefold()
        found = process.extractOne(key, keys, scorer=fuzz.token_set_ratio, score_cutoff=SAME_GAP_SCORE)
        if found is None:
            gaps.append(Gap())
            keys.append(key)
            gap = gaps[-1]
        else:
            gap = gaps[found[2]]
        gap.add(miss)
    return sorted(
        gaps, key=lambda gap: (gap.count, gap.last_asked.timestamp() if gap.last_asked else 0.0), reverse=True
    )


def find_gaps(session: Session, now: datetime, days: int) -> list[Gap]:
    """Return the gaps of the last `days` days."""
    return group_gaps(unanswered(session, now - timedelta(days=days)))
