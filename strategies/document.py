"""Checking a JSON-like document while collecting every problem instead of stopping at the first.

Readers here return the checked value, or None after recording why it is unusable, so callers
keep going and the user sees all problems in one response.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SpecIssue:
    path: str
    """Where the problem is, e.g. ``indicators.fast.params.timeperiod`` or ``symbols[1]``; "" for the whole document."""
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(ValueError):
    """A strategy document with problems; ``errors`` lists all of them."""

    def __init__(self, errors: Iterable[SpecIssue]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(map(str, self.errors)))


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""Stands for a field the document leaves out. Readers return None for it without complaint:
missing required fields are reported once, by ``Issues.fields``."""

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class Interval:
    """The numbers a field accepts, phrased for error messages."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        if self.high == math.inf:
            return f"{'greater than' if self.low_open else 'at least'} {self.low:g}"
        return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


def json_type(value: Any) -> str:
    """The JSON name of ``value``'s type, for 'expected X, got Y' messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A hint naming the closest candidate, or ""."""
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f"did you mean '{close[0]}'?" if close else ""


def joined(*parts: str) -> str:
    """Message parts separated by '; ', skipping empty ones."""
    return "; ".join(part for part in parts if part)


class Issues:
    """Collects problems found in a document, and reads its values."""

    def __init__(self) -> None:
        self.found: list[SpecIssue] = []

    def add(self, path: str, message: str) -> None:
        self.found.append(SpecIssue(path, message))

    def raise_if_any(self) -> None:
        if self.found:
            raise SpecError(self.found)

    def typed(self, value: Any, path: str, accepted: type | tuple[type, ...], expected: str) -> Any:
        if value is ABSENT:
            return None
        if not isinstance(value, accepted):
            self.add(path, f"expected {expected}, got {json_type(value)}")
            return None
        return value

    def fields(
        self, value: Any, path: str, required: Collection[str] = (), optional: Collection[str] = ()
    ) -> Mapping[str, Any] | None:
        """``value`` as an object, after reporting its missing and unknown fields."""
        obj = self.typed(value, path, Mapping, "an object")
        if obj is None:
            return None
        for key in obj:
            if key not in required and key not in optional:
                hint = did_you_mean(str(key), [*required, *optional])
                self.add(_child(path, key), joined(f"unknown field {key!r}", hint))
        for key in required:
            if key not in obj:
                self.add(_child(path, key), "missing required field")
        return obj

    def entries(self, value: Any, path: str, what: str) -> dict[str, Any]:
        """A map whose keys the user names (params, indicators): the entries whose names are valid."""
        obj = self.typed(value, path, Mapping, "an object")
        valid = {}
        for key, entry in (obj or {}).items():
            if isinstance(key, str) and key.startswith("$"):
                self.add(_child(path, key), f"unknown field {key!r}")
            elif not isinstance(key, str) or not NAME_PATTERN.fullmatch(key):
                self.add(
                    _child(path, str(key)),
                    f"invalid {what} name {key!r}: use up to 64 letters, digits and _, not starting with a digit",
                )
            else:
                valid[key] = entry
        return valid

    def string(self, value: Any, path: str, max_length: int | None = None, multiline: bool = False) -> str | None:
        """A non-empty string of printable text (plus line breaks and tabs where ``multiline``).

        Control characters are refused because names and texts end up in terminals and logs,
        where an escape sequence could rewrite what an operator sees.
        """
        text = self.typed(value, path, str, "a string")
        if text is None:
            return None
        if not text.strip():
            self.add(path, "must not be empty")
            return None
        allowed = "\n\r\t" if multiline else ""
        unprintable = next((ch for ch in text if not ch.isprintable() and ch not in allowed), None)
        if unprintable is not None:
            self.add(path, f"must be printable text, got the control character {unprintable!r}")
            return None
        if max_length is not None and len(text) > max_length:
            self.add(path, f"must be at most {max_length} characters, got {len(text)}")
            return None
        return text

    def number(self, value: Any, path: str, interval: Interval | None = None) -> int | float | None:
        if value is ABSENT:
            return None
        if json_type(value) != "number":
            self.add(path, f"expected a number, got {json_type(value)}")
            return None
        if not _is_finite(value):
            self.add(path, "must be a finite number")
            return None
        if interval is not None and value not in interval:
            self.add(path, f"must be {interval}, got {value:g}")
            return None
        return value

    def boolean(self, value: Any, path: str) -> bool | None:
        return self.typed(value, path, bool, "true or false")


def _is_finite(number: int | float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an int too large for a float
        return False


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
