"""Errors that point at the offending spot in a rule's text."""

from __future__ import annotations


class RuleSyntaxError(Exception):
    """Raised inside the tokenizer and parser, which know a position but not the rule's name."""

    def __init__(self, reason: str, position: int, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position
        self.hint = hint


class RuleError(ValueError):
    """A rule that cannot be compiled, or that refers to something that does not exist.

    ``str(error)`` reads like::

        rules.enter_long: unexpected ')' at column 12
          close > sma)
                     ^
    """

    def __init__(self, rule_name: str, text: str, column: int, reason: str, hint: str = "") -> None:
        self.rule_name = rule_name
        self.text = text
        self.column = column
        self.reason = reason
        self.hint = hint
        super().__init__(f"{rule_name}: {self.detail}")

    @property
    def detail(self) -> str:
        """The message without the rule name: reason, column, hint, and a caret under the text."""
        hint = f"; {self.hint}" if self.hint else ""
        shown = "".join(" " if char.isspace() else char for char in self.text)
        return f"{self.reason} at column {self.column}{hint}\n  {shown}\n  {' ' * (self.column - 1)}^"
