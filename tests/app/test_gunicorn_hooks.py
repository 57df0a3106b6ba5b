"""gunicorn's hooks for the API: what a worker does once it has loaded the app."""

import subprocess
import sys

from tests.ops.test_deployment_files import procfile


def test_a_worker_that_loaded_the_app_leaves_its_start_up_objects_out_of_full_collections():
    check = (
        "import gc; from app import gunicorn_hooks; "
        "gunicorn_hooks.post_worker_init(None); "
        "print(gc.get_freeze_count() > 50_000, len(gc.get_objects(generation=2)) < 1_000)"
    )
    ran = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert ran.stdout.split() == ["True", "True"]


def test_the_procfile_runs_the_api_with_its_hooks():
    assert procfile()["api"].startswith("gunicorn -c python:app.gunicorn_hooks ")
