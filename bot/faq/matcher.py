"""Match a trainee's free-text message against the FAQ and decide whether to answer.

The matcher never answers at random. It returns one of three outcomes:

- ``ANSWER``: one entry is clearly the best match;
- ``SUGGEST``: up to three plausible entries, shown as "did you mean" buttons (the conversation adds
  "Parler à quelqu'un");
- ``FALLBACK``: nothing matches well enough; the conversation offers a human.

How a score is built (all of it precomputed in ``FaqMatcher.__init__`` except what depends on the query):

1. The message goes through :func:`bot.faq.normalize.tokens` (SMS spelling, accents, stop words, stems,
   synonyms). Each token unknown to the FAQ vocabulary is repaired when possible: a glued article
   (``laccueil``) is split, then a typo is corrected with ``rapidfuzz.process.extractOne`` against the
   vocabulary, with a cutoff that grows stricter for short words.
2. Each token weighs its IDF over the FAQ entries (a word found in many entries, like ``cv`` or
   ``ordinateur``, says little). A token still unknown keeps a fixed weight: it is evidence that the
   message speaks of something the FAQ does not cover.
3. For each entry the matcher measures how much of the message the entry explains (``coverage``) and
   how much of its best phrasing - question, an alternative or a keyword - the message contains
   (``recall``), plus a rapidfuzz ``token_sort_ratio`` between the message and that phrasing. Words that
   only appear in the entry's answer count for a fraction of their weight. These measures are combined
   linearly into a confidence in 0..1.
4. The decision looks at the best confidence and at its margin over the second entry, so that a
   generic message ("cv", "ordi") that fits several entries is never answered but suggested.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process

from bot.faq.loader import FaqBase, FaqEntry
from bot.faq.normalize import MAX_INPUT_CHARS, lexicon, split_glued_elision, tokens

__all__ = ["FaqMatcher", "MatchResult", "Outcome"]

# ----------------------------------------------------------------------------- decision thresholds
# Calibrated on the development set (bench/faq_eval.py), favouring declines over confident mistakes.
ANSWER_THRESHOLD = 0.55
ANSWER_MARGIN = 0.1
SUGGEST_THRESHOLD = 0.35
# Suggestions stay close to the best one: a far second choice is noise on a phone screen.
SUGGEST_SPREAD = 0.2
MAX_SUGGESTIONS = 3

# ----------------------------------------------------------------------------- scoring parameters
# Weight of a token that the FAQ vocabulary does not know, relative to the rarest FAQ word.
UNKNOWN_TOKEN_WEIGHT = 1.0
UNKNOWN_WEIGHT_DECAY = 0.85
# Share of a word's weight that counts when the word only appears in the entry's answer.
ANSWER_WORD_FACTOR = 0.4
# A keyword alone is a weaker sign than a whole phrasing of the question.
KEYWORD_RECALL_FACTOR = 0.7
# How the confidence mixes its three measures (they sum to 1).
COVERAGE_WEIGHT = 0.45
RECALL_WEIGHT = 0.4
SIMILARITY_WEIGHT = 0.15
# Minimum rapidfuzz.ratio for correcting a typo, by token length: short words need to be almost exact
# ("pdf" vs "pc"), long words tolerate more edits ("surchof" -> "surchauff").
_NO_CORRECTION_BELOW = 4
_DERIVATION_SUFFIX_LENGTH = 3


def _correction_cutoff(length: int) -> float:
    """Return the minimal similarity (0..100) to correct a token of this length."""
    if length <= 4:
        return 86.0
    if length <= 6:
        return 80.0
    return 74.0


def _is_derived_word(word: str, candidate: str) -> bool:
    """Tell whether ``word`` is ``candidate`` plus a derivation suffix rather than a typo of it.

    "chargeur" is not a misspelt "charger" and "imprimante" is not "imprimer": a vocabulary word that is
    a prefix of the message word, followed by three letters or more, names another thing.
    """
    return word.startswith(candidate) and len(word) - len(candidate) >= _DERIVATION_SUFFIX_LENGTH


class Outcome(StrEnum):
    """Say what the conversation should do with a message."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Hold the decision for one message."""

    outcome: Outcome
    entry: FaqEntry | None
    suggestions: tuple[FaqEntry, ...]
    confidence: float


@dataclass(frozen=True, slots=True)
class _Phrasing:
    """One way an entry can be asked: its question, an alternative or a keyword, pre-tokenised."""

    tokens: frozenset[str]
    text: str
    total_weight: float
    is_keyword: bool


@dataclass(frozen=True, slots=True)
class _Scored:
    """One entry with its confidence and the message tokens it explains."""

    entry: FaqEntry
    confidence: float
    matched: frozenset[str]


class FaqMatcher:
    """Match messages against one FAQ base; build once, then call :meth:`match` for every message."""

    def __init__(self, base: FaqBase) -> None:
        """Precompute the vocabulary, the IDF weights and the tokenised phrasings of every entry."""
        self._base = base
        self._entries = base.entries
        entry_phrasings: list[list[tuple[list[str], bool]]] = []
        document_frequency: dict[str, int] = {}
        answer_vocabulary: list[frozenset[str]] = []
        for entry in self._entries:
            phrasings = [(tokens(entry.question), False)]
            phrasings += [(tokens(text), False) for text in entry.alternatives]
            phrasings += [(tokens(text), True) for text in entry.keywords]
            entry_phrasings.append(phrasings)
            answer_words = set(tokens(entry.answer))
            answer_vocabulary.append(frozenset(answer_words))
            for word in {word for words, _ in phrasings for word in words} | answer_words:
                document_frequency[word] = document_frequency.get(word, 0) + 1

        count = max(1, len(self._entries))
        self._idf = {
            word: math.log((count + 1) / (frequency + 0.5)) for word, frequency in document_frequency.items()
        }
        max_idf = max(self._idf.values(), default=1.0)
        self._unknown_weight = UNKNOWN_TOKEN_WEIGHT * max_idf

        self._phrasings: list[tuple[_Phrasing, ...]] = []
        self._entry_vocabulary: list[frozenset[str]] = []
        for phrasings in entry_phrasings:
            built = tuple(
                _Phrasing(
                    tokens=frozenset(words),
                    text=" ".join(words),
                    total_weight=sum(self._idf[word] for word in set(words)),
                    is_keyword=is_keyword,
                )
                for words, is_keyword in phrasings
                if words
            )
            self._phrasings.append(built)
            self._entry_vocabulary.append(frozenset(word for phrasing in built for word in phrasing.tokens))
        self._answer_vocabulary = answer_vocabulary

        # Typos are corrected towards the FAQ vocabulary, and towards lexicon synonyms of FAQ words
        # ("sauvgarder" is closer to "sauvegarder" than to the FAQ's "enregistrer").
        self._corrections: dict[str, str] = {}
        for variant, canonical in lexicon().synonyms.items():
            if canonical in self._idf and len(variant) >= _NO_CORRECTION_BELOW:
                self._corrections[variant] = canonical
        self._corrections.update({word: word for word in self._idf})
        self._correction_choices = list(self._corrections)

    # ------------------------------------------------------------------------------------ public

    def match(self, text: str) -> MatchResult:
        """Return the decision for a message: answer, suggest up to three entries, or fall back."""
        scored = self._score(text)
        if not scored or scored[0].confidence <= 0.0:
            return MatchResult(Outcome.FALLBACK, None, (), 0.0)
        best = scored[0]
        runner_up = scored[1] if len(scored) > 1 else None
        second = runner_up.confidence if runner_up is not None else 0.0
        # When the runner-up explains every word the best entry explains ("cv", "formation", "ordi"),
        # the message cannot tell them apart: only the length of the phrasings differs. Suggest instead.
        discriminates = runner_up is None or not best.matched <= runner_up.matched
        if (
            discriminates
            and best.confidence >= ANSWER_THRESHOLD
            and best.confidence - second >= ANSWER_MARGIN
        ):
            return MatchResult(Outcome.ANSWER, best.entry, (), best.confidence)
        if best.confidence >= SUGGEST_THRESHOLD:
            if discriminates:
                floor = max(SUGGEST_THRESHOLD, best.confidence - SUGGEST_SPREAD)
                close = [item for item in scored if item.confidence >= floor]
            else:
                # A generic message ("cv", "ordi"): offer the entries about the same words, whatever
                # their scores, so that the trainee can pick the right one among a few.
                close = [item for item in scored if best.matched <= item.matched]
            suggestions = tuple(item.entry for item in close[:MAX_SUGGESTIONS])
            return MatchResult(Outcome.SUGGEST, None, suggestions, best.confidence)
        return MatchResult(Outcome.FALLBACK, None, (), best.confidence)

    def candidates(self, text: str, limit: int = 5) -> list[tuple[FaqEntry, float]]:
        """Return the best entries for a message with their confidence, best first (for staff debugging)."""
        return [(item.entry, item.confidence) for item in self._score(text)[: max(0, limit)]]

    # ------------------------------------------------------------------------------------ scoring

    def _resolve(self, words: Iterable[str]) -> dict[str, float]:
        """Map the message tokens to FAQ vocabulary (with a quality in 0..1) or keep them unknown (0)."""
        resolved: dict[str, float] = {}

        def keep(word: str, quality: float) -> None:
            resolved[word] = max(quality, resolved.get(word, 0.0))

        for word in words:
            if word in self._idf:
                keep(word, 1.0)
                continue
            rest = split_glued_elision(word, self._idf.__contains__)
            if rest is not None:
                keep(rest, 1.0)
                continue
            if len(word) >= _NO_CORRECTION_BELOW and word.isalpha():
                found = process.extractOne(
                    word,
                    self._correction_choices,
                    scorer=fuzz.ratio,
                    score_cutoff=_correction_cutoff(len(word)),
                )
                if found is not None and _is_derived_word(word, found[0]):
                    found = None
                if found is not None:
                    # A correction at the cutoff is a guess: it counts half as much as an exact word.
                    cutoff = _correction_cutoff(len(word))
                    keep(self._corrections[found[0]], 0.5 + 0.5 * (found[1] - cutoff) / (100.0 - cutoff))
                    continue
            if len(word) > 1 and not word.isdigit():
                keep(word, 0.0)
        return resolved

    def _score(self, text: str) -> list[_Scored]:
        """Return every entry with a positive confidence, best first."""
        if not isinstance(text, str) or not text.strip() or not self._entries:
            return []
        # normalize() also truncates, but slicing first keeps tokenisation cheap for huge inputs.
        resolved = self._resolve(dict.fromkeys(tokens(text[:MAX_INPUT_CHARS])))
        if not resolved:
            return []
        # Each further unknown word weighs a bit less: a long message naturally tells a story around
        # its question, whereas one unknown word in a short message is a strong sign of another topic.
        weights: dict[str, float] = {}
        unknown_weight = self._unknown_weight
        for word, quality in resolved.items():
            if quality > 0:
                weights[word] = self._idf[word] * quality
            else:
                weights[word] = unknown_weight
                unknown_weight *= UNKNOWN_WEIGHT_DECAY
        total_weight = sum(weights.values())
        known = {word: weights[word] for word, quality in resolved.items() if quality > 0}
        if not known or total_weight <= 0:
            return []
        query_text = " ".join(word for word in resolved if resolved[word] > 0)

        scored: list[_Scored] = []
        for entry, phrasings, vocabulary, answer_vocabulary in zip(
            self._entries, self._phrasings, self._entry_vocabulary, self._answer_vocabulary, strict=True
        ):
            matched = [word for word in known if word in vocabulary]
            if not matched:
                continue
            # Words found only in the answer (a button name, a site) are weaker evidence than words of
            # the question, but they show the message is about this entry.
            from_answer = [word for word in known if word in answer_vocabulary and word not in vocabulary]
            coverage = (
                sum(known[word] for word in matched)
                + ANSWER_WORD_FACTOR * sum(known[word] for word in from_answer)
            ) / total_weight
            recall = 0.0
            similarity = 0.0
            for phrasing in phrasings:
                shared = sum(known[word] for word in matched if word in phrasing.tokens)
                if shared <= 0:
                    continue
                phrasing_recall = min(1.0, shared / phrasing.total_weight)
                if phrasing.is_keyword:
                    phrasing_recall *= KEYWORD_RECALL_FACTOR
                recall = max(recall, phrasing_recall)
                if not phrasing.is_keyword:
                    similarity = max(similarity, fuzz.token_sort_ratio(query_text, phrasing.text) / 100.0)
            confidence = _combine(coverage, recall, similarity)
            if confidence > 0:
                scored.append(_Scored(entry, confidence, frozenset(matched)))
        scored.sort(key=lambda item: item.confidence, reverse=True)
        return scored


def _combine(coverage: float, recall: float, similarity: float) -> float:
    """Return a confidence in 0..1 from the three measures (each in 0..1)."""
    value = COVERAGE_WEIGHT * coverage + RECALL_WEIGHT * recall + SIMILARITY_WEIGHT * similarity
    return max(0.0, min(1.0, value))
