"""The live stream: Server-Sent Events from one asyncio process (``tickflow stream``).

The API's threads are for requests that end; an open stream never does. Served by the
API, each open dashboard held one of its 16 threads and a few dozen of them blocked
every other request. Here an open stream is a socket and a small queue in one event
loop, so hundreds stay open while the API answers as if none were.

One task per process follows the capped Redis stream of events
(:mod:`tickflow.storage.events`) with ``XREAD BLOCK`` and hands each event, framed
once, to every open stream's bounded queue. A client that falls ``BACKLOG`` events
behind (a stalled network, a sleeping laptop) is disconnected rather than allowed to
hold memory: it reconnects with the last id it saw and catches up from Redis.

Resuming without a gap or a duplicate: a client that sends ``Last-Event-ID`` (or
``?last_id=``) joins the fan-out first and notes the id of the last event fanned out
so far; it reads what it missed up to that id with ``XRANGE``, then its queue, which
holds exactly the events after it. Without either, a stream starts with new events.

Who may open one: the holder of a ticket (``?ticket=``, made by ``POST
/api/v1/live/stream/ticket``, valid once for 60 s: a browser's ``EventSource`` cannot
send headers, and a token must never sit in a URL that access logs keep) or of a token
(``Authorization: Bearer``, for curl and scripts). docs/api.md, "Live stream".
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import pymongo.errors
import redis
import redis.asyncio as aioredis
from aiohttp import web

from app.auth import bearer_token
from app.security_headers import SECURITY_HEADERS
from tickflow.logs import log_context
from tickflow.settings import Settings
from tickflow.storage import keys
from tickflow.storage.connections import mongo_db, redis_client
from tickflow.storage.events import TYPES
from tickflow.storage.tokens import TokenRepository

log = logging.getLogger(__name__)

ROUTE = "/api/v1/live/stream"
HEALTH_ROUTE = f"{ROUTE}/health"
HEARTBEAT_S = 15.0
"""A comment line this often keeps proxies from closing a quiet stream and finds dead clients."""
MAX_STREAM_S = 1800.0
"""A stream ends cleanly after this long; the browser reconnects and resumes, so no connection lives forever."""
RETRY_MS = 1000
"""How long a browser waits before reconnecting (the stream's ``retry:`` line)."""
BACKLOG = 2000
"""Events a client may lag behind the fan-out before it is disconnected (and resumes from Redis)."""
READ_COUNT = 500
"""Most events one XREAD or XRANGE returns."""
READ_BLOCK_MS = 5000
ALLOWED_HEADERS = ("Authorization", "Last-Event-ID")
TICKET = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
STREAM_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")
MAX_ID_PART = 2**64 - 1
_TYPES = frozenset(kind.encode() for kind in TYPES)
HEARTBEAT = b": heartbeat\n\n"
END = b""
"""Queued to end a stream (the process is shutting down)."""

StreamId = tuple[int, int]
Item = tuple[StreamId | None, bytes]
"""A queued frame and its event's id (``None``: a heartbeat or ``END``, sent whatever the client has seen)."""


class RequestError(Exception):
    """A request refused with a JSON error in the API's shape (``app.errors``)."""

    def __init__(
        self, code: int, message: str, errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.errors, self.headers = code, message, errors, headers

    def response(self) -> web.Response:
        return error_response(self.code, self.message, self.errors, self.headers)


def error_response(
    code: int, message: str, errors: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """``{"code", "status", "message", "errors"?}``, as every API error."""
    payload: dict[str, Any] = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if errors:
        payload["errors"] = errors
    return web.json_response(payload, status=code, headers=headers)


def parse_stream_id(text: str) -> StreamId | None:
    """``"1700000000000-3"`` -> ``(1700000000000, 3)``; ``None`` for anything Redis would not take as an id."""
    match = STREAM_ID.fullmatch(text)
    if match is None:
        return None
    ms, seq = int(match[1]), int(match[2])
    return (ms, seq) if ms <= MAX_ID_PART and seq <= MAX_ID_PART else None


def _id_text(stream_id: StreamId) -> str:
    return f"{stream_id[0]}-{stream_id[1]}"


def _frame_id(id_: bytes) -> StreamId:
    ms, _, seq = id_.partition(b"-")
    return int(ms), int(seq)


def _frame(id_: bytes, fields: dict[bytes, bytes]) -> Item | None:
    """An event as the stream sends it, or ``None`` for an entry of a type clients are not sent."""
    kind = fields.get(b"type", b"")
    if kind not in _TYPES:
        return None
    return _frame_id(id_), b"id: " + id_ + b"\nevent: " + kind + b"\ndata: " + fields.get(b"data", b"{}") + b"\n\n"


class Subscriber:
    """One open stream's queue; ``disconnect`` drops the connection once it lags ``BACKLOG`` events."""

    __slots__ = ("disconnect", "lagged", "queue")

    def __init__(self, disconnect: Callable[[], object]) -> None:
        self.queue: asyncio.Queue[Item] = asyncio.Queue(BACKLOG)
        self.disconnect = disconnect
        self.lagged = False

    def offer(self, item: Item) -> None:
        if self.lagged:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.lagged = True
            self.disconnect()


class Hub:
    """The one reader of the event stream, and the open streams it fans each event out to."""

    def __init__(self, client: aioredis.Redis, heartbeat_s: float) -> None:
        self.redis = client
        self.heartbeat_s = heartbeat_s
        self.subscribers: set[Subscriber] = set()
        self.last_id: StreamId | None = None
        """Id of the last event fanned out (``None`` until Redis first answered)."""
        self.reachable: bool | None = None
        """Whether the last Redis command answered (``None`` before the first)."""
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._follow()), asyncio.create_task(self._beat())]

    async def stop(self) -> None:
        """End every open stream cleanly, then stop reading."""
        for subscriber in list(self.subscribers):
            subscriber.offer((None, END))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _follow(self) -> None:
        key = keys.live_events()
        while True:
            try:
                if not self.reachable:
                    await self._reach(key)
                reply = await self.redis.xread({key: _id_text(self.last_id)}, count=READ_COUNT, block=READ_BLOCK_MS)
            except Exception as exc:  # never a silent end: open streams would wait for events forever
                self._lost(exc)
                await asyncio.sleep(1)
                continue
            for _, entries in reply:
                for id_, fields in entries:
                    item = _frame(id_, fields)
                    self.last_id = _frame_id(id_) if item is None else item[0]
                    if item is not None:
                        for subscriber in self.subscribers:
                            subscriber.offer(item)

    def _lost(self, exc: Exception) -> None:
        if not isinstance(exc, redis.RedisError):
            log.error("stream: reading the live events failed, retrying every second", exc_info=exc)
        elif self.reachable is not False:  # once per outage
            log.warning("stream: Redis unreachable, retrying every second: %s", exc)
        self.reachable = False

    async def _reach(self, key: str) -> None:
        """Start following from the newest event (at start-up), or check that Redis is back (after an outage)."""
        if self.last_id is None:
            newest = await self.redis.xrevrange(key, count=1)
            self.last_id = _frame_id(newest[0][0]) if newest else (0, 0)
        else:
            await self.redis.ping()
        self.reachable = True
        log.info("stream: following the live events after %s", _id_text(self.last_id))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for subscriber in self.subscribers:
                subscriber.offer((None, HEARTBEAT))


HUB = web.AppKey("hub", Hub)
SETTINGS = web.AppKey("settings", Settings)
MAX_STREAM = web.AppKey("max_stream_s", float)


def make_app(
    settings: Settings, heartbeat_s: float = HEARTBEAT_S, max_stream_s: float = MAX_STREAM_S
) -> web.Application:
    """The stream's web application, over the Redis and MongoDB of ``settings``."""
    app = web.Application(middlewares=[_errors])
    app[SETTINGS] = settings
    app[MAX_STREAM] = max_stream_s
    client = aioredis.Redis(
        connection_pool=aioredis.BlockingConnectionPool.from_url(
            settings.redis_url,
            max_connections=32,
            timeout=10,
            socket_connect_timeout=settings.redis_connect_timeout_s,
            socket_timeout=READ_BLOCK_MS / 1000 + 10,
            health_check_interval=30,
        )
    )
    app[HUB] = Hub(client, heartbeat_s)
    app.router.add_get(ROUTE, stream, allow_head=False)  # a HEAD would hold a connection open for nothing
    app.router.add_get(HEALTH_ROUTE, health)
    for route in (ROUTE, HEALTH_ROUTE):
        app.router.add_route("OPTIONS", route, preflight)
    app.on_response_prepare.append(_cors)
    app.on_response_prepare.append(_security_headers)
    app.on_startup.append(_start)
    app.on_shutdown.append(_stop)
    return app


async def _start(app: web.Application) -> None:
    app[HUB].start()


async def _stop(app: web.Application) -> None:
    await app[HUB].stop()
    await app[HUB].redis.aclose()


def run(settings: Settings, host: str, port: int, heartbeat_s: float, max_stream_s: float) -> None:
    """Serve until SIGINT or SIGTERM; open streams are then ended cleanly (their browsers reconnect)."""
    log.info("stream: listening on http://%s:%d%s", host, port, ROUTE)
    # No access log: a stream's URL may hold a ticket; "stream opened/closed" lines say what matters.
    web.run_app(
        make_app(settings, heartbeat_s, max_stream_s),
        host=host,
        port=port,
        print=None,
        access_log=None,
        shutdown_timeout=5,
    )


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every error as JSON in the API's shape: refusals, unknown routes, storage outages and crashes."""
    try:
        return await handler(request)
    except RequestError as exc:
        return exc.response()
    except web.HTTPException as exc:  # aiohttp's own: 404, 405...
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(exc.status, exc.reason, headers=allow)
    except (redis.RedisError, pymongo.errors.ConnectionFailure) as exc:
        log.warning("stream: storage unavailable: %s", exc)
        return error_response(503, "A storage service is unavailable; see /api/v1/health.")
    except Exception:
        log.exception("stream: %s %s failed", request.method, request.path)
        return error_response(500, "Internal Server Error")


def _allowed_origin(settings: Settings, origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for ``origin``, ``None`` when it is not allowed."""
    if origin is None:
        return None
    if "*" in settings.cors_origins:
        return "*"
    return origin if origin.rstrip("/") in settings.cors_origins else None


async def _cors(request: web.Request, response: web.StreamResponse) -> None:
    """CORS headers on every response to an allowed origin (as flask-cors gives the API's)."""
    allowed = _allowed_origin(request.app[SETTINGS], request.headers.get("Origin"))
    if allowed is not None:
        response.headers["Access-Control-Allow-Origin"] = allowed
    response.headers.add("Vary", "Origin")


async def _security_headers(_: web.Request, response: web.StreamResponse) -> None:
    """The API's security headers (``app.security_headers``) on every response, streams included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


async def preflight(request: web.Request) -> web.Response:
    """Answer a browser's CORS preflight: ``GET`` with ``Authorization`` and ``Last-Event-ID``, from allowed origins."""
    if _allowed_origin(request.app[SETTINGS], request.headers.get("Origin")) is None:
        return web.Response(status=204)  # no Access-Control-Allow-* headers: the browser refuses
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": "GET, OPTIONS",
            "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
            "Access-Control-Max-Age": "600",
        },
    )


async def health(request: web.Request) -> web.Response:
    """``ok`` (200) while the reader follows Redis, else ``unavailable`` (503); and how many streams are open."""
    hub = request.app[HUB]
    return web.json_response(
        {
            "status": "ok" if hub.reachable else "unavailable",
            "redis": "up" if hub.reachable else "down",
            "streams": len(hub.subscribers),
            "last_event_id": _id_text(hub.last_id) if hub.last_id is not None else None,
        },
        status=200 if hub.reachable else 503,
    )


def _resume_from(request: web.Request) -> StreamId | None:
    """The id after which the client wants events: ``Last-Event-ID``, else ``?last_id=``; 400 if malformed."""
    for location, name, value in (
        ("headers", "Last-Event-ID", request.headers.get("Last-Event-ID")),
        ("query", "last_id", request.query.get("last_id")),
    ):
        if value:
            parsed = parse_stream_id(value)
            if parsed is None:
                message = "Not an event id: expected <milliseconds>-<sequence>, e.g. 1700000000000-0."
                raise RequestError(400, f"Invalid {name}.", {location: {name: [message]}})
            return parsed
    return None


async def _authorize(request: web.Request, hub: Hub) -> str:
    """How the request may open a stream (``ticket`` or ``token``); 401 otherwise. A ticket is used up here."""
    ticket = request.query.get("ticket")
    if ticket is not None:
        if TICKET.fullmatch(ticket) and await hub.redis.getdel(keys.stream_ticket(ticket)):
            return "ticket"
        raise RequestError(
            401, "The ticket is unknown, used or expired: get a new one from POST /api/v1/live/stream/ticket."
        )
    token = bearer_token(request.headers.get("Authorization"))
    if token and await asyncio.to_thread(TokenRepository(mongo_db(), redis_client()).verify, token):
        return "token"
    raise RequestError(
        401,
        "A ticket (?ticket=, from POST /api/v1/live/stream/ticket) or 'Authorization: Bearer <token>' is required.",
        headers={"WWW-Authenticate": 'Bearer realm="tickflow"'},
    )


async def stream(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/live/stream``: the events as Server-Sent Events (see the module docstring)."""
    after = _resume_from(request)
    hub = request.app[HUB]
    if hub.last_id is None:
        raise RequestError(503, "The live events are unavailable (Redis unreachable); retry shortly.")
    auth = await _authorize(request, hub)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    transport = request.transport
    # abort, not close: close would wait to flush what a stalled client does not read
    subscriber = Subscriber(transport.abort if transport is not None else lambda: None)
    hub.subscribers.add(subscriber)
    joined_at = hub.last_id  # from here on, the queue gets every event after this one
    with log_context(peer=request.remote, auth=auth):
        log.info("stream opened")
        try:
            async with asyncio.timeout(request.app[MAX_STREAM]):
                await response.write(f"retry: {RETRY_MS}\n\n".encode())
                if after is not None and after < joined_at:
                    await _catch_up(hub.redis, response, after, joined_at)
                ending = await _relay(subscriber, response, max(after or joined_at, joined_at))
        except TimeoutError:
            ending = "time limit reached (the client reconnects)"
        except ConnectionResetError:
            ending = "disconnected: it lagged too far behind" if subscriber.lagged else "client gone"
        except redis.RedisError as exc:
            ending = f"Redis unavailable: {exc}"
        finally:
            hub.subscribers.discard(subscriber)
        log.info("stream closed: %s", ending)
    return response


async def _catch_up(client: aioredis.Redis, response: web.StreamResponse, after: StreamId, until: StreamId) -> None:
    """Send the events after ``after`` up to ``until`` (included), read from Redis in batches."""
    start = f"({_id_text(after)}"
    while True:
        entries = await client.xrange(keys.live_events(), min=start, max=_id_text(until), count=READ_COUNT)
        frames = [item[1] for item in (_frame(id_, fields) for id_, fields in entries) if item is not None]
        if frames:
            await response.write(b"".join(frames))
        if len(entries) < READ_COUNT:
            return
        start = f"({entries[-1][0].decode()}"


async def _relay(subscriber: Subscriber, response: web.StreamResponse, seen: StreamId) -> str:
    """Write what the queue holds, all that waits in one write, until the process ends the stream.

    Events up to ``seen`` are skipped: a client resuming after the fan-out's position has them.
    """
    queue = subscriber.queue
    while True:
        items = [await queue.get()]
        while not queue.empty():
            items.append(queue.get_nowait())
        frames = []
        for id_, frame in items:
            if frame is END:
                await response.write(b"".join(frames))
                return "the process is stopping (the client reconnects)"
            if id_ is None or id_ > seen:
                frames.append(frame)
                seen = id_ or seen
        await response.write(b"".join(frames))
