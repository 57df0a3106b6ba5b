"""The trading semantics of docs/backtesting.md, one rule per test, on bars small enough to work out by hand.

Unless a test says otherwise: 1_050 cash, all of equity per trade, no costs, so an entry
at 100 buys 10 units.
"""

from __future__ import annotations

import pytest

from .helpers import backtest, trade_tuples

FLAT = [100.0] * 6


# -- when orders fill ------------------------------------------------------------------


def test_a_rule_true_on_a_bar_fills_at_the_next_bars_open():
    bars = [100.0, (101, 103, 99, 102), (104, 105, 103, 104), (106, 107, 105, 106), 107.0]
    result = backtest(bars, enter_long=[0], exit_long=[2])
    assert trade_tuples(result) == [("long", 10, 1, 101, 3, 106, "signal")]


def test_a_signal_on_the_last_bar_never_fills():
    assert not backtest(FLAT, enter_long=[5]).open_trades
    (still_open,) = backtest(FLAT, enter_long=[0], exit_long=[5]).open_trades
    assert still_open.entry_bar == 1


def test_entries_are_taken_only_when_flat_so_positions_never_pyramid():
    result = backtest(FLAT, enter_long=[0, 1, 2, 3], exit_long=[4])
    assert trade_tuples(result) == [("long", 10, 1, 100, 5, 100, "signal")]


def test_an_exit_rule_closes_the_whole_position():
    result = backtest(FLAT, enter_long=[0], exit_long=[2])
    assert [trade.size for trade in result.trades] == [10]
    assert not result.open_trades


def test_when_enter_and_exit_are_both_true_in_a_position_the_exit_wins():
    result = backtest(FLAT, enter_long=[0, 2], exit_long=[2])
    assert trade_tuples(result) == [("long", 10, 1, 100, 3, 100, "signal")]
    assert not result.open_trades


def test_when_enter_and_exit_are_both_true_while_flat_the_entry_is_taken():
    (still_open,) = backtest(FLAT, enter_long=[0], exit_long=[0]).open_trades
    assert still_open.entry_bar == 1


def test_both_entry_rules_true_on_the_same_bar_cancel_out():
    result = backtest(FLAT, enter_long=[0], enter_short=[0])
    assert not result.trades and not result.open_trades


def test_an_opposite_entry_is_ignored_without_allow_reversal():
    result = backtest(FLAT, enter_long=[0], enter_short=[2])
    assert not result.trades
    assert [trade.side.label for trade in result.open_trades] == ["long"]


def test_an_opposite_entry_reverses_at_the_next_open_with_allow_reversal():
    bars = [100.0, 100.0, 110.0, 120.0, 115.0]
    result = backtest(bars, enter_long=[0], enter_short=[2], allow_reversal=True)
    assert trade_tuples(result) == [("long", 10, 1, 100, 3, 120, "reversal")]
    (short,) = result.open_trades
    # the short is sized from the cash after closing the long: 1_250 buys 10 at 120
    assert (short.side.label, short.size, short.entry_bar, short.entry_price) == ("short", 10, 3, 120)


def test_a_short_gains_when_the_price_falls():
    result = backtest([100.0, 100.0, 90.0, 80.0], enter_short=[0], exit_short=[2])
    assert trade_tuples(result) == [("short", 10, 1, 100, 3, 80, "signal")]
    assert result.trades[0].pnl == 200


# -- sizing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cash", "commission", "units"),
    [
        (1_050, 0.0, 10),
        (1_000, 0.0, 9),  # like backtesting.py, a hair of equity is kept back: 1_000 is not quite 10 x 100
        (1_050, 0.01, 10),  # 1_050 / 101
        (1_050, 0.06, 9),  # 1_050 / 106
    ],
)
def test_fraction_of_equity_buys_whole_units_with_the_commission_included(cash, commission, units):
    result = backtest(FLAT, cash=cash, enter_long=[0], costs={"commission": commission})
    assert result.open_trades[0].size == units


def test_a_fraction_of_equity_below_one_buys_that_share():
    result = backtest(FLAT, enter_long=[0], sizing={"mode": "fraction_of_equity", "value": 0.5})
    assert result.open_trades[0].size == 5


@pytest.mark.parametrize(
    ("cash", "units", "bought"),
    [
        (1_050, 3, 3),
        (1_050, 0.5, 0.5),
        (1_050, 50, 10.25),  # more than equity pays for: as many lots as it does
        (1_050, 10.5, 10.5),  # exactly all of equity
        (40, 0.25, 0.25),  # a fraction of a unit that costs more than equity (0.01 BTC with less than a BTC)
        (250, 2.75, 2.25),  # 2.75 cost 275: as many lots as 250 pays for
        (1_050, 0.6, 0.5),  # rounded down to the step
    ],
)
def test_fixed_units_buys_that_amount_in_steps_or_as_many_lots_as_equity_pays_for(cash, units, bought):
    sizing = {"mode": "fixed_units", "value": units, "step": 0.25}
    result = backtest(FLAT, cash=cash, enter_long=[0], sizing=sizing)
    assert result.open_trades[0].size == bought


def test_a_fixed_amount_below_the_default_step_of_one_unit_is_not_bought():
    result = backtest(FLAT, enter_long=[0], sizing={"mode": "fixed_units", "value": 0.5})
    assert not result.trades and not result.open_trades
    assert result.skipped.to_dict()["by_reason"] == {"size_below_step": 1}


def test_a_fixed_fraction_of_a_unit_equity_cannot_pay_for_is_not_bought():
    result = backtest(FLAT, cash=20, enter_long=[0], sizing={"mode": "fixed_units", "value": 0.25, "step": 0.25})
    assert not result.trades and not result.open_trades


def test_risk_per_trade_sizes_so_that_the_stop_loses_that_share_of_equity():
    # 1% of 1_050 is 10.5; a 2% stop at 100 is 2 away: 5.25 units, rounded down
    result = backtest(
        FLAT,
        enter_long=[0],
        sizing={"mode": "risk_per_trade", "value": 0.01},
        risk={"stop_loss": {"fraction": 0.02}},
    )
    assert result.open_trades[0].size == 5


def test_no_entry_when_equity_cannot_pay_for_one_unit():
    result = backtest(FLAT, cash=50, enter_long=[0])
    assert not result.trades and not result.open_trades


# -- costs -------------------------------------------------------------------------------


def test_commission_is_a_fraction_of_traded_value_charged_on_entry_and_on_exit():
    result = backtest([100.0, 100.0, 110.0, 110.0], enter_long=[0], exit_long=[2], costs={"commission": 0.01})
    (trade,) = result.trades
    assert trade.commission == pytest.approx(10 + 11)  # 1% of 10 x 100, then of 10 x 110
    assert trade.pnl == pytest.approx(10 * (110 - 100) - 21)
    assert result.stats["final_equity"] == pytest.approx(1_050 + 79)
    assert result.stats["total_commission"] == pytest.approx(21)


def test_slippage_moves_every_market_fill_against_the_trader():
    bars = [100.0, 100.0, 110.0, 110.0, 110.0, 90.0]
    costs = {"slippage": 0.01}
    long = backtest(bars, enter_long=[0], exit_long=[2], costs=costs).trades[0]
    assert (long.entry_price, long.exit_price) == pytest.approx((101, 108.9))
    short = backtest(bars, enter_short=[2], exit_short=[4], costs=costs).trades[0]
    assert (short.entry_price, short.exit_price) == pytest.approx((108.9, 90.9))


def test_a_take_profit_fills_at_its_level_without_slippage():
    bars = [100.0, 100.0, (100, 115, 100, 112), 112.0]
    result = backtest(bars, enter_long=[0], costs={"slippage": 0.01}, risk={"take_profit": {"fraction": 0.1}})
    (trade,) = result.trades
    assert trade.exit_price == pytest.approx(101 * 1.1)
    assert trade.exit_reason.value == "take_profit"


# -- stops and targets -------------------------------------------------------------------

STOP_2PCT = {"stop_loss": {"fraction": 0.02}}


def test_the_stop_loss_is_checked_on_the_entry_bar_too():
    bars = [100.0, (100, 101, 97, 99), 99.0]
    result = backtest(bars, enter_long=[0], risk=STOP_2PCT)
    assert trade_tuples(result) == [("long", 10, 1, 100, 1, 98, "stop_loss")]


def test_a_bar_that_opens_beyond_the_stop_fills_at_its_open():
    bars = [100.0, (100, 101, 99, 100), (95, 96, 94, 95), 95.0]
    result = backtest(bars, enter_long=[0], risk=STOP_2PCT)
    assert trade_tuples(result) == [("long", 10, 1, 100, 2, 95, "stop_loss")]


def test_stop_and_target_touched_in_the_same_bar_exit_at_the_stop():
    bars = [100.0, 100.0, (100, 104, 97, 100), 100.0]
    risk = {**STOP_2PCT, "take_profit": {"fraction": 0.03}}
    result = backtest(bars, enter_long=[0], risk=risk)
    assert trade_tuples(result) == [("long", 10, 1, 100, 2, 98, "stop_loss")]


def test_a_take_profit_fills_at_the_target_or_at_a_better_open():
    risk = {"take_profit": {"fraction": 0.03}}
    touched = backtest([100.0, 100.0, (101, 104, 100, 101), 101.0], enter_long=[0], risk=risk)
    assert trade_tuples(touched) == [("long", 10, 1, 100, 2, 103, "take_profit")]
    gapped = backtest([100.0, 100.0, (105, 106, 104, 105), 105.0], enter_long=[0], risk=risk)
    assert trade_tuples(gapped) == [("long", 10, 1, 100, 2, 105, "take_profit")]


def test_a_short_stop_sits_above_the_entry():
    bars = [100.0, (100, 101, 99, 100), (100, 103, 99, 102), 102.0]
    result = backtest(bars, enter_short=[0], risk=STOP_2PCT)
    assert trade_tuples(result) == [("short", 10, 1, 100, 2, 102, "stop_loss")]


def test_the_trailing_stop_follows_the_highest_high_since_entry():
    # levels: 95 on the entry bar (5% under its open), then 5% under 102, then under 110
    bars = [100.0, (100, 102, 99, 101), (101, 110, 100, 108), (108, 109, 104, 105), 105.0]
    result = backtest(bars, enter_long=[0], risk={"trailing_stop": {"fraction": 0.05}})
    (trade,) = result.trades
    assert (trade.exit_bar, trade.exit_reason.value) == (3, "trailing_stop")
    assert trade.exit_price == pytest.approx(110 * 0.95)


def test_a_short_trailing_stop_follows_the_lowest_low_since_entry():
    bars = [100.0, (100, 101, 98, 99), (99, 100, 90, 92), (92, 95, 91, 94), 94.0]
    result = backtest(bars, enter_short=[0], risk={"trailing_stop": {"fraction": 0.05}})
    (trade,) = result.trades
    assert (trade.exit_bar, trade.exit_reason.value) == (3, "trailing_stop")
    assert trade.exit_price == pytest.approx(90 * 1.05)


def test_the_tighter_of_stop_loss_and_trailing_stop_is_the_one_that_fires():
    bars = [100.0, (100, 110, 100, 108), (108, 109, 103, 104), 104.0]
    risk = {**STOP_2PCT, "trailing_stop": {"fraction": 0.05}}
    (trade,) = backtest(bars, enter_long=[0], risk=risk).trades
    assert (trade.exit_reason.value, trade.exit_price) == ("trailing_stop", pytest.approx(104.5))


TRUE_RANGE = {"tr": {"function": "TRANGE"}}


def test_atr_distances_use_the_indicator_value_at_the_signal_bar():
    # true range 2 on the signal bar, 20 on the entry bar: the stop is 2 x 2 under the entry
    bars = [100.0, (100, 101, 99, 100), (100, 110, 90, 100), 100.0]
    risk = {"stop_loss": {"atr": "tr", "multiple": 2}}
    result = backtest(bars, indicators=TRUE_RANGE, enter_long=[1], risk=risk)
    assert trade_tuples(result) == [("long", 10, 2, 100, 2, 96, "stop_loss")]


def test_no_entry_while_an_atr_distance_is_still_unknown():
    bars = [(100.0, 101.0, 99.0, 100.0)] * 5
    risk = {"stop_loss": {"atr": "tr", "multiple": 2}}
    skipped = backtest(bars, indicators=TRUE_RANGE, enter_long=[0], risk=risk)  # TRANGE starts at bar 1
    assert not skipped.trades and not skipped.open_trades
    (still_open,) = backtest(bars, indicators=TRUE_RANGE, enter_long=[0, 1], risk=risk).open_trades
    assert still_open.entry_bar == 2


def test_an_exit_signal_fills_at_the_open_before_stops_are_checked():
    bars = [100.0, 100.0, (100, 100, 90, 95), 95.0]
    result = backtest(bars, enter_long=[0], exit_long=[1], risk=STOP_2PCT)
    assert trade_tuples(result) == [("long", 10, 1, 100, 2, 100, "signal")]


def test_a_signal_on_the_bar_a_stop_fired_enters_again_at_the_next_open():
    bars = [100.0, (100, 101, 97, 99), (99, 100, 98, 99), 99.0]
    result = backtest(bars, enter_long=[0, 1], risk=STOP_2PCT)
    assert trade_tuples(result) == [("long", 10, 1, 100, 1, 98, "stop_loss")]
    assert result.open_trades[0].entry_bar == 2


# -- the end of the data -----------------------------------------------------------------


def test_a_position_open_at_the_end_is_marked_at_the_last_close_and_not_counted_as_closed():
    result = backtest([100.0, 100.0, 105.0, 110.0], enter_long=[0], costs={"commission": 0.001})
    assert not result.trades
    assert result.stats["n_trades"] == 0
    (still_open,) = result.open_trades
    assert still_open.is_open and still_open.exit_reason.value == "end"
    assert (still_open.exit_bar, still_open.exit_price) == (3, 110)
    assert still_open.commission == pytest.approx(10 * 100 * 0.001)  # the exit is not paid for
    assert still_open.pnl == pytest.approx(10 * (110 - 100) - 1)
    assert result.stats["final_equity"] == pytest.approx(1_050 + still_open.pnl)
