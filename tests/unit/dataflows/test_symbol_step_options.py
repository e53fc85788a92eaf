"""The per-symbol step with TICKWISE_OPTIONS_JOIN: a real TWX quarter hour (LEAN minute files) through
``SymbolLogic``: the rows carry the chain's features as of the last minute closed before them, the
underlying's own features are those of a run without options, and a restore continues identically."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import msgspec
import numpy as np
import pytest

from dataflows.option_steps import ChainConfigSource, without_options
from dataflows.optionfiles import read_option_day
from dataflows.symbol_step import SymbolLogic, SymbolLogicBuilder
from operators.features.symbol import FeatureConfig
from operators.ingest.clock import EventTimeConfig
from operators.messages import FeatureRow, TickBatch, ValidTick
from operators.options.join import OPTION_FEATURE_SET, OPTION_ROW_FEATURES
from operators.options.minute import MinuteChainLogic
from operators.options.surface import FEATURES
from tests.unit.dataflows.comparable import comparable

LEAN = Path(__file__).resolve().parents[4] / "shared" / "data" / "options" / "lean"
OPEN = int(dt.datetime(2014, 6, 5, 13, 30, tzinfo=dt.timezone.utc).timestamp()) * 10**9
SOURCE = ChainConfigSource(LEAN / "interest-rate.csv")


@pytest.fixture(scope="module")
def batches() -> list[TickBatch]:
    """TWX's messages of 10:00-10:30 New York, ten per batch, with their offsets."""
    if not LEAN.exists():
        pytest.skip("the shared LEAN options data is not on this machine")
    window = (OPEN + 30 * 60 * 10**9, OPEN + 60 * 60 * 10**9)
    messages = [m for m in read_option_day(LEAN, "TWX", dt.date(2014, 6, 5)).messages if window[0] < m.ts_ns <= window[1]]
    ticks = [ValidTick(message, "ticks", 0, offset) for offset, message in enumerate(messages)]
    return [TickBatch("TWX", ticks[i:i + 10]) for i in range(0, len(ticks), 10)]


def build(options: bool = True, state: bytes | None = None) -> SymbolLogic:
    return SymbolLogicBuilder(EventTimeConfig(confirmations=1), FeatureConfig(),
                              options=SOURCE if options else None)(state)


def run(logic: SymbolLogic, batches: list[TickBatch]) -> list[object]:
    return [item for batch in batches for item in logic.on_item(batch)[0]] + list(logic.on_eof()[0])


def rows(items: list[object]) -> list[FeatureRow]:
    return [item for item in items if type(item) is FeatureRow]


def test_rows_carry_the_chain_features_of_the_last_minute_closed_before_them(batches) -> None:
    joined = rows(run(build(), batches))
    full = MinuteChainLogic("TWX", SOURCE())
    minutes = {m.ts_ns: m.features for batch in batches for tick in batch.ticks for m in full.on_message(tick.tick)}
    with_features = [row for row in joined if math.isfinite(row.get("opt_age_s"))]
    assert joined and len(with_features) >= len(joined) - 2
    for row in joined:
        assert row.names[-len(OPTION_ROW_FEATURES):] == OPTION_ROW_FEATURES
        assert row.feature_set.endswith(OPTION_FEATURE_SET)
    for row in with_features:
        minute_ns = row.ts_ns - round(row.get("opt_age_s") * 1e9)
        assert [m for m in minutes if minute_ns < m < row.ts_ns] == []
        np.testing.assert_array_equal([row.get(f"opt_{name}") for name in FEATURES],
                                      [minutes[minute_ns][name] for name in FEATURES])
    assert any(0.05 < row.get("opt_atm_iv") < 1 for row in with_features)


def test_the_underlyings_own_features_are_those_of_a_run_without_options(batches) -> None:
    joined = rows(run(build(), batches))
    alone = rows(run(build(options=False), [b for b in map(without_options, batches) if b is not None]))
    width = len(OPTION_ROW_FEATURES)
    assert [(r.ts_ns, r.offset) for r in joined] == [(r.ts_ns, r.offset) for r in alone]
    assert [r.names[:-width] for r in joined] == [r.names for r in alone]
    assert comparable([msgspec.structs.replace(r, names=r.names[:-width], values=r.values[:-width], quality=r.quality[:-width],
                                          feature_set=r.feature_set.removesuffix(OPTION_FEATURE_SET)) for r in joined]) \
        == comparable(alone)


def test_option_messages_are_not_reemitted_with_the_admitted_ticks(batches) -> None:
    admitted = [tick for item in run(build(), batches) if type(item) is TickBatch for tick in item.ticks]
    assert admitted and all(type(tick.tick).__name__ in ("Quote", "Trade") for tick in admitted)


@pytest.mark.parametrize("cut", [1, 17, 40])
def test_a_restore_mid_stream_continues_identically(batches, cut: int) -> None:
    straight = run(build(), batches)
    first = build()
    head = [item for batch in batches[:cut] for item in first.on_item(batch)[0]]
    resumed = build(state=first.snapshot())
    tail = run(resumed, batches[cut:])
    assert comparable(head + tail) == comparable(straight)
