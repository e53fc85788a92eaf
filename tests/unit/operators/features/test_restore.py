"""Every feature group restored from a pickle continues to the bit as if it never stopped.

A recovery snapshot pickles each symbol's ``SymbolFeatures``; a resumed flow must emit exactly
the rows an uninterrupted one emits. Real IBM ticks are fed to a symbol's features, which are
pickled mid-way (during the warm-up, and with every window and indicator full); the original
and the restored copy then take the rest of the ticks. Every value of every row, and every
value of the group under test after every tick, must be the same double (NaN where one is NaN).
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import pytest

from operators.features.symbol import FeatureConfig, SymbolFeatures
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


def test_a_snapshot_holds_every_default_indicator_packed_flat(ibm_ticks: list[ValidTick]) -> None:
    features = _fed(ibm_ticks[:SNAPSHOT_AT[-1]])
    configured, _ = features._configured.learned()
    _, (_, minute, _) = features._indicators.__reduce__()
    assert len(configured) == len(FeatureConfig().indicators) and len(minute) == 4
    assert all(type(state) is tuple for state in [*configured, *minute])
