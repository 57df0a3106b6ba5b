"""``tickflow backtest`` and ``tickflow sweep``: in-process with no service, and on the cluster with a real worker."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cli.main import main
from strategies.backtest import run_backtest
from strategies.examples import load_example
from strategies.spec import validate_spec
from tickflow.settings import get_settings
from tickflow.storage import connections
from tickflow.synthetic import generate_candles

TRADE_FIELDS = {"entry_time", "exit_time", "side", "size", "entry_price", "exit_price", "pnl", "commission"}
REQUIRED_STATS = {"final_equity", "return_pct", "n_trades", "win_rate_pct", "max_drawdown_pct", "sharpe"}


@pytest.fixture
def files(tmp_path):
    """A spec file and a candle CSV file of 3,000 hourly bars."""
    candles = generate_candles(3_000, "1h", seed=11)
    csv = tmp_path / "candles.csv"
    pd.DataFrame(
        {
            "timestamp": candles.ts,
            "open": candles.open,
            "high": candles.high,
            "low": candles.low,
            "close": candles.close,
            "volume": candles.volume,
        }
    ).to_csv(csv, index=False)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(load_example("sma_cross")))
    return {"spec": str(spec), "csv": str(csv), "candles": candles}


@pytest.fixture
def no_services(monkeypatch):
    """Settings pointing at ports nothing listens on: any use of a service would fail."""
    for name in ("MONGO_URI", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        scheme = "mongodb" if name == "MONGO_URI" else "redis"
        monkeypatch.setenv(name, f"{scheme}://127.0.0.1:9/x")
    get_settings.cache_clear()
    connections.reset_clients()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()
    connections.reset_clients()


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_backtest_json_prints_one_object_with_stats_trades_and_open_trades(files, no_services, capsys):
    code, out, err = run_cli(capsys, "backtest", "--strategy", files["spec"], "--candles", files["csv"], "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"stats", "trades", "open_trades", "skipped"}
    assert result["skipped"] == {"total": 0, "by_reason": {}, "first": []} and err == ""
    assert set(result["stats"]) >= REQUIRED_STATS and result["stats"]["max_drawdown_pct"] < 0
    assert result["stats"]["n_trades"] == len(result["trades"]) > 10
    assert all(set(trade) >= TRADE_FIELDS for trade in result["trades"] + result["open_trades"])
    expected = run_backtest(validate_spec(load_example("sma_cross")), files["candles"]).to_dict()
    assert result["stats"] == pytest.approx(expected["stats"], nan_ok=True)
    assert result["trades"] == expected["trades"]


def test_commission_and_params_override_the_spec(files, no_services, capsys):
    code, out, _ = run_cli(
        capsys,
        "backtest",
        "--strategy",
        files["spec"],
        "--candles",
        files["csv"],
        "--json",
        "--commission",
        "0.001",
        "--params",
        "fast=5,slow=30",
        "--cash",
        "5000",
    )
    spec = validate_spec({**load_example("sma_cross"), "costs": {"commission": 0.001}}).with_params(
        {"fast": 5, "slow": 30}
    )
    expected = run_backtest(spec, files["candles"], cash=5_000).to_dict()["stats"]
    stats = json.loads(out)["stats"]
    assert code == 0 and stats["total_commission"] > 0
    assert stats == pytest.approx(expected, nan_ok=True)


def test_backtest_prints_a_readable_table_of_stats(files, no_services, capsys):
    code, out, _ = run_cli(capsys, "backtest", "--strategy", files["spec"], "--candles", files["csv"])
    lines = out.splitlines()
    assert code == 0
    assert any(line.split()[0] == "return_pct" for line in lines)
    start = next(line for line in lines if line.startswith("start "))
    assert start.split()[-1] == "2024-01-01T00:00:00Z"
    duration = next(line for line in lines if line.startswith("duration "))
    assert duration.split()[-2:] == ["124d", "23:00:00"]


@pytest.mark.parametrize(
    "argv, code, words",
    [
        ([], 2, "--strategy SPEC.json with --candles"),
        (["--strategy", "{spec}"], 2, "needs --candles"),
        (["--strategy", "{spec}", "--candles", "{csv}", "--strategy-id", "x"], 2, "or --strategy-id"),
        (["--strategy", "{spec}", "--candles", "{csv}", "--params", "fast"], 2, "NAME=NUMBER"),
        (["--strategy", "{spec}", "--candles", "{csv}", "--params", "fst=3"], 1, "unknown parameter"),
        (["--strategy", "{spec}", "--candles", "{csv}", "--commission", "0.5"], 2, "commission"),
        (["--strategy", "{spec}", "--candles", "{spec}"], 1, "missing columns"),
        (["--strategy", "{csv}", "--candles", "{csv}"], 1, "not valid JSON"),
        (["--strategy", "{spec}", "--candles", "/nonexistent.csv"], 2, "does not exist"),
        (["--strategy-id", "x", "--candles", "{csv}"], 2, "go with --strategy"),
        (["--strategy", "{spec}", "--candles", "{csv}", "--symbol", "BTC/USDT"], 2, "symbol 'BTC/USDT' must be"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(files, no_services, capsys, argv, code, words):
    argv = [arg.format(spec=files["spec"], csv=files["csv"]) for arg in argv]
    exit_code, out, err = run_cli(capsys, "backtest", *argv)
    assert exit_code == code and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("tickflow: ") and words in err, err


def test_a_backtest_that_skipped_entries_warns_in_one_line_on_stderr(files, no_services, capsys):
    code, out, err = run_cli(capsys, "backtest", "--strategy", files["spec"], "--candles", files["csv"], "--cash", "50")
    assert code == 0 and any(line.split()[0] == "n_trades" and line.split()[-1] == "0" for line in out.splitlines())
    [warning] = err.splitlines()
    assert warning.startswith("warning: ") and "entries skipped: size below the quantity step (" in warning
    assert "the first on 2024-01-" in warning and "long at " in warning and "with 50.00 of equity" in warning
    assert "sizing.step" in warning


def test_the_symbol_picks_its_quantity_step_from_the_spec_for_a_local_backtest(files, no_services, capsys, tmp_path):
    spec = tmp_path / "fractional.json"
    spec.write_text(json.dumps({**load_example("sma_cross"), "sizing": {"step": {"ETHUSDT": 0.001}}}))
    argv = ["backtest", "--strategy", str(spec), "--candles", files["csv"], "--cash", "50", "--json"]

    code, out, err = run_cli(capsys, *argv, "--symbol", "ethusdt")
    assert code == 0 and err == ""
    sizes = [trade["size"] for trade in json.loads(out)["trades"]]
    assert sizes and all(size < 1 and round(size, 3) == size for size in sizes)

    code, out, err = run_cli(capsys, *argv)  # BTCUSDT, the spec's first: whole units, none affordable
    assert code == 0 and json.loads(out)["trades"] == [] and err.startswith("warning: ")


def test_a_candle_the_engine_refuses_is_one_line_naming_the_bar(files, no_services, capsys, tmp_path):
    csv = tmp_path / "zero.csv"
    csv.write_text(
        "timestamp,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,1,1,1,1\n2024-01-01T01:00:00Z,0,1,0,0.5,1\n"
    )
    exit_code, out, err = run_cli(capsys, "backtest", "--strategy", files["spec"], "--candles", str(csv))
    assert exit_code == 1 and out == ""
    assert len(err.splitlines()) == 1 and "bar 1 " in err and "must be finite and above 0" in err, err


def test_backtest_of_a_stored_strategy_runs_on_the_cluster_and_prints_its_stats(worker, strategy, candles, capsys):
    code, out, err = run_cli(capsys, "backtest", "--strategy-id", strategy.id, "--params", "fast=5", "--json")
    assert code == 0, err + worker.tail()
    assert "queued" in err and "backtest" in err  # the progress bar and its label, on stderr
    result = json.loads(out)
    expected = run_backtest(validate_spec(strategy.spec).with_params({"fast": 5}), candles).to_dict()
    assert result["stats"] == pytest.approx(expected["stats"], nan_ok=True)
    assert result["trades"] == expected["trades"] and len(result["id"]) == 24


def test_a_cluster_backtest_that_fails_exits_1_with_the_reason(worker, strategy, candles, capsys):
    code, out, err = run_cli(capsys, "backtest", "--strategy-id", strategy.id, "--symbol", "ETHUSDT")
    assert code == 1 and out == ""
    assert err.splitlines()[-1].startswith("tickflow: backtest ") and "failed: no ETHUSDT 1h candles" in err


def test_an_invalid_cluster_request_exits_1_in_one_line(strategy, capsys):
    code, _, err = run_cli(capsys, "backtest", "--strategy-id", "0" * 24)
    assert code == 1 and err == "tickflow: invalid request: strategy_id: no strategy has this id\n"


def test_sweep_ranks_the_grid_on_the_cluster_and_shows_the_top(worker, strategy, candles, capsys):
    code, out, err = run_cli(
        capsys,
        "sweep",
        "--strategy-id",
        strategy.id,
        "--grid",
        "fast=5:20:5",
        "--grid",
        "slow=20:40:10",
        "--constraint",
        "$fast < $slow",
        "--objective",
        "sharpe",
        "--top",
        "3",
    )
    assert code == 0, err + worker.tail()
    lines = out.splitlines()
    assert lines[0].startswith("sweep ") and "done: 11 param sets" in lines[0]
    assert lines[1].split() == ["rank", "fast", "slow", "sharpe", "return_pct", "n_trades"]
    rows = [line.split() for line in lines[2:]]
    assert [row[0] for row in rows] == ["1", "2", "3"]
    sharpes = [float(row[3]) for row in rows]
    assert sharpes == sorted(sharpes, reverse=True)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--grid", "fst=5:10"], "grid.fst: unknown parameter"),
        (["--grid", "fast=5:10", "--constraint", "$fast <"], "constraint: "),
        (["--grid", "fast=5:10", "--objective", "sharp"], "did you mean 'sharpe'"),
        (["--grid", "fast=a:b"], "NAME=START:STOP[:STEP]"),
    ],
)
def test_a_bad_sweep_exits_non_zero_in_one_line(strategy, capsys, argv, words):
    code, _, err = run_cli(capsys, "sweep", "--strategy-id", strategy.id, *argv)
    assert code in (1, 2) and len(err.splitlines()) == 1 and words in err, err


def test_a_sweep_row_without_trades_says_why_and_a_warning_counts_the_skipped_entries(
    worker, strategy, candles, capsys
):
    argv = ["sweep", "--strategy-id", strategy.id, "--grid", "fast=5:10:5", "--grid", "slow=20,30", "--cash", "50"]
    code, out, err = run_cli(capsys, *argv)

    assert code == 0, err + worker.tail()
    rows = out.splitlines()[2:]
    assert len(rows) == 4
    assert all("no trades: " in row and "entries skipped: size below the quantity step (" in row for row in rows)
    warning = err.splitlines()[-1]
    assert warning.startswith("warning: 4 of 4 param sets skipped entries, ") and "sizing.step" in warning
