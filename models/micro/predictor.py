"""The trained microstructure specialist at run time: one booster per label, P(mid up) per row.

``MicroModel.load(out_dir, section)`` reads the XGBoost JSON files that ``train_micro`` wrote
and its manifest section; ``predict(matrix)`` takes rows whose columns are
``section["feature_names"]`` in that order (the live row's features of the same names; NaN
allowed) and returns, per label name, the probability that the mid's next move (or its change
over the horizon, given that it changes) is up.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb


class MicroModel:
    """Boosters by label name and the feature names their columns follow."""

    def __init__(self, feature_names: tuple[str, ...], boosters: Mapping[str, xgb.Booster]) -> None:
        if not boosters:
            raise ValueError("MicroModel needs at least one booster")
        self.feature_names = tuple(feature_names)
        self.boosters = dict(boosters)

    @classmethod
    def load(cls, out_dir: Path | str, section: Mapping[str, Any], *, nthread: int = 1) -> MicroModel:
        """The models listed in ``section["files"]`` under ``out_dir``."""
        boosters = {}
        for name, file in section["files"].items():
            path = Path(out_dir) / file
            if not path.is_file():
                raise ValueError(f"microstructure model {name!r}: file {path} not found")
            booster = xgb.Booster(model_file=str(path))
            booster.set_param({"nthread": nthread})
            boosters[name] = booster
        return cls(tuple(section["feature_names"]), boosters)

    def predict(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        """P(up) per label for each row of ``matrix`` (columns in ``feature_names`` order)."""
        values = np.asarray(matrix, np.float32)
        if values.ndim != 2 or values.shape[1] != len(self.feature_names):
            raise ValueError(f"MicroModel.predict expects rows of {len(self.feature_names)} features "
                             f"({', '.join(self.feature_names[:3])}, ...), got shape {values.shape}")
        return {name: booster.inplace_predict(values) for name, booster in self.boosters.items()}
