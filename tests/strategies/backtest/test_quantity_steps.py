"""Sizing on a quantity step, minimum quantity and minimum notional, and the entries that could not be sized.

Unless a test says otherwise: 1_050 cash, all of equity per trade, no costs, bars at 100, so
all of equity buys 10.4999... units before rounding to the step.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from strategies.backtest import run_backtest
from strategies.examples import load_example
from strategies.spec import validate_spec
from tickflow.synthetic import generate_candles

from .helpers import START_MS, backtest

FLAT = [100.0] * 6


def bought(**sizing) -> float:
    result = backtest(FLAT, enter_long=[0], sizing=sizing, risk={"stop_loss": {"fraction": 0.02}})
    return result.open_trades[0].size


@pytest.mark.parametrize(
    ("sizing", "size"),
    [
        ({"step": 1}, 10),
        ({"step": 0.001}, 10.499),
        ({"step": 0.25}, 10.25),
        ({"step": 5}, 10),
        ({"mode": "fraction_of_equity", "value": 0.333, "step": 0.01}, 3.49),  # 349.65 buys 3.4965
        ({"mode": "fixed_units", "value": 0.2999, "step": 0.01}, 0.29),
        ({"mode": "fixed_units", "value": 0.29, "step": 0.01}, 0.29),  # on the step: 29 lots, not float's 28
        ({"mode": "risk_per_trade", "value": 0.01, "step": 0.1}, 5.2),  # 10.5 at risk over a stop 2 away: 5.25
        ({"mode": "risk_per_trade", "value": 0.01, "step": 1}, 5),
    ],
)
def test_every_sizing_mode_rounds_down_to_a_multiple_of_the_step(sizing, size):
    assert bought(**sizing) == size


def test_commission_counts_before_rounding_to_the_step():
    result = backtest(FLAT, enter_long=[0], sizing={"step": 0.001}, costs={"commission": 0.01})
    assert result.open_trades[0].size == 10.396  # 1_050 / 101 = 10.3960...


def test_the_symbol_traded_picks_its_step_from_the_map():
    spec = validate_spec({**load_example("sma_cross"), "sizing": {"step": {"BTCUSDT": 0.001, "*": 0.1}}})
    candles = generate_candles(500, "1h", seed=2, start_price=100)

    btc, other = (run_backtest(spec, candles, 1_000, symbol=symbol).trades.size for symbol in ("BTCUSDT", "SOLUSDT"))

    assert (btc != np.round(btc, 1)).any() and (other == np.round(other, 1)).all()
    assert (run_backtest(spec, candles, 1_000).trades.size == btc).all()  # the spec's first symbol by default


def test_sizes_are_exact_multiples_of_the_step_however_many_trades():
    spec = validate_spec({**load_example("sma_cross"), "sizing": {"step": 0.00001}, "costs": {"commission": 0.001}})
    candles = generate_candles(50_000, "1m", seed=11, start_price=60_000)

    sizes = run_backtest(spec, candles, 10_000).trades.size

    assert len(sizes) > 1_000
    assert all(Decimal(repr(float(size))) % Decimal("0.00001") == 0 for size in sizes)


@pytest.mark.parametrize(
    ("sizing", "cash", "reason"),
    [
        ({}, 50, "size_below_step"),  # 50 buys half a unit: 0 whole units
        ({"step": 0.1, "min_qty": 1}, 50, "below_min_qty"),  # 0.4 units
        ({"step": 0.1, "min_notional": 60}, 50, "below_min_notional"),  # 0.4 units are worth 40
        ({"mode": "fixed_units", "value": 0.05, "step": 0.1}, 1_050, "size_below_step"),
    ],
)
def test_an_entry_whose_size_the_market_would_refuse_is_not_taken_and_is_counted_by_reason(sizing, cash, reason):
    result = backtest(FLAT, cash=cash, enter_long=[0, 2], sizing=sizing)

    assert not result.trades and not result.open_trades
    assert result.skipped.to_dict()["by_reason"] == {reason: 2}
    assert result.skipped.total == 2


def test_a_size_at_the_minimums_is_taken():
    result = backtest(FLAT, cash=50, enter_long=[0], sizing={"step": 0.1, "min_qty": 0.4, "min_notional": 40})
    assert result.open_trades[0].size == 0.4 and result.skipped.total == 0


def test_no_entry_is_taken_once_equity_is_gone_and_the_skip_says_so():
    # short 10 at 100, covered at 300: 2_000 lost of 1_050
    bars = [100.0, 100.0, 200.0, 300.0, 300.0, 300.0]
    result = backtest(bars, enter_short=[0, 4], exit_short=[2])

    assert len(result.trades) == 1 and result.equity[3] < 0
    assert result.skipped.to_dict()["by_reason"] == {"no_equity": 1}


def test_skipped_entries_keep_the_first_few_with_time_side_price_and_equity():
    bars = [100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0, 108.0]
    result = backtest(bars, cash=50, enter_long=range(8))

    skipped = result.skipped.to_dict()
    assert skipped["total"] == 8 and skipped["by_reason"] == {"size_below_step": 8}
    assert skipped["first"] == [
        {
            "time": START_MS + 60_000 * bar,
            "bar": bar,
            "side": "long",
            "price": bars[bar],
            "equity": 50.0,
            "reason": "size_below_step",
        }
        for bar in range(1, 6)
    ]


def test_a_skipped_short_entry_records_its_side():
    result = backtest(FLAT, cash=50, enter_short=[0])
    assert [entry.side.label for entry in result.skipped.first] == ["short"]


def test_a_result_without_trades_says_why():
    assert (
        backtest(FLAT, cash=50, enter_long=[0]).no_trades_reason == "1 entry skipped: size below the quantity step (1)"
    )
    assert backtest(FLAT, enter_long=[0]).no_trades_reason == "the one position taken is still open at the end"
    assert backtest(FLAT).no_trades_reason == "no entry signal"
    assert backtest(FLAT, enter_long=[0], exit_long=[2]).no_trades_reason is None


def test_the_skipped_entries_are_in_the_json_form_of_a_result():
    result = backtest(FLAT, cash=50, enter_long=[0])
    assert result.to_dict()["skipped"] == result.skipped.to_dict()


def test_bitcoin_at_sixty_thousand_with_ten_thousand_trades_on_its_exchange_step():
    example = load_example("sma_cross")
    candles = generate_candles(3 * 365 * 24, "1h", seed=1, start_price=60_000)

    whole = run_backtest(validate_spec(example), candles, 10_000)
    fractional = run_backtest(validate_spec({**example, "sizing": {"step": {"BTCUSDT": 0.00001}}}), candles, 10_000)

    assert whole.skipped.by_reason and whole.skipped.total > 100
    assert len(fractional.trades) > 500 and fractional.skipped.total == 0
