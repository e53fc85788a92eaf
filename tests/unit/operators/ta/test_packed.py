"""Every catalogue indicator packed into one flat tuple and unpacked continues to the bit.

A symbol's snapshot holds its configured indicators packed by a ``PackedState`` generated for
each indicator's shape. Each TA-Lib function of the streaming catalogue (default parameters) is
fed real bars, packed mid-way (before any bar, during the warm-up and well after it), the tuple
pickled and unpacked, and the original and the copy are fed the rest: every output of every bar
must be the same double. Where an indicator is not shaped like its prototype, ``pack`` declines
(``None``) and the caller pickles the indicator itself.
"""

from __future__ import annotations

import pickle
import struct

import pytest

from operators.ta.indicators.catalogue import indicator_class, talib_catalogue
from operators.ta.packed import PackedState

from .talib_parity import real_bars

CATALOGUE = talib_catalogue()
BARS = 700
SNAPSHOT_AT = (0, 3, 350)
#: Functions whose fresh indicator leaves a slot unset (FRACTAL never sets ``_value``): never packed.
NOT_PACKED = {"FRACTAL"}


def _bits(values: tuple[float, ...]) -> bytes:
    """The outputs as raw doubles, so NaN equals NaN and 0.0 differs from -0.0."""
    return struct.pack(f"{len(values)}d", *values)


def _bar_inputs(names: tuple[str, ...]) -> list[tuple[float, ...]]:
    bars = real_bars("spy_hourly")
    return [tuple(float(bars[name][index]) for name in names) for index in range(BARS)]


@pytest.mark.parametrize("snapshot_at", SNAPSHOT_AT, ids=lambda at: f"after_{at}_bars")
@pytest.mark.parametrize("function", sorted(set(CATALOGUE) - NOT_PACKED))
def test_indicator_unpacked_from_its_pickled_packed_state_continues_bit_identically(function: str,
                                                                                    snapshot_at: int) -> None:
    indicator_class_ = CATALOGUE[function]
    packer = PackedState(indicator_class_())
    inputs = _bar_inputs(indicator_class_.inputs)
    original = indicator_class_()
    for bar in inputs[:snapshot_at]:
        original.update(*bar)
    packed = packer.pack(original)
    assert type(packed) is tuple, f"{function} did not pack"
    restored = packer.unpack(pickle.loads(pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)))
    assert type(restored) is indicator_class_ and restored is not original
    for index, bar in enumerate(inputs[snapshot_at:], start=snapshot_at):
        original.update(*bar)
        restored.update(*bar)
        assert _bits(restored.values) == _bits(original.values), f"{function} differs at bar {index}"
        assert restored.ready == original.ready
    assert original.ready, f"{function} never warmed up: the comparison would only have seen NaN"


def test_only_the_indicators_with_a_slot_never_set_decline_to_pack() -> None:
    declined = {function for function, cls in CATALOGUE.items() if PackedState(cls()).pack(cls()) is None}
    assert declined == NOT_PACKED


def test_pack_declines_an_indicator_whose_sub_indicator_was_replaced() -> None:
    stochastic = indicator_class("STOCH")
    packer = PackedState(stochastic())
    indicator = stochastic()
    indicator._slow_k = None
    assert packer.pack(indicator) is None


def test_pack_declines_an_indicator_with_a_slot_unset() -> None:
    rsi = indicator_class("RSI")
    packer = PackedState(rsi())
    indicator = rsi()
    del indicator._value
    assert packer.pack(indicator) is None


def test_pack_declines_an_indicator_of_another_class() -> None:
    packer = PackedState(indicator_class("RSI")())
    assert packer.pack(indicator_class("CMO")()) is None


def test_an_object_without_slots_is_never_packed() -> None:
    class Loose:
        def __init__(self) -> None:
            self.value = 1.0

    assert PackedState(Loose()).pack(Loose()) is None
