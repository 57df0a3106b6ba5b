"""``tickflow flower``, the Procfile's Flower: basic auth from the environment, never from its command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from cli.localservices import free_port
from tests.celery_workers import wait_for
from tests.conftest import ROOT

TICKFLOW = str(Path(sys.executable).parent / "tickflow")
PASSWORD = "flower-secret-0123456789"


def flower(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [TICKFLOW, "flower"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_flower_serves_behind_basic_auth_and_no_process_shows_the_password(services):
    port = free_port()
    process = flower({"FLOWER_PASSWORD": PASSWORD, "FLOWER_USER": "ops", "FLOWER_PORT": str(port)})
    url = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            assert process.poll() is None, process.stderr.read()
            try:
                return requests.get(f"{url}/healthcheck", timeout=2).ok
            except requests.ConnectionError:
                return False

        wait_for(healthy, timeout=60, what="Flower to start", every=0.2)
        assert requests.get(f"{url}/api/workers", timeout=10).status_code == 401
        assert requests.get(f"{url}/api/workers", auth=("ops", "wrong-password-1"), timeout=10).status_code == 401
        assert requests.get(f"{url}/api/workers", auth=("ops", PASSWORD), timeout=10).status_code == 200
        command_lines = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True, check=True).stdout
        assert "tasks flower --address=127.0.0.1 --port=" in command_lines  # the very process, exec'd in place
        assert PASSWORD not in command_lines
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_flower_refuses_to_start_without_a_password_in_one_line():
    process = flower({"FLOWER_PASSWORD": ""})
    assert process.wait(timeout=60) == 1
    assert process.stderr.read() == (
        "tickflow: FLOWER_PASSWORD: required to start Flower (set 12+ random characters: openssl rand -hex 16)\n"
    )


def test_in_production_the_example_password_is_no_password():  # (tickflow.settings refuses it)
    process = flower(
        {"TICKFLOW_ENV": "production", "SECRET_KEY": "k" * 64, "FLOWER_PASSWORD": "change-me-to-a-long-random-string"}
    )
    assert process.wait(timeout=60) == 1
    assert process.stderr.read().startswith("tickflow: FLOWER_PASSWORD: required")
