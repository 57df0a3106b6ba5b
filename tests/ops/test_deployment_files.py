"""The Docker files agree with the Procfile, and a few deployment rules hold.

Reads files only: no Docker engine, Redis or MongoDB is needed.

How a compose command is compared with its Procfile line: a TickFlow service's
``command`` is ``["sh", "-c", "exec <line>"]``. Compose replaces ``$$`` with a
literal ``$`` before starting the container (and would substitute a lone
``$VAR`` from the host, so none may be left); after undoing that escape and
dropping ``exec ``, the string must equal the Procfile line exactly. The
Procfile's ``${API_HOST:-127.0.0.1}`` therefore reaches the container's shell,
and the api service's ``environment`` sets ``API_HOST=0.0.0.0``.
"""

from __future__ import annotations

import configparser
import fnmatch
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "Procfile"
COMPOSE = ROOT / "docker" / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SETUP_CFG = ROOT / "setup.cfg"

STORES = ("redis", "mongo")
CELERY_NODE = re.compile(r"--hostname\s+(\S+)@%h")


def procfile() -> dict[str, str]:
    """``name: command`` lines, as honcho reads them."""
    processes = {}
    for line in PROCFILE.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        assert match, f"Procfile line not in `name: command` form: {line!r}"
        processes[match[1]] = match[2].strip()
    return processes


PROCESSES = procfile()


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def has_lone_dollar(text: str) -> bool:
    """A ``$`` that compose would substitute on the host (``$$`` is its escape for ``$``)."""
    return "$" in text.replace("$$", "")


def shell_line(command) -> str:
    """The Procfile-comparable form of a compose ``command`` (see the module docstring)."""
    assert isinstance(command, list) and len(command) == 3 and command[:2] == ["sh", "-c"], (
        f"expected [sh, -c, 'exec ...'], got {command!r}"
    )
    line = command[2]
    assert not has_lone_dollar(line), f"a lone $ in {line!r} would be substituted by compose on the host; write $$"
    line = line.replace("$$", "$")
    assert line.startswith("exec "), f"{line!r} should start with exec: the process replaces sh and gets SIGTERM itself"
    return line.removeprefix("exec ")


def compose_default(value: str) -> str:
    """``${VAR:-default}`` -> ``default``."""
    match = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
    assert match, f"{value!r} is not ${{VAR:-default}}"
    return match[1]


def healthcheck_text(svc: dict) -> str:
    test = svc["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


# --- Procfile <-> compose ---------------------------------------------------------------------


def test_procfile_lists_the_platform_processes():
    assert {"api", "stream", "worker-live", "worker-backtest", "beat", "feed", "ui"} <= set(PROCESSES)


def test_compose_runs_every_procfile_process_and_nothing_else():
    tickflow_services = set(compose()["services"]) - set(STORES)
    assert tickflow_services == set(PROCESSES)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_compose_command_is_the_procfile_line(name):
    assert shell_line(service(name)["command"]) == PROCESSES[name]


def test_api_listens_on_all_interfaces_in_its_container():
    assert "${API_HOST:-127.0.0.1}" in PROCESSES["api"] and "${API_PORT:-8000}" in PROCESSES["api"]
    env = service("api")["environment"]
    assert env["API_HOST"] == "0.0.0.0"
    port = str(env["API_PORT"])
    assert any(str(p).endswith(f":{port}") for p in service("api")["ports"])


def listens_on_all_interfaces_published_on_loopback(name: str, prefix: str) -> str:
    """Checks that service ``name`` binds ``<prefix>_HOST=0.0.0.0`` in its container and is published on the
    host's loopback only; returns its ``<prefix>_PORT``."""
    env = service(name)["environment"]
    assert env[f"{prefix}_HOST"] == "0.0.0.0"
    port = str(env[f"{prefix}_PORT"])
    published = [str(p) for p in service(name)["ports"]]
    assert published and all(p.endswith(f":{port}") and "127.0.0.1:" in p for p in published), published
    return port


def test_the_stream_listens_on_all_interfaces_in_its_container_and_its_healthcheck_asks_it():
    assert PROCESSES["stream"] == "tickflow stream"  # STREAM_HOST and STREAM_PORT come from the environment
    port = listens_on_all_interfaces_published_on_loopback("stream", "STREAM")
    assert f"127.0.0.1:{port}/api/v1/live/stream/health" in healthcheck_text(service("stream"))


def test_flower_needs_basic_auth_and_is_published_on_loopback_only():
    assert PROCESSES["flower"] == "tickflow flower"  # which refuses to start without FLOWER_PASSWORD
    port = listens_on_all_interfaces_published_on_loopback("flower", "FLOWER")
    assert f"127.0.0.1:{port}/healthcheck" in healthcheck_text(service("flower"))


def test_no_password_is_on_a_command_line_where_ps_would_show_it():
    texts = [PROCFILE.read_text()] + [
        yaml.safe_dump({k: svc.get(k) for k in ("command", "entrypoint", "healthcheck")})
        for svc in compose()["services"].values()
    ]
    for text in texts:
        for flag in ("--basic-auth", "--requirepass", "PASSWORD:?", " -p ", "--password"):
            assert flag not in text, f"{flag!r} in {text[:200]!r}"


def test_the_ui_runs_from_its_own_node_image_published_on_loopback_and_waits_for_the_api():
    ui = service("ui")
    assert ui["build"]["dockerfile"] == "docker/ui.Dockerfile"
    port = listens_on_all_interfaces_published_on_loopback("ui", "UI")
    assert f"127.0.0.1:{port}/ui-config" in healthcheck_text(ui)
    assert ui["depends_on"] == {"api": {"condition": "service_healthy"}}
    assert compose_default(ui["environment"]["TICKFLOW_API_URL"]) == "http://127.0.0.1:8000"


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_process_has_a_healthcheck_a_restart_policy_and_waits_for_what_it_needs(name):
    svc = service(name)
    assert svc.get("healthcheck", {}).get("test"), f"{name}: no healthcheck"
    assert not svc["healthcheck"].get("disable"), f"{name}: healthcheck disabled"
    assert not has_lone_dollar(healthcheck_text(svc)), f"{name}: a lone $ in the healthcheck; write $$"
    assert svc.get("restart") in ("unless-stopped", "always"), f"{name}: restart policy {svc.get('restart')!r}"
    depends = svc.get("depends_on", {})
    for store in ("api",) if name == "ui" else STORES:  # the UI talks only to the API
        assert depends.get(store, {}).get("condition") == "service_healthy", (
            f"{name}: not waiting for a healthy {store}"
        )


def test_api_healthcheck_calls_the_health_endpoint_on_its_port():
    text = healthcheck_text(service("api"))
    assert f"127.0.0.1:{service('api')['environment']['API_PORT']}/api/v1/health" in text


@pytest.mark.parametrize("name", sorted(n for n, c in PROCESSES.items() if " worker " in f" {c} "))
def test_celery_worker_healthcheck_pings_its_own_node(name):
    node = CELERY_NODE.search(PROCESSES[name])
    assert node, f"{name}: worker without --hostname NAME@%h"
    text = healthcheck_text(service(name))
    assert "celery -A tasks inspect ping" in text
    # $$HOSTNAME in the file: compose leaves $HOSTNAME for the container's shell.
    assert f"-d {node[1]}@$$HOSTNAME" in text
    assert service(name)["healthcheck"]["test"][0] == "CMD-SHELL"


def test_beat_schedule_is_on_a_named_volume():
    schedule = re.search(r"--schedule\s+(\S+)", PROCESSES["beat"])[1]
    workdir = [a for k, a in dockerfile_instructions() if k == "WORKDIR"][-1]
    directory = f"{workdir}/{schedule.rsplit('/', 1)[0]}"
    volumes = service("beat")["volumes"]
    assert any(v.split(":")[0] in compose()["volumes"] and v.split(":")[1] == directory for v in volumes), volumes


def test_stores():
    services = compose()["services"]
    redis, mongo = services["redis"], services["mongo"]
    assert redis["image"].split(":")[0] == "redis" and redis["image"].split(":")[1].startswith("7")
    assert "--appendonly yes" in " ".join(redis["command"])
    assert "redis-cli ping" in healthcheck_text(redis)
    assert mongo["image"].split(":")[0] == "mongo" and mongo["image"].split(":")[1].startswith("6")
    assert mongo["command"][mongo["command"].index("--replSet") + 1] == "rs0"
    assert "rs.initiate" in healthcheck_text(mongo) and "'rs0'" in healthcheck_text(mongo)
    for store in (redis, mongo):
        assert store["restart"] == "unless-stopped"
        for volume in store["volumes"]:
            assert volume.split(":")[0] in compose()["volumes"], f"{volume}: not a named volume"


def test_redis_requires_the_password_from_the_env_file_given_on_stdin_and_to_its_health_check():
    redis = service("redis")
    script = redis["command"][2]
    assert redis["command"][:2] == ["sh", "-c"] and script.startswith("exec redis-server - ")
    assert "<<EOF\nrequirepass $$REDIS_PASSWORD\nEOF" in script
    assert redis["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?set REDIS_PASSWORD")
    assert redis["environment"]["REDISCLI_AUTH"] == "${REDIS_PASSWORD}"  # redis-cli reads it there
    assert "ports" not in redis, "Redis is published nowhere outside the compose network"


def test_mongodb_runs_with_access_control_a_replica_key_file_and_an_authenticating_health_check():
    mongo = service("mongo")
    env = mongo["environment"]
    assert env["MONGO_INITDB_ROOT_USERNAME"] == "${MONGO_USERNAME:-tickflow}"
    assert env["MONGO_INITDB_ROOT_PASSWORD"].startswith("${MONGO_PASSWORD:?set MONGO_PASSWORD")
    key = mongo["command"][mongo["command"].index("--keyFile") + 1]
    assert key.startswith("/data/configdb/") and "mongo-config:/data/configdb" in mongo["volumes"]
    entrypoint = mongo["entrypoint"]
    assert entrypoint[:2] == ["bash", "-c"] and entrypoint[2].rstrip().endswith('exec docker-entrypoint.sh "$$@"')
    assert f"key={key}" in entrypoint[2] and "chmod 400 $$key" in entrypoint[2]
    assert "auth(process.env.MONGO_INITDB_ROOT_USERNAME, process.env.MONGO_INITDB_ROOT_PASSWORD)" in (
        healthcheck_text(mongo)
    )


def test_default_urls_point_at_the_compose_stores_with_their_credentials():
    for name in set(PROCESSES) - {"ui"}:  # the UI reads no store
        env = service(name)["environment"]
        assert compose_default(env["MONGO_URI"]) == (
            "mongodb://${MONGO_USERNAME:-tickflow}:${MONGO_PASSWORD}@mongo:27017/tickflow?replicaSet=rs0&authSource=admin"
        )
        assert compose_default(env["REDIS_URL"]) == "redis://:${REDIS_PASSWORD}@redis:6379/0"
        assert service(name)["env_file"] in (".env", [".env"])


def test_every_image_is_pinned():
    for name, svc in compose()["services"].items():
        image = svc["image"]
        if image.startswith("${"):
            image = compose_default(image)
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image!r}"


# --- Dockerfile ------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        current += raw.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        if current.strip():
            keyword, _, args = current.strip().partition(" ")
            lines.append((keyword.upper(), args.strip()))
        current = ""
    return lines


def test_dockerfile_base_images_are_pinned_python_311_slim():
    instructions = dockerfile_instructions()
    args = dict(a.split("=", 1) for k, a in instructions if k == "ARG" and "=" in a)
    froms = [a.split()[0] for k, a in instructions if k == "FROM"]
    assert froms
    for image in froms:
        image = args.get(image.strip("${}"), image)
        assert image.startswith("python:3.11-slim"), image
        assert not image.endswith(":latest")


def test_dockerfile_runs_as_a_non_root_user():
    users = [a for k, a in dockerfile_instructions() if k == "USER"]
    assert users, "no USER: the processes would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_environment():
    env = " ".join(a for k, a in dockerfile_instructions() if k == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    assert "NUMBA_CACHE_DIR=" in env
    assert "API_HOST=0.0.0.0" in env


def test_dockerfile_installs_the_package_without_dev_deps_or_editable_mode():
    runs = [a for k, a in dockerfile_instructions() if k == "RUN"]
    installs = [r for r in runs if "pip install" in r or "pip wheel" in r]
    assert installs
    for run in installs:
        assert " -e " not in f" {run} " and "--editable" not in run, run
        assert "[dev]" not in run and "extras_require" not in run, run
    assert any("install_requires" in r for r in runs), "runtime deps should come from setup.cfg install_requires"


def test_dockerfile_default_command_is_the_procfile_api_line():
    cmd = [a for k, a in dockerfile_instructions() if k == "CMD"][-1]
    assert not [a for k, a in dockerfile_instructions() if k == "ENTRYPOINT"], (
        "an ENTRYPOINT would be prepended to every compose command"
    )
    exec_form = yaml.safe_load(cmd)  # a JSON array is valid YAML
    assert exec_form[:2] == ["sh", "-c"] and exec_form[2] == "exec " + PROCESSES["api"]


# --- .dockerignore ---------------------------------------------------------------------------


def ignored(path: str, rules: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for rule in rules:
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").strip("/")
        candidates = [pattern] + ([pattern[3:]] if pattern.startswith("**/") else [])
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            excluded = not negate
    return excluded


def test_dockerignore_sends_what_pip_install_needs_and_nothing_private():
    rules = [r.strip() for r in DOCKERIGNORE.read_text().splitlines() if r.strip() and not r.startswith("#")]
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(SETUP_CFG)
    packages = [p.strip().rstrip("*") for p in cfg["options.packages.find"]["include"].split() if p.strip()]
    readme = cfg["metadata"]["long_description"].removeprefix("file:").strip()
    needed = ["pyproject.toml", "setup.cfg", readme] + [f"{p}/__init__.py" for p in packages]
    for package, globs in cfg["options.package_data"].items():
        for pattern in globs.split():
            data = sorted((ROOT / package.replace(".", "/")).glob(pattern))
            assert data, f"package_data {package}: {pattern} matches nothing"
            needed += [str(f.relative_to(ROOT)) for f in data]
    for path in needed:
        assert (ROOT / path).exists(), path
        assert not ignored(path, rules), f"{path} is needed by `pip install .` but .dockerignore drops it"
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        "var/dev/x",
        ".env",
        "docker/.env",
        "tests/conftest.py",
        "tickflow/__pycache__/settings.cpython-311.pyc",
        "frontend/node_modules/x",
    ):
        assert ignored(path, rules), f"{path} would be sent to the Docker daemon"
