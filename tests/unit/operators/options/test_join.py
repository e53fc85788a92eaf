"""OptionJoin on a real TWX morning: as-of the last closed minute, never later, and restorable."""

import datetime as dt
import pickle

import numpy as np
import pytest

from dataflows.optionfiles import read_interest_rates, read_option_day
from operators.messages import FeatureRow, Quote, Trade
from operators.options.chain import ChainConfig
from operators.options.join import OPTION_FEATURE_SET, OPTION_ROW_FEATURES, OptionJoin
from operators.options.minute import MinuteChainLogic
from operators.options.surface import FEATURES
from tests.unit.operators.options.conftest import LEAN

OPEN = int(dt.datetime(2014, 6, 5, 13, 30, tzinfo=dt.timezone.utc).timestamp()) * 10**9


@pytest.fixture(scope="module")
def morning():
    if not LEAN.exists():
        pytest.skip("shared LEAN option data not present")
    day = read_option_day(LEAN, "TWX", dt.date(2014, 6, 5))
    until = OPEN + 40 * 60 * 10**9
    return [m for m in day.messages if m.ts_ns <= until], ChainConfig(read_interest_rates(LEAN / "interest-rate.csv"))


def joined_rows(join: OptionJoin, messages, config: ChainConfig | None = None, start: int = 0) -> list[FeatureRow]:
    """A feature row at every underlying tick, after the tick went to the join (as the feature step does)."""
    rows = []
    for offset, message in enumerate(messages, start):
        join.update(message, lambda: config, offset)
        if type(message) in (Quote, Trade):
            rows.append(join.extend(FeatureRow("TWX", message.ts_ns, 0, 0, 70.0, ("x",), (1.0,), "v1", (0,))))
    return rows


def test_each_row_carries_the_features_of_the_last_minute_closed_at_or_before_it(morning):
    messages, config = morning
    rows = joined_rows(OptionJoin("TWX"), messages, config)
    full = MinuteChainLogic("TWX", config)
    minutes = {m.ts_ns: m.features for message in messages for m in full.on_message(message)}
    assert len(minutes) >= 30
    checked = 0
    for row in rows:
        assert row.names == ("x", *OPTION_ROW_FEATURES) and row.feature_set == "v1" + OPTION_FEATURE_SET
        age = row.get("opt_age_s")
        if np.isnan(age):  # only before the chain's first minute with quotes
            assert row.quality[1:] == (1,) * len(OPTION_ROW_FEATURES) and checked == 0
            continue
        minute_ns = row.ts_ns - round(age * 1e9)
        assert minute_ns <= row.ts_ns and minute_ns in minutes  # never a minute that had not ended
        # and the latest one that had (a minute ending at the row itself closes with the next message)
        assert [m for m in minutes if minute_ns < m < row.ts_ns] == []
        np.testing.assert_array_equal([row.get(f"opt_{name}") for name in FEATURES],
                                      [minutes[minute_ns][name] for name in FEATURES])
        checked += 1
    assert checked > 0.8 * len(rows)
    assert any(np.isfinite(row.get("opt_atm_iv")) for row in rows)


def test_a_join_restored_mid_stream_continues_like_one_that_never_stopped(morning):
    messages, config = morning
    straight = joined_rows(OptionJoin("TWX"), messages, config)
    half = len(messages) // 2
    join = OptionJoin("TWX")
    first = joined_rows(join, messages[:half], config)
    resumed = joined_rows(pickle.loads(pickle.dumps(join)), messages[half:], config, half)
    before = pickle.dumps(join)
    joined_rows(join, messages[half - 50:half], config, half - 50)  # redelivered: skipped by offset
    assert pickle.dumps(join) == before
    assert pickle.dumps(first + resumed) == pickle.dumps(straight)


def test_a_symbol_without_option_messages_keeps_no_chain_and_gets_missing_features():
    join = OptionJoin("IBM")
    rows = joined_rows(join, [Quote("IBM", OPEN + i * 10**9, 180.0, 180.1, 1, 1) for i in range(200)])  # no config needed
    assert join.logic is None
    assert all(np.isnan(row.values[1:]).all() and row.quality[1:] == (1,) * len(OPTION_ROW_FEATURES) for row in rows)
