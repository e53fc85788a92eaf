import datetime as dt
import pickle

import numpy as np
import pytest

from dataflows.optionfiles import read_interest_rates, read_option_day
from operators.messages import Quote
from operators.options import OptionQuote, contract
from operators.options.chain import ChainConfig
from operators.options.minute import MinuteChainLogic
from operators.options.rates import RateCurve
from tests.unit.operators.options.conftest import LEAN

NY_OPEN = int(dt.datetime(2014, 6, 5, 13, 30, tzinfo=dt.timezone.utc).timestamp()) * 10**9


@pytest.fixture(scope="module")
def twx_messages():
    if not LEAN.exists():
        pytest.skip("shared LEAN option data not present")
    window = (NY_OPEN + 60 * 60 * 10**9, NY_OPEN + 75 * 60 * 10**9)  # 10:30-10:45 New York
    day = read_option_day(LEAN, "TWX", dt.date(2014, 6, 5))
    return [m for m in day.messages if window[0] < m.ts_ns <= window[1]], read_interest_rates(LEAN / "interest-rate.csv")


def test_each_minute_of_a_real_twx_quarter_hour_closes_once_with_rows_for_the_sinks(twx_messages):
    messages, rates = twx_messages
    logic = MinuteChainLogic("TWX", ChainConfig(rates))
    minutes = [minute for message in messages for minute in logic.on_message(message)] + logic.flush()
    assert [m.ts_ns for m in minutes] == sorted({-(-m.ts_ns // 60_000_000_000) * 60_000_000_000 for m in messages})
    last = minutes[-1]
    assert {row["symbol"] for row in last.contracts} >= {"TWX   140621C00070000", "TWX   140621P00070000"}
    solved = [row for row in last.contracts if row["reason"] == "ok"]
    assert solved and all(0.05 < row["iv"] < 2 for row in solved)
    assert all(np.isnan(row["iv"]) for row in last.contracts if row["reason"] != "ok")
    assert sum(last.reason_counts.values()) == len(last.contracts)
    assert [row["expiry"] for row in last.expiries] == sorted(row["expiry"] for row in last.expiries)
    assert 0.1 < last.features["atm_iv"] < 0.5


def test_a_message_on_the_boundary_belongs_to_the_minute_it_ends(twx_messages):
    _, rates = twx_messages
    logic = MinuteChainLogic("TWX", ChainConfig(rates))
    assert logic.on_message(Quote("TWX", NY_OPEN + 60 * 10**9, 70.0, 70.1, 1, 1)) == []
    [closed] = logic.on_message(Quote("TWX", NY_OPEN + 60 * 10**9 + 1, 71.0, 71.1, 1, 1))
    assert closed.ts_ns == NY_OPEN + 60 * 10**9 and logic.chain.spot == pytest.approx(71.05)


def test_state_survives_a_pickle_round_trip_mid_stream(twx_messages):
    messages, rates = twx_messages
    half = len(messages) // 2
    straight = MinuteChainLogic("TWX", ChainConfig(rates))
    for message in messages:
        straight.on_message(message)
    resumed = MinuteChainLogic("TWX", ChainConfig(rates))
    for message in messages[:half]:
        resumed.on_message(message)
    resumed = pickle.loads(pickle.dumps(resumed))
    for message in messages[half:]:
        resumed.on_message(message)
    [a], [b] = straight.flush(), resumed.flush()
    assert len(a.contracts) == len(b.contracts) > 100
    for x, y in zip(a.contracts, b.contracts):
        assert all(x[k] == y[k] or (np.isnan(x[k]) and np.isnan(y[k])) for k in x)
    assert a.features == pytest.approx(b.features, nan_ok=True)


def test_a_day_before_the_rate_curve_gives_no_rate_instead_of_failing():
    logic = MinuteChainLogic("ABC", ChainConfig(RateCurve([(dt.date(2030, 1, 1), 1.0)])))
    option = contract("ABC", dt.date(2020, 3, 20), 100.0, "C")
    logic.on_message(Quote("ABC", NY_OPEN, 99.9, 100.1, 1, 1))
    logic.on_message(OptionQuote(option, NY_OPEN, 2.0, 2.2, 1, 1))
    [minute] = logic.flush()
    assert minute.reason_counts == {"no_rate": 1}


def test_features_only_minutes_carry_the_same_features_as_full_ones_and_no_rows(twx_messages):
    messages, rates = twx_messages
    full, light = MinuteChainLogic("TWX", ChainConfig(rates)), MinuteChainLogic("TWX", ChainConfig(rates), rows=False)
    full_minutes = [m for message in messages for m in full.on_message(message)] + full.flush()
    light_minutes = [m for message in messages for m in light.on_message(message)] + light.flush()
    assert [m.ts_ns for m in light_minutes] == [m.ts_ns for m in full_minutes]
    assert all(m.contracts == [] and m.expiries == [] for m in light_minutes)
    assert all(m.features.keys() == f.features.keys() for m, f in zip(light_minutes, full_minutes))
    np.testing.assert_array_equal([list(m.features.values()) for m in light_minutes],
                                  [list(m.features.values()) for m in full_minutes])  # NaN where NaN
    assert any(np.isfinite(m.features["atm_iv"]) for m in light_minutes)
