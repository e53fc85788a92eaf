from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.labels import LABEL_COLUMNS, SECOND_NS, Horizons, make_labels

from .builders import TEST_HORIZONS, synthetic_frame

FUTURE_ONLY = ("future_return_short", "future_return_long", "future_volatility", "direction", "trend")
PAST_ONLY = ("past_return_short", "past_return_long", "past_volatility")
SPARSE = Horizons(  # rows a minute apart are not a session gap here
    short_ns=60 * SECOND_NS, long_ns=120 * SECOND_NS, volatility_ns=60 * SECOND_NS,
    tolerance_ns=5 * SECOND_NS, max_gap_ns=100 * SECOND_NS,
)


def _labels_at(frame: pd.DataFrame, index: list[int]) -> pd.DataFrame:
    return make_labels(frame, TEST_HORIZONS).loc[index]


@pytest.fixture(scope="module")
def small_frame() -> pd.DataFrame:
    return synthetic_frame(seed=3, seconds=1200, symbols=("AAA", "BBB"))


def _probe_rows(frame: pd.DataFrame) -> list[int]:
    return [int(i) for i in frame.index[frame["symbol"] == "AAA"][[300, 500, 700]]]


def test_future_labels_when_every_row_before_t_and_every_feature_at_t_is_corrupted_then_unchanged(small_frame):
    rng = np.random.default_rng(0)
    for row in _probe_rows(small_frame):
        t = small_frame.at[row, "ts_ns"]
        corrupted = small_frame.copy()
        before = corrupted["ts_ns"] < t  # every symbol
        corrupted.loc[before, "price"] = rng.uniform(1, 1000, before.sum())
        feature_columns = [c for c in corrupted.columns if c not in ("symbol", "ts_ns", "price")]
        corrupted.loc[corrupted["ts_ns"] <= t, feature_columns] = rng.standard_normal((int((corrupted["ts_ns"] <= t).sum()), len(feature_columns)))
        pd.testing.assert_frame_equal(
            _labels_at(small_frame, [row])[list(FUTURE_ONLY)], _labels_at(corrupted, [row])[list(FUTURE_ONLY)]
        )


def test_past_labels_when_every_row_after_t_is_corrupted_then_unchanged(small_frame):
    rng = np.random.default_rng(1)
    for row in _probe_rows(small_frame):
        corrupted = small_frame.copy()
        after = corrupted["ts_ns"] > small_frame.at[row, "ts_ns"]
        corrupted.loc[after, "price"] = rng.uniform(1, 1000, after.sum())
        pd.testing.assert_frame_equal(
            _labels_at(small_frame, [row])[list(PAST_ONLY)], _labels_at(corrupted, [row])[list(PAST_ONLY)]
        )


def test_labels_when_rows_beyond_horizon_plus_tolerance_are_corrupted_then_unchanged(small_frame):
    row = _probe_rows(small_frame)[1]
    t = small_frame.at[row, "ts_ns"]
    reach = TEST_HORIZONS.longest_ns
    corrupted = small_frame.copy()
    far = (corrupted["ts_ns"] > t + reach) | (corrupted["ts_ns"] < t - reach)
    corrupted.loc[far, "price"] = 1.0
    pd.testing.assert_frame_equal(_labels_at(small_frame, [row]), _labels_at(corrupted, [row]))


def test_future_return_reads_the_first_row_at_or_after_t_plus_horizon():
    ts = np.array([0, 40, 59, 60, 61, 120], dtype=np.int64) * SECOND_NS
    frame = pd.DataFrame({"symbol": "IBM", "ts_ns": ts, "price": [100.0, 101.0, 102.0, 103.0, 104.0, 105.0]})
    labels = make_labels(frame, SPARSE)
    assert labels.at[0, "future_return_short"] == pytest.approx(np.log(103.0 / 100.0))
    assert labels.at[2, "future_return_short"] == pytest.approx(np.log(105.0 / 102.0))  # 119 s: none; 120 s is next
    assert labels.at[3, "past_return_short"] == pytest.approx(np.log(103.0 / 100.0))


def test_future_return_when_first_row_after_horizon_is_beyond_tolerance_then_nan():
    ts = np.array([0, 20, 40, 60 + 6, 80], dtype=np.int64) * SECOND_NS  # tolerance is 5 s
    frame = pd.DataFrame({"symbol": "IBM", "ts_ns": ts, "price": [100.0, 101.0, 102.0, 103.0, 104.0]})
    labels = make_labels(frame, TEST_HORIZONS)
    assert np.isnan(labels.at[0, "future_return_short"])
    assert labels.at[1, "future_return_short"] == pytest.approx(np.log(104.0 / 101.0))


def test_labels_when_window_spans_a_session_gap_then_nan():
    seconds = np.r_[np.arange(0, 100), np.arange(140, 300)]  # 40 s gap > max_gap 30 s
    frame = pd.DataFrame(
        {"symbol": "IBM", "ts_ns": seconds * SECOND_NS, "price": 100 * np.exp(np.linspace(0, 0.01, len(seconds)))}
    )
    horizons = Horizons(
        short_ns=60 * SECOND_NS, long_ns=60 * SECOND_NS, volatility_ns=60 * SECOND_NS,
        tolerance_ns=60 * SECOND_NS, max_gap_ns=30 * SECOND_NS,
    )
    labels = make_labels(frame, horizons).set_index(seconds)
    assert labels.loc[39, "future_return_short"] > 0  # closes at 99 s, before the gap
    assert labels.loc[[40, 70, 99], ["future_return_short", "future_volatility", "direction"]].isna().all().all()
    assert labels.loc[[140, 199], "past_return_short"].isna().all()
    assert labels.loc[200, "past_return_short"] > 0


def test_labels_never_mix_symbols():
    ts = np.array([0, 60, 0, 60], dtype=np.int64) * SECOND_NS
    frame = pd.DataFrame({"symbol": ["A", "A", "B", "B"], "ts_ns": ts, "price": [10.0, 11.0, 50.0, 40.0]})
    labels = make_labels(frame.iloc[[0, 2, 1, 3]], SPARSE)
    assert labels.loc[0, "direction"] == 1.0
    assert labels.loc[2, "direction"] == 0.0


def test_direction_and_trend_when_return_is_exactly_zero_then_no_label():
    ts = np.array([0, 60, 120], dtype=np.int64) * SECOND_NS
    frame = pd.DataFrame({"symbol": "BAC", "ts_ns": ts, "price": [14.0, 14.0, 14.0]})
    labels = make_labels(frame, SPARSE)
    assert np.isnan(labels.at[0, "direction"]) and np.isnan(labels.at[0, "trend"])


def test_mean_reversion_is_one_when_future_return_opposes_past_return():
    ts = np.arange(0, 121, 60, dtype=np.int64) * SECOND_NS
    up_then_down = pd.DataFrame({"symbol": "X", "ts_ns": ts, "price": [100.0, 101.0, 100.5]})
    up_then_up = up_then_down.assign(price=[100.0, 101.0, 102.0])
    assert make_labels(up_then_down, SPARSE).at[1, "mean_reversion"] == 1.0
    assert make_labels(up_then_up, SPARSE).at[1, "mean_reversion"] == 0.0


def test_future_volatility_is_std_of_one_second_returns_over_the_window():
    rng = np.random.default_rng(5)
    returns = rng.normal(0, 1e-3, 200)
    frame = pd.DataFrame(
        {"symbol": "X", "ts_ns": np.arange(201, dtype=np.int64) * SECOND_NS, "price": 50 * np.exp(np.r_[0, np.cumsum(returns)])}
    )
    labels = make_labels(frame, TEST_HORIZONS)
    assert labels.at[10, "future_volatility"] == pytest.approx(returns[10:70].std(), rel=1e-9)
    assert labels.at[70, "past_volatility"] == pytest.approx(returns[10:70].std(), rel=1e-9)


def test_make_labels_keeps_index_and_columns(small_frame):
    shuffled = small_frame.sample(frac=1.0, random_state=2)
    labels = make_labels(shuffled, TEST_HORIZONS)
    assert list(labels.columns) == list(LABEL_COLUMNS)
    pd.testing.assert_frame_equal(labels.sort_index(), make_labels(small_frame, TEST_HORIZONS))


def test_make_labels_when_symbol_and_ts_repeat_then_raises():
    frame = pd.DataFrame({"symbol": "X", "ts_ns": [0, 0], "price": [1.0, 1.0]})
    with pytest.raises(ValueError, match="deduplicate"):
        make_labels(frame, TEST_HORIZONS)


def test_horizons_when_not_positive_then_raises():
    with pytest.raises(ValueError, match="short_ns"):
        Horizons(short_ns=0)
