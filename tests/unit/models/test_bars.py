"""Bar models: labels read only later sessions, the held-out years never reach a fit, models round-trip."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.bars import BarModels, train_bar_models
from models.bars import train as train_module
from models.bars.history import feature_frame
from models.bars.regime import RegimeTask
from models.bars.splits import EMBARGO_DAYS, future, label_days, year_folds
from models.bars.train import default_tasks, development_rows, parse_day
from models.bars.trend import TrendTask
from models.bars.volatility import VolatilityTask
from operators.features.long_horizon import FEATURE_NAMES

HELD_OUT_FROM = "2019-01-01"
SYMBOLS = ("IBM", "SPY")
FIRST_YEAR = "2011-01-01"


def _subset(source: Path, target: Path, time_column: str, corrupt: bool) -> Path:
    frame = pd.read_csv(source, dtype={"symbol": "str"})
    frame = frame[frame["symbol"].isin(SYMBOLS)]
    time = pd.to_datetime(frame[time_column]) if time_column == "date" else pd.to_datetime(frame[time_column], unit="ns")
    frame = frame[time >= FIRST_YEAR]
    if corrupt:  # the held-out years become noise: no fitted coefficient may move
        later = (time[frame.index] >= HELD_OUT_FROM).to_numpy()
        noise = np.random.default_rng(3).uniform(0.5, 1.5, later.sum())
        for column in ("open", "high", "low", "close"):
            frame.loc[later, column] = frame.loc[later, column] * noise
        frame.loc[later, "high"] = frame.loc[later, ["open", "high", "low", "close"]].max(axis=1)
        frame.loc[later, "low"] = frame.loc[later, ["open", "high", "low", "close"]].min(axis=1)
    frame.to_csv(target, index=False)
    return target


def _train(market_data: Path, out: Path, corrupt: bool) -> dict:
    bars = market_data / "bars"
    out.mkdir()
    hourly = _subset(bars / "bars_hourly_us_equities_1998_2021.csv.gz", out / "hourly.csv.gz", "ts_ns", corrupt)
    daily = _subset(bars / "bars_daily_us_equities_1998_2021.csv.gz", out / "daily.csv.gz", "date", corrupt)
    section = train_bar_models(hourly, daily, out / "models", held_out_from=HELD_OUT_FROM, first_test_year=2016,
                               samples=20)
    return {"section": section, "hourly": hourly, "out": out / "models"}


@pytest.fixture(scope="module")
def trained(market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _train(market_data, tmp_path_factory.mktemp("bars") / "clean", corrupt=False)


def test_labels_read_the_next_sessions_of_the_same_symbol_only() -> None:
    frame = pd.DataFrame({"symbol": ["A", "A", "A", "B", "B"], "day": [1, 2, 5, 1, 3], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    assert np.array_equal(future(frame, "x", 1), [2.0, 3.0, np.nan, 5.0, np.nan], equal_nan=True)
    assert label_days(frame, 1)[:3].tolist()[:2] == [2, 5] and label_days(frame, 1)[3] == 3
    assert label_days(frame, 1)[2] > 10**15  # past the end: never a development row


def test_features_of_a_session_do_not_change_when_later_bars_are_cut(market_data: Path, tmp_path: Path) -> None:
    hourly = market_data / "bars" / "bars_hourly_us_equities_1998_2021.csv.gz"
    whole = feature_frame(hourly, "hour", symbols=frozenset({"BAC"}))
    cut_day = int(whole["day"].iloc[3000])
    source = pd.read_csv(hourly, dtype={"symbol": "str"})
    source = source[(source["symbol"] == "BAC")]
    local = pd.to_datetime(source["ts_ns"], unit="ns", utc=True).dt.tz_convert("America/New_York").dt.date
    source[np.array([d.toordinal() for d in local]) <= cut_day].to_csv(tmp_path / "cut.csv", index=False)
    cut = feature_frame(tmp_path / "cut.csv", "hour")
    assert int(cut["day"].iloc[-1]) == cut_day
    np.testing.assert_array_equal(cut[list(FEATURE_NAMES)].to_numpy(), whole[list(FEATURE_NAMES)].to_numpy()[:len(cut)])


def test_every_target_is_a_later_value_of_the_same_symbol(trained: dict) -> None:
    frame = feature_frame(trained["hourly"], "hour")
    rows = VolatilityTask().rows(frame)
    assert (rows["label_day"] > rows["day"]).all()
    lookup = frame.set_index(["symbol", "day"])["log_rv_d"]
    assert np.array_equal(rows["target"].to_numpy(), lookup.loc[list(zip(rows["symbol"], rows["label_day"], strict=True))].to_numpy())


def test_development_rows_drop_labels_inside_the_embargo_and_refuse_a_leaky_mask(
        monkeypatch: pytest.MonkeyPatch) -> None:
    start = dt.date(2019, 1, 1).toordinal()
    rows = pd.DataFrame({"symbol": "X", "day": [start - 30, start - 10], "label_day": [start - 29, start - 9]})
    assert development_rows(rows, start)["day"].tolist() == [start - 30]
    monkeypatch.setattr(train_module, "development_mask", lambda frame, held_out_from: np.ones(len(frame), dtype=bool))
    with pytest.raises(AssertionError, match="embargo"):
        train_module.development_rows(rows, start)


def test_walk_forward_folds_train_only_on_labels_before_the_test_year() -> None:
    days = np.array([dt.date(y, m, 15).toordinal() for y in range(2000, 2006) for m in range(1, 13)])
    frame = pd.DataFrame({"symbol": "X", "day": days, "label_day": days + 5})
    for fold in year_folds(frame, np.ones(len(frame), dtype=bool), 2003):
        start = dt.date(fold.year, 1, 1).toordinal()
        assert frame["label_day"].to_numpy()[fold.train].max() < start - EMBARGO_DAYS
        assert {dt.date.fromordinal(int(d)).year for d in days[fold.test]} == {fold.year}


def test_held_out_years_never_reach_a_fitted_model(trained: dict, market_data: Path,
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    corrupted = _train(market_data, tmp_path_factory.mktemp("bars") / "corrupted", corrupt=True)
    for name, model in trained["section"]["models"].items():
        clean = (trained["out"] / model["file"]).read_text()
        assert clean == (corrupted["out"] / model["file"]).read_text(), name
    assert trained["section"]["skill"] != corrupted["section"]["skill"]  # the held-out scores did see the noise


def test_loaded_models_predict_what_the_fitted_ones_do(trained: dict) -> None:
    section = json.loads(json.dumps(trained["section"]))
    models = BarModels.load(trained["out"], section)
    frame = feature_frame(trained["hourly"], "hour")
    start = parse_day(HELD_OUT_FROM)
    predictions = models.predict(frame[section["feature_names"]].to_numpy(), frame["symbol"].tolist())
    for task, key in ((VolatilityTask(), "volatility_log_rv"), (RegimeTask(), "regime_5d")):
        development = development_rows(task.rows(frame), start)
        fitted = task.fit(development, section["models"][task.name]["selected"])
        expected = fitted.log_variance(frame)[0] if key == "volatility_log_rv" else fitted.probabilities(frame)
        np.testing.assert_allclose(predictions[key], expected, rtol=1e-12, equal_nan=True)
    assert np.nanmax(np.abs(predictions["regime_5d"].sum(axis=1) - 1.0)) < 1e-12
    assert np.isnan(predictions["volatility_log_rv"][0])  # the first session is still warming up
    assert ((predictions["trend_1d_up"] > 0) & (predictions["trend_1d_up"] < 1))[-100:].all()


def test_skill_has_a_row_per_model_symbol_and_metric(trained: dict) -> None:
    keys = {(row["model"], row["symbol"], row["metric"]) for row in trained["section"]["skill"]}
    for task in default_tasks():
        symbols = (*SYMBOLS, "ALL")
        assert {(task.name, s, m) for s in symbols for m in task.metrics} <= keys
    assert TrendTask(5).name in trained["section"]["models"]


def test_bad_held_out_date_is_one_sentence() -> None:
    with pytest.raises(ValueError, match="held_out_from must be a date YYYY-MM-DD, got '2019-13-01'"):
        parse_day("2019-13-01")
