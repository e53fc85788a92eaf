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

import pytest

from operators.ta.indicators.catalogue import indicator_class, talib_catalogue
from operators.ta.packed import PackedState

from .talib_parity import assert_restored_continues_bit_identically

CATALOGUE = talib_catalogue()
SNAPSHOT_AT = (0, 3, 350)
#: Functions whose fresh indicator leaves a slot unset (FRACTAL never sets ``_value``): never packed.
NOT_PACKED = {"FRACTAL"}


@pytest.mark.parametrize("snapshot_at", SNAPSHOT_AT, ids=lambda at: f"after_{at}_bars")
@pytest.mark.parametrize("function", sorted(set(CATALOGUE) - NOT_PACKED))
def test_indicator_unpacked_from_its_pickled_packed_state_continues_bit_identically(function: str,
                                                                                    snapshot_at: int) -> None:
    packer = PackedState(CATALOGUE[function]())

    def through_packed_state(original: object) -> object:
        packed = packer.pack(original)
        assert type(packed) is tuple, f"{function} did not pack"
        return packer.unpack(pickle.loads(pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)))

    assert_restored_continues_bit_identically(function, CATALOGUE[function], through_packed_state, snapshot_at)


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
