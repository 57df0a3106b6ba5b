"""``tickflow status``: the platform at a glance.

Redis and MongoDB (up or down, with the round trip of one ping), the broker,
each Celery worker that answers a broadcast within ``--timeout`` (its queues
and the tasks it is running), how many messages wait in each queue this
deployment uses (the live queues of every shard, ``LIVE_SHARDS``, and
``backtests``), the active strategies with their accounts (the rows
``GET /api/v1/live/positions`` returns, computed by the same function), and the
backtests and sweeps that are queued or running.

Whatever is unreachable is reported as down and the rest is still shown; the
exit code is 1 when Redis, MongoDB or the broker is down, when no worker
answers, or when messages can wait in a queue no worker consumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import click
import pymongo.errors
import redis

from tickflow.settings import get_settings, server_location
from tickflow.storage.connections import mongo_db, redis_client

T = TypeVar("T")
BACKTESTS_QUEUE = "backtests"


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


class _Report:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def section(self, title: str) -> None:
        click.echo(click.style(title, bold=True))

    def line(self, text: str) -> None:
        click.echo(f"  {text}")

    def down(self, text: str) -> None:
        self.problems.append(text)
        click.echo("  " + click.style(text, fg="red"))


def _ping_services(report: _Report) -> tuple[bool, bool, bool]:
    settings = get_settings()
    report.section("Services")
    up = []
    for name, url, ping in (
        ("Redis", settings.redis_url, lambda: _quick_redis(settings.redis_url).ping()),
        ("Broker", settings.celery_broker_url, lambda: _quick_redis(settings.celery_broker_url).ping()),
        ("MongoDB", settings.mongo_uri, lambda: _quick_mongo(settings.mongo_uri).admin.command("ping")),
    ):
        try:
            _, ms = _timed(ping)
        except (redis.RedisError, pymongo.errors.PyMongoError, OSError) as exc:
            report.down(f"{name:<8} down      {server_location(url)}  ({type(exc).__name__})")
            up.append(False)
        else:
            report.line(f"{name:<8} up {ms:6.1f} ms  {server_location(url)}")
            up.append(True)
    return up[0], up[1], up[2]


def _quick_redis(url: str) -> redis.Redis:
    """A client that gives up within 2 s: status must answer even when a server does not."""
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)


def _quick_mongo(uri: str) -> pymongo.MongoClient:
    return pymongo.MongoClient(uri, serverSelectionTimeoutMS=2000, connectTimeoutMS=2000)


def _workers(report: _Report, timeout: float) -> None:
    from tasks.celery_app import app

    report.section("Workers")
    inspect = app.control.inspect(timeout=timeout)
    queues_by_node = inspect.active_queues() or {}
    active = {}
    if queues_by_node:  # ask the nodes that answered only: the call returns once they all have
        nodes = list(queues_by_node)
        active = app.control.inspect(timeout=timeout, destination=nodes, limit=len(nodes)).active() or {}
    if not queues_by_node:
        report.down(f"no worker answered within {timeout:g} s (start them with `make run` or docs/operations.md)")
    consumed: set[str] = set()
    for node in sorted(queues_by_node):
        names = sorted(q["name"] for q in queues_by_node[node])
        consumed.update(names)
        running = active.get(node, [])
        tasks = ", ".join(sorted({t.get("name", "?") for t in running})) or "idle"
        report.line(f"{node:<32} up  queues {','.join(names):<24} running {len(running)} ({tasks})")
    _queues(report, consumed)


def _queues(report: _Report, consumed: set[str]) -> None:
    """Messages waiting in each queue, flagged where no worker consumes them.

    The queues are those this process's ``LIVE_SHARDS`` sends to (``tasks.routing``): the
    plain ``ingest``, ``strategy`` and ``orders``, or each shard's ``ingest.k``,
    ``strategy.k`` and ``orders.k``, then ``backtests``; then any other queue a worker
    consumes. Sharded, the plain live queues are listed only when messages wait there: a
    feed or worker without ``LIVE_SHARDS`` sent them, and no shard's node will take them.
    """
    from tasks.routing import live_shards, node_queues

    shards = live_shards()
    expected = [queue for shard in range(shards) for queue in node_queues(shard, shards).split(",")]
    expected.append(BACKTESTS_QUEUE)
    unsharded = node_queues(0, 1).split(",") if shards > 1 else []
    queues = [*expected, *sorted(consumed.difference(expected, unsharded)), *unsharded]
    pipe = _quick_redis(get_settings().celery_broker_url).pipeline(transaction=False)
    for queue in queues:
        pipe.llen(queue)
    depths = pipe.execute()
    report.section("Queues (messages waiting)" if shards == 1 else f"Queues (messages waiting, LIVE_SHARDS={shards})")
    width = max(10, *map(len, queues))
    for queue, waiting in zip(queues, depths):
        row = f"{queue:<{width}} {waiting:>6}"
        if queue in consumed:
            report.line(row)
        elif queue in expected:
            report.down(f"{row}  no worker consumes this queue")
        elif waiting:
            report.down(f"{row}  no worker consumes this queue (sent by a process without LIVE_SHARDS={shards}?)")


def _live(report: _Report, with_mongo: bool) -> None:
    from tickflow.storage.accounts import accounts as live_accounts  # what GET /api/v1/live/positions returns

    report.section("Live strategies")
    accounts = live_accounts(redis_client())
    if not accounts:
        report.line("none active (start one: POST /api/v1/strategies/<id>/start)")
        return
    names: dict[str, str] = {}
    if with_mongo:
        from bson import ObjectId

        ids = [ObjectId(a["strategy_id"]) for a in accounts if ObjectId.is_valid(a["strategy_id"])]
        names = {str(d["_id"]): d["name"] for d in mongo_db().strategies.find({"_id": {"$in": ids}}, {"name": 1})}
    shown = None
    for account in accounts:
        sid = account["strategy_id"]
        if sid != shown:
            report.line(f"{sid}  {names.get(sid, '')}")
            shown = sid
        position = (
            "flat"
            if account["side"] == "flat"
            else f"{account['side']} {account['size']:g} @ {account['entry_price']:g}"
        )
        price = "no tick yet" if account["price"] is None else f"last {account['price']:g}"
        pnl = account["equity"] - account["cash"]
        report.line(
            f"  {account['symbol']:<10} {position:<28} {price:<18} "
            f"unrealised {account['unrealised_pnl']:+,.2f}  equity {account['equity']:,.2f} "
            f"(PnL {pnl:+,.2f})"
        )


def _jobs(report: _Report) -> None:
    from tickflow.storage.backtest_results import ACTIVE, SweepRepository

    db = mongo_db()
    report.section("Backtests and sweeps (queued or running)")
    state = {"$in": [str(s) for s in ACTIVE]}
    runs = list(
        db.backtest_results.find({"state": state}, {"state": 1, "symbol": 1, "progress": 1, "strategy_id": 1})
        .sort("created_at", 1)
        .limit(20)
    )
    sweeps_repo = SweepRepository(db)
    sweeps = list(db.sweeps.find({"state": state}, {"state": 1, "symbol": 1}).sort("created_at", 1).limit(20))
    for run in runs:
        stage = (run.get("progress") or {}).get("stage", "")
        report.line(f"backtest {run['_id']}  {run['state']:<8} {run.get('symbol', '')}  {stage}")
    for sweep in sweeps:
        progress = sweeps_repo.progress(sweep["_id"])
        chunks = sum(v for k, v in progress.items() if k.startswith("chunks_"))
        report.line(
            f"sweep    {sweep['_id']}  {sweep['state']:<8} {sweep.get('symbol', '')}  "
            f"{progress['chunks_done']}/{chunks} chunks, {progress['combos_done']} parameter sets done"
        )
    if not runs and not sweeps:
        report.line("none")


@click.command("status")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 30),
    default=1.0,
    show_default=True,
    help="Seconds to wait for workers to answer.",
)
@click.pass_context
def status(ctx: click.Context, timeout: float) -> None:
    """Redis, MongoDB, workers, queues, live strategies and running backtests; exit 1 if something is down."""
    report = _Report()
    redis_up, broker_up, mongo_up = _ping_services(report)
    if broker_up:
        _workers(report, timeout)
    else:
        report.section("Workers")
        report.down("unknown: the broker is down")
    if redis_up:
        _live(report, mongo_up)
    else:
        report.section("Live strategies")
        report.down("unknown: Redis is down")
    if mongo_up:
        _jobs(report)
    else:
        report.section("Backtests and sweeps")
        report.down("unknown: MongoDB is down")
    if report.problems:
        click.echo(f"\n{len(report.problems)} problem(s).", err=True)
        ctx.exit(1)


COMMANDS: list[click.Command] = [status]
