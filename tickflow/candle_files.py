"""Turn candle CSV files and JSON batches into :class:`Candles`, or say exactly what is wrong.

Both formats carry the same six fields, ``timestamp, open, high, low, close,
volume``:

* CSV: a header row naming the six columns in any case and any order; other
  columns are ignored (exchange exports carry trade counts, quote volume...).
  A UTF-8 byte-order mark and blank lines are fine.
* JSON: a list of objects with those keys (lower case), or an object whose
  ``candles`` key holds that list; other keys are ignored, so candles read
  from the API can be posted back. Prices may be numbers or numeric strings.

A timestamp is the candle's open time, either ISO-8601 (``2024-01-01T00:00:00Z``,
an offset such as ``+02:00`` is converted, no offset means UTC) or an epoch
number in one unit for the whole input, told by magnitude: below 10^11 is
seconds (10^11 s is the year 5138), from there to 10^14 milliseconds (10^11 ms
is March 1973). Larger numbers (micro-, nanoseconds) and times before 1970
are rejected.

The output is sorted by time. A timestamp that appears twice is an error
naming both places rather than a silent choice, since it usually means two
exports were concatenated or a time zone was mangled.

This module checks the format only; whether the candles make sense (aligned
to the timeframe, ``low <= open <= high``...) is the candle store's rule.
Every error is a :class:`CandleFormatError` with one line that says where
(``line 7, column Close`` or ``candles[5].close``) and why.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Callable
from typing import IO, Any

import numpy as np
import pandas as pd

from strategies.candles import PRICE_COLUMNS, Candles
from strategies.domain import iso_time
from tickflow.times import EPOCH_MILLISECONDS_BELOW, EPOCH_SECONDS_BELOW

FIELDS = ("timestamp", *PRICE_COLUMNS)

Locate = Callable[[int, "str | None"], str]
"""Where row ``label`` (and optionally a field) is in the input, for messages."""


class CandleFormatError(ValueError):
    """The input cannot be read as candles.

    ``where`` names the place (``line 7, column Close``, ``candles[5].close``)
    when there is one; ``str()`` is the one-line message ``where: reason``.
    """

    def __init__(self, reason: str, where: str | None = None):
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


def read_candles_csv(source: str | os.PathLike | IO[bytes]) -> Candles:
    """Parse a candle CSV file (a path or a binary file object)."""
    read = _csv_reader(source)
    try:
        header = read(nrows=0).columns
    except pd.errors.EmptyDataError:
        raise CandleFormatError(f"the file is empty: expected a header row naming {', '.join(FIELDS)}") from None
    names = _header_names(header)
    try:
        frame = _read_fields(read, names, "float64")
    except CandleFormatError:
        raise
    except ValueError:  # a price cell that is not a number: read them as text to say which
        frame = _read_fields(read, names, "str")
    frame = frame[~frame[list(FIELDS)].isna().all(axis=1)]  # blank lines; the index keeps line numbers

    def locate(row: int, field: str | None) -> str:
        return f"line {row + 2}" + (f", column {names[field]}" if field else "")

    return _to_candles(frame, locate)


def candles_from_json(payload: Any) -> Candles:
    """Parse a decoded JSON batch: a list of candle objects, or ``{"candles": [...]}``."""
    items = payload.get("candles") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise CandleFormatError('expected a list of candle objects, or an object {"candles": [...]}')
    not_object = next((i for i, item in enumerate(items) if not isinstance(item, dict)), None)
    if not_object is not None:
        raise CandleFormatError(f"expected an object with keys {', '.join(FIELDS)}", f"candles[{not_object}]")

    def locate(row: int, field: str | None) -> str:
        return f"candles[{row}]" + (f".{field}" if field else "")

    return _to_candles(pd.DataFrame(items, columns=list(FIELDS)), locate)


def _to_candles(frame: pd.DataFrame, locate: Locate) -> Candles:
    """Convert the six raw columns (rows labelled for ``locate``) into sorted candles."""
    if frame.empty:
        raise CandleFormatError("no candles: the input has no rows")
    labels = frame.index.to_numpy()
    ts = _epoch_ms(frame["timestamp"], labels, locate)
    prices = {field: _numbers(frame[field], field, labels, locate) for field in PRICE_COLUMNS}
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    repeats = np.flatnonzero(ts[1:] == ts[:-1])
    if len(repeats):
        later = order[repeats + 1]
        pick = int(np.argmin(later))
        first, second = labels[order[repeats[pick]]], labels[later[pick]]
        raise CandleFormatError(
            f"timestamp {iso_time(int(ts[repeats[pick]]))} repeats {locate(first, None)}", locate(second, None)
        )
    return Candles(ts, *(prices[field][order] for field in PRICE_COLUMNS))


def _epoch_ms(column: pd.Series, labels: np.ndarray, locate: Locate) -> np.ndarray:
    """Timestamps as int64 epoch ms, from ISO-8601 strings or epoch seconds/milliseconds."""
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind in ("integer", "floating", "mixed-integer-float"):
        ms = _epoch_numbers_ms(_floats(column), labels, locate)
    elif kind in ("string", "empty"):
        parsed = pd.to_datetime(column, utc=True, format="ISO8601", errors="coerce")
        _fail_at_first(
            parsed.isna().to_numpy(), column, "timestamp", labels, locate, "is not an ISO-8601 time or an epoch number"
        )
        ns = pd.DatetimeIndex(parsed).as_unit("ns").asi8
        _fail_at_first(ns % 1_000_000 != 0, column, "timestamp", labels, locate, "has a fraction of a millisecond")
        ms = ns // 1_000_000
    else:
        row = next(i for i, value in enumerate(column) if not isinstance(value, str) and not _is_missing(value))
        value = column.iloc[row]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        reason = (
            "is a number but other timestamps are ISO-8601 strings: use one form"
            if number
            else "is not an ISO-8601 time or an epoch number"
        )
        raise CandleFormatError(f"{_show(value)} {reason}", locate(labels[row], "timestamp"))
    before_1970 = np.flatnonzero(ms < 0)
    if len(before_1970):
        row = before_1970[0]
        raise CandleFormatError(f"{_show(column.iloc[row])} is before 1970", locate(labels[row], "timestamp"))
    return ms


def _epoch_numbers_ms(values: np.ndarray, labels: np.ndarray, locate: Locate) -> np.ndarray:
    """Epoch seconds or milliseconds (one unit for all, told by the first value's magnitude) as ms."""
    _fail_at_first(np.isnan(values), values, "timestamp", labels, locate, "is not a number")
    units = np.where(values < EPOCH_SECONDS_BELOW, 0, np.where(values < EPOCH_MILLISECONDS_BELOW, 1, 2))
    units[values < 0] = 3
    unit_names = ("epoch seconds", "epoch milliseconds", "too large for epoch milliseconds", "negative")
    if units[0] >= 2:
        raise CandleFormatError(f"{_show(values[0])} is {unit_names[units[0]]}", locate(labels[0], "timestamp"))
    odd = np.flatnonzero(units != units[0])
    if len(odd):
        row = odd[0]
        raise CandleFormatError(
            f"{_show(values[row])} is {unit_names[units[row]]} but {locate(labels[0], None)} is {unit_names[units[0]]}",
            locate(labels[row], "timestamp"),
        )
    scaled = values * (1000.0 if units[0] == 0 else 1.0)
    whole = np.rint(scaled)
    _fail_at_first(
        np.abs(scaled - whole) > 1e-3, values, "timestamp", labels, locate, "has a fraction of a millisecond"
    )
    return whole.astype(np.int64)


def _numbers(column: pd.Series, field: str, labels: np.ndarray, locate: Locate) -> np.ndarray:
    """A price or volume column as float64; a missing, non-numeric or infinite cell is an error."""
    values = _floats(column)
    _fail_at_first(~np.isfinite(values), column, field, labels, locate, "is not a number")
    return values


def _floats(column: pd.Series) -> np.ndarray:
    """A column as float64: NaN where a cell is no number, inf where it is too large for a float."""
    if column.dtype == bool or column.dtype == object:  # JSON true/false is no number
        column = column.where(~column.map(type).eq(bool))
    try:
        return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    except OverflowError:  # a JSON integer beyond float range; rare enough to go cell by cell
        return np.array([_float(value) for value in column], dtype=np.float64)


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return np.nan
    try:
        return float(value)
    except OverflowError:
        return np.inf
    except ValueError:
        return np.nan


def _fail_at_first(
    bad: np.ndarray, original: pd.Series | np.ndarray, field: str, labels: np.ndarray, locate: Locate, reason: str
) -> None:
    """Raise for the first ``bad`` row: missing, not finite (a number), or ``reason`` (anything else)."""
    rows = np.flatnonzero(bad)
    if not len(rows):
        return
    row = rows[0]
    value = original.iloc[row] if isinstance(original, pd.Series) else original[row]
    value = value.item() if isinstance(value, np.generic) else value
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        problem = "missing value"
    elif isinstance(value, float) and not np.isfinite(value):
        problem = f"{_show(value)} is not a finite number"
    else:
        problem = f"{_show(value)} {reason}"
    raise CandleFormatError(problem, locate(labels[row], field))


def _is_missing(value: Any) -> bool:
    """None or NaN: what pandas puts in an empty cell or for an absent JSON key."""
    return value is None or (isinstance(value, float) and value != value)


def _show(value: Any) -> str:
    """A cell as a message shows it: numbers plainly (1704067200, not 1704067200.0), text quoted, cut at 40."""
    value = value.item() if isinstance(value, np.generic) else value
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _header_names(header: pd.Index) -> dict[str, str]:
    """Map each field to the header column that holds it (case and surrounding spaces ignored)."""
    found: dict[str, str] = {}
    for actual in header:
        field = str(actual).strip().lower()
        if field in FIELDS:
            if field in found:
                raise CandleFormatError(f"columns {found[field]!r} and {actual!r} both name {field}", "line 1")
            found[field] = actual
    missing = [field for field in FIELDS if field not in found]
    if missing:
        raise CandleFormatError(
            f"missing column{'s' * (len(missing) > 1)} {', '.join(missing)} (the header must name {', '.join(FIELDS)})",
            "line 1",
        )
    return found


def _csv_reader(source: str | os.PathLike | IO[bytes]) -> Callable[..., pd.DataFrame]:
    """``pandas.read_csv`` over ``source`` from its beginning at every call.

    The header, the data and (only when a cell is bad) the data as text are
    separate reads, so a stream that cannot seek is buffered first.
    """
    if isinstance(source, (str, os.PathLike)):
        target: str | IO[bytes] = os.fspath(source)
        start = 0
    else:
        target = source if source.seekable() else io.BytesIO(source.read())
        start = target.tell()

    def read(**options: Any) -> pd.DataFrame:
        if not isinstance(target, str):
            target.seek(start)
        try:
            with warnings.catch_warnings():  # rows longer than the header: the extra fields are ignored
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                return pd.read_csv(target, encoding="utf-8-sig", engine="c", index_col=False, **options)
        except OSError as exc:
            raise CandleFormatError(f"cannot read {target}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise CandleFormatError(f"not UTF-8 text: byte {exc.object[exc.start]:#04x} cannot be decoded") from None
        except pd.errors.ParserError as exc:
            raise _parser_error(exc) from None

    return read


def _read_fields(read: Callable[..., pd.DataFrame], names: dict[str, str], price_type: str) -> pd.DataFrame:
    """The six fields, renamed to their canonical names; blank lines kept so row ``i`` is line ``i + 2``.

    Every column is parsed and the others dropped afterwards: ``usecols`` would
    make reading a million rows 60% slower.
    """
    frame = read(dtype={names[field]: price_type for field in PRICE_COLUMNS}, skip_blank_lines=False)
    return frame[list(names.values())].set_axis(list(names), axis=1)


def _parser_error(exc: Exception) -> CandleFormatError:
    """pandas' "Error tokenizing data. C error: Expected 6 fields in line 9, saw 7", said plainly."""
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if match:
        expected, line, saw = match.groups()
        return CandleFormatError(f"{saw} fields where {expected} were expected", f"line {line}")
    return CandleFormatError(f"not a valid CSV file: {' '.join(str(exc).split())}")
