"""``tickflow token``: create, list, revoke and migrate API bearer tokens.

A token is printed once, alone on stdout (so ``TOKEN=$(tickflow token create
--name ci)`` captures exactly it); the advice around it goes to stderr.

Without ``--scope`` a token gets ``admin``, as every token had before scopes
existed: whoever runs this command already holds the database credentials, so
a token they make for themselves is the owner's key, and the README's first
steps keep working. Narrower tokens are for what should not do everything:
``--scope read`` for a dashboard on a shared screen, ``--scope trade`` for a
bot that starts and stops strategies but deletes nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

from tickflow.storage.connections import redis_client
from tickflow.storage.schema import ready_db
from tickflow.storage.tokens import SCOPES, ApiToken, TokenRepository
from tickflow.times import parse_time_ms

_DURATION = re.compile(r"(\d{1,6})([dh])")
_UNITS = {"d": "days", "h": "hours"}


def _repository() -> TokenRepository:
    return TokenRepository(ready_db(), redis_client())


def parse_expiry(text: str, now: datetime) -> datetime:
    """``30d`` or ``12h`` from ``now``, or an ISO-8601 time (a date alone: midnight UTC at its start)."""
    duration = _DURATION.fullmatch(text.strip())
    if duration:
        return now + timedelta(**{_UNITS[duration[2]]: int(duration[1])})
    try:
        return datetime.fromtimestamp(parse_time_ms(text) / 1000, UTC)
    except (ValueError, OverflowError):
        raise click.BadParameter(
            f"{text!r} is neither a duration (30d, 12h) nor an ISO-8601 time (2026-12-31)", param_hint="--expires"
        ) from None


@click.group("token")
def token_group() -> None:
    """Manage the bearer tokens that grant access to the API."""


@token_group.command("create")
@click.option("--name", required=True, help="What the token is for, e.g. 'frontend' or 'alice'; must be unique.")
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default="admin",
    show_default=True,
    help="read: only reads; trade: also start/stop, backtests, sweeps, strategy writes; admin: also deletes, "
    "candle writes and the audit trail.",
)
@click.option("--expires", metavar="WHEN", help="When it stops working: 30d, 12h or an ISO-8601 time. Default: never.")
def create(name: str, scope: str, expires: str | None) -> None:
    """Create a token and print it; it cannot be shown again."""
    expires_at = parse_expiry(expires, datetime.now(UTC)) if expires else None
    try:
        token, record = _repository().create(name, scope, expires_at)
    except ValueError as exc:  # an empty name, a past expiry, or TokenNameTaken
        raise click.ClickException(str(exc)) from None
    click.echo(f"Token {record.name!r} created with scope {scope!r}{_until(record)}. Store it now; it is not "
               "shown again:", err=True)  # fmt: skip
    click.echo(token)
    click.echo("Use it as: Authorization: Bearer <token>", err=True)


def _until(record: ApiToken) -> str:
    return f", valid until {record.expires_at:%Y-%m-%d %H:%M} UTC" if record.expires_at else ""


@token_group.command("list")
def list_tokens() -> None:
    """List tokens by name, with their scope, when they were created, last used and expire."""
    now = datetime.now(UTC)
    for record in _repository().list():
        last_used = f"{record.last_used_at:%Y-%m-%d %H:%M}" if record.last_used_at else "never"
        if record.legacy:
            expiry = "not migrated: refused until 'tickflow token migrate'"
        elif record.expires_at is None:
            expiry = "no expiry"
        else:
            expiry = f"{'expired' if record.expired(now) else 'expires'} {record.expires_at:%Y-%m-%d %H:%M}"
        click.echo(f"{record.name:<24}  {record.scope or '-':<5}  created {record.created_at:%Y-%m-%d %H:%M}  "
                   f"last used {last_used:<16}  {expiry}")  # fmt: skip


@token_group.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the token called NAME (or with id NAME); it stops working at once."""
    if not _repository().revoke(name):
        raise click.ClickException(f"no token named {name!r}")
    click.echo(f"revoked token {name!r}")


@token_group.command("migrate")
def migrate() -> None:
    """Key the tokens stored before keyed hashing with SECRET_KEY, once after upgrading, so they work again.

    They keep working as before, with the admin scope. Run it once: it converts every row that is not yet
    keyed, so a later run would also admit a row planted in the database meanwhile.
    """
    names = _repository().migrate_legacy()
    for name in names:
        click.echo(f"migrated token {name!r} (scope admin)")
    click.echo(f"{len(names)} token(s) migrated; keep SECRET_KEY: changing it invalidates every token.", err=True)


COMMANDS: list[click.Command] = [token_group]
