"""``tickflow strategies``: list, show, create and validate strategy specs; start and stop trading them.

``validate`` only reads the file, so it works with no service running (in an
editor hook, in CI); the other commands talk to MongoDB and Redis through
the same repository as the API, and ``start``/``stop`` run the same tasks the API runs
(``tasks.live.start_strategy``, ``stop_strategy``) in this process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

import click

from strategies.spec import SpecError, SpecIssue, validate_spec
from tickflow.settings import ExchangeSettings
from tickflow.storage.active import MODES, LiveStartRefused, OrderUnsettled, PositionsHeld, PositionsOpen
from tickflow.storage.connections import redis_client
from tickflow.storage.schema import ready_db
from tickflow.storage.strategies import Conflict, Strategy, StrategyNotFound, StrategyRepository

LIST_PAGE_SIZE = 100


def read_spec(file: IO[bytes]) -> dict[str, Any]:
    """The JSON object in ``file``; anything else is a one-line error."""
    try:
        doc = json.load(file)
    except (ValueError, RecursionError) as exc:
        raise click.ClickException(f"{file.name}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise click.ClickException(f"{file.name}: a strategy spec is a JSON object")
    return doc


def _repository() -> StrategyRepository:
    return StrategyRepository(ready_db(), redis_client())


def _all_strategies(repository: StrategyRepository, name_prefix: str | None) -> Iterator[Strategy]:
    page = 1
    while True:
        items, total = repository.list(page, LIST_PAGE_SIZE, name_prefix)
        yield from items
        if page * LIST_PAGE_SIZE >= total:
            return
        page += 1


def _issue_line(issue: SpecIssue) -> str:
    """``path: message`` on one line; a rule error's echoed text and caret (lines 2-3) need a terminal's columns."""
    return str(issue).splitlines()[0]


@click.group("strategies")
def strategies_group() -> None:
    """Manage strategy specs."""


@strategies_group.command("list")
@click.option("--name", "name_prefix", metavar="PREFIX", help="Only strategies whose name starts with PREFIX.")
def list_strategies(name_prefix: str | None) -> None:
    """List strategies: id, name, version and last change."""
    for strategy in _all_strategies(_repository(), name_prefix):
        click.echo(
            f"{strategy.id}  {strategy.name:<32}  v{strategy.version:<4}  {strategy.updated_at:%Y-%m-%d %H:%M:%S}"
        )


@strategies_group.command("show")
@click.argument("strategy_id", metavar="ID")
def show(strategy_id: str) -> None:
    """Print one strategy as JSON."""
    try:
        strategy = _repository().get(strategy_id)
    except StrategyNotFound:
        raise click.ClickException(f"no strategy with id {strategy_id!r}") from None
    click.echo(
        json.dumps(
            {
                "id": strategy.id,
                "name": strategy.name,
                "version": strategy.version,
                "created_at": strategy.created_at.isoformat(),
                "updated_at": strategy.updated_at.isoformat(),
                "spec": strategy.spec,
            },
            indent=2,
        )
    )


@strategies_group.command("create")
@click.argument("file", type=click.File("rb"))
def create(file: IO[bytes]) -> None:
    """Store the spec in FILE (JSON; - for stdin) as a new strategy."""
    doc = read_spec(file)
    try:
        strategy = _repository().create(doc)
    except SpecError as exc:
        raise click.ClickException(f"{file.name}: invalid spec: {'; '.join(map(_issue_line, exc.errors))}") from None
    except Conflict as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {strategy.id}  {strategy.name}  v{strategy.version}")


@strategies_group.command("validate")
@click.argument("file", type=click.File("rb"))
@click.pass_context
def validate(ctx: click.Context, file: IO[bytes]) -> None:
    """Check the spec in FILE without storing it; print every problem, one per line."""
    try:
        spec = validate_spec(read_spec(file))
    except SpecError as exc:
        for issue in exc.errors:
            click.echo(_issue_line(issue), err=True)
        ctx.exit(1)
    click.echo(f"{file.name}: valid strategy {spec.to_dict()['name']!r}")


@strategies_group.command("start")
@click.argument("strategy_id", metavar="ID")
@click.option("--mode", type=click.Choice(MODES), default="paper", show_default=True, help="live: on the venue.")
@click.option("--cash", type=click.FloatRange(min=0, min_open=True, max=1e15), default=10_000.0, show_default=True)
@click.option("--yes", is_flag=True, help="Start live without asking for confirmation.")
def start(strategy_id: str, mode: str, cash: float, yes: bool) -> None:
    """Start trading strategy ID, on paper or live on the venue of TICKFLOW_EXCHANGE (asks first, for live)."""
    from tasks.live import start_strategy  # loads the engine: only for this command

    if mode == "live" and not yes:
        venue = ExchangeSettings.from_env()
        click.confirm(
            f"Trade real orders for {strategy_id} on {venue.exchange} ({venue.url or venue.env}) with {cash:g} "
            "per symbol?",
            abort=True,
        )
    try:
        entry = start_strategy(strategy_id, mode, cash)
    except StrategyNotFound:
        raise click.ClickException(f"no strategy with id {strategy_id!r}") from None
    except (PositionsOpen, LiveStartRefused) as exc:
        raise click.ClickException(f"not started: {exc}") from None
    click.echo(f"started {strategy_id} {mode} on {','.join(entry['symbols'])} {entry['timeframe']}, cash {cash:g}")


@strategies_group.command("stop")
@click.argument("strategy_id", metavar="ID")
@click.option("--close-positions", is_flag=True, help="Close its open positions at the last price first.")
def stop(strategy_id: str, close_positions: bool) -> None:
    """Stop trading strategy ID."""
    from tasks.live import stop_strategy

    try:
        entry = stop_strategy(strategy_id, close_positions)
    except StrategyNotFound:
        raise click.ClickException(f"no strategy with id {strategy_id!r}") from None
    except PositionsHeld as exc:
        raise click.ClickException(f"not stopped: {exc}; add --close-positions to close them") from None
    except OrderUnsettled as exc:
        raise click.ClickException(
            f"not stopped: {exc}; the venue has not told what became of a closing order: try again in "
            f"{max(1, round(exc.retry_after_s))} s"
        ) from None
    click.echo(f"stopped {strategy_id}" if entry is not None else f"{strategy_id} was not trading; nothing changed")


COMMANDS: list[click.Command] = [strategies_group]
