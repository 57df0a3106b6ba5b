"""The Redis outbox in front of MongoDB: a flush deletes only what it stored.

Against the real test Redis; the "MongoDB write" is a callable so that a second writer
can act at the exact moment between the store and the delete.
"""

from __future__ import annotations

import json

from pymongo.errors import ServerSelectionTimeoutError

from workers.archive import Outbox

KEY = "tf:test:outbox"


def test_a_flush_deletes_the_records_it_stored(redis):
    stored: list[dict] = []
    outbox = Outbox(redis, KEY, stored.extend, "test")
    outbox.put({"a": json.dumps({"n": 1}), "b": json.dumps({"n": 2})})

    assert outbox.flush(["a", "b"]) == 2
    assert stored == [{"n": 1}, {"n": 2}]
    assert outbox.pending() == 0


def test_a_record_rewritten_during_a_flush_stays_for_the_next_one(redis):
    stored: list[dict] = []

    def write_while_another_writer_updates(records: list[dict]) -> None:
        stored.extend(records)
        if len(stored) == 1:
            outbox.put({"order": json.dumps({"state": "filled"})})

    outbox = Outbox(redis, KEY, write_while_another_writer_updates, "test")
    outbox.put({"order": json.dumps({"state": "pending"})})

    outbox.flush(["order"])
    assert json.loads(redis.hget(KEY, "order")) == {"state": "filled"}

    outbox.flush(["order"])
    assert stored == [{"state": "pending"}, {"state": "filled"}]
    assert outbox.pending() == 0


def test_records_stay_in_the_outbox_while_mongodb_is_away(redis):
    def unreachable(records: list[dict]) -> None:
        raise ServerSelectionTimeoutError("no server")

    outbox = Outbox(redis, KEY, unreachable, "test")
    outbox.put({"a": json.dumps({"n": 1})})

    assert outbox.flush(["a"]) == 0
    assert outbox.pending() == 1
