from datetime import UTC, datetime, timedelta

import pytest

from cli.main import main
from tickflow.storage.connections import redis_client
from tickflow.storage.schema import API_TOKENS, mongo_now
from tickflow.storage.tokens import TokenRepository, legacy_hash


@pytest.fixture
def tokens(db):
    return TokenRepository(db, redis_client())


def test_token_create_prints_the_token_alone_on_stdout_once(tokens, capsys):
    assert main(["token", "create", "--name", "frontend"]) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert token.startswith("tf_") and "\n" not in token
    assert "not shown again" in captured.err
    assert tokens.verify(token).name == "frontend"


def test_token_create_needs_a_name(tokens, capsys):
    assert main(["token", "create"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_token_create_refuses_a_taken_name_in_one_line(tokens, capsys):
    tokens.create("frontend")
    assert main(["token", "create", "--name", "frontend"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "frontend" in err


def test_token_list_shows_names_scopes_last_use_and_expiry_but_never_tokens(tokens, capsys):
    token, _ = tokens.create("frontend")
    tokens.create("ci", "read", datetime(2100, 1, 2, 3, 4, tzinfo=UTC))
    tokens.verify(token)
    assert main(["token", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines] == [["frontend", "admin"], ["ci", "read"]]
    assert "last used never" in lines[1] and "never" not in lines[0]
    assert "no expiry" in lines[0] and "expires 2100-01-02 03:04" in lines[1]
    assert "tf_" not in out


def test_token_create_without_a_scope_makes_an_admin_token_as_before_scopes(tokens, capsys):
    assert main(["token", "create", "--name", "me"]) == 0
    captured = capsys.readouterr()
    assert tokens.verify(captured.out.strip()).scopes == ("read", "trade", "admin")
    assert "scope 'admin'" in captured.err


@pytest.mark.parametrize(("scope", "scopes"), [("read", ("read",)), ("trade", ("read", "trade"))])
def test_token_create_with_a_scope_grants_it_and_those_below(tokens, capsys, scope, scopes):
    assert main(["token", "create", "--name", "bot", "--scope", scope]) == 0
    assert tokens.verify(capsys.readouterr().out.strip()).scopes == scopes


def test_token_create_refuses_an_unknown_scope_in_one_line(tokens, capsys):
    assert main(["token", "create", "--name", "bot", "--scope", "root"]) == 2
    err = capsys.readouterr().err
    assert "root" in err and "read" in err and tokens.list() == []


@pytest.mark.parametrize(("expires", "hours"), [("30d", 30 * 24), ("12h", 12)])
def test_token_create_expires_after_a_duration(tokens, capsys, expires, hours):
    assert main(["token", "create", "--name", "temp", "--expires", expires]) == 0
    record = tokens.verify(capsys.readouterr().out.strip())
    assert abs(record.expires_at - datetime.now(UTC) - timedelta(hours=hours)) < timedelta(minutes=1)


def test_token_create_expires_at_an_iso_date(tokens, capsys):
    assert main(["token", "create", "--name", "temp", "--expires", "2100-12-31"]) == 0
    captured = capsys.readouterr()
    assert tokens.verify(captured.out.strip()).expires_at == datetime(2100, 12, 31, tzinfo=UTC)
    assert "valid until 2100-12-31 00:00 UTC" in captured.err


@pytest.mark.parametrize("expires", ["soon", "30x", "-1d", "2001-01-01", "0h"])
def test_token_create_refuses_a_bad_or_past_expiry_in_one_line(tokens, capsys, expires):
    assert main(["token", "create", "--name", "temp", "--expires", expires]) in (1, 2)
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and tokens.list() == []


def test_token_migrate_keys_legacy_rows_once_and_reports_them(tokens, db, capsys):
    db[API_TOKENS].insert_one({"name": "old", "token_hash": legacy_hash("tf_old"), "created_at": mongo_now()})
    assert main(["token", "list"]) == 0
    assert "refused until 'tickflow token migrate'" in capsys.readouterr().out
    assert main(["token", "migrate"]) == 0
    assert capsys.readouterr().out == "migrated token 'old' (scope admin)\n"
    assert tokens.verify("tf_old").name == "old"
    assert main(["token", "migrate"]) == 0
    assert capsys.readouterr().out == ""


def test_token_revoke_stops_the_token_working(tokens, capsys):
    token, _ = tokens.create("frontend")
    assert main(["token", "revoke", "frontend"]) == 0
    assert tokens.verify(token) is None


def test_token_revoke_of_an_unknown_name_fails_in_one_line(tokens, capsys):
    assert main(["token", "revoke", "nobody"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "nobody" in err
