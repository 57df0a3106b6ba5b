"""``tickflow stream``: the process that serves the live event stream (``app.stream``).

One asyncio process holds every open stream, so open dashboards never take the API's
threads. It listens on ``STREAM_HOST:STREAM_PORT`` (127.0.0.1:8001) unless told
otherwise, and runs until SIGINT or SIGTERM, which end the open streams cleanly (the
browsers reconnect and resume). See docs/api.md, "Live stream".
"""

from __future__ import annotations

import click

from tickflow.logs import configure
from tickflow.runtime import freeze_startup_objects
from tickflow.settings import get_settings


@click.command("stream")
@click.option("--host", help="Interface to listen on.  [default: STREAM_HOST, else 127.0.0.1]")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on.  [default: STREAM_PORT, else 8001]")
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.05),
    help="Seconds between the comment lines that keep quiet streams open through proxies.  [default: 15]",
)
@click.option(
    "--max-seconds",
    type=click.FloatRange(min=1),
    help="A stream ends cleanly after this long (the browser reconnects and resumes).  [default: 1800]",
)
def stream(host: str | None, port: int | None, heartbeat: float | None, max_seconds: float | None) -> None:
    """Serve the live event stream (GET /api/v1/live/stream) until stopped."""
    from app import stream as server  # here: importing the app package takes a second every other command can skip

    settings = get_settings()
    configure("stream", settings=settings)
    freeze_startup_objects()  # a full collection would pause every open stream at once
    server.run(
        settings,
        host or settings.stream_host,
        port or settings.stream_port,
        heartbeat or server.HEARTBEAT_S,
        max_seconds or server.MAX_STREAM_S,
    )


COMMANDS: list[click.Command] = [stream]
