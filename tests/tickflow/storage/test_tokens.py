from dataclasses import replace
from datetime import timedelta

import pytest
import redis as redis_lib

from tickflow.storage import keys
from tickflow.storage.connections import redis_client
from tickflow.storage.schema import API_TOKENS, mongo_now
from tickflow.storage.tokens import TokenNameTaken, TokenRepository


@pytest.fixture
def tokens(db):
    return TokenRepository(db, redis_client())


def test_a_new_token_is_shown_once_and_only_its_keyed_hash_is_stored(tokens, db):
    token, record = tokens.create("frontend")
    assert token.startswith("tf_") and len(token) > 40
    stored = db[API_TOKENS].find_one({"name": "frontend"})
    assert stored["token_hash"] == tokens.hash(token)
    assert token not in str(stored)
    assert record.name == "frontend" and record.last_used_at is None


def test_a_valid_token_verifies_to_its_record(tokens):
    token, record = tokens.create("alice")
    assert tokens.verify(token).id == record.id


@pytest.mark.parametrize("presented", ["", "tf_", "tf_not-a-real-token", "Bearer x", None, 42, {"$ne": ""}])
def test_anything_but_an_issued_token_verifies_to_none(tokens, presented):
    tokens.create("alice")
    assert tokens.verify(presented) is None


def test_verifying_records_the_last_use_at_most_once_a_minute(tokens, db):
    token, _ = tokens.create("alice")
    first = tokens.verify(token).last_used_at
    assert first is not None
    assert tokens.verify(token).last_used_at == first
    db[API_TOKENS].update_one({"name": "alice"}, {"$set": {"last_used_at": first - timedelta(minutes=2)}})
    assert tokens.verify(token).last_used_at > first - timedelta(minutes=2)


def test_two_tokens_cannot_share_a_name(tokens):
    tokens.create("alice")
    with pytest.raises(TokenNameTaken):
        tokens.create("alice")


def test_a_token_needs_a_name(tokens):
    with pytest.raises(ValueError):
        tokens.create("  ")


def test_tokens_are_listed_oldest_first_without_their_hashes(tokens):
    tokens.create("a")
    tokens.create("b")
    listed = tokens.list()
    assert [t.name for t in listed] == ["a", "b"]
    assert not hasattr(listed[0], "token_hash")


def test_a_revoked_token_no_longer_verifies(tokens):
    token, _ = tokens.create("alice")
    assert tokens.revoke("alice") is True
    assert tokens.verify(token) is None


def test_a_token_can_be_revoked_by_id(tokens):
    token, record = tokens.create("alice")
    assert tokens.revoke(record.id) is True
    assert tokens.verify(token) is None


def test_revoking_an_unknown_token_reports_false_and_touches_nothing(tokens):
    token, _ = tokens.create("alice")
    assert tokens.revoke("bob") is False
    assert tokens.verify(token) is not None


def test_revoke_refuses_a_query_object_in_place_of_a_name(tokens):
    tokens.create("alice")
    with pytest.raises(TypeError):
        tokens.revoke({"$ne": ""})
    assert len(tokens.list()) == 1


def test_revoking_by_a_name_that_looks_like_another_tokens_id_revokes_only_the_named_one(tokens):
    alice_token, alice = tokens.create("alice")
    impostor_token, _ = tokens.create(str(alice.id))
    assert tokens.revoke(str(alice.id))
    assert tokens.verify(impostor_token) is None
    assert tokens.verify(alice_token) is not None


@pytest.fixture
def cached_tokens(db, redis):
    return TokenRepository(db, redis)


def test_a_verified_token_is_then_verified_from_redis_without_asking_mongodb(cached_tokens, db, redis):
    token, record = cached_tokens.create("alice")
    assert cached_tokens.verify(token).id == record.id
    assert redis.ttl(keys.token_cache(cached_tokens.hash(token))) > 0
    db[API_TOKENS].update_one({"name": "alice"}, {"$set": {"name": "renamed in mongodb only"}})
    assert cached_tokens.verify(token).name == "alice"  # the cached record answered


def test_a_revoked_token_stops_working_at_once_though_it_was_cached(cached_tokens, redis):
    token, _ = cached_tokens.create("alice")
    assert cached_tokens.verify(token) is not None
    assert cached_tokens.revoke("alice") is True
    assert cached_tokens.verify(token) is None
    assert not redis.exists(keys.token_cache(cached_tokens.hash(token)))


def test_with_redis_unreachable_tokens_are_verified_by_mongodb_alone(db):
    unreachable = redis_lib.Redis(port=9, socket_connect_timeout=0.2)  # discard: nothing listens there
    tokens = TokenRepository(db, unreachable)
    token, record = tokens.create("alice")
    assert tokens.verify(token).id == record.id
    assert tokens.revoke("alice") is True and tokens.verify(token) is None


def test_a_scope_implies_those_below_it(tokens):
    assert [tokens.create(scope, scope)[1].scopes for scope in ("read", "trade", "admin")] == [
        ("read",), ("read", "trade"), ("read", "trade", "admin"),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown scope 'root'"):
        tokens.create("root", "root")


def test_a_token_made_with_another_secret_key_does_not_verify(db):
    token, _ = TokenRepository(db, redis_client(), "another-secret-key-0123").create("alice")
    assert TokenRepository(db, redis_client()).verify(token) is None


def test_an_expired_token_is_identified_but_does_not_verify(tokens, db):
    token, _ = tokens.create("alice", "read", mongo_now() + timedelta(hours=1))
    db[API_TOKENS].update_one({"name": "alice"}, {"$set": {"expires_at": mongo_now() - timedelta(seconds=1)}})
    assert tokens.verify(token) is None
    assert tokens.identify(token).expired()


def test_an_expiry_in_the_past_is_refused(tokens):
    with pytest.raises(ValueError, match="not in the future"):
        tokens.create("alice", "read", mongo_now() - timedelta(seconds=1))


def test_the_cached_record_keeps_the_scopes_and_expiry(cached_tokens):
    expires = mongo_now() + timedelta(days=1)
    token, _ = cached_tokens.create("alice", "trade", expires)
    cached_tokens.verify(token)
    cached = cached_tokens.identify(token)
    assert cached.scopes == ("read", "trade") and cached.expires_at == expires


def test_a_row_deleted_behind_the_caches_back_stops_verifying_within_a_minute(cached_tokens, db, redis):
    token, _ = cached_tokens.create("alice")
    record = cached_tokens.verify(token)
    db[API_TOKENS].delete_one({"name": "alice"})
    a_minute_on = replace(record, last_used_at=record.last_used_at - timedelta(minutes=2))  # as if a minute passed
    redis.set(keys.token_cache(cached_tokens.hash(token)), a_minute_on.to_json())
    assert cached_tokens.verify(token) is None
    assert not redis.exists(keys.token_cache(cached_tokens.hash(token)))
