"""``tickflow halt`` and ``tickflow resume``: the kill switch, from any shell that reaches Redis.

They write Redis directly (``tickflow.storage.halt``), so they work with the API and MongoDB down.
"""

from __future__ import annotations

import click

from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.halt import MAX_REASON, current_halt, halt, resume

BY = "cli"


@click.command("halt")
@click.option("--flatten", is_flag=True, help="Also close every position at its symbol's next tick.")
@click.option("--reason", default="", help=f"Why (shown in status and the UI; at most {MAX_REASON} characters).")
def halt_command(flatten: bool, reason: str) -> None:
    """Halt all trading: no new entries anywhere; stops, targets and trailing stops keep working."""
    if len(reason) > MAX_REASON:
        raise click.BadParameter(f"at most {MAX_REASON} characters", param_hint="--reason")
    client = redis_client()
    already = current_halt(client)
    state = halt(client, BY, flatten, reason, mongo_db())
    if already is not None and already == state:
        click.echo("trading was already halted; nothing changed")
    else:
        closing = " and every position is being closed at its symbol's next tick" if state.flatten else ""
        click.echo(f"trading halted: no new entries{closing}; `tickflow resume` lifts it")


@click.command("resume")
def resume_command() -> None:
    """Lift a halt: strategies take entries again from their next close."""
    before = resume(redis_client(), BY, mongo_db())
    click.echo("trading resumed" if before is not None else "trading was not halted; nothing changed")


COMMANDS: list[click.Command] = [halt_command, resume_command]
