"""A Pratt parser that turns a rule's tokens into a type-checked syntax tree.

Binding powers, loosest first: ``or`` < ``and`` < ``not`` < comparisons < ``+ -`` < ``* /`` < unary ``-``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import NamedTuple, TypeVar

from .errors import RuleSyntaxError
from .functions import FUNCTIONS
from .nodes import (
    CONDITION,
    NUMBER,
    Arithmetic,
    Binary,
    Call,
    Comparison,
    Logical,
    Negate,
    Node,
    Not,
    Number,
    Param,
    Series,
    Unary,
)
from .tokens import Token, tokenize
from .value_types import ValueType

MAX_NESTING = 50
"""Deeper rules are refused: evaluation is recursive, and no sensible rule gets near this."""


class _Infix(NamedTuple):
    power: int
    node: type[Binary]


class _Prefix(NamedTuple):
    power: int
    node: type[Unary]


_INFIX: Mapping[str, _Infix] = {
    "or": _Infix(1, Logical),
    "and": _Infix(2, Logical),
    **{symbol: _Infix(4, Comparison) for symbol in ("<", "<=", ">", ">=", "==", "!=")},
    "+": _Infix(5, Arithmetic),
    "-": _Infix(5, Arithmetic),
    "*": _Infix(6, Arithmetic),
    "/": _Infix(6, Arithmetic),
}

_PREFIX: Mapping[str, _Prefix] = {
    "not": _Prefix(3, Not),
    "-": _Prefix(7, Negate),
}

_Built = TypeVar("_Built", bound=Node)


def parse(text: str) -> Node:
    """The syntax tree of a rule, which must be a condition; raises RuleSyntaxError."""
    return _Parser(text).rule()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0

    @property
    def next(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def expect(self, kind: str) -> Token:
        token = self.advance()
        if token.kind != kind:
            raise RuleSyntaxError(f"expected '{kind}' but found {token.describe()}", token.start)
        return token

    def rule(self) -> Node:
        if self.next.kind == "end":
            raise RuleSyntaxError("the rule is empty", 0)
        node = self.expression(0)
        if self.next.kind != "end":
            raise self.unexpected(self.next)
        self.require(node, CONDITION, "a rule must be a condition (true/false)")
        return node

    def expression(self, min_power: int) -> Node:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise RuleSyntaxError("the rule is nested too deeply", self.next.start)
        left = self.prefix()
        while (infix := _INFIX.get(self.next.kind)) and infix.power > min_power:
            operator = self.advance()
            right = self.expression(infix.power)
            for operand in (left, right):
                expected = infix.node.operand_type
                self.require(operand, expected, f"'{operator.text}' needs {expected.value} on both sides")
            left = self.built(infix.node(left.start, right.end, operator.text, left, right))
        self.nesting -= 1
        return left

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Number(token.start, token.end, float(token.text))
        if token.kind == "param":
            return Param(token.start, token.end, token.text[1:])
        if token.kind == "name":
            return self.call(token) if self.next.kind == "(" else self.series(token)
        if token.kind == "(":
            inner = self.expression(0)
            closing = self.expect(")")
            return replace(inner, start=token.start, end=closing.end)
        if token.kind in _PREFIX:
            power, node = _PREFIX[token.kind]
            operand = self.expression(power)
            self.require(operand, node.operand_type, f"'{token.text}' needs {node.operand_type.value} after it")
            return self.built(node(token.start, operand.end, token.text, operand))
        raise self.unexpected(token)

    def series(self, name: Token) -> Series:
        if self.next.kind != "[":
            return Series(name.start, name.end, name.text, 0)
        self.advance()
        offset = self.advance()
        if offset.kind == "-":
            raise RuleSyntaxError("negative offset", offset.start, "rules only see the current and past bars")
        if offset.kind != "number" or not offset.text.isdigit():
            raise RuleSyntaxError(
                f"offset {offset.describe()} is not a whole number", offset.start, f"write e.g. {name.text}[1]"
            )
        closing = self.expect("]")
        return Series(name.start, closing.end, name.text, int(offset.text))

    def call(self, name: Token) -> Call:
        function = FUNCTIONS.get(name.text)
        if function is None:
            hint = f"rules can call {', '.join(FUNCTIONS)}"
            raise RuleSyntaxError(f"unknown function '{name.text}'", name.start, hint)
        self.expect("(")
        args = [] if self.next.kind == ")" else self.arguments()
        closing = self.expect(")")
        if len(args) != function.arity:
            raise RuleSyntaxError(f"{function.name}() takes {function.arity} arguments, not {len(args)}", name.start)
        for arg in args:
            self.require(arg, NUMBER, f"{function.name}() needs numbers as arguments")
        return self.built(Call(name.start, closing.end, function, tuple(args)))

    def arguments(self) -> list[Node]:
        args = [self.expression(0)]
        while self.next.kind == ",":
            self.advance()
            args.append(self.expression(0))
        return args

    def require(self, node: Node, expected: ValueType, context: str) -> None:
        if node.value_type is not expected:
            snippet = self.text[node.start : node.end]
            raise RuleSyntaxError(f"'{snippet}' is {node.value_type.value}", node.start, context)

    def built(self, node: _Built) -> _Built:
        if node.depth > MAX_NESTING:
            raise RuleSyntaxError("the rule is nested too deeply", node.start)
        return node

    @staticmethod
    def unexpected(token: Token) -> RuleSyntaxError:
        return RuleSyntaxError(f"unexpected {token.describe()}", token.start)
