"""Packed result columns: stored in parts, read back whole or by slice, across part boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from bson import ObjectId

from tickflow.storage.backtest_results import PART_BYTES, PackedArrays

PART = PART_BYTES // 8  # float64 and int64 elements per part


@pytest.fixture
def arrays(db):
    return PackedArrays(db.backtest_arrays)


@pytest.fixture
def stored(arrays):
    owner = ObjectId()
    columns = {
        "equity": np.linspace(1.0, 2.0, PART + 1000),
        "ts": np.arange(PART + 1000, dtype=np.int64),
        "flags": np.array([True, False, True]),
        "none": np.empty(0),
    }
    arrays.write(owner, 1, columns)
    return owner, columns


def test_a_column_is_cut_into_parts_of_at_most_part_bytes(db, stored):
    owner, _ = stored
    parts = list(db.backtest_arrays.find({"owner": owner, "name": "equity"}).sort("first", 1))
    assert [(part["first"], part["end"]) for part in parts] == [(0, PART), (PART, PART + 1000)]
    assert max(len(part["data"]) for part in parts) == PART_BYTES


@pytest.mark.parametrize(
    "lo, hi",
    [(0, None), (0, 10), (PART - 5, PART + 5), (PART, PART + 1), (PART + 990, None), (PART + 2000, None), (10, 10)],
)
def test_any_slice_reads_back_exactly(arrays, stored, lo, hi):
    owner, columns = stored
    for name in ("equity", "ts"):
        values = arrays.read(owner, 1, name, lo, hi)
        assert values.dtype == columns[name].dtype and np.array_equal(values, columns[name][lo:hi])


def test_dtypes_and_empty_columns_survive(arrays, stored):
    owner, _ = stored
    assert arrays.read(owner, 1, "flags").tolist() == [True, False, True]
    assert len(arrays.read(owner, 1, "none")) == 0


def test_deleting_keeps_only_the_attempt_asked_for(arrays, stored):
    owner, columns = stored
    arrays.write(owner, 2, {"equity": columns["equity"][:5]})
    arrays.delete(owner, except_attempt=2)
    assert len(arrays.read(owner, 1, "equity")) == 0 and len(arrays.read(owner, 2, "equity")) == 5
    arrays.delete(owner)
    assert len(arrays.read(owner, 2, "equity")) == 0
