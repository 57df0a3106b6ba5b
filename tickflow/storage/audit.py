"""The ``audit`` collection: who changed what through the API, and when.

One document per write request that carried a valid token, whatever its
outcome (a 403 is worth knowing too): the token's name and id, the method,
path and status, the id the request was about, the caller's address and the
time. The API appends (``app.audit_trail``) and lists it (``GET /api/v1/audit``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

from tickflow.storage.schema import AUDIT


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    token: str
    token_id: str
    method: str
    path: str
    status: int
    target_id: str | None
    address: str | None


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._entries = db[AUDIT]

    def append(self, entry: AuditEntry) -> None:
        self._entries.insert_one(asdict(entry))

    def find(
        self, token: str | None = None, start_ms: int | None = None, end_ms: int | None = None,
        page: int = 1, per_page: int = 50,
    ) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
        """Entries at ``[start_ms, end_ms)`` (either bound optional), by ``token`` if given, newest first; and
        how many match on all pages."""
        query: dict[str, Any] = {}
        if token is not None:
            query["token"] = token
        if start_ms is not None or end_ms is not None:
            query["at"] = {
                **({"$gte": _moment(start_ms)} if start_ms is not None else {}),
                **({"$lt": _moment(end_ms)} if end_ms is not None else {}),
            }
        cursor = (
            self._entries.find(query, {"_id": 0})
            .sort([("at", DESCENDING), ("_id", DESCENDING)])
            .skip((page - 1) * per_page)
            .limit(per_page)
        )
        return list(cursor), self._entries.count_documents(query)


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
