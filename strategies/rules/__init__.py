"""The rule language: conditions such as ``crosses_above(fast, slow) and rsi < $oversold``.

Rules are parsed by a hand-written tokenizer and Pratt parser, type-checked, and compiled
once into numpy closures; nothing is ever handed to Python's own evaluator.
"""

from .errors import RuleError
from .functions import FUNCTIONS
from .rule import CompiledRule, compile_rule
from .tokens import KEYWORDS

RESERVED_WORDS: frozenset[str] = KEYWORDS | frozenset(FUNCTIONS)
"""Words a rule gives a meaning of its own, so they cannot name an indicator."""

MAX_RULE_BYTES = 4 * 1024
"""Longest rule text (UTF-8) a spec or a sweep constraint may hold: real rules are a line or two, and
parsing megabytes would hold an API thread for seconds."""


def rule_too_long(text: str) -> str | None:
    """Why ``text`` is too long to be a rule, or ``None``; checked before parsing, by every caller that validates."""
    size = len(text.encode("utf-8", "surrogatepass"))
    return f"{size:,} bytes, at most {MAX_RULE_BYTES:,}" if size > MAX_RULE_BYTES else None


__all__ = [
    "FUNCTIONS",
    "KEYWORDS",
    "MAX_RULE_BYTES",
    "RESERVED_WORDS",
    "CompiledRule",
    "RuleError",
    "compile_rule",
    "rule_too_long",
]
