"""Score a batch of feature rows with the specialists, the regime classifier and the meta model.

One ``inplace_predict`` per model per batch, never per row (about 3 us per row in a batch of 1,024 against 288 us per single-row call): five calls
for any batch size. Call ``predict`` from a batch step with all the rows at hand. Every row's
output depends on that row alone, so any split of the rows into batches (any number of
workers) gives the same numbers.

Outputs, per row:

* ``p_up``: calibrated probability that the log return over ``horizon_ns`` is > 0. The meta
  model is stacked on the specialists' out-of-fold predictions, their confidences and the
  predicted regime (``META_INPUTS``) plus a few raw features (``models.train``); specialists
  without out-of-fold skill enter as neutral constants, and the output is the Platt-calibrated
  probability of the source chosen in training (the meta model, the trend specialist or the
  base rate: ``manifest["calibration"]``, ``models.meta_policy``).
* ``direction``: +1 if ``p_up > 0.5 + dead_zone``, -1 if ``p_up < 0.5 - dead_zone``, else 0.
* ``confidence``: the probability of the predicted class, ``max(p_up, 1 - p_up)`` in [0.5, 1],
  so a threshold such as 0.7 means "right 7 times in 10" on a calibrated model.
* ``volatility``: predicted standard deviation of the log return over the volatility horizon,
  ``sigma_1s * sqrt(volatility_ns / 1 s)`` where ``sigma_1s`` is the volatility specialist's
  per-second realised volatility (``specialists["volatility"]``).
* ``regime``: "calm" / "normal" / "turbulent": the most probable class of the regime
  classifier, which learned the Gaussian-mixture regimes of ``models.regime``
  (``specialists["regime_turbulent"]`` etc. hold its probabilities).
* ``score``: risk-adjusted edge, ``(2 p_up - 1) * reference_volatility / max(volatility, eps)``
  with ``reference_volatility`` the median predicted horizon volatility in training: equal to
  the edge at typical volatility, shrunk when turbulent, grown when calm (an inverse-volatility
  position size in units of the typical one). A hand-written meta rule would weight the
  specialists by regime and confidence and scale by a risk score; here the weighting is
  learned by the meta model (it sees the regime and the confidences) and the risk scaling is
  the inverse predicted volatility.

Given the rows' symbols and event times, each row also carries the long-horizon bar models' view
as of the latest session that closed before it (``models.bars.context``: ``bar_volatility_1d``,
``bar_trend_*_up``, ``bar_regime_5d_*``, ``bar_in_sample`` and ``bar_as_of_ns``, the time of the
data they came from), when the model directory ships a context table. These are outputs beside
the tick models, not inputs of ``p_up``: a day-level forecast is constant over a tick day, and
three tick days cannot show what weight it deserves (see docs/models.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from models.bars.context import ANSWER as BAR_OUTPUTS
from models.bars.context import CONTEXT_FILE, BarContext
from models.labels import SECOND_NS
from models.manifest import MODEL_NAMES, REGIMES, SPECIALISTS, ManifestError, read_manifest
from models.meta_policy import apply_calibration, neutralise
from models.micro.predictor import MicroModel

VOLATILITY_EPS = 1e-12


@dataclass(frozen=True)
class EnsembleOutput:
    """Arrays of length n, one entry per input row."""

    p_up: np.ndarray
    direction: np.ndarray  # int8: +1, 0, -1
    confidence: np.ndarray
    volatility: np.ndarray
    regime: np.ndarray  # str
    score: np.ndarray
    # trend, mean_reversion (probabilities), volatility (per second), regime_<label> (probabilities)
    specialists: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.p_up)


def meta_inputs(
    trend_p: np.ndarray,
    mean_reversion_p: np.ndarray,
    log_volatility_1s: np.ndarray,
    regime: np.ndarray,
    raw: np.ndarray,
) -> np.ndarray:
    """The meta model's input matrix (``META_INPUTS`` then the raw features); training and
    scoring both build it here. ``regime`` holds codes 0..2 (calm, normal, turbulent)."""
    one_hot = (regime[:, None] == np.arange(len(REGIMES))[None, :]).astype(np.float64)
    return np.column_stack([
        trend_p, mean_reversion_p, log_volatility_1s, np.abs(2.0 * trend_p - 1.0), np.abs(2.0 * mean_reversion_p - 1.0),
        one_hot, raw,
    ]).astype(np.float64)


META_INPUTS = (
    "trend_p", "mean_reversion_p", "log_volatility_1s", "trend_confidence", "mean_reversion_confidence",
    *(f"regime_{r}" for r in REGIMES),
)


class Ensemble:
    """A loaded ensemble: ``Ensemble.load(dir)`` then ``predict(features)`` on batches."""

    def __init__(self, manifest: Mapping[str, Any], boosters: Mapping[str, xgb.Booster],
                 micro: MicroModel | None = None, bar_context: BarContext | None = None) -> None:
        self.manifest = dict(manifest)
        self.version: str = manifest["version"]
        self.feature_names: tuple[str, ...] = tuple(manifest["feature_names"])
        self.horizon_ns: int = int(manifest["horizon_ns"])
        self.dead_zone = float(manifest["dead_zone"])
        self._horizon_scale = float(np.sqrt(manifest["horizons"]["volatility_ns"] / SECOND_NS))
        self._reference_volatility = float(manifest["score"]["reference_volatility"])
        self._boosters = dict(boosters)
        self._weighted: dict[str, bool] = dict(manifest["models"]["meta"]["weighted"])
        self._meta_input_names = [*META_INPUTS, *manifest["models"]["meta"]["features"]]
        self.calibration: dict[str, Any] = dict(manifest["calibration"])
        position = {name: i for i, name in enumerate(self.feature_names)}
        self.micro = micro
        if bar_context is not None and bar_context.model_version != self.version:
            raise ManifestError(f"the bar context was scored by {bar_context.model_version or 'an unknown model'}, "
                                f"not {self.version}: rebuild it with python -m models.bars.context")
        self.bar_context = bar_context
        self._micro_columns = (None if micro is None else
                               np.array([position[f] for f in micro.feature_names], dtype=np.intp))
        self._columns: dict[str, np.ndarray | None] = {}
        for name in MODEL_NAMES:
            used = manifest["models"][name]["features"]
            expected = len(used) + (len(META_INPUTS) if name == "meta" else 0)
            if self._boosters[name].num_features() != expected:
                raise ValueError(
                    f"model {name!r} of {self.version} takes {self._boosters[name].num_features()} inputs "
                    f"but the manifest lists {expected}"
                )
            index = np.array([position[f] for f in used], dtype=np.intp)
            is_all = name != "meta" and len(index) == len(position) and np.array_equal(index, np.arange(len(position)))
            self._columns[name] = None if is_all else index

    @classmethod
    def load(cls, model_dir: Path, *, nthread: int = 1) -> Ensemble:
        """Load and validate ``model_dir`` (manifest.json + XGBoost JSON files).

        ``nthread`` is per booster; the flow scales with processes, so keep it 1 there.
        Raises ``ManifestError`` (a ValueError) with one sentence when the directory is unusable.
        """
        manifest = read_manifest(Path(model_dir))
        boosters = {}
        for name in MODEL_NAMES:
            booster = xgb.Booster(model_file=str(Path(model_dir) / manifest["models"][name]["file"]))
            booster.set_param({"nthread": nthread})
            boosters[name] = booster
        micro = manifest.get("micro")
        bars = manifest.get("bars")
        context_path = Path(model_dir) / bars["dir"] / CONTEXT_FILE if bars else None
        return cls(manifest, boosters,
                   MicroModel.load(Path(model_dir) / micro["dir"], micro, nthread=nthread) if micro else None,
                   BarContext.load(context_path) if context_path is not None and context_path.is_file() else None)

    def feature_index(self, names: Sequence[str]) -> np.ndarray:
        """Positions in ``names`` of each of ``feature_names``: ``rows[:, ensemble.feature_index(cols)]``
        reorders a matrix whose columns are ``names`` into model order. Raises if one is absent."""
        position = {name: i for i, name in enumerate(names)}
        missing = [name for name in self.feature_names if name not in position]
        if missing:
            raise ValueError(f"model {self.version} needs features {missing} that the given names lack")
        return np.array([position[name] for name in self.feature_names], dtype=np.intp)

    def _specialist_names(self) -> tuple[str, ...]:
        return (*SPECIALISTS, *(f"regime_{r}" for r in REGIMES),
                *(f"micro_{m}" for m in (self.micro.boosters if self.micro else ())),
                *(BAR_OUTPUTS if self.bar_context is not None else ()))

    def predict(self, features: np.ndarray, symbols: Sequence[str] | None = None,
                ts_ns: Sequence[int] | np.ndarray | None = None) -> EnsembleOutput:
        """Score ``features`` (float64, shape (n, len(feature_names)), feature_names order, NaN = missing).

        ``symbols`` and ``ts_ns`` (one per row) join the bar context as of each row's event time;
        without them, or without a context, the ``bar_*`` outputs are absent."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ValueError(
                f"model {self.version} expects features of shape (n, {len(self.feature_names)}), got {x.shape}"
            )
        if len(x) == 0:
            empty = np.empty(0)
            return EnsembleOutput(
                empty, np.empty(0, np.int8), empty, empty, np.empty(0, dtype="<U9"), empty,
                {name: empty for name in self._specialist_names()
                 if symbols is not None or not name.startswith("bar_")},
            )
        trend_p = self._run("trend", x)
        mean_reversion_p = self._run("mean_reversion", x)
        log_volatility_1s = self._run("volatility", x)
        volatility_1s = np.exp(log_volatility_1s)
        regime_p = self._run("regime", x).reshape(len(x), len(REGIMES))
        regime = regime_p.argmax(axis=1)
        raw = self._select("meta", x)
        inputs = neutralise(meta_inputs(trend_p, mean_reversion_p, log_volatility_1s, regime, raw),
                            self._meta_input_names, self._weighted)
        p_meta = self._run_matrix("meta", inputs)
        p_up = apply_calibration(self.calibration, trend_p if self.calibration["source"] == "trend" else p_meta)
        micro = {} if self.micro is None else {
            f"micro_{name}": np.asarray(p, dtype=np.float64)
            for name, p in self.micro.predict(x[:, self._micro_columns]).items()}
        bars = ({} if self.bar_context is None or symbols is None or ts_ns is None
                else self.bar_context.lookup(symbols, ts_ns))

        volatility = volatility_1s * self._horizon_scale
        edge = 2.0 * p_up - 1.0
        direction = np.where(p_up > 0.5 + self.dead_zone, 1, np.where(p_up < 0.5 - self.dead_zone, -1, 0))
        return EnsembleOutput(
            p_up=p_up,
            direction=direction.astype(np.int8),
            confidence=np.maximum(p_up, 1.0 - p_up),
            volatility=volatility,
            regime=np.asarray(REGIMES)[regime],
            score=edge * self._reference_volatility / np.maximum(volatility, VOLATILITY_EPS),
            specialists={
                "trend": trend_p, "mean_reversion": mean_reversion_p, "volatility": volatility_1s,
                **{f"regime_{r}": regime_p[:, i] for i, r in enumerate(REGIMES)}, **micro, **bars,
            },
        )

    def _select(self, name: str, x: np.ndarray) -> np.ndarray:
        index = self._columns[name]
        return x if index is None else x[:, index]

    def _run(self, name: str, x: np.ndarray) -> np.ndarray:
        return self._run_matrix(name, self._select(name, x))

    def _run_matrix(self, name: str, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(self._boosters[name].inplace_predict(matrix), dtype=np.float64)
