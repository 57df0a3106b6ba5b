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

__all__ = ["FUNCTIONS", "KEYWORDS", "RESERVED_WORDS", "CompiledRule", "RuleError", "compile_rule"]
