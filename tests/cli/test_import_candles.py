"""``tickflow import-candles`` and ``tickflow candles``: imports with a summary, one-line errors."""

import re

import pytest

from cli.main import main
from strategies.candles import COLUMNS
from tickflow.storage.candles import CandleStore
from tickflow.storage.schema import HISTORICAL_CANDLES
from tickflow.synthetic import generate_candles

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
HEADER = "timestamp,open,high,low,close,volume\n"


@pytest.fixture
def candle_file(tmp_path):
    """3,000 1m candles from 2024-01-01 00:00 UTC as a CSV file, and the candles."""
    candles = generate_candles(3000, start_ms=T0)
    rows = zip(*(getattr(candles, name).tolist() for name in COLUMNS))
    path = tmp_path / "btc.csv"
    path.write_text(HEADER + "".join(f"{ts},{o!r},{h!r},{l!r},{c!r},{v!r}\n" for ts, o, h, l, c, v in rows))
    return path, candles


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_importing_a_file_stores_its_candles_and_prints_a_summary_line(db, candle_file, capsys):
    path, candles = candle_file

    assert main(["import-candles", str(path), "--symbol", "btcusdt", "--timeframe", "1m"]) == 0

    out = capsys.readouterr().out
    assert re.fullmatch(
        r"imported 3,000 candles of BTCUSDT 1m \(2024-01-01 00:00 → 2024-01-03 01:59 UTC\): "
        r"3,000 new, 0 updated, 0 unchanged in \d+\.\d s\n",
        out,
    ), out
    assert CandleStore(db).load("BTCUSDT", "1m").close.tobytes() == candles.close.tobytes()


def test_importing_the_same_file_again_reports_every_candle_unchanged(db, candle_file, capsys):
    path, _ = candle_file
    main(["import-candles", str(path), "-s", "BTCUSDT", "-t", "1m"])
    capsys.readouterr()

    assert main(["import-candles", str(path), "-s", "BTCUSDT", "-t", "1m"]) == 0
    assert ": 0 new, 0 updated, 3,000 unchanged in " in capsys.readouterr().out


@pytest.mark.parametrize(
    "text, reason",
    [
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,1,2,0.5,oops,10\n",
            "line 3, column close: 'oops' is not a number",
        ),
        ("time,open,high,low,close,volume\n", "line 1: missing column timestamp"),
        ("", "the file is empty"),
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:00:30Z,1,2,0.5,1.5,10\n",
            "candle 2024-01-01T00:00:30Z: is not aligned to 1m",
        ),
        (
            HEADER + "2024-01-01T00:00:00Z,1,0.9,0.5,1.5,10\n",
            "candle 2024-01-01T00:00:00Z: high 0.9 is below max(open, close)",
        ),
    ],
)
def test_a_bad_file_fails_with_one_line_naming_the_problem_and_writes_nothing(db, tmp_path, capsys, text, reason):
    path = tmp_path / "bad.csv"
    path.write_text(text)

    assert main(["import-candles", str(path), "--symbol", "BTCUSDT", "--timeframe", "1m"]) == 1

    assert one_error_line(capsys).startswith(f"tickflow: {path}: {reason}")
    assert db[HISTORICAL_CANDLES].count_documents({}) == 0


@pytest.mark.parametrize(
    "arguments, mentioned",
    [
        (["--symbol", "BTC/USDT", "--timeframe", "1m"], "symbol"),
        (["--symbol", "BTCUSDT", "--timeframe", "2m"], "timeframe"),
        (["--symbol", "BTCUSDT"], "timeframe"),
    ],
)
def test_a_bad_symbol_or_timeframe_is_a_usage_error_in_one_line(db, candle_file, capsys, arguments, mentioned):
    path, _ = candle_file
    assert main(["import-candles", str(path), *arguments]) == 2
    assert mentioned in one_error_line(capsys)


def test_a_missing_file_is_a_usage_error_in_one_line(db, tmp_path, capsys):
    assert main(["import-candles", str(tmp_path / "nope.csv"), "-s", "BTCUSDT", "-t", "1m"]) == 2
    assert "nope.csv" in one_error_line(capsys)


def test_candles_list_shows_each_series_with_its_range_and_count(db, capsys):
    store = CandleStore(db)
    store.upsert("BTCUSDT", "1m", generate_candles(1500, start_ms=T0))
    store.upsert("ETHUSDT", "1h", generate_candles(24, "1h", start_ms=T0))

    assert main(["candles", "list"]) == 0

    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        "BTCUSDT 1m 2024-01-01 00:00 → 2024-01-02 00:59 UTC 1,500 candles",
        "ETHUSDT 1h 2024-01-01 00:00 → 2024-01-01 23:00 UTC 24 candles",
    ]


def test_candles_list_says_when_nothing_is_stored(db, capsys):
    assert main(["candles", "list"]) == 0
    assert capsys.readouterr().out.startswith("no candles stored")


def test_candles_delete_removes_one_series(db, capsys):
    store = CandleStore(db)
    store.upsert("BTCUSDT", "1m", generate_candles(100, start_ms=T0))
    store.upsert("BTCUSDT", "5m", generate_candles(100, "5m", start_ms=T0))

    assert main(["candles", "delete", "--symbol", "btcusdt", "--timeframe", "1m", "--yes"]) == 0

    assert capsys.readouterr().out == "deleted 100 candles of BTCUSDT 1m\n"
    assert [(r.symbol, r.timeframe) for r in store.ranges()] == [("BTCUSDT", "5m")]
