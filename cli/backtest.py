"""``tickflow backtest`` and ``tickflow sweep``: backtest a strategy here and now, or on the cluster.

``backtest --strategy SPEC.json --candles FILE.csv`` runs in this process and
needs no service at all. ``backtest --strategy-id ID`` and ``sweep`` submit to
the workers through MongoDB and the broker, with the same functions as the
API, then follow the work with a progress bar (on stderr: stdout holds only
the result). Ctrl-C stops following, not the work.

The engine (numba) and Celery are imported inside the commands that use
them: every ``tickflow`` command imports this module, and most need neither.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import click
from pymongo.database import Database

from backtests.defaults import DEFAULT_CASH, DEFAULT_OBJECTIVE, MAX_CHUNK_SIZE, STAGES
from backtests.errors import InvalidRequest
from cli.strategies import read_spec
from strategies.domain import iso_time, skips_text
from strategies.spec import SpecError, validate_spec
from tickflow.candle_files import CandleFormatError, read_candles_csv
from tickflow.storage.backtest_results import (
    ACTIVE,
    BacktestRepository,
    State,
    SweepRepository,
)
from tickflow.storage.candles import CandleDataError, normalize_symbol
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.schema import ensure_schema
from tickflow.storage.strategies import StrategyRepository

POLL_S = 0.2
SIZING_HINT = "Sizes are whole multiples of sizing.step; see sizing in docs/strategy-spec.md."
TIME_STATS = frozenset({"start", "end"})
DURATION_STATS = frozenset({"duration", "max_drawdown_duration", "avg_holding_time"})


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _params(ctx: click.Context, param: click.Parameter, value: str | None) -> dict[str, int | float]:
    """``fast=10,slow=30`` as a dict of numbers."""
    found: dict[str, int | float] = {}
    for item in filter(None, (part.strip() for part in (value or "").split(","))):
        name, sep, number = (part.strip() for part in item.partition("="))
        try:
            if not (sep and name):
                raise ValueError(item)
            found[name] = _number(number)
        except ValueError:
            raise click.BadParameter(f"{item!r} is not NAME=NUMBER (e.g. fast=10,slow=30)", ctx, param) from None
    return found


def _grid(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    """``fast=5:50:5`` (a range, stop included), ``fast=5:50`` (step 1), ``fast=5,10,20`` or ``fast=7``."""
    grid: dict[str, Any] = {}
    for item in values:
        name, _, spec = item.partition("=")
        try:
            if ":" in spec:
                bounds = [_number(part) for part in spec.split(":")]
                if len(bounds) not in (2, 3):
                    raise ValueError
                grid[name.strip()] = dict(zip(("start", "stop", "step"), bounds))
            elif "," in spec:
                grid[name.strip()] = [_number(part) for part in spec.split(",")]
            else:
                grid[name.strip()] = _number(spec)
        except ValueError:
            raise click.BadParameter(
                f"{item!r} is not NAME=START:STOP[:STEP], NAME=V1,V2,... or NAME=V", ctx, param
            ) from None
    return grid


def _duration(ms: int | float) -> str:
    """``3d 04:05:00``, as backtesting.py shows durations."""
    seconds = int(ms // 1000)
    days, rest = divmod(seconds, 86_400)
    return f"{days}d {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def stats_lines(stats: Mapping[str, Any]) -> list[str]:
    """The stats as an aligned table, named as in JSON and as ``--objective`` takes them."""
    width = max(map(len, stats), default=0)
    lines = []
    for name, value in stats.items():
        if value is None or (isinstance(value, float) and value != value):
            shown = "-"
        elif name in TIME_STATS:
            shown = iso_time(int(value))
        elif name in DURATION_STATS:
            shown = _duration(value)
        elif isinstance(value, int):
            shown = f"{value:,}"
        else:
            shown = f"{value:,.4f}".rstrip("0").rstrip(".")
        lines.append(f"{name:<{width}}  {shown:>24}")
    return lines


def skip_warning(skipped: Mapping[str, Any] | None) -> str | None:
    """The warning line for a backtest's skipped entries (its ``skipped`` field), or None when there were none."""
    if not skipped or not skipped["total"]:
        return None
    first = skipped["first"][0]
    return (
        f"warning: {skips_text(skipped['by_reason'])}; the first on {iso_time(first['time'])}, "
        f"{first['side']} at {first['price']:,.2f} with {first['equity']:,.2f} of equity. {SIZING_HINT}"
    )


def _echo_result(
    stats: Mapping[str, Any],
    trades: list[dict],
    open_trades: list[dict],
    skipped: Mapping[str, Any] | None,
    as_json: bool,
    **extra: Any,
) -> None:
    """The result on stdout (a stats table, or one JSON object), and a warning on stderr if entries were skipped."""
    if as_json:
        shown = {**extra, "stats": stats, "trades": trades, "open_trades": open_trades, "skipped": skipped}
        click.echo(json.dumps(shown))
    else:
        for line in stats_lines(stats):
            click.echo(line)
        if open_trades:
            trade = open_trades[0]
            click.echo(
                f"open at the end: {trade['side']} {trade['size']:g} from {iso_time(trade['entry_time'])} "
                f"at {trade['entry_price']:g}"
            )
    warning = skip_warning(skipped)
    if warning:
        click.echo(warning, err=True)


def _repositories() -> tuple[Database, StrategyRepository]:
    db = mongo_db()
    ensure_schema(db)
    return db, StrategyRepository(db, redis_client())


def _follow(load: Callable[[], dict], length: int, position: Callable[[dict], int], label: str) -> dict:
    """Poll ``load()`` until its state is final, drawing ``position`` of ``length`` on stderr."""
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        while True:
            doc = load()
            bar.update((length if doc["state"] == State.DONE else position(doc)) - bar.pos)
            if doc["state"] not in ACTIVE:
                return doc
            time.sleep(POLL_S)


def _finished(doc: Mapping[str, Any], what: str) -> None:
    """One line and exit 1 unless ``doc`` is done."""
    if doc["state"] == State.FAILED:
        raise click.ClickException(f"{what} {doc['_id']} failed: {doc.get('error', 'no reason recorded')}")
    if doc["state"] != State.DONE:
        raise click.ClickException(f"{what} {doc['_id']} was {doc['state']}")


def _submit(submit: Callable[..., dict], *args: Any, **request: Any) -> dict:
    """``submit(...)`` with its refusals as one-line errors."""
    from tasks.backtests import EnqueueFailed

    try:
        return submit(*args, **request)
    except InvalidRequest as exc:
        raise click.ClickException(f"invalid request: {exc}") from None
    except EnqueueFailed as exc:
        raise click.ClickException(str(exc)) from None


@click.command("backtest")
@click.option(
    "--strategy",
    "spec_file",
    type=click.File("rb"),
    metavar="SPEC.json",
    help="Backtest this spec here, on --candles, with no service.",
)
@click.option(
    "--candles",
    "candles_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE.csv",
    help="Candles for --strategy (timestamp, open, high, low, close, volume).",
)
@click.option("--strategy-id", metavar="ID", help="Backtest this stored strategy on the cluster.")
@click.option(
    "--symbol",
    help="The symbol (default: the strategy's first); with --strategy, the one whose quantity step applies.",
)
@click.option("--params", callback=_params, metavar="NAME=V,...", help="Param overrides, e.g. fast=10,slow=30.")
@click.option("--cash", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_CASH, show_default=True)
@click.option(
    "--commission",
    type=click.FloatRange(0, 0.1, max_open=True),
    help="With --strategy: fraction of the traded value per fill, instead of the spec's.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: stats, trades, open_trades.")
@click.option("--no-wait", is_flag=True, help="With --strategy-id: print the run's id and return.")
def backtest(
    spec_file: IO[bytes] | None,
    candles_file: Path | None,
    strategy_id: str | None,
    symbol: str | None,
    params: dict[str, float],
    cash: float,
    commission: float | None,
    as_json: bool,
    no_wait: bool,
) -> None:
    """Backtest a strategy: a spec file on a candle file here, or a stored strategy on the cluster."""
    if (spec_file is None) == (strategy_id is None):
        raise click.UsageError("give --strategy SPEC.json with --candles FILE.csv, or --strategy-id ID")
    if spec_file is not None:
        if candles_file is None:
            raise click.UsageError("--strategy needs --candles FILE.csv")
        if no_wait:
            raise click.UsageError("--no-wait goes with --strategy-id")
        _backtest_here(spec_file, candles_file, symbol, params, cash, commission, as_json)
    else:
        if candles_file is not None or commission is not None:
            raise click.UsageError("--candles and --commission go with --strategy (a stored strategy has its costs)")
        _backtest_on_cluster(strategy_id, symbol, params, cash, as_json, no_wait)


def _backtest_here(
    spec_file: IO[bytes],
    candles_file: Path,
    symbol: str | None,
    params: dict[str, float],
    cash: float,
    commission: float | None,
    as_json: bool,
) -> None:
    doc = read_spec(spec_file)
    if commission is not None:
        doc = {**doc, "costs": {**(doc.get("costs") or {}), "commission": commission}}
    try:
        spec = validate_spec(doc)
        if params:
            spec = spec.with_params(params)
    except SpecError as exc:
        raise click.ClickException(
            f"{spec_file.name}: invalid spec: {'; '.join(str(issue).splitlines()[0] for issue in exc.errors)}"
        ) from None
    try:
        symbol = normalize_symbol(symbol) if symbol is not None else None
    except CandleDataError as exc:
        raise click.BadParameter(str(exc), param_hint="--symbol") from None
    from strategies.backtest import check_candles, run_backtest  # numba: loaded only when a backtest runs here

    try:
        candles = read_candles_csv(candles_file)
        check_candles(candles)
    except (CandleFormatError, ValueError) as exc:
        raise click.ClickException(f"{candles_file}: {exc}") from None
    result = run_backtest(spec, candles, cash=cash, symbol=symbol).to_dict()
    _echo_result(result["stats"], result["trades"], result["open_trades"], result["skipped"], as_json)


def _backtest_on_cluster(
    strategy_id: str, symbol: str | None, params: dict[str, float], cash: float, as_json: bool, no_wait: bool
) -> None:
    from tasks.backtests import submit_backtest

    db, strategies = _repositories()
    run = _submit(submit_backtest, db, strategies, strategy_id, params=params, symbol=symbol, cash=cash)
    run_id = str(run["_id"])
    if no_wait:
        click.echo(run_id)
        return
    click.echo(f"backtest {run_id} queued ({run['strategy_name']} on {run['symbol']} {run['timeframe']})", err=True)
    repository = BacktestRepository(db)
    run = _follow(lambda: repository.get(run_id), len(STAGES), lambda doc: doc["progress"].get("step", 0), "backtest")
    _finished(run, "backtest")
    trades = repository.trades(run, 0, run["n_trades"]).to_dicts() if as_json else []
    _echo_result(run["stats"], trades, run["open_trades"], run.get("skipped"), as_json, id=run_id)


@click.command("sweep")
@click.option("--strategy-id", required=True, metavar="ID", help="The stored strategy to sweep.")
@click.option(
    "--grid",
    "grid",
    multiple=True,
    required=True,
    callback=_grid,
    metavar="NAME=SPEC",
    help="A swept param: NAME=START:STOP[:STEP] (stop included), NAME=V1,V2,... or NAME=V. Repeat per param.",
)
@click.option("--random", "sample", type=click.IntRange(min=1), metavar="N", help="Run N sets drawn from the grid.")
@click.option("--seed", type=click.IntRange(min=0), help="With --random: the draw's seed (recorded either way).")
@click.option("--constraint", metavar="RULE", help="Keep only sets satisfying RULE, e.g. '$fast < $slow'.")
@click.option("--objective", default=DEFAULT_OBJECTIVE, show_default=True, help="The stat to rank by.")
@click.option("--minimize", is_flag=True, help="Rank the lowest objective first.")
@click.option("--symbol", help="The symbol (default: the strategy's first).")
@click.option("--cash", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_CASH, show_default=True)
@click.option("--chunk-size", type=click.IntRange(1, MAX_CHUNK_SIZE), help="Param sets per task (chosen if absent).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Results to show.")
@click.option("--no-wait", is_flag=True, help="Print the sweep's id and return.")
def sweep(
    strategy_id: str,
    grid: dict[str, Any],
    sample: int | None,
    seed: int | None,
    constraint: str | None,
    objective: str,
    minimize: bool,
    symbol: str | None,
    cash: float,
    chunk_size: int | None,
    top: int,
    no_wait: bool,
) -> None:
    """Backtest a stored strategy over a grid of params on the cluster, and rank the results."""
    from tasks.backtests import submit_sweep

    if seed is not None and sample is None:
        raise click.UsageError("--seed goes with --random")
    db, strategies = _repositories()
    random = {"n": sample, **({"seed": seed} if seed is not None else {})} if sample is not None else None
    doc = _submit(
        submit_sweep,
        db,
        strategies,
        strategy_id,
        grid=grid,
        random=random,
        constraint=constraint,
        objective=objective,
        maximize=not minimize,
        symbol=symbol,
        cash=cash,
        chunk_size=chunk_size,
    )
    sweep_oid = doc["_id"]
    sweep_id = str(sweep_oid)
    if no_wait:
        click.echo(sweep_id)
        return
    click.echo(f"sweep {sweep_id} queued: {doc['combos']:,} param sets in {doc['chunks_total']:,} chunks", err=True)
    repository = SweepRepository(db)
    started = time.monotonic()
    doc = _follow(
        lambda: repository.get(sweep_id),
        doc["chunks_total"],
        lambda _: repository.progress(sweep_oid)["chunks_done"],
        "chunks",
    )
    _finished(doc, "sweep")
    click.echo(
        f"sweep {sweep_id} done: {doc['combos']:,} param sets in {time.monotonic() - started:.1f} s, "
        f"best {objective} first"
    )
    ranked, _ = repository.ranking(sweep_oid, 0, top)
    names = list(doc["space"])
    click.echo("  ".join(["rank", *(f"{name:>10}" for name in names), f"{objective:>14}", "   return_pct", "n_trades"]))
    for rank, result in enumerate(ranked, 1):
        stats = result["stats"] or {}
        value, total = stats.get(objective), stats.get("return_pct")
        click.echo(
            "  ".join(
                [
                    f"{rank:>4}",
                    *(f"{result['params'][name]:>10g}" for name in names),
                    f"{_cell(value):>14}",
                    f"{_cell(total):>13}",
                    f"{stats.get('n_trades', '-'):>8}",
                    *_why_no_trades(result),
                ]
            )
        )
    skipped = repository.skipped(sweep_oid)
    if skipped["combos"]:
        click.echo(
            f"warning: {skipped['combos']:,} of {doc['combos']:,} param sets skipped entries, "
            f"{skips_text(skipped['by_reason'])}. {SIZING_HINT}",
            err=True,
        )


def _why_no_trades(result: Mapping[str, Any]) -> list[str]:
    """The last cell of a sweep row without trades: the strategy refused its params, or why nothing traded."""
    if result.get("error"):
        return [f"refused: {result['error']}"]
    if result.get("no_trades_reason"):
        return [f"no trades: {result['no_trades_reason']}"]
    return []


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


COMMANDS: list[click.Command] = [backtest, sweep]
