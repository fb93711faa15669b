"""FAQ module: load the admin-edited YAML FAQ and match trainees' messages against it."""

from bot.faq.loader import FaqBase, FaqEntry, FaqError, FaqProblem, check_faq, load_faq
from bot.faq.matcher import FaqMatcher, MatchResult, Outcome
from bot.faq.normalize import normalize, tokens

__all__ = [
    "FaqBase",
    "FaqEntry",
    "FaqError",
    "FaqMatcher",
    "FaqProblem",
    "MatchResult",
    "Outcome",
    "check_faq",
    "load_faq",
    "normalize",
    "tokens",
]
