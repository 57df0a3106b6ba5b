"""Strategies: MongoDB is the truth, Redis a write-through cache for the live engine.

Every write lands in MongoDB first and then in Redis: MongoDB is never behind
what a client was told. Reads come from Redis and refill it from MongoDB on a
miss, so a flushed Redis heals itself. Once MongoDB has a write, the write
has happened: a cache write that fails then (Redis down at that moment) is
logged and the old entry dropped if Redis lets us, and the caller is told
the write succeeded. Should Redis refuse even that, the old entry expires
within ``CACHE_TTL_MS``, which bounds how long a read can be stale. Reads
fall back to MongoDB while Redis is unreachable.

Two writers (or a writer and a reader refilling the cache) can reach Redis
out of order. Each strategy carries a ``version`` bumped on every write, and a
small Lua script stores a cache entry only if it is newer than the one there.
Deleting leaves a short-lived tombstone under the deleted version, so that a
refill racing with the delete cannot bring the strategy back. The periodic
refresh (``workers.maintenance``) rewrites entries from MongoDB through
the same script, so it too can never replace a newer entry.

List pages, what dashboards poll most, are kept in each process's memory
for up to ``LIST_CACHE_S``, under the list generation in Redis: every write
replaces the generation together with its cache entry, so the next list
read anywhere goes to MongoDB. A write whose cache update fails (Redis down
at that moment) leaves pages stale for ``LIST_CACHE_S`` at most; with Redis
unreachable, lists come from MongoDB.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from strategies.spec import SpecError, SpecIssue, validate_spec
from tickflow.storage.keys import strategy_key, strategy_list_generation
from tickflow.storage.schema import STRATEGIES, mongo_now
from tickflow.storage.scripts import lua_script

CACHE_TTL_MS = 10 * 60 * 1000
# Longer than any read that could still be refilling the cache from MongoDB.
TOMBSTONE_TTL_MS = 10 * 60 * 1000
# A merge patch re-reads and retries when another writer got in between.
PATCH_ATTEMPTS = 3
SCAN_COUNT = 1000
# How long a process serves a list page from memory without MongoDB, if no write says otherwise.
LIST_CACHE_S = 10.0
_LIST_CACHE_SIZE = 256
_list_pages: dict[tuple, tuple[float, list[Strategy], int]] = {}
_INT64 = range(-(2**63), 2**63)

log = logging.getLogger(__name__)

_SET_IF_NEWER = lua_script("tickflow.storage", "set_if_newer")


class StrategyNotFound(LookupError):
    """No strategy has this id (including ids that are not ObjectIds at all)."""


class Conflict(ValueError):
    """The write would break a uniqueness rule (another strategy has this name)."""


class VersionMismatch(Conflict):
    """The strategy changed since the version the caller based its write on."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"strategy is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Strategy:
    """A stored strategy: its normalised spec plus bookkeeping."""

    id: str
    name: str
    spec: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Strategy:
        return cls(
            id=str(doc["_id"]),
            name=doc["name"],
            spec=doc["spec"],
            version=doc["version"],
            created_at=doc["created_at"],
            updated_at=doc["updated_at"],
        )

    def to_json(self) -> str:
        """The cache representation (timestamps as ISO 8601)."""
        return json.dumps(
            {
                "id": self.id,
                "name": self.name,
                "spec": self.spec,
                "version": self.version,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
            },
            separators=(",", ":"),
            allow_nan=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> Strategy:
        data = json.loads(raw)
        return cls(
            id=data["id"],
            name=data["name"],
            spec=data["spec"],
            version=data["version"],
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
        )


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch: objects merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _utf8_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unstorable(value: Any, path: str = "") -> Iterator[SpecIssue]:
    """Values BSON cannot encode: integers beyond 64 bits, text with unpaired surrogates."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _unstorable(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable(item, f"{path}[{index}]")
    elif isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        yield SpecIssue(path, "must be between -2^63 and 2^63-1")
    elif isinstance(value, str) and not _utf8_encodable(value):
        yield SpecIssue(path, "must be valid Unicode text (it holds an unpaired surrogate)")


def _validated(spec_doc: Any) -> dict[str, Any]:
    """The normalised spec, or :class:`SpecError` for anything invalid or unstorable."""
    spec = validate_spec(spec_doc).to_dict()
    issues = list(_unstorable(spec))
    if issues:
        raise SpecError(issues)
    return spec


def _object_id(strategy_id: str) -> ObjectId:
    if not isinstance(strategy_id, str) or not ObjectId.is_valid(strategy_id):
        raise StrategyNotFound(strategy_id)
    return ObjectId(strategy_id)


class StrategyRepository:
    """Create, read, list, replace, patch and delete strategies.

    Specs are validated with :func:`strategies.spec.validate_spec`; anything
    invalid, or that MongoDB could not store, raises
    :class:`strategies.spec.SpecError`. Only the normalised spec is stored.
    """

    def __init__(self, db: Database, redis_client: redis.Redis) -> None:
        self._collection = db[STRATEGIES]
        self._redis = redis_client
        self._set_if_newer = redis_client.register_script(_SET_IF_NEWER)

    def create(self, spec_doc: Mapping[str, Any]) -> Strategy:
        """Validate and store a new strategy at version 1."""
        spec = _validated(spec_doc)
        now = mongo_now()
        doc = {"name": spec["name"], "spec": spec, "version": 1, "created_at": now, "updated_at": now}
        try:
            doc["_id"] = self._collection.insert_one(doc).inserted_id
        except DuplicateKeyError:
            raise Conflict(f"a strategy named {spec['name']!r} already exists") from None
        return self._cache(Strategy.from_document(doc))

    def get(self, strategy_id: str) -> Strategy:
        """The strategy from the cache, refilled from MongoDB on a miss."""
        key = strategy_key(str(_object_id(strategy_id)))
        try:
            cached = self._redis.hget(key, "doc")
        except redis.RedisError as exc:
            log.warning("strategy cache unreachable, reading %s from MongoDB: %s", strategy_id, exc)
            return self._find(_object_id(strategy_id))
        if cached == "":
            raise StrategyNotFound(strategy_id)  # tombstone: deleted a moment ago
        if cached is not None:
            return Strategy.from_json(cached)
        doc = self._collection.find_one({"_id": _object_id(strategy_id)})
        if doc is None:
            raise StrategyNotFound(strategy_id)
        return self._cache(Strategy.from_document(doc))

    def list(self, page: int = 1, per_page: int = 20, name_prefix: str | None = None) -> tuple[list[Strategy], int]:
        """One page of strategies ordered by name, and how many match in all (see the module docstring)."""
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page start at 1")
        generation = self._list_generation()
        if generation is None:
            return self._list_from_mongodb(page, per_page, name_prefix)
        key = (self._collection.full_name, generation, page, per_page, name_prefix)
        cached = _list_pages.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1], cached[2]
        items, total = self._list_from_mongodb(page, per_page, name_prefix)
        if len(_list_pages) >= _LIST_CACHE_SIZE:
            _list_pages.clear()  # old generations' pages, mostly: cheaper than tracking which
        _list_pages[key] = (time.monotonic() + LIST_CACHE_S, items, total)
        return items, total

    def _list_generation(self) -> str | None:
        """The list generation, made up here if Redis has none (a new or flushed Redis); None without Redis."""
        new = uuid.uuid4().hex
        try:
            current = self._redis.set(strategy_list_generation(), new, nx=True, get=True)
        except redis.RedisError:
            return None
        return current if current is not None else new

    def _list_from_mongodb(self, page: int, per_page: int, name_prefix: str | None) -> tuple[list[Strategy], int]:
        query: dict[str, Any] = {}
        if name_prefix:
            query["name"] = {"$regex": "^" + re.escape(str(name_prefix))}
        # One round trip for the page and the count: a list is what dashboards read most.
        [result] = self._collection.aggregate([
            {"$match": query},
            {"$facet": {
                "items": [{"$sort": {"name": ASCENDING}}, {"$skip": (page - 1) * per_page}, {"$limit": per_page}],
                "total": [{"$count": "n"}],
            }},
        ])  # fmt: skip
        total = result["total"][0]["n"] if result["total"] else 0
        return [Strategy.from_document(doc) for doc in result["items"]], total

    def replace(self, strategy_id: str, spec_doc: Mapping[str, Any], expected_version: int | None = None) -> Strategy:
        """Validate and store a whole new spec; with ``expected_version``, only over that version."""
        oid = _object_id(strategy_id)
        spec = _validated(spec_doc)
        return self._write(oid, spec, expected_version)

    def patch(self, strategy_id: str, partial: Mapping[str, Any], expected_version: int | None = None) -> Strategy:
        """Merge-patch the spec, then validate the result as a whole.

        The patch applies to what MongoDB holds now; if another writer gets in
        between, it is applied again to the newer spec (unless the caller
        pinned ``expected_version``, which then no longer matches).
        """
        oid = _object_id(strategy_id)
        attempts_left = PATCH_ATTEMPTS
        while True:
            current = self._find(oid)
            if expected_version is not None and current.version != expected_version:
                raise VersionMismatch(expected_version, current.version)
            spec = _validated(merge_patch(current.spec, partial))
            try:
                return self._write(oid, spec, current.version)
            except VersionMismatch:
                attempts_left -= 1
                if expected_version is not None or not attempts_left:
                    raise

    def delete(self, strategy_id: str) -> None:
        """Remove the strategy from MongoDB, then from the cache."""
        doc = self._collection.find_one_and_delete({"_id": _object_id(strategy_id)}, projection={"version": 1})
        if doc is None:
            raise StrategyNotFound(strategy_id)
        # Deleting is a write too: it outranks every cached version up to the deleted one.
        self._write_cache(strategy_id, doc["version"] + 1, "", TOMBSTONE_TTL_MS)

    def recache(self, strategy: Strategy) -> bool:
        """Write ``strategy``, as just read from MongoDB, to the cache; False if a newer version is cached.

        An entry of the same version is rewritten too (its TTL renewed), an older one replaced. A
        writer whose newer version lands between the caller's read and this write keeps its entry.
        """
        return self._write_cache(strategy.id, strategy.version, strategy.to_json(), CACHE_TTL_MS, same=True)

    def cached_versions(self) -> dict[str, int]:
        """Id -> cached version of every strategy in the cache (tombstones left out)."""
        names = list(self._redis.scan_iter(match=strategy_key("*"), count=SCAN_COUNT))
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hmget(name, ["version", "doc"])
        return {
            name.rsplit(":", 1)[1]: int(version)
            for name, (version, doc) in zip(names, pipe.execute())
            if version is not None and doc
        }

    def retire(self, strategy_id: str, cached_version: int) -> bool:
        """Tombstone the cache entry of a strategy MongoDB no longer has, as ``delete`` would have."""
        return self._write_cache(strategy_id, cached_version + 1, "", TOMBSTONE_TTL_MS)

    def _find(self, oid: ObjectId) -> Strategy:
        doc = self._collection.find_one({"_id": oid})
        if doc is None:
            raise StrategyNotFound(str(oid))
        return Strategy.from_document(doc)

    def _write(self, oid: ObjectId, spec: dict[str, Any], expected_version: int | None) -> Strategy:
        query: dict[str, Any] = {"_id": oid}
        if expected_version is not None:
            query["version"] = expected_version
        try:
            doc = self._collection.find_one_and_update(
                query,
                {"$set": {"name": spec["name"], "spec": spec, "updated_at": mongo_now()}, "$inc": {"version": 1}},
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            raise Conflict(f"a strategy named {spec['name']!r} already exists") from None
        if doc is None:
            current = self._find(oid)  # raises StrategyNotFound when it is gone altogether
            raise VersionMismatch(expected_version, current.version)
        return self._cache(Strategy.from_document(doc))

    def _cache(self, strategy: Strategy) -> Strategy:
        self._write_cache(strategy.id, strategy.version, strategy.to_json(), CACHE_TTL_MS)
        return strategy

    def _write_cache(self, strategy_id: str, version: int, doc_json: str, ttl_ms: int, same: bool = False) -> bool:
        """Best effort: MongoDB already has the write, so a Redis failure must not undo the answer.

        Whether the entry was stored (False: a newer one is cached, or Redis failed).
        """
        key = strategy_key(strategy_id)
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                self._set_if_newer(keys=[key], args=[version, doc_json, ttl_ms, int(same)], client=pipe)
                if not same:  # a write, not a refill from MongoDB: list pages read before it are stale
                    pipe.set(strategy_list_generation(), uuid.uuid4().hex)
                stored = pipe.execute()[0]
            return bool(stored)
        except redis.RedisError as exc:
            log.error("strategy %s v%s is in MongoDB but the cache write failed: %s", strategy_id, version, exc)
            try:
                self._redis.delete(key)  # a miss refills from MongoDB; a stale entry would not
            except redis.RedisError:
                pass  # the entry, if any, expires within CACHE_TTL_MS
            return False
