"""Every feature group restored from a pickle continues to the bit as if it never stopped.

A recovery snapshot pickles each symbol's ``SymbolFeatures``; a resumed flow must emit exactly
the rows an uninterrupted one emits. Real IBM ticks are fed to a symbol's features, which are
pickled mid-way (during the warm-up, and with every window and indicator full); the original
and the restored copy then take the rest of the ticks. Every value of every row, and every
value of the group under test after every tick, must be the same double (NaN where one is NaN).
"""

from __future__ import annotations

import pickle
import pickletools
import struct
from pathlib import Path

import lz4.block
import pytest

from operators.features.symbol import FeatureConfig, SymbolFeatures
from operators.ta.indicators.ewma_volatility import EwmaVolatility
from operators.ta.state import _slot_names
from operators.messages import ValidTick
from tests.unit.operators.features.ibm_tape import ibm_tape, valid_ticks

GROUPS = ("_quotes", "_bars", "_indicators", "_realized", "_liquidity", "_order_flow", "_configured")
SNAPSHOT_AT = (40, 25_000)


def _bits(values: tuple[float, ...]) -> bytes:
    """Values as raw doubles, so NaN equals NaN and 0.0 differs from -0.0."""
    return struct.pack(f"{len(values)}d", *values)


@pytest.fixture(scope="module")
def ibm_ticks(market_data: Path) -> list[ValidTick]:
    """Real IBM trades and quotes of 2013-10-07 (pre-market to early afternoon) in time order."""
    ticks = valid_ticks(ibm_tape(market_data, trade_rows=400_000, quote_rows=600_000))
    assert len(ticks) > 2 * SNAPSHOT_AT[-1]
    return ticks


def _fed(ticks: list[ValidTick]) -> SymbolFeatures:
    features = SymbolFeatures("IBM", FeatureConfig())
    for tick in ticks:
        features.update(tick)
        features.drain_returns()
    return features


@pytest.mark.parametrize("snapshot_at", SNAPSHOT_AT, ids=lambda at: f"after_{at}_ticks")
def test_symbol_features_restored_from_a_pickle_emit_the_same_rows_to_the_bit(
        ibm_ticks: list[ValidTick], snapshot_at: int) -> None:
    original = _fed(ibm_ticks[:snapshot_at])
    restored = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
    rows = 0
    for tick in ibm_ticks[snapshot_at:]:
        expected, got = original.update(tick), restored.update(tick)
        assert [(row.ts_ns, row.offset, _bits(row.values), row.quality) for row in got] == \
               [(row.ts_ns, row.offset, _bits(row.values), row.quality) for row in expected]
        assert restored.drain_returns() == original.drain_returns()
        rows += len(expected)
    assert rows > 100 and original.ready


@pytest.mark.parametrize("snapshot_at", SNAPSHOT_AT, ids=lambda at: f"after_{at}_ticks")
@pytest.mark.parametrize("group", GROUPS)
def test_feature_group_restored_from_its_own_pickle_continues_to_the_bit(
        ibm_ticks: list[ValidTick], group: str, snapshot_at: int) -> None:
    original = _fed(ibm_ticks[:snapshot_at])
    twin = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
    object.__setattr__(twin, group, pickle.loads(pickle.dumps(getattr(original, group))))
    for tick in ibm_ticks[snapshot_at:snapshot_at + 4_000]:
        original.update(tick)
        twin.update(tick)
        now = tick.tick.ts_ns
        assert _bits(getattr(twin, group).values(now)) == _bits(getattr(original, group).values(now))


def test_a_snapshot_holds_the_whole_feature_state_packed_flat(ibm_ticks: list[ValidTick]) -> None:
    """No group, window or indicator is pickled as an object: the pickle names no module of ours
    but the restoring function's and that of the last completed bars (immutable ``msgspec``
    structs, pickled in C). Each object of the tree would cost a Python call."""
    features = _fed(ibm_ticks[:SNAPSHOT_AT[-1]])
    restore, (version, packed, bar_state, closes) = features.__reduce__()
    assert type(packed) is tuple and type(bar_state) is bytes and closes is features._configured._closes
    named = {argument for opcode, argument, _ in pickletools.genops(pickle.dumps(features, protocol=5))
             if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE") and str(argument).startswith("operators.")}
    assert named == {"operators.features.symbol", "operators.features.bars"}, named
    parts = pickle.loads(lz4.block.decompress(bar_state))
    assert len(parts) == 3 and all(type(part) is tuple for part in parts)  # indicators, realized volatility: packed


def _fresh_bar_state(features: SymbolFeatures) -> bytes:
    """The bar state packed anew from the groups as they are now (what the kept one must equal)."""
    kept = features._bar_state
    features._bar_state = None
    _, (_, _, fresh, _) = features.__reduce__()
    features._bar_state = kept
    return fresh


def test_the_kept_bar_state_always_equals_the_groups_as_they_are(ibm_ticks: list[ValidTick]) -> None:
    """The bar-driven groups are pickled once per bar that changes them and kept between snapshots:
    after every tick, a kept bar state is exactly what packing them anew gives, and a restore from
    a snapshot taken after more bars continues to the bit."""
    original = _fed(ibm_ticks[:SNAPSHOT_AT[-1]])
    first = pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL)
    kept = original._bar_state
    assert kept is not None
    assert pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL) == first and original._bar_state is kept
    dropped = checked = 0
    for index, tick in enumerate(ibm_ticks[SNAPSHOT_AT[-1]:SNAPSHOT_AT[-1] + 6_000]):  # several 1-minute bars
        had = original._bar_state is not None
        original.update(tick)
        if original._bar_state is None:
            dropped += had
        else:
            assert original._bar_state == _fresh_bar_state(original)
            checked += 1
        if index % 250 == 0:
            pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL)  # a snapshot now and then, as a live run takes
    assert dropped >= 3 and checked > 1_000
    restored = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
    assert restored._bar_state == original._bar_state == _fresh_bar_state(restored)
    for tick in ibm_ticks[SNAPSHOT_AT[-1] + 6_000:SNAPSHOT_AT[-1] + 30_000]:
        expected, got = original.update(tick), restored.update(tick)
        assert [(row.offset, _bits(row.values)) for row in got] == [(row.offset, _bits(row.values)) for row in expected]
    stale = pickle.loads(first)  # the first snapshot restores as it was then, whatever was kept since
    assert _bits(stale._indicators.values(0)) != _bits(original._indicators.values(0))
    assert _bits(stale._realized.values(0)) != _bits(original._realized.values(0))


class _OtherVolatility(EwmaVolatility):
    """Another class than the prototype's in one place of the tree: the pack declines."""

    __slots__ = ()


def test_a_feature_state_not_shaped_like_its_prototype_is_pickled_slot_by_slot(ibm_ticks: list[ValidTick]) -> None:
    """Where the pack declines, every slot is pickled as it is, and the copy still carries on to the bit."""
    original = _fed(ibm_ticks[:SNAPSHOT_AT[-1]])
    volatility = original._bars._minute_volatility
    other = _OtherVolatility.__new__(_OtherVolatility)
    for slot in _slot_names(EwmaVolatility):
        setattr(other, slot, getattr(volatility, slot))
    original._bars._minute_volatility = other
    _, (_, packed, _, _) = original.__reduce__()
    assert type(packed) is dict and "_bars" in packed
    restored = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(restored._bars._minute_volatility) is _OtherVolatility
    for tick in ibm_ticks[SNAPSHOT_AT[-1]:SNAPSHOT_AT[-1] + 4_000]:
        expected, got = original.update(tick), restored.update(tick)
        assert [(row.offset, _bits(row.values)) for row in got] == [(row.offset, _bits(row.values)) for row in expected]
