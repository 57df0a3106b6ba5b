"""Reading candle CSV files and JSON batches: accepted variants, and one-line errors that say where."""

import io

import numpy as np
import pytest

from strategies.candles import COLUMNS
from tickflow.candle_files import CandleFormatError, candles_from_json, read_candles_csv
from tickflow.synthetic import generate_candles

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
HEADER = "timestamp,open,high,low,close,volume\n"


def csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def rows(candles) -> list[tuple]:
    return list(zip(*(getattr(candles, name).tolist() for name in COLUMNS)))


def format_error(parse, source) -> str:
    with pytest.raises(CandleFormatError) as raised:
        parse(source)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_a_written_file_reads_back_bit_for_bit(tmp_path):
    candles = generate_candles(2000, seed=5)
    path = tmp_path / "candles.csv"
    lines = [HEADER] + [f"{ts},{o!r},{h!r},{l!r},{c!r},{v!r}\n" for ts, o, h, l, c, v in rows(candles)]
    path.write_text("".join(lines))

    loaded = read_candles_csv(path)

    for name in COLUMNS:
        assert getattr(loaded, name).tobytes() == getattr(candles, name).tobytes(), name


def test_columns_may_come_in_any_case_and_order_with_extra_columns_ignored():
    loaded = read_candles_csv(
        csv(" Close ,VOLUME,trades,Timestamp,High,low,Open\n1.5,10,7,2024-01-01T00:00:00Z,2,0.5,1\n")
    )
    assert rows(loaded) == [(T0, 1.0, 2.0, 0.5, 1.5, 10.0)]


def test_a_byte_order_mark_blank_lines_and_a_missing_final_newline_are_fine():
    loaded = read_candles_csv(
        io.BytesIO(b"\xef\xbb\xbf" + (HEADER + "\n1704067200,1,2,0.5,1.5,10\n\n1704067260,1,2,0.5,1.5,11").encode())
    )
    assert loaded.ts.tolist() == [T0, T0 + 60_000]


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00",
        "2024-01-01 00:00:00",
        "2024-01-01T00:00",
        "2024-01-01T02:00:00+02:00",
        "2023-12-31T19:00:00-05:00",
        "2024-01-01T00:00:00.000Z",
        "2024-01-01",
        "1704067200",
        "1704067200000",
        "1704067200.0",
    ],
)
def test_timestamps_are_iso_8601_with_or_without_offset_or_epoch_seconds_or_milliseconds(stamp):
    assert read_candles_csv(csv(HEADER + f"{stamp},1,2,0.5,1.5,10\n")).ts.tolist() == [T0]


def test_epoch_units_are_told_apart_by_magnitude_at_ten_to_the_eleven():
    assert read_candles_csv(csv(HEADER + "99999999960,1,2,0.5,1.5,10\n")).ts.tolist() == [99_999_999_960_000]
    assert read_candles_csv(csv(HEADER + "100000020000,1,2,0.5,1.5,10\n")).ts.tolist() == [100_000_020_000]


@pytest.mark.parametrize(
    "stamp", ["2024-01-01T00:00:00.0000001Z", "2024-01-01T00:00:00.0005Z", "1704067200.0004", "1704067200000.5"]
)
def test_a_time_finer_than_a_millisecond_is_an_error_not_truncated_onto_another_candle(stamp):
    message = format_error(read_candles_csv, csv(HEADER + f"{stamp},1,2,0.5,1.5,10\n"))
    assert message.endswith("has a fraction of a millisecond")
    assert "line 2" in message


def test_rows_come_out_sorted_by_time():
    loaded = read_candles_csv(csv(HEADER + "1704067320,3,3,3,3,3\n1704067200,1,1,1,1,1\n1704067260,2,2,2,2,2\n"))
    assert loaded.ts.tolist() == [T0, T0 + 60_000, T0 + 120_000]
    assert loaded.open.tolist() == [1.0, 2.0, 3.0]


def test_a_file_object_that_cannot_seek_is_read_too():
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    assert len(read_candles_csv(io.BufferedReader(Pipe((HEADER + "1704067200,1,2,0.5,1.5,10\n").encode())))) == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the file is empty: expected a header row naming timestamp, open, high, low, close, volume"),
        (HEADER, "no candles: the input has no rows"),
        (
            "timestamp,open,high,low,close\n1,2,3,4,5\n",
            "line 1: missing column volume (the header must name timestamp, open, high, low, close, volume)",
        ),
        ("Time,open,high,low,close,vol\n", "line 1: missing columns timestamp, volume"),
        ("timestamp,open,high,low,Close,close,volume\n", "line 1: columns 'Close' and 'close' both name close"),
        (
            HEADER + "1704067200,1,2,0.5,1.5,10\n1704067260,1,2,0.5,abc,10\n",
            "line 3, column close: 'abc' is not a number",
        ),
        (
            "Timestamp,Open,High,Low,Close,Volume\n1704067200,1,2,0.5,1.5,10\n\n1704067320,1,2,,1.5,10\n",
            "line 4, column Low: missing value",
        ),
        (HEADER + "1704067200,1,2,0.5,1.5,inf\n", "line 2, column volume: inf is not a finite number"),
        (HEADER + "1704067200,1,2,0.5\n", "line 2, column close: missing value"),
        (
            HEADER + "1704067200,1,2,0.5,1.5,10,extra\n1704067260,1,2,0.5,1.5,10\n1704067320,1,2,0.5,1.5,10,x,y\n",
            "line 4: 8 fields where 7 were expected",
        ),
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\nyesterday,1,2,0.5,1.5,10\n",
            "line 3, column timestamp: 'yesterday' is not an ISO-8601 time or an epoch number",
        ),
        (HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n,1,2,0.5,1.5,10\n", "line 3, column timestamp: missing value"),
        (
            HEADER + "1704067200,1,2,0.5,1.5,10\n1704067260000,1,2,0.5,1.5,10\n",
            "line 3, column timestamp: 1704067260000 is epoch milliseconds but line 2 is epoch seconds",
        ),
        (
            HEADER + "1704067200000000,1,2,0.5,1.5,10\n",
            "line 2, column timestamp: 1704067200000000 is too large for epoch milliseconds",
        ),
        (HEADER + "-60,1,2,0.5,1.5,10\n", "line 2, column timestamp: -60 is negative"),
        (
            HEADER + "1969-12-31T23:59:00Z,1,2,0.5,1.5,10\n",
            "line 2, column timestamp: '1969-12-31T23:59:00Z' is before 1970",
        ),
        (
            HEADER + "2024-01-01T00:01:00Z,1,2,0.5,1.5,10\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n"
            "2024-01-01T01:00:00+01:00,1,2,0.5,1.5,10\n",
            "line 4: timestamp 2024-01-01T00:00:00Z repeats line 3",
        ),
    ],
)
def test_bad_input_is_one_error_naming_the_line_and_column(text, message):
    assert format_error(read_candles_csv, csv(text)).startswith(message)


def test_bytes_that_are_not_utf_8_are_an_error():
    not_utf8 = io.BytesIO(HEADER.encode() + b"1704067200,\xff,2,0.5,1.5,10\n")
    assert format_error(read_candles_csv, not_utf8).startswith("not UTF-8 text")


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "nope.csv"
    assert format_error(read_candles_csv, missing) == f"cannot read {missing}: No such file or directory"


def test_format_errors_carry_the_place_and_the_reason_apart():
    with pytest.raises(CandleFormatError) as raised:
        read_candles_csv(csv(HEADER + "1704067200,1,2,0.5,x,10\n"))
    assert (raised.value.where, raised.value.reason) == ("line 2, column close", "'x' is not a number")


def test_a_json_batch_is_a_list_of_candle_objects_or_an_object_holding_one():
    batch = [
        {"timestamp": "2024-01-01T00:01:00Z", "open": 1, "high": 2, "low": 0.5, "close": 1.5, "volume": 10, "ts": 0},
        {"timestamp": "2024-01-01T00:00:00Z", "open": "1.25", "high": 2.0, "low": 0.5, "close": 1.5, "volume": 0},
    ]
    for payload in (batch, {"candles": batch}):
        loaded = candles_from_json(payload)
        assert rows(loaded) == [(T0, 1.25, 2.0, 0.5, 1.5, 0.0), (T0 + 60_000, 1.0, 2.0, 0.5, 1.5, 10.0)]
    assert candles_from_json([{"timestamp": T0, "open": 1, "high": 1, "low": 1, "close": 1, "volume": 1}]).ts[0] == T0


def candle(**changes):
    return {"timestamp": "2024-01-01T00:00:00Z", "open": 1, "high": 2, "low": 0.5, "close": 1.5, "volume": 1, **changes}


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"rows": []}, 'expected a list of candle objects, or an object {"candles": [...]}'),
        ("candles", "expected a list of candle objects"),
        ([], "no candles: the input has no rows"),
        ([candle(), 5], "candles[1]: expected an object with keys timestamp, open, high, low, close, volume"),
        (
            [{"timestamp": "2024-01-01T00:00:00Z", "open": 1, "high": 2, "low": 0.5, "volume": 1}],
            "candles[0].close: missing value",
        ),
        ([candle(), candle(timestamp="2024-01-01T00:01:00Z", high="two")], "candles[1].high: 'two' is not a number"),
        ([candle(open=None)], "candles[0].open: missing value"),
        ([candle(volume=[1])], "candles[0].volume: [1] is not a number"),
        ([candle(close=True)], "candles[0].close: True is not a number"),
        ([candle(), candle(timestamp="2024-01-01T00:01:00Z", open=False)], "candles[1].open: False is not a number"),
        (
            [candle(timestamp=1704067260), candle()],
            "candles[0].timestamp: 1704067260 is a number but other timestamps are ISO-8601 strings",
        ),
        (
            [candle(), candle(timestamp="2024-01-01T01:00:00+01:00")],
            "candles[1]: timestamp 2024-01-01T00:00:00Z repeats candles[0]",
        ),
    ],
)
def test_bad_json_batches_are_one_error_naming_the_candle_and_field(payload, message):
    assert format_error(candles_from_json, payload).startswith(message)


@pytest.mark.timeout(60)
def test_a_million_row_file_parses_bit_for_bit(tmp_path):

    candles = generate_candles(1_000_000)
    path = tmp_path / "big.csv"
    table = np.column_stack([getattr(candles, name) for name in COLUMNS])
    np.savetxt(path, table, fmt=["%d"] + ["%.17g"] * 5, delimiter=",", header=HEADER.strip(), comments="")

    loaded = read_candles_csv(path)

    assert loaded.ts.tobytes() == candles.ts.tobytes()
    assert loaded.close.tobytes() == candles.close.tobytes()
