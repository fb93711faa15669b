"""Evaluate the FAQ matcher on a question set (see ../shared/faq-eval/README.md for the metrics).

Usage: .venv/bin/python bench/faq_eval.py [--faq-dir DIR] [--questions FILE] [--show-errors]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.faq import FaqMatcher, MatchResult, Outcome, load_faq  # noqa: E402

DEFAULT_FAQ_DIR = REPO_ROOT.parent / "shared" / "faq-eval" / "faq"
DEFAULT_QUESTIONS = REPO_ROOT.parent / "shared" / "faq-eval" / "questions.jsonl"
WARMUP_ROUNDS = 1
TIMING_ROUNDS = 5


@dataclass(frozen=True)
class Row:
    question: str
    expected: str | None
    result: MatchResult

    @property
    def answered_id(self) -> str | None:
        return self.result.entry.id if self.result.outcome is Outcome.ANSWER and self.result.entry else None


def read_questions(path: Path) -> list[tuple[str, str | None]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                data = json.loads(line)
                rows.append((data["q"], data["expect"]))
    return rows


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ratio(label: str, numerator: int, denominator: int) -> None:
    print(f"{label:<54}: {numerator / max(1, denominator):.3f}  ({numerator}/{denominator})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faq-dir", type=Path, default=DEFAULT_FAQ_DIR)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--show-errors", action="store_true", help="list wrong answers and missed lines")
    args = parser.parse_args()

    started = time.perf_counter()
    base = load_faq(args.faq_dir)
    matcher = FaqMatcher(base)
    build_ms = (time.perf_counter() - started) * 1000
    questions = read_questions(args.questions)

    rows = [Row(question, expected, matcher.match(question)) for question, expected in questions]

    # Latency: time every question several times after a warm-up (lexicon and caches loaded).
    for _ in range(WARMUP_ROUNDS):
        for question, _expected in questions:
            matcher.match(question)
    latencies: list[float] = []
    for _ in range(TIMING_ROUNDS):
        for question, _expected in questions:
            start = time.perf_counter()
            matcher.match(question)
            latencies.append((time.perf_counter() - start) * 1000)

    inside = [row for row in rows if row.expected is not None]
    outside = [row for row in rows if row.expected is None]
    answered = [row for row in inside if row.answered_id is not None]
    correct = sum(row.answered_id == row.expected for row in answered)
    wrong = sum(row.answered_id != row.expected for row in answered) + sum(
        row.answered_id is not None for row in outside
    )
    declined_in = [row for row in inside if row.answered_id is None]
    suggested_right = sum(
        any(entry.id == row.expected for entry in row.result.suggestions) for row in declined_in
    )
    outcome_counts = {
        outcome.value: sum(row.result.outcome is outcome for row in rows) for outcome in Outcome
    }

    print(f"FAQ: {args.faq_dir} ({len(base)} entries), questions: {args.questions}")
    print(f"lines: {len(rows)} ({len(inside)} in scope, {len(outside)} out of scope)")
    print(f"outcomes: {outcome_counts}")
    declined_out = sum(row.answered_id is None for row in outside)
    ratio("top-1 accuracy when answering", correct, len(answered))
    ratio("in-scope answer rate", len(answered), len(inside))
    ratio("confidently wrong rate", wrong, len(rows))
    ratio("correct decline rate", declined_out, len(outside))
    ratio("suggest rate (right id suggested when not answering)", suggested_right, len(declined_in))
    median = statistics.median(latencies)
    p95 = percentile(latencies, 0.95)
    print(f"match latency: median {median:.3f} ms, p95 {p95:.3f} ms, max {max(latencies):.3f} ms")
    print(f"matcher built in {build_ms:.0f} ms")

    if args.show_errors:
        print("\n# wrong answers")
        for row in rows:
            if row.answered_id is not None and row.answered_id != row.expected:
                print(
                    f"  {row.result.confidence:.2f} {row.answered_id} (want {row.expected}): {row.question}"
                )
        print("\n# in-scope lines not answered")
        for row in declined_in:
            ids = [entry.id for entry in row.result.suggestions]
            mark = "+" if row.expected in ids else "-"
            outcome = row.result.outcome.value
            print(f"  {mark} {outcome} {row.result.confidence:.2f} want {row.expected} {ids}: {row.question}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
