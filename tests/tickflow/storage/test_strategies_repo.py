import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import redis as redis_lib
from bson import ObjectId
from redis.backoff import NoBackoff
from redis.retry import Retry

from strategies.examples import load_example
from strategies.spec import SpecError, validate_spec
from tickflow.storage.keys import strategy_key
from tickflow.storage.schema import STRATEGIES
from tickflow.storage.strategies import (
    Conflict,
    Strategy,
    StrategyNotFound,
    StrategyRepository,
    VersionMismatch,
    merge_patch,
)


@pytest.fixture
def repo(db, redis):
    return StrategyRepository(db, redis)


def spec(name: str = "SMA cross 10/20", example: str = "sma_cross") -> dict:
    return {**load_example(example), "name": name}


def cached_version(redis, strategy_id: str) -> int | None:
    raw = redis.hget(strategy_key(strategy_id), "version")
    return int(raw) if raw is not None else None


# -- create -------------------------------------------------------------------------------


def test_a_created_strategy_is_stored_normalised_at_version_1(repo, db):
    created = repo.create(spec())
    assert isinstance(created, Strategy)
    assert created.version == 1 and created.name == "SMA cross 10/20"
    assert created.spec == validate_spec(spec()).to_dict()
    stored = db[STRATEGIES].find_one({"_id": ObjectId(created.id)})
    assert stored["spec"] == created.spec and stored["version"] == 1
    assert isinstance(stored["created_at"], datetime) and stored["created_at"] == stored["updated_at"]


def test_a_write_reaches_mongodb_and_then_the_cache(repo, db, redis):
    created = repo.create(spec())
    assert db[STRATEGIES].count_documents({"_id": ObjectId(created.id)}) == 1
    cached = json.loads(redis.hget(strategy_key(created.id), "doc"))
    assert cached["version"] == 1 and cached["spec"] == created.spec


def unreachable_redis() -> redis_lib.Redis:
    return redis_lib.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))


def test_a_redis_outage_loses_no_write_and_the_write_is_reported_as_done(db):
    outage = StrategyRepository(db, unreachable_redis())
    created = outage.create(spec())
    assert db[STRATEGIES].count_documents({"name": "SMA cross 10/20"}) == 1
    replaced = outage.replace(created.id, spec("renamed"))
    assert replaced.version == 2
    outage.delete(created.id)
    assert db[STRATEGIES].count_documents({}) == 0


def test_reads_fall_back_to_mongodb_while_redis_is_unreachable(repo, db):
    created = repo.create(spec())
    assert StrategyRepository(db, unreachable_redis()).get(created.id) == created


def test_a_refused_cache_write_drops_the_old_entry_so_no_stale_spec_is_served(repo, redis):
    created = repo.create(spec())
    # A Redis out of memory refuses writes but still allows deletes.
    limits = redis.config_get("maxmemory*")
    redis.config_set("maxmemory-policy", "noeviction")
    redis.config_set("maxmemory", "1")
    try:
        replaced = repo.replace(created.id, spec("renamed"))
        assert redis.exists(strategy_key(created.id)) == 0
    finally:
        redis.config_set("maxmemory", limits["maxmemory"])
        redis.config_set("maxmemory-policy", limits["maxmemory-policy"])
    assert replaced.version == 2
    assert repo.get(created.id).name == "renamed"


def test_cache_keys_live_under_the_tf_prefix(repo, redis):
    created = repo.create(spec())
    assert sorted(redis.keys("*")) == ["tf:strategies:generation", f"tf:strategy:{created.id}"]


def test_two_strategies_cannot_share_a_name(repo):
    repo.create(spec("twin"))
    with pytest.raises(Conflict):
        repo.create(spec("twin"))


def test_an_invalid_spec_is_rejected_with_every_issue_and_nothing_is_stored(repo, db):
    with pytest.raises(SpecError) as caught:
        repo.create({"name": "x", "$gt": "", "timeframe": "7m"})
    paths = {issue.path for issue in caught.value.errors}
    assert {"$gt", "timeframe", "symbols", "rules"} <= paths
    assert db[STRATEGIES].count_documents({}) == 0


def test_an_integer_mongodb_cannot_hold_is_a_spec_error_not_a_crash(repo, db):
    doc = spec()
    doc["params"]["unused"] = 10**30
    with pytest.raises(SpecError) as caught:
        repo.create(doc)
    assert [issue.path for issue in caught.value.errors] == ["params.unused"]
    assert db[STRATEGIES].count_documents({}) == 0


def test_text_with_an_unpaired_surrogate_is_a_spec_error_not_a_crash(repo):
    with pytest.raises(SpecError) as caught:
        repo.create({**spec(), "description": "half a pair \ud800"})
    assert [issue.path for issue in caught.value.errors] == ["description"]


# -- get and the cache --------------------------------------------------------------------


def test_get_returns_what_create_returned(repo):
    created = repo.create(spec())
    assert repo.get(created.id) == created


def test_a_flushed_redis_is_refilled_from_mongodb_on_the_next_read(repo, redis):
    created = repo.create(spec())
    redis.flushdb()
    assert repo.get(created.id) == created
    assert cached_version(redis, created.id) == 1


def test_reads_are_served_from_the_cache_without_touching_mongodb(repo, db):
    created = repo.create(spec())
    db[STRATEGIES].update_one({"_id": ObjectId(created.id)}, {"$set": {"name": "changed behind the cache"}})
    assert repo.get(created.id).name == created.name


def test_cache_entries_expire_so_a_failed_cache_write_cannot_leave_them_stale_forever(repo, redis):
    created = repo.create(spec())
    assert redis.pttl(strategy_key(created.id)) > 0


def test_an_older_version_never_overwrites_a_newer_one_in_the_cache(repo, db, redis):
    created = repo.create(spec())
    stale = Strategy.from_document(db[STRATEGIES].find_one({"_id": ObjectId(created.id)}))
    updated = repo.replace(created.id, spec(created.name, "rsi_mean_reversion"))
    repo._cache(stale)  # a slow reader refilling the cache after the write
    assert repo.get(created.id) == updated
    assert cached_version(redis, created.id) == 2


def test_racing_writers_leave_the_cache_at_the_version_mongodb_holds(repo, db, redis):
    created = repo.create(spec())

    def writer(fast: int) -> int:
        writes = 0
        for _ in range(5):
            try:
                repo.patch(created.id, {"params": {"fast": fast}})
                writes += 1
            except VersionMismatch:
                pass  # lost the race three times in a row: fine, others wrote
        return writes

    with ThreadPoolExecutor(max_workers=8) as pool:
        writes = sum(pool.map(writer, range(2, 10)))
    stored = Strategy.from_document(db[STRATEGIES].find_one({"_id": ObjectId(created.id)}))
    assert stored.version == 1 + writes
    assert cached_version(redis, created.id) == stored.version
    assert repo.get(created.id) == stored


@pytest.mark.parametrize("strategy_id", ["nope", "0" * 24, "", "x" * 24, "$gt"])
def test_an_unknown_or_malformed_id_is_not_found(repo, strategy_id):
    with pytest.raises(StrategyNotFound):
        repo.get(strategy_id)


# -- list ---------------------------------------------------------------------------------


def test_list_pages_through_strategies_by_name_with_the_total(repo):
    for name in ["delta", "alpha", "echo", "charlie", "bravo"]:
        repo.create(spec(name))
    first, total = repo.list(page=1, per_page=2)
    second, _ = repo.list(page=2, per_page=2)
    last, _ = repo.list(page=3, per_page=2)
    assert total == 5
    assert [s.name for s in first + second + last] == ["alpha", "bravo", "charlie", "delta", "echo"]


def test_list_filters_on_a_name_prefix_taken_literally(repo):
    for name in ["mean rev", "mean.rev", "momentum", "meanie"]:
        repo.create(spec(name))
    items, total = repo.list(name_prefix="mean.")
    assert [s.name for s in items] == ["mean.rev"] and total == 1
    items, total = repo.list(name_prefix="mean")
    assert total == 3


def test_list_comes_from_mongodb_even_when_the_cache_is_empty(repo, redis):
    repo.create(spec())
    redis.flushdb()
    assert repo.list()[1] == 1


# -- replace and patch --------------------------------------------------------------------


def test_replace_bumps_the_version_and_updates_both_stores(repo, db, redis):
    created = repo.create(spec("mine"))
    replaced = repo.replace(created.id, spec("mine", "rsi_mean_reversion"))
    assert replaced.version == 2 and replaced.updated_at >= created.updated_at
    assert replaced.created_at == created.created_at
    assert db[STRATEGIES].find_one({"_id": ObjectId(created.id)})["spec"]["indicators"].keys() == {"rsi"}
    assert repo.get(created.id) == replaced


def test_replace_may_rename_but_not_onto_another_strategys_name(repo):
    repo.create(spec("taken"))
    mine = repo.create(spec("mine"))
    assert repo.replace(mine.id, spec("renamed")).name == "renamed"
    with pytest.raises(Conflict):
        repo.replace(mine.id, spec("taken"))


def test_replace_with_a_stale_expected_version_is_refused(repo):
    created = repo.create(spec())
    repo.replace(created.id, spec(), expected_version=1)
    with pytest.raises(VersionMismatch) as caught:
        repo.replace(created.id, spec(), expected_version=1)
    assert caught.value.actual == 2


def test_replacing_an_unknown_strategy_is_not_found(repo):
    with pytest.raises(StrategyNotFound):
        repo.replace(str(ObjectId()), spec())


def test_patch_merges_into_the_spec_and_validates_the_whole_result(repo):
    created = repo.create(spec())
    patched = repo.patch(created.id, {"params": {"fast": 5}, "description": None})
    assert patched.spec["params"] == {"fast": 5, "slow": 20}
    assert "description" not in patched.spec
    assert patched.version == 2


def test_a_patch_that_breaks_the_spec_is_rejected_and_changes_nothing(repo):
    created = repo.create(spec())
    with pytest.raises(SpecError) as caught:
        repo.patch(created.id, {"params": {"fast": None}})
    assert any("fast" in issue.message for issue in caught.value.errors)
    assert repo.get(created.id) == created


def test_patch_with_a_stale_expected_version_is_refused(repo):
    created = repo.create(spec())
    repo.patch(created.id, {"params": {"fast": 5}})
    with pytest.raises(VersionMismatch):
        repo.patch(created.id, {"params": {"fast": 6}}, expected_version=created.version)


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [
        ({"a": 1, "b": 2}, {"a": None}, {"b": 2}),
        ({"a": {"x": 1, "y": 2}}, {"a": {"y": None, "z": 3}}, {"a": {"x": 1, "z": 3}}),
        ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
        ({"a": 1}, {"b": {"c": None}}, {"a": 1, "b": {}}),
        ({"a": 1}, ["whole"], ["whole"]),
    ],
)
def test_merge_patch_follows_rfc_7386(target, patch, result):
    assert merge_patch(target, patch) == result


# -- delete -------------------------------------------------------------------------------


def test_delete_removes_the_strategy_from_mongodb_and_the_cache(repo, db):
    created = repo.create(spec())
    repo.delete(created.id)
    assert db[STRATEGIES].count_documents({}) == 0
    with pytest.raises(StrategyNotFound):
        repo.get(created.id)


def test_the_cache_never_serves_a_deleted_strategy_even_if_a_slow_reader_refills_it(repo, redis):
    created = repo.create(spec())
    repo.delete(created.id)
    repo._cache(created)  # a read that fetched from MongoDB before the delete, caching after it
    with pytest.raises(StrategyNotFound):
        repo.get(created.id)


def test_deleting_twice_is_not_found_the_second_time(repo):
    created = repo.create(spec())
    repo.delete(created.id)
    with pytest.raises(StrategyNotFound):
        repo.delete(created.id)


def test_a_deleted_name_can_be_used_again(repo):
    repo.delete(repo.create(spec("again")).id)
    assert repo.create(spec("again")).version == 1
