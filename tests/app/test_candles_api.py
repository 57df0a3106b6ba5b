"""``/api/v1/candles``: uploads (multipart, text/csv, JSON), paging, listing, and bad input as 4xx."""

import io

import numpy as np
import pytest

from strategies.candles import COLUMNS, Candles
from tickflow.storage import connections
from tickflow.storage.candles import CandleStore
from tickflow.storage.schema import HISTORICAL_CANDLES
from tickflow.synthetic import generate_candles

URL = "/api/v1/candles"
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
HEADER = "timestamp,open,high,low,close,volume\n"


def csv_of(candles) -> bytes:
    rows = zip(*(getattr(candles, name).tolist() for name in COLUMNS))
    return (HEADER + "".join(f"{ts},{o!r},{h!r},{l!r},{c!r},{v!r}\n" for ts, o, h, l, c, v in rows)).encode()


def multipart(data: bytes, name: str = "candles.csv") -> dict:
    return {"file": (io.BytesIO(data), name)}


def test_a_csv_upload_is_imported_and_answers_201_with_the_summary(client, auth_headers, db):
    candles = generate_candles(3000, start_ms=T0)

    response = client.post(
        f"{URL}/btcusdt/1m", data=multipart(csv_of(candles)), headers=auth_headers, content_type="multipart/form-data"
    )

    assert response.status_code == 201
    assert response.json == {
        "symbol": "BTCUSDT",
        "timeframe": "1m",
        "received": 3000,
        "inserted": 3000,
        "updated": 0,
        "unchanged": 0,
        "buckets_written": 3,
        "first_ts": T0,
        "last_ts": T0 + 2999 * 60_000,
    }
    assert CandleStore(db).load("BTCUSDT", "1m").close.tobytes() == candles.close.tobytes()


def test_uploading_the_same_candles_again_answers_200_and_changes_nothing(client, auth_headers):
    body = csv_of(generate_candles(100, start_ms=T0))
    client.post(f"{URL}/BTCUSDT/1m", data=body, headers=auth_headers, content_type="text/csv")

    response = client.post(f"{URL}/BTCUSDT/1m", data=body, headers=auth_headers, content_type="text/csv")

    assert response.status_code == 200
    assert (response.json["inserted"], response.json["unchanged"], response.json["buckets_written"]) == (0, 100, 0)


def test_a_json_batch_is_imported(client, auth_headers, db):
    batch = [
        {"timestamp": "2024-01-01T00:01:00Z", "open": 1, "high": 2, "low": 0.5, "close": 1.5, "volume": 3},
        {"timestamp": "2024-01-01T00:00:00Z", "open": 1, "high": 2, "low": 0.5, "close": 1.25, "volume": 3},
    ]

    response = client.post(f"{URL}/ETHUSDT/1m", json=batch, headers=auth_headers)

    assert response.status_code == 201 and response.json["inserted"] == 2
    assert CandleStore(db).load("ETHUSDT", "1m").close.tolist() == [1.25, 1.5]


def test_candles_read_from_the_api_can_be_posted_back_unchanged(client, auth_headers):
    client.post(
        f"{URL}/BTCUSDT/5m",
        data=csv_of(generate_candles(50, "5m", start_ms=T0)),
        headers=auth_headers,
        content_type="text/csv",
    )
    page = client.get(f"{URL}/BTCUSDT/5m", headers=auth_headers).json

    response = client.post(f"{URL}/BTCUSDT/5m", json={"candles": page["items"]}, headers=auth_headers)

    assert response.status_code == 200 and response.json["unchanged"] == 50


def test_reading_pages_through_a_range_oldest_first(client, auth_headers):
    candles = generate_candles(3000, start_ms=T0)
    client.post(f"{URL}/BTCUSDT/1m", data=csv_of(candles), headers=auth_headers, content_type="text/csv")

    response = client.get(
        f"{URL}/btcusdt/1m?start=2024-01-01T00:10:00Z&end={T0 + 2010 * 60_000}&page=2&per_page=700",
        headers=auth_headers,
    )

    assert response.status_code == 200
    body = response.json
    assert (body["symbol"], body["timeframe"], body["page"], body["per_page"], body["total"], body["pages"]) == (
        "BTCUSDT",
        "1m",
        2,
        700,
        2000,
        3,
    )
    first = body["items"][0]
    assert first == {
        "timestamp": "2024-01-01T11:50:00Z",
        "ts": T0 + 710 * 60_000,
        "open": candles.open[710],
        "high": candles.high[710],
        "low": candles.low[710],
        "close": candles.close[710],
        "volume": candles.volume[710],
    }
    assert len(body["items"]) == 700
    last_page = client.get(
        f"{URL}/BTCUSDT/1m?start=2024-01-01T00:10:00&end={T0 + 2010 * 60_000}&page=3&per_page=700", headers=auth_headers
    ).json
    assert len(last_page["items"]) == 600 and last_page["items"][-1]["ts"] == T0 + 2009 * 60_000


@pytest.fixture
def minutes(client, auth_headers):
    """3,000 one-minute candles from 2024-01-01, with a gap of an hour and a half after the first 1,000, stored."""
    candles = generate_candles(3090, start_ms=T0)
    kept = np.r_[0:1000, 1090:3090]
    stored = Candles(*(getattr(candles, name)[kept] for name in COLUMNS))
    CandleStore(connections.mongo_db()).upsert("BTCUSDT", "1m", stored)
    return stored


def test_limit_reads_the_last_candles_before_a_time_oldest_first(client, auth_headers, minutes):
    before = int(minutes.ts[2500])
    body = client.get(f"{URL}/BTCUSDT/1m?before={before}&limit=30", headers=auth_headers).json
    assert [item["ts"] for item in body["items"]] == minutes.ts[2470:2500].tolist()
    assert body["items"][-1]["close"] == minutes.close[2499] and (body["total"], body["per_page"]) == (30, 30)
    latest = client.get(f"{URL}/BTCUSDT/1m?limit=5", headers=auth_headers).json
    assert [item["ts"] for item in latest["items"]] == minutes.ts[-5:].tolist()
    across_the_gap = client.get(f"{URL}/BTCUSDT/1m?before={int(minutes.ts[1002])}&limit=4", headers=auth_headers).json
    assert [item["ts"] for item in across_the_gap["items"]] == minutes.ts[998:1002].tolist()
    too_early = client.get(f"{URL}/BTCUSDT/1m?before={T0}&limit=5", headers=auth_headers).json
    assert too_early["items"] == [] and too_early["total"] == 0


def merged_by_hand(candles, period: int) -> list[dict]:
    """Each period's candles merged by the OHLCV rules, one loop per period."""
    rows = []
    for start in sorted({int(t) // period * period for t in candles.ts}):
        bars = (candles.ts >= start) & (candles.ts < start + period)
        rows.append(
            {
                "ts": start,
                "open": candles.open[bars][0],
                "high": candles.high[bars].max(),
                "low": candles.low[bars].min(),
                "close": candles.close[bars][-1],
                "volume": pytest.approx(candles.volume[bars].sum(), rel=1e-12),
            }
        )
    return rows


def without_timestamp(items: list[dict]) -> list[dict]:
    return [{name: value for name, value in item.items() if name != "timestamp"} for item in items]


def test_resample_merges_candles_into_a_coarser_timeframe_by_ohlcv_rules(client, auth_headers, minutes):
    body = client.get(f"{URL}/BTCUSDT/1m?resample=15m&per_page=5000", headers=auth_headers).json
    assert (body["timeframe"], body["stored_timeframe"]) == ("15m", "1m")
    assert without_timestamp(body["items"]) == merged_by_hand(minutes, 900_000)
    assert body["total"] == len(body["items"]) == 1000 // 15 + 1 + 2000 // 15 + 1
    hours = client.get(f"{URL}/BTCUSDT/1m?resample=1h&page=2&per_page=10", headers=auth_headers).json
    assert without_timestamp(hours["items"]) == merged_by_hand(minutes, 3_600_000)[10:20]
    assert hours["items"][0]["timestamp"] == "2024-01-01T10:00:00Z"


def test_a_resampled_range_is_widened_to_whole_periods(client, auth_headers, minutes):
    start, end = T0 + 70 * 60_000, T0 + 130 * 60_000  # 01:10 to 02:10
    body = client.get(f"{URL}/BTCUSDT/1m?resample=1h&start={start}&end={end}", headers=auth_headers).json
    assert [item["ts"] for item in body["items"]] == [T0 + 3_600_000, T0 + 7_200_000]
    assert without_timestamp(body["items"]) == merged_by_hand(
        minutes.between(T0 + 3_600_000, T0 + 3 * 3_600_000), 3_600_000
    )


def test_the_last_resampled_candles_are_whole_except_the_one_before_cuts(client, auth_headers, minutes):
    before = T0 + 34 * 3_600_000 + 20 * 60_000  # 20 minutes into an hour
    body = client.get(f"{URL}/BTCUSDT/1m?resample=1h&before={before}&limit=3", headers=auth_headers).json
    expected = merged_by_hand(minutes.between(None, before), 3_600_000)[-3:]
    assert without_timestamp(body["items"]) == expected and body["timeframe"] == "1h"
    assert body["items"][-1]["ts"] == before - 20 * 60_000


def test_resampling_to_the_stored_timeframe_changes_nothing(client, auth_headers, minutes):
    plain = client.get(f"{URL}/BTCUSDT/1m?per_page=50", headers=auth_headers).json
    same = client.get(f"{URL}/BTCUSDT/1m?per_page=50&resample=1m", headers=auth_headers).json
    assert same["items"] == plain["items"] and same["total"] == plain["total"] == 3000


@pytest.mark.parametrize("resample", ["1m", "5m"])
def test_resampling_to_a_finer_timeframe_is_a_422_naming_resample(client, auth_headers, resample):
    response = client.get(f"{URL}/BTCUSDT/15m?resample={resample}", headers=auth_headers)
    assert response.status_code == 422 and "coarser than 15m" in response.json["errors"]["query"]["resample"][0]


def test_epoch_bounds_follow_the_same_seconds_or_milliseconds_rule_as_imports(client, auth_headers):
    client.post(
        f"{URL}/BTCUSDT/1h",
        data=csv_of(generate_candles(48, "1h", start_ms=T0)),
        headers=auth_headers,
        content_type="text/csv",
    )
    for start in (T0 // 1000 + 3 * 3600, T0 + 3 * 3_600_000):
        response = client.get(f"{URL}/BTCUSDT/1h", query_string={"start": start, "per_page": 1}, headers=auth_headers)
        assert response.json["items"][0]["timestamp"] == "2024-01-01T03:00:00Z"


def test_bounds_may_carry_an_offset(client, auth_headers):
    client.post(
        f"{URL}/BTCUSDT/1h",
        data=csv_of(generate_candles(48, "1h", start_ms=T0)),
        headers=auth_headers,
        content_type="text/csv",
    )
    response = client.get(
        f"{URL}/BTCUSDT/1h", query_string={"start": "2024-01-01T05:00:00+02:00", "per_page": 1}, headers=auth_headers
    )
    assert response.json["items"][0]["timestamp"] == "2024-01-01T03:00:00Z"
    assert response.json["total"] == 45


def test_a_series_that_was_never_imported_reads_as_empty(client, auth_headers):
    response = client.get(f"{URL}/NOPE/1d", headers=auth_headers)
    assert response.status_code == 200
    assert (response.json["items"], response.json["total"], response.json["pages"]) == ([], 0, 0)


def test_listing_shows_every_series_with_its_range(client, auth_headers):
    client.post(
        f"{URL}/BTCUSDT/1m",
        data=csv_of(generate_candles(10, start_ms=T0)),
        headers=auth_headers,
        content_type="text/csv",
    )
    client.post(
        f"{URL}/ETHUSDT/1h",
        data=csv_of(generate_candles(5, "1h", start_ms=T0)),
        headers=auth_headers,
        content_type="text/csv",
    )

    response = client.get(URL, headers=auth_headers)

    assert response.status_code == 200
    assert response.json == {
        "items": [
            {
                "symbol": "BTCUSDT",
                "timeframe": "1m",
                "first_ts": T0,
                "last_ts": T0 + 9 * 60_000,
                "count": 10,
                "first": "2024-01-01T00:00:00Z",
                "last": "2024-01-01T00:09:00Z",
            },
            {
                "symbol": "ETHUSDT",
                "timeframe": "1h",
                "first_ts": T0,
                "last_ts": T0 + 4 * 3_600_000,
                "count": 5,
                "first": "2024-01-01T00:00:00Z",
                "last": "2024-01-01T04:00:00Z",
            },
        ]
    }


@pytest.mark.parametrize("method, path", [("get", URL), ("get", f"{URL}/BTCUSDT/1m"), ("post", f"{URL}/BTCUSDT/1m")])
def test_every_candle_endpoint_requires_a_token(client, method, path):
    response = getattr(client, method)(path, data=HEADER, content_type="text/csv")
    assert response.status_code == 401


def post_csv(client, auth_headers, text: str, path: str = "BTCUSDT/1m"):
    return client.post(
        f"{URL}/{path}", data=multipart(text.encode()), headers=auth_headers, content_type="multipart/form-data"
    )


def test_an_unreadable_upload_is_a_422_naming_the_line_and_column_and_writes_nothing(client, auth_headers, db):
    response = post_csv(
        client, auth_headers, HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,1,2,0.5,x,1\n"
    )

    assert response.status_code == 422
    assert response.json["errors"] == {"files": {"file": ["line 3, column close: 'x' is not a number"]}}
    assert "line 3, column close" in response.json["message"]
    assert db[HISTORICAL_CANDLES].count_documents({}) == 0


def test_invalid_candles_are_a_422_naming_the_candle_and_write_nothing(client, auth_headers, db):
    response = post_csv(
        client, auth_headers, HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:00:30Z,1,2,0.5,1.5,10\n"
    )

    assert response.status_code == 422
    assert response.json["errors"]["files"]["file"][0].startswith("candle 2024-01-01T00:00:30Z: is not aligned to 1m")
    assert db[HISTORICAL_CANDLES].count_documents({}) == 0


def test_a_bad_json_batch_is_a_422_with_the_path_of_the_bad_value(client, auth_headers):
    batch = [{"timestamp": "2024-01-01T00:00:00Z", "open": 1, "high": 2, "low": 0.5, "close": "?", "volume": 3}]
    response = client.post(f"{URL}/BTCUSDT/1m", json=batch, headers=auth_headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"json": {"candles[0].close": ["'?' is not a number"]}}


def test_a_high_below_the_low_in_json_is_a_422(client, auth_headers):
    batch = [{"timestamp": "2024-01-01T00:00:00Z", "open": 1, "high": 0.5, "low": 2, "close": 1, "volume": 3}]
    response = client.post(f"{URL}/BTCUSDT/1m", json=batch, headers=auth_headers)
    assert response.status_code == 422
    assert response.json["errors"]["json"]["candles"][0].startswith("candle 2024-01-01T00:00:00Z: high 0.5 is below")


def test_a_multipart_request_without_the_file_field_is_a_422(client, auth_headers):
    response = client.post(
        f"{URL}/BTCUSDT/1m",
        data={"other": (io.BytesIO(b"x"), "x.csv")},
        headers=auth_headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "file" in response.json["errors"]["files"]


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        (b"timestamp,open\n", "application/octet-stream", 415),
        (b"[{", "application/json", 400),
        (b"", "text/csv", 422),
    ],
)
def test_other_media_types_and_broken_bodies_are_4xx_not_500(client, auth_headers, body, content_type, status):
    response = client.post(f"{URL}/BTCUSDT/1m", data=body, headers=auth_headers, content_type=content_type)
    assert response.status_code == status
    assert response.json["code"] == status


@pytest.mark.parametrize("path, field", [("BTC USDT/1m", "symbol"), ("BTCUSDT/2m", "timeframe"), ("%24/1m", "symbol")])
def test_a_bad_symbol_or_timeframe_in_the_path_is_a_422_naming_it(client, auth_headers, path, field):
    for response in (
        client.get(f"{URL}/{path}", headers=auth_headers),
        client.post(f"{URL}/{path}", data=HEADER, headers=auth_headers, content_type="text/csv"),
    ):
        assert response.status_code == 422
        assert list(response.json["errors"]["path"]) == [field]


@pytest.mark.parametrize(
    "query, field",
    [
        ("start=yesterday", "start"),
        ("end=2024-13-01", "end"),
        ("start=2024-01-02&end=2024-01-01", "end"),
        ("per_page=5001", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("limit=0", "limit"),
        ("limit=5001", "limit"),
        ("before=soon", "before"),
        ("before=2024-01-02&start=2024-01-01", "start"),
        ("limit=10&page=2", "page"),
        ("limit=10&per_page=2", "per_page"),
        ("limit=10&end=2024-01-01", "end"),
        ("resample=2m", "resample"),
        ("resample=1w", "resample"),
    ],
)
def test_bad_query_arguments_are_a_422_naming_them(client, auth_headers, query, field):
    response = client.get(f"{URL}/BTCUSDT/1m?{query}", headers=auth_headers)
    assert response.status_code == 422
    assert field in response.json["errors"]["query"]


def test_the_endpoints_and_their_query_arguments_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    series = spec["paths"]["/api/v1/candles/{symbol}/{timeframe}"]
    query = {parameter["name"] for parameter in series["get"]["parameters"] if parameter["in"] == "query"}
    assert query >= {"start", "end", "page", "per_page", "before", "limit", "resample"}
    assert set(series["post"]["requestBody"]["content"]) == {"multipart/form-data", "text/csv", "application/json"}
    assert "/api/v1/candles" in spec["paths"]


def assert_json_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json and response.json["code"] == status and isinstance(response.json["message"], str)


BASE = {"timestamp": "2024-01-01T00:00:00Z", "open": 1, "high": 2, "low": 0.5, "close": 1.5, "volume": 1}


@pytest.mark.parametrize(
    "kwargs, status",
    [
        pytest.param(
            {"data": "[" * 5000 + "]" * 5000, "content_type": "application/json"}, 400, id="nested-beyond-the-parser"
        ),
        pytest.param(
            {"data": b'[{"timestamp": "\xff"}]', "content_type": "application/json"}, 400, id="invalid-utf8-json"
        ),
        pytest.param({"data": "", "content_type": "application/json"}, 400, id="empty-json-body"),
        pytest.param({"data": "null", "content_type": "application/json"}, 422, id="null"),
        pytest.param({"json": {"$gt": ""}}, 422, id="operator-object"),
        pytest.param({"json": [{**BASE, "open": 10**400}]}, 422, id="integer-beyond-floats"),
        pytest.param({"json": [{**BASE, "timestamp": 10**400}]}, 422, id="timestamp-beyond-floats"),
        pytest.param({"json": [{**BASE, "timestamp": {"$gt": 1}}]}, 422, id="operator-as-timestamp"),
        pytest.param({"json": [{**BASE, "timestamp": "9" * 5000}]}, 422, id="very-long-timestamp"),
        pytest.param(
            {
                "data": '[{"timestamp": "2024-01-01T00:00:00Z", "open": NaN, "high": 2, "low": 0.5, "close": 1.5, '
                '"volume": 1}]',
                "content_type": "application/json",
            },
            422,
            id="nan",
        ),
        pytest.param({"data": b"\x00\x01\x02binary", "content_type": "text/csv"}, 422, id="binary-csv"),
        pytest.param(
            {"data": "timestamp,open,high,low,close,volume\n" + "1," * 100_000 + "\n", "content_type": "text/csv"},
            422,
            id="endless-row",
        ),
        pytest.param({"data": "x" * 100, "content_type": "application/x-www-form-urlencoded"}, 415, id="form-encoded"),
    ],
)
def test_a_hostile_upload_is_a_json_4xx_and_writes_nothing(client, auth_headers, db, kwargs, status):
    assert_json_error(client.post(f"{URL}/BTCUSDT/1m", headers=auth_headers, **kwargs), status)
    assert db[HISTORICAL_CANDLES].count_documents({}) == 0


@pytest.mark.parametrize(
    "query",
    [
        "page=" + "9" * 30,
        "page=abc",
        "per_page=1.5",
        "start=" + "9" * 30,
        "start=2024-01-01T00:00:00%2B99:00",
        "start=%00",
        "sort=ts",
        "start[$gt]=",
    ],
)
def test_a_hostile_query_string_is_a_422(client, auth_headers, query):
    response = client.get(f"{URL}/BTCUSDT/1m?{query}", headers=auth_headers)
    assert_json_error(response, 422)
    assert response.json["errors"]["query"]


@pytest.mark.parametrize("path", ["%00/1m", "BTCUSDT/%00", "x" * 2000 + "/1m", "..%2F..%2Fetc/1m", "BTCUSDT/1m%20"])
def test_a_hostile_path_is_a_json_4xx(client, auth_headers, path):
    response = client.get(f"{URL}/{path}", headers=auth_headers)
    assert response.status_code in (404, 422) and response.is_json
