"""``tickflow status``: the platform at a glance, as ``app.status`` collects it (``GET /api/v1/status`` is the
same data as JSON).

Whatever is unreachable is reported as down and the rest is still shown; the exit code
is 1 when Redis, MongoDB or the broker is down, when no worker answers, or when messages
can wait in a queue no worker consumes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from app.status import platform_status

SERVICE_NAMES = {"redis": "Redis", "broker": "Broker", "mongodb": "MongoDB"}


def _section(title: str) -> None:
    click.echo(click.style(title, bold=True))


def _line(text: str) -> None:
    click.echo(f"  {text}")


def _down(text: str) -> None:
    click.echo("  " + click.style(text, fg="red"))


def _services(services: dict[str, dict[str, Any]]) -> None:
    _section("Services")
    for name, label in SERVICE_NAMES.items():
        service = services[name]
        if service["state"] == "up":
            _line(f"{label:<8} up {service['latency_ms']:6.1f} ms  {service['where']}")
        else:
            _down(f"{label:<8} down      {service['where']}  ({service['error']})")


def _workers(workers: list[dict[str, Any]] | None, timeout: float) -> None:
    _section("Workers")
    if workers is None:
        _down("unknown: the broker is down")
        return
    if not workers:
        _down(f"no worker answered within {timeout:g} s (start them with `make run` or docs/operations.md)")
    for worker in workers:
        tasks = ", ".join(worker["tasks"]) or "idle"
        queues = ",".join(worker["queues"])
        _line(f"{worker['name']:<32} up  queues {queues:<24} running {worker['running']} ({tasks})")


def _queues(queues: dict[str, Any] | None) -> None:
    if queues is None:
        return
    shards = queues["shards"]
    _section("Queues (messages waiting)" if shards == 1 else f"Queues (messages waiting, LIVE_SHARDS={shards})")
    width = max(10, *(len(queue["name"]) for queue in queues["queues"]))
    for queue in queues["queues"]:
        row = f"{queue['name']:<{width}} {queue['waiting']:>6}"
        if queue["consumed"]:
            _line(row)
        elif queue["stray"]:
            _down(f"{row}  no worker consumes this queue (sent by a process without LIVE_SHARDS={shards}?)")
        else:
            _down(f"{row}  no worker consumes this queue")


def _live(live: dict[str, Any] | None) -> None:
    _section("Live strategies")
    if live is None:
        _down("unknown: Redis is down")
        return
    halt = live["halt"]
    if halt is not None:
        flatten = ", closing every position" if halt["flatten"] else ""
        reason = f": {halt['reason']}" if halt["reason"] else ""
        _down(f"TRADING HALTED{flatten} since {_when(halt['since'])} by {halt['by']}{reason} (`tickflow resume`)")
    for row in live["symbols"]:
        if row["stale"]:
            quiet = "no tick yet" if row["age_s"] is None else f"no tick for {row['age_s']:,.0f} s"
            _down(f"{row['symbol']} stale: {quiet} (traded on {row['timeframe']}): is the feed running?")
    for stop in live["limit_stops"]:
        _down(
            f"{stop['strategy_id']} stopped by {stop['limit']} at {_when(stop['stopped_at'])}: equity "
            f"{stop['equity']:,.2f} was {stop['loss']:.2%} below {stop['reference']:,.2f} "
            f"(limit {stop['threshold']:.2%}; start it again for a new run)"
        )
    if not live["accounts"]:
        _line("none active (start one: POST /api/v1/strategies/<id>/start)")
        return
    shown = None
    for account in live["accounts"]:
        sid = account["strategy_id"]
        if sid != shown:
            _line(f"{sid}  {account['strategy_name'] or ''}")
            shown = sid
        position = (
            "flat"
            if account["side"] == "flat"
            else f"{account['side']} {account['size']:g} @ {account['entry_price']:g}"
        )
        price = "no tick yet" if account["price"] is None else f"last {account['price']:g}"
        pnl = account["equity"] - account["cash"]
        _line(
            f"  {account['symbol']:<10} {position:<28} {price:<18} "
            f"unrealised {account['unrealised_pnl']:+,.2f}  equity {account['equity']:,.2f} "
            f"(PnL {pnl:+,.2f})"
        )
    if live["outbox"]:
        _line(f"trade outbox: {live['outbox']} record(s) waiting for MongoDB")


def _when(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _jobs(jobs: dict[str, list[dict[str, Any]]] | None) -> None:
    if jobs is None:
        _section("Backtests and sweeps")
        _down("unknown: MongoDB is down")
        return
    _section("Backtests and sweeps (queued or running)")
    for run in jobs["backtests"]:
        _line(f"backtest {run['id']}  {run['state']:<8} {run['symbol'] or ''}  {run['stage'] or ''}")
    for sweep in jobs["sweeps"]:
        _line(
            f"sweep    {sweep['id']}  {sweep['state']:<8} {sweep['symbol'] or ''}  "
            f"{sweep['chunks_done']}/{sweep['chunks_total']} chunks, {sweep['combos_done']} parameter sets done"
        )
    if not jobs["backtests"] and not jobs["sweeps"]:
        _line("none")


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
    report = platform_status(timeout)
    _services(report["services"])
    _workers(report["workers"], timeout)
    _queues(report["queues"])
    _live(report["live"])
    _jobs(report["jobs"])
    if report["problems"]:
        click.echo(f"\n{len(report['problems'])} problem(s).", err=True)
        ctx.exit(1)


COMMANDS: list[click.Command] = [status]
