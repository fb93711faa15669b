"""Built-in intents recognised in free text before the FAQ: greetings, thanks, wanting a person..."""

from __future__ import annotations

import re
from enum import StrEnum

from bot.core.text import fold
from bot.faq.normalize import normalize


class Intent(StrEnum):
    """What a short free-text message asks for, when it is not an FAQ question."""

    GREETING = "greeting"
    THANKS = "thanks"
    MENU = "menu"
    HELP = "help"
    PERSON = "person"
    BOOK = "book"
    SESSIONS = "sessions"


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
# Matched against the message as the FAQ normaliser writes it: folded, SMS spelling expanded ("jveux un
# rdv" is "je veux un rendez vous", "qqn" is "quelqu un").
_PATTERNS: list[tuple[Intent, re.Pattern[str]]] = [
    (
        Intent.PERSON,
        # Wanting a person of the centre, not asking how to reach one elsewhere ("mon conseiller Forem").
        # The article may be glued ("lassistante").
        re.compile(
            r"\b(parler|discuter|contacter)\b.*\b(quelqu ?un|une? (vraie )?personne|humain|"
            r"l?assistante?s? sociale?s?|l?assistant social)\b|^(un )?humain$|^(une )?(vraie )?personne$"
        ),
    ),
    (
        Intent.BOOK,
        re.compile(
            r"\b(prendre|avoir|fixer|demander|veux|voudrais|voudrai|besoin d)\b.*\brendez ?vous\b"
            r"|^(un )?rendez ?vous( svp| s il (te|vous) plait)?$"
        ),
    ),
    (
        Intent.SESSIONS,
        re.compile(
            r"^(voir )?(mes (seances|cours|modules)|mon (horaire|planning))$"
            r"|\bprochaine?s? (cours|seances?|modules?)\b"
            r"|\bquand (est ce que |c est que )?(j ai|on a) (cours|formation|module)\b"
        ),
    ),
    (Intent.MENU, re.compile(r"^(menu|le menu|retour|accueil)$")),
    (Intent.HELP, re.compile(r"^(aide|help|sos|au secours)$")),
]


def _only_words_from(words: list[str], vocabulary: set[str]) -> bool:
    return (
        bool(words)
        and any(word in vocabulary for word in words)
        and all(word in vocabulary or word in _FILLERS for word in words)
    )


def detect_intent(text: str) -> Intent | None:
    """Return the built-in intent of a message, or None when it should go to the FAQ."""
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
    for intent, pattern in _PATTERNS:
        if pattern.search(written):
            return intent
    return None


def strip_greeting(text: str) -> str:
    """Drop a leading greeting ("bonjour, mon pc ..."), so that the rest can go to the FAQ."""
    match = re.match(r"^\s*(\w+)[\s,!.]*", text)
    if match and fold(match.group(1)) in _GREETINGS and len(text) > match.end():
        return text[match.end() :]
    return text
