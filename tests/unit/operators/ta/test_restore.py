"""Every catalogue indicator restored from a pickle continues to the bit as if it never stopped.

A recovery snapshot pickles each symbol's state; a resumed flow must give exactly the outputs
an uninterrupted one gives. Each TA-Lib function of the streaming catalogue (default
parameters) is fed real bars, pickled mid-way (during the warm-up and well after it), and the
original and the restored copy are fed the rest: every output of every bar must be the same
double (NaN where one is NaN).
"""

from __future__ import annotations

import pickle
import struct

import pytest

from operators.ta.indicators.catalogue import talib_catalogue

from .talib_parity import real_bars

CATALOGUE = talib_catalogue()
BARS = 700
SNAPSHOT_AT = (3, 350)


def _bits(values: tuple[float, ...]) -> bytes:
    """The outputs as raw doubles, so NaN equals NaN and 0.0 differs from -0.0."""
    return struct.pack(f"{len(values)}d", *values)


def _bar_inputs(names: tuple[str, ...]) -> list[tuple[float, ...]]:
    bars = real_bars("spy_hourly")
    return [tuple(float(bars[name][index]) for name in names) for index in range(BARS)]


@pytest.mark.parametrize("snapshot_at", SNAPSHOT_AT, ids=lambda at: f"after_{at}_bars")
@pytest.mark.parametrize("function", sorted(CATALOGUE))
def test_indicator_restored_from_a_pickle_continues_bit_identically(function: str, snapshot_at: int) -> None:
    indicator_class = CATALOGUE[function]
    inputs = _bar_inputs(indicator_class.inputs)
    original = indicator_class()
    for bar in inputs[:snapshot_at]:
        original.update(*bar)
    restored = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(restored) is indicator_class and restored is not original
    for index, bar in enumerate(inputs[snapshot_at:], start=snapshot_at):
        original.update(*bar)
        restored.update(*bar)
        assert _bits(restored.values) == _bits(original.values), f"{function} differs at bar {index}"
        assert restored.ready == original.ready
    assert original.ready, f"{function} never warmed up: the comparison would only have seen NaN"
