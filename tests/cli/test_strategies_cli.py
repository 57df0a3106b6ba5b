import json

import pytest

from cli.main import main
from strategies.examples import EXAMPLES, load_example
from tickflow.settings import get_settings
from tickflow.storage import connections
from tickflow.storage.strategies import StrategyRepository


@pytest.fixture
def spec_file(tmp_path):
    def write(doc, name="spec.json"):
        path = tmp_path / name
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        return str(path)

    return write


@pytest.fixture
def repo(db, redis):
    return StrategyRepository(db, redis)


@pytest.mark.parametrize("example", EXAMPLES)
def test_validate_accepts_every_example_without_any_service(spec_file, capsys, example):
    assert main(["strategies", "validate", spec_file(load_example(example))]) == 0
    assert "valid strategy" in capsys.readouterr().out


def test_validate_prints_every_issue_one_per_line_and_exits_1(spec_file, capsys):
    doc = {**load_example("sma_cross"), "timeframe": "7m", "bogus": 1, "rules": {"enter_long": "close > sma(10))"}}
    assert main(["strategies", "validate", spec_file(doc)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert any(line.startswith("timeframe: ") for line in lines)
    assert any(line.startswith("bogus: ") for line in lines)
    assert any(line.startswith("rules.enter_long: ") for line in lines)


@pytest.mark.parametrize("content", ["{", "[]", '"text"', ""])
def test_validate_rejects_a_file_that_is_no_json_object_in_one_line(spec_file, capsys, content):
    assert main(["strategies", "validate", spec_file(content)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("tickflow: ")


def test_validate_of_a_missing_file_is_a_usage_error(capsys, tmp_path):
    assert main(["strategies", "validate", str(tmp_path / "absent.json")]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_create_stores_the_spec_and_prints_its_id(spec_file, repo, capsys):
    assert main(["strategies", "create", spec_file(load_example("sma_cross"))]) == 0
    out = capsys.readouterr().out
    items, total = repo.list()
    assert total == 1 and items[0].id in out and items[0].version == 1


def test_create_with_an_invalid_spec_fails_in_one_line_and_stores_nothing(spec_file, repo, capsys):
    assert main(["strategies", "create", spec_file({"name": "x"})]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "symbols" in err
    assert repo.list()[1] == 0


def test_create_with_a_taken_name_fails_in_one_line(spec_file, repo, capsys):
    repo.create(load_example("sma_cross"))
    assert main(["strategies", "create", spec_file(load_example("sma_cross"))]) == 1
    assert "already exists" in capsys.readouterr().err


def test_list_shows_every_strategy_with_id_name_and_version(repo, capsys):
    created = [repo.create(load_example(name)) for name in EXAMPLES]
    assert main(["strategies", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(EXAMPLES)
    for strategy in created:
        assert any(strategy.id in line and strategy.name in line and "v1" in line for line in lines)


def test_list_filters_by_name_prefix(repo, capsys):
    for name in EXAMPLES:
        repo.create(load_example(name))
    assert main(["strategies", "list", "--name", "RSI"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_show_prints_the_strategy_as_json(repo, capsys):
    created = repo.create(load_example("sma_cross"))
    assert main(["strategies", "show", created.id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == created.id and shown["spec"] == created.spec and shown["version"] == 1


@pytest.mark.parametrize("strategy_id", ["nope", "0123456789abcdef01234567"])
def test_show_of_an_unknown_id_fails_in_one_line(repo, capsys, strategy_id):
    assert main(["strategies", "show", strategy_id]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and strategy_id in err


@pytest.fixture
def unreachable(monkeypatch, db):
    """Point the process settings at a server that is not there (restored afterwards)."""

    def point(variable: str, url: str) -> None:
        monkeypatch.setenv(variable, url)
        get_settings.cache_clear()
        connections.reset_clients()

    yield point
    monkeypatch.undo()
    get_settings.cache_clear()
    connections.reset_clients()


def test_an_unreachable_mongodb_is_one_line_naming_it_and_the_fix(unreachable, capsys):
    unreachable("MONGO_URI", "mongodb://127.0.0.1:1/tickflow?directConnection=true&serverSelectionTimeoutMS=300")
    assert main(["strategies", "show", "0123456789abcdef01234567"]) == 1
    err = capsys.readouterr().err
    assert err == "tickflow: cannot reach MongoDB at 127.0.0.1:1/tickflow (start it with `tickflow services up`)\n"


def test_strategies_are_read_from_mongodb_while_redis_is_unreachable(repo, unreachable, capsys):
    created = repo.create(load_example("sma_cross"))
    unreachable("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["strategies", "show", created.id]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == created.id


def test_start_and_stop_trade_a_strategy_on_paper_and_say_so(repo, capsys):
    strategy = repo.create(load_example("sma_cross"))
    assert main(["strategies", "start", strategy.id, "--cash", "5000"]) == 0
    assert f"started {strategy.id} paper" in capsys.readouterr().out
    assert main(["strategies", "stop", strategy.id]) == 0
    assert capsys.readouterr().out.strip() == f"stopped {strategy.id}"
    assert main(["strategies", "stop", strategy.id]) == 0
    assert "was not trading" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["start", "0123456789abcdef01234567"], 1, "no strategy with id"),
        (["start", "{id}", "--mode", "margin"], 2, "'margin' is not one of 'paper', 'live'"),
        (["start", "{id}", "--cash", "0"], 2, "--cash"),
    ],
)
def test_a_start_it_cannot_make_is_one_line_saying_why(repo, capsys, args, code, message):
    strategy = repo.create(load_example("sma_cross"))
    assert main(["strategies", *(arg.format(id=strategy.id) for arg in args)]) == code
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and message in err
