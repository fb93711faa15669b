"""The languages the bot answers in: French, and those an FAQ entry may give a translation in."""

from __future__ import annotations

# Language code -> the FAQ entry's field holding the answer in that language.
TRANSLATED_ANSWER_FIELDS = {"nl": "answer_nl", "en": "answer_en"}
# Language code -> the field holding the answer as steps in that language (French: "steps").
TRANSLATED_STEPS_FIELDS = {"nl": "steps_nl", "en": "steps_en"}
LANGUAGES = ("fr", *TRANSLATED_ANSWER_FIELDS)
