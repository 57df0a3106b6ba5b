"""The UI's server (``next start``, as the Procfile runs it) sends the API's security headers on every page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from cli.localservices import ProcfileProcess, free_port
from tests.app.test_security_headers import EXPECTED
from tests.conftest import ROOT
from tests.ops.test_deployment_files import PROCESSES


@pytest.fixture(scope="module")
def ui(tmp_path_factory) -> Iterator[str]:
    if not (ROOT / "frontend" / ".next" / "BUILD_ID").exists():
        pytest.fail("the UI is not built: run `make test` (or `make ui`) first")
    port = free_port()
    env = {"UI_PORT": str(port), "TICKFLOW_API_URL": "http://127.0.0.1:8000"}
    server = ProcfileProcess(PROCESSES["ui"], env, tmp_path_factory.mktemp("ui") / "ui.log", ROOT)
    base = f"http://127.0.0.1:{port}"
    server.wait_answering(f"{base}/ui-config")
    yield base
    server.stop()


@pytest.mark.parametrize("path", ["/", "/login", "/ui-config", "/no-such-page"])
def test_every_ui_response_carries_the_security_headers(ui, path):
    response = requests.get(f"{ui}{path}", timeout=30)
    assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED, path
