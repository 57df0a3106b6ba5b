"""Schemathesis fuzzes the API from its own OpenAPI document: no request gets a 5xx, every answer is documented.

Two of ``schemathesis run``'s phases, through its Python API (not its pytest integration: the app,
and so the document, exists only once the session's services run, and ``schemathesis.pytest.from_fixture``
fails on pytest 9.2, whose items have no ``_nodeid``):

- fuzzing: every operation gets ``EXAMPLES`` generated requests that fit its schema and as many
  that do not (a wrong type, a value out of range, a missing field...);
- stateful: sequences of calls where one answer's ids feed the next request, along the links
  schemathesis infers from the document (a listed strategy's id into its read, edit, start, chart...).

Every answer must pass three checks: not a server error, a status the document declares for
the operation, a body that matches that status's schema.

Deterministic: Hypothesis is derandomized (its seed comes from the test) and keeps no example
database, so every run sends the same requests. ``TEST_FUZZ_EXAMPLES`` raises the number of
examples for a longer search (docs/api.md, "Fuzzing").

It runs against the session's Redis and MongoDB, emptied before it and again before the next
test, over a stored strategy and its candles so that requests reach beyond "not found". The
backtests and sweeps it launches are queued messages that no worker runs here; they are taken
off the broker afterwards, so no later test's worker meets them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import redis as redis_lib
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import Config, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from strategies.examples import load_example
from tasks.backtests import QUEUE
from tickflow.settings import get_settings
from tickflow.storage.candles import CandleStore
from tickflow.storage.schema import API_TOKENS
from tickflow.storage.strategies import StrategyRepository
from tickflow.synthetic import generate_candles

API = "/api/v1"
EXAMPLES = int(os.environ.get("TEST_FUZZ_EXAMPLES", "20"))  # per operation and kind of data; sequences too
STEPS = 6  # calls per sequence at most (schemathesis' default)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,  # a request's time is the app's business (bench/api.py), not a property here
    suppress_health_check=list(HealthCheck),  # schemathesis' strategies are large and filter a lot by design
)
# Served by the stream process (app/stream.py, tests/app/test_stream.py), documented with the API's operations.
STREAM_PROCESS = f"^{API}/live/stream(/health)?$"
# GET /status waits its `timeout` (up to 10 s) for Celery workers, and none run here: the least is fuzz enough.
FIXED_QUERY = {f"GET {API}/status": {"timeout": 0.1}}
CANDLES = generate_candles(500, "1h", seed=1)


@dataclass
class Fuzz:
    schema: schemathesis.BaseSchema  # the app's own OpenAPI document, as schemathesis reads it
    headers: dict[str, str]  # what every request authenticates with
    reset: Callable[[], None]  # puts the databases back to where the fuzz starts


@pytest.fixture
def fuzz(app, db, redis, auth_headers) -> Iterator[Fuzz]:
    """The API over a stored strategy and its candles; its token (``auth_headers``) must be let into every operation."""

    def reset() -> None:
        for name in db.list_collection_names():
            if name != API_TOKENS:
                db[name].delete_many({})
        redis.flushdb()
        StrategyRepository(db, redis).create(load_example("sma_cross"))
        CandleStore(db).upsert("BTCUSDT", "1h", CANDLES)

    reset()
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app, config=Config())
    with broker_left_as_found():
        yield Fuzz(schema.exclude(path_regex=STREAM_PROCESS), auth_headers, reset)


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(fuzz):
    failures = []
    for result in fuzz.schema.get_all_operations():
        operation = result.ok()
        for mode in GenerationMode:
            cases = operation.as_strategy(generation_mode=mode, query=FIXED_QUERY.get(operation.label))
            try:
                send_each(cases, fuzz.headers)
            except Unsatisfiable:  # an operation without parameters or body: nothing to get wrong
                assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request can be generated"
            except FailureGroup as failure:
                failures.append(f"{operation.label} ({mode.value} data): {failure}")
    assert not failures, "\n".join(failures)


def test_no_sequence_of_linked_requests_gets_a_server_error_or_an_undocumented_answer(fuzz):
    fuzz.schema.apply_stateful_inference(None)  # links from the document: ids one answer has, parameters another takes

    class Sequences(fuzz.schema.as_state_machine()):
        def setup(self) -> None:
            """Every sequence starts from the same state, so the same steps meet the same answers: Hypothesis
            checks that a replayed sequence draws as before."""
            fuzz.reset()

        def get_call_kwargs(self, case) -> dict:
            return {"headers": fuzz.headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, checks=CHECKS, headers=fuzz.headers)

    # Generation only: a shrunk sequence is another sequence, whose answers (ids...) differ from the first's.
    Sequences.run(settings=settings(HYPOTHESIS, phases=[Phase.generate], stateful_step_count=STEPS))


def send_each(cases: SearchStrategy, headers: dict[str, str]) -> None:
    """Send ``EXAMPLES`` requests drawn from ``cases`` and check each answer."""

    @HYPOTHESIS
    @given(case=cases)
    def send(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    send()


@contextmanager
def broker_left_as_found() -> Iterator[None]:
    """Takes the messages sent to the backtest queue meanwhile off it again (they are pushed at its head)."""
    broker = redis_lib.Redis.from_url(get_settings().celery_broker_url)
    before = broker.llen(QUEUE)
    yield
    sent = broker.llen(QUEUE) - before
    if sent > 0:
        broker.ltrim(QUEUE, sent, -1)
