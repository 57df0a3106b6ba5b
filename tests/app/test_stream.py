"""The live stream through HTTP, against the real processes on the test Redis and MongoDB.

The stream process runs its Procfile line (``tickflow stream``) and the API its own
(gunicorn, two workers of eight threads), each on a free port in its own session. Clients
are plain HTTP: ``requests`` with ``stream=True``, or raw sockets when there are hundreds
of them. Events are added to Redis the way their writers add them (the engine's ingest
and chains, ``tickflow.storage.events.publish``, a real backtest worker). Every wait is
for a condition (an event received, a count reached), never for time to pass.
"""

from __future__ import annotations

import dataclasses
import json
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import redis as redis_lib
import requests

from cli.localservices import LocalRedis, ProcfileProcess, free_port
from strategies.examples import load_example
from tests.backtests.conftest import BARS, SYMBOL, TIMEFRAME, new_backtest_worker
from tests.celery_workers import wait_for
from tests.conftest import ROOT
from tests.ops.test_deployment_files import PROCESSES
from tickflow.storage import keys
from tickflow.storage.candles import CandleStore
from tickflow.storage.events import publish
from tickflow.storage.strategies import StrategyRepository
from tickflow.synthetic import generate_candles

ALLOWED_ORIGIN = "http://dashboard.example"
STREAM = "/api/v1/live/stream"
HEARTBEAT_S = 0.3
"""The test stream's heartbeat: short, so a client reading for an event never waits long for a line."""


def start_stream(log: Path, *options: str) -> tuple[ProcfileProcess, str]:
    """The stream process on a free port; and its base URL."""
    port = free_port()
    server = ProcfileProcess(
        " ".join([PROCESSES["stream"], *options]), {"STREAM_PORT": str(port), "CORS_ORIGINS": ALLOWED_ORIGIN}, log, ROOT
    )
    base = f"http://127.0.0.1:{port}"
    server.wait_answering(f"{base}{STREAM}/health")
    return server, base


class StreamServer(NamedTuple):
    url: str
    """``http://127.0.0.1:<port>``"""
    process: ProcfileProcess


@pytest.fixture(scope="module")
def stream_server(services, tmp_path_factory) -> Iterator[StreamServer]:
    """The stream process shared by the module's tests."""
    server, base = start_stream(tmp_path_factory.mktemp("stream") / "stream.log", "--heartbeat", str(HEARTBEAT_S))
    yield StreamServer(base, server)
    server.stop()


@pytest.fixture(scope="module")
def api_server(services, stream_server, tmp_path_factory) -> Iterator[str]:
    """The API as the Procfile runs it, pointing browsers at the test stream process; its base URL."""
    port = free_port()
    env = {"API_PORT": str(port), "STREAM_PORT": stream_server.url.rsplit(":", 1)[1], "CORS_ORIGINS": ALLOWED_ORIGIN}
    server = ProcfileProcess(PROCESSES["api"], env, tmp_path_factory.mktemp("api") / "api.log", ROOT)
    base = f"http://127.0.0.1:{port}"
    server.wait_answering(f"{base}/api/v1/health")
    yield base
    server.stop()


class EventStream:
    """One open stream, parsed as a browser's EventSource parses it."""

    def __init__(self, url: str, **request) -> None:
        self.response = requests.get(url, stream=True, timeout=(5, 30), **request)
        self.chunks = self.response.iter_content(chunk_size=None)
        self.buffer = ""
        self.retry: int | None = None
        self.comments: list[str] = []

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.response.close()

    def _block(self) -> str | None:
        """The next block of lines (up to a blank line); ``None`` once the stream has ended."""
        while "\n\n" not in self.buffer:
            try:
                self.buffer += next(self.chunks).decode()
            except StopIteration:
                return None
        block, self.buffer = self.buffer.split("\n\n", 1)
        return block

    def _next(self) -> dict | None:
        """The next block as an event (``{"id", "event", "data"}``, data parsed); ``{}`` for a comment or
        the ``retry:`` line, which are noted; ``None`` at the end of the stream."""
        block = self._block()
        if block is None:
            return None
        fields: dict = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            if name == "":
                self.comments.append(value)
            elif name == "retry":
                self.retry = int(value)
            else:
                fields[name] = value
        return {**fields, "data": json.loads(fields["data"])} if "data" in fields else {}

    def next_event(self, timeout: float = 20) -> dict | None:
        """The next event; ``None`` if the stream ended. Heartbeats come every ``HEARTBEAT_S``,
        so the deadline is checked at least that often."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self._next()
            if event != {}:
                return event
        raise AssertionError(f"no event within {timeout} s")

    def opened(self) -> EventStream:
        """Read up to the ``retry:`` line: from then on, the stream gets every new event."""
        while self.retry is None:
            assert self._next() is not None, "the stream ended before its retry line"
        return self

    def events_until(self, last_id: str, timeout: float = 30) -> list[dict]:
        """Every event up to the one with ``last_id``, in the order received."""
        received: list[dict] = []
        while not received or received[-1]["id"] != last_id:
            event = self.next_event(timeout)
            assert event is not None, f"the stream ended before {last_id}"
            received.append(event)
        return received

    def rest(self) -> str:
        """Everything left until the stream ends (the connection is closed by the server)."""
        return self.buffer + b"".join(self.chunks).decode()


def stream_get(base: str, token: str | None = None, **request) -> EventStream:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(request.pop("headers", {}))
    return EventStream(f"{base}{STREAM}", headers=headers, **request)


@pytest.fixture
def token(auth_headers) -> str:
    return auth_headers["Authorization"].removeprefix("Bearer ")


def ids_in_redis(redis) -> list[str]:
    return [id_ for id_, _ in redis.xrange(keys.live_events())]


def newest_id(redis) -> str:
    return redis.xrevrange(keys.live_events(), count=1)[0][0]


def a_ticket(api_server: str, token: str) -> dict:
    response = requests.post(f"{api_server}{STREAM}/ticket", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: requests.Response, code: int) -> dict:
    assert response.status_code == code, response.text
    body = response.json()
    assert body["code"] == code and body["status"] and body["message"]
    return body


# -- opening a stream ---------------------------------------------------------------------------


def test_a_ticket_from_the_api_opens_the_stream_once(api_server, stream_server, token, redis):
    ticket = a_ticket(api_server, token)
    assert ticket["expires_in"] == 60 and ticket["url"] == f"{stream_server.url}{STREAM}"
    assert 0 < redis.ttl(keys.stream_ticket(ticket["ticket"])) <= 60

    with EventStream(ticket["url"], params={"ticket": ticket["ticket"]}) as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["Content-Type"].startswith("text/event-stream")
        assert stream.response.headers["Cache-Control"] == "no-cache"
        assert stream.opened().retry == 1000
        publish(redis, "job", {"kind": "backtest", "id": "r1"})
        assert stream.next_event()["data"] == {"kind": "backtest", "id": "r1"}

    again = requests.get(ticket["url"], params={"ticket": ticket["ticket"]}, timeout=10)
    assert "used or expired" in assert_error(again, 401)["message"]


def test_an_expired_unknown_or_missing_ticket_is_refused_with_a_json_401(api_server, stream_server, token, redis):
    ticket = a_ticket(api_server, token)
    redis.pexpire(keys.stream_ticket(ticket["ticket"]), 1)
    wait_for(lambda: not redis.exists(keys.stream_ticket(ticket["ticket"])), 10, "the ticket to expire")
    url = f"{stream_server.url}{STREAM}"
    assert_error(requests.get(url, params={"ticket": ticket["ticket"]}, timeout=10), 401)
    assert_error(requests.get(url, params={"ticket": "x" * 43}, timeout=10), 401)
    assert_error(requests.get(url, params={"ticket": "not a ticket!"}, timeout=10), 401)
    missing = requests.get(url, timeout=10)
    assert "Authorization: Bearer" in assert_error(missing, 401)["message"]
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(requests.post(f"{api_server}{STREAM}/ticket", timeout=10), 401)  # the API wants a token for one


def test_a_bearer_token_opens_the_stream_and_a_wrong_one_does_not(stream_server, token, redis):
    with stream_get(stream_server.url, token) as stream:
        stream.opened()
        publish(redis, "mismatch", {"strategy_id": "s", "engine_size": 1.5, "broker_size": 0.0})
        assert stream.next_event()["event"] == "mismatch"
    assert_error(
        requests.get(f"{stream_server.url}{STREAM}", headers={"Authorization": "Bearer tf_nope"}, timeout=10), 401
    )


@pytest.mark.parametrize(
    "request_options",
    [
        {"headers": {"Authorization": "Bearer"}},
        {"headers": {"Authorization": "Basic dXNlcjpwYXNz"}},
        {"headers": {"Authorization": 'Bearer {"$ne": ""}'}},
        {"headers": {"Authorization": "Bearer " + "x" * 4000}},
        {"params": {"ticket": ""}},
        {"params": {"ticket": "é" * 40}},
        {"params": {"ticket": "x" * 5000}},
        {"params": {"ticket": "*"}},
    ],
)
def test_odd_credentials_are_a_json_401(stream_server, request_options):
    assert_error(requests.get(f"{stream_server.url}{STREAM}", timeout=10, **request_options), 401)


# -- events -------------------------------------------------------------------------------------


def test_live_events_arrive_as_the_engine_adds_them_with_numbers_as_numbers(stream_server, token, db, redis):
    from tests.workers.conftest import create_strategy, spec_doc
    from tests.workers.replay import run_candles
    from tickflow.settings import LiveSettings
    from workers.engine import LiveEngine

    engine = LiveEngine(redis, db, LiveSettings())
    engine.start(create_strategy(db, redis, spec_doc("sma_cross")), "paper", 10_000)
    candles = generate_candles(120, "1m", seed=5)
    with stream_get(stream_server.url, token) as stream:
        stream.opened()
        run_candles(engine, candles, 0, 120)
        stored = redis.xrange(keys.live_events())
        received = stream.events_until(stored[-1][0])

    assert [(e["id"], e["event"]) for e in received] == [(id_, f["type"]) for id_, f in stored]
    assert [e["data"] for e in received] == [json.loads(f["data"]) for _, f in stored]
    assert {"candle", "signal", "order", "fill"} <= {e["event"] for e in received}
    first = next(e["data"] for e in received if e["event"] == "candle")
    assert first == {
        "symbol": "BTCUSDT",
        "timeframe": "1m",
        "t": int(candles.ts[0]),
        "o": candles.open[0],
        "h": candles.high[0],
        "l": candles.low[0],
        "c": candles.close[0],
        "v": pytest.approx(candles.volume[0]),
    }
    assert isinstance(first["t"], int) and isinstance(first["o"], float)
    fill = next(e["data"] for e in received if e["event"] == "fill")
    assert isinstance(fill["ts"], int) and all(isinstance(fill[name], float) for name in ("size", "price"))


def test_not_a_number_is_null_in_an_event(stream_server, token, redis):
    with stream_get(stream_server.url, token) as stream:
        stream.opened()
        publish(redis, "job", {"kind": "sweep", "id": "s1", "values": [1.5, float("nan"), float("inf")]})
        assert stream.next_event()["data"]["values"] == [1.5, None, None]


# -- resuming -----------------------------------------------------------------------------------


def test_resuming_with_last_event_id_sends_exactly_the_missed_events_while_new_ones_keep_coming(
    stream_server, token, redis
):
    for n in range(100):
        publish(redis, "job", {"kind": "backtest", "id": f"before-{n}"})
    resume_after = ids_in_redis(redis)[49]
    done = threading.Event()

    def keep_publishing() -> None:
        for n in range(400):
            publish(redis, "job", {"kind": "backtest", "id": f"during-{n}"})
        done.set()

    publisher = threading.Thread(target=keep_publishing)
    publisher.start()  # the client joins while events keep coming: the catch-up and the fan-out overlap
    try:
        with stream_get(stream_server.url, token, headers={"Last-Event-ID": resume_after}) as stream:
            wait_for(done.is_set, 60, "the publisher")
            publish(redis, "job", {"kind": "backtest", "id": "after"})
            stored = ids_in_redis(redis)
            received = [event["id"] for event in stream.events_until(stored[-1])]
    finally:
        publisher.join()
    assert received == stored[stored.index(resume_after) + 1 :]


def test_a_client_without_last_event_id_can_resume_with_last_id(stream_server, token, redis):
    for n in range(5):
        publish(redis, "job", {"kind": "backtest", "id": str(n)})
    stored = ids_in_redis(redis)
    with stream_get(stream_server.url, token, params={"last_id": stored[1]}) as stream:
        assert [event["id"] for event in stream.events_until(stored[-1])] == stored[2:]
    newer = stored[-1].split("-")[0] + "-99"  # past every event: only newer ones come
    with stream_get(stream_server.url, token, headers={"Last-Event-ID": newer}) as stream:
        stream.opened()
        publish(redis, "job", {"kind": "backtest", "id": "new"})
        assert stream.next_event()["data"]["id"] == "new"


@pytest.mark.parametrize(
    ("where", "name", "value"),
    [
        ("headers", "Last-Event-ID", "yesterday"),
        ("headers", "Last-Event-ID", "1-2-3"),
        ("headers", "Last-Event-ID", f"{2**64}-0"),
        ("query", "last_id", "-1-0"),
        ("query", "last_id", "1700000000000"),
    ],
)
def test_a_malformed_last_event_id_is_a_400_naming_it(stream_server, token, where, name, value):
    request = {"headers": {"Authorization": f"Bearer {token}"}}
    if where == "headers":
        request["headers"][name] = value
    else:
        request["params"] = {name: value}
    body = assert_error(requests.get(f"{stream_server.url}{STREAM}", timeout=10, **request), 400)
    assert list(body["errors"][where]) == [name]


# -- CORS ---------------------------------------------------------------------------------------


def preflight(url: str, origin: str) -> requests.Response:
    return requests.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "last-event-id",
        },
        timeout=10,
    )


def test_a_preflight_allows_last_event_id_from_an_allowed_origin_and_nothing_to_others(
    stream_server, api_server, token
):
    allowed = preflight(f"{stream_server.url}{STREAM}", ALLOWED_ORIGIN)
    assert allowed.ok and allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "last-event-id" in allowed.headers["Access-Control-Allow-Headers"].lower()
    other = preflight(f"{stream_server.url}{STREAM}", "http://elsewhere.example")
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Headers" not in other.headers

    with stream_get(stream_server.url, token, headers={"Origin": ALLOWED_ORIGIN}) as stream:
        assert stream.response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    refused = requests.get(f"{stream_server.url}{STREAM}", headers={"Origin": ALLOWED_ORIGIN}, timeout=10)
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN

    api = preflight(f"{api_server}/api/v1/live/positions", ALLOWED_ORIGIN)  # the API's CORS allows it too
    assert "last-event-id" in api.headers["Access-Control-Allow-Headers"].lower()


# -- the process --------------------------------------------------------------------------------


def test_health_and_unknown_routes_answer_json(stream_server):
    health = requests.get(f"{stream_server.url}{STREAM}/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok" and health.json()["redis"] == "up"
    assert_error(requests.get(f"{stream_server.url}/api/v1/strategies", timeout=10), 404)
    assert_error(requests.post(f"{stream_server.url}{STREAM}", timeout=10), 405)


def test_a_stream_ends_cleanly_at_its_time_limit_and_all_end_when_the_process_stops(services, token, redis, tmp_path):
    server, base = start_stream(tmp_path / "stream.log", "--max-seconds", "1")
    try:
        with stream_get(base, token) as limited:
            limited.opened()
            publish(redis, "job", {"kind": "backtest", "id": "last"})
            assert limited.next_event()["data"]["id"] == "last"
            assert limited.next_event() is None  # ended by the server, every event whole
        with stream_get(base, token) as open_when_stopped:
            open_when_stopped.opened()
            assert server.stop() == 0
            assert open_when_stopped.next_event() is None
    finally:
        server.stop()
    log = server.log.read_text()
    assert "stream closed: time limit reached" in log and "stream closed: the process is stopping" in log


def test_without_redis_the_stream_is_a_503_until_redis_answers(services, token, tmp_path):
    redis_port, stream_port = free_port(), free_port()
    url = f"http://127.0.0.1:{stream_port}{STREAM}"
    server = ProcfileProcess(
        PROCESSES["stream"],
        {"STREAM_PORT": str(stream_port), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"},
        tmp_path / "stream.log",
        ROOT,
    )
    later = LocalRedis(redis_port, tmp_path / "redis", persistent=False)
    try:
        wait_for(lambda: _status(f"{url}/health") == 503, 90, "the stream process to answer, unavailable")
        assert requests.get(f"{url}/health", timeout=10).json()["status"] == "unavailable"
        assert "Redis" in assert_error(requests.get(url, headers={"Authorization": f"Bearer {token}"}), 503)["message"]
        later.ensure_running()
        server.wait_answering(f"{url}/health")
        with stream_get(f"http://127.0.0.1:{stream_port}", token) as stream:
            stream.opened()
            publish(later_client := redis_lib.Redis(port=redis_port, decode_responses=True), "job", {"id": "late"})
            assert stream.next_event()["data"] == {"id": "late"}
            later_client.close()
    finally:
        server.stop()
        later.stop()


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.ConnectionError:  # not listening yet
        return None


# -- job events ---------------------------------------------------------------------------------


def job_events_until(stream: EventStream, job_id: str, done) -> list[dict]:
    """The ``job`` events of ``job_id`` up to the first one ``done`` accepts."""
    received: list[dict] = []
    while not received or not done(received[-1]):
        event = stream.next_event(60)
        assert event is not None, "the stream ended"
        if event["event"] == "job" and event["data"]["id"] == job_id:
            received.append(event["data"])
    return received


def test_job_events_follow_a_backtest_and_a_sweep_that_a_real_worker_runs(
    api_server, stream_server, token, db, redis, tmp_path
):
    CandleStore(db).upsert(SYMBOL, TIMEFRAME, generate_candles(BARS, TIMEFRAME, seed=3))
    strategy = StrategyRepository(db, redis).create(load_example("sma_cross"))
    auth = {"Authorization": f"Bearer {token}"}
    worker = new_backtest_worker(tmp_path)
    try:
        with stream_get(stream_server.url, token) as stream:
            stream.opened()
            run = requests.post(f"{api_server}/api/v1/backtests", json={"strategy_id": strategy.id}, headers=auth)
            assert run.status_code == 202, run.text
            run_events = job_events_until(stream, run.json()["id"], lambda job: job["stage"] == "finished")
            sweep = requests.post(
                f"{api_server}/api/v1/sweeps",
                json={"strategy_id": strategy.id, "grid": {"fast": [5, 10, 15], "slow": [30]}, "chunk_size": 1},
                headers=auth,
            )
            assert sweep.status_code == 202, sweep.text
            sweep_events = job_events_until(stream, sweep.json()["id"], lambda job: job["state"] == "done")
    finally:
        worker.kill()

    assert [job["stage"] for job in run_events] == ["loading", "running", "storing", "finished"]
    assert [job["state"] for job in run_events] == ["running"] * 3 + ["done"]
    assert run_events[-1] == {
        "kind": "backtest",
        "id": run.json()["id"],
        "state": "done",
        "stage": "finished",
        "chunks_done": 1,
        "chunks_total": 1,
    }
    assert {job["kind"] for job in sweep_events} == {"sweep"} and sweep_events[-1]["chunks_total"] == 3
    assert sweep_events[-1]["chunks_done"] == 3 and sweep_events[-1]["stage"] == "finished"
    done_counts = [job["chunks_done"] for job in sweep_events]
    assert done_counts == sorted(done_counts)


def test_a_failed_backtest_sends_its_error(api_server, stream_server, token, db, redis, tmp_path):
    strategy = StrategyRepository(db, redis).create(load_example("sma_cross"))  # and no candles
    worker = new_backtest_worker(tmp_path)
    try:
        with stream_get(stream_server.url, token) as stream:
            stream.opened()
            run = requests.post(
                f"{api_server}/api/v1/backtests",
                json={"strategy_id": strategy.id},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            last = job_events_until(stream, run["id"], lambda job: job["stage"] == "finished")[-1]
    finally:
        worker.kill()
    assert last["state"] == "failed" and last["error"].startswith(f"no {SYMBOL} {TIMEFRAME} candles")


# -- many streams -------------------------------------------------------------------------------


def open_raw_stream(base: str, token: str, receive_buffer: int | None = None) -> socket.socket:
    """A stream opened with a bare socket: hundreds of them cost one file descriptor each."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    if receive_buffer is not None:  # before connecting, so the TCP window is small from the start
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(30)
    sock.connect((host, int(port)))
    sock.sendall(f"GET {STREAM} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    return sock


def read_until(sockets: list[socket.socket], marker: bytes, timeout: float = 60) -> dict[socket.socket, bytes]:
    """What each socket received up to and including ``marker``, reading all of them until each has it."""
    received = dict.fromkeys(sockets, b"")
    waiting = set(sockets)
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        while waiting:
            assert time.monotonic() < deadline, f"{len(waiting)} of {len(sockets)} streams lack {marker!r}"
            for key, _ in selector.select(timeout=1):
                sock = key.fileobj
                chunk = sock.recv(65536)
                assert chunk, "a stream was closed"
                received[sock] += chunk
                if marker in received[sock]:
                    waiting.discard(sock)
                    selector.unregister(sock)
    return received


def streams_open(base: str) -> int:
    return requests.get(f"{base}{STREAM}/health", timeout=10).json()["streams"]


def wait_streams_open(base: str, count: int) -> None:
    """Until the process counts ``count`` open streams (it notices a closed one at its next write)."""
    wait_for(lambda: streams_open(base) == count, 30, f"{count} open streams")


def test_two_hundred_open_streams_each_get_every_event_while_the_api_answers(api_server, stream_server, token, redis):
    wait_streams_open(stream_server.url, 0)  # the earlier tests' streams are gone
    sockets = [open_raw_stream(stream_server.url, token) for _ in range(200)]
    try:
        heads = read_until(sockets, b"retry: 1000\n\n")
        assert all(head.startswith(b"HTTP/1.1 200 ") for head in heads.values())
        assert streams_open(stream_server.url) == 200
        publish(redis, "job", {"kind": "backtest", "id": "for-all"})
        event_id = newest_id(redis).encode()
        read_until(sockets, b"id: " + event_id + b"\n")
        listing = requests.get(
            f"{api_server}/api/v1/strategies", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert listing.status_code == 200 and listing.json()["total"] == 0
    finally:
        for sock in sockets:
            sock.close()
    wait_streams_open(stream_server.url, 0)


def test_a_client_that_stops_reading_is_disconnected_and_the_others_get_everything(stream_server, token, redis):
    wait_streams_open(stream_server.url, 0)
    stalled = open_raw_stream(stream_server.url, token, receive_buffer=4096)
    try:
        read_until([stalled], b"retry: 1000\n\n")
        with stream_get(stream_server.url, token) as reader:
            reader.opened()
            filler, received = "x" * 4000, []
            for batch in range(50):  # 20 MB: far more than the stalled socket's buffers and backlog hold
                pipe = redis.pipeline()
                for n in range(100):
                    publish(pipe, "job", {"kind": "sweep", "id": f"{batch}.{n}", "filler": filler})
                pipe.execute()
                received += reader.events_until(newest_id(redis))  # a reader that keeps up
            assert [event["data"]["id"] for event in received] == [f"{b}.{n}" for b in range(50) for n in range(100)]
            wait_streams_open(stream_server.url, 1)  # the reader's: the stalled one was dropped
    finally:
        stalled.close()
    assert "stream closed: disconnected: it lagged too far behind" in stream_server.process.log.read_text()


# -- the API's side -----------------------------------------------------------------------------


def test_the_ticket_points_at_stream_url_when_set_else_at_the_api_host_with_the_stream_port(db, redis, auth_headers):
    from app import create_app
    from tickflow.settings import get_settings

    plain = create_app().test_client().post(f"{STREAM}/ticket", headers=auth_headers)
    assert plain.status_code == 200 and plain.json["url"] == f"http://localhost:{get_settings().stream_port}{STREAM}"
    proxied_settings = dataclasses.replace(get_settings(), stream_url="https://tf.example.com/api/v1/live/stream")
    proxied = create_app(proxied_settings).test_client().post(f"{STREAM}/ticket", headers=auth_headers)
    assert proxied.json["url"] == "https://tf.example.com/api/v1/live/stream"
    assert create_app().test_client().get(STREAM, headers=auth_headers).status_code == 404  # not served by the API


def test_the_openapi_document_describes_the_stream_its_ticket_and_every_event(client):
    from tickflow.storage.events import TYPES

    openapi = client.get("/api/v1/openapi.json").json
    ticket = openapi["paths"][f"{STREAM}/ticket"]["post"]
    assert set(ticket["responses"]) >= {"200", "401"}
    ticket_schema = ticket["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(openapi["components"]["schemas"][ticket_schema]["properties"]) == {"ticket", "expires_in", "url"}

    get = openapi["paths"][STREAM]["get"]
    assert {(p["in"], p["name"]) for p in get["parameters"]} == {
        ("query", "ticket"),
        ("header", "Last-Event-ID"),
        ("query", "last_id"),
    }
    assert get["security"] == [{"streamTicket": []}, {"bearerAuth": []}]
    assert "text/event-stream" in get["responses"]["200"]["content"]
    assert set(get["responses"]) == {"200", "400", "401", "503"}
    events = get["responses"]["200"]["x-events"]
    assert set(events) == set(TYPES)
    for ref in events.values():
        assert openapi["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]["properties"]
    candle = openapi["components"]["schemas"]["CandleEvent"]["properties"]
    assert candle["t"]["type"] == "integer" and candle["c"]["type"] == "number"
    assert openapi["paths"][f"{STREAM}/health"]["get"]["security"] == []
