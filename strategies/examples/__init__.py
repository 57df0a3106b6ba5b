"""Example strategies, shipped as JSON documents inside the package."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

_FILES = resources.files(__name__)

EXAMPLES: list[str] = sorted(
    entry.name.removesuffix(".json") for entry in _FILES.iterdir() if entry.name.endswith(".json")
)
"""Names accepted by ``load_example``, e.g. ``"sma_cross"``."""


def load_example(name: str) -> dict[str, Any]:
    """The example strategy document called ``name``, as parsed JSON (validate it with ``validate_spec``)."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; available: {', '.join(EXAMPLES)}")
    return json.loads((_FILES / f"{name}.json").read_text(encoding="utf-8"))
