"""Feature drift settings, and the raw-value monitor: one River detector per feature of one symbol.

The live default (``detector="standardised"``) is ``operators.monitoring.standardised``: each
feature standardised against its own recent past, one alarm per feature group with hysteresis.
The River detectors below watch raw feature values; they stay selectable (``adwin``,
``page_hinkley``, ``kswin``) as the baseline ``bench/drift_eval.py`` compares against: raw
features are not stationary within a day, so on a real day they fire hundreds of times.

``FeatureDriftMonitor`` is the per-symbol step state of the drift stage. Every
``FeatureRow`` updates one detector per watched feature (created on the feature's first
finite value). When the detector fires, the monitor emits a ``DriftEvent`` whose
``statistic`` is ADWIN's estimation (the mean of the window it kept) right after the
drift, PageHinkley's running mean, or KSWIN's p-value. Values that are not finite (NaN
while an indicator warms up, or an infinity) are skipped and never reach a detector.

``DriftConfig.detector`` picks ``adwin`` (0.2 us per update), ``page_hinkley`` or
``kswin``. KSWIN runs a Kolmogorov-Smirnov test on every update (about 330 us), so it is
never fed every row: ``sample_every`` (default 1, and 30 for KSWIN) feeds the detector one
row in N. Sampling counts rows, not time, so it is deterministic on replay. KSWIN is seeded.

Events are suppressed while a feature has had no more than ``grace_samples`` updates:
ADWIN still learns from those values, it just cannot raise alarms on a cold start.
ADWIN is deterministic and the monitor pickles with its detectors, so a replay or a
Bytewax recovery emits the same events with the same ``event_id``.

>>> from operators.messages import FeatureRow
>>> monitor = FeatureDriftMonitor(DriftConfig(detector="adwin", grace_samples=100))
>>> spread_bps = [1.0] * 300 + [5.0] * 300
>>> events = []
>>> for step, spread in enumerate(spread_bps):
...     row = FeatureRow("IBM", 1_381_239_000_000_000_000 + step, 0, step, 185.0,
...                      ("spread_bps", "return_1m"), (spread, float("nan")))
...     events += monitor.update(row)
>>> [(event.feature, event.ts_ns - 1_381_239_000_000_000_000, round(event.statistic, 3)) for event in events]
[('spread_bps', 319, 3.5)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from river.drift import ADWIN, KSWIN, PageHinkley

from operators.messages.ids import stable_id
from operators.messages import DriftEvent, FeatureRow
from operators.monitoring.standardised import STANDARDISED, StandardisedDriftConfig

__all__ = ["DETECTOR", "DETECTORS", "RIVER_DETECTORS", "DriftConfig", "FeatureDriftMonitor", "make_detector"]

DETECTOR = STANDARDISED
DETECTORS = (STANDARDISED, "adwin", "page_hinkley", "kswin")
RIVER_DETECTORS = DETECTORS[1:]
KIND = "feature_drift"
KSWIN_SAMPLE_EVERY = 30

Detector = ADWIN | PageHinkley | KSWIN


@dataclass(frozen=True, slots=True)
class DriftConfig:
    """Settings of the feature drift monitor.

    ``delta`` and ``clock`` are ADWIN's confidence and check interval; ``grace_samples``
    is the number of updates a feature needs before its events may fire; ``features``
    names the watched features (``None`` watches every feature of the row). ``detector``
    is one of ``DETECTORS``; ``sample_every`` feeds it one row in N (0: 1 for ADWIN and
    PageHinkley, 30 for KSWIN); ``ph_threshold`` is PageHinkley's lambda, ``kswin_alpha``
    and ``kswin_window`` KSWIN's significance and window, ``seed`` KSWIN's seed. ``standardised``
    holds the settings of the standardised monitor (used when ``detector`` is ``standardised``).

    >>> DriftConfig(delta=1.5)
    Traceback (most recent call last):
    ...
    ValueError: DriftConfig.delta must be a number in (0, 1), got 1.5
    """

    delta: float = 0.002
    clock: int = 32
    grace_samples: int = 200
    features: tuple[str, ...] | None = None
    detector: str = DETECTOR
    sample_every: int = 0
    ph_threshold: float = 50.0
    kswin_alpha: float = 0.005
    kswin_window: int = 100
    seed: int = 42
    standardised: StandardisedDriftConfig = field(default_factory=StandardisedDriftConfig)

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"DriftConfig.detector must be one of {', '.join(DETECTORS)}, got {self.detector!r}")
        if type(self.sample_every) is not int or self.sample_every < 0:
            raise ValueError(f"DriftConfig.sample_every must be an int >= 0, got {self.sample_every!r}")
        if not 0.0 < self.kswin_alpha < 1.0:
            raise ValueError(f"DriftConfig.kswin_alpha must be in (0, 1), got {self.kswin_alpha!r}")
        if type(self.kswin_window) is not int or self.kswin_window < 40:
            raise ValueError(f"DriftConfig.kswin_window must be an int >= 40, got {self.kswin_window!r}")
        if not self.ph_threshold > 0:
            raise ValueError(f"DriftConfig.ph_threshold must be > 0, got {self.ph_threshold!r}")
        if isinstance(self.delta, bool) or not isinstance(self.delta, (int, float)) or not 0.0 < self.delta < 1.0:
            raise ValueError(f"DriftConfig.delta must be a number in (0, 1), got {self.delta!r}")
        if type(self.clock) is not int or self.clock <= 0:
            raise ValueError(f"DriftConfig.clock must be a positive int, got {self.clock!r}")
        if type(self.grace_samples) is not int or self.grace_samples < 0:
            raise ValueError(f"DriftConfig.grace_samples must be an int >= 0, got {self.grace_samples!r}")
        if self.features is not None and (
            not isinstance(self.features, tuple) or not all(isinstance(name, str) and name for name in self.features)
        ):
            raise ValueError(f"DriftConfig.features must be None or a tuple of feature names, got {self.features!r}")

    @property
    def stride(self) -> int:
        """Rows per detector update: ``sample_every``, or the detector's default when 0."""
        if self.sample_every:
            return self.sample_every
        return KSWIN_SAMPLE_EVERY if self.detector == "kswin" else 1


def make_detector(config: DriftConfig) -> Detector:
    """A fresh detector of the configured kind (KSWIN seeded, so replays are identical)."""
    if config.detector == "page_hinkley":
        return PageHinkley(threshold=config.ph_threshold)
    if config.detector == "kswin":
        return KSWIN(alpha=config.kswin_alpha, window_size=config.kswin_window,
                     stat_size=max(10, config.kswin_window // 3), seed=config.seed)
    return ADWIN(delta=config.delta, clock=config.clock)


def _statistic(detector: Detector) -> float:
    if isinstance(detector, ADWIN):
        return float(detector.estimation)
    if isinstance(detector, KSWIN):
        return float(detector.p_value)
    return float(detector._x_mean)  # PageHinkley keeps its running mean only privately


class FeatureDriftMonitor:
    """ADWIN drift detection over the features of one symbol."""

    __slots__ = ("_config", "_watched", "_detectors", "_updates", "_rows", "_plan")

    def __init__(self, config: DriftConfig) -> None:
        if not isinstance(config, DriftConfig):
            raise TypeError(f"FeatureDriftMonitor needs a DriftConfig, got {type(config).__name__}")
        if config.detector not in RIVER_DETECTORS:
            raise ValueError(f"FeatureDriftMonitor runs River detectors ({', '.join(RIVER_DETECTORS)}), got "
                             f"{config.detector!r}: use StandardisedDriftMonitor")
        self._config = config
        self._watched = None if config.features is None else frozenset(config.features)
        self._plan: tuple[tuple[str, ...], list[int]] | None = None
        self._reset()

    def _reset(self) -> None:
        self._detectors: dict[str, Detector] = {}
        self._updates: dict[str, int] = {}
        self._rows = 0

    def reset(self) -> None:
        """Forget every detector (for example after a model or feature-set change)."""
        self._reset()

    def updates(self, feature: str) -> int:
        """How many finite values of ``feature`` reached its detector."""
        return self._updates.get(feature, 0)

    def update(self, row: FeatureRow) -> list[DriftEvent]:
        """Feed one feature row; return the drift events it triggered, in feature order."""
        events: list[DriftEvent] = []
        self._rows += 1
        config = self._config
        stride = config.stride
        if stride > 1 and self._rows % stride:
            return events
        names, values = row.names, row.values
        plan = self._plan
        if plan is None or plan[0] is not names:
            # Which positions of this layout are watched; rows of one flow share one names tuple.
            watched = self._watched
            plan = self._plan = (names, [i for i, feature in enumerate(names) if watched is None or feature in watched])
        detectors, updates = self._detectors, self._updates
        grace = config.grace_samples
        isfinite = math.isfinite
        for i in plan[1]:
            value = values[i]
            if not isfinite(value):
                continue
            feature = names[i]
            detector = detectors.get(feature)
            if detector is None:
                detector = detectors[feature] = make_detector(config)
            detector.update(value)
            count = updates.get(feature, 0) + 1
            updates[feature] = count
            if count > grace and detector.drift_detected:
                events.append(
                    DriftEvent(
                        event_id=stable_id(row.symbol, feature, config.detector, row.ts_ns),
                        symbol=row.symbol,
                        ts_ns=row.ts_ns,
                        feature=feature,
                        detector=config.detector,
                        statistic=_statistic(detector),
                        kind=KIND,
                    )
                )
        return events

    def __getstate__(self) -> tuple[DriftConfig, dict[str, Detector], dict[str, int], int]:
        return self._config, self._detectors, self._updates, self._rows

    def __setstate__(self, state: tuple[DriftConfig, dict[str, Detector], dict[str, int], int]) -> None:
        self._config, self._detectors, self._updates, self._rows = state
        self._watched = None if self._config.features is None else frozenset(self._config.features)
        self._plan = None

    def __repr__(self) -> str:
        return f"FeatureDriftMonitor(features={sorted(self._detectors)!r}, config={self._config!r})"
