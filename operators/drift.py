"""Feature drift monitor: one River ADWIN per feature of one symbol.

``FeatureDriftMonitor`` is the per-symbol step state of the drift stage. Every
``FeatureRow`` updates one ``river.drift.ADWIN`` per watched feature (created on the
feature's first finite value). When ADWIN detects a change in the mean of a feature, the
monitor emits a ``DriftEvent`` whose ``statistic`` is ADWIN's estimation (the mean of
the window it kept) right after the drift. Values that are not finite (NaN while an
indicator warms up, or an infinity) are skipped and never reach ADWIN.

Events are suppressed while a feature has had no more than ``grace_samples`` updates:
ADWIN still learns from those values, it just cannot raise alarms on a cold start.
ADWIN is deterministic and the monitor pickles with its detectors, so a replay or a
Bytewax recovery emits the same events with the same ``event_id``.

>>> from operators.messages import FeatureRow
>>> monitor = FeatureDriftMonitor(DriftConfig(grace_samples=100))
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
from dataclasses import dataclass

from river.drift import ADWIN

from operators.ids import stable_id
from operators.messages import DriftEvent, FeatureRow

__all__ = ["DETECTOR", "DriftConfig", "FeatureDriftMonitor"]

DETECTOR = "adwin"
KIND = "feature_drift"


@dataclass(frozen=True, slots=True)
class DriftConfig:
    """Settings of the feature drift monitor.

    ``delta`` and ``clock`` are ADWIN's confidence and check interval; ``grace_samples``
    is the number of updates a feature needs before its events may fire; ``features``
    names the watched features (``None`` watches every feature of the row).

    >>> DriftConfig(delta=1.5)
    Traceback (most recent call last):
    ...
    ValueError: DriftConfig.delta must be a number in (0, 1), got 1.5
    """

    delta: float = 0.002
    clock: int = 32
    grace_samples: int = 200
    features: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
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


class FeatureDriftMonitor:
    """ADWIN drift detection over the features of one symbol."""

    __slots__ = ("_config", "_watched", "_detectors", "_updates")

    def __init__(self, config: DriftConfig) -> None:
        if not isinstance(config, DriftConfig):
            raise TypeError(f"FeatureDriftMonitor needs a DriftConfig, got {type(config).__name__}")
        self._config = config
        self._watched = None if config.features is None else frozenset(config.features)
        self._reset()

    def _reset(self) -> None:
        self._detectors: dict[str, ADWIN] = {}
        self._updates: dict[str, int] = {}

    def reset(self) -> None:
        """Forget every detector (for example after a model or feature-set change)."""
        self._reset()

    def updates(self, feature: str) -> int:
        """How many finite values of ``feature`` reached its detector."""
        return self._updates.get(feature, 0)

    def update(self, row: FeatureRow) -> list[DriftEvent]:
        """Feed one feature row; return the drift events it triggered, in feature order."""
        events: list[DriftEvent] = []
        watched = self._watched
        for feature, value in zip(row.names, row.values):
            if (watched is not None and feature not in watched) or not math.isfinite(value):
                continue
            detector = self._detectors.get(feature)
            if detector is None:
                detector = self._detectors[feature] = ADWIN(delta=self._config.delta, clock=self._config.clock)
            detector.update(value)
            count = self._updates.get(feature, 0) + 1
            self._updates[feature] = count
            if detector.drift_detected and count > self._config.grace_samples:
                events.append(
                    DriftEvent(
                        event_id=stable_id(row.symbol, feature, DETECTOR, row.ts_ns),
                        symbol=row.symbol,
                        ts_ns=row.ts_ns,
                        feature=feature,
                        detector=DETECTOR,
                        statistic=detector.estimation,
                        kind=KIND,
                    )
                )
        return events

    def __getstate__(self) -> tuple[DriftConfig, dict[str, ADWIN], dict[str, int]]:
        return self._config, self._detectors, self._updates

    def __setstate__(self, state: tuple[DriftConfig, dict[str, ADWIN], dict[str, int]]) -> None:
        self._config, self._detectors, self._updates = state
        self._watched = None if self._config.features is None else frozenset(self._config.features)

    def __repr__(self) -> str:
        return f"FeatureDriftMonitor(features={sorted(self._detectors)!r}, config={self._config!r})"
