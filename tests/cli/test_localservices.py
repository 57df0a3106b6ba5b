"""The local services that `make run` and `make test` start, on throwaway ports."""

import pytest
import redis
from pymongo import MongoClient

from cli.localservices import (
    LocalMongo,
    LocalRedis,
    find_mongod,
    free_port,
    port_open,
)


def test_mongod_is_found_on_path_or_in_the_fiftyone_wheel():
    assert find_mongod().endswith("mongod")


def test_a_started_redis_serves_and_stops_again(tmp_path):
    server = LocalRedis(free_port(), tmp_path / "redis", persistent=False).ensure_running()
    try:
        assert server.started_here
        assert redis.Redis.from_url(server.url).ping()
    finally:
        server.stop()
    assert not port_open(server.port)


def test_a_server_already_on_the_port_is_reused_and_left_running(tmp_path):
    first = LocalRedis(free_port(), tmp_path / "redis", persistent=False).ensure_running()
    try:
        second = LocalRedis(first.port, tmp_path / "redis", persistent=False).ensure_running()
        assert not second.started_here
        second.stop()
        assert port_open(first.port)
    finally:
        first.stop()


@pytest.mark.timeout(120)
def test_mongod_starts_as_a_one_node_replica_set_and_keeps_its_data_across_restarts(tmp_path):
    server = LocalMongo(free_port(), tmp_path / "mongo", cache_gb=0.25).ensure_running()
    try:
        with MongoClient(server.uri) as client:
            assert client.admin.command("hello")["isWritablePrimary"]
            client.tickflow.probe.insert_one({"kept": True})
    finally:
        server.stop()
    server = LocalMongo(server.port, tmp_path / "mongo", cache_gb=0.25).ensure_running()
    try:
        with MongoClient(server.uri) as client:
            assert client.tickflow.probe.find_one({}, {"_id": 0}) == {"kept": True}
    finally:
        server.stop()


def test_a_stale_pidfile_naming_another_process_is_never_signalled(tmp_path):
    import subprocess
    import sys

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        server = LocalRedis(free_port(), tmp_path / "redis", persistent=False)
        server.data_dir.mkdir(parents=True)
        server.pidfile.write_text(str(bystander.pid))
        server.kill()
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
