"""``tickflow services`` and ``tickflow run``: the local platform for development.

``run`` is what ``make run`` calls: it starts (or reuses) Redis and MongoDB,
applies the database schema, then runs every process of the ``Procfile``
under honcho in the foreground. Ctrl-C stops the processes, then the
services this command started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from tickflow.localservices import LocalMongo, LocalRedis, LocalService, ServiceError, port_open
from tickflow.settings import get_settings
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
            raise click.ClickException(f"{service.name} on port {service.port}: {exc} (log: {service.logfile})")
        how = "started" if service.started_here else "reused"
        click.echo(f"  {service.name:<8} 127.0.0.1:{service.port}  ({how}, data in {service.data_dir})")


var_option = click.option(
    "--var-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/dev"),
    show_default=True, help="Where the local services keep their data.",
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


@click.command()
@var_option
@click.option("--procfile", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=Path("Procfile"),
              show_default=True)
def run(var_dir: Path, procfile: Path) -> None:
    """Run the whole platform in the foreground; Ctrl-C stops everything."""
    settings = get_settings()
    click.echo("Starting TickFlow services:")
    local = _local_services(var_dir)
    try:
        _start(local)
        ready_db()
        base = f"http://{settings.api_host}:{settings.api_port}"
        click.echo(
            "\nTickFlow is starting. Look here:\n"
            f"  API          {base}/api/v1\n"
            f"  Swagger UI   {base}/api/v1/docs\n"
            f"  Health       {base}/api/v1/health\n"
            "  Create an API token:  .venv/bin/tickflow token create --name me\n"
            "Press Ctrl-C to stop.\n"
        )
        # Procfile commands (gunicorn, celery, ...) come from the interpreter's own bin directory.
        path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
        env = {**os.environ, "PATH": path, "API_HOST": settings.api_host, "API_PORT": str(settings.api_port)}
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


COMMANDS = [services, run]
