"""``TrainConfig``: everything that decides a trained ensemble, stored in its manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.labels import Horizons
from models.manifest import REGIMES
from models.regime import RegimeConfig
from models.validation import LeakageConfig, WalkForwardConfig

# Raw price levels (and quantities in price units) differ by symbol (SPY ~$170, BAC ~$14) and
# drift over time, so a tree split on them learns "which symbol / which day", not a signal.
# Glob patterns (fnmatch); names the data does not have are ignored. Ratios, returns, bps,
# z-scores and imbalances (vwap_deviation_1m, spread_bps, bollinger_percent_b_1m...) stay.
DEFAULT_EXCLUDED_FEATURES = (
    "last_price", "mid", "mid_price", "microprice", "bid", "ask", "spread",
    "vwap_[0-9]*", "sma_[0-9]*", "ema_[0-9]*",
    "bollinger_upper_*", "bollinger_lower_*", "bollinger_middle_*",
    "atr_[0-9]*", "macd_*",  # atr_bps_1m (scale free) stays
)
DEFAULT_META_RAW_FEATURES = (
    "log_return_1m", "ewma_volatility_1m", "spread_bps", "quote_imbalance", "order_flow_imbalance",
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained ensemble; stored in its manifest."""

    horizons: Horizons = field(default_factory=Horizons)
    n_estimators: int = 100
    max_depth: int = 4
    learning_rate: float = 0.05
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    # Rows 1 s apart share almost all of a 5-15 min label window, so a leaf needs many rows
    # (hessian ~0.25 per row for logistic) to be more than one memorised episode.
    min_child_weight: float = 50.0
    seed: int = 7
    nthread: int = 1  # the flow and the tests share two cores; scale training with processes
    exclude_features: tuple[str, ...] = DEFAULT_EXCLUDED_FEATURES
    meta_raw_features: tuple[str, ...] = DEFAULT_META_RAW_FEATURES
    validation_fraction: float = 0.2
    # When set, the held-out slice is every row from this time on (for example the last tick day,
    # 2013-10-09), instead of the last ``validation_fraction`` of the rows.
    held_out_from_ns: int | None = None
    # False only for plumbing tests that need predictions that vary: the ensemble's probability is
    # then the meta model's own output whether or not it beat "no information" (models.meta_policy).
    require_skill: bool = True
    embargo_ns: int | None = None  # None: horizons.longest_ns
    dead_zone: float = 0.02
    walk_forward: WalkForwardConfig = field(default_factory=WalkForwardConfig)
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    leakage: LeakageConfig = field(default_factory=LeakageConfig)
    # The regime classifier costs 3 trees per round (one per class) on every scored batch, and
    # recognising a regime from the row's volatility features is a simpler task: a smaller model.
    regime_estimators: int = 40
    regime_max_depth: int = 3
    shuffled_control: tuple[str, ...] = ("trend",)  # models refit on shuffled labels as a leakage control
    write_report: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"TrainConfig.validation_fraction must lie in (0, 1), got {self.validation_fraction!r}")
        if self.embargo_ns is not None and self.embargo_ns < self.horizons.longest_ns:
            raise ValueError(
                f"TrainConfig.embargo_ns={self.embargo_ns} is shorter than the longest label horizon "
                f"plus tolerance ({self.horizons.longest_ns} ns), so labels would leak across the split"
            )
        if not 0.0 <= self.dead_zone < 0.5:
            raise ValueError(f"TrainConfig.dead_zone must lie in [0, 0.5), got {self.dead_zone!r}")
        if min(self.n_estimators, self.max_depth, self.nthread, self.regime_estimators, self.regime_max_depth) < 1:
            raise ValueError("TrainConfig.n_estimators, max_depth, nthread, regime_estimators and regime_max_depth "
                             "must be >= 1")
        if self.walk_forward.n_folds < 2:
            raise ValueError("TrainConfig.walk_forward.n_folds must be >= 2: the meta model's own folds need two")
        if self.regime.components != len(REGIMES):
            raise ValueError(f"TrainConfig.regime.components must be {len(REGIMES)} ({REGIMES}), "
                             f"got {self.regime.components!r}")
        unknown = sorted(set(self.shuffled_control) - {"trend", "mean_reversion"})
        if unknown:
            raise ValueError(f"TrainConfig.shuffled_control names models without a binary label: {unknown}")

    @property
    def embargo(self) -> int:
        return self.horizons.longest_ns if self.embargo_ns is None else self.embargo_ns

    def xgboost_params(self, objective: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": objective,
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "seed": self.seed,
            "nthread": self.nthread,
            "tree_method": "hist",
        }
        if objective == "multi:softprob":
            params.update(num_class=len(REGIMES), max_depth=self.regime_max_depth)
        return params


# The XGBoost objective of each model of the ensemble.
OBJECTIVES = {"trend": "binary:logistic", "mean_reversion": "binary:logistic",
              "volatility": "reg:squarederror", "regime": "multi:softprob", "meta": "binary:logistic"}
