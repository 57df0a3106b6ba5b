"""`make run` runs `tickflow run`: the whole platform in the foreground, stopped by Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tickflow.localservices import port_open

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_workers(url: str, process: subprocess.Popen, timeout: float = 90) -> dict:
    """The health report once the API answers and both Procfile workers reply to pings."""
    deadline = time.monotonic() + timeout
    report: dict = {}
    while time.monotonic() < deadline:
        assert process.poll() is None, "tickflow run exited early"
        try:
            report = requests.get(url, timeout=15).json()
        except requests.ConnectionError:
            time.sleep(0.3)
            continue
        workers = report["celery"]["workers"]
        if any(w.startswith("live@") for w in workers) and any(w.startswith("backtest@") for w in workers):
            return report
        time.sleep(0.5)
    raise AssertionError(f"the API and both workers did not come up within {timeout} s: {report}")


def processes_in_session(session_id: int) -> list[str]:
    found = subprocess.run(["ps", "-o", "pid=,args=", "-s", str(session_id)], capture_output=True, text=True)
    return found.stdout.splitlines()


@pytest.mark.timeout(180)
def test_tickflow_run_starts_every_procfile_process_and_ctrl_c_leaves_none_behind(tmp_path):
    redis_port, mongo_port, api_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
        "CELERY_RESULT_BACKEND": f"redis://127.0.0.1:{redis_port}/2",
        "MONGO_URI": f"mongodb://127.0.0.1:{mongo_port}/tickflow?directConnection=true",
        "API_PORT": str(api_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tickflow.cli", "run", "--var-dir", str(tmp_path)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        health = wait_for_workers(f"http://127.0.0.1:{api_port}/api/v1/health", process)
        assert health["status"] == "ok"
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert f"http://127.0.0.1:{api_port}/api/v1/docs" in output
    assert "TickFlow stopped." in output
    for port in (redis_port, mongo_port, api_port):
        assert not port_open(port), f"port {port} still open after Ctrl-C"
    assert processes_in_session(process.pid) == []
