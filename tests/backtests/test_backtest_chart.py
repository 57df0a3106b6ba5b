"""A done run's chart through HTTP, from a real worker's result: candles, the engine's indicators, trades."""

from __future__ import annotations

import numpy as np
import pytest

from strategies.backtest import run_backtest
from strategies.examples import load_example
from strategies.indicators import compute_indicators
from strategies.spec import validate_spec
from tests.backtests.conftest import wait_for
from tests.charts import chart_reader, nulls
from tickflow.storage.strategies import StrategyRepository

URL = "/api/v1/backtests"
HOUR = 3_600_000

OSCILLATORS = {
    **load_example("sma_cross"),
    "name": "oscillators",
    "indicators": {
        "fast": {"function": "SMA", "params": {"timeperiod": "$fast"}},
        "slow": {"function": "EMA", "params": {"timeperiod": "$slow"}},
        "macd": {"function": "MACD", "params": {"fastperiod": 12, "slowperiod": 26, "signalperiod": 9}},
        "rsi": {"function": "RSI", "params": {"timeperiod": 14}},
        "bb": {"function": "BBANDS", "params": {"timeperiod": "$slow"}},
    },
}


@pytest.fixture
def done(client, auth_headers, worker):
    """POST a run and return it once done."""

    def run(**body) -> dict:
        created = client.post(URL, json=body, headers=auth_headers)
        assert created.status_code == 202, created.json

        def final() -> dict | None:
            doc = client.get(created.headers["Location"], headers=auth_headers).json
            return doc if doc["state"] not in ("queued", "running") else None

        finished = wait_for(final, 30, f"backtest {created.json['id']} to finish\n{worker.tail()}")
        assert finished["state"] == "done", finished
        return finished

    return run


@pytest.fixture
def chart(client, auth_headers):
    return chart_reader(client, auth_headers, URL)


def test_the_chart_of_a_done_run_has_its_candles_the_engines_indicators_and_its_trades_as_markers(
    done, chart, strategy, candles
):
    run = done(strategy_id=strategy.id, params={"fast": 5})
    body = chart(run["id"])

    assert (body["run_id"], body["symbol"], body["timeframe"]) == (run["id"], "BTCUSDT", "1h")
    assert body["period_ms"] == HOUR and body["bars"] == len(candles) == 2_000
    assert body["candles"] == {
        "t": candles.ts.tolist(),
        "o": candles.open.tolist(),
        "h": candles.high.tolist(),
        "l": candles.low.tolist(),
        "c": candles.close.tolist(),
        "v": candles.volume.tolist(),
    }
    spec = validate_spec(run["spec"])
    expected = compute_indicators(spec, candles.ohlcv())
    assert body["indicators"] == {
        "fast": {
            "function": "SMA",
            "params": {"timeperiod": 5},
            "pane": "price",
            "outputs": {"real": nulls(expected["fast"])},
        },
        "slow": {
            "function": "SMA",
            "params": {"timeperiod": 20},
            "pane": "price",
            "outputs": {"real": nulls(expected["slow"])},
        },
    }
    assert body["indicators"]["slow"]["outputs"]["real"][:19] == [None] * 19  # warm-up is null

    result = run_backtest(spec, candles, cash=10_000)
    markers = []
    for trade in [*result.trades, *result.open_trades]:
        entry = "buy" if trade.side.label == "long" else "sell"
        markers.append((trade.entry_ts, trade.entry_price, entry, f"enter_{trade.side.label}"))
        if not trade.is_open:
            exit_ = "sell" if entry == "buy" else "buy"
            markers.append((trade.exit_ts, trade.exit_price, exit_, trade.exit_reason.value))
    shown = list(zip(*(body["markers"][name] for name in ("time", "price", "side", "reason")), strict=True))
    assert sorted(shown) == sorted(markers) and len(shown) > 40
    assert [time for time, *_ in shown] == sorted(time for time, *_ in shown)


def test_over_max_bars_candles_merge_by_ohlcv_rules_and_indicators_are_taken_at_each_merged_close(
    done, chart, strategy, candles
):
    run = done(strategy_id=strategy.id)
    body = chart(run["id"], "max_bars=150")

    merged = body["candles"]
    period = body["period_ms"]
    assert period % HOUR == 0 and period > HOUR and len(merged["t"]) <= 150 and body["bars"] == 2_000
    assert len(merged["t"]) > 150 * period // (period + HOUR)  # no coarser than it needs to be
    expected = compute_indicators(validate_spec(run["spec"]), candles.ohlcv())
    for index, t in enumerate(merged["t"]):
        bars = (candles.ts >= t) & (candles.ts < t + period)
        assert t % period == 0 and bars.any()
        first, last = np.flatnonzero(bars)[[0, -1]]
        assert merged["o"][index] == candles.open[first] and merged["c"][index] == candles.close[last]
        assert merged["h"][index] == candles.high[bars].max() and merged["l"][index] == candles.low[bars].min()
        assert merged["v"][index] == pytest.approx(candles.volume[bars].sum(), rel=1e-12)
        assert body["indicators"]["slow"]["outputs"]["real"][index] == nulls(expected["slow"][[last]])[0]
    assert sum(((candles.ts >= t) & (candles.ts < t + period)).sum() for t in merged["t"]) == 2_000


def test_a_range_cuts_the_chart_but_indicators_keep_the_warm_up_of_the_whole_run(done, chart, strategy, candles):
    run = done(strategy_id=strategy.id)
    start, end = int(candles.ts[10]), int(candles.ts[400])
    body = chart(run["id"], f"start={start}&end={end}")

    assert body["candles"]["t"] == candles.ts[10:400].tolist() and (body["start"], body["end"]) == (start, end)
    expected = compute_indicators(validate_spec(run["spec"]), candles.ohlcv())
    assert body["indicators"]["slow"]["outputs"]["real"] == nulls(expected["slow"][10:400])
    assert all(start <= time < end for time in body["markers"]["time"])
    assert set(body["markers"]["time"]) < set(chart(run["id"])["markers"]["time"])


def test_multi_output_indicators_come_by_output_name_with_the_pane_of_their_talib_group(
    done, chart, db, redis, candles
):
    strategy = StrategyRepository(db, redis).create(OSCILLATORS)
    run = done(strategy_id=strategy.id)
    body = chart(run["id"], "max_bars=500")

    indicators = body["indicators"]
    panes = {name: indicator["pane"] for name, indicator in indicators.items()}
    assert panes == {"fast": "price", "slow": "price", "macd": "separate", "rsi": "separate", "bb": "price"}
    assert set(indicators["macd"]["outputs"]) == {"macd", "macdsignal", "macdhist"}
    assert set(indicators["bb"]["outputs"]) == {"upperband", "middleband", "lowerband"}
    assert indicators["bb"]["params"] == {"timeperiod": 20, "nbdevup": 2, "nbdevdn": 2, "matype": 0}
    expected = compute_indicators(validate_spec(run["spec"]), candles.ohlcv())
    period = body["period_ms"]
    last_bars = [int(np.flatnonzero(candles.ts < t + period)[-1]) for t in body["candles"]["t"]]
    assert indicators["macd"]["outputs"]["macdsignal"] == nulls(expected["macd.macdsignal"][last_bars])
    assert indicators["rsi"]["outputs"]["real"] == nulls(expected["rsi"][last_bars])


def test_the_same_chart_asked_again_is_the_same_and_a_deleted_runs_chart_is_a_404(
    done, client, auth_headers, strategy, candles
):
    run = done(strategy_id=strategy.id)
    url = f"{URL}/{run['id']}/chart?max_bars=300"
    first = client.get(url, headers=auth_headers)
    again = client.get(url, headers=auth_headers)
    assert first.status_code == again.status_code == 200 and first.data == again.data
    assert client.delete(f"{URL}/{run['id']}", headers=auth_headers).status_code == 204
    assert client.get(url, headers=auth_headers).status_code == 404


@pytest.mark.parametrize(
    "query, field",
    [
        ("max_bars=0", "max_bars"),
        ("max_bars=20001", "max_bars"),
        ("max_bars=many", "max_bars"),
        ("start=2024-02-01&end=2024-01-01", "end"),
        ("start=2024-01-01&end=2024-01-01", "end"),
        ("start=tomorrow", "start"),
        ("colour=red", "colour"),
    ],
)
def test_bad_chart_arguments_are_a_422_naming_the_field(done, client, auth_headers, strategy, candles, query, field):
    run = done(strategy_id=strategy.id)
    response = client.get(f"{URL}/{run['id']}/chart?{query}", headers=auth_headers)
    assert response.status_code == 422 and field in response.json["errors"]["query"], response.json
