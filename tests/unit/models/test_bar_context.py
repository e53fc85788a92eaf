"""The bar context: a tick sees the bar models' view of the last session that closed before it, never later."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.bars import BarModels
from models.bars.context import ANSWER, CONTEXT_FILE, OUTPUTS, BarContext, build_context, main, write_context
from models.bars.history import feature_frame
from models.ensemble import Ensemble
from models.manifest import ManifestError, read_manifest
from models.registry import DEFAULT_MODEL_DIR
from operators.features.long_horizon import FEATURE_NAMES

SYMBOLS = frozenset({"IBM", "SPY"})
HOURLY = "bars_hourly_us_equities_1998_2021.csv.gz"
DAILY = "bars_daily_us_equities_1998_2021.csv.gz"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return read_manifest(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="module")
def table(market_data: Path, manifest: dict) -> pd.DataFrame:
    bars = market_data / "bars"
    return build_context(bars / HOURLY, bars / DAILY, DEFAULT_MODEL_DIR, manifest, symbols=SYMBOLS)


def test_a_tick_sees_the_last_session_closed_at_or_before_it_and_never_a_later_one(table: pd.DataFrame,
                                                                                   manifest: dict) -> None:
    context = BarContext.from_table(table, manifest["version"])
    ibm = table[table["symbol"] == "IBM"].reset_index(drop=True)
    as_of = ibm["as_of_ns"].to_numpy()
    assert (np.diff(as_of) > 0).all()
    at_close = context.lookup(["IBM"] * len(ibm), as_of)
    just_before = context.lookup(["IBM"] * len(ibm), as_of - 1)
    np.testing.assert_array_equal(at_close["bar_as_of_ns"], as_of.astype(np.float64))
    np.testing.assert_array_equal(just_before["bar_as_of_ns"][1:], as_of[:-1].astype(np.float64))
    assert np.isnan(just_before["bar_as_of_ns"][0])  # before the first session: nothing known
    np.testing.assert_array_equal(at_close["bar_volatility_1d"], ibm["bar_volatility_1d"].to_numpy())


def test_rows_are_the_bar_models_forecasts_of_the_live_operator_features(table: pd.DataFrame, manifest: dict,
                                                                        market_data: Path) -> None:
    models = BarModels.load(DEFAULT_MODEL_DIR / manifest["bars"]["dir"], manifest["bars"])
    hour = feature_frame(market_data / "bars" / HOURLY, "hour", symbols=frozenset({"IBM"}))
    predicted = models.predict(hour[list(FEATURE_NAMES)].to_numpy(), hour["symbol"].tolist())
    ibm = table[table["symbol"] == "IBM"].set_index("day")
    by_day = ibm.loc[hour["day"].to_numpy()]
    np.testing.assert_allclose(by_day["bar_volatility_1d"], np.sqrt(predicted["volatility_variance"]), rtol=1e-12)
    np.testing.assert_allclose(by_day["bar_regime_5d_turbulent"], predicted["regime_5d"][:, 2], rtol=1e-12)
    assert (by_day["as_of_ns"].to_numpy() >= hour["end_ns"].to_numpy()).all()
    held_out = pd.Timestamp(manifest["bars"]["held_out_from"]).toordinal()
    assert (ibm["bar_in_sample"] == (ibm.index < held_out)).all()


def test_the_shipped_context_is_what_the_code_builds_from_the_bar_files(table: pd.DataFrame, manifest: dict) -> None:
    shipped = BarContext.load(DEFAULT_MODEL_DIR / manifest["bars"]["dir"] / CONTEXT_FILE)
    rebuilt = BarContext.from_table(table, manifest["version"])
    assert shipped.model_version == manifest["version"]
    for symbol in SYMBOLS:
        np.testing.assert_array_equal(shipped.as_of[symbol], rebuilt.as_of[symbol])
        np.testing.assert_array_equal(shipped.values[symbol], rebuilt.values[symbol])


def test_unknown_symbols_get_nan_and_known_ones_their_own_rows(table: pd.DataFrame, manifest: dict) -> None:
    context = BarContext.from_table(table, manifest["version"])
    ts = np.full(3, int(table["as_of_ns"].max()))
    answer = context.lookup(["IBM", "NOPE", "SPY"], ts)
    assert set(answer) == set(ANSWER)
    assert np.isnan(answer["bar_trend_1d_up"][1]) and not np.isnan(answer["bar_trend_1d_up"][[0, 2]]).any()
    assert answer["bar_volatility_1d"][0] != answer["bar_volatility_1d"][2]


def test_the_ensemble_attaches_the_context_of_each_rows_symbol_and_time(manifest: dict) -> None:
    ensemble = Ensemble.load(DEFAULT_MODEL_DIR)
    features = np.full((2, len(ensemble.feature_names)), np.nan)
    tick = pd.Timestamp("2013-10-09 10:00", tz="America/New_York").value
    out = ensemble.predict(features, ["IBM", "IBM"], [tick, tick - 86_400 * 10**9])
    as_of = [pd.Timestamp(int(t), tz="UTC").tz_convert("America/New_York") for t in out.specialists["bar_as_of_ns"]]
    assert as_of == [pd.Timestamp("2013-10-08 16:00", tz="America/New_York"),
                     pd.Timestamp("2013-10-07 16:00", tz="America/New_York")]
    assert set(OUTPUTS) <= set(out.specialists)
    assert not any(name.startswith("bar_") for name in ensemble.predict(features).specialists)


def test_a_context_scored_by_another_model_is_refused(tmp_path: Path, table: pd.DataFrame) -> None:
    model = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, model)
    write_context(table, model / "bars" / CONTEXT_FILE, "tw-000000000000")
    with pytest.raises(ManifestError, match="the bar context was scored by tw-000000000000"):
        Ensemble.load(model)


def test_refresh_command_rejects_a_missing_bar_file_in_one_sentence(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--model", str(DEFAULT_MODEL_DIR), "--bars-hourly", str(tmp_path / "none.csv"),
                 "--bars-daily", str(tmp_path / "none.csv")])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"error: bar file {tmp_path / 'none.csv'} does not exist"
