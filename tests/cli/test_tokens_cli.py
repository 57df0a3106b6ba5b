import pytest

from cli.main import main
from tickflow.storage.connections import redis_client
from tickflow.storage.tokens import TokenRepository


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


def test_token_list_shows_names_and_last_use_but_never_tokens(tokens, capsys):
    token, _ = tokens.create("frontend")
    tokens.create("ci")
    tokens.verify(token)
    assert main(["token", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["frontend", "ci"]
    assert "never" in lines[1] and "never" not in lines[0]
    assert "tf_" not in out


def test_token_revoke_stops_the_token_working(tokens, capsys):
    token, _ = tokens.create("frontend")
    assert main(["token", "revoke", "frontend"]) == 0
    assert tokens.verify(token) is None


def test_token_revoke_of_an_unknown_name_fails_in_one_line(tokens, capsys):
    assert main(["token", "revoke", "nobody"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "nobody" in err
