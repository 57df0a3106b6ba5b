"""docs/reliability.md names, for every fault, the tests that prove what TickFlow does: each of them exists."""

import re

from tests.conftest import ROOT

TABLE = ROOT / "docs" / "reliability.md"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)(?:\[[^\]]*\])?`")


def test_every_test_the_fault_table_names_exists():
    named = NAMED.findall(TABLE.read_text())
    assert len(named) >= 12
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).is_file() or not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
    ]
    assert missing == []


def test_every_row_names_a_test():
    rows = [line for line in TABLE.read_text().splitlines() if line.startswith("| **")]
    assert len(rows) >= 11
    assert [row.split(" | ")[0] for row in rows if not NAMED.search(row.rsplit(" | ", 1)[-1])] == []
