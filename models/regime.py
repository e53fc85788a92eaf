"""Market regimes: a Gaussian mixture defines them, an XGBoost classifier recognises them live.

**Definition (unsupervised, training only).** Per symbol, the stream's volatility and trend
features are smoothed over a trailing window (``window_ns``, default 15 min; trailing, so a
regime at ``t`` reads nothing after ``t``) into a few regime inputs:

* ``log_ewma_volatility_1m``: mean of ``log(ewma_volatility_1m)`` (always present; it orders
  the regimes),
* ``log_realized_volatility_parkinson_1m``, ``log_realized_volatility_close_1m``: the same for
  the realised-volatility estimators, when the stream has them,
* ``trend_efficiency``: ``|sum r| / sum |r|`` of ``log_return_1m`` over the window (Kaufman's
  efficiency ratio: 1 = a straight line, 0 = back and forth),
* ``adx``: mean of ``adx_14_1m / 100``, when present.

They are standardised and a ``k``-component, full-covariance Gaussian mixture (scikit-learn,
seeded) is fitted. Components are renumbered by the mean of ``log_ewma_volatility_1m``, so
code 0 is always the calmest: ``calm``, ``normal``, ``turbulent`` for k = 3. The fitted
parameters are stored as JSON (``regime_gmm.json``) and ``GaussianMixtureRegimes.label``
evaluates them in numpy, so labelling needs neither scikit-learn nor pickle.

**Recognition (supervised, live).** The smoothed inputs need history the stream does not
keep, so an XGBoost ``multi:softprob`` classifier learns the mixture's regime from the
features of the row alone (``regime.json``); ``Ensemble.predict`` runs it once per batch.

>>> frame = pd.DataFrame({"symbol": "X", "ts_ns": np.arange(4) * 60 * SECOND_NS,
...                       "ewma_volatility_1m": [1e-4, 2e-4, 4e-4, 8e-4], "log_return_1m": [1e-4, -1e-4, 2e-4, 1e-4]})
>>> regime_inputs(frame, RegimeConfig(window_ns=60 * SECOND_NS)).columns.tolist()
['log_ewma_volatility_1m', 'trend_efficiency']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SECOND_NS = 1_000_000_000
REGIME_LABELS = ("calm", "normal", "turbulent")
_LOG_MEAN_INPUTS = {  # regime input -> stream feature averaged in log
    "log_ewma_volatility_1m": "ewma_volatility_1m",
    "log_realized_volatility_parkinson_1m": "realized_volatility_parkinson_1m",
    "log_realized_volatility_close_1m": "realized_volatility_close_1m",
}
_TINY = 1e-12


@dataclass(frozen=True)
class RegimeConfig:
    """How regimes are defined. ``components`` must equal ``len(REGIME_LABELS)`` for scoring."""

    components: int = 3
    window_ns: int = 15 * 60 * SECOND_NS
    seed: int = 7
    fit_rows: int = 50_000  # the mixture is fitted on an evenly spaced sample of this many rows
    restarts: int = 2

    def __post_init__(self) -> None:
        if self.components < 2:
            raise ValueError(f"RegimeConfig.components must be >= 2, got {self.components!r}")
        if self.window_ns <= 0:
            raise ValueError(f"RegimeConfig.window_ns must be positive, got {self.window_ns!r}")
        if self.fit_rows < 10 * self.components:
            raise ValueError(f"RegimeConfig.fit_rows must be >= 10 per component, got {self.fit_rows!r}")


def regime_inputs(frame: pd.DataFrame, config: RegimeConfig) -> pd.DataFrame:
    """The trailing-window regime inputs of every row of ``frame`` (same index; NaN = not enough data).

    Needs ``symbol``, ``ts_ns`` and ``ewma_volatility_1m``; uses the other inputs' stream
    features when present.
    """
    if "ewma_volatility_1m" not in frame.columns:
        raise ValueError("regime_inputs needs the ewma_volatility_1m feature, which orders the regimes")
    work = pd.DataFrame({"symbol": frame["symbol"].to_numpy(), "time": pd.to_datetime(frame["ts_ns"].to_numpy())},
                        index=frame.index)
    means: dict[str, str] = {}
    for name, source in _LOG_MEAN_INPUTS.items():
        if source in frame.columns:
            value = frame[source].to_numpy(dtype=np.float64)
            work[name] = np.log(np.where(value > 0, value, np.nan))
            means[name] = name
    sums: list[str] = []
    if "log_return_1m" in frame.columns:
        r = frame["log_return_1m"].to_numpy(dtype=np.float64)
        work["_sum_r"], work["_sum_abs_r"] = r, np.abs(r)
        sums = ["_sum_r", "_sum_abs_r"]
    if "adx_14_1m" in frame.columns:
        work["adx"] = frame["adx_14_1m"].to_numpy(dtype=np.float64) / 100.0
        means["adx"] = "adx"
    work = work.sort_values(["symbol", "time"], kind="stable")
    window = pd.Timedelta(config.window_ns, unit="ns")
    grouped = work.groupby("symbol", sort=False).rolling(window, on="time")
    # With ``on=``, rows come back grouped by symbol in time order: the order ``work`` is sorted in.
    smoothed = pd.DataFrame(index=work.index)
    if means:
        smoothed[list(means)] = grouped[list(means)].mean()[list(means)].to_numpy()
    if sums:
        rolled = grouped[sums].sum()
        total_abs = rolled["_sum_abs_r"].to_numpy()
        efficiency = np.abs(rolled["_sum_r"].to_numpy()) / np.maximum(total_abs, _TINY)
        smoothed["trend_efficiency"] = np.where(total_abs > 0, efficiency, np.nan)
    order = [c for c in (*_LOG_MEAN_INPUTS, "trend_efficiency", "adx") if c in smoothed.columns]
    return smoothed[order].reindex(frame.index)


class GaussianMixtureRegimes:
    """A fitted mixture over standardised regime inputs, components ordered by volatility."""

    def __init__(self, inputs: list[str], center: np.ndarray, scale: np.ndarray, weights: np.ndarray,
                 means: np.ndarray, covariances: np.ndarray, window_ns: int) -> None:
        self.inputs = list(inputs)
        self.center, self.scale = np.asarray(center, float), np.asarray(scale, float)
        self.weights, self.means = np.asarray(weights, float), np.asarray(means, float)
        self.covariances = np.asarray(covariances, float)
        self.window_ns = int(window_ns)
        self._cholesky = np.linalg.cholesky(self.covariances)

    @classmethod
    def fit(cls, inputs: pd.DataFrame, config: RegimeConfig) -> GaussianMixtureRegimes:
        """Fit on the rows of ``inputs`` (from ``regime_inputs``) where every input is finite."""
        from sklearn.mixture import GaussianMixture

        values = inputs.to_numpy(dtype=np.float64)
        values = values[np.all(np.isfinite(values), axis=1)]
        if len(values) < 10 * config.components:
            raise ValueError(f"the regime mixture needs at least {10 * config.components} rows with every regime "
                             f"input, got {len(values)}")
        if len(values) > config.fit_rows:
            values = values[np.linspace(0, len(values) - 1, config.fit_rows).astype(np.int64)]
        center, scale = values.mean(axis=0), values.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        mixture = GaussianMixture(n_components=config.components, covariance_type="full", random_state=config.seed,
                                  n_init=config.restarts, reg_covar=1e-4)
        mixture.fit((values - center) / scale)
        order = np.argsort(mixture.means_[:, 0], kind="stable")  # column 0: log_ewma_volatility_1m
        return cls(list(inputs.columns), center, scale, mixture.weights_[order], mixture.means_[order],
                   mixture.covariances_[order], config.window_ns)

    def label(self, inputs: pd.DataFrame) -> np.ndarray:
        """Regime code per row (0 = calmest), -1 where an input is missing; numpy only."""
        values = inputs[self.inputs].to_numpy(dtype=np.float64)
        ok = np.all(np.isfinite(values), axis=1)
        codes = np.full(len(values), -1, dtype=np.int64)
        if ok.any():
            codes[ok] = self.log_likelihoods((values[ok] - self.center) / self.scale).argmax(axis=1)
        return codes

    def log_likelihoods(self, standardised: np.ndarray) -> np.ndarray:
        """log(weight_k) + log N(x | mean_k, cov_k) per row and component."""
        n, d = standardised.shape
        out = np.empty((n, len(self.weights)))
        for k, chol in enumerate(self._cholesky):
            solved = np.linalg.solve(chol, (standardised - self.means[k]).T)
            log_det = 2.0 * np.log(np.diag(chol)).sum()
            out[:, k] = np.log(self.weights[k]) - 0.5 * (d * np.log(2 * np.pi) + log_det + (solved**2).sum(axis=0))
        return out

    def to_json(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "window_ns": self.window_ns, "center": self.center.tolist(),
                "scale": self.scale.tolist(), "weights": self.weights.tolist(), "means": self.means.tolist(),
                "covariances": self.covariances.tolist(), "labels": list(REGIME_LABELS[: len(self.weights)]),
                "order": "components sorted by the mean of log_ewma_volatility_1m, calmest first"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GaussianMixtureRegimes:
        return cls(data["inputs"], np.array(data["center"]), np.array(data["scale"]), np.array(data["weights"]),
                   np.array(data["means"]), np.array(data["covariances"]), data["window_ns"])

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> GaussianMixtureRegimes:
        return cls.from_json(json.loads(Path(path).read_text()))
