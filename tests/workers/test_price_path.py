"""A symbol's price path as the engine reads it (``PricePath``) and steps positions through it (``advance``)."""

from __future__ import annotations

import numpy as np

from strategies import position as machine
from strategies.domain import ExitReason
from strategies.spec import validate_spec
from tests.workers.conftest import spec_doc
from tickflow.storage.positions import ADOPT, Position
from workers.positions import PricePath, advance, exit_reason, fill

MINUTE = 60_000
T0 = 1_800_000_000_000 - 1_800_000_000_000 % (5 * MINUTE)  # a 5-minute candle's open, in ms


def joined(*entries: tuple[str, int, float, float, float]) -> str:
    """``JOINED_PATHS``' reply for entries (stream id, minute, first, high, low)."""
    return ",".join(
        f"{sid.replace('-', ',')},{minute},{first},{high},{low}" for sid, minute, first, high, low in entries
    )


def config(**risk: dict) -> np.ndarray:
    """The kernels' settings of the ``sma_cross`` example with ``risk`` (no stop, target or trail by default)."""
    spec = validate_spec(spec_doc("sma_cross", risk=risk))
    return machine.make_config(spec, spec.resolved_params())


PATH = PricePath.parse(
    joined(
        (f"{T0 + 10}-0", T0, 100.0, 101.0, 99.5),
        (f"{T0 + 10}-1", T0, 100.5, 100.9, 99.9),
        (f"{T0 + 20}-0", T0 + MINUTE, 100.2, 100.4, 98.0),
        (f"{T0 + 5 * MINUTE}-0", T0 + 5 * MINUTE, 97.0, 97.5, 96.0),
    )
)


def test_a_joined_reply_parses_to_one_row_per_entry_keeping_stream_ids_exact():
    assert len(PATH) == 4
    assert [PATH.entry_id(i) for i in range(4)] == [
        f"{T0 + 10}-0",
        f"{T0 + 10}-1",
        f"{T0 + 20}-0",
        f"{T0 + 5 * MINUTE}-0",
    ]
    assert PATH.rows[2].tolist() == [T0 + 20, 0, T0 + MINUTE, 100.2, 100.4, 98.0]
    assert len(PricePath.parse("")) == 0


def test_the_entries_after_a_cursor_start_after_its_sequence_within_the_same_millisecond():
    assert PATH.start_after("0-0") == 0
    assert PATH.start_after(f"{T0 + 10}-0") == 1
    assert PATH.start_after(f"{T0 + 10}-1") == 2
    assert PATH.start_after(f"{T0 + 15}-0") == 2
    assert PATH.start_after(f"{T0 + 5 * MINUTE}-0") == 4


def test_a_flat_position_moves_its_cursor_to_the_end_of_its_candle_and_no_further():
    position = Position("s", "X", machine.new_state(10_000.0), bar=T0)
    assert advance(position, PATH, 5 * MINUTE, config()) == []
    assert position.cursor == f"{T0 + 20}-0"  # the next candle's entry waits for its close to be executed
    assert advance(position, PATH, 5 * MINUTE, config()) == []
    assert position.cursor == f"{T0 + 20}-0"


def test_an_adopting_position_takes_the_candle_of_the_first_entry_after_its_cursor():
    position = Position("s", "X", machine.new_state(10_000.0), cursor=f"{T0 + 20}-0", bar=ADOPT)
    advance(position, PATH, 5 * MINUTE, config())
    assert (position.bar, position.cursor) == (T0 + 5 * MINUTE, f"{T0 + 5 * MINUTE}-0")


def test_an_open_position_is_stopped_out_by_the_first_entry_whose_low_crosses_its_stop():
    settings = config(stop_loss={"fraction": 0.015})
    position = Position("s", "X", machine.new_state(10_000.0), bar=T0 - 5 * MINUTE)
    machine.on_signals(position.state, True, False, False, False, 0.0, 0.0, 0.0, settings)  # fraction-based
    fill(position, T0, 100.0, settings)
    position.bar = T0
    assert position.side == 1

    closed = advance(position, PATH, 5 * MINUTE, settings)

    assert len(closed) == 1 and exit_reason(closed[0]) == ExitReason.STOP_LOSS
    assert closed[0][machine.T_EXIT_BAR] == T0  # the third entry's low (98.0) is the first under 98.5
    assert position.side == 0 and position.cursor == f"{T0 + 20}-0"
