"""API bearer tokens, stored only as their SHA-256 hash.

A token is shown once, when it is created; the database keeps its hash, so a
leaked database dump grants no access. Verification hashes the presented
token and looks the hash up through a unique index: there is no secret
comparison to time, hence no need for a constant-time compare.

Every API request verifies its token, so a verified record is kept in Redis for
``CACHE_TTL_S`` (under ``keys.token_cache(hash)``): a Redis read instead of a
MongoDB query. Revoking a token deletes its cache entry too, so it stops working
at once; with Redis unreachable, verification simply asks MongoDB.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from bson import ObjectId
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from tickflow.storage import keys
from tickflow.storage.schema import API_TOKENS, mongo_now

TOKEN_PREFIX = "tf_"
# Recording every use would turn each API read into a database write;
# once a minute is precise enough to tell a live token from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)
CACHE_TTL_S = 300

log = logging.getLogger(__name__)


class TokenNameTaken(ValueError):
    """Another token already has this name (names identify tokens for ``revoke``)."""


@dataclass(frozen=True)
class ApiToken:
    """What is known about a token: never the token itself."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None

    @classmethod
    def from_document(cls, doc: dict) -> ApiToken:
        return cls(
            id=str(doc["_id"]), name=doc["name"], created_at=doc["created_at"], last_used_at=doc.get("last_used_at")
        )

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "name": self.name, "created_at": self.created_at.isoformat(),
                           "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None})  # fmt: skip

    @classmethod
    def from_json(cls, raw: str) -> ApiToken:
        data = json.loads(raw)
        last_used = data["last_used_at"]
        return cls(data["id"], data["name"], datetime.fromisoformat(data["created_at"]),
                   datetime.fromisoformat(last_used) if last_used else None)  # fmt: skip


def hash_token(token: str) -> str:
    """The hex SHA-256 under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenRepository:
    """Create, verify, list and revoke API tokens in the ``api_tokens`` collection."""

    def __init__(self, db: Database, cache: redis.Redis) -> None:
        self._tokens = db[API_TOKENS]
        self._cache = cache

    def create(self, name: str) -> tuple[str, ApiToken]:
        """Make a new token called ``name``; returns the plaintext (shown once) and its record."""
        name = name.strip()
        if not name:
            raise ValueError("a token needs a name")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        doc = {"name": name, "token_hash": hash_token(token), "created_at": mongo_now()}
        try:
            doc["_id"] = self._tokens.insert_one(doc).inserted_id
        except DuplicateKeyError:  # the unique index on name decides races too
            raise TokenNameTaken(f"a token named {name!r} already exists") from None
        return token, ApiToken.from_document(doc)

    def verify(self, token: object) -> ApiToken | None:
        """The record of a valid token, or ``None``; notes the use at most once a minute."""
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            return None
        digest = hash_token(token)
        record = self._cached(digest)
        now = mongo_now()
        if record is not None and record.last_used_at is not None and now - record.last_used_at < LAST_USED_RESOLUTION:
            return record
        doc = self._tokens.find_one({"token_hash": digest})
        if doc is None:
            return None
        last_used = doc.get("last_used_at")
        if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
            self._tokens.update_one({"_id": doc["_id"]}, {"$set": {"last_used_at": now}})
            doc["last_used_at"] = now
        record = ApiToken.from_document(doc)
        self._remember(digest, record)
        return record

    def _cached(self, digest: str) -> ApiToken | None:
        try:
            raw = self._cache.get(keys.token_cache(digest))
        except redis.RedisError:
            return None
        return None if raw is None else ApiToken.from_json(raw)

    def _remember(self, digest: str, record: ApiToken) -> None:
        try:
            self._cache.set(keys.token_cache(digest), record.to_json(), ex=CACHE_TTL_S)
        except redis.RedisError:
            pass  # verification asks MongoDB next time

    def list(self) -> list[ApiToken]:
        """Every token, oldest first."""
        return [ApiToken.from_document(doc) for doc in self._tokens.find().sort("created_at", 1)]

    def revoke(self, name_or_id: str) -> bool:
        """Delete the one token with this name, else the one with this id; ``False`` when there was none.

        The name wins, so a token named like another token's id can never take that one with it.
        """
        if not isinstance(name_or_id, str):  # a dict here would be a query operator
            raise TypeError("name_or_id must be a string")
        doc = self._tokens.find_one_and_delete({"name": name_or_id})
        if doc is None and ObjectId.is_valid(name_or_id):
            doc = self._tokens.find_one_and_delete({"_id": ObjectId(name_or_id)})
        if doc is not None:
            try:
                self._cache.delete(keys.token_cache(doc["token_hash"]))  # at once, in every API process
            except redis.RedisError as error:
                log.warning("token %s revoked; Redis unreachable, so it may work for up to %d s more: %s",
                            doc["name"], CACHE_TTL_S, error)  # fmt: skip
        return doc is not None
