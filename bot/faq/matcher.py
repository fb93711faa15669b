"""Match a trainee's free-text message against the FAQ and decide whether to answer.

The matcher never answers at random. It returns one of three outcomes:

- ``ANSWER``: one entry is clearly the best match;
- ``SUGGEST``: up to three plausible entries, shown as "did you mean" buttons (the conversation adds
  "Parler à quelqu'un");
- ``FALLBACK``: nothing matches well enough; the conversation offers a human.

How a score is built (all of it precomputed in ``FaqMatcher.__init__`` except what depends on the query):

1. The message goes through :func:`bot.faq.normalize.tokens` (SMS spelling, accents, stop words, stems,
   synonyms). Each token unknown to the FAQ vocabulary is repaired when possible: a glued article
   (``laccueil``) is split, a misspelling with the same French phonetic key (``surchof``) is mapped to
   the FAQ word, then a typo is corrected with ``rapidfuzz.process.extractOne`` against the vocabulary
   words of the same first letter, with a cutoff that grows stricter for short words.
2. Each token weighs its IDF over the FAQ entries (a word found in many entries, like ``cv`` or
   ``ordinateur``, says little). A token still unknown keeps a fixed weight: it is evidence that the
   message speaks of something the FAQ does not cover. In a long message, the words of the clause that
   asks (the last one with a question mark, else the last one) weigh more than the story around it.
3. Only the entries sharing a token with the message are scored (inverted index). For each one the
   matcher measures how much of the message the entry explains (``coverage``) and how much of its best
   phrasing - question, an alternative or a keyword - the message contains (``recall``), plus a
   rapidfuzz ``token_sort_ratio`` between the message and that phrasing for the leading entries. Words
   that only appear in the entry's answer count for a fraction of their weight. These measures are
   combined linearly into a confidence in 0..1.
4. The decision looks at the best confidence and at its margin over the second entry, so that a
   generic message ("cv", "ordi") that fits several entries is never answered but suggested. A long
   message whose story dilutes the confidence is still answered when it names more than one specific
   word of the best entry that the runner-up does not explain (discriminating evidence; a word found
   only in the entry's answer counts for a fraction), unless the runner-up has as much evidence of its
   own. A message naming, with a word the FAQ never uses, a derivative of a word it matched
   ("chargeur" for "charger") asks about another thing: it is suggested.
   So is a message that shares only keywords with the best entry: a keyword names a topic, the question
   and the alternatives say what is asked about it; and one that names a thing the entry never speaks of
   while the entry speaks of another of its kind (the phone, for an entry about the laptop).
5. With a semantic index (bot/faq/semantic.py), steps 1-3 still give the words' confidence of each entry,
   and the decision of step 4 is replaced by one fused confidence: the words' mixed with the closeness of
   meaning (every entry is a candidate, even one sharing no word with the message). It answers above one
   threshold with a lead over the runner-up, else suggests the first three; only the derived-word and
   another-kind rules of step 4 still veto an answer.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.common.text import fold
from bot.faq.loader import FaqBase, FaqEntry
from bot.faq.normalize import (
    LEXICON_DIR_NAME,
    MAX_INPUT_CHARS,
    Lexicon,
    detect_language,
    keyword_tokens,
    load_lexicon,
    phonetic,
    split_glued_elision,
    tokens,
)
from bot.faq.semantic import SemanticIndex

__all__ = ["FaqMatcher", "MatchResult", "Outcome", "Thresholds"]

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- decision thresholds
MAX_SUGGESTIONS = 3
MIN_SUGGESTION_CONFIDENCE = 0.2

# ----------------------------------------------------------------------------- scoring parameters
# With an embedder, the fused confidence is (1 - MEANING_WEIGHT) * the words' confidence + MEANING_WEIGHT
# * the closeness of meaning, read as the cosine above the message's median entry over MEANING_SPAN.
MEANING_WEIGHT = 0.35
MEANING_SPAN = 0.25
# Weight of a token that the FAQ vocabulary does not know, relative to the rarest FAQ word.
UNKNOWN_TOKEN_WEIGHT = 1.4
UNKNOWN_WEIGHT_DECAY = 0.85
# An unknown everyday word ("hier", "enfant", "trouver") is the story around a question: it weighs this
# share of an unknown rare word and does not use up the decay.
COMMON_UNKNOWN_FACTOR = 0.2
# In an English or Dutch message most words are unknown because the lexicon only translates the domain
# words: being unknown is then weaker evidence of another topic.
FOREIGN_UNKNOWN_FACTOR = 0.5
# Share of a word's weight that counts when the word only appears in the entry's answer.
ANSWER_WORD_FACTOR = 0.4
# A phrasing made of generic words only ("Je n'ai pas de son sur l'ordinateur" once "son" is lost)
# is not recalled in full by them: it weighs at least this share of the rarest word.
MIN_PHRASING_WEIGHT = 0.5
# A keyword alone is a weaker sign than a whole phrasing of the question.
KEYWORD_RECALL_FACTOR = 0.5
# How the confidence mixes its three measures (they sum to 1).
COVERAGE_WEIGHT = 0.45
RECALL_WEIGHT = 0.4
SIMILARITY_WEIGHT = 0.15
# Only the best entries by coverage get the full score, and the best of those the (costlier) string
# similarity: with a large FAQ, a generic word ("ordinateur") appears in hundreds of entries.
FULL_SCORE_CANDIDATES = 40
SIMILARITY_CANDIDATES = 8
# A message longer than this (in content tokens) is a story: only its first tokens are scored.
MAX_QUERY_TOKENS = 40
# A message of this many content tokens or more tells a story around its question ("hier j'ai tourné 20
# minutes [...], y a pas un parking pour nous ?"): the words of the clause that asks - the last one with
# a question mark, else the last one - weigh this much more than the story's. On the development set
# this answers four more long messages and no wrong one (bench/faq_quality.py).
STORY_TOKENS = 6
QUESTION_CLAUSE_FACTOR = 2.0
# Clauses end at sentence punctuation (kept with the clause, so that "?" tells the asking one) or commas.
_CLAUSE_BREAK = re.compile(r"(?<=[?!.;…])|[,\n]")
# Quality of a token repaired through its phonetic key (an exact word is 1).
PHONETIC_QUALITY = 0.8
# Quality of a word the FAQ does not know, read as the broader concept the lexicon relates it to
# ("sombre" -> "luminosite"): a hint of the topic, weaker than the word itself.
RELATED_QUALITY = 0.8
# Minimum rapidfuzz.ratio for correcting a typo, by token length: short words need to be almost exact
# ("pdf" vs "pc"), long words tolerate more edits ("surchof" -> "surchauff").
_NO_CORRECTION_BELOW = 4
_MIN_PHONETIC_KEY = 3
_DERIVATION_SUFFIX_LENGTH = 3
# Bound the per-word repair cache: words are few, but a hostile input could bring many.
_RESOLVE_CACHE_SIZE = 20_000


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Hold the decision thresholds, calibrated on the development set (bench/faq_quality.py)."""

    # On the development set, answering goes wrong more often below 0.48 (two more wrong answers at
    # 0.46, four at 0.44) and the answered share shrinks steadily above it: a step back from that
    # edge is kept, because new phrasings and new entries sit a little lower than the tuned ones (with
    # half of the entries removed, 0.48 answers 7 more of their questions wrongly than 0.50).
    answer: float = 0.5
    margin: float = 0.08
    suggest: float = 0.3
    # Suggestions stay close to the best one: a far second choice is noise on a phone screen.
    spread: float = 0.25
    # Discriminating evidence that answers below ``answer``: the summed weight of the words only the
    # best entry explains, minus that of the words only the runner-up explains, in units of the rarest
    # FAQ word (so that it means "more than one specific word" whatever the size of the FAQ). Answers
    # on the development set do not move from 1.4 to 1.6 (1.6: one wrong answer fewer when half of the
    # entries are removed). With that evidence, the answer threshold is lowered by ``evidence_relief``
    # (the same answers from 0.09 to 0.25: the middle is kept).
    evidence: float = 1.6
    evidence_relief: float = 0.15
    # With an embedder: the fused confidence (words and meaning) that answers, its margin over the
    # runner-up, and the one that suggests. Fitted by bench/faq_quality.py by cross-validation over
    # entries of the development set (its halves gave 0.60 and 0.66; the whole set 0.64), and measured on
    # sets they were not fitted on.
    fused_answer: float = 0.64
    fused_margin: float = 0.08
    fused_suggest: float = 0.12
    fused_suggest_others: float = 0.1


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
    if word.startswith(candidate) and len(word) - len(candidate) >= _DERIVATION_SUFFIX_LENGTH:
        return True
    # "comprendre" is not "prendre", "abonner" not "bonne", "bpost" not "post": a vocabulary word
    # preceded by extra letters is a prefixed word (glued articles are split before this test).
    return len(word) > len(candidate) and word.endswith(candidate)


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
    # Weight of each message token (IDF times repair quality): shared by all the entries of a message.
    weights: Mapping[str, float] = field(default_factory=dict)
    coverage: float = 0.0
    recall: float = 0.0
    similarity: float = 0.0
    # Words of the message that the FAQ does not know at all: not everyday words, not typos of FAQ words.
    strangers: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Query:
    """A message as the matcher weighs it: its known words and their weights, and its unknown words."""

    known: dict[str, float]
    total_weight: float
    strangers: frozenset[str]


class FaqMatcher:
    """Match messages against one FAQ base; build once, then call :meth:`match` for every message."""

    def __init__(
        self,
        base: FaqBase,
        lexicon: Lexicon | None = None,
        *,
        thresholds: Thresholds | None = None,
        semantic: SemanticIndex | None = None,
    ) -> None:
        """Precompute the vocabulary, the IDF weights, the index and the tokenised phrasings.

        semantic: the entries' phrasings embedded (same order as ``base.entries``); None matches by words.
        """
        if semantic is not None and len(semantic) != len(base.entries):
            raise ValueError("the semantic index was built for another list of entries")
        self._semantic = semantic
        self._base = base
        self._entries = base.entries
        self._lexicon = lexicon if lexicon is not None else load_lexicon(base.directory / LEXICON_DIR_NAME)
        self.thresholds = thresholds if thresholds is not None else Thresholds()
        entry_phrasings = self._weigh_vocabulary()
        self._build_phrasings(entry_phrasings)
        self._build_indexes()
        self._build_corrections()
        self._resolve_cache: dict[str, tuple[str, float]] = {}
        self._exact = _exact_phrasings(self._entries)

    def _weigh_vocabulary(self) -> list[list[tuple[list[str], bool]]]:
        """Tokenise every phrasing and answer; weigh each word by how rare it is in the FAQ (IDF)."""
        lex = self._lexicon
        entry_phrasings: list[list[tuple[list[str], bool]]] = []
        document_frequency: dict[str, int] = {}
        answer_vocabulary: list[frozenset[str]] = []
        for entry in self._entries:
            phrasings = [(tokens(entry.question, lex, drop_negated=True), False)]
            phrasings += [(tokens(text, lex, drop_negated=True), False) for text in entry.alternatives]
            phrasings += [(keyword_tokens(text, lex), True) for text in entry.keywords]
            entry_phrasings.append(phrasings)
            answer_words = set(tokens(entry.answer, lex, drop_negated=True))
            answer_vocabulary.append(frozenset(answer_words))
            for word in {word for words, _ in phrasings for word in words} | answer_words:
                document_frequency[word] = document_frequency.get(word, 0) + 1

        count = max(1, len(self._entries))
        # In a fixed (sorted) order: the vocabulary was gathered from sets, whose order changes from one
        # process to the next, and ties between typo corrections or phonetic keys go to the first word.
        self._idf = {
            word: math.log((count + 1) / (document_frequency[word] + 0.5))
            for word in sorted(document_frequency)
        }
        max_idf = max(self._idf.values(), default=1.0)
        self._unknown_weight = UNKNOWN_TOKEN_WEIGHT * max_idf
        self._max_idf = max_idf
        self._answer_vocabulary = answer_vocabulary
        return entry_phrasings

    def _build_phrasings(self, entry_phrasings: list[list[tuple[list[str], bool]]]) -> None:
        """Keep each entry's phrasings with their weights, and the words each entry asks and speaks of."""
        max_idf = self._max_idf
        self._phrasings: list[tuple[_Phrasing, ...]] = []
        self._entry_vocabulary: list[frozenset[str]] = []
        # The words of an entry's question and alternatives, without its keywords.
        self._asked_vocabulary: list[frozenset[str]] = []
        for phrasings in entry_phrasings:
            built = tuple(
                _Phrasing(
                    tokens=frozenset(words),
                    text=" ".join(words),
                    total_weight=max(
                        sum(self._idf[word] for word in set(words)), MIN_PHRASING_WEIGHT * max_idf
                    ),
                    is_keyword=is_keyword,
                )
                for words, is_keyword in phrasings
                if words
            )
            self._phrasings.append(built)
            self._entry_vocabulary.append(frozenset(word for phrasing in built for word in phrasing.tokens))
            self._asked_vocabulary.append(
                frozenset(word for phrasing in built if not phrasing.is_keyword for word in phrasing.tokens)
            )
        answer_vocabulary = self._answer_vocabulary
        # Everything an entry speaks of, answer included: the things it names (see _names_another_kind).
        self._spoken_vocabulary = [
            asked | answered
            for asked, answered in zip(self._entry_vocabulary, answer_vocabulary, strict=True)
        ]
        self._question_tokens = [frozenset(phrasings[0][0]) for phrasings in entry_phrasings]
        self._positions = {entry.id: position for position, entry in enumerate(self._entries)}

    def _build_indexes(self) -> None:
        """Index the entries by word, question side and answer side apart."""
        answer_vocabulary = self._answer_vocabulary
        # Inverted indexes: only the entries that share a word with the message are scored. Words of
        # the question side and words found only in the answer are kept apart (they weigh differently).
        self._index: dict[str, list[int]] = {}
        self._answer_index: dict[str, list[int]] = {}
        for position, (vocabulary, answer_only) in enumerate(
            zip(self._entry_vocabulary, answer_vocabulary, strict=True)
        ):
            for word in vocabulary:
                self._index.setdefault(word, []).append(position)
            for word in answer_only - vocabulary:
                self._answer_index.setdefault(word, []).append(position)

    def _build_corrections(self) -> None:
        """Prepare the repair of typos and of words spelt by ear, towards the FAQ's own words."""
        lex = self._lexicon
        # Typos are corrected towards the FAQ vocabulary, and towards lexicon synonyms of FAQ words
        # ("sauvgarder" is closer to "sauvegarder" than to the FAQ's "enregistrer").
        self._corrections: dict[str, str] = {}
        for variant, canonical in lex.synonyms.items():
            if canonical in self._idf and len(variant) >= _NO_CORRECTION_BELOW:
                self._corrections[variant] = canonical
        self._corrections.update({word: word for word in self._idf})
        # People rarely get the first letter of a word wrong (and a first letter that sounds like
        # another, "klavier", is the phonetic repair's job): a real word that differs by its first
        # letter ("tient", "blague") is another word, not a typo of "vient" or "langue".
        self._correction_choices: dict[str, list[str]] = {}
        for choice in self._corrections:
            self._correction_choices.setdefault(choice[:1], []).append(choice)
        # Phonetic keys: when two FAQ words share a key, the more specific (rarer) one wins.
        self._phonetic: dict[str, str] = {}
        # Only the FAQ's own words get a key: the lexicon's English or Dutch variants ("scam") would
        # capture French misspellings that merely sound alike ("scan").
        for word in sorted(self._idf, key=lambda word: -self._idf[word]):
            key = phonetic(word)
            if len(key) >= _MIN_PHONETIC_KEY and word.isalpha():
                self._phonetic.setdefault(key, word)

    # ------------------------------------------------------------------------------------ public

    def match(self, text: str) -> MatchResult:
        """Return the decision for a message: answer, suggest up to three entries, or fall back."""
        # A message written exactly as one entry's question or phrasing (accents, case, spaces and
        # punctuation aside) is that entry: an admin taught it so. Whatever the scores of its neighbours.
        taught = self._exact.get(_phrasing_key(text)) if isinstance(text, str) else None
        if taught is not None:
            return MatchResult(Outcome.ANSWER, taught, (), 1.0)
        scored = self._score(text)
        if self._semantic is not None and isinstance(text, str) and text.strip():
            try:
                return self._decide_by_meaning(text, scored)
            except Exception:
                # The words still answer: a failing model must not leave the trainee without a reply.
                log.exception("semantic matching failed for one message; decided by words")
        return self._decide_by_words(scored)

    def _decide_by_words(self, scored: list[_Scored]) -> MatchResult:
        """Decide from the words alone (no embedder): the lexical rules below."""
        thresholds = self.thresholds
        if not scored or scored[0].confidence <= 0.0:
            return MatchResult(Outcome.FALLBACK, None, (), 0.0)
        best = scored[0]
        runner_up = scored[1] if len(scored) > 1 else None
        second = runner_up.confidence if runner_up is not None else 0.0
        # When the runner-up explains every word the best entry explains ("cv", "formation", "ordi"),
        # the message cannot tell them apart: only the length of the phrasings differs. Suggest instead.
        best_answer = self._answer_words(best)
        runner_up_answer = self._answer_words(runner_up) if runner_up is not None else frozenset()
        discriminates = (
            runner_up is None
            or not best.matched <= runner_up.matched
            # ... unless the best entry's answer names a word of the message that the runner-up never
            # uses ("le câble", "je le branche" for charging a phone on the laptop).
            or bool(best_answer - runner_up.matched - runner_up_answer)
            # ... or unless the message has several words and the runner-up is too far behind to be even
            # suggested beside it: they fit the best entry's phrasing much better ("mon ordi veut pas
            # s'allumer"). One word alone ("cv") names a topic, whatever the scores.
            or (len(best.matched) > 1 and best.confidence - runner_up.confidence >= thresholds.spread)
        )
        # "le chargeur de mon gsm" is not "charger mon gsm": a word built on a word of the best entry, that
        # the FAQ never uses, names another thing (a near-miss). It may still be what the trainee means,
        # so the entry is suggested rather than answered.
        derived = _names_derived_thing(best)
        # A keyword is a topic, not a question: a message that shares only keywords with the best entry
        # ("acheter une voiture" and the parking's keyword "voiture") may ask anything about that topic.
        tagged_only = best.matched.isdisjoint(self._asked_vocabulary[self._positions[best.entry.id]])
        # "la langue de mon téléphone" is not "la langue de Windows": the message names a thing the entry
        # never speaks of, while the entry speaks of another thing of that kind (lexicon's "kinds").
        another_kind = self._names_another_kind(best)
        if (
            discriminates
            and not derived
            and not tagged_only
            and not another_kind
            and best.confidence >= thresholds.answer
            and best.confidence - second >= thresholds.margin
        ):
            return MatchResult(Outcome.ANSWER, best.entry, (), best.confidence)
        # A long message dilutes the confidence with its story, yet it may name two or more specific
        # words of one entry that the runner-up does not explain: that discriminating evidence decides,
        # unless the runner-up has as much evidence of its own (the message mixes two topics).
        if (
            not derived
            and not tagged_only
            and not another_kind
            and best.confidence >= thresholds.answer - thresholds.evidence_relief
            and _discriminating_evidence(best, best_answer, runner_up, runner_up_answer)
            >= thresholds.evidence * self._max_idf
        ):
            return MatchResult(Outcome.ANSWER, best.entry, (), best.confidence)
        if best.confidence >= thresholds.suggest:
            if discriminates:
                # The first suggestion passed the suggest threshold; the others only need to stay close
                # to it: when even the best is unsure, one lone wrong button is worse than three.
                floor = max(MIN_SUGGESTION_CONFIDENCE, best.confidence - thresholds.spread)
                close = [item for item in scored if item.confidence >= floor]
            else:
                # A generic message ("cv", "ordi"): offer the entries most centrally about the same
                # words - the words in their question, then the shortest questions - whatever their
                # scores, so that the trainee can pick the right one among a few.
                central = sorted(
                    (item for item in scored if best.matched <= item.matched),
                    key=lambda item: self._centrality(item, best.matched),
                )[:MAX_SUGGESTIONS]
                # The places left go to entries about the message's other words ("cv" in "moi pas
                # comprendre cv"): any that would be suggested on its own, since the best score, shared,
                # says little here.
                taken = {item.entry.id for item in central}
                close = central + [
                    item
                    for item in scored
                    if item.entry.id not in taken and item.confidence >= thresholds.suggest
                ]
            suggestions = tuple(item.entry for item in close[:MAX_SUGGESTIONS])
            return MatchResult(Outcome.SUGGEST, None, suggestions, best.confidence)
        return MatchResult(Outcome.FALLBACK, None, (), best.confidence)

    def _decide_by_meaning(self, text: str, scored: list[_Scored]) -> MatchResult:
        """Decide from one confidence that fuses the words' evidence and the closeness of meaning."""
        thresholds = self.thresholds
        fused = self._fused(text, scored)
        order = np.argsort(-fused, kind="stable")[: max(MAX_SUGGESTIONS, 2)]
        best = int(order[0])
        confidence = float(fused[best])
        second = float(fused[order[1]]) if len(order) > 1 else 0.0
        lexical = next((item for item in scored if self._positions[item.entry.id] == best), None)
        # The words still veto an answer where they show the message asks about another thing than
        # the entry: a derived word ("chargeur" for "charger"), another thing of the entry's kind. (A
        # veto for one word that other entries share, "cv" alone, was measured and left out: it cost 1
        # correct answer on the development set and 4 on the shipped one, and saved no wrong one.)
        vetoed = lexical is not None and (_names_derived_thing(lexical) or self._names_another_kind(lexical))
        if (
            not vetoed
            and confidence >= thresholds.fused_answer
            and confidence - second >= thresholds.fused_margin
        ):
            return MatchResult(Outcome.ANSWER, self._entries[best], (), confidence)
        if confidence < thresholds.fused_suggest:
            return MatchResult(Outcome.FALLBACK, None, (), confidence)
        # Three buttons cost the trainee one look; the right entry is among the first three far more
        # often than it is first (bench/faq_quality.py: "top 3"). Only entries with some evidence of
        # their own are offered.
        suggestions = tuple(
            self._entries[int(position)]
            for position in order[:MAX_SUGGESTIONS]
            if fused[position] >= thresholds.fused_suggest_others
        )
        return MatchResult(Outcome.SUGGEST, None, suggestions, confidence)

    def _fused(self, text: str, scored: list[_Scored]) -> npt.NDArray[np.float64]:
        """Return every entry's fused confidence in 0..1: the words' confidence mixed with meaning.

        The closeness of meaning is read relative to the message's closeness to the whole FAQ (its median
        entry): a sentence model's cosines sit in a band whose level depends on the message, not on the FAQ.
        """
        assert self._semantic is not None
        words = np.zeros(len(self._entries))
        for item in scored:
            words[self._positions[item.entry.id]] = item.confidence
        closeness = self._semantic.similarities(text)
        if not closeness.size:
            return words
        meaning = np.clip((closeness - np.median(closeness)) / MEANING_SPAN, 0.0, 1.0)
        return (1.0 - MEANING_WEIGHT) * words + MEANING_WEIGHT * meaning

    def candidates(self, text: str, limit: int = 5) -> list[tuple[FaqEntry, float]]:
        """Return the best entries for a message with the confidence that decides, best first."""
        scored = self._score(text)
        if self._semantic is None or not isinstance(text, str) or not text.strip():
            return [(item.entry, item.confidence) for item in scored[: max(0, limit)]]
        fused = self._fused(text, scored)
        order = np.argsort(-fused, kind="stable")[: max(0, limit)]
        return [
            (self._entries[int(position)], float(fused[position]))
            for position in order
            if fused[position] > 0
        ]

    # ------------------------------------------------------------------------------------ scoring

    def _centrality(self, item: _Scored, words: frozenset[str]) -> tuple[int, int, float]:
        """Return a sort key putting first the entries whose canonical question is about ``words``."""
        question = self._question_tokens[self._positions[item.entry.id]]
        return (-len(words & question), len(question), -item.confidence)

    def _resolve_word(self, word: str) -> tuple[str, float]:
        """Map one message token to the FAQ vocabulary with a quality in 0..1 (0: unknown)."""
        if word in self._idf:
            return word, 1.0
        cached = self._resolve_cache.get(word)
        if cached is not None:
            return cached
        result = self._repair(word)
        if len(self._resolve_cache) >= _RESOLVE_CACHE_SIZE:
            self._resolve_cache.clear()
        self._resolve_cache[word] = result
        return result

    def _repair(self, word: str) -> tuple[str, float]:
        """Return the FAQ word an unknown token stands for (glued article, phonetic key, typo)."""
        rest = split_glued_elision(word, self._idf.__contains__, stemmed=True)
        if rest is not None:
            return rest, 1.0
        if not word.isalpha():
            return word, 0.0
        for concept in self._lexicon.related.get(word, ()):
            if concept in self._idf:
                return concept, RELATED_QUALITY
        # A real word that the lexicon knows ("demain", "matin", "tenir") is not a misspelling of the
        # FAQ word it happens to resemble ("demander", "main", "venir"): it stays what it is.
        if word in self._lexicon.common_stems or word in self._lexicon.known_stems:
            return word, 0.0
        key = phonetic(word)
        if len(key) >= _MIN_PHONETIC_KEY and key in self._phonetic:
            return self._phonetic[key], PHONETIC_QUALITY
        if len(word) >= _NO_CORRECTION_BELOW:
            cutoff = _correction_cutoff(len(word))
            choices = self._correction_choices.get(word[:1], ())
            found = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
            if found is not None and not _is_derived_word(word, found[0]):
                # A correction at the cutoff is a guess: it counts half as much as an exact word.
                return self._corrections[found[0]], 0.5 + 0.5 * (found[1] - cutoff) / (100.0 - cutoff)
        return word, 0.0

    def _names_another_kind(self, best: _Scored) -> bool:
        """Tell whether the message names a thing the entry never speaks of, beside another of its kind."""
        spoken = self._spoken_vocabulary[self._positions[best.entry.id]]
        named = best.weights.keys() | best.strangers
        return any((group & named) - spoken and group & spoken for group in self._lexicon.kinds)

    def _answer_words(self, item: _Scored) -> frozenset[str]:
        """Return the words of the message that only the entry's answer contains."""
        answer = self._answer_vocabulary[self._positions[item.entry.id]]
        return frozenset(word for word in item.weights if word in answer and word not in item.matched)

    def _resolve(self, words: Iterable[str]) -> dict[str, float]:
        """Map the message tokens to FAQ vocabulary (with a quality in 0..1) or keep them unknown (0)."""
        resolved: dict[str, float] = {}
        for word in words:
            target, quality = self._resolve_word(word)
            if quality <= 0 and (len(word) <= 1 or word.isdigit()):
                continue
            resolved[target] = max(quality, resolved.get(target, 0.0))
        return resolved

    def _score(self, text: str) -> list[_Scored]:
        """Return every entry with a positive confidence, best first."""
        query = self._weigh(text)
        if query is None:
            return []
        return self._rank(query, self._bounds(query))

    def _weigh(self, text: str) -> _Query | None:
        """Return the message's words with their weights, None when no word of it is known."""
        if not isinstance(text, str) or not text.strip() or not self._entries:
            return None
        # normalize() also truncates, but slicing first keeps tokenisation cheap for huge inputs. The
        # message is tokenised clause by clause, so that the clause that asks is known without a second pass.
        clauses = [
            (part, found)
            for part in _CLAUSE_BREAK.split(text[:MAX_INPUT_CHARS])
            if (found := tokens(part, self._lexicon))
        ]
        words = list(dict.fromkeys(word for _, found in clauses for word in found))[:MAX_QUERY_TOKENS]
        resolved = self._resolve(words)
        if not resolved:
            return None
        # Each further unknown word weighs a bit less: a long message naturally tells a story around
        # its question, whereas one unknown word in a short message is a strong sign of another topic.
        weights: dict[str, float] = {}
        unknown_weight = self._unknown_weight
        if detect_language(text) != "fr":
            unknown_weight *= FOREIGN_UNKNOWN_FACTOR
        common = self._lexicon.common_stems
        strangers: set[str] = set()
        for word, quality in resolved.items():
            if quality > 0:
                weights[word] = self._idf[word] * quality
            elif word in common:
                weights[word] = COMMON_UNKNOWN_FACTOR * unknown_weight
            else:
                weights[word] = unknown_weight
                unknown_weight *= UNKNOWN_WEIGHT_DECAY
                if word.isalpha():
                    strangers.add(word)
        frozen_strangers = frozenset(strangers)
        if len(words) >= STORY_TOKENS and len(clauses) > 1:
            asking = [found for part, found in clauses if "?" in part]
            chosen = asking[-1] if asking else clauses[-1][1]
            for word in {self._resolve_word(word)[0] for word in chosen} & weights.keys():
                weights[word] *= QUESTION_CLAUSE_FACTOR
        total_weight = sum(weights.values())
        known = {word: weights[word] for word, quality in resolved.items() if quality > 0}
        if not known or total_weight <= 0:
            return None
        return _Query(known, total_weight, frozen_strangers)

    def _bounds(self, query: _Query) -> list[tuple[float, int, float, float, list[str]]]:
        """Return the leading entries by coverage and recall, each with the best confidence it may reach."""
        known, total_weight = query.known, query.total_weight

        # Coverage by accumulation over the indexes; words found only in the answer (a button name, a
        # site) are weaker evidence than words of the question, but show the message is about the entry.
        explained: dict[int, float] = {}
        for word, weight in known.items():
            for position in self._index.get(word, ()):
                explained[position] = explained.get(position, 0.0) + weight
        if not explained:
            return []
        for word, weight in known.items():
            for position in self._answer_index.get(word, ()):
                if position in explained:
                    explained[position] += ANSWER_WORD_FACTOR * weight
        leading = sorted(explained.items(), key=lambda item: item[1], reverse=True)[:FULL_SCORE_CANDIDATES]

        partial: list[tuple[float, int, float, float, list[str]]] = []
        for position, explained_weight in leading:
            vocabulary = self._entry_vocabulary[position]
            matched = [word for word in known if word in vocabulary]
            coverage = explained_weight / total_weight
            recall = 0.0
            for phrasing in self._phrasings[position]:
                shared = sum(known[word] for word in matched if word in phrasing.tokens)
                if shared <= 0:
                    continue
                phrasing_recall = min(1.0, shared / phrasing.total_weight)
                if phrasing.is_keyword:
                    phrasing_recall *= KEYWORD_RECALL_FACTOR
                recall = max(recall, phrasing_recall)
            upper_bound = _combine(coverage, recall, 1.0)
            partial.append((upper_bound, position, coverage, recall, matched))
        return partial

    def _rank(
        self, query: _Query, partial: list[tuple[float, int, float, float, list[str]]]
    ) -> list[_Scored]:
        """Add the similarity to the leading entries; return the entries with a positive confidence."""
        known, query_text = query.known, " ".join(query.known)
        # The similarity adds at most SIMILARITY_WEIGHT: only the leading entries can change rank with it.
        partial.sort(key=lambda item: item[0], reverse=True)
        scored: list[_Scored] = []
        for rank, (_bound, position, coverage, recall, matched) in enumerate(partial):
            similarity = 0.0
            if rank < SIMILARITY_CANDIDATES:
                for phrasing in self._phrasings[position]:
                    if not phrasing.is_keyword and not phrasing.tokens.isdisjoint(matched):
                        similarity = max(similarity, fuzz.token_sort_ratio(query_text, phrasing.text) / 100.0)
            confidence = _combine(coverage, recall, similarity)
            if confidence > 0:
                scored.append(
                    _Scored(
                        self._entries[position],
                        confidence,
                        frozenset(matched),
                        known,
                        coverage,
                        recall,
                        similarity,
                        query.strangers,
                    )
                )
        scored.sort(key=lambda item: item.confidence, reverse=True)
        return scored


def _names_derived_thing(best: _Scored) -> bool:
    """Tell whether the message names, with a word unknown to the FAQ, a derivative of a matched word.

    "chargeur" next to "charger", "imprimante" next to "imprimer": the FAQ entry explains the base word,
    not the thing the message is about.
    """
    return any(
        _is_derived_word(stranger, word) or _is_derived_word(word, stranger)
        for stranger in best.strangers
        for word in best.matched
    )


def _discriminating_evidence(
    best: _Scored, best_answer: frozenset[str], other: _Scored | None, other_answer: frozenset[str]
) -> float:
    """Return the weight of the words only ``best`` explains, minus that of the words only ``other`` does.

    ``best_answer`` and ``other_answer`` are the message's words that only each entry's answer contains
    ("csc" in the answer about unemployment benefits, the bank in the one about scams): they count for
    ``ANSWER_WORD_FACTOR`` of their weight.
    """
    weights = best.weights
    if other is None:
        own = sum(weights[word] for word in best.matched)
        return own + ANSWER_WORD_FACTOR * sum(weights[word] for word in best_answer)
    own = sum(weights[word] for word in best.matched - other.matched)
    own += ANSWER_WORD_FACTOR * sum(weights[word] for word in best_answer - other.matched - other_answer)
    against = sum(weights[word] for word in other.matched - best.matched)
    against += ANSWER_WORD_FACTOR * sum(weights[word] for word in other_answer - best.matched - best_answer)
    return own - against


def _combine(coverage: float, recall: float, similarity: float) -> float:
    """Return a confidence in 0..1 from the three measures (each in 0..1)."""
    value = COVERAGE_WEIGHT * coverage + RECALL_WEIGHT * recall + SIMILARITY_WEIGHT * similarity
    return max(0.0, min(1.0, value))


# A phrasing shorter than this, once folded ("cv", "wifi"), names a topic, not a question.
MIN_EXACT_KEY = 6


def _phrasing_key(text: str) -> str:
    """Return the form two phrasings are compared in: lowercase, no accents, punctuation or spaces."""
    return fold(text).replace(" ", "")


def _exact_phrasings(entries: Iterable[FaqEntry]) -> dict[str, FaqEntry]:
    """Index the entries by their questions and phrasings; a phrasing two entries share belongs to none."""
    owners: dict[str, set[str]] = {}
    by_id: dict[str, FaqEntry] = {}
    for entry in entries:
        by_id[entry.id] = entry
        for text in (entry.question, *entry.alternatives):
            key = _phrasing_key(text)
            if len(key) >= MIN_EXACT_KEY:
                owners.setdefault(key, set()).add(entry.id)
    return {key: by_id[next(iter(ids))] for key, ids in owners.items() if len(ids) == 1}
