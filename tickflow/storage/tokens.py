"""API bearer tokens, stored only as an HMAC keyed by ``SECRET_KEY``; each with its scopes and an optional expiry.

A token is shown once, when it is created; the database keeps
``HMAC-SHA256(SECRET_KEY, SHA-256(token))``, so neither a leaked database dump
nor write access to the database grants any access without the key: a row
written with a guessed or plain hash never verifies. Verification computes
the HMAC of the presented token and looks it up through a unique index: there
is no secret comparison to time, hence no need for a constant-time compare.

The HMAC is taken over the token's SHA-256 rather than the token itself so
that rows from before keyed hashing (which hold the plain SHA-256) can be
converted without their tokens: :meth:`TokenRepository.migrate_legacy`,
run once by ``tickflow token migrate``. Until then such a row verifies
nothing; :meth:`TokenRepository.is_legacy` lets the API say why.

Scopes nest: ``admin`` implies ``trade``, which implies ``read``. A token is
stored with the whole set its scope implies (``trade`` is stored as
``["read", "trade"]``), so a check is a membership test.

Every API request verifies its token, so a verified record is kept in Redis for
``CACHE_TTL_S`` (under ``keys.token_cache(hmac)``): a Redis read instead of a
MongoDB query. Revoking a token deletes its cache entry too, so it stops working
at once; with Redis unreachable, verification simply asks MongoDB.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from tickflow.settings import get_settings
from tickflow.storage import keys
from tickflow.storage.schema import API_TOKENS, mongo_now

TOKEN_PREFIX = "tf_"
SCOPES = ("read", "trade", "admin")
"""From least to most: each scope implies the ones before it."""
HASH_SCHEME = "hmac-sha256"
"""Marks a row whose ``token_hash`` is keyed; a row without it holds a legacy plain SHA-256."""
# Recording every use would turn each API read into a database write;
# once a minute is precise enough to tell a live token from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)
CACHE_TTL_S = 300

log = logging.getLogger(__name__)


class TokenNameTaken(ValueError):
    """Another token already has this name (names identify tokens for ``revoke``)."""


def implied_scopes(scope: str) -> tuple[str, ...]:
    """Every scope that ``scope`` grants: itself and those below it (``trade`` -> ``read``, ``trade``)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}: expected one of {', '.join(SCOPES)}")
    return SCOPES[: SCOPES.index(scope) + 1]


@dataclass(frozen=True)
class ApiToken:
    """What is known about a token: never the token itself."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    legacy: bool = False
    """Stored with a plain hash from before keyed hashing: verifies nothing until migrated."""

    @property
    def scope(self) -> str:
        """The highest scope held ('' for none), which names the token's level in messages."""
        return max(self.scopes, key=SCOPES.index, default="")

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (now or mongo_now()) >= self.expires_at

    @classmethod
    def from_document(cls, doc: dict) -> ApiToken:
        return cls(
            id=str(doc["_id"]), name=doc["name"], created_at=doc["created_at"], last_used_at=doc.get("last_used_at"),
            scopes=tuple(doc.get("scopes", ())), expires_at=doc.get("expires_at"), legacy="hash_scheme" not in doc,
        )  # fmt: skip

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "name": self.name, "created_at": self.created_at.isoformat(),
                           "last_used_at": _iso(self.last_used_at), "scopes": list(self.scopes),
                           "expires_at": _iso(self.expires_at)})  # fmt: skip

    @classmethod
    def from_json(cls, raw: str) -> ApiToken:
        data = json.loads(raw)
        return cls(data["id"], data["name"], datetime.fromisoformat(data["created_at"]),
                   _datetime(data["last_used_at"]), tuple(data["scopes"]), _datetime(data["expires_at"]))  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _datetime(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def legacy_hash(token: str) -> str:
    """The hex SHA-256 that rows from before keyed hashing hold."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(plain_hash: str, secret_key: str) -> str:
    """The hex HMAC-SHA256, keyed by ``secret_key``, of a token's hex SHA-256 (``legacy_hash``)."""
    return hmac.new(secret_key.encode(), bytes.fromhex(plain_hash), hashlib.sha256).hexdigest()


class TokenRepository:
    """Create, verify, list, revoke and migrate API tokens in the ``api_tokens`` collection.

    ``secret_key`` keys the stored hashes: the process's ``SECRET_KEY`` unless given. Changing it
    invalidates every token.
    """

    def __init__(self, db: Database, cache: redis.Redis, secret_key: str | None = None) -> None:
        self._tokens = db[API_TOKENS]
        self._cache = cache
        self._key = secret_key or get_settings().secret_key

    def hash(self, token: str) -> str:
        """What a token is stored and looked up under."""
        return keyed_hash(legacy_hash(token), self._key)

    def create(self, name: str, scope: str = "admin", expires_at: datetime | None = None) -> tuple[str, ApiToken]:
        """Make a new token called ``name`` with ``scope`` (and those it implies), valid until ``expires_at``
        (``None``: until revoked); returns the plaintext (shown once) and its record."""
        name = name.strip()
        if not name:
            raise ValueError("a token needs a name")
        scopes = implied_scopes(scope)
        now = mongo_now()
        if expires_at is not None and expires_at <= now:
            raise ValueError(f"the expiry {expires_at.isoformat()} is not in the future")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        doc = {"name": name, "token_hash": self.hash(token), "hash_scheme": HASH_SCHEME, "scopes": list(scopes),
               "created_at": now}  # fmt: skip
        if expires_at is not None:
            doc["expires_at"] = expires_at.replace(microsecond=expires_at.microsecond // 1000 * 1000)
        try:
            doc["_id"] = self._tokens.insert_one(doc).inserted_id
        except DuplicateKeyError:  # the unique index on name decides races too
            raise TokenNameTaken(f"a token named {name!r} already exists") from None
        return token, ApiToken.from_document(doc)

    def identify(self, token: object) -> ApiToken | None:
        """The record of an issued token, expired or not (so the caller can say which), or ``None``."""
        found = self._lookup(token)
        return found[1] if found else None

    def verify(self, token: object) -> ApiToken | None:
        """The record of a valid, unexpired token, or ``None``; notes the use at most once a minute."""
        found = self._lookup(token)
        if found is None or found[1].expired():
            return None
        digest, record = found
        now = mongo_now()
        if record.last_used_at is not None and now - record.last_used_at < LAST_USED_RESOLUTION:
            return record
        # Reading the row back also notices, within a minute, a row deleted behind the cache's back.
        doc = self._tokens.find_one_and_update(
            {"_id": ObjectId(record.id)}, {"$set": {"last_used_at": now}}, return_document=ReturnDocument.AFTER
        )
        if doc is None:
            self._forget(digest)
            return None
        record = ApiToken.from_document(doc)
        self._remember(digest, record)
        return record

    def _lookup(self, token: object) -> tuple[str, ApiToken] | None:
        """The stored hash and record of an issued token, from the cache or else MongoDB (then cached)."""
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            return None
        digest = self.hash(token)
        record = self._cached(digest)
        if record is None:
            doc = self._tokens.find_one({"token_hash": digest})
            if doc is None:
                return None
            record = ApiToken.from_document(doc)
            self._remember(digest, record)
        return digest, record

    def is_legacy(self, token: object) -> bool:
        """Whether ``token`` matches a row not yet migrated to keyed hashing (which does not verify)."""
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            return False
        query = {"token_hash": legacy_hash(token), "hash_scheme": {"$exists": False}}
        return self._tokens.count_documents(query, limit=1) > 0

    def migrate_legacy(self) -> list[str]:
        """Key every legacy row's plain hash with the secret key, giving it the ``admin`` scope it had in
        effect; returns the names migrated.

        Run it once after upgrading (``tickflow token migrate``): any row without the key's HMAC is
        converted, so running it again would also admit a row that someone with write access to the
        database had planted meanwhile.
        """
        migrated = []
        for doc in self._tokens.find({"hash_scheme": {"$exists": False}}, {"name": 1, "token_hash": 1}):
            update = {"token_hash": keyed_hash(doc["token_hash"], self._key), "hash_scheme": HASH_SCHEME,
                      "scopes": list(implied_scopes("admin"))}  # fmt: skip
            result = self._tokens.update_one({"_id": doc["_id"], "hash_scheme": {"$exists": False}}, {"$set": update})
            if result.modified_count:
                migrated.append(doc["name"])
        return migrated

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

    def _forget(self, digest: str) -> bool:
        try:
            self._cache.delete(keys.token_cache(digest))
        except redis.RedisError:
            return False
        return True

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
        if doc is not None and not self._forget(doc["token_hash"]):  # at once, in every API process
            log.warning("token %s revoked; Redis unreachable, so it may work for up to %d s more",
                        doc["name"], CACHE_TTL_S)  # fmt: skip
        return doc is not None
