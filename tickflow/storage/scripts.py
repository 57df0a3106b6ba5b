"""Redis Lua scripts, kept as ``.lua`` files in a ``lua/`` folder beside the package that runs them.

Each file starts with what its ``KEYS`` and ``ARGV`` are. They ship as package data
(``setup.cfg``), so an installed TickFlow finds them as a source checkout does.
"""

from __future__ import annotations

from importlib.resources import files


def lua_script(package: str, name: str) -> str:
    """The text of ``<package>/lua/<name>.lua``."""
    return files(package).joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")
