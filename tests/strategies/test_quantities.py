"""Quantity rules: exact decimal steps, lots, and combining a spec's rules with a venue's (the stricter wins)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from strategies.quantities import QuantityRules, decimal_text, exact_decimal


def test_a_step_is_the_decimal_written_not_the_binary_float_nearest_it():
    assert exact_decimal(0.1) == Fraction(1, 10)
    assert exact_decimal(0.00001) == Fraction(1, 100_000)
    assert decimal_text(exact_decimal(0.00001)) == "0.00001"


@pytest.mark.parametrize(
    ("step", "quantity", "lots"),
    [(0.01, 0.29, 29), (0.1, 0.3, 3), (0.00001, 0.16835, 16_835), (1, 2.75, 2), (0.25, 0.6, 2), (5, 12, 2)],
)
def test_a_quantity_counts_the_whole_lots_it_holds_rounded_down(step, quantity, lots):
    assert QuantityRules.of(step).lots(quantity) == lots


def test_a_venue_minimum_quantity_off_the_step_is_rounded_up_to_it():
    rules = QuantityRules.of(0.001, min_qty=0.0015)

    assert (rules.min_qty, rules.min_lots) == (Fraction(2, 1000), 2)


@pytest.mark.parametrize(
    ("ours", "venue", "stricter"),
    [
        # the coarser step, when one is a multiple of the other
        (QuantityRules.of(0.001), QuantityRules.of(0.00001), QuantityRules.of(0.001)),
        (QuantityRules.of(0.00001), QuantityRules.of(0.001), QuantityRules.of(0.001)),
        # otherwise the smallest step both accept
        (QuantityRules.of(0.0002), QuantityRules.of(0.0003), QuantityRules.of(0.0006)),
        # the larger minimums, the quantity one on the combined step
        (
            QuantityRules.of(0.001, min_qty=0.002, min_notional=5),
            QuantityRules.of(0.00001, min_qty=0.00015, min_notional=10),
            QuantityRules.of(0.001, min_qty=0.002, min_notional=10),
        ),
        (
            QuantityRules.of(0.001),
            QuantityRules.of(0.00001, min_qty=0.0025),
            QuantityRules.of(0.001, min_qty=0.003),
        ),
    ],
)
def test_combining_two_sets_of_rules_keeps_the_stricter_of_each(ours, venue, stricter):
    assert ours.stricter(venue) == stricter
    assert venue.stricter(ours) == stricter


def test_every_size_the_combined_rules_allow_both_sets_allow():
    ours, venue = QuantityRules.of(0.0002, min_qty=0.0004), QuantityRules.of(0.0003, min_qty=0.0003)
    combined = ours.stricter(venue)

    for lots in range(combined.min_lots, combined.min_lots + 20):
        size = lots * combined.step
        for rules in (ours, venue):
            assert size % rules.step == 0 and size >= rules.min_qty
