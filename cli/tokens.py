"""``tickflow token``: create, list and revoke API bearer tokens.

A token is printed once, alone on stdout (so ``TOKEN=$(tickflow token create
--name ci)`` captures exactly it); the advice around it goes to stderr.
"""

from __future__ import annotations

import click

from tickflow.storage.connections import redis_client
from tickflow.storage.schema import ready_db
from tickflow.storage.tokens import TokenRepository


def _repository() -> TokenRepository:
    return TokenRepository(ready_db(), redis_client())


@click.group("token")
def token_group() -> None:
    """Manage the bearer tokens that grant access to the API."""


@token_group.command("create")
@click.option("--name", required=True, help="What the token is for, e.g. 'frontend' or 'alice'; must be unique.")
def create(name: str) -> None:
    """Create a token and print it; it cannot be shown again."""
    try:
        token, record = _repository().create(name)
    except ValueError as exc:  # an empty name, or TokenNameTaken
        raise click.ClickException(str(exc)) from None
    click.echo(f"Token {record.name!r} created. Store it now; it is not shown again:", err=True)
    click.echo(token)
    click.echo("Use it as: Authorization: Bearer <token>", err=True)


@token_group.command("list")
def list_tokens() -> None:
    """List tokens by name, with when they were created and last used."""
    for record in _repository().list():
        last_used = f"{record.last_used_at:%Y-%m-%d %H:%M}" if record.last_used_at else "never"
        click.echo(f"{record.name:<24}  created {record.created_at:%Y-%m-%d %H:%M}  last used {last_used}")


@token_group.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the token called NAME (or with id NAME); it stops working at once."""
    if not _repository().revoke(name):
        raise click.ClickException(f"no token named {name!r}")
    click.echo(f"revoked token {name!r}")


COMMANDS: list[click.Command] = [token_group]
