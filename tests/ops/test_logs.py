"""Structured logs (``tickflow.logs``): one line per event, with the ids that say what it was about.

The lines are written by the real setup (:func:`tickflow.logs.configure`, as
each process calls it) to a file, then parsed back: logfmt by the small
parser below, JSON by ``json``. ``tests/backtests/test_worker_logs.py`` reads a real
worker's own log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from backtests.runs import Heartbeat
from tasks.celery_app import app as celery_app
from tests.conftest import ROOT
from tickflow.logs import configure, log_context
from tickflow.settings import Settings

log = logging.getLogger("tests.logs")
LOGFMT_PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?: |$)')
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def parse_logfmt(line: str) -> dict[str, str]:
    """The fields of a logfmt line, unescaped; fails unless the whole line is ``key=value`` pairs."""
    fields, end = {}, 0
    for match in LOGFMT_PAIR.finditer(line):
        assert match.start() == end, f"not a key=value pair at column {end}: {line!r}"
        key, value = match.groups()
        if value.startswith('"'):
            value = re.sub(r"\\(x[0-9a-f]{2}|.)", _unescape, value[1:-1])
        fields[key] = value
        end = match.end()
    assert end == len(line) and fields, f"not a logfmt line: {line!r}"
    return fields


def _unescape(match: re.Match) -> str:
    code = match[1]
    return chr(int(code[1:], 16)) if code.startswith("x") else {"n": "\n", "r": "\r", "t": "\t"}.get(code, code)


@pytest.fixture
def written(tmp_path) -> Iterator[Callable[..., Callable[[], list[str]]]]:
    """``written(role, min_level, **settings)``: this process logs to a file as configured; returns its line reader."""
    path = tmp_path / "process.log"

    def setup(role: str = "tests", min_level: int = logging.NOTSET, **settings: str) -> Callable[[], list[str]]:
        configure(role, logfile=str(path), min_level=min_level, settings=Settings(**settings))
        return lambda: path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    yield setup
    configure("tests")  # back to stderr, before the file goes


def test_a_line_has_the_time_level_logger_process_and_message(written):
    lines = written()
    log.info("backtest %s in %.2f s", "done", 0.4216)
    [line] = lines()
    fields = parse_logfmt(line)
    assert list(fields) == ["ts", "level", "logger", "proc", "msg"]
    assert ISO_MS.fullmatch(fields["ts"])
    logged_at = dt.datetime.strptime(fields["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - logged_at).total_seconds()) < 5
    assert fields | {"ts": ""} == {
        "ts": "",
        "level": "info",
        "logger": "tests.logs",
        "proc": "tests",
        "msg": "backtest done in 0.42 s",
    }
    assert line.endswith(' msg="backtest done in 0.42 s"')


def test_log_context_binds_fields_for_a_block_and_extra_for_one_line(written):
    lines = written()
    with log_context(strategy_id="s1", symbol="BTCUSDT"):
        log.info("outer")
        with log_context(symbol="ETHUSDT", timeframe="1m", mode=None):
            log.info("inner", extra={"timeframe": "5m", "trades": 3, "paper": True})
        log.info("outer again", extra={"level": "loud", "msg_id": 7})
    log.info("after")
    outer, inner, again, after = map(parse_logfmt, lines())
    assert {k: outer[k] for k in ("strategy_id", "symbol")} == {"strategy_id": "s1", "symbol": "BTCUSDT"}
    # Inner values replace outer ones, extra= replaces both; None leaves a field out; values keep their order.
    assert list(inner)[4:] == ["strategy_id", "symbol", "timeframe", "trades", "paper", "msg"]
    assert inner | {"ts": ""} == {
        "ts": "",
        "level": "info",
        "logger": "tests.logs",
        "proc": "tests",
        "strategy_id": "s1",
        "symbol": "ETHUSDT",
        "timeframe": "5m",
        "trades": "3",
        "paper": "true",
        "msg": "inner",
    }
    # The module's own fields (level, msg...) cannot be given.
    assert again["level"] == "info" and again["msg_id"] == "7" and again["symbol"] == "BTCUSDT"
    assert "strategy_id" not in after and "symbol" not in after


def test_values_are_escaped_so_that_an_event_and_its_traceback_are_one_line(written):
    lines = written()
    message = 'a "quoted" word, a back\\slash, key=value,\ta tab\r\nand a second line\x00'
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        log.exception(message, extra={"symbol": "BTC USDT", "empty": ""})
    [line] = lines()
    fields = parse_logfmt(line)
    assert fields["msg"] == message and fields["symbol"] == "BTC USDT" and fields["empty"] == ""
    assert fields["level"] == "error"
    assert fields["exc"].startswith("Traceback (most recent call last):\n")
    assert fields["exc"].endswith("ValueError: bad\nvalue") and "in test_values_are_escaped" in fields["exc"]
    assert ' exc="Traceback (most recent call last):\\n' in line


def test_json_lines_carry_the_same_fields(written):
    lines = written(log_format="json")
    with log_context(strategy_id="s1"):
        try:
            {}["missing"]
        except KeyError:
            log.warning("no %s\nhere", "key", exc_info=True, extra={"symbol": "BTCUSDT", "count": 2})
    [line] = lines()
    fields = json.loads(line)
    assert list(fields) == ["ts", "level", "logger", "proc", "strategy_id", "symbol", "count", "msg", "exc"]
    assert ISO_MS.fullmatch(fields["ts"]) and fields["level"] == "warning" and fields["count"] == 2
    assert fields["msg"] == "no key\nhere" and fields["exc"].endswith("KeyError: 'missing'")


def test_lines_below_the_level_or_a_celery_programs_loglevel_are_not_written(written):
    lines = written(log_level="WARNING")
    log.info("dropped")
    log.warning("kept")
    assert [parse_logfmt(line)["msg"] for line in lines()] == ["kept"]
    # LOG_LEVEL=INFO and `celery worker --loglevel WARNING`: the quieter wins.
    lines = written(log_level="INFO", min_level=logging.WARNING)
    log.info("dropped too")
    log.error("kept too")
    assert [parse_logfmt(line)["msg"] for line in lines()] == ["kept", "kept too"]


@celery_app.task(name="tests.logs.log_something")
def log_something(symbol: str) -> None:
    with log_context(symbol=symbol):
        log.info("inside the task")


def test_a_line_logged_in_a_celery_task_carries_the_task_name_and_id(written):
    lines = written()
    result = log_something.apply(("BTCUSDT",), task_id="task-0001")
    assert result.successful()
    ours = [parse_logfmt(line) for line in lines() if "inside the task" in line]
    assert [(f["task"], f["task_id"], f["symbol"]) for f in ours] == [
        ("tests.logs.log_something", "task-0001", "BTCUSDT")
    ]
    log.info("after the task")
    assert "task_id" not in parse_logfmt(lines()[-1])


def test_a_heartbeat_thread_logs_with_the_fields_of_the_run_that_started_it(written):
    lines = written()
    failed = threading.Event()

    def beat() -> None:
        failed.set()
        raise ConnectionError("MongoDB went away")

    with log_context(run_id="r1", strategy_id="s1"), Heartbeat(0.01, beat):
        failed.wait(5)
    warning = parse_logfmt(next(line for line in lines() if "heartbeat failed" in line))
    assert warning["run_id"] == "r1" and warning["strategy_id"] == "s1"
    assert warning["exc"].endswith("ConnectionError: MongoDB went away")


def test_an_api_request_logs_with_the_ids_in_its_url(db, redis, auth_headers, written):
    from app import create_app

    app = create_app()

    def crash(strategy_id: str) -> None:
        raise RuntimeError("a bug")

    app.add_url_rule("/api/v1/strategies/<strategy_id>/crash", view_func=crash)
    lines = written(role="api")
    assert app.test_client().get("/api/v1/strategies/abc123/crash", headers=auth_headers).status_code == 500
    log.info("between requests")
    crashed, access, between = map(parse_logfmt, lines())
    assert crashed["logger"] == "app" and crashed["level"] == "error" and crashed["strategy_id"] == "abc123"
    assert crashed["proc"] == "api" and crashed["exc"].endswith("RuntimeError: a bug")
    assert access["logger"] == "app.access" and access["strategy_id"] == "abc123"
    assert "strategy_id" not in between


def test_a_bad_log_format_stops_the_cli_and_a_worker_with_one_clear_line(cli_with_env):
    assert cli_with_env("LOG_FORMAT", "xml") == (1, "tickflow: LOG_FORMAT: 'xml' is not one of logfmt, json\n")

    worker = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", "backtests"],
        cwd=ROOT,
        env={**os.environ, "LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (worker.returncode, worker.stderr) == (1, "tickflow: LOG_FORMAT: 'xml' is not one of logfmt, json\n")
