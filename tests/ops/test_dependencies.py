"""Dependency floors stay above known advisories, and every install uses the tested pins (constraints.txt).

Each floor in setup.cfg must be at least the first release that fixes the advisory named
next to it. Lowering a floor below it (or dropping the requirement) fails here.
"""

from __future__ import annotations

import configparser
import re

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.ops.test_deployment_files import DOCKERFILE, DOCKERIGNORE, ROOT, SETUP_CFG, dockerfile_instructions, ignored

CONSTRAINTS = ROOT / "constraints.txt"
INSTALL_SH = ROOT / "scripts" / "install.sh"

# package -> (first fixed version, advisory), for packages TickFlow installs (directly or not).
FIXED_IN = {
    "flask": ("3.1.1", "CVE-2025-47278: fallback secret keys used in the wrong order to sign"),
    "flask-cors": ("6.0.0", "CVE-2024-6844 / GHSA-8vgw-p6qm-5gr7: '+' in paths mismatches CORS rules"),
    "gunicorn": ("23.0.0", "CVE-2024-6827: request smuggling through Transfer-Encoding"),
    "pymongo": ("4.6.3", "CVE-2024-5629: out-of-bounds read decoding BSON"),
    "werkzeug": ("3.0.6", "CVE-2024-49767 / GHSA-q34m-jh98-gwm2: multipart form memory limit bypass"),
    "jinja2": ("3.1.6", "CVE-2025-27516: sandbox breakout through the |attr filter"),
    "tornado": ("6.5", "CVE-2025-47287: multipart parsing floods the log (Flower's server)"),
    "aiohttp": ("3.12.14", "CVE-2025-53643: request smuggling through chunked trailers (the stream process)"),
    "idna": ("3.7", "CVE-2024-3651: quadratic time on crafted names (aiohttp's yarl)"),
    "orjson": ("3.9.15", "CVE-2024-27454: unbounded recursion on deeply nested input"),
    "requests": ("2.32.4", "CVE-2024-47081: .netrc credentials leak to another host (tests)"),
    "urllib3": ("2.5.0", "CVE-2025-50181: redirects not disabled as configured (tests)"),
}


def setup_requirements() -> dict[str, Requirement]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(SETUP_CFG)
    lines = config["options"]["install_requires"].splitlines() + config["options.extras_require"]["dev"].splitlines()
    requirements = [Requirement(line) for line in (raw.split("#")[0].strip() for raw in lines) if line]
    return {canonicalize_name(r.name): r for r in requirements}


def pins() -> dict[str, Version]:
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not name==version"
            found[canonicalize_name(name)] = Version(version.strip())
    return found


def floor(requirement: Requirement) -> Version | None:
    lows = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==", "~=")]
    return max(lows, default=None)


@pytest.mark.parametrize("package", sorted(FIXED_IN))
def test_every_floor_is_at_least_the_release_that_fixed_its_advisory(package):
    fixed, advisory = FIXED_IN[package]
    requirement = setup_requirements().get(package)
    assert requirement is not None, f"setup.cfg no longer requires {package} (>= {fixed}, {advisory})"
    assert floor(requirement) is not None and floor(requirement) >= Version(fixed), (
        f"setup.cfg: {requirement} allows a release before {fixed}, which fixed {advisory}"
    )


def test_the_pinned_versions_satisfy_every_requirement_of_setup_cfg():
    pinned = pins()
    for name, requirement in setup_requirements().items():
        assert name in pinned, f"constraints.txt pins no {name}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), f"{name}=={pinned[name]}: {requirement}"


def test_the_constraints_pin_everything_but_tickflow_itself():
    assert "tickflow" not in pins()
    assert not re.search(r"^-e |^tickflow", CONSTRAINTS.read_text(), re.M)


def test_install_sh_and_the_dockerfile_install_with_the_constraints():
    installs = [line for line in INSTALL_SH.read_text().splitlines() if line.lstrip().startswith("pip_install ")]
    packages = [line for line in installs if "--upgrade pip" not in line]
    assert packages and all("-c constraints.txt" in line for line in packages), packages
    runs = [a for k, a in dockerfile_instructions() if k == "RUN" and "pip install" in a]
    assert runs and all("-c /tmp/constraints.txt" in run for run in runs)
    assert "constraints.txt" in DOCKERFILE.read_text().split("COPY setup.cfg", 1)[1].splitlines()[0]
    assert not ignored("constraints.txt", DOCKERIGNORE.read_text().splitlines())
