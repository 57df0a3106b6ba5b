"""Settings, read from the environment once at start-up: the process's (``Settings``) and the live
engine's tuning (``LiveSettings``).

Defaults point at the local Redis and MongoDB that ``make run`` starts, so a
developer needs no configuration; production sets ``MONGO_URI`` and
``REDIS_URL``. A missing or malformed value raises :class:`SettingsError`
with a single line that names the variable and what to fix.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar
from urllib.parse import urlsplit

from pymongo.errors import ConfigurationError
from pymongo.uri_parser import parse_uri
from redis.connection import parse_url as redis_parse_url

from strategies.candles import TIMEFRAME_MS
from strategies.spec_parts import RiskLimits
from tickflow.storage.events import EVENTS_LENGTH

# Local development ports, chosen away from the stock ones so that the
# platform never collides with a Redis or MongoDB the machine already runs.
DEV_REDIS_PORT = 6390
DEV_MONGO_PORT = 27027

DEFAULT_REDIS_URL = f"redis://127.0.0.1:{DEV_REDIS_PORT}/0"
DEFAULT_MONGO_URI = f"mongodb://127.0.0.1:{DEV_MONGO_PORT}/tickflow?directConnection=true"
DEV_SECRET_KEY = "dev-only-secret-change-me"
EXAMPLE_SECRET = "change-me-to-a-long-random-string"
"""The placeholder ``.env.example`` shows for SECRET_KEY and FLOWER_PASSWORD: never a real secret."""
N = TypeVar("N", int, float)

CLOSE_RETENTION_MARGIN_S = 600
"""What a close's signal keys and order claims outlive the last moment a task may act on it by, besides a period."""


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message is one line."""


@dataclass(frozen=True)
class Settings:
    mongo_uri: str = DEFAULT_MONGO_URI
    redis_url: str = DEFAULT_REDIS_URL
    celery_broker_url: str = DEFAULT_REDIS_URL
    celery_result_backend: str = DEFAULT_REDIS_URL
    secret_key: str = DEV_SECRET_KEY
    environment: str = "development"
    cors_origins: tuple[str, ...] = ("http://127.0.0.1:3000", "http://localhost:3000")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    max_upload_mb: int = 256
    log_level: str = "INFO"
    log_format: str = "logfmt"
    """``logfmt`` (key=value, readable) or ``json`` (one object per line); docs/logging.md."""
    flower_host: str = "127.0.0.1"
    flower_port: int = 5555
    flower_user: str = "admin"
    flower_password: str = ""
    """Empty in development: ``tickflow run`` generates one and keeps it in its var directory."""
    ui_host: str = "127.0.0.1"
    ui_port: int = 3000
    """Where ``next start`` serves the web UI (the Procfile's ``ui`` line reads UI_HOST and UI_PORT itself)."""
    stream_host: str = "127.0.0.1"
    stream_port: int = 8001
    stream_url: str = ""
    """The live stream's public URL when a proxy serves it (``https://host/api/v1/live/stream``); empty:
    the API answers a ticket with its own scheme and host name and ``stream_port``."""
    redis_connect_timeout_s: float = 5.0
    redis_socket_timeout_s: float = 5.0
    """How long a Redis command may wait for its reply: a server that accepts but never answers raises
    ``redis.TimeoutError`` after this instead of hanging the process (tickflow.storage.connections)."""
    mongo_connect_timeout_s: float = 5.0
    mongo_socket_timeout_s: float = 30.0
    """How long a MongoDB operation may wait on its socket; longer than any query TickFlow makes."""
    worker_max_memory_mb: int = 1024
    """A worker's pool process whose peak resident memory passes this is replaced once its task is done: Celery's
    ``worker_max_memory_per_child``, a bound on whatever a process holds after days of closes or one large
    backtest (``TICKFLOW_WORKER_MAX_MEMORY_MB``; a live pool process holds ~220 MB at 100 pairs)."""

    @property
    def mongo_db_name(self) -> str:
        """Database named in the URI path, ``tickflow`` when the path is empty."""
        name = urlsplit(self.mongo_uri).path.lstrip("/")
        return name or "tickflow"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        redis_url = _url(env, "REDIS_URL", DEFAULT_REDIS_URL, ("redis", "rediss", "unix"))
        environment = _choice(env, "TICKFLOW_ENV", "development", ("development", "test", "production"))
        secret = env.get("SECRET_KEY", "")
        if not secret:
            if environment == "production":
                raise SettingsError("SECRET_KEY: required when TICKFLOW_ENV=production (set a long random string)")
            secret = DEV_SECRET_KEY
        elif len(secret) < 16:
            raise SettingsError("SECRET_KEY: must be at least 16 characters")
        settings = cls(
            mongo_uri=_url(env, "MONGO_URI", DEFAULT_MONGO_URI, ("mongodb", "mongodb+srv")),
            redis_url=redis_url,
            celery_broker_url=_url(env, "CELERY_BROKER_URL", redis_url, ("redis", "rediss", "unix")),
            celery_result_backend=_url(env, "CELERY_RESULT_BACKEND", redis_url, ("redis", "rediss", "unix", "mongodb")),
            secret_key=secret,
            environment=environment,
            cors_origins=_origins(env.get("CORS_ORIGINS")),
            api_host=env.get("API_HOST", "127.0.0.1") or "127.0.0.1",
            api_port=env_number(env, "API_PORT", 8000, int, 1, 65535),
            max_upload_mb=env_number(env, "MAX_UPLOAD_MB", 256, int, 1, 4096),
            log_level=_choice(env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"), upper=True),
            log_format=_choice(env, "LOG_FORMAT", "logfmt", ("logfmt", "json")),
            flower_host=env.get("FLOWER_HOST", "127.0.0.1") or "127.0.0.1",
            flower_port=env_number(env, "FLOWER_PORT", 5555, int, 1, 65535),
            flower_user=_flower_user(env.get("FLOWER_USER", "")),
            flower_password=_flower_password(env.get("FLOWER_PASSWORD", "")),
            ui_host=env.get("UI_HOST", "127.0.0.1") or "127.0.0.1",
            ui_port=env_number(env, "UI_PORT", 3000, int, 1, 65535),
            stream_host=env.get("STREAM_HOST", "127.0.0.1") or "127.0.0.1",
            stream_port=env_number(env, "STREAM_PORT", 8001, int, 1, 65535),
            stream_url=_stream_url(env.get("STREAM_URL", "")),
            redis_connect_timeout_s=env_number(env, "REDIS_CONNECT_TIMEOUT_S", 5.0, float, 0.01, 600.0),
            redis_socket_timeout_s=env_number(env, "REDIS_SOCKET_TIMEOUT_S", 5.0, float, 0.01, 600.0),
            mongo_connect_timeout_s=env_number(env, "MONGO_CONNECT_TIMEOUT_S", 5.0, float, 0.01, 600.0),
            mongo_socket_timeout_s=env_number(env, "MONGO_SOCKET_TIMEOUT_S", 30.0, float, 0.01, 3600.0),
            worker_max_memory_mb=env_number(env, "TICKFLOW_WORKER_MAX_MEMORY_MB", 1024, int, 64, 1_048_576),
        )
        if environment == "production":
            refuse_unsafe_production(settings)
        return settings


def refuse_unsafe_production(settings: Settings) -> None:
    """Stop a production process whose settings would expose it: a development secret, any origin, an open Flower.

    Development runs on defaults; production must not, because a known ``SECRET_KEY`` lets anyone
    forge what it signs, ``*`` lets every web page call the API with a user's token, and Flower
    (which can stop workers) must not run without a password. Every process checks all of them,
    so a deployment's one env file is found wrong by whichever process starts first.
    """
    if settings.secret_key in (DEV_SECRET_KEY, EXAMPLE_SECRET):
        raise SettingsError(
            "SECRET_KEY: the development default cannot be used when TICKFLOW_ENV=production "
            "(set the output of: openssl rand -hex 32)"
        )
    if "*" in settings.cors_origins:
        raise SettingsError(
            "CORS_ORIGINS: '*' is not allowed when TICKFLOW_ENV=production "
            "(list the web UI's origins, e.g. https://app.example.com)"
        )
    if settings.flower_password in ("", EXAMPLE_SECRET):
        raise SettingsError(
            "FLOWER_PASSWORD: required when TICKFLOW_ENV=production (set 12+ random characters: openssl rand -hex 16)"
        )


def _flower_user(raw: str) -> str:
    user = raw or "admin"
    if ":" in user or any(c.isspace() for c in user):
        raise SettingsError(f"FLOWER_USER: {user!r} may contain neither ':' nor spaces")
    return user


def _flower_password(raw: str) -> str:
    """Flower's basic-auth password, when given: ``tickflow flower`` refuses to start without one, production
    refuses any process without one (``refuse_unsafe_production``), ``tickflow run`` generates one for development."""
    if not raw:
        return ""
    if len(raw) < 12 or any(c.isspace() or c == "," for c in raw):  # Flower splits FLOWER_BASIC_AUTH at commas
        raise SettingsError("FLOWER_PASSWORD: must be at least 12 characters, without spaces or commas")
    return raw


def _stream_url(raw: str) -> str:
    """Where browsers open the live stream, as the API tells them; checked so a typo fails at start-up."""
    if not raw:
        return ""
    parts = urlsplit(raw)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # out of range, or not a number
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or parts.query or parts.fragment:
        raise SettingsError(
            f"STREAM_URL: {raw!r} is not an http(s) URL without a query (https://host/api/v1/live/stream)"
        )
    return raw


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env.get(name, "") or default
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        raise SettingsError(
            f"{name}: {_redacted(value)!r} is not a URL with scheme {' or '.join(s + '://' for s in schemes)}"
        )
    try:
        _parse_url(scheme, value)
    except (ValueError, ConfigurationError) as exc:
        raise SettingsError(f"{name}: {_redacted(value)!r} is malformed: {exc}") from None
    return value


def _parse_url(scheme: str, value: str) -> None:
    """Parse the way the client will, so a bad URL fails here and not on first use."""
    if scheme == "mongodb":
        parse_uri(value)
    elif scheme == "mongodb+srv":  # parse_uri would resolve DNS here; check the form only
        if not urlsplit(value).hostname:
            raise ValueError("no host")
    else:
        redis_parse_url(value)
        urlsplit(value).port  # noqa: B018 -- raises for a port out of range


def _redacted(url: str) -> str:
    """The URL with any password replaced, fit for an error message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def server_location(url: str) -> str:
    """``host:port/path`` of a URL: how messages name a server, never with its credentials."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] + parts.path


def env_number(env: Mapping[str, str], name: str, default: N, kind: type[N], low: N = 0, high: N | None = None) -> N:
    """``name``'s value in ``env`` as a ``kind`` from ``low`` to ``high``; unset or empty is ``default``.

    Every numeric setting, here and in the live engine's, is read through this one parser so
    that a bad value stops start-up the same way: one line naming the variable.
    """
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value: N | None = kind(raw)
    except ValueError:
        value = None
    if value is None or math.isnan(value):  # float() takes "nan", which no comparison can bound
        raise SettingsError(f"{name}: {raw!r} is not a {'whole number' if kind is int else 'number'}")
    if value < low or (high is not None and value > high):
        raise SettingsError(f"{name}: {value} is " + (f"below {low}" if high is None else f"outside {low}..{high}"))
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...], upper: bool = False) -> str:
    value = env.get(name, "") or default
    value = value.upper() if upper else value.lower()
    if value not in choices:
        raise SettingsError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def _origins(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return Settings.cors_origins
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if origin != "*" and (
            parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment
        ):
            raise SettingsError(f"CORS_ORIGINS: {origin!r} is not an http(s) origin (scheme://host[:port], no path)")
    return origins


def load_env_file(path: str | os.PathLike = ".env") -> None:
    """Export ``KEY=value`` lines of ``path`` that the environment does not set yet.

    honcho does the same for every Procfile process, so the CLI run by hand
    sees the settings that ``make run`` gives the platform.
    """
    try:
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except FileNotFoundError:
        return
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip().isidentifier():
            raise SettingsError(f"{path}:{number}: expected KEY=value, got {line!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        os.environ.setdefault(key.strip(), value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.from_env()


# -- the exchange live orders go to (docs/exchanges.md) --------------------------------------------

EXCHANGES = ("binance",)
"""The ccxt ids TickFlow trades on: each needs its REST URLs mapped and its error codes classified."""


@dataclass(frozen=True)
class ExchangeSettings:
    """Where live orders go and with which keys. Neither key appears in a repr or a message."""

    exchange: str = "binance"
    """ccxt's id of the venue."""
    url: str = ""
    """The venue's REST base (``http://127.0.0.1:9000``: a local venue or a self-hosted gateway); empty: ccxt's own."""
    api_key: str = field(default="", repr=False)
    api_secret: str = field(default="", repr=False)
    env: str = "testnet"
    """``testnet`` (the venue's sandbox, unless ``url`` says otherwise) or ``live`` (real money)."""
    timeout_s: float = 10.0
    """How long one request may take before its outcome is unknown and must be looked up."""
    recv_window_ms: int = 5000
    """How old a signed request may arrive and still be executed; after it, the venue refuses it (-1021)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ExchangeSettings:
        """The exchange settings; ``live`` needs TICKFLOW_ENV=production and TICKFLOW_ALLOW_REAL_TRADING=1."""
        env = os.environ if env is None else env
        exchange = _choice(env, "TICKFLOW_EXCHANGE", "binance", EXCHANGES)
        trading = _choice(env, "TICKFLOW_EXCHANGE_ENV", "testnet", ("testnet", "live"))
        if trading == "live" and (
            env.get("TICKFLOW_ENV") != "production" or env.get("TICKFLOW_ALLOW_REAL_TRADING") != "1"
        ):
            raise SettingsError(
                "TICKFLOW_EXCHANGE_ENV: 'live' trades real money and needs TICKFLOW_ENV=production "
                "and TICKFLOW_ALLOW_REAL_TRADING=1 (or use 'testnet')"
            )
        return cls(
            exchange=exchange,
            url=_exchange_url(env.get("TICKFLOW_EXCHANGE_URL", "")),
            api_key=env.get("TICKFLOW_EXCHANGE_API_KEY", ""),
            api_secret=_exchange_secret(env),
            env=trading,
            timeout_s=env_number(env, "TICKFLOW_EXCHANGE_TIMEOUT_S", cls.timeout_s, float, 0.1, 60.0),
            recv_window_ms=env_number(env, "TICKFLOW_EXCHANGE_RECV_WINDOW_MS", cls.recv_window_ms, int, 100, 60_000),
        )


def _exchange_url(raw: str) -> str:
    """An http(s) base URL without query, so a typo fails at start-up rather than on the first order."""
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or parts.password:
        raise SettingsError(
            f"TICKFLOW_EXCHANGE_URL: {_redacted(raw)!r} is not an http(s) URL without credentials or query"
        )
    return raw.rstrip("/")


def _exchange_secret(env: Mapping[str, str]) -> str:
    """The API secret from TICKFLOW_EXCHANGE_API_SECRET or the file TICKFLOW_EXCHANGE_API_SECRET_FILE names
    (a Docker or Kubernetes secret); never both, and a file that cannot be read says so without its content."""
    secret, path = env.get("TICKFLOW_EXCHANGE_API_SECRET", ""), env.get("TICKFLOW_EXCHANGE_API_SECRET_FILE", "")
    if secret and path:
        raise SettingsError("TICKFLOW_EXCHANGE_API_SECRET and TICKFLOW_EXCHANGE_API_SECRET_FILE: set one, not both")
    if not path:
        return secret
    try:
        with open(path, encoding="utf-8") as file:
            secret = file.read().strip()
    except OSError as exc:
        raise SettingsError(f"TICKFLOW_EXCHANGE_API_SECRET_FILE: cannot read {path}: {exc.strerror}") from None
    if not secret:
        raise SettingsError(f"TICKFLOW_EXCHANGE_API_SECRET_FILE: {path} is empty")
    return secret


# -- the live engine's tuning --------------------------------------------------------------------
# Each has a sensible default, so nothing needs configuring to run. The workers use them, and the
# API where it must size a window as the engine does (a strategy chart's warm-up).


@dataclass(frozen=True)
class LiveSettings:
    min_bars: int = 500
    """The shortest working set of closed candles kept per symbol and timeframe."""
    warmup_multiple: int = 10
    """A strategy gets at least this many times its warm-up bars of history. EMA, RSI, ATR and
    MACD depend on how much history they start from; 10x the warm-up makes the difference
    from a backtest over all history negligible (see docs/live-engine.md)."""
    stale_candles: float = 1.0
    """Work on a close that arrives more than this many candle periods late is dropped, not traded."""
    chain_batch: int = 500
    """Most strategies one decide -> execute chain carries."""
    path_length: int = 10_000
    """Entries kept in each symbol's price-path stream (what stops are checked against)."""
    events_length: int = EVENTS_LENGTH
    """Entries kept in the events stream that the stream process serves."""
    max_tick_skew_s: float = 5.0
    """A tick stamped further than this ahead of the ingesting host's clock is quarantined (``workers.quarantine``)."""
    price_band: float = 0.20
    """A tick priced further than this fraction from its symbol's last price is quarantined ..."""
    price_band_window_s: float = 60.0
    """... while that last price is at most this old (after that, the next tick sets the new level)."""
    order_resend_after_s: float = 60.0
    """A claimed venue order the venue does not know is sent again only this long after its claim: longer than any
    attempt that claimed it can live (the ``orders`` queue's hard time limit, 25 s) plus the venue's ``recvWindow``
    and request timeout, after which no request of that attempt can still arrive (``workers.venue_orders``)."""
    venue_time_s: float = 5.0
    """How long one ``execute`` may go on starting venue orders: a position started before then may still need a
    request's timeout (10 s) and the rate limit's wait (2 s), inside the ``orders`` queue's soft time limit (20 s).
    Positions not started by then are left to the task's retry, which sends them (``workers.engine``)."""
    limits: RiskLimits = field(default_factory=RiskLimits)
    """Risk limits every live strategy gets on top of its spec's ``risk.limits`` (the stricter wins)."""

    def close_retention_s(self, period_ms: int) -> int:
        """How long the keys of one close's work live (its signal keys and order claims), for a timeframe
        of ``period_ms``: every task drops a close once it is ``stale_candles`` periods old, so nothing
        can act on it after that; the keys outlive it by a period and ``CLOSE_RETENTION_MARGIN_S`` (clocks,
        restored messages). ``1m``: 12 minutes; ``1d``: 2 days and 10 minutes. Kept longer they only hold
        memory: a day of signals and claims at 100 pairs on ``1m`` was projected at ~110 MB of Redis."""
        return math.ceil((math.ceil(self.stale_candles) + 1) * period_ms / 1000) + CLOSE_RETENTION_MARGIN_S

    def venue_claim_s(self, period_ms: int) -> int:
        """How long a venue order's claim lives: a day at least, past its close's retention, so that an exit retried
        through a long venue outage (stop checks retry on every batch) still finds it claimed and looks the order
        up instead of sending it again. The reconciliation tells a claim a task may still act on by its age."""
        return max(self.close_retention_s(period_ms), 86_400)

    @property
    def fill_retention_s(self) -> int:
        """How long the paper broker keeps a fill: as long as the longest-lived order claim (``1d``'s), since
        a claimed order may be sent again and its fill is what makes that harmless."""
        return self.close_retention_s(max(TIMEFRAME_MS.values()))

    def working_set_bars(self, warmup_bars: int) -> int:
        """Closed candles kept for a strategy whose rules need ``warmup_bars``: ``warmup_multiple`` times its
        warm-up, at least ``min_bars``."""
        return max(self.min_bars, self.warmup_multiple * (warmup_bars + 1))

    @classmethod
    def from_env(cls) -> LiveSettings:
        env = os.environ
        return cls(
            min_bars=env_number(env, "TICKFLOW_LIVE_MIN_BARS", cls.min_bars, int),
            warmup_multiple=env_number(env, "TICKFLOW_LIVE_WARMUP_MULTIPLE", cls.warmup_multiple, int),
            stale_candles=env_number(env, "TICKFLOW_LIVE_STALE_CANDLES", cls.stale_candles, float),
            chain_batch=env_number(env, "TICKFLOW_LIVE_CHAIN_BATCH", cls.chain_batch, int),
            max_tick_skew_s=env_number(env, "TICKFLOW_MAX_TICK_SKEW_S", cls.max_tick_skew_s, float),
            price_band=env_number(env, "TICKFLOW_LIVE_PRICE_BAND", cls.price_band, float),
            price_band_window_s=env_number(env, "TICKFLOW_LIVE_PRICE_BAND_WINDOW_S", cls.price_band_window_s, float),
            limits=risk_limits(env),
        )


# -- risk limits for every live strategy (docs/live-engine.md, "Risk limits") ----------------------

RISK_LIMIT_VARIABLES: Mapping[str, tuple[str, type[int] | type[float], bool]] = {
    "max_position_notional": ("TICKFLOW_RISK_MAX_POSITION_NOTIONAL", float, False),
    "max_total_exposure": ("TICKFLOW_RISK_MAX_TOTAL_EXPOSURE", float, False),
    "max_daily_loss": ("TICKFLOW_RISK_MAX_DAILY_LOSS", float, True),
    "max_drawdown": ("TICKFLOW_RISK_MAX_DRAWDOWN", float, True),
    "max_orders_per_minute": ("TICKFLOW_RISK_MAX_ORDERS_PER_MINUTE", int, False),
}
"""Limit -> (variable, kind, whether it is a fraction below 1); each unset or empty means no limit."""


def risk_limits(env: Mapping[str, str]) -> RiskLimits:
    """The operator's limits from ``env``, checked as the spec's are: above 0, and fractions below 1."""
    values: dict[str, float | None] = {}
    for name, (variable, kind, fraction) in RISK_LIMIT_VARIABLES.items():
        value = env_number(env, variable, None, kind, 0, 1 if fraction else None)
        if value is not None and (value == 0 or (fraction and value == 1) or math.isinf(value)):
            bounds = "between 0 and 1, both excluded" if fraction else "a finite number above 0"
            raise SettingsError(f"{variable}: {value} is not {bounds}; leave it unset for no limit")
        values[name] = value
    return RiskLimits(**values)


@lru_cache(maxsize=1)
def live_settings() -> LiveSettings:
    return LiveSettings.from_env()
