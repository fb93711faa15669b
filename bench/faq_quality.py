"""Measure the FAQ matcher's quality on a question set, beside two plain baselines.

Usage: .venv/bin/python bench/faq_quality.py [--faq-dir DIR] [--questions FILE] [--show-errors] [--no-cv]

Figures (see ../shared/faq-eval/README.md):

- answered-correct: in-scope lines answered with the right id / in-scope lines;
- helpful: in-scope lines whose right id is answered or among the suggestions / in-scope lines;
- confidently-wrong: (in-scope lines answered with a wrong id + out-of-scope lines answered) / all lines;
- out-of-scope declined: out-of-scope lines not answered / out-of-scope lines;
- in-scope answer rate and the median latency of one call.

Baselines, on the same strings (each question and alternative of every entry):

- ``extractOne``: ``rapidfuzz.process.extractOne(query, strings, scorer=fuzz.WRatio,
  processor=utils.default_process, score_cutoff=80)``; answer when found, else decline;
- ``tfidf``: TF-IDF on character 2-5-grams inside word boundaries (each whitespace-separated word padded
  with spaces, lowercased, accents and punctuation kept as typed: scikit-learn's ``char_wb`` analyser
  with its smoothed IDF and L2 norm), cosine similarity; answer the best entry when cosine >= 0.35.

Generalisation check (unless ``--no-cv``):

- threshold cross-validation: the entries are split in two halves (every other entry, by id) with
  their questions, the out-of-scope lines alternate; the answer threshold and margin are tuned on one
  half (most answered-correct with confidently-wrong <= 0.02) and measured on the other;
- entry hold-out: the matcher is built on half of the entries only; the questions of the removed half
  become out-of-scope, which tests the decline threshold on near-misses it was never tuned on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process, utils

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.faq import FaqBase, FaqMatcher, Outcome, load_faq  # noqa: E402
from bot.faq.matcher import Thresholds  # noqa: E402

DEFAULT_DIR = REPO_ROOT.parent / "shared" / "faq-eval"
TFIDF_CUTOFF = 0.35
EXTRACT_CUTOFF = 80
MAX_WRONG = 0.02


@dataclass(frozen=True)
class Prediction:
    answered: str | None
    suggested: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    question: str
    expected: str | None


@dataclass(frozen=True)
class Figures:
    answered_correct: float
    helpful: float
    wrong: float
    declined: float
    answer_rate: float
    counts: str


def read_questions(path: Path) -> list[Line]:
    lines = []
    with path.open(encoding="utf-8") as handle:
        for raw in handle:
            if raw.strip():
                data = json.loads(raw)
                lines.append(Line(data["q"], data["expect"]))
    return lines


def figures(lines: Sequence[Line], predictions: Sequence[Prediction]) -> Figures:
    pairs = list(zip(lines, predictions, strict=True))
    inside = [(line, pred) for line, pred in pairs if line.expected is not None]
    outside = [(line, pred) for line, pred in pairs if line.expected is None]
    correct = sum(pred.answered == line.expected for line, pred in inside)
    helpful = sum(pred.answered == line.expected or line.expected in pred.suggested for line, pred in inside)
    answered = sum(pred.answered is not None for _, pred in inside)
    wrong = sum(pred.answered not in (None, line.expected) for line, pred in inside) + sum(
        pred.answered is not None for _, pred in outside
    )
    declined = sum(pred.answered is None for _, pred in outside)
    return Figures(
        answered_correct=correct / max(1, len(inside)),
        helpful=helpful / max(1, len(inside)),
        wrong=wrong / max(1, len(pairs)),
        declined=declined / max(1, len(outside)),
        answer_rate=answered / max(1, len(inside)),
        counts=f"{correct}/{len(inside)} correct, {helpful} helpful, {wrong}/{len(pairs)} wrong, "
        f"{declined}/{len(outside)} declined",
    )


def print_figures(label: str, result: Figures, median_ms: float | None = None) -> None:
    latency = f"  median {median_ms:.3f} ms" if median_ms is not None else ""
    print(
        f"{label:<26} answered-correct {result.answered_correct:.3f}  helpful {result.helpful:.3f}  "
        f"confidently-wrong {result.wrong:.3f}  out-of-scope declined {result.declined:.3f}  "
        f"answer rate {result.answer_rate:.3f}{latency}"
    )
    print(f"{'':<26} ({result.counts})")


# ----------------------------------------------------------------------------------- our matcher


def run_matcher(matcher: FaqMatcher, lines: Sequence[Line]) -> tuple[list[Prediction], list[float]]:
    predictions = []
    latencies = []
    for line in lines:
        matcher.match(line.question)  # warm-up: the per-word caches are filled on first sight
        start = time.perf_counter()
        result = matcher.match(line.question)
        latencies.append((time.perf_counter() - start) * 1000)
        answered = result.entry.id if result.outcome is Outcome.ANSWER and result.entry else None
        predictions.append(Prediction(answered, tuple(entry.id for entry in result.suggestions)))
    return predictions, latencies


# ----------------------------------------------------------------------------------- baselines


def phrasings(base: FaqBase) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    ids: list[str] = []
    for entry in base.entries:
        for text in (entry.question, *entry.alternatives):
            texts.append(text)
            ids.append(entry.id)
    return texts, ids


def extract_one_baseline(base: FaqBase) -> Callable[[str], Prediction]:
    texts, ids = phrasings(base)
    processed = [utils.default_process(text) for text in texts]

    def predict(query: str) -> Prediction:
        found = process.extractOne(
            utils.default_process(query), processed, scorer=fuzz.WRatio, score_cutoff=EXTRACT_CUTOFF
        )
        return Prediction(ids[found[2]] if found is not None else None)

    return predict


def char_wb_ngrams(text: str) -> Counter[str]:
    """Count the 2-5 character n-grams of each space-padded word (scikit-learn's char_wb analyser)."""
    grams: Counter[str] = Counter()
    for word in text.lower().split():
        padded = f" {word} "
        for size in range(2, 6):
            if len(padded) < size:
                grams[padded] += 1
                break
            for offset in range(len(padded) - size + 1):
                grams[padded[offset : offset + size]] += 1
    return grams


def tfidf_baseline(base: FaqBase) -> Callable[[str], Prediction]:
    texts, ids = phrasings(base)
    counts = [char_wb_ngrams(text) for text in texts]
    document_frequency: Counter[str] = Counter(gram for grams in counts for gram in grams)
    size = len(texts)
    idf = {gram: math.log((1 + size) / (1 + df)) + 1 for gram, df in document_frequency.items()}

    def vector(grams: Counter[str]) -> dict[str, float]:
        weights = {gram: count * idf[gram] for gram, count in grams.items() if gram in idf}
        norm = math.sqrt(sum(value * value for value in weights.values())) or 1.0
        return {gram: value / norm for gram, value in weights.items()}

    vectors = [vector(grams) for grams in counts]

    def predict(query: str) -> Prediction:
        query_vector = vector(char_wb_ngrams(query))
        best_score, best_id = 0.0, None
        for document, entry_id in zip(vectors, ids, strict=True):
            score = sum(value * document.get(gram, 0.0) for gram, value in query_vector.items())
            if score > best_score:
                best_score, best_id = score, entry_id
        return Prediction(best_id if best_score >= TFIDF_CUTOFF else None)

    return predict


def run_baseline(
    predict: Callable[[str], Prediction], lines: Sequence[Line]
) -> tuple[list[Prediction], float]:
    predictions = []
    latencies = []
    for line in lines:
        start = time.perf_counter()
        predictions.append(predict(line.question))
        latencies.append((time.perf_counter() - start) * 1000)
    return predictions, statistics.median(latencies)


# ----------------------------------------------------------------------------------- generalisation

THRESHOLD_GRID = [
    Thresholds(answer=answer / 100, margin=margin / 100)
    for answer in range(40, 71, 2)
    for margin in range(4, 21, 2)
]


def split_halves(base: FaqBase, lines: Sequence[Line]) -> tuple[list[int], list[int]]:
    ids = sorted(entry.id for entry in base.entries)
    half_of = {entry_id: position % 2 for position, entry_id in enumerate(ids)}
    halves: tuple[list[int], list[int]] = ([], [])
    outside = 0
    for index, line in enumerate(lines):
        if line.expected is None:
            halves[outside % 2].append(index)
            outside += 1
        else:
            halves[half_of[line.expected]].append(index)
    return halves


def tune(matcher: FaqMatcher, lines: Sequence[Line]) -> Thresholds:
    best: tuple[tuple[float, float], Thresholds] | None = None
    for thresholds in THRESHOLD_GRID:
        matcher.thresholds = thresholds
        result = figures(lines, run_matcher(matcher, lines)[0])
        if result.wrong > MAX_WRONG:
            continue
        key = (result.answered_correct, -result.wrong)
        if best is None or key > best[0]:
            best = (key, thresholds)
    return best[1] if best is not None else Thresholds(answer=1.0)


def cross_validate(base: FaqBase, lines: Sequence[Line]) -> None:
    matcher = FaqMatcher(base)
    default = matcher.thresholds
    halves = split_halves(base, lines)
    print("\n# threshold cross-validation (entries split by id into halves A and B)")
    for name, (train, test) in (("A->B", halves), ("B->A", halves[::-1])):
        train_lines = [lines[index] for index in train]
        test_lines = [lines[index] for index in test]
        tuned = tune(matcher, train_lines)
        matcher.thresholds = tuned
        on_train = figures(train_lines, run_matcher(matcher, train_lines)[0])
        on_test = figures(test_lines, run_matcher(matcher, test_lines)[0])
        matcher.thresholds = default
        on_test_default = figures(test_lines, run_matcher(matcher, test_lines)[0])
        print(f"{name}: tuned answer >= {tuned.answer:.2f}, margin >= {tuned.margin:.2f}")
        print_figures("  tuning half", on_train)
        print_figures("  held-out half (tuned)", on_test)
        print_figures("  held-out half (shipped)", on_test_default)

    print("\n# entry hold-out (matcher built on half of the entries; the others' questions are out of scope)")
    ids = sorted(entry.id for entry in base.entries)
    for parity in (0, 1):
        kept = {entry_id for position, entry_id in enumerate(ids) if position % 2 == parity}
        half = FaqBase(
            entries=tuple(entry for entry in base.entries if entry.id in kept), directory=base.directory
        )
        relabelled = [
            dataclasses.replace(line, expected=line.expected if line.expected in kept else None)
            for line in lines
        ]
        result = figures(relabelled, run_matcher(FaqMatcher(half), relabelled)[0])
        print_figures(f"  half {'AB'[parity]} kept ({len(kept)} entries)", result)


# ----------------------------------------------------------------------------------- main


def show_errors(lines: Sequence[Line], predictions: Sequence[Prediction], matcher: FaqMatcher) -> None:
    print("\n# wrong answers")
    for line, pred in zip(lines, predictions, strict=True):
        if pred.answered is not None and pred.answered != line.expected:
            confidence = matcher.match(line.question).confidence
            print(f"  {confidence:.2f} {pred.answered} (want {line.expected}): {line.question}")
    print("\n# in-scope lines not answered (+ = right id suggested)")
    for line, pred in zip(lines, predictions, strict=True):
        if line.expected is not None and pred.answered is None:
            result = matcher.match(line.question)
            mark = "+" if line.expected in pred.suggested else "-"
            print(
                f"  {mark} {result.outcome.value} {result.confidence:.2f} want {line.expected} "
                f"{list(pred.suggested)}: {line.question}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faq-dir", type=Path, default=DEFAULT_DIR / "faq")
    parser.add_argument("--questions", type=Path, default=DEFAULT_DIR / "questions.jsonl")
    parser.add_argument("--show-errors", action="store_true", help="list wrong answers and missed lines")
    parser.add_argument("--no-cv", action="store_true", help="skip the generalisation checks")
    args = parser.parse_args()

    started = time.perf_counter()
    base = load_faq(args.faq_dir)
    matcher = FaqMatcher(base)
    build_ms = (time.perf_counter() - started) * 1000
    lines = read_questions(args.questions)
    inside = sum(line.expected is not None for line in lines)
    print(f"FAQ: {args.faq_dir} ({len(base)} entries, loaded and indexed in {build_ms:.0f} ms)")
    print(f"questions: {args.questions} ({len(lines)} lines: {inside} in scope, {len(lines) - inside} out)\n")

    predictions, latencies = run_matcher(matcher, lines)
    print_figures("cisp-bot matcher", figures(lines, predictions), statistics.median(latencies))
    extract_predictions, extract_ms = run_baseline(extract_one_baseline(base), lines)
    print_figures("baseline extractOne>=80", figures(lines, extract_predictions), extract_ms)
    tfidf_predictions, tfidf_ms = run_baseline(tfidf_baseline(base), lines)
    print_figures("baseline tfidf>=0.35", figures(lines, tfidf_predictions), tfidf_ms)
    outcomes = Counter(matcher.match(line.question).outcome.value for line in lines)
    print(f"\nmatcher outcomes: {dict(outcomes)}")

    if not args.no_cv:
        cross_validate(base, lines)
    if args.show_errors:
        show_errors(lines, predictions, matcher)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
