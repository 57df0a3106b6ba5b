"""What keeps a close's path through the workers short, and what it must not change.

The chain's message is the one Celery's ``chain`` primitive sends, built more cheaply; the
broker channel reuses one Redis client.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import redis as redis_lib

from tasks import live as live_tasks
from tasks.celery_app import app as celery_app
from tests.conftest import ROOT
from tests.live.conftest import SYMBOL, TIMEFRAME
from tickflow.live.engine import CloseJob, Leg
from tickflow.settings import get_settings


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
    assert message["headers"]["task"] == "tickflow.live.decide"
    assert args == [job.to_dict()] and kwargs == {}
    [then] = embed["chain"]  # the worker sends it with decide's return value (the job) once decide succeeds
    assert then["task"] == "tickflow.live.execute" and then["args"] == [] and then["options"]["queue"] == "orders"
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
