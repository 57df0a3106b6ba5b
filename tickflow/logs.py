"""One log format for every TickFlow process: one line per event, for people and for parsers alike.

Every process calls :func:`configure` once (the API's app factory, the
``tickflow`` CLI, the feed; Celery workers and beat through
:func:`connect_celery`). Each event is one line, a traceback included, so
``grep``, ``tail -f`` and log shippers never see half an event:

    ts=2026-11-26T14:31:12.611Z level=info logger=backtests.runs proc=backtest@host task=tasks.backtests.run \
        task_id=5f0c... run_id=6565... strategy_id=6564... symbol=BTCUSDT timeframe=1h msg="backtest done in 0.42 s"

(one line; broken here only to fit).

``LOG_FORMAT=json`` writes the same fields as one JSON object per line.
docs/logging.md describes every field.

Lines carry ids without the caller formatting them: the Celery task's name
and id come from the task running in the thread, and ``strategy_id``,
``symbol``... from :class:`log_context` (for a block) or ``extra=`` (for
one call). Nothing here runs for a line below the level, so hot paths may
log freely at ``debug``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from logging.handlers import WatchedFileHandler
from types import MappingProxyType
from typing import Any

from celery import signals
from celery._state import get_current_task  # what Celery's own TaskFormatter reads

from tickflow.settings import Settings, get_settings

Fields = dict[str, Any]

_bound: ContextVar[Mapping[str, Any]] = ContextVar("tickflow_log_fields", default=MappingProxyType({}))
_role = ""
"""The ``proc`` field: which process logs (``api``, ``feed``, ``cli``, ``beat``, a worker's node name)."""
_handler: logging.Handler | None = None
_GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")
# LogRecord attributes that are not fields a caller gave with ``extra=``; Celery's ``data`` extra
# (its task name and id) is read separately.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "data"}
_RESERVED = frozenset(("ts", "level", "logger", "proc", "task", "task_id", "msg", "exc", "stack"))
"""Fields this module fills in; ``log_context`` and ``extra=`` cannot replace them."""


class log_context:  # lower case: used like a function, ``with log_context(strategy_id=...):``
    """Add ``fields`` (``strategy_id=``, ``symbol=``...) to every line logged in the ``with`` block.

    Blocks nest, and the fields follow the code through ``await`` and into
    asyncio tasks created inside the block, but not into new threads (run
    those in ``contextvars.copy_context()``). A field set to ``None`` is left
    out. A class rather than ``contextlib.contextmanager``: entering and
    leaving one costs about half a microsecond, so a loop may wrap each
    strategy or symbol it handles.
    """

    __slots__ = ("_token", "fields")

    def __init__(self, **fields: Any) -> None:
        self.fields = fields
        self._token: Token[Mapping[str, Any]] | None = None

    def __enter__(self) -> None:
        self._token = _bound.set({**_bound.get(), **self.fields})

    def __exit__(self, *_: object) -> None:
        if self._token is not None:
            _bound.reset(self._token)
            self._token = None


class LineFormatter(logging.Formatter):
    """Formats a record as one line of ``logfmt`` or ``json`` (see the module docstring)."""

    def __init__(self, fmt: str = "logfmt") -> None:
        super().__init__()
        self.render: Callable[[Fields], str] = {"logfmt": render_logfmt, "json": render_json}[fmt]

    def format(self, record: logging.LogRecord) -> str:
        return self.render(self.fields(record))

    def fields(self, record: logging.LogRecord) -> Fields:
        """Every field of the line, in order: the fixed ones, the bound and given ids, the message."""
        fields: Fields = {"ts": _timestamp(record.created), "level": record.levelname.lower(), "logger": record.name}
        if _role:
            fields["proc"] = _role
        task = get_current_task()
        if task is not None and task.request.id is not None:
            fields["task"], fields["task_id"] = task.name, task.request.id
        elif isinstance(data := record.__dict__.get("data"), dict) and "id" in data:
            fields["task"], fields["task_id"] = data.get("name"), data["id"]  # Celery's "Task ... received"
        given = {key: value for key, value in record.__dict__.items() if key not in _RECORD_ATTRIBUTES}
        for key, value in {**_bound.get(), **given}.items():
            if key not in _RESERVED:
                fields[key] = value
        fields["msg"] = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            fields["exc"] = record.exc_text
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return fields


_last_second: tuple[int, str] = (-1, "")  # (second, its text): strftime once a second, not once a line


def _timestamp(created: float) -> str:
    """UTC to the millisecond, ``2026-11-26T14:31:12.611Z``."""
    global _last_second
    seconds = int(created)
    cached, prefix = _last_second
    if seconds != cached:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _last_second = (seconds, prefix)
    return f"{prefix}.{int((created - seconds) * 1000):03d}Z"


_needs_quotes = re.compile(r"[^\w\-.:/@+,\[\]()]", re.ASCII).search
"""Anything but letters, digits and ``-_.:/@+,[]()``."""
_needs_escapes = re.compile(r'[\x00-\x1f\x7f"\\]').search
# Backslash, quote and control characters are escaped, so that a value never ends the line.
_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(0x20), 0x7F]}
_ESCAPES.update({ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


def render_logfmt(fields: Fields) -> str:
    """``key=value`` pairs; a value with anything but letters, digits and ``-_.:/@+,[]()`` is quoted."""
    parts = []
    for key, value in fields.items():
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if not text or _needs_quotes(text):
            text = f'"{text.translate(_ESCAPES) if _needs_escapes(text) else text}"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


def render_json(fields: Fields) -> str:
    """One JSON object; ``json`` escapes newlines in strings, so it stays one line."""
    return json.dumps(
        {key: value for key, value in fields.items() if value is not None}, ensure_ascii=False, default=str
    )


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a line is logged: test runners swap it for a while."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr


def configure(
    role: str, *, logfile: str | None = None, min_level: int = logging.NOTSET, settings: Settings | None = None
) -> None:
    """Log every line of this process at ``LOG_LEVEL`` in ``LOG_FORMAT``, to stderr or ``logfile``.

    ``role`` becomes the ``proc`` field. ``min_level`` quietens the process
    further (a Celery program's ``--loglevel``): lines below either level are
    dropped. Calling it again replaces this module's handler and leaves any
    other handler alone (pytest's, say). gunicorn's loggers keep their own
    handlers (``--access-logfile``...) and take the format.
    """
    global _handler, _role
    settings = settings or get_settings()
    formatter = LineFormatter(settings.log_format)
    handler = WatchedFileHandler(logfile, encoding="utf-8") if logfile else _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    _handler, _role = handler, role
    root.addHandler(handler)
    root.setLevel(max(logging.getLevelName(settings.log_level), min_level))
    for name in _GUNICORN_LOGGERS:
        for gunicorn_handler in logging.getLogger(name).handlers:
            gunicorn_handler.setFormatter(formatter)
    logging.captureWarnings(True)  # a Python warning is an event too, on one line


def connect_celery() -> None:
    """Make Celery workers and beat log through :func:`configure` instead of Celery's own setup.

    Celery's ``--loglevel`` still applies (with ``LOG_LEVEL``, the quieter
    wins) and so does ``--logfile``. A worker's lines say its node name
    (``live@host``); beat's say ``beat`` from its second line on.
    """
    signals.celeryd_init.connect(_name_worker)
    signals.setup_logging.connect(_setup_celery_logging)
    signals.beat_init.connect(_name_beat)


def _name_worker(sender: str, **_: Any) -> None:
    """Sent before the worker sets up logging, with its node name."""
    global _role
    _role = sender


def _setup_celery_logging(loglevel: int | None = None, logfile: str | None = None, **_: Any) -> None:
    """Celery's ``setup_logging``: with a receiver connected, Celery sets up no logging of its own."""
    configure(_role, logfile=logfile, min_level=loglevel or logging.NOTSET)


def _name_beat(**_: Any) -> None:
    """Sent once beat has logged "beat: Starting..."; no earlier signal says that this process is beat."""
    global _role
    _role = "beat"
