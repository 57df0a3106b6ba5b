"""``tickflow services`` and ``tickflow run``: the local platform for development.

``run`` is what ``make run`` calls: it starts (or reuses) Redis and MongoDB,
applies the database schema, seeds the demo on a first run
(``cli.demo``; ``--no-seed`` skips it, and production never seeds), then runs every process of the
``Procfile`` under honcho in the foreground. Ctrl-C stops the processes,
then the services this command started.

Flower's basic-auth password is ``FLOWER_PASSWORD`` when set (production
requires it); otherwise one is generated on the first run and kept in
``<var-dir>/flower-password`` (mode 600), so it stays the same across runs.

``flower`` is the Procfile's Flower: ``celery flower`` with its credentials in
its environment (``FLOWER_BASIC_AUTH``), never on its command line, which
``ps`` shows to every user of the machine.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from cli.localservices import LocalMongo, LocalRedis, LocalService, ServiceError, port_open
from tickflow.settings import Settings, get_settings
from tickflow.storage.connections import redis_client
from tickflow.storage.schema import ready_db

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _local_services(var_dir: Path) -> list[LocalService]:
    """The services that the settings point at on this machine (managed ones are skipped)."""
    settings = get_settings()
    services: list[LocalService] = []
    redis_url = urlsplit(settings.redis_url)
    if redis_url.hostname in LOOPBACK:
        services.append(LocalRedis(redis_url.port or 6379, var_dir / "redis"))
    mongo_url = urlsplit(settings.mongo_uri)
    if mongo_url.hostname in LOOPBACK and "," not in mongo_url.netloc:
        services.append(LocalMongo(mongo_url.port or 27017, var_dir / "mongo"))
    return services


def _start(services: list[LocalService]) -> None:
    for service in services:
        try:
            service.ensure_running()
        except (ServiceError, subprocess.CalledProcessError) as exc:
            where = f"{service.name} on port {service.port}"
            raise click.ClickException(f"{where}: {exc} (log: {service.logfile})") from None
        how = "started" if service.started_here else "reused"
        click.echo(f"  {service.name:<8} 127.0.0.1:{service.port}  ({how}, data in {service.data_dir})")


var_option = click.option(
    "--var-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/dev"),
    show_default=True,
    help="Where the local services keep their data.",
)


@click.group()
def services() -> None:
    """Start, stop or inspect the local Redis and MongoDB."""


@services.command()
@var_option
def up(var_dir: Path) -> None:
    """Start the local services in the background (reusing running ones)."""
    _start(_local_services(var_dir))
    ready_db()


@services.command()
@var_option
def down(var_dir: Path) -> None:
    """Stop the local services whose data lives in ``--var-dir``."""
    for service in _local_services(var_dir):
        service.kill()
        click.echo(f"  {service.name:<8} stopped")


@services.command()
@var_option
def status(var_dir: Path) -> None:
    """Say which local services answer on their ports."""
    for service in _local_services(var_dir):
        state = "up" if port_open(service.port) else "down"
        click.echo(f"  {service.name:<8} 127.0.0.1:{service.port}  {state}")


def flower_password(settings: Settings, var_dir: Path) -> tuple[str, Path | None]:
    """``FLOWER_PASSWORD``, else the one kept in ``var_dir`` (made on first use); and the file it is in."""
    if settings.flower_password:
        return settings.flower_password, None
    path = var_dir / "flower-password"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(18) + "\n")
    return path.read_text().strip(), path


def _seed(say) -> tuple[str | None, dict]:
    from cli.demo import seed_demo

    report = seed_demo(ready_db(), redis_client(), say)
    if not report.seeded:
        say("already seeded (the demo is seeded once per database)")
    return report.token, report.done


def _banner(settings: Settings, flower: tuple[str, Path | None], token: str | None, demo: dict) -> str:
    base = f"http://{settings.api_host}:{settings.api_port}"
    stream = settings.stream_url or f"http://{settings.stream_host}:{settings.stream_port}/api/v1/live/stream"
    password, kept_in = flower
    where = f"password {password}" + (f", kept in {kept_in}" if kept_in else ", from FLOWER_PASSWORD")
    lines = [
        "",
        "TickFlow is starting. Look here:",
        f"  API          {base}/api/v1",
        f"  Swagger UI   {base}/api/v1/docs",
        f"  Health       {base}/api/v1/health",
        f"  Live stream  {stream}  (SSE; open it with a ticket from POST /api/v1/live/stream/ticket)",
        f"  Flower       http://{settings.flower_host}:{settings.flower_port}  (user {settings.flower_user}, {where})",
    ]
    ui = f"http://{settings.ui_host}:{settings.ui_port}"
    if token:
        lines += [
            f"  Web UI       {ui}/login#token={token}  (logs you in; open it in a browser)",
            "",
            f"API token 'demo' (shown this once; only its hash is stored):  {token}",
            "",
        ]
    else:
        lines += [
            f"  Web UI       {ui}  (log in with an API token)",
            "",
            "API token: the demo's was shown on the first run; make another with",
            "  TOKEN=$(.venv/bin/tickflow token create --name me)",
            "",
        ]
    shown = token or "$TOKEN"
    backtest = f"--strategy-id {demo['paper'][0]} --symbol ETHUSDT" if demo.get("paper") else "--strategy-id <ID>"
    lines += [
        "Three commands to try:",
        "  .venv/bin/tickflow status",
        f'  curl -H "Authorization: Bearer {shown}" {base}/api/v1/live/positions',
        f"  .venv/bin/tickflow backtest {backtest}",
        "",
        "Press Ctrl-C to stop.",
        "",
    ]
    return "\n".join(lines)


@click.command()
@var_option
@click.option(
    "--procfile",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=Path("Procfile"),
    show_default=True,
)
@click.option(
    "--no-seed",
    is_flag=True,
    help="Do not seed the demo (candles, strategies, paper trading...); production never seeds.",
)
def run(var_dir: Path, procfile: Path, no_seed: bool) -> None:
    """Run the whole platform in the foreground; Ctrl-C stops everything."""
    settings = get_settings()
    flower = flower_password(settings, var_dir)
    click.echo("Starting TickFlow services:")
    local = _local_services(var_dir)
    try:
        _start(local)
        ready_db()
        token, demo = None, {}
        if settings.environment == "production":
            click.echo("Demo: not seeded (TICKFLOW_ENV=production)")
        elif not no_seed:
            click.echo("Demo:")
            token, demo = _seed(lambda line: click.echo(f"  {line}"))
        click.echo(_banner(settings, flower, token, demo))
        # Procfile commands (gunicorn, celery, ...) come from the interpreter's own bin directory.
        path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
        env = {
            **os.environ,
            "PATH": path,
            "API_HOST": settings.api_host,
            "API_PORT": str(settings.api_port),
            "UI_HOST": settings.ui_host,
            "UI_PORT": str(settings.ui_port),
            "TICKFLOW_API_URL": os.environ.get("TICKFLOW_API_URL") or f"http://{settings.api_host}:{settings.api_port}",
            "STREAM_HOST": settings.stream_host,
            "STREAM_PORT": str(settings.stream_port),
            "FLOWER_HOST": settings.flower_host,
            "FLOWER_PORT": str(settings.flower_port),
            "FLOWER_USER": settings.flower_user,
            "FLOWER_PASSWORD": flower[0],
        }
        honcho = subprocess.Popen([sys.executable, "-m", "honcho", "-f", str(procfile), "start"], env=env)
        try:
            honcho.wait()
        except KeyboardInterrupt:
            honcho.send_signal(signal.SIGINT)
            honcho.wait()
    finally:
        for service in local:
            service.stop()
        click.echo("TickFlow stopped.")


@click.command("flower")
def flower() -> None:
    """Run Flower, Celery's web monitor, behind basic auth (FLOWER_USER, FLOWER_PASSWORD) until stopped."""
    settings = get_settings()
    if not settings.flower_password:  # in production the settings already refused this
        raise click.ClickException(
            "FLOWER_PASSWORD: required to start Flower (set 12+ random characters: openssl rand -hex 16)"
        )
    env = {key: value for key, value in os.environ.items() if key != "FLOWER_PASSWORD"}
    env["FLOWER_BASIC_AUTH"] = f"{settings.flower_user}:{settings.flower_password}"
    argv = [sys.executable, "-m", "celery", "-A", "tasks", "flower"]
    argv += [f"--address={settings.flower_host}", f"--port={settings.flower_port}"]
    os.execve(sys.executable, argv, env)


COMMANDS = [services, run, flower]
