"""Indicators pickle flat (``operators.ta.state``): what a snapshot of them holds, and that it restores exactly.

The bit-identical continuation of every catalogue function is ``test_restore.py``; these tests
pin the shape that makes a snapshot cheap: four globals (the reconstructors of indicators, of
float and candle ring buffers and of rolling extremes) for any number of indicator classes, no
``deque`` or candle class in the pickle, and slots that were never set stay unset.
"""

from __future__ import annotations

import copy
import pickle
import pickletools
import struct

from operators.features.feature_set import DEFAULT_INDICATORS
from operators.ta.candles.candle import Candle
from operators.ta.indicators.catalogue import indicator_class
from operators.ta.state import FlatState

from .talib_parity import real_bars


def _default_indicators_after(bars: int) -> list:
    """The default feature set's indicators (and the classic four) fed ``bars`` real bars."""
    data = real_bars("spy_hourly")
    indicators = [indicator_class(spec.function)(**spec.parameters) for spec in DEFAULT_INDICATORS]
    indicators += [indicator_class(name)() for name in ("RSI", "BBANDS", "ATR", "MACD")]
    for index in range(bars):
        fields = {name: float(data[name][index]) for name in ("open", "high", "low", "close", "volume")}
        for indicator in indicators:
            indicator.update(*[fields[name] for name in indicator.inputs])
    return indicators


def _globals(snapshot: bytes) -> list[str]:
    """The globals a pickle names (protocol 4+: the two strings before each STACK_GLOBAL)."""
    strings, names = [], []
    for opcode, argument, _ in pickletools.genops(snapshot):
        if "UNICODE" in opcode.name:
            strings.append(argument)
        elif opcode.name == "STACK_GLOBAL":
            names.append(".".join(strings[-2:]))
    return names


def test_snapshot_of_the_default_indicators_names_four_reconstructors_and_no_class() -> None:
    snapshot = pickle.dumps(_default_indicators_after(120), protocol=pickle.HIGHEST_PROTOCOL)
    assert sorted(_globals(snapshot)) == ["operators.ta.candles.window._restore_candle_ring",
                                          "operators.ta.indicators.momentum.rolling_window._restore_arg_extreme",
                                          "operators.ta.ring._restore_ring", "operators.ta.state.restore"]


def test_restored_default_indicators_continue_bit_identically() -> None:
    indicators = _default_indicators_after(120)
    restored = pickle.loads(pickle.dumps(indicators, protocol=pickle.HIGHEST_PROTOCOL))
    data = real_bars("spy_hourly")
    for index in range(120, 400):
        fields = {name: float(data[name][index]) for name in ("open", "high", "low", "close", "volume")}
        for original, copy_ in zip(indicators, restored):
            inputs = [fields[name] for name in original.inputs]
            original.update(*inputs)
            copy_.update(*inputs)
            assert type(copy_) is type(original)
            assert struct.pack(f"{len(original.values)}d", *original.values) == \
                struct.pack(f"{len(copy_.values)}d", *copy_.values), f"{type(original).__name__} at bar {index}"


def test_a_candle_window_comes_back_as_the_same_candles() -> None:
    hammer = indicator_class("CDLHAMMER")()
    for price in (10.0, 11.0, 12.0):
        hammer.update(price, price + 1.0, price - 1.0, price + 0.5)
    restored = pickle.loads(pickle.dumps(hammer))
    assert list(restored._candles) == list(hammer._candles)
    assert type(restored._candles[-1]) is Candle and restored._candles.maxlen == hammer._candles.maxlen


def test_a_slot_never_set_stays_unset_after_a_restore() -> None:
    class Partly(FlatState):
        __slots__ = ("set_", "never")

        def __init__(self) -> None:
            self.set_ = 1.5

    restored = pickle.loads(pickle.dumps(Partly()))
    assert restored.set_ == 1.5 and not hasattr(restored, "never")


def test_a_deep_copy_continues_on_its_own() -> None:
    original = _default_indicators_after(60)[0]
    before = original.values
    duplicate = copy.deepcopy(original)
    assert duplicate.values == before
    duplicate.update(500.0, 400.0, 450.0)
    assert original.values == before and duplicate.values != before
