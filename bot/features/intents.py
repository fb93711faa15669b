"""Built-in intents recognised in free text before the FAQ: greetings, thanks, wanting a person..."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import yaml

from bot.common.text import fold
from bot.faq.loader import FaqBase, FaqEntry, FaqProblem
from bot.faq.matcher import FaqMatcher, Outcome, Thresholds
from bot.faq.normalize import Lexicon, normalize
from bot.faq.semantic import Embedder, VectorCache, index_entries
from bot.files.yaml_nodes import node_line, node_text


class Intent(StrEnum):
    """What a short free-text message asks for, when it is not an FAQ question."""

    GREETING = "greeting"
    THANKS = "thanks"
    MENU = "menu"
    HELP = "help"
    PERSON = "person"
    BOOK = "book"
    SESSIONS = "sessions"
    APPOINTMENTS = "appointments"


_GREETINGS = {
    "bonjour",
    "bonsoir",
    "salut",
    "slt",
    "bjr",
    "bsr",
    "coucou",
    "hello",
    "hey",
    "hi",
    "yo",
    "cc",
    "hallo",
    "goedemorgen",
    "goedendag",
    "dag",
    "salam",
    "wesh",
    "re",
    "rebonjour",
}
_THANKS = {
    "merci",
    "mrc",
    "mci",
    "thx",
    "thanks",
    "thank",
    "dank",
    "bedankt",
    "top",
    "super",
    "parfait",
    "ok",
    "okay",
    "oki",
    "daccord",
    "d accord",
    "cool",
    "genial",
}
# Words that may surround a greeting or thanks without making it a question.
_FILLERS = {
    "a",
    "madame",
    "monsieur",
    "mme",
    "mr",
    "le",
    "la",
    "bot",
    "robot",
    "vous",
    "toi",
    "you",
    "u",
    "beaucoup",
    "bcp",
    "bien",
    "tout",
    "tous",
    "ca",
    "marche",
    "very",
    "much",
    "wel",
    "allemaal",
    "cest",
    "c",
    "est",
    "tres",
    "trop",
    "gentil",
    "bonne",
    "journee",
    "soiree",
    "et",
    "ou",
    "encore",
}
_CLOSED_WORDS: list[tuple[Intent, re.Pattern[str]]] = [
    (Intent.MENU, re.compile(r"^(menu|le menu|retour|accueil)$")),
    # Help, and "I'm lost" as trainees write it (after SMS spelling: "jsp" is "je sais pas").
    (
        Intent.HELP,
        re.compile(
            r"^(aide|a l aide|help|help me|sos|au secours|hulp|je sais pas|sais pas|j en sais rien"
            r"|(je |j )?(ne |n )?(comprends?|capte|pige) (pas|rien)( du tout)?"
            r"|je suis perdue?|perdue?|quoi|hein|comment ca marche"
            r"|i don t understand|i m lost|i am lost|ik begrijp het niet|ik snap het niet)$"
        ),
    ),
]
# The intents recognised from example messages (bot/faq/data/intents.yaml and FAQ_DIR/intentions/).
EXAMPLE_INTENTS = (Intent.PERSON, Intent.BOOK, Intent.APPOINTMENTS, Intent.SESSIONS)
INTENTS_DIR_NAME = "intentions"
SHIPPED_INTENTS = Path(__file__).resolve().parent.parent / "faq" / "data" / "intents.yaml"
# Starting an action the trainee did not ask for is worse than answering a question: an intent needs a
# clear lead over the next one, and a fused confidence that "j'arrive pas à parler dans le micro" (it
# shares "parler" with wanting a person: 0.56 with meaning, 0.72 by words alone) does not reach. At 0.6,
# 14 of the 16 paraphrases of tests/unit/test_intents.py are found, none wrongly.
# The confidence of a message written exactly like an example (once SMS spelling is written out).
EXACT_CONFIDENCE = 1.0
INTENT_THRESHOLDS = Thresholds(answer=0.75, fused_answer=0.6, fused_margin=0.1)


def _only_words_from(words: list[str], vocabulary: set[str]) -> bool:
    return (
        bool(words)
        and any(word in vocabulary for word in words)
        and all(word in vocabulary or word in _FILLERS for word in words)
    )


def detect_intent(text: str) -> Intent | None:
    """Return the intent said in closed words (a greeting, thanks, "menu", "aide"), or None."""
    if text.strip() and not text.strip().strip("?¿ "):
        return Intent.HELP  # "?", "???"
    folded = fold(text)
    # Collapse letters repeated for emphasis ("merciii", "saluuut") before looking words up.
    folded = re.sub(r"(.)\1{2,}", r"\1", folded)
    words = folded.split()
    if not words:
        return None
    if len(words) <= 6:
        if _only_words_from(words, _GREETINGS):
            return Intent.GREETING
        if _only_words_from(words, _THANKS):
            return Intent.THANKS
    written = normalize(text)
    for intent, pattern in _CLOSED_WORDS:
        if pattern.search(written):
            return intent
    return None


def read_intent_examples(faq_dir: Path | None) -> tuple[dict[Intent, list[str]], list[FaqProblem]]:
    """Return the example messages of each intent (shipped, then the admins'), and the admins' mistakes."""
    examples: dict[Intent, list[str]] = {intent: [] for intent in EXAMPLE_INTENTS}
    _read_examples_file(SHIPPED_INTENTS, examples, [])
    problems: list[FaqProblem] = []
    if faq_dir is not None:
        for path in sorted((Path(faq_dir) / INTENTS_DIR_NAME).glob("*.yaml")):
            _read_examples_file(path, examples, problems)
    return examples, problems


def _read_examples_file(path: Path, examples: dict[Intent, list[str]], problems: list[FaqProblem]) -> None:
    """Add a file's examples; name each problem with the file and line (a bad part is skipped)."""
    where = f"{INTENTS_DIR_NAME}/{path.name}" if path != SHIPPED_INTENTS else str(path)

    def problem(message: str, node: yaml.Node) -> None:
        problems.append(FaqProblem(where, message, line=node_line(node)))

    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        problems.append(FaqProblem(where, f"fichier illisible : {error}"))
        return
    if root is None:
        return
    if not isinstance(root, yaml.MappingNode):
        problem("le fichier doit donner des intentions et leurs exemples", root)
        return
    known = ", ".join(intent.value for intent in EXAMPLE_INTENTS)
    for key, value in root.value:
        name = node_text(key)
        intent = next((intent for intent in EXAMPLE_INTENTS if intent.value == name), None)
        if intent is None:
            problem(f"intention inconnue « {name} » (connues : {known})", key)
        elif not isinstance(value, yaml.SequenceNode):
            problem(f"« {name} » : une liste d'exemples est attendue", value)
        else:
            for item in value.value:
                text = node_text(item)
                if text is None or not text.strip():
                    problem(f"« {name} » : un exemple doit être un texte", item)
                else:
                    examples[intent].append(text.strip())


class IntentMatcher:
    """Recognise the example intents by the FAQ's own machinery: words, and meaning when an embedder runs."""

    def __init__(
        self,
        examples: dict[Intent, list[str]],
        lexicon: Lexicon,
        *,
        embedder: Embedder | None = None,
        cache: VectorCache | None = None,
    ) -> None:
        """Index each intent's examples like the phrasings of an FAQ entry."""
        entries = tuple(
            FaqEntry(id=intent.value, question=found[0], answer=intent.value, alternatives=tuple(found[1:]))
            for intent, found in examples.items()
            if found
        )
        semantic = (
            index_entries(entries, embedder, cache or VectorCache(None), name="intents")
            if embedder is not None
            else None
        )
        self._matcher = FaqMatcher(
            FaqBase(entries, Path(".")), lexicon, semantic=semantic, thresholds=INTENT_THRESHOLDS
        )
        # A message written exactly like an example (once SMS spelling is written out) is that intent,
        # however short: "mes rdv" says it all.
        self._exact = {
            normalize(text, lexicon): intent for intent, found in examples.items() for text in found
        }
        self._lexicon = lexicon

    def detect(self, text: str) -> tuple[Intent, float] | None:
        """Return the intent a message asks for, with its confidence, or None."""
        exact = self._exact.get(normalize(text, self._lexicon))
        if exact is not None:
            return exact, EXACT_CONFIDENCE
        result = self._matcher.match(text)
        if result.outcome is Outcome.ANSWER and result.entry is not None:
            # Below EXACT_CONFIDENCE: only a message written like an example is sure of itself.
            return Intent(result.entry.id), min(result.confidence, EXACT_CONFIDENCE - 0.01)
        return None


def strip_greeting(text: str) -> str:
    """Drop a leading greeting ("bonjour, mon pc ..."), so that the rest can go to the FAQ."""
    match = re.match(r"^\s*(\w+)[\s,!.]*", text)
    if match and fold(match.group(1)) in _GREETINGS and len(text) > match.end():
        return text[match.end() :]
    return text
