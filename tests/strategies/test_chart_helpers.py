"""The pure pieces of charts and result pages: merging candles, the merge period, the result curves."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from strategies.candles import merge_period, period_starts, resample
from strategies.curves import buy_and_hold, drawdown, monthly_returns
from strategies.spec_parts import Costs
from tickflow.synthetic import generate_candles

MINUTE, HOUR = 60_000, 3_600_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_resample_merges_by_ohlcv_rules_into_epoch_aligned_periods_and_leaves_out_empty_ones():
    candles = generate_candles(300, "1m", start_ms=ms("2024-01-01T00:30:00"), seed=2)
    kept = candles.slice(0, 100)  # 00:30 to 02:10, then nothing until 03:00
    later = candles.slice(150, 300)
    both = type(candles).from_columns(
        {
            name: np.r_[getattr(kept, name), getattr(later, name)]
            for name in ("ts", "open", "high", "low", "close", "volume")
        }
    )
    hours = resample(both, HOUR)
    assert hours.ts.tolist() == [
        ms("2024-01-01T00:00:00"),
        ms("2024-01-01T01:00:00"),
        ms("2024-01-01T02:00:00"),
        ms("2024-01-01T03:00:00"),
        ms("2024-01-01T04:00:00"),
        ms("2024-01-01T05:00:00"),
    ]
    first = both.slice(0, 30)  # 00:30 to 00:59: a period the bars cover in part
    assert (hours.open[0], hours.close[0]) == (first.open[0], first.close[-1])
    assert (hours.high[0], hours.low[0]) == (first.high.max(), first.low.min())
    assert hours.volume[0] == pytest.approx(first.volume.sum(), rel=1e-12)
    assert len(resample(both, MINUTE)) == len(both) and len(resample(both.slice(0, 0), HOUR)) == 0


def test_the_merge_period_is_the_shortest_whole_number_of_bars_that_fits_max_bars():
    ts = np.arange(1000, dtype=np.int64) * MINUTE
    assert merge_period(ts, MINUTE, 1000) == MINUTE
    assert merge_period(ts, MINUTE, 999) == 2 * MINUTE
    for max_bars in (7, 100, 333):
        period = merge_period(ts, MINUTE, max_bars)
        assert len(period_starts(ts, period)) <= max_bars < len(period_starts(ts, period - MINUTE))


def test_buy_and_hold_pays_the_entry_costs_once_and_follows_the_close():
    open_, close = np.array([100.0, 110.0, 90.0]), np.array([105.0, 95.0, 120.0])
    held = buy_and_hold(open_, close, 1_000.0, Costs(commission=0.01, slippage=0.002))
    units = 1_000.0 / (100.0 * 1.002 * 1.01)
    assert held.tolist() == pytest.approx((units * close).tolist(), rel=1e-15)
    assert buy_and_hold(open_, close, 1_000.0, Costs())[0] == pytest.approx(1_050.0)


def test_drawdown_is_the_fall_below_the_running_peak():
    assert drawdown(np.array([100.0, 120.0, 90.0, 130.0, 117.0])).tolist() == pytest.approx(
        [0.0, 0.0, -0.25, 0.0, -0.1]
    )


def test_monthly_returns_run_from_each_months_last_close_and_leave_months_without_bars_null():
    times = ["2023-12-15", "2023-12-31T23:00", "2024-01-10", "2024-01-31T12:00", "2024-03-02", "2024-03-20"]
    equity = np.array([100.0, 110.0, 99.0, 121.0, 130.0, 133.1])
    table = monthly_returns(np.array([ms(t) for t in times]), equity)
    assert [row["year"] for row in table] == [2023, 2024]
    assert table[0]["months"] == [None] * 11 + [pytest.approx(0.1)] and table[0]["total"] == pytest.approx(0.1)
    assert table[1]["months"][:3] == [pytest.approx(0.1), None, pytest.approx(0.1)]
    assert table[1]["months"][3:] == [None] * 9 and table[1]["total"] == pytest.approx(0.21)
    assert monthly_returns(np.empty(0, np.int64), np.empty(0)) == []
