"""Normalise French as trainees write it, so that their messages can be compared with the FAQ.

Two levels are offered:

- :func:`normalize` folds the surface form: case, accents, apostrophes and elisions (``l'``, ``j'``,
  ``qu'``), punctuation, repeated letters (``nooon``), SMS and phonetic spellings (``koi``, ``jarrive``,
  ``mdp``). The result is still readable French: ``"jarrive pa a ouvrir l'ordi"`` becomes
  ``"j arrive pas a ouvrir l ordinateur"``.
- :func:`tokens` keeps only the words that carry the topic: stop words removed, multi-word concepts
  joined (``mot de passe``), a light stemming and synonyms (``gsm`` -> ``telephone``).

The general lexicon lives in ``data/lexicon.yaml`` and is loaded lazily, once. An administrator can
extend it for one FAQ with YAML files of the same structure in ``<FAQ dir>/lexique/``
(:func:`load_lexicon`, checked by :func:`check_lexicon_dir`). :func:`phonetic` gives a simplified French
phonetic key used by the matcher to repair misspellings, and :func:`detect_language` tells the few
English or Dutch messages from French ones.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from bot.files.yaml_nodes import node_line

if TYPE_CHECKING:
    from bot.faq.loader import FaqProblem

__all__ = [
    "LEXICON_DIR_NAME",
    "MAX_INPUT_CHARS",
    "Lexicon",
    "check_lexicon_dir",
    "detect_language",
    "lexicon",
    "load_lexicon",
    "normalize",
    "phonetic",
    "split_glued_elision",
    "stem",
    "tokens",
]

# A real question fits in a few lines; a 10,000-character paste (a whole e-mail, a log...) is not a
# question the FAQ can answer, and normalising it would only cost time. The start of a message is where
# people state their problem, so the first 500 characters are kept.
MAX_INPUT_CHARS = 500
# Name of the sub-folder of the FAQ directory holding the administrator's lexicon files.
LEXICON_DIR_NAME = "lexique"
LEXICON_FILE_SUFFIX = ".yaml"
LEXICON_SECTIONS = ("replacements", "phrases", "synonyms", "related", "kinds", "stop_words", "common_words")

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
# Bound the per-lexicon cache of expanded words: a hostile input could bring many distinct words.
_EXPAND_CACHE_SIZE = 50_000
# Belgian "je sais pas venir" means "I can't come": "savoir" + infinitive is "pouvoir".
_SAVOIR_FORMS = {"sais": "peux", "sait": "peut", "savez": "pouvez", "savons": "pouvons", "savent": "peuvent"}
_SAVOIR_NEGATIONS = frozenset({"pas", "plus", "jamais", "meme"})
_INFINITIVE = re.compile(r"[a-z]{2,}(?:er|ir|re|oir)")
# Infinitive-looking words that follow "je sais pas" without being the verb of an ability.
_NOT_INFINITIVES = frozenset({"quoi", "pourquoi", "comment", "faire"})
# A number with a unit of time or an ordinal ("17h", "8h30", "20min", "3eme", "42ans") is a detail of
# the story, like a bare number: it never names a topic.
_QUANTITY = re.compile(r"\d+(?:h\d*|min|mn|e|er|ere|eme|em|ans?)")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Hold a lexicon (the shipped one, possibly extended by an admin), prepared for fast lookups."""

    replacements: dict[str, tuple[str, ...]]
    phrases: dict[tuple[str, ...], tuple[str, ...]]
    # First stem of a phrase -> the lengths of the phrases it starts, longest first: most words start
    # none, and a frequent one that does ("le" in "le son") is only tried at those lengths.
    phrase_lengths: dict[str, tuple[int, ...]]
    synonyms: dict[str, str]
    stop_words: frozenset[str]
    known_stems: frozenset[str]
    # Stems of everyday words: when the FAQ does not know them, they are the story, not the topic.
    common_stems: frozenset[str] = frozenset()
    # Word -> the broader concepts it belongs to, most specific first ("sombre" -> "luminosite"): used
    # by the matcher only when the FAQ does not know the word itself.
    related: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Groups of words naming different things of one kind (a phone, a laptop, a tablet): a message about
    # one is not answered by an entry that only speaks of another.
    kinds: tuple[frozenset[str], ...] = ()
    # Lazily filled by normalize(): written word -> standard words (the same words come back often).
    expand_cache: dict[str, tuple[str, ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )


@dataclass(slots=True)
class _LexiconSource:
    """Keep the raw sections of one or more lexicon files, before they are compiled."""

    replacements: dict[str, str] = field(default_factory=dict)
    phrases: dict[str, str] = field(default_factory=dict)
    synonyms: list[list[str]] = field(default_factory=list)
    related: dict[str, list[str]] = field(default_factory=dict)
    kinds: list[list[str]] = field(default_factory=list)
    stop_words: list[str] = field(default_factory=list)
    common_words: list[str] = field(default_factory=list)

    def extend(self, other: _LexiconSource) -> None:
        """Add another source's sections to this one (later files win on the same key)."""
        self.replacements.update(other.replacements)
        self.phrases.update(other.phrases)
        self.synonyms.extend(other.synonyms)
        for concepts, words in other.related.items():
            self.related.setdefault(concepts, []).extend(words)
        self.kinds.extend(other.kinds)
        self.stop_words.extend(other.stop_words)
        self.common_words.extend(other.common_words)


@functools.cache
def _latin_table() -> dict[int, str]:
    """Return a translation table folding the accented Latin letters (a fast path for _fold)."""
    table = {
        code: "".join(
            char for char in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(char)
        )
        for code in range(0xC0, 0x250)
    }
    table = {code: value for code, value in table.items() if value.isascii()}
    return {**table, **_APOSTROPHES, **_LIGATURES}


def _fold(text: str) -> str:
    """Return text lowercased, without accents, with straight apostrophes."""
    text = text.casefold().translate(_latin_table())
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _words(text: str) -> tuple[str, ...]:
    """Return the folded words of a lexicon item."""
    return tuple(_NOT_WORD.sub(" ", _fold(text)).split())


@functools.lru_cache(maxsize=65_536)
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
    for suffix, min_rest, keep in (
        ("ement", 4, ""),
        ("iere", 3, ""),
        ("aient", 4, ""),
        ("ait", 4, ""),
        ("ai", 4, ""),
        # -dre verbs and their participles: perdre, perdu, perdue -> perd.
        ("dre", 2, "d"),
        ("due", 2, "d"),
        ("du", 2, "d"),
        ("ere", 3, ""),
        ("ee", 3, ""),
        ("er", 3, ""),
        ("ez", 3, ""),
        ("ir", 4, ""),
        # -ir participles: rempli, choisi, reussi (short words such as "envoi" or "souri" are kept).
        ("i", 5, ""),
        ("e", 3, ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= min_rest:
            return word[: -len(suffix)] + keep
    return word


# ------------------------------------------------------------------------------------ phonetic key

_PHONETIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"ph", "f"),
        (r"sch|sh|ch", "S"),
        (r"h", ""),
        (r"qu|ck|q", "k"),
        (r"gu(?=[eiy])", "g"),
        (r"g(?=[eiy])", "j"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"w", "v"),
        (r"y", "i"),
        (r"eau|au", "o"),
        (r"ai|ei", "e"),
        (r"[ae][nm](?=[^aeiou]|$)", "an"),
        (r"(?<=[aeiou])s(?=[aeiou])", "z"),
        (r"([a-zS])\1+", r"\1"),
        (r"(?:er|ez|et)$", "e"),
        (r"(?<=.{3})[stdx]+$", ""),
        (r"(?<=.{3})e$", ""),
    )
)


def phonetic(word: str) -> str:
    """Return a simplified French phonetic key of a folded word (``surchof`` and ``surchauffe`` agree).

    It groups spellings that sound alike: ``ph``/``f``, ``qu``/``k``, ``c``/``k``/``s``, ``eau``/``au``/
    ``o``, ``ai``/``e``, ``en``/``an``, doubled consonants, a dropped ``h`` and silent final letters.
    """
    if not word.isalpha():
        return word
    for pattern, replacement in _PHONETIC_RULES:
        word = pattern.sub(replacement, word)
    return word


# ------------------------------------------------------------------------------------ lexicon files


def _scalar_text(node: yaml.Node, *, allow_number: bool = False) -> str | None:
    """Return the text of a YAML scalar node, or None when it is empty, a collection or a number.

    The text is taken as written: YAML 1.1 reads ``no``, ``on`` or ``n`` as booleans, but in a word
    list they are words. A number is only accepted where a replacement text is expected (``septante:
    70``), since a "word" made of digits never matches anything.
    """
    if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        return None
    if not allow_number and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return None
    value = str(node.value).strip()
    return value or None


def _parse_lexicon(text: str) -> tuple[_LexiconSource, list[tuple[int | None, str]]]:
    """Parse one lexicon file; return its valid items and its problems as (line, message) pairs."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        summary = getattr(error, "problem", None) or str(error).splitlines()[0]
        line = mark.line + 1 if mark is not None else None
        return _LexiconSource(), [(line, f"erreur de syntaxe YAML : {summary}")]
    finally:
        loader.dispose()
    if root is None:
        return _LexiconSource(), []
    if not isinstance(root, yaml.MappingNode):
        message = "le fichier doit contenir des sections (replacements, phrases, synonyms, stop_words)"
        return _LexiconSource(), [(node_line(root), message)]
    reader = _LexiconReader()
    for key_node, value_node in root.value:
        reader.section(key_node, value_node)
    return reader.source, reader.problems


class _LexiconReader:
    """Read the sections of one lexicon file, keeping every problem with its line."""

    def __init__(self) -> None:
        self.source = _LexiconSource()
        self.problems: list[tuple[int | None, str]] = []

    def problem(self, node: yaml.Node, message: str) -> None:
        """Record a problem at the line of a node."""
        self.problems.append((node_line(node), message))

    def section(self, key_node: yaml.Node, value_node: yaml.Node) -> None:
        """Read one section into the source."""
        section = _scalar_text(key_node)
        if section not in LEXICON_SECTIONS:
            allowed = ", ".join(LEXICON_SECTIONS)
            self.problem(key_node, f"section '{key_node.value}' inconnue (attendu : {allowed})")
        elif isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "~", "null"):
            return  # an empty section ("synonyms:") is how people write "none yet"
        elif section == "replacements":
            self.pairs(value_node, section, self.source.replacements)
        elif section == "phrases":
            self.pairs(value_node, section, self.source.phrases)
        elif section in ("synonyms", "kinds"):
            self.groups(value_node, section)
        elif section == "related":
            self.related(value_node)
        else:
            self.words(value_node, section)

    def pairs(self, node: yaml.Node, section: str, target: dict[str, str]) -> None:
        """Read "word: text" lines."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"la section '{section}' doit contenir des lignes 'mot: texte'")
            return
        for key_node, value_node in node.value:
            key, value = _scalar_text(key_node), _scalar_text(value_node, allow_number=True)
            if key is None or not _words(key):
                self.problem(key_node, f"section '{section}' : le mot doit être un texte")
            elif value is None or not _words(value):
                self.problem(value_node, f"section '{section}' : '{key}' doit être suivi d'un texte")
            elif section == "phrases" and len(_words(key)) < 2:
                # A phrase joins several words; one word is replaced, in its own section.
                self.problem(
                    key_node,
                    f"section 'phrases' : '{key}' est un seul mot (un mot seul : section 'replacements')",
                )
            else:
                target[key] = value

    def word_list(self, node: yaml.Node, where: str) -> list[str]:
        """Read a list of single words."""
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{where} doit être une liste [mot1, mot2, ...]")
            return []
        result = []
        for index, item in enumerate(node.value, start=1):
            word = _scalar_text(item)
            if word is None or not _words(word):
                self.problem(item, f"{where} : l'élément n°{index} doit être un texte")
            elif len(_words(word)) > 1:
                self.problem(
                    item, f"{where} : '{word}' doit être un seul mot (plusieurs mots : section 'phrases')"
                )
            else:
                result.append(word)
        return result

    def groups(self, node: yaml.Node, section: str) -> None:
        """Read groups of words that mean the same (synonyms) or name things of one kind (kinds)."""
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"la section '{section}' doit être une liste de groupes")
            return
        groups = self.source.synonyms if section == "synonyms" else self.source.kinds
        for position, group_node in enumerate(node.value, start=1):
            group = self.word_list(group_node, f"section '{section}' : le groupe n°{position}")
            if len(group) >= 2:
                groups.append(group)
            elif isinstance(group_node, yaml.SequenceNode) and len(group_node.value) < 2:
                self.problem(group_node, f"section '{section}' : le groupe n°{position} a moins de 2 mots")

    def related(self, node: yaml.Node) -> None:
        """Read "concept: [word, word]" lines."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "la section 'related' doit contenir des lignes 'concept: [mot1, mot2, ...]'")
            return
        for concept_node, words_node in node.value:
            concepts = _scalar_text(concept_node)
            if concepts is None or not _words(concepts):
                self.problem(concept_node, "section 'related' : le concept doit être un texte")
                continue
            words = self.word_list(words_node, f"section 'related' : '{concepts}'")
            if words:
                self.source.related.setdefault(concepts, []).extend(words)

    def words(self, node: yaml.Node, section: str) -> None:
        """Read a list of stop words or common words, perhaps grouped (by language)."""
        target = self.source.stop_words if section == "stop_words" else self.source.common_words
        if isinstance(node, yaml.MappingNode):
            # A word list may be grouped (by language, as the shipped stop words are).
            for group_key, group_node in node.value:
                target.extend(self.word_list(group_node, f"section '{section}' : '{group_key.value}'"))
        else:
            target.extend(self.word_list(node, f"la section '{section}'"))


def _read_lexicon_file(path: Path) -> tuple[_LexiconSource, list[tuple[int | None, str]]]:
    """Read and parse one lexicon file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return _LexiconSource(), [(None, f"impossible de lire le fichier ({error.strerror})")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return _LexiconSource(), [(line, "le fichier n'est pas encodé en UTF-8 (enregistrez-le en UTF-8)")]
    return _parse_lexicon(text)


def _lexicon_files(extra_dir: Path) -> list[Path]:
    """Return the admin's lexicon files (``*.yaml``, hidden files excluded), or [] without a folder."""
    try:
        return sorted(
            path
            for path in extra_dir.iterdir()
            if path.suffix == LEXICON_FILE_SUFFIX and not path.name.startswith(".") and path.is_file()
        )
    except OSError:
        return []


def check_lexicon_dir(extra_dir: Path) -> list[FaqProblem]:
    """Return every problem in the admin's lexicon folder (a missing folder is not a problem)."""
    from bot.faq.loader import FaqProblem  # the loader calls this function: import it lazily

    extra_dir = Path(extra_dir)
    problems: list[FaqProblem] = []
    if extra_dir.exists() and not extra_dir.is_dir():
        return [FaqProblem(extra_dir.name, "doit être un dossier contenant des fichiers .yaml")]
    for path in _lexicon_files(extra_dir):
        label = f"{extra_dir.name}/{path.name}"
        problems.extend(
            FaqProblem(label, message, line=line) for line, message in _read_lexicon_file(path)[1]
        )
    return problems


def _compile(source: _LexiconSource) -> Lexicon:
    """Build the lookup tables of a lexicon from its raw sections."""
    replacements = {_fold(key): _words(value) for key, value in source.replacements.items()}
    phrases = {
        tuple(stem(word) for word in _words(key)): _words(value) for key, value in source.phrases.items()
    }
    synonyms: dict[str, str] = {}
    for group in source.synonyms:
        stems = [stem(_words(text)[0]) for text in group if len(_words(text)) == 1]
        if not stems:
            continue
        # A group that names a word already known joins that word's group ("natel" added next to "gsm"
        # means "telephone"), so that an admin can extend a shipped group without repeating it.
        canonical = next((synonyms[item] for item in stems if item in synonyms), stems[0])
        for item in stems:
            if item != canonical:
                synonyms.setdefault(item, canonical)
    stop_words = frozenset(_fold(word) for word in source.stop_words)

    def token(word: str) -> str:
        """Return the token a folded word becomes: its stem, or its synonym group's canonical stem."""
        word_stem = stem(word)
        return synonyms.get(word_stem, word_stem)

    related: dict[str, tuple[str, ...]] = {}
    for concept_text, words in source.related.items():
        concepts = tuple(token(word) for word in _words(concept_text))
        for word in words:
            key = token(_words(word)[0])
            # A word named under several concepts keeps them all, in the order of the files.
            related[key] = tuple(dict.fromkeys((*related.get(key, ()), *concepts)))
    kinds = tuple(frozenset(token(_words(word)[0]) for word in group) for group in source.kinds)
    known_words = {
        *replacements,
        *(word for value in replacements.values() for word in value),
        *(word for value in phrases.values() for word in value),
        *(word for group in source.synonyms for text in group for word in _words(text)),
        *(_words(word)[0] for words in source.related.values() for word in words),
        *(word for group in source.kinds for text in group for word in _words(text)),
    }
    return Lexicon(
        replacements=replacements,
        phrases=phrases,
        phrase_lengths=_phrase_lengths(phrases),
        synonyms=synonyms,
        stop_words=stop_words,
        known_stems=frozenset(stem(word) for word in known_words if len(word) >= _MIN_GLUED_REST),
        common_stems=frozenset(token(word) for text in source.common_words for word in _words(text)),
        related=related,
        kinds=kinds,
    )


def _phrase_lengths(phrases: dict[tuple[str, ...], tuple[str, ...]]) -> dict[str, tuple[int, ...]]:
    """Return, for each first stem of a phrase, the lengths of the phrases it starts, longest first."""
    lengths: dict[str, set[int]] = {}
    for key in phrases:
        if len(key) > 1:
            lengths.setdefault(key[0], set()).add(len(key))
    return {start: tuple(sorted(found, reverse=True)) for start, found in lengths.items()}


@functools.cache
def _shipped_source() -> _LexiconSource:
    """Return the raw sections of the shipped lexicon (its problems would be a bug: see the tests)."""
    text = resources.files("bot.faq").joinpath("data", "lexicon.yaml").read_text(encoding="utf-8")
    return _parse_lexicon(text)[0]


@functools.cache
def lexicon() -> Lexicon:
    """Return the general lexicon shipped with the code, loaded once."""
    return _compile(_shipped_source())


@functools.lru_cache(maxsize=8)
def _extended_lexicon(files: tuple[tuple[Path, int, int], ...]) -> Lexicon:
    """Return the shipped lexicon extended by these files (keyed by path, mtime and size)."""
    source = _LexiconSource()
    source.extend(_shipped_source())
    for path, _mtime, _size in files:
        source.extend(_read_lexicon_file(path)[0])
    return _compile(source)


def load_lexicon(extra_dir: Path | None = None) -> Lexicon:
    """Return the shipped lexicon extended by the admin's files in ``extra_dir`` (invalid items skipped)."""
    if extra_dir is None:
        return lexicon()
    keys = []
    for path in _lexicon_files(Path(extra_dir)):
        try:
            status = path.stat()
        except OSError:
            continue
        keys.append((path, status.st_mtime_ns, status.st_size))
    return _extended_lexicon(tuple(keys)) if keys else lexicon()


# ------------------------------------------------------------------------------------ normalisation


def split_glued_elision(word: str, is_known: Callable[[str], bool], *, stemmed: bool = False) -> str | None:
    """Return the word without a glued elided article (``lordi`` -> ``ordi``) when the rest is known.

    ``is_known`` is a predicate on stems. The split is only made when the whole word is unknown and the
    rest is known, so that real words such as ``lien`` or ``mail`` are left alone. With ``stemmed``,
    ``word`` is already a stem ("sinscrir"): its rest is looked up as it is, not stemmed again.
    """
    if word.startswith("qu") and len(word) - 2 >= _MIN_GLUED_REST and word[2] in _VOWELS:
        rest = word[2:]
    elif len(word) - 1 >= _MIN_GLUED_REST and word[0] in _ELIDED_LETTERS and word[1] in _VOWELS:
        rest = word[1:]
    else:
        return None
    as_stem: Callable[[str], str] = str if stemmed else stem
    if is_known(as_stem(word)) or not is_known(as_stem(rest)):
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


def _savoir_as_pouvoir(words: list[str]) -> list[str]:
    """Rewrite the Belgian "je sais pas venir" as "je peux pas venir" (savoir + infinitive = ability)."""
    for index, word in enumerate(words):
        replacement = _SAVOIR_FORMS.get(word)
        if replacement is None:
            continue
        following = index + 1
        while following < len(words) and words[following] in _SAVOIR_NEGATIONS:
            following += 1
        if (
            following < len(words)
            and _INFINITIVE.fullmatch(words[following])
            and words[following] not in _NOT_INFINITIVES
        ):
            words[index] = replacement
    return words


def normalize(text: str, lexicon: Lexicon | None = None) -> str:
    """Return the canonical, readable form of a message: folded, punctuation-free, SMS spelling expanded."""
    lex = lexicon if lexicon is not None else _shipped()
    text = _fold(text[:MAX_INPUT_CHARS])
    text = _AUJOURDHUI.sub("aujourdhui", text)
    text = _ELISION.sub(r"\1 ", text)
    text = _NOT_WORD.sub(" ", text)
    # "nooon", "plsss": three or more identical letters never occur in French words.
    text = _REPEATED_LETTER.sub(r"\1", text)
    cache = lex.expand_cache
    words: list[str] = []
    for word in text.split():
        expanded = cache.get(word)
        if expanded is None:
            expanded = _expand(word, lex)
            if len(cache) < _EXPAND_CACHE_SIZE:
                cache[word] = expanded
        words.extend(expanded)
    return " ".join(_savoir_as_pouvoir(words))


def _shipped() -> Lexicon:
    """Return the shipped lexicon (a helper because ``lexicon`` is shadowed by parameters)."""
    return lexicon()


def tokens(text: str, lexicon: Lexicon | None = None, *, drop_negated: bool = False) -> list[str]:
    """Return the content tokens of a message: lexicon applied, stop words removed, lightly stemmed.

    With ``drop_negated``, the word after "sans" or "pas besoin de" is dropped: what a FAQ entry does
    without ("signer un PDF sans l'imprimer") is not what it is about.
    """
    lex = lexicon if lexicon is not None else _shipped()
    return _content_tokens(normalize(text, lex).split(), lex, drop_negated=drop_negated)


def keyword_tokens(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Return the tokens of an FAQ keyword: those of tokens(), or the word itself if it is a stop word.

    An admin who writes the keyword "son" means the sound, not "his": a one-word keyword is a topic.
    """
    lex = lexicon if lexicon is not None else _shipped()
    words = normalize(text, lex).split()
    found = _content_tokens(words, lex)
    if found or len(words) != 1:
        return found
    word_stem = stem(words[0])
    return [lex.synonyms.get(word_stem, word_stem)]


def _content_tokens(words: list[str], lex: Lexicon, *, drop_negated: bool = False) -> list[str]:
    """Return the content tokens of already normalised words."""
    stems = [stem(word) for word in words]
    # (word, stem, from_phrase): words produced by a phrase are concepts, never stop words.
    items: list[tuple[str, str, bool]] = []
    index = 0
    while index < len(words):
        lengths = lex.phrase_lengths.get(stems[index])
        if lengths is None:
            items.append((words[index], stems[index], False))
            index += 1
            continue
        for length in lengths:
            if index + length > len(words):
                continue
            concept = lex.phrases.get(tuple(stems[index : index + length]))
            if concept is not None:
                items.extend((word, stem(word), True) for word in concept)
                index += length
                break
        else:
            items.append((words[index], stems[index], False))
            index += 1

    result: list[str] = []
    negated = False
    for position, (word, word_stem, from_phrase) in enumerate(items):
        if drop_negated and not from_phrase and _starts_negation(items, position):
            negated = True
            continue
        if not from_phrase and (
            word in lex.stop_words or len(word) < 2 or word.isdigit() or _QUANTITY.fullmatch(word)
        ):
            continue
        if negated:
            negated = False
            continue
        result.append(lex.synonyms.get(word_stem, word_stem))
    return result


def _starts_negation(items: list[tuple[str, str, bool]], position: int) -> bool:
    """Tell whether the word at ``position`` starts "sans ..." or "pas besoin de ..."."""
    word = items[position][0]
    if word == "sans":
        return True
    return word == "besoin" and position > 0 and items[position - 1][0] == "pas"


# ------------------------------------------------------------------------------------ language

# Function words that are evidence of one language only (words shared with French, such as "de",
# "en", "a", "on", "me", "ou", are left out, as are domain words like "ok", "cv", "job", "computer").
_LANGUAGE_WORDS: dict[str, frozenset[str]] = {
    "fr": frozenset(
        [
            "je",
            "j",
            "tu",
            "il",
            "elle",
            "nous",
            "vous",
            "ils",
            "elles",
            "le",
            "la",
            "les",
            "un",
            "une",
            "des",
            "du",
            "au",
            "aux",
            "mon",
            "ma",
            "mes",
            "ton",
            "ta",
            "ton",
            "son",
            "sa",
            "ses",
            "est",
            "suis",
            "sont",
            "ai",
            "as",
            "avez",
            "pas",
            "ne",
            "et",
            "pour",
            "avec",
            "dans",
            "sur",
            "que",
            "qui",
            "quoi",
            "comment",
            "pourquoi",
            "quand",
            "c",
            "ca",
            "ce",
            "cette",
            "l",
            "d",
            "qu",
            "s",
            "n",
            "m",
            "t",
            "y",
            "moi",
            "toi",
            "peux",
            "veux",
            "faut",
            "faire",
            "sais",
            "quel",
            "quelle",
        ]
    ),
    "en": frozenset(
        [
            "i",
            "my",
            "the",
            "is",
            "are",
            "am",
            "was",
            "were",
            "you",
            "your",
            "it",
            "this",
            "that",
            "what",
            "how",
            "why",
            "when",
            "where",
            "which",
            "who",
            "do",
            "does",
            "did",
            "can",
            "cant",
            "could",
            "should",
            "would",
            "will",
            "of",
            "to",
            "with",
            "and",
            "for",
            "from",
            "have",
            "has",
            "get",
            "got",
            "please",
            "there",
            "im",
            "dont",
            "doesnt",
            "isnt",
            "not",
            "an",
        ]
    ),
    "nl": frozenset(
        [
            "ik",
            "je",
            "jij",
            "mijn",
            "het",
            "een",
            "is",
            "zijn",
            "ben",
            "hoe",
            "wat",
            "waar",
            "wanneer",
            "waarom",
            "welke",
            "kan",
            "kun",
            "kunt",
            "moet",
            "mag",
            "wil",
            "niet",
            "geen",
            "van",
            "voor",
            "met",
            "naar",
            "bij",
            "hier",
            "er",
            "dat",
            "die",
            "dit",
            "ook",
            "nog",
            "heb",
            "hebt",
            "heeft",
            "de",
            "te",
            "op",
            "aan",
            "mij",
            "wordt",
            "zal",
        ]
    ),
}
# Words that the other languages share with French: only the non-French meaning counts against French
# when the other evidence is already there ("je", "de" are Dutch too).
_MIN_FOREIGN_EVIDENCE = 2


def detect_language(text: str) -> str:
    """Return "fr", "nl" or "en" from the function words of a message (French unless clearly not)."""
    words = _NOT_WORD.sub(" ", _fold(_ELISION.sub(r"\1 ", text[:MAX_INPUT_CHARS].replace("’", "'")))).split()
    counts = dict.fromkeys(_LANGUAGE_WORDS, 0)
    for word in words:
        for language, vocabulary in _LANGUAGE_WORDS.items():
            if word in vocabulary:
                counts[language] += 1
    best = max(("en", "nl"), key=lambda language: counts[language])
    other = "nl" if best == "en" else "en"
    if counts[best] >= _MIN_FOREIGN_EVIDENCE and counts[best] > counts["fr"] and counts[best] > counts[other]:
        return best
    return "fr"
