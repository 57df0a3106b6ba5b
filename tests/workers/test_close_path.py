"""What keeps a close's path through the workers short, and what it must not change.

The chain's message is the one Celery's ``chain`` primitive sends, built more cheaply; the
broker channel reuses one Redis client; workers load the position kernels before forking
and connect each pool process before its first task (``tasks/live.py``).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys

import redis as redis_lib

from tasks import live as live_tasks
from tasks.celery_app import app as celery_app
from tests.conftest import ROOT
from tests.workers.conftest import SYMBOL, TIMEFRAME
from tickflow.settings import LiveSettings, get_settings
from workers.engine import CloseJob, Leg, LiveEngine


def broker() -> redis_lib.Redis:
    return redis_lib.Redis.from_url(get_settings().celery_broker_url, decode_responses=True)


def in_fresh_process(script: str) -> dict:
    """Run ``script`` in a new Python process (nothing loaded, declared or connected yet) with the test
    settings; return the JSON object it prints last."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.splitlines()[-1])


def test_a_close_sends_decide_carrying_execute_as_the_rest_of_its_chain(live_broker):
    job = CloseJob(TIMEFRAME, 1_704_067_200_000, 1_704_067_260_005, [Leg(SYMBOL, 1_704_067_260_000, ["s1", "s2"])])
    broker().delete("strategy")

    live_tasks.start_chain(job)

    message = json.loads(broker().rpop("strategy"))
    args, kwargs, embed = json.loads(base64.b64decode(message["body"]))
    assert message["headers"]["task"] == "tasks.live.decide"
    assert args == [job.to_dict()] and kwargs == {}
    [then] = embed["chain"]  # the worker sends it with decide's return value (the job) once decide succeeds
    assert then["task"] == "tasks.live.execute" and then["args"] == [] and then["options"]["queue"] == "orders"
    # Monitoring (Flower, celery events) shows the close, not a repr of the whole job.
    assert message["headers"]["argsrepr"] == then["options"]["argsrepr"] == f"[<close 1m {job.close}: 1 symbol(s)>]"


def test_the_broker_channel_reuses_one_redis_client_until_its_pool_is_replaced(live_broker):
    with celery_app.connection_for_write() as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as again:
            assert first is again
        channel._disconnect_pools()  # what kombu does after a fork
        with channel.conn_or_acquire() as after:
            assert after is not first and after.connection_pool is channel.pool
            assert after.ping()


FIRST_CLOSE = """
import json, threading
import redis
from tasks import live
from tasks.celery_app import app
from workers.engine import CloseJob, Leg

live._connect_pool_process()  # what the worker runs in each new pool process
commands, watching = [], threading.Event()

def watch():
    with redis.Redis.from_url(app.conf.broker_url).monitor() as monitor:
        watching.set()
        for seen in monitor.listen():
            if seen["command"].startswith("ECHO"):
                return
            commands.append(seen["command"].split()[0])

watcher = threading.Thread(target=watch)
watcher.start()
watching.wait()
live.start_chain(CloseJob("1m", 0, 0, [Leg("BTCUSDT", 60_000, ["s1"])]))
redis.Redis.from_url(app.conf.broker_url).echo("done")
watcher.join()
print(json.dumps({"commands": commands}))
"""


def test_a_pool_process_connects_and_declares_the_live_queues_before_its_first_close(live_broker):
    """Otherwise its first close's send connects, pings and declares the queue first: 18 commands, 10-12 ms."""
    commands = in_fresh_process(FIRST_CLOSE)["commands"]

    assert commands[: commands.index("LPUSH") + 1] == ["LPUSH"]  # (then the watcher's own connection)


def test_a_pool_process_that_cannot_connect_ahead_still_starts(live_broker, db, caplog, monkeypatch):
    unreachable = redis_lib.Redis(port=1, socket_connect_timeout=0.5)
    monkeypatch.setitem(live_tasks._engines, os.getpid(), LiveEngine(unreachable, db, LiveSettings()))

    with caplog.at_level(logging.WARNING):
        live_tasks._connect_pool_process()

    assert "could not connect ahead of its first task" in caplog.text


WARM_THEN_TRADE = """
import json
from strategies import position as machine
from tests.workers.conftest import SYMBOL, TIMEFRAME, create_strategy, spec_doc
from tests.workers.replay import candle_ticks
from tickflow.settings import LiveSettings
from workers.engine import LiveEngine
from workers.positions import warm_kernels
from workers.ticks import encode_batch
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.synthetic import generate_candles

KERNELS = (machine.on_signals, machine.on_close, machine.fill_order, machine.step_ticks, machine.equity)
def loaded():
    return [sorted(map(str, kernel.signatures)) for kernel in KERNELS]

warm_kernels()
warmed = loaded()
engine = LiveEngine(redis_client(), mongo_db(), LiveSettings())
doc = spec_doc("sma_cross", params={"fast": 3, "slow": 8}, risk={"stop_loss": {"fraction": 0.002}})
strategy_id = create_strategy(mongo_db(), redis_client(), doc)
engine.start(strategy_id, "paper", 10_000)
candles = generate_candles(300, TIMEFRAME, seed=11)
for i in range(len(candles)):  # as the workers do: ingest, decide, execute, stops
    jobs, holders = engine.ingest(encode_batch(candle_ticks(SYMBOL, TIMEFRAME, candles, i)))
    for job in jobs:
        engine.decide(job)
        engine.execute(job)
    engine.check_stops(holders)
reasons = sorted(mongo_db().trade_logs.distinct("exit_reason"))
trades = mongo_db().trade_logs.count_documents({})
print(json.dumps({"warmed": warmed, "after": loaded(), "exit_reasons": reasons, "trades": trades}))
"""


def test_the_kernels_a_worker_loads_before_forking_are_those_its_closes_and_stops_call(db, redis):
    """numba loads a kernel once per signature of argument types, so warming helps only if the engine's
    calls match ``warm_kernels``' exactly: a fresh process warms, then trades through signals and stops,
    and its kernels have gained no signature."""
    seen = in_fresh_process(WARM_THEN_TRADE)

    assert {"signal", "stop_loss"} <= set(seen["exit_reasons"]), f"pick a seed whose trades close both ways: {seen}"
    assert seen["after"] == seen["warmed"]
