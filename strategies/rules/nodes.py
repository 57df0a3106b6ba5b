"""The syntax tree of a rule. Each node knows its span in the text, its type and its depth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .functions import Function
from .value_types import ValueType

NUMBER = ValueType.NUMBER
CONDITION = ValueType.CONDITION


@dataclass(frozen=True)
class Node:
    start: int
    end: int
    depth: int = field(init=False, repr=False, compare=False)
    value_type: ClassVar[ValueType]

    def __post_init__(self) -> None:
        # Computed once, bottom-up, so the parser can refuse trees too deep to evaluate safely.
        object.__setattr__(self, "depth", 1 + max((child.depth for child in self.children()), default=0))

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Number(Node):
    value: float
    value_type = NUMBER


@dataclass(frozen=True)
class Param(Node):
    name: str
    value_type = NUMBER


@dataclass(frozen=True)
class Series(Node):
    """A price series or indicator output, ``offset`` bars back (``close[1]`` is the previous close)."""

    name: str
    offset: int
    value_type = NUMBER


@dataclass(frozen=True)
class Unary(Node):
    operator: str
    operand: Node
    operand_type: ClassVar[ValueType]

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Negate(Unary):
    value_type = NUMBER
    operand_type = NUMBER


@dataclass(frozen=True)
class Not(Unary):
    value_type = CONDITION
    operand_type = CONDITION


@dataclass(frozen=True)
class Binary(Node):
    operator: str
    left: Node
    right: Node
    operand_type: ClassVar[ValueType]

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Arithmetic(Binary):
    value_type = NUMBER
    operand_type = NUMBER


@dataclass(frozen=True)
class Comparison(Binary):
    value_type = CONDITION
    operand_type = NUMBER


@dataclass(frozen=True)
class Logical(Binary):
    value_type = CONDITION
    operand_type = CONDITION


@dataclass(frozen=True)
class Call(Node):
    function: Function
    args: tuple[Node, ...]

    @property
    def value_type(self) -> ValueType:  # type: ignore[override]
        return self.function.returns

    def children(self) -> tuple[Node, ...]:
        return self.args


def walk(node: Node) -> list[Node]:
    """``node`` and all its descendants, in source order for siblings."""
    nodes = [node]
    for child in node.children():
        nodes.extend(walk(child))
    return nodes
