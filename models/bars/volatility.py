"""Next session's realized variance from hourly bars, against Corsi's HAR-RV.

**Target.** ``log_rv_d`` of the symbol's next session: the log of the sum of squared intraday
log returns of the regular session (overnight gap excluded; it enters as a feature). A half day
has 3 intraday returns instead of 6 and is left as it is: its variance really is smaller.

**Baseline: HAR-RV** (Corsi 2009), per symbol, ordinary least squares of the next ``log_rv_d`` on
``log_rv_d``, ``log_rv_w``, ``log_rv_m`` (logs of the 1-, 5- and 22-session mean RV), fitted on
the training rows only.

**Model.** Ridge regression of the same target on the HAR terms plus downside share, overnight
variance and return, range variances (Parkinson, Garman-Klass), past returns (leverage), ATR,
volume z-score and session length; pooled over symbols or one per symbol, and the penalty, chosen
by walk-forward QLIKE inside the development years.

**Log bias.** Both regress *log* RV; ``exp`` of a mean log underestimates the mean, and QLIKE
punishes under-prediction most. If the log forecast error is roughly normal with variance s^2,
E[RV] = exp(mu + s^2 / 2); s^2 is each fit's residual variance on its own training rows, so
model and baseline get the same correction. MSE of log RV scores ``mu`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from models.bars.linear import LinearModel, fit_ridge
from models.bars.splits import future, label_days
from models.bars.tasks import Scored, complete_rows, matrix

HAR_FEATURES = ("log_rv_d", "log_rv_w", "log_rv_m")
VOLATILITY_FEATURES = (*HAR_FEATURES, "downside_share_d", "log_overnight_var_w", "overnight_return",
                       "log_parkinson_5", "log_parkinson_22", "log_garman_klass_22", "log_return_1d",
                       "log_return_5d", "log_return_22d", "atr_14_bps", "volume_zscore_22", "session_bars")
POOLED = "*"


@dataclass(frozen=True)
class LogVarianceModel:
    """Ridge fits of next-session log RV, one per symbol or one pooled (key ``*``), each with its
    training residual variance for the log-bias correction."""

    fits: dict[str, LinearModel]
    residual_variance: dict[str, float]

    def _key(self, symbol: str) -> str | None:
        if POOLED in self.fits:
            return POOLED
        return symbol if symbol in self.fits else None

    def log_variance(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, s2)`` per row: the forecast of log RV and its residual variance (NaN: unknown symbol)."""
        mu = np.full(len(frame), np.nan)
        s2 = np.full(len(frame), np.nan)
        symbols = frame["symbol"].to_numpy()
        for symbol in np.unique(symbols):
            key = self._key(str(symbol))
            if key is None:
                continue
            rows = symbols == symbol
            fit = self.fits[key]
            mu[rows] = fit.predict(matrix(frame[rows], fit.features))
            s2[rows] = self.residual_variance[key]
        return mu, s2

    def variance(self, frame: pd.DataFrame) -> np.ndarray:
        mu, s2 = self.log_variance(frame)
        return np.exp(mu + 0.5 * s2)

    def to_json(self) -> dict[str, Any]:
        return {"fits": {key: fit.to_json() for key, fit in self.fits.items()},
                "residual_variance": self.residual_variance,
                "variance_forecast": "exp(mu + residual_variance / 2), the lognormal mean"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogVarianceModel:
        return cls({key: LinearModel.from_json(fit) for key, fit in data["fits"].items()},
                   {key: float(value) for key, value in data["residual_variance"].items()})


def fit_log_variance(train: pd.DataFrame, features: tuple[str, ...], alpha: float, pooled: bool) -> LogVarianceModel:
    groups = {POOLED: train} if pooled else {str(s): g for s, g in train.groupby("symbol", sort=True)}
    fits, residual = {}, {}
    for key, rows in groups.items():
        x, y = matrix(rows, features), rows["target"].to_numpy(np.float64)
        fits[key] = fit_ridge(features, x, y, alpha)
        residual[key] = float(np.mean((y - fits[key].predict(x)) ** 2))
    return LogVarianceModel(fits, residual)


class VolatilityTask:
    name: ClassVar[str] = "volatility"
    source: ClassVar[str] = "hour"
    target: ClassVar[str] = "log realized variance of the next regular session (hourly returns, overnight excluded)"
    selection_metric: ClassVar[str] = "qlike"
    metrics: ClassVar[tuple[str, ...]] = ("qlike", "mse_log_rv")
    candidates: ClassVar[tuple[dict[str, Any], ...]] = tuple(
        {"pooled": pooled, "alpha": alpha} for pooled in (True, False) for alpha in (1.0, 100.0, 1000.0))

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame["target"] = future(frame, "log_rv_d", 1)
        frame["label_day"] = label_days(frame, 1)
        return complete_rows(frame, [*VOLATILITY_FEATURES, "target"])

    def fit(self, train: pd.DataFrame, candidate: dict[str, Any]) -> LogVarianceModel:
        return fit_log_variance(train, VOLATILITY_FEATURES, candidate["alpha"], candidate["pooled"])

    def score(self, fitted: LogVarianceModel, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Scored]:
        har = fit_log_variance(train, HAR_FEATURES, 0.0, pooled=False)
        actual = test["target"].to_numpy(np.float64)
        model_mu, _ = fitted.log_variance(test)
        har_mu, _ = har.log_variance(test)
        return {"qlike": Scored(np.exp(actual), fitted.variance(test), {"HAR-RV": har.variance(test)}),
                "mse_log_rv": Scored(actual, model_mu, {"HAR-RV": har_mu})}
