"""``/api/v1/candles``: import historical candles, download them from the venue, read them a page at a time,
list what is stored.

``POST /{symbol}/{timeframe}`` takes a CSV file (multipart field ``file``, or
the body itself as ``text/csv``) or a JSON batch, in the formats of
:mod:`tickflow.candle_files`, and merges it into the stored series exactly
like ``tickflow import-candles``. A problem with the input is a 422 naming
the place in it; nothing is written then. ``POST /{symbol}/{timeframe}/download``
runs ``tickflow download-candles`` as a background job (``tasks.backtests.download_candles``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.schemas import MAX_PAGE, RangeArgsSchema, TimeField, page_of, page_schema
from strategies.candles import TIMEFRAME_MS, Candles
from strategies.candles import resample as resample_candles
from strategies.domain import iso_time
from tasks.backtests import EnqueueFailed, submit_download
from tickflow.candle_files import CandleFormatError, candles_from_json, read_candles_csv
from tickflow.settings import SettingsError
from tickflow.storage.candles import (
    CandleDataError,
    CandleStore,
    check_timeframe,
    normalize_symbol,
)
from tickflow.storage.connections import mongo_db
from tickflow.storage.downloads import STATES, DownloadRepository, DownloadRunning

blp = Blueprint("candles", __name__, url_prefix="/api/v1/candles", description="Historical candles")

MAX_PER_PAGE = 5000
DEFAULT_PER_PAGE = 1000
PAGED = ("start", "end", "page", "per_page")
CSV_MEDIA_TYPES = frozenset({"text/csv", "application/csv"})

_IMPORT_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        "text/csv": {
            "schema": {"type": "string"},
            "example": "timestamp,open,high,low,close,volume\n2024-01-01T00:00:00Z,100,101,99.5,100.5,12.3\n",
        },
        "application/json": {
            "schema": {"type": "array", "items": {"type": "object"}},
            "example": [
                {
                    "timestamp": "2024-01-01T00:00:00Z",
                    "open": 100,
                    "high": 101,
                    "low": 99.5,
                    "close": 100.5,
                    "volume": 12.3,
                }
            ],
        },
    },
}


class CandleQuerySchema(RangeArgsSchema):
    page = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE), metadata={"description": "Default 1"})
    per_page = fields.Integer(
        validate=validate.Range(min=1, max=MAX_PER_PAGE), metadata={"description": f"Default {DEFAULT_PER_PAGE}"}
    )
    before = TimeField(
        metadata={"description": "The last `limit` candles opened before this time (instead of a range and pages)"}
    )
    limit = fields.Integer(
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={
            "description": f"How many of the last candles (before `before`, if given); default {DEFAULT_PER_PAGE}"
        },
    )
    resample = fields.String(
        validate=validate.OneOf(list(TIMEFRAME_MS)),
        metadata={"description": "A coarser timeframe to merge the stored candles into, by OHLCV rules"},
    )

    @validates_schema
    def _one_way_of_choosing(self, data: dict[str, Any], **kwargs: Any) -> None:
        """``before``/``limit`` pick the last candles; a range and pages pick others: not both."""
        if "before" in data or "limit" in data:
            clashing = {name: ["cannot be combined with before or limit"] for name in PAGED if name in data}
            if clashing:
                raise ValidationError(clashing)


class CandleSchema(Schema):
    timestamp = fields.String(metadata={"description": "Open time, ISO-8601 UTC"})
    ts = fields.Integer(metadata={"description": "Open time, epoch milliseconds"})
    open = fields.Float()
    high = fields.Float()
    low = fields.Float()
    close = fields.Float()
    volume = fields.Float()


CandlePageSchema = page_schema(
    CandleSchema,
    "CandlePage",
    symbol=fields.String(),
    timeframe=fields.String(metadata={"description": "The candles' timeframe: `resample`'s when given"}),
    stored_timeframe=fields.String(metadata={"description": "The timeframe they were read in (the URL's)"}),
)


class ImportSummarySchema(Schema):
    symbol = fields.String()
    timeframe = fields.String()
    received = fields.Integer(metadata={"description": "Candles in the request"})
    inserted = fields.Integer(metadata={"description": "Candles at timestamps not stored before"})
    updated = fields.Integer(metadata={"description": "Stored candles whose values changed"})
    unchanged = fields.Integer(metadata={"description": "Stored candles sent again with the same values"})
    buckets_written = fields.Integer()
    first_ts = fields.Integer()
    last_ts = fields.Integer()


class SeriesSchema(Schema):
    symbol = fields.String()
    timeframe = fields.String()
    first_ts = fields.Integer(metadata={"description": "Open time of the first candle, epoch ms"})
    last_ts = fields.Integer(metadata={"description": "Open time of the last candle, epoch ms"})
    first = fields.String(metadata={"description": "first_ts as ISO-8601 UTC"})
    last = fields.String(metadata={"description": "last_ts as ISO-8601 UTC"})
    count = fields.Integer()


class SeriesListSchema(Schema):
    items = fields.List(fields.Nested(SeriesSchema))


@blp.route("")
class CandleSeriesList(MethodView):
    @blp.response(200, SeriesListSchema)
    def get(self):
        """List every stored symbol and timeframe with its time range and candle count."""
        return {
            "items": [
                {**vars(found), "first": iso_time(found.first_ts), "last": iso_time(found.last_ts)}
                for found in CandleStore(mongo_db()).ranges()
            ]
        }


@blp.route("/<symbol>/<timeframe>")
class CandleSeries(MethodView):
    @blp.arguments(CandleQuerySchema, location="query", as_kwargs=True, unknown=RAISE)  # a typo is an error
    @blp.response(200, CandlePageSchema)
    @blp.alt_response(422, schema="Error", description="A bad symbol, timeframe or query argument, named.")
    def get(
        self,
        symbol: str,
        timeframe: str,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        start: int | None = None,
        end: int | None = None,
        before: int | None = None,
        limit: int | None = None,
        resample: str | None = None,
    ):
        """Read candles oldest first: in a time range a page at a time, or the last ``limit`` before a time;
        in the stored timeframe or merged into a coarser one (``resample``)."""
        symbol, timeframe = _series(symbol, timeframe)
        shown = resample or timeframe
        period = _period(timeframe, shown)
        store = CandleStore(mongo_db())
        about = {"symbol": symbol, "timeframe": shown, "stored_timeframe": timeframe}
        if before is not None or limit is not None:
            limit = limit or DEFAULT_PER_PAGE
            candles = _last(store, symbol, timeframe, before, limit, period)
            return page_of(_rows(candles), 1, limit, len(candles), **about)
        offset = (page - 1) * per_page
        if shown == timeframe:
            candles, total = store.page(symbol, timeframe, start, end, offset, per_page)
        else:  # whole periods: the range is widened to the periods its ends fall in
            first = None if start is None else start // period * period
            last = None if end is None else -(-end // period) * period
            merged = resample_candles(store.load(symbol, timeframe, first, last), period)
            candles, total = merged.slice(offset, offset + per_page), len(merged)
        return page_of(_rows(candles), page, per_page, total, **about)

    @blp.doc(requestBody=_IMPORT_BODY)
    @blp.response(200, ImportSummarySchema, description="Imported; no candle was new")
    @blp.alt_response(201, schema=ImportSummarySchema, description="Imported; some candles were new")
    def post(self, symbol: str, timeframe: str):
        """Import candles from a CSV file or a JSON batch; new values win for timestamps already stored."""
        symbol, timeframe = _series(symbol, timeframe)
        candles, location, field = _body_candles()
        try:
            summary = CandleStore(mongo_db()).upsert(symbol, timeframe, candles)
        except CandleDataError as exc:
            abort(422, message=f"The candles are invalid: {exc}", errors={location: {field: [str(exc)]}})
        return {"symbol": symbol, "timeframe": timeframe, **vars(summary)}, 201 if summary.inserted else 200


class DownloadRequestSchema(Schema):
    since = TimeField(required=True, metadata={"description": "First candle wanted: ISO-8601 or epoch seconds or ms"})
    until = TimeField(metadata={"description": "Where the range ends (excluded); default: the last closed candle"})

    @validates_schema
    def _until_after_since(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("until") is not None and data["until"] <= data["since"]:
            raise ValidationError("must be after since", "until")


class DownloadGapSchema(Schema):
    first = fields.Integer(required=True, metadata={"description": "First missing open time (epoch ms)"})
    last = fields.Integer(required=True, metadata={"description": "Last missing open time (epoch ms)"})
    missing = fields.Integer(required=True)


class DownloadReportSchema(Schema):
    start = fields.Integer(metadata={"description": "The closed candles asked for: from (epoch ms)"})
    end = fields.Integer(metadata={"description": "to (excluded)"})
    already_present = fields.Integer()
    fetched = fields.Integer()
    inserted = fields.Integer()
    updated = fields.Integer()
    pages = fields.Integer()
    waited_s = fields.Float(metadata={"description": "Time spent waiting out the venue's Retry-After"})
    gaps = fields.List(fields.Nested(DownloadGapSchema), metadata={"description": "Listed, never filled"})


class DownloadSchema(Schema):
    id = fields.String(required=True, attribute="_id")
    exchange = fields.String(required=True)
    symbol = fields.String(required=True)
    timeframe = fields.String(required=True)
    since = fields.Integer(required=True)
    until = fields.Integer(allow_none=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    done = fields.Integer(required=True, metadata={"description": "Candle slots done"})
    total = fields.Integer(required=True, metadata={"description": "Candle slots to fetch (0 until known)"})
    report = fields.Nested(DownloadReportSchema, metadata={"description": "Once done"})
    error = fields.String(metadata={"description": "Why it failed"})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


@blp.route("/<symbol>/<timeframe>/download")
class Download(MethodView):
    @blp.arguments(DownloadRequestSchema)
    @blp.response(202, DownloadSchema)
    @blp.alt_response(409, schema="Error", description="The series is downloading already.")
    @blp.alt_response(422, schema="Error", description="A bad symbol, timeframe, since or until, named.")
    @blp.alt_response(503, schema="Error", description="The task queue or the exchange settings are unusable.")
    def post(self, body: dict[str, Any], symbol: str, timeframe: str):
        """Download the venue's closed candles of ``[since, until)`` the store lacks, as a background job:
        paged, resumable, at the venue's pace; gaps the venue reports are listed, not filled. Progress comes
        as ``job`` events (``kind`` download) on the live stream and from ``GET`` here."""
        symbol, timeframe = _series(symbol, timeframe)
        try:
            return submit_download(mongo_db(), symbol, timeframe, body["since"], body.get("until"))
        except DownloadRunning as error:
            abort(409, message=f"{error}; follow it with GET {request.path}.")
        except (EnqueueFailed, SettingsError) as error:
            abort(503, message=f"The download could not start: {error}.")

    @blp.response(200, DownloadSchema)
    @blp.alt_response(404, schema="Error", description="The series was never downloaded.")
    def get(self, symbol: str, timeframe: str):
        """The series' latest download: its state, progress and, once done, its report."""
        symbol, timeframe = _series(symbol, timeframe)
        latest = DownloadRepository(mongo_db()).latest(symbol, timeframe)
        if latest is None:
            abort(404, message=f"{symbol} {timeframe} was never downloaded.")
        return latest


def _series(symbol: str, timeframe: str) -> tuple[str, str]:
    """The normalised symbol and the timeframe of the URL; 422 naming the bad one."""
    problems: dict[str, list[str]] = {}
    try:
        symbol = normalize_symbol(symbol)
    except CandleDataError as exc:
        problems["symbol"] = [str(exc)]
    try:
        check_timeframe(timeframe)
    except CandleDataError as exc:
        problems["timeframe"] = [str(exc)]
    if problems:
        abort(422, message="The symbol or timeframe in the URL is not valid.", errors={"path": problems})
    return symbol, timeframe


def _period(timeframe: str, resample: str) -> int:
    """The length of the candles shown (ms); 422 naming ``resample`` when it is finer than ``timeframe``."""
    period, step = TIMEFRAME_MS[resample], TIMEFRAME_MS[timeframe]
    if period < step or period % step:
        problem = f"must be a timeframe coarser than {timeframe} ({', '.join(_coarser(timeframe))})"
        abort(422, message="The candles cannot be resampled so.", errors={"query": {"resample": [problem]}})
    return period


def _coarser(timeframe: str) -> list[str]:
    step = TIMEFRAME_MS[timeframe]
    return [name for name, period in TIMEFRAME_MS.items() if period >= step and period % step == 0]


def _last(store: CandleStore, symbol: str, timeframe: str, before: int | None, limit: int, period: int) -> Candles:
    """The last ``limit`` candles of ``period`` opened before ``before``.

    Merged candles come from the last ``limit`` periods' worth of stored bars, widened to the
    start of the first period they touch, so that the first merged candle is whole; with gaps in
    the history that can be fewer than ``limit``.
    """
    step = TIMEFRAME_MS[timeframe]
    bars = store.last(symbol, timeframe, before, limit * (period // step))
    if period == step or not len(bars):
        return bars
    whole = store.load(symbol, timeframe, int(bars.ts[0]) // period * period, before)
    merged = resample_candles(whole, period)
    return merged.slice(-limit, None)


def _body_candles() -> tuple[Candles, str, str]:
    """The candles in the body, and where a problem with them is reported (location, field)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            abort(
                422,
                message="Upload the CSV file as the multipart field 'file'.",
                errors={"files": {"file": ["Missing data for required field."]}},
            )
        return _parse(read_candles_csv, upload.stream, "files", "file")
    if request.mimetype in CSV_MEDIA_TYPES:
        return _parse(read_candles_csv, request.stream, "body", "csv")
    if request.is_json:
        try:
            payload = request.get_json()  # 400 itself when malformed
        except RecursionError:
            abort(400, message="The JSON body is nested too deeply.")
        return _parse(candles_from_json, payload, "json", "candles")
    abort(415, message="Send candles as a CSV file (multipart field 'file', or a text/csv body) or as JSON.")


def _parse(parse: Callable[[Any], Candles], source: Any, location: str, field: str) -> tuple[Candles, str, str]:
    try:
        return parse(source), location, field
    except CandleFormatError as exc:
        # JSON errors name a path inside the body; CSV errors a line, which is no field.
        problem = {exc.where: [exc.reason]} if location == "json" and exc.where else {field: [str(exc)]}
        abort(422, message=f"The candles cannot be read: {exc}", errors={location: problem})


def _rows(candles: Candles) -> list[dict[str, Any]]:
    """Candles as the API shows them, built column-wise: thousands per page."""
    columns = {
        "timestamp": _iso(candles.ts),
        "ts": candles.ts.tolist(),
        **{name: values.tolist() for name, values in candles.ohlcv().items()},
    }
    return [dict(zip(columns, row)) for row in zip(*columns.values())]


def _iso(ts: np.ndarray) -> list[str]:
    """Epoch ms as ``2024-01-01T00:00:00Z``; candles open on whole minutes, so seconds suffice."""
    return [text + "Z" for text in np.datetime_as_string(ts.astype("datetime64[ms]"), unit="s").tolist()]
