"""The ``tickflow`` command line.

Each command group lives in its own module; this module only assembles them
and makes every failure a single line on stderr with a non-zero exit code.
"""

from __future__ import annotations

import click
import pymongo.errors
import redis

from cli import backtest, candles, feed, halt, services, status, strategies, stream, tokens
from tickflow.logs import configure
from tickflow.settings import SettingsError, get_settings, load_env_file, server_location


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tickflow")
def cli() -> None:
    """TickFlow: self-hosted algorithmic trading on Celery."""


for module in (backtest, candles, feed, halt, services, status, strategies, stream, tokens):
    for command in module.COMMANDS:
        cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; usage errors and failures print one line and exit 2 or 1."""
    try:
        load_env_file()
        configure("cli")  # what the commands' code logs (a warning, mostly) comes out like every process's
        result = cli.main(args=argv, prog_name="tickflow", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("tickflow: aborted", err=True)
        return 130
    except click.UsageError as exc:
        click.echo(f"tickflow: {_one_line(exc.format_message())} (see --help)", err=True)
        return 2
    except pymongo.errors.PyMongoError as exc:
        click.echo(f"tickflow: {_one_line(_storage_error('MongoDB', get_settings().mongo_uri, exc))}", err=True)
        return 1
    except redis.RedisError as exc:
        click.echo(f"tickflow: {_one_line(_storage_error('Redis', get_settings().redis_url, exc))}", err=True)
        return 1
    except (click.ClickException, SettingsError) as exc:
        message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
        click.echo(f"tickflow: {_one_line(message)}", err=True)
        return 1
    return result if isinstance(result, int) else 0  # click returns Exit codes here


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _storage_error(service: str, url: str, error: Exception) -> str:
    """A Redis or MongoDB failure (down, wrong credentials) as a message naming the server, never its password."""
    where = server_location(url)
    unreachable = isinstance(error, (pymongo.errors.ConnectionFailure, redis.ConnectionError))
    if unreachable and not isinstance(error, redis.AuthenticationError):
        return f"cannot reach {service} at {where} (start it with `tickflow services up`)"
    if isinstance(error, pymongo.errors.OperationFailure) and error.details:
        return f"{service} at {where}: {error.details.get('errmsg', error)}"
    return f"{service} at {where}: {error}"
