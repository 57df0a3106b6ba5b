"""``GET /strategies/{id}/chart``: stored history joined to the live working set, with live trades and fills.

The live state is written where and as the live engine writes it: closed candles as rows
(``format_rows``, as warm-up writes them) in the working-set list, the forming candle's hash,
trade records upserted into ``trade_logs``, fills in the paper broker's book.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from bson import ObjectId

from strategies.candles import COLUMNS
from strategies.examples import load_example
from strategies.indicators import compute_indicators
from strategies.spec import validate_spec
from tests.charts import chart_reader, nulls
from tickflow.storage import keys
from tickflow.storage.candle_rows import format_rows
from tickflow.storage.candles import CandleStore
from tickflow.storage.strategies import StrategyRepository
from tickflow.storage.trade_logs import TradeLogRepository
from tickflow.synthetic import generate_candles
from workers.orders import client_order_id

URL = "/api/v1/strategies"
SYMBOL = "BTCUSDT"
HOUR = 3_600_000
STORED = 500  # bars in MongoDB; the working set holds bars 470..599, the forming candle is bar 600


@pytest.fixture
def history():
    return generate_candles(601, "1h", seed=11)


@pytest.fixture
def strategy(db, redis, history):
    strategy = StrategyRepository(db, redis).create(load_example("sma_cross"))
    CandleStore(db).upsert(SYMBOL, "1h", history.slice(0, STORED))
    redis.rpush(keys.closed_candles(SYMBOL, "1h"), *format_rows(history.slice(470, 600)))
    prices = {name: repr(float(getattr(history, column)[600])) for name, column in zip("ohlcv", COLUMNS[1:])}
    forming = {"t": str(int(history.ts[600])), **prices, "n": "3"}  # as the ingest script writes it
    redis.hset(keys.current_candle(SYMBOL, "1h"), mapping=forming)
    return strategy


def trade(strategy_id: str, history, entry: int, exit_: int | None, side: str = "long") -> dict:
    """A live trade record as ``workers.archive`` writes it (times are candle open times)."""
    record = {
        "trade_id": f"{strategy_id}:{SYMBOL}:{int(history.ts[entry])}",
        "rev": 0 if exit_ is None else 1,
        "status": "open" if exit_ is None else "closed",
        "strategy_id": strategy_id,
        "symbol": SYMBOL,
        "timeframe": "1h",
        "mode": "paper",
        "run": 1,
        "side": side,
        "size": 2.0,
        "entry_time": int(history.ts[entry]),
        "entry_price": float(history.open[entry]),
    }
    if exit_ is not None:
        record.update(exit_time=int(history.ts[exit_]), exit_price=float(history.open[exit_]), exit_reason="signal")
        record.update(pnl=1.0, commission=0.0, return_pct=0.1)
    return record


@pytest.fixture
def chart(client, auth_headers):
    return chart_reader(client, auth_headers, URL)


def test_stored_history_and_the_live_working_set_join_without_gap_or_overlap(chart, strategy, history):
    body = chart(strategy.id)

    assert body["candles"]["t"] == history.ts[:600].tolist()
    assert np.all(np.diff(body["candles"]["t"]) == HOUR)
    assert (
        body["candles"]["c"] == history.close[:600].tolist() and body["candles"]["v"] == history.volume[:600].tolist()
    )
    assert body["live_from"] == int(history.ts[STORED]) and body["period_ms"] == HOUR and body["bars"] == 600
    assert body["forming"] == {
        "t": int(history.ts[600]),
        "o": history.open[600],
        "h": history.high[600],
        "l": history.low[600],
        "c": history.close[600],
        "v": history.volume[600],
    }
    assert (body["strategy_id"], body["version"], body["symbol"], body["timeframe"]) == (strategy.id, 1, SYMBOL, "1h")


def test_the_strategy_chart_shows_the_indicators_of_its_current_spec_on_the_joined_candles(
    chart, strategy, history, db, redis
):
    StrategyRepository(db, redis).patch(strategy.id, {"params": {"fast": 7}})
    body = chart(strategy.id)
    expected = compute_indicators(validate_spec({**strategy.spec, "params": {"fast": 7, "slow": 20}}), history.ohlcv())
    assert body["version"] == 2
    assert body["indicators"]["fast"] == {
        "function": "SMA",
        "params": {"timeperiod": 7},
        "pane": "price",
        "outputs": {"real": nulls(expected["fast"][:600])},
    }
    assert body["indicators"]["slow"]["outputs"]["real"][:19] == [None] * 19


def test_a_range_and_max_bars_merge_across_the_join_by_ohlcv_rules(chart, strategy, history):
    start, end = int(history.ts[100]), int(history.ts[580])
    body = chart(strategy.id, f"start={start}&end={end}&max_bars=50")

    period, merged = body["period_ms"], body["candles"]
    assert len(merged["t"]) <= 50 and period % HOUR == 0 and body["bars"] == 480
    expected = compute_indicators(validate_spec(strategy.spec), history.ohlcv())
    window = history.slice(100, 580)
    for index, t in enumerate(merged["t"]):
        bars = np.flatnonzero((window.ts >= t) & (window.ts < t + period))
        assert merged["o"][index] == window.open[bars[0]] and merged["c"][index] == window.close[bars[-1]]
        assert merged["h"][index] == window.high[bars].max() and merged["l"][index] == window.low[bars].min()
        assert merged["v"][index] == pytest.approx(window.volume[bars].sum(), rel=1e-12)
        assert body["indicators"]["slow"]["outputs"]["real"][index] == pytest.approx(expected["slow"][100 + bars[-1]])


def test_live_trades_and_paper_fills_are_markers_in_time_order(chart, strategy, history, db, redis):
    TradeLogRepository(db).upsert(
        [
            trade(strategy.id, history, 480, 495),
            trade(strategy.id, history, 510, 530, side="short"),
            trade(strategy.id, history, 560, None),
            {**trade(strategy.id, history, 520, None), "trade_id": "other", "strategy_id": str(ObjectId())},
        ]
    )
    fill = {"ts": int(history.ts[510]), "side": "sell", "size": 2.0, "price": 101.5, "commission": 0.2}
    redis.hset(
        keys.paper_fills(),
        mapping={
            client_order_id(strategy.id, SYMBOL, int(history.ts[509]), "open"): json.dumps(fill),
            client_order_id(strategy.id, f"{SYMBOL}-PERP", int(history.ts[509]), "open"): json.dumps(fill),
        },
    )
    body = chart(strategy.id)

    markers = list(zip(*(body["markers"][name] for name in ("time", "price", "side", "reason")), strict=True))
    assert markers == [
        (int(history.ts[480]), history.open[480], "buy", "enter_long"),
        (int(history.ts[495]), history.open[495], "sell", "signal"),
        (int(history.ts[510]), history.open[510], "sell", "enter_short"),
        (int(history.ts[530]), history.open[530], "buy", "signal"),
        (int(history.ts[560]), history.open[560], "buy", "enter_long"),
    ]
    assert body["fills"] == {
        "time": [fill["ts"]],
        "price": [101.5],
        "side": ["sell"],
        "size": [2.0],
        "commission": [0.2],
        "reason": ["open"],
    }
    later = chart(strategy.id, f"start={int(history.ts[500])}")
    assert later["markers"]["time"] == [int(history.ts[t]) for t in (510, 530, 560)]


def test_without_a_working_set_the_chart_is_the_stored_history(chart, strategy, history, redis):
    redis.delete(keys.closed_candles(SYMBOL, "1h"), keys.current_candle(SYMBOL, "1h"))
    body = chart(strategy.id)
    assert body["candles"]["t"] == history.ts[:STORED].tolist()
    assert body["live_from"] is None and body["forming"] is None and body["markers"]["time"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("symbol=btc/usdt", "symbol"),
        ("symbol=ETHUSDT", "symbol"),
        ("max_bars=0", "max_bars"),
        ("max_bars=20001", "max_bars"),
        ("start=2024-02-01&end=2024-01-01", "end"),
        ("end=later", "end"),
        ("colour=red", "colour"),
    ],
)
def test_bad_strategy_chart_arguments_are_a_422_naming_the_field(client, auth_headers, strategy, query, field):
    response = client.get(f"{URL}/{strategy.id}/chart?{query}", headers=auth_headers)
    assert response.status_code == 422 and field in response.json["errors"]["query"], response.json


@pytest.mark.parametrize("strategy_id", [str(ObjectId()), "nope"])
def test_the_chart_of_an_unknown_strategy_is_a_404(client, auth_headers, strategy_id):
    response = client.get(f"{URL}/{strategy_id}/chart", headers=auth_headers)
    assert response.status_code == 404 and response.json["message"] == "No strategy has this id."
