"""Order quantities a market accepts: a lot step, a minimum quantity and a minimum notional.

A venue trades a symbol in multiples of a step (Binance's BTCUSDT in 0.00001 BTC, a stock
in whole shares) and refuses orders below a minimum quantity or a minimum value. Sizing
rounds *down* to a multiple of the step, as freqtrade's ``amount_to_precision`` does, and an
order below either minimum is not placed.

Steps are kept as exact fractions of the decimal the user wrote (``0.00001`` is 1/100000,
not the binary float nearest to it), so that a size is a whole number of lots converted to
units once: ``lots * numerator / denominator`` is the float nearest the exact multiple,
however many trades came before. The compiled sizing works in lots for the same reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache

MAX_STEP_DECIMALS = 12
"""Decimal places a step may have: enough for any venue (crypto steps stop around 1e-8), and few
enough that its denominator and a lot count times its numerator stay exact in a float."""


def exact_decimal(value: float) -> Fraction:
    """The decimal number ``value`` was written as (its shortest repr), as an exact fraction.

    ``0.1`` is 1/10, not the binary float 0.1000000000000000055...: a step of 0.1 means
    tenths, and 0.3 is three of them.
    """
    return Fraction(Decimal(repr(float(value))))


def decimal_text(value: Fraction | float) -> str:
    """A quantity as a plain decimal for messages: ``0.00001``, not ``1e-05``."""
    exact = value if isinstance(value, Fraction) else exact_decimal(value)
    places = decimals(exact)
    return f"{exact.numerator / exact.denominator:.{places}f}" if places <= MAX_STEP_DECIMALS else repr(float(exact))


def decimals(value: Fraction) -> int:
    """Decimal places needed to write ``value`` exactly; more than MAX_STEP_DECIMALS for a non-decimal fraction."""
    denominator = value.denominator
    for places in range(MAX_STEP_DECIMALS + 1):
        if 10**places % denominator == 0:
            return places
    return MAX_STEP_DECIMALS + 1


@dataclass(frozen=True)
class QuantityRules:
    """What one symbol's orders must respect: sizes in multiples of ``step``, at least ``min_qty`` units
    and at least ``min_notional`` in value (quantity x price). The defaults are whole units, no minimum."""

    step: Fraction = Fraction(1)
    min_qty: Fraction = Fraction(0)
    """A multiple of ``step``."""
    min_notional: float = 0.0

    @classmethod
    @lru_cache(maxsize=1024)
    def of(cls, step: float = 1, min_qty: float = 0, min_notional: float = 0) -> QuantityRules:
        """Rules from numbers as written in a spec or read from a venue; ``min_qty`` is rounded up to the step.

        Cached: a sweep asks for the same rules once per parameter set, and exact fractions cost microseconds.
        """
        exact_step = exact_decimal(step)
        return cls(exact_step, _round_up(exact_decimal(min_qty), exact_step), float(min_notional))

    @cached_property
    def min_lots(self) -> int:
        """``min_qty`` in lots."""
        return math.ceil(self.min_qty / self.step)

    def lots(self, quantity: float) -> int:
        """Whole lots in ``quantity`` (as written), rounded down: 0.29 at a step of 0.01 is 29, not 28."""
        return math.floor(exact_decimal(quantity) / self.step)

    def stricter(self, other: QuantityRules) -> QuantityRules:
        """Rules that satisfy both: every size they allow is allowed by ``self`` and by ``other``.

        The step is the smallest multiple of both steps (a spec's 0.001 and a venue's 0.00001
        give 0.001; 0.0002 and 0.0003 give 0.0006), the minimums the larger of each, the
        minimum quantity rounded up to the new step. This is how a venue's own lot rules
        combine with a spec's when a strategy starts on it.
        """
        step = _lcm(self.step, other.step)
        return QuantityRules(
            step, _round_up(max(self.min_qty, other.min_qty), step), max(self.min_notional, other.min_notional)
        )


def _lcm(a: Fraction, b: Fraction) -> Fraction:
    """The least common multiple of two positive fractions."""
    return Fraction(math.lcm(a.numerator, b.numerator), math.gcd(a.denominator, b.denominator))


def _round_up(quantity: Fraction, step: Fraction) -> Fraction:
    return math.ceil(quantity / step) * step
