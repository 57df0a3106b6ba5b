"""The kill switch: halting all trading with nothing but Redis.

While ``keys.halt()`` exists, the live engine takes no new entries anywhere (an entry order
is cancelled at its fill, a reversal becomes a plain exit) and every stop, target and trailing
stop keeps firing. With ``flatten`` it also closes every position of every active strategy at
the next tick of its symbol. The engine reads the key on every tick batch and at every fill, so
a halt acts within one batch; it needs no MongoDB (the API verifies a token it has seen in the
last few minutes from Redis too), and worker restarts do not touch it.

A copy goes to MongoDB's ``controls`` collection when MongoDB answers, only so that a Redis
that comes back empty comes back halted (``workers.recovery`` restores it); Redis is the switch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace

import redis
from pymongo.database import Database
from pymongo.errors import PyMongoError

from tickflow.storage import keys
from tickflow.storage.events import publish
from tickflow.storage.schema import CONTROLS

log = logging.getLogger(__name__)

MAX_REASON = 200
"""Characters of a halt's reason kept (it is shown in the UI and ``tickflow status``)."""


@dataclass(frozen=True)
class Halt:
    """A halt in force: since when (epoch ms), whether positions are being closed, who halted and why."""

    since: int
    flatten: bool
    by: str
    reason: str

    def to_fields(self) -> dict[str, str]:
        return {"since": str(self.since), "flatten": "1" if self.flatten else "0", "by": self.by, "reason": self.reason}

    @classmethod
    def from_fields(cls, raw: dict[str, str]) -> Halt | None:
        if not raw:
            return None
        return cls(int(raw.get("since", 0)), raw.get("flatten") == "1", raw.get("by", ""), raw.get("reason", ""))


def current_halt(client: redis.Redis | redis.client.Pipeline) -> Halt | None:
    """The halt in force, or None (queued only, when ``client`` is a pipeline: parse with ``Halt.from_fields``)."""
    return Halt.from_fields(client.hgetall(keys.halt()))


def halt(client: redis.Redis, by: str, flatten: bool = False, reason: str = "", db: Database | None = None) -> Halt:
    """Halt trading (or change a halt in force to flatten too: a halt never loses ``flatten`` but by resume).

    Keeps the first halt's ``since``; publishes a ``halt`` event when anything changed."""
    before = current_halt(client)
    if before is None:
        state = Halt(int(time.time() * 1000), flatten, by, reason[:MAX_REASON])
    elif flatten and not before.flatten:
        state = replace(before, flatten=True, by=by, reason=reason[:MAX_REASON] or before.reason)
    else:
        state = before
    if state != before:
        pipe = client.pipeline(transaction=True)
        pipe.delete(keys.halt())
        pipe.hset(keys.halt(), mapping=state.to_fields())
        publish(pipe, "halt", {"halted": True, **asdict(state)})
        pipe.execute()
        log.warning(
            "trading halted%s by %s%s",
            ", closing every position" if state.flatten else "",
            state.by,
            f": {state.reason}" if state.reason else "",
        )
    _mirror(db, state)
    return state


def resume(client: redis.Redis, by: str, db: Database | None = None) -> Halt | None:
    """Lift the halt; returns the halt that was in force (None if there was none)."""
    before = current_halt(client)
    if before is not None:
        pipe = client.pipeline(transaction=True)
        pipe.delete(keys.halt())
        publish(pipe, "halt", {"halted": False, "by": by})
        pipe.execute()
        log.warning("trading resumed by %s", by)
    _mirror(db, None)
    return before


def restore(client: redis.Redis, db: Database) -> Halt | None:
    """Put back a halt that MongoDB's copy holds and Redis lost (after Redis came back empty)."""
    doc = db[CONTROLS].find_one({"_id": "halt"})
    if doc is None:
        return None
    state = Halt(int(doc["since"]), bool(doc["flatten"]), str(doc["by"]), str(doc["reason"]))
    client.hset(keys.halt(), mapping=state.to_fields())
    log.warning("trading halt restored from MongoDB (halted since %d by %s)", state.since, state.by)
    return state


def _mirror(db: Database | None, state: Halt | None) -> None:
    """Best effort: Redis holds the switch, and MongoDB being down must not stop a halt."""
    if db is None:
        return
    try:
        if state is None:
            db[CONTROLS].delete_one({"_id": "halt"})
        else:
            db[CONTROLS].replace_one({"_id": "halt"}, asdict(state), upsert=True)
    except PyMongoError as error:
        log.warning("halt: MongoDB's copy not updated (%s); Redis holds the switch", error)
