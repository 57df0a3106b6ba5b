"""Splits a rule's text into tokens, each remembering where it starts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import RuleSyntaxError

KEYWORDS = frozenset({"and", "or", "not"})

_SYMBOLS = ("<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", ",")

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<param>\$[A-Za-z_][A-Za-z0-9_]*)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
    | (?P<symbol>"""
    + "|".join(re.escape(symbol) for symbol in _SYMBOLS)
    + ")",
    re.VERBOSE,
)

_WORD_CHAR = re.compile(r"[A-Za-z_]")
_WORD = re.compile(r"[A-Za-z0-9_.]+")

_HINTS = {
    "=": "use '==' to compare",
    "&": "use 'and'",
    "|": "use 'or'",
    "!": "use 'not', or '!=' to compare",
    "$": "a parameter looks like $name",
}


@dataclass(frozen=True)
class Token:
    kind: str
    """'number', 'param', 'name', 'end', or for keywords and symbols the text itself ('and', '<=', '(')."""
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def describe(self) -> str:
        return "end of rule" if self.kind == "end" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an 'end' token; raises RuleSyntaxError on a stray character."""
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            raise RuleSyntaxError(f"unexpected character {char!r}", position, _HINTS.get(char, ""))
        kind = match.lastgroup
        value = match.group()
        if kind == "number" and _WORD_CHAR.match(text, match.end()):
            malformed = _WORD.match(text, position).group()
            raise RuleSyntaxError(f"malformed number '{malformed}'", position)
        if kind == "symbol" or (kind == "name" and value in KEYWORDS):
            kind = value
        if kind != "space":
            tokens.append(Token(kind, value, position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens
