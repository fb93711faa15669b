"""Normalise French as trainees write it, so that their messages can be compared with the FAQ.

Two levels are offered:

- :func:`normalize` folds the surface form: case, accents, apostrophes and elisions (``l'``, ``j'``,
  ``qu'``), punctuation, repeated letters (``nooon``), SMS and phonetic spellings (``koi``, ``jarrive``,
  ``mdp``). The result is still readable French: ``"jarrive pa a ouvrir l'ordi"`` becomes
  ``"j arrive pas a ouvrir l ordinateur"``.
- :func:`tokens` keeps only the words that carry the topic: stop words removed, multi-word concepts
  joined (``mot de passe``), a light stemming and synonyms (``gsm`` -> ``telephone``).

The general lexicon lives in ``data/lexicon.yaml`` and is loaded lazily, once.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

__all__ = ["MAX_INPUT_CHARS", "Lexicon", "lexicon", "normalize", "split_glued_elision", "stem", "tokens"]

# A real question fits in a few lines; a 10,000-character paste (a whole e-mail, a log...) is not a
# question the FAQ can answer, and normalising it would only cost time. The start of a message is where
# people state their problem, so the first 500 characters are kept.
MAX_INPUT_CHARS = 500

# Longest phrase of the lexicon, in words; bounds the phrase lookup.
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})
_AUJOURDHUI = re.compile(r"\baujourd\s*'?\s*hui\b")
_ELISION = re.compile(r"\b(qu|jusqu|lorsqu|puisqu|quoiqu|[cdjlmnst])'")
_NOT_WORD = re.compile(r"[\W_]+")
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")
# "jvois", "jpeux", "jtrouve": a "j" glued to a consonant is always an elided "je" in French.
_GLUED_JE = re.compile(r"j[bcdfgklmnpqrstvwxz][a-z]*[aeiouy][a-z]*")
_GLUED_JE_EXCEPTIONS = frozenset({"jpeg", "jpg"})
_ELIDED_LETTERS = frozenset("cdjlmnst")
_VOWELS = frozenset("aeiouyh")
_MIN_GLUED_REST = 3


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Hold the general lexicon, prepared for fast lookups."""

    replacements: dict[str, tuple[str, ...]]
    phrases: dict[tuple[str, ...], tuple[str, ...]]
    max_phrase_length: int
    synonyms: dict[str, str]
    stop_words: frozenset[str]
    known_stems: frozenset[str]


def _fold(text: str) -> str:
    """Return text lowercased, without accents, with straight apostrophes."""
    text = text.casefold().translate(_APOSTROPHES).translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def stem(word: str) -> str:
    """Return a light stem of a folded French word (plural, gender and verb endings removed)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word[-1] in "sx" and len(word) > 4:
        word = word[:-1]
    if word.endswith("trice"):
        # formatrice -> formateur: the feminine of -teur nouns.
        return word[:-5] + "teur"
    if word.endswith("euse"):
        return word[:-4] + "eur"
    for suffix, min_rest in (
        ("ement", 4),
        ("iere", 3),
        ("ere", 3),
        ("ee", 3),
        ("er", 3),
        ("ez", 3),
        ("ir", 4),
        ("e", 3),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= min_rest:
            return word[: -len(suffix)]
    return word


@functools.cache
def lexicon() -> Lexicon:
    """Return the general lexicon shipped with the code, loaded once."""
    source = resources.files("bot.faq").joinpath("data", "lexicon.yaml").read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml.safe_load(source) or {}

    def words(text: object) -> tuple[str, ...]:
        return tuple(_NOT_WORD.sub(" ", _fold(str(text))).split())

    replacements = {_fold(str(key)): words(value) for key, value in (raw.get("replacements") or {}).items()}
    phrases = {
        tuple(stem(word) for word in words(key)): words(value)
        for key, value in (raw.get("phrases") or {}).items()
    }
    synonyms: dict[str, str] = {}
    for group in raw.get("synonyms") or []:
        canonical = stem(_fold(str(group[0])))
        for variant in group[1:]:
            synonyms.setdefault(stem(_fold(str(variant))), canonical)
    stop_words = frozenset(
        _fold(str(word)) for group in (raw.get("stop_words") or {}).values() for word in group or []
    )
    known_words = {
        *replacements,
        *(word for value in replacements.values() for word in value),
        *(word for value in phrases.values() for word in value),
        *(_fold(str(word)) for group in raw.get("synonyms") or [] for word in group),
    }
    return Lexicon(
        replacements=replacements,
        phrases=phrases,
        max_phrase_length=max((len(key) for key in phrases), default=1),
        synonyms=synonyms,
        stop_words=stop_words,
        known_stems=frozenset(stem(word) for word in known_words if len(word) >= _MIN_GLUED_REST),
    )


def split_glued_elision(word: str, is_known: Callable[[str], bool]) -> str | None:
    """Return the word without a glued elided article (``lordi`` -> ``ordi``) when the rest is known.

    ``is_known`` is a predicate on stems. The split is only made when the whole word is unknown and the
    rest is known, so that real words such as ``lien`` or ``mail`` are left alone.
    """
    if word.startswith("qu") and len(word) - 2 >= _MIN_GLUED_REST and word[2] in _VOWELS:
        rest = word[2:]
    elif len(word) - 1 >= _MIN_GLUED_REST and word[0] in _ELIDED_LETTERS and word[1] in _VOWELS:
        rest = word[1:]
    else:
        return None
    if is_known(stem(word)) or not is_known(stem(rest)):
        return None
    return rest


def _expand(word: str, lex: Lexicon) -> tuple[str, ...]:
    """Return the standard words for one folded written word."""
    replacement = lex.replacements.get(word)
    if replacement is not None:
        return replacement
    if _GLUED_JE.fullmatch(word) and word not in _GLUED_JE_EXCEPTIONS:
        rest = word[1:]
        return ("je", *lex.replacements.get(rest, (rest,)))
    if word not in lex.stop_words:
        glued_rest = split_glued_elision(word, lex.known_stems.__contains__)
        if glued_rest is not None:
            article = word[: len(word) - len(glued_rest)]
            return (article, *lex.replacements.get(glued_rest, (glued_rest,)))
    return (word,)


def normalize(text: str) -> str:
    """Return the canonical, readable form of a message: folded, punctuation-free, SMS spelling expanded."""
    lex = lexicon()
    text = _fold(text[:MAX_INPUT_CHARS])
    text = _AUJOURDHUI.sub("aujourdhui", text)
    text = _ELISION.sub(r"\1 ", text)
    text = _NOT_WORD.sub(" ", text)
    # "nooon", "plsss": three or more identical letters never occur in French words.
    text = _REPEATED_LETTER.sub(r"\1", text)
    return " ".join(expanded for word in text.split() for expanded in _expand(word, lex))


def tokens(text: str) -> list[str]:
    """Return the content tokens of a message: lexicon applied, stop words removed, lightly stemmed."""
    lex = lexicon()
    words = normalize(text).split()
    stems = [stem(word) for word in words]
    # (word, stem, from_phrase): words produced by a phrase are concepts, never stop words.
    items: list[tuple[str, str, bool]] = []
    index = 0
    while index < len(words):
        for length in range(min(lex.max_phrase_length, len(words) - index), 1, -1):
            concept = lex.phrases.get(tuple(stems[index : index + length]))
            if concept is not None:
                items.extend((word, stem(word), True) for word in concept)
                index += length
                break
        else:
            items.append((words[index], stems[index], False))
            index += 1

    result: list[str] = []
    for word, word_stem, from_phrase in items:
        if not from_phrase and (word in lex.stop_words or len(word) < 2 or word.isdigit()):
            continue
        result.append(lex.synonyms.get(word_stem, word_stem))
    return result
