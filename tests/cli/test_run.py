"""`make run` runs `tickflow run`: the whole platform in the foreground, stopped by Ctrl-C.

One test drives two runs over the same temporary var directory, on free ports:
the first seeds the demo, which is then visible through the API (with the token
it printed) and Flower (behind basic auth); the second reuses the data and seeds
nothing. Each run is stopped as a terminal's Ctrl-C would, and must leave no
process behind.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cli.demo import DEMO_STRATEGIES, SYMBOLS
from cli.localservices import free_port, port_open
from strategies.examples import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r"API token 'demo' .*:\s+(tf_\S+)")


def wait_until(check, process: subprocess.Popen, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        assert process.poll() is None, "tickflow run exited early"
        try:
            value = check()
        except requests.ConnectionError:
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what} not within {timeout} s (last: {value!r})")


def both_workers(report: dict) -> bool:
    workers = report["celery"]["workers"]
    return any(w.startswith("live@") for w in workers) and any(w.startswith("backtest@") for w in workers)


def processes_in_session(session_id: int) -> list[str]:
    found = subprocess.run(
        ["ps", "-o", "pid=,args=", "-s", str(session_id)], capture_output=True, text=True, check=False
    )
    return found.stdout.splitlines()


class Run:
    """``tickflow run`` in its own session, its output in a file."""

    def __init__(self, env: dict, var_dir: Path, log: Path) -> None:
        self.log = log
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli", "run", "--var-dir", str(var_dir)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def ctrl_c(self) -> str:
        os.killpg(self.process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        self.process.wait(timeout=30)
        return self.output()

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)


@pytest.mark.timeout(240)
def test_tickflow_run_seeds_the_demo_once_serves_flower_and_ctrl_c_leaves_nothing_behind(tmp_path):
    redis_port, mongo_port, api_port, flower_port = free_port(), free_port(), free_port(), free_port()
    stream_port, ui_port = free_port(), free_port()
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
        "CELERY_RESULT_BACKEND": f"redis://127.0.0.1:{redis_port}/2",
        "MONGO_URI": f"mongodb://127.0.0.1:{mongo_port}/tickflow?directConnection=true",
        "API_PORT": str(api_port),
        "FLOWER_PORT": str(flower_port),
        "STREAM_PORT": str(stream_port),
        "UI_PORT": str(ui_port),
        "CORS_ORIGINS": f"http://127.0.0.1:{ui_port}",
    }
    env.pop("FLOWER_PASSWORD", None)
    var_dir = tmp_path / "var"
    api = f"http://127.0.0.1:{api_port}/api/v1"
    flower = f"http://127.0.0.1:{flower_port}"
    stream = f"http://127.0.0.1:{stream_port}/api/v1/live/stream"
    ui = f"http://127.0.0.1:{ui_port}"

    # -- first run: seeds, prints the token, Flower behind basic auth -----------------------------
    first = Run(env, var_dir, tmp_path / "first.log")
    try:
        health = wait_until(
            lambda: both_workers(r := requests.get(f"{api}/health", timeout=15).json()) and r,
            first.process,
            "the API and both workers",
        )
        assert health["status"] == "ok"
        output = first.output()
        token = TOKEN.search(output)[1]
        auth = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{api}/live/positions", timeout=10).status_code == 401
        positions = requests.get(f"{api}/live/positions", headers=auth, timeout=10)
        assert positions.status_code == 200
        assert {p["symbol"] for p in positions.json()} == set(SYMBOLS)

        strategies = requests.get(f"{api}/strategies", params={"per_page": 50}, headers=auth, timeout=10).json()
        assert strategies["total"] == len(EXAMPLES) + len(DEMO_STRATEGIES)
        series = requests.get(f"{api}/candles", headers=auth, timeout=10).json()["items"]
        one_minute = {s["symbol"]: s["count"] for s in series if s["timeframe"] == "1m"}
        assert one_minute == dict.fromkeys(SYMBOLS, 525600)
        live = requests.get(f"{api}/live/strategies", headers=auth, timeout=10).json()
        assert len(live) == 2 and {s["timeframe"] for s in live} == {"1m"}

        def finished(kind: str):
            items = requests.get(f"{api}/{kind}", headers=auth, timeout=10).json()["items"]
            return len(items) == 1 and items[0]["state"] == "done" and items

        backtest = wait_until(lambda: finished("backtests"), first.process, "the demo backtest", timeout=60)[0]
        assert backtest["symbol"] == "BTCUSDT" and backtest["stats"]["n_trades"] > 0
        wait_until(lambda: finished("sweeps"), first.process, "the demo sweep", timeout=60)

        wait_until(lambda: requests.get(f"{stream}/health", timeout=5).ok, first.process, "the live stream")
        ticket = requests.post(f"{api}/live/stream/ticket", headers=auth, timeout=10).json()
        assert ticket["url"] == stream
        with requests.get(stream, params={"ticket": ticket["ticket"]}, stream=True, timeout=30) as opened:
            assert opened.status_code == 200 and next(opened.iter_lines()) == b"retry: 1000"
        assert f"Live stream  {stream}" in first.output()

        assert f"Web UI       {ui}/login#token={token}" in output
        wait_until(lambda: requests.get(f"{ui}/ui-config", timeout=5).ok, first.process, "the web UI")
        assert requests.get(f"{ui}/ui-config", timeout=5).json() == {"apiUrl": f"http://127.0.0.1:{api_port}"}
        assert requests.get(f"{ui}/login", timeout=10).status_code == 200
        preflight = requests.options(
            f"{api}/me", headers={"Origin": ui, "Access-Control-Request-Method": "GET",
                                  "Access-Control-Request-Headers": "authorization"}, timeout=5,
        )  # fmt: skip
        assert preflight.headers.get("Access-Control-Allow-Origin") == ui

        password = (var_dir / "flower-password").read_text().strip()
        assert oct((var_dir / "flower-password").stat().st_mode & 0o777) == "0o600"
        assert f"{flower}  (user admin, password {password}" in output
        wait_until(lambda: requests.get(f"{flower}/healthcheck", timeout=5).ok, first.process, "Flower")
        assert requests.get(flower, timeout=10).status_code == 401
        assert requests.get(f"{flower}/api/workers", timeout=10).status_code == 401
        assert requests.get(flower, auth=("admin", "wrong-password"), timeout=10).status_code == 401
        assert requests.get(flower, auth=("admin", password), timeout=10).status_code == 200
        assert requests.get(f"{flower}/api/workers", auth=("admin", password), timeout=10).status_code == 200

        status = subprocess.run(
            [sys.executable, "-m", "cli", "status"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status.returncode == 0, status.stdout + status.stderr
        assert "Demo: SMA cross 1m" in status.stdout

        output = first.ctrl_c()
    finally:
        first.kill()
    assert f"{api}/docs" in output and "tickflow status" in output and "/live/positions" in output
    assert "TickFlow stopped." in output
    for port in (redis_port, mongo_port, api_port, flower_port, stream_port, ui_port):
        assert not port_open(port), f"port {port} still open after Ctrl-C"
    assert processes_in_session(first.process.pid) == []

    # -- second run: same data, nothing seeded again, no token shown -------------------------------
    second = Run(env, var_dir, tmp_path / "second.log")
    try:
        wait_until(lambda: requests.get(f"{api}/health", timeout=15).ok, second.process, "the API")
        again = second.output()
        assert "already seeded" in again and not TOKEN.search(again)
        assert "tickflow token create" in again and f"Web UI       {ui}  (log in with an API token)" in again
        assert f"password {password}" in again  # the same Flower password
        strategies = requests.get(f"{api}/strategies", headers=auth, timeout=10).json()
        assert strategies["total"] == len(EXAMPLES) + len(DEMO_STRATEGIES)
        for kind in ("backtests", "sweeps"):
            assert requests.get(f"{api}/{kind}", headers=auth, timeout=10).json()["total"] == 1
        output = second.ctrl_c()
    finally:
        second.kill()
    assert "TickFlow stopped." in output
    for port in (redis_port, mongo_port, api_port, flower_port, stream_port):
        assert not port_open(port), f"port {port} still open after Ctrl-C"
    assert processes_in_session(second.process.pid) == []


# --- the parts of `tickflow run` that need no platform ------------------------------------------


def test_no_seed_runs_the_procfile_without_seeding(db, tmp_path):
    from click.testing import CliRunner

    from cli.demo import MARKER
    from cli.main import cli

    procfile = tmp_path / "Procfile"
    procfile.write_text("hello: echo hello from the procfile\n")
    result = CliRunner().invoke(cli, ["run", "--no-seed", "--procfile", str(procfile), "--var-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "(reused," in result.output  # the test services, left running
    assert "Demo:" not in result.output and "API token: the demo's" in result.output
    assert db[MARKER].count_documents({}) == 0 and db.strategies.count_documents({}) == 0
    assert "TickFlow stopped." in result.output


def test_the_flower_password_is_made_once_private_and_kept(tmp_path):
    from cli.services import flower_password
    from tickflow.settings import Settings

    password, path = flower_password(Settings(), tmp_path / "var")
    assert len(password) >= 20 and path == tmp_path / "var" / "flower-password"
    assert path.stat().st_mode & 0o777 == 0o600
    assert flower_password(Settings(), tmp_path / "var") == (password, path)
    given = Settings(flower_password="a-password-from-the-env")
    assert flower_password(given, tmp_path / "other") == ("a-password-from-the-env", None)
    assert not (tmp_path / "other").exists()
