from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from models.regime import GaussianMixtureRegimes, RegimeConfig, regime_inputs

from .builders import synthetic_frame


@pytest.fixture(scope="module")
def inputs(frame) -> pd.DataFrame:
    return regime_inputs(frame, RegimeConfig())


def test_regime_fit_is_deterministic_for_a_seed(inputs):
    first = GaussianMixtureRegimes.fit(inputs, RegimeConfig(seed=3)).to_json()
    second = GaussianMixtureRegimes.fit(inputs, RegimeConfig(seed=3)).to_json()
    assert json.dumps(first) == json.dumps(second)


def test_regime_codes_are_ordered_by_volatility(inputs):
    mixture = GaussianMixtureRegimes.fit(inputs, RegimeConfig())
    codes = mixture.label(inputs)
    mean_volatility = [inputs["log_ewma_volatility_1m"][codes == k].mean() for k in range(3)]
    assert mean_volatility == sorted(mean_volatility)
    assert all(np.any(codes == k) for k in range(3))
    assert mixture.to_json()["labels"] == ["calm", "normal", "turbulent"]


def test_regime_labels_do_not_depend_on_row_order(frame, inputs):
    mixture = GaussianMixtureRegimes.fit(inputs, RegimeConfig())
    shuffled = frame.sample(frac=1.0, random_state=5)
    np.testing.assert_array_equal(mixture.label(regime_inputs(shuffled, RegimeConfig())), mixture.label(inputs.loc[shuffled.index]))


def test_regime_from_json_labels_like_the_fitted_mixture(inputs, tmp_path):
    mixture = GaussianMixtureRegimes.fit(inputs, RegimeConfig())
    mixture.save(tmp_path / "gmm.json")
    np.testing.assert_array_equal(GaussianMixtureRegimes.load(tmp_path / "gmm.json").label(inputs), mixture.label(inputs))


def test_regime_inputs_are_trailing_only():
    frame = synthetic_frame(seed=5, seconds=1800, symbols=("AAA",))
    probe = 1000
    corrupted = frame.copy()
    corrupted.loc[probe + 1 :, ["ewma_volatility_1m", "log_return_1m"]] = 1.0
    pd.testing.assert_series_equal(regime_inputs(frame, RegimeConfig()).loc[probe],
                                   regime_inputs(corrupted, RegimeConfig()).loc[probe])


def test_regime_inputs_when_volatility_feature_is_missing_then_raises(frame):
    with pytest.raises(ValueError, match="ewma_volatility_1m"):
        regime_inputs(frame.drop(columns=["ewma_volatility_1m"]), RegimeConfig())


def test_model_dir_stores_regime_as_json_and_never_pickle(trained):
    model_dir, manifest = trained
    gmm = json.loads((model_dir / manifest["regime"]["gmm_file"]).read_text())
    assert len(gmm["weights"]) == 3 and gmm["inputs"][0] == "log_ewma_volatility_1m"
    classifier = json.loads((model_dir / "regime.json").read_text())
    assert classifier["learner"]["objective"]["name"] == "multi:softprob"
    assert not [p for p in model_dir.iterdir() if p.suffix in (".pkl", ".pickle", ".joblib")]
