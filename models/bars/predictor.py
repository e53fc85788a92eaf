"""The trained bar models, loaded from their JSON files, scoring rows of long-horizon features.

``BarModels.load(out_dir, section)`` reads the files named by the manifest section that
:func:`~models.bars.train.train_bar_models` returned; ``predict(features, symbols)`` takes a
matrix whose columns are ``section["feature_names"]`` (the operator's ``FEATURE_NAMES``, one row
per symbol and completed session) and returns, per row:

* ``volatility_log_rv``: forecast of the next session's log realized variance;
* ``volatility_variance``: the variance forecast, ``exp(mu + s^2 / 2)``;
* ``trend_1d_up`` / ``trend_5d_up``: P(the adjusted close is higher 1 / 5 sessions on);
* ``regime_5d``: probabilities of calm / normal / turbulent 5 sessions on (one column each).

A row with a missing feature, or (for the volatility and regime models) a symbol the models were
not fitted on, gets NaN.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.bars.linear import LinearModel
from models.bars.regime import RegimeModel
from models.bars.volatility import LogVarianceModel


@dataclass(frozen=True)
class BarModels:
    feature_names: tuple[str, ...]
    volatility: LogVarianceModel
    trends: dict[str, LinearModel]
    regime: RegimeModel

    @classmethod
    def load(cls, out_dir: str | Path, section: dict[str, Any]) -> BarModels:
        models = section["models"]

        def read(name: str) -> dict[str, Any]:
            return json.loads((Path(out_dir) / models[name]["file"]).read_text())["model"]

        return cls(tuple(section["feature_names"]), LogVarianceModel.from_json(read("volatility")),
                   {name: LinearModel.from_json(read(name)) for name in models if name.startswith("trend_")},
                   RegimeModel.from_json(read("regime_5d")))

    def predict(self, features: np.ndarray, symbols: Sequence[str]) -> dict[str, np.ndarray]:
        features = np.asarray(features, np.float64)
        if features.ndim != 2 or features.shape[1] != len(self.feature_names):
            raise ValueError(f"expected a matrix of {len(self.feature_names)} feature columns, got shape {features.shape}")
        if len(symbols) != len(features):
            raise ValueError(f"expected one symbol per row ({len(features)}), got {len(symbols)}")
        frame = pd.DataFrame(features, columns=list(self.feature_names))
        frame.insert(0, "symbol", list(symbols))
        mu, s2 = self.volatility.log_variance(frame)
        out = {"volatility_log_rv": mu, "volatility_variance": np.exp(mu + 0.5 * s2)}
        for name, model in self.trends.items():
            out[f"{name}_up"] = model.predict(frame[list(model.features)].to_numpy(np.float64))
        out["regime_5d"] = self.regime.probabilities(frame)
        return out
