"""The platform's status as data: what ``tickflow status`` prints and ``GET /api/v1/status`` returns.

Redis, the broker and MongoDB (up or down, with the round trip of one ping), each Celery
worker that answers a broadcast within ``timeout`` (its queues and the tasks it is
running), how many messages wait in each queue this deployment uses (the live queues of
every shard, ``LIVE_SHARDS``, and ``backtests``), the active strategies' accounts (the
rows ``GET /api/v1/live/positions`` returns), the age of every live symbol's last tick (and
whether it is stale, ``tickflow.storage.liveness``), the halt if one is in force, the trade
outbox, and the backtests and sweeps that are queued or running.

Whatever is unreachable is reported as down and the rest is still collected. Each
problem (a service down, no worker answering, messages waiting where no worker consumes
them, a stale symbol) is one line in ``problems``: the CLI exits 1 when there is any.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pymongo
import pymongo.errors
import redis
from bson import ObjectId

from app.probes import quick_redis
from tasks.celery_app import app as celery_app
from tasks.routing import live_shards, node_queues
from tickflow.settings import get_settings, server_location
from tickflow.storage import keys
from tickflow.storage.accounts import accounts
from tickflow.storage.active import limit_stops
from tickflow.storage.backtest_results import ACTIVE, SweepRepository
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.halt import current_halt
from tickflow.storage.liveness import stale_problem, symbol_freshness

BACKTESTS_QUEUE = "backtests"
PING_TIMEOUT_S = 2.0
JOBS_SHOWN = 20


def platform_status(timeout: float = 1.0) -> dict[str, Any]:
    """Everything above, as JSON-ready data; ``timeout`` is how long workers get to answer."""
    problems: list[str] = []
    services = _services(problems)
    status: dict[str, Any] = {"services": services, "workers": None, "queues": None, "live": None, "jobs": None}
    if services["broker"]["state"] == "up":
        status["workers"] = _workers(timeout, problems)
        consumed = {queue for worker in status["workers"] for queue in worker["queues"]}
        status["queues"] = _queues(consumed, problems)
    else:
        problems.append("workers unknown: the broker is down")
    if services["redis"]["state"] == "up":
        status["live"] = _live(services["mongodb"]["state"] == "up", problems)
    else:
        problems.append("live strategies unknown: Redis is down")
    if services["mongodb"]["state"] == "up":
        status["jobs"] = _jobs()
    else:
        problems.append("backtests and sweeps unknown: MongoDB is down")
    status["problems"] = problems
    return status


def _services(problems: list[str]) -> dict[str, dict[str, Any]]:
    settings = get_settings()
    checks: dict[str, tuple[str, Callable[[], object]]] = {
        "redis": (settings.redis_url, lambda: quick_redis(settings.redis_url, PING_TIMEOUT_S).ping()),
        "broker": (settings.celery_broker_url, lambda: quick_redis(settings.celery_broker_url, PING_TIMEOUT_S).ping()),
        "mongodb": (settings.mongo_uri, lambda: _quick_mongo(settings.mongo_uri).admin.command("ping")),
    }
    services = {}
    for name, (url, ping) in checks.items():
        started = time.perf_counter()
        try:
            ping()
        except (redis.RedisError, pymongo.errors.PyMongoError, OSError) as exc:
            services[name] = {"state": "down", "where": server_location(url), "error": type(exc).__name__}
            problems.append(f"{name} is down ({server_location(url)})")
        else:
            latency = round((time.perf_counter() - started) * 1000, 2)
            services[name] = {"state": "up", "where": server_location(url), "latency_ms": latency}
    return services


def _quick_mongo(uri: str) -> pymongo.MongoClient:
    timeout_ms = int(PING_TIMEOUT_S * 1000)
    return pymongo.MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)


def _workers(timeout: float, problems: list[str]) -> list[dict[str, Any]]:
    queues_by_node = celery_app.control.inspect(timeout=timeout).active_queues() or {}
    active = {}
    if queues_by_node:  # ask the nodes that answered only: the call returns once they all have
        nodes = list(queues_by_node)
        active = celery_app.control.inspect(timeout=timeout, destination=nodes, limit=len(nodes)).active() or {}
    else:
        problems.append(f"no worker answered within {timeout:g} s")
    return [
        {
            "name": node,
            "queues": sorted(queue["name"] for queue in queues_by_node[node]),
            "running": len(active.get(node, [])),
            "tasks": sorted({task.get("name", "?") for task in active.get(node, [])}),
        }
        for node in sorted(queues_by_node)
    ]


def _queues(consumed: set[str], problems: list[str]) -> dict[str, Any]:
    """Messages waiting in each queue, flagged where no worker consumes them.

    The queues are those this process's ``LIVE_SHARDS`` sends to (``tasks.routing``): the
    plain ``ingest``, ``strategy`` and ``orders``, or each shard's ``ingest.k``,
    ``strategy.k`` and ``orders.k``, then ``backtests``; then any other queue a worker
    consumes. Sharded, the plain live queues are listed only when messages wait there: a
    feed or worker without ``LIVE_SHARDS`` sent them, and no shard's node will take them.
    """
    shards = live_shards()
    expected = [queue for shard in range(shards) for queue in node_queues(shard, shards).split(",")]
    expected.append(BACKTESTS_QUEUE)
    unsharded = node_queues(0, 1).split(",") if shards > 1 else []
    names = [*expected, *sorted(consumed.difference(expected, unsharded)), *unsharded]
    pipe = quick_redis(get_settings().celery_broker_url, PING_TIMEOUT_S).pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
    rows = []
    for name, waiting in zip(names, pipe.execute()):
        if name not in consumed and name not in expected and not waiting:
            continue
        row = {"name": name, "waiting": waiting, "consumed": name in consumed, "stray": name not in expected}
        if not row["consumed"]:
            problems.append(f"no worker consumes queue {name} ({waiting} waiting)")
        rows.append(row)
    return {"shards": shards, "queues": rows}


def _live(with_mongo: bool, problems: list[str]) -> dict[str, Any]:
    client = redis_client()
    rows = accounts(client)
    names: dict[str, str] = {}
    if with_mongo and rows:
        ids = [ObjectId(row["strategy_id"]) for row in rows if ObjectId.is_valid(row["strategy_id"])]
        names = {str(d["_id"]): d["name"] for d in mongo_db().strategies.find({"_id": {"$in": ids}}, {"name": 1})}
    freshness = symbol_freshness(client)
    problems.extend(stale_problem(row) for row in freshness if row.stale)
    halted = current_halt(client)
    return {
        "accounts": [{**row, "strategy_name": names.get(row["strategy_id"])} for row in rows],
        "symbols": [asdict(row) for row in freshness],
        "halt": None if halted is None else {"halted": True, **asdict(halted)},
        "limit_stops": limit_stops(client),
        "outbox": client.hlen(keys.trade_outbox()),
    }


def _jobs() -> dict[str, list[dict[str, Any]]]:
    db = mongo_db()
    state = {"$in": [str(s) for s in ACTIVE]}
    runs = (
        db.backtest_results.find({"state": state}, {"state": 1, "symbol": 1, "progress": 1, "strategy_id": 1})
        .sort("created_at", 1)
        .limit(JOBS_SHOWN)
    )
    sweeps = SweepRepository(db)
    sweep_docs = db.sweeps.find({"state": state}, {"state": 1, "symbol": 1}).sort("created_at", 1).limit(JOBS_SHOWN)
    backtests = [
        {
            "id": str(run["_id"]),
            "state": run["state"],
            "symbol": run.get("symbol"),
            "stage": (run.get("progress") or {}).get("stage"),
        }
        for run in runs
    ]
    sweep_rows = []
    for sweep in sweep_docs:
        progress = sweeps.progress(sweep["_id"])
        sweep_rows.append(
            {
                "id": str(sweep["_id"]),
                "state": sweep["state"],
                "symbol": sweep.get("symbol"),
                "chunks_done": progress["chunks_done"],
                "chunks_total": sum(v for k, v in progress.items() if k.startswith("chunks_")),
                "combos_done": progress["combos_done"],
            }
        )
    return {"backtests": backtests, "sweeps": sweep_rows}
