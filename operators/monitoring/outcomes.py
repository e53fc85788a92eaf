"""Live accuracy: join each prediction with what the market did after its horizon, in event time.

``OutcomeTracker`` is the per-symbol state of the outcome stage. It receives the symbol's
feature rows and predictions (in any interleaving of the two streams) and resolves a
prediction made at ``ts`` when the first feature row of the symbol at ``ts + horizon_ns`` or
later is known: the realized move is up when that row's price is above the prediction's
price, down when below; a flat move resolves nothing (counted in ``flat``), exactly as the
training labels drop flat windows. Both prices are the rows' reference prices (the mid while
quoted), as in training. Recent rows are kept for ``horizon_ns + slack_ns`` of event time, so a prediction
that arrives after the rows that resolve it (the scoring path is longer than the feature
path) is resolved on arrival with the same row it would have had otherwise.

Each resolved prediction becomes an ``Outcome`` with its own hit, log loss and Brier score
and the rolling statistics of its model on this symbol over the last ``window`` outcomes
(accuracy, log loss, Brier, average confidence). Per model version the tracker also watches:

- the model's *calibrated error*: the log loss of an outcome minus the log loss the model
  itself expects at its probability, divided by that expectation's standard deviation. For a
  prediction ``p`` and a label ``y`` this is ``(p - y) * sign(p - 0.5) / sqrt(p (1 - p))``
  (``standardised_excess_log_loss``): mean 0 and variance 1 for a calibrated model whatever its
  skill, so one detector fits every model and every symbol. A one-sided CUSUM
  (``S = max(0, S + u - cusum_slack)``) raises ``retrain`` when ``S`` passes
  ``cusum_threshold`` (the model is doing worse than its own probabilities promise) and starts
  over. Consecutive outcomes overlap in their horizons, so misses come in runs: the threshold
  (250) is set well above the largest run a calibrated model makes in a day, see
  ``bench/drift_eval.py``;
- the monitor's thresholds as onset alarms with hysteresis: ``retrain`` when rolling accuracy
  falls below 0.55, ``model_review`` when the average confidence falls below 0.7.

``retrain`` events of one model on one symbol are at least ``retrain_min_gap_ns`` of event time
apart (each one may start a training run, ``tickwise retrain --on-event``); the statistic of a
CUSUM event is ``S``, its ``detector`` names the slack and threshold.

Nothing grows without bound: pending predictions and kept rows are limited in event time
and in count (``max_pending``; the oldest pending prediction is dropped and counted).

>>> from operators.messages import FeatureRow, Prediction
>>> tracker = OutcomeTracker(OutcomeConfig(horizon_ns=10, window=4))
>>> def prediction(ts, p_up):
...     return Prediction(f"p{ts}", "IBM", ts, 0, ts, 100.0, "v1", p_up, 1 if p_up > 0.5 else -1,
...                       abs(2 * p_up - 1), 0.01, "calm", 0.0, {})
>>> tracker.on_prediction(prediction(0, 0.8))
([], [])
>>> outcomes, events = tracker.on_row(FeatureRow("IBM", 12, 0, 12, 101.0, (), ()))
>>> [(o.prediction_id, o.realized_up, o.correct, round(o.brier, 2), o.resolved_ts_ns) for o in outcomes]
[('p0', True, True, 0.04, 12)]
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field

from operators.messages.ids import stable_id
from operators.messages import DriftEvent, FeatureRow, Outcome, Prediction
from operators.monitoring.thresholds import OnsetAlarm, Threshold, seed_thresholds

__all__ = ["OutcomeConfig", "OutcomeTracker", "calibration_bucket", "standardised_excess_log_loss"]

PROBABILITY_FLOOR = 1e-6
ERROR_FEATURE = "standardised_excess_log_loss"
HOUR_NS = 3_600 * 1_000_000_000


def standardised_excess_log_loss(p_up: float, realized_up: bool) -> float:
    """How much worse than it promised the model did on one outcome, in standard deviations.

    >>> round(standardised_excess_log_loss(0.8, False), 3), round(standardised_excess_log_loss(0.8, True), 3)
    (2.0, -0.5)
    >>> standardised_excess_log_loss(0.5, True)
    0.0
    """
    p = min(1.0 - PROBABILITY_FLOOR, max(PROBABILITY_FLOOR, p_up))
    if p == 0.5:
        return 0.0
    return (p - (1.0 if realized_up else 0.0)) * math.copysign(1.0, p - 0.5) / math.sqrt(p * (1.0 - p))


def calibration_bucket(p_up: float, buckets: int = 10) -> int:
    """The calibration bucket of a probability: ``floor(p_up * buckets)``, 1.0 in the last one.

    >>> calibration_bucket(0.0), calibration_bucket(0.55), calibration_bucket(1.0)
    (0, 5, 9)
    """
    return min(buckets - 1, max(0, int(p_up * buckets)))


@dataclass(frozen=True, slots=True)
class OutcomeConfig:
    """``horizon_ns``: the model's horizon; ``window``: outcomes in the rolling statistics.

    ``retrain`` and ``model_review`` are the monitor's thresholds (``seed_thresholds``);
    ``cusum_slack`` and ``cusum_threshold`` the calibrated-error CUSUM's; ``retrain_min_gap_ns``
    the least event time between two ``retrain`` events of one model on one symbol.
    """

    horizon_ns: int
    window: int = 500
    slack_ns: int = 600_000_000_000
    max_pending: int = 50_000
    cusum_slack: float = 0.5
    cusum_threshold: float = 250.0
    retrain_min_gap_ns: int = HOUR_NS
    retrain: Threshold = field(default_factory=lambda: seed_thresholds()["retrain"])
    model_review: Threshold = field(default_factory=lambda: seed_thresholds()["model_review"])

    def __post_init__(self) -> None:
        if type(self.horizon_ns) is not int or self.horizon_ns <= 0:
            raise ValueError(f"OutcomeConfig.horizon_ns must be an int > 0, got {self.horizon_ns!r}")
        if type(self.window) is not int or self.window < 1:
            raise ValueError(f"OutcomeConfig.window must be an int >= 1, got {self.window!r}")
        if type(self.slack_ns) is not int or self.slack_ns < 0:
            raise ValueError(f"OutcomeConfig.slack_ns must be an int >= 0, got {self.slack_ns!r}")
        if type(self.max_pending) is not int or self.max_pending < 1:
            raise ValueError(f"OutcomeConfig.max_pending must be an int >= 1, got {self.max_pending!r}")
        if not (0.0 <= self.cusum_slack < math.inf and 0.0 < self.cusum_threshold < math.inf):
            raise ValueError(f"OutcomeConfig needs cusum_slack >= 0 and cusum_threshold > 0, got "
                             f"{self.cusum_slack!r} and {self.cusum_threshold!r}")
        if type(self.retrain_min_gap_ns) is not int or self.retrain_min_gap_ns < 0:
            raise ValueError(f"OutcomeConfig.retrain_min_gap_ns must be an int >= 0, got {self.retrain_min_gap_ns!r}")


class _ModelStats:
    """Rolling window of one model's outcomes on one symbol, with O(1) running sums."""

    __slots__ = ("recent", "hits", "log_loss", "brier", "confidence", "cusum", "last_retrain", "resolved", "alarms")

    def __init__(self, config: OutcomeConfig) -> None:
        self.recent: deque[tuple[int, float, float, float]] = deque()
        self.hits = 0
        self.log_loss = 0.0
        self.brier = 0.0
        self.confidence = 0.0
        self.cusum = 0.0
        self.last_retrain = -1
        self.resolved = 0
        self.alarms = {"retrain": OnsetAlarm(config.retrain), "model_review": OnsetAlarm(config.model_review)}

    def add(self, hit: int, log_loss: float, brier: float, confidence: float, window: int) -> None:
        self.recent.append((hit, log_loss, brier, confidence))
        self.hits += hit
        self.log_loss += log_loss
        self.brier += brier
        self.confidence += confidence
        if len(self.recent) > window:
            old_hit, old_loss, old_brier, old_confidence = self.recent.popleft()
            self.hits -= old_hit
            self.log_loss -= old_loss
            self.brier -= old_brier
            self.confidence -= old_confidence
        self.resolved += 1


class OutcomeTracker:
    """Per-symbol join of predictions with realized moves, and live model statistics."""

    __slots__ = ("_config", "_row_ts", "_row_price", "_pruned_ts", "_pending", "_stats", "dropped", "flat")

    def __init__(self, config: OutcomeConfig) -> None:
        if not isinstance(config, OutcomeConfig):
            raise TypeError(f"OutcomeTracker needs an OutcomeConfig, got {type(config).__name__}")
        self._config = config
        self._row_ts: deque[int] = deque()
        self._row_price: deque[float] = deque()
        self._pruned_ts = -1  # event time of the newest row no longer kept (-1: none)
        self._pending: deque[Prediction] = deque()
        self._stats: dict[str, _ModelStats] = {}
        self.dropped = 0
        self.flat = 0  # predictions whose horizon ended at their own price: no label, as in training

    @property
    def pending(self) -> int:
        return len(self._pending)

    def on_row(self, row: FeatureRow) -> tuple[list[Outcome], list[DriftEvent]]:
        """Record the row's price; resolve every pending prediction whose horizon it reaches."""
        if not (0.0 < row.price < math.inf):
            return [], []
        if self._row_ts and row.ts_ns < self._row_ts[-1]:
            return [], []  # rows of one symbol come in event-time order; an older one adds nothing
        self._row_ts.append(row.ts_ns)
        self._row_price.append(row.price)
        keep_after = row.ts_ns - self._config.horizon_ns - self._config.slack_ns
        while self._row_ts and self._row_ts[0] < keep_after:
            self._pruned_ts = self._row_ts.popleft()
            self._row_price.popleft()
        ready = []
        horizon = self._config.horizon_ns
        while self._pending and self._pending[0].ts_ns + horizon <= row.ts_ns:
            ready.append(self._pending.popleft())
        return self._resolve([(prediction, row.ts_ns, row.price) for prediction in ready])

    def on_prediction(self, prediction: Prediction) -> tuple[list[Outcome], list[DriftEvent]]:
        """Resolve at once if a kept row already reaches the horizon, else wait for one."""
        if not (0.0 < prediction.price < math.inf) or not (0.0 <= prediction.p_up <= 1.0):
            return [], []
        target = prediction.ts_ns + self._config.horizon_ns
        if self._row_ts and self._row_ts[-1] >= target:
            index = bisect_left(self._row_ts, target)
            if index > 0 or self._pruned_ts < target:
                return self._resolve([(prediction, self._row_ts[index], self._row_price[index])])
            self.dropped += 1  # the row that resolved it is no longer kept: too late to join honestly
            return [], []
        pending = self._pending
        if pending and prediction.ts_ns < pending[-1].ts_ns:
            # Keep pending sorted by event time (arrivals are almost always in order).
            items = sorted([*pending, prediction], key=lambda p: (p.ts_ns, p.prediction_id))
            pending.clear()
            pending.extend(items)
        else:
            pending.append(prediction)
        while len(pending) > self._config.max_pending:
            pending.popleft()
            self.dropped += 1
        return [], []

    def _resolve(self, joined: list[tuple[Prediction, int, float]]) -> tuple[list[Outcome], list[DriftEvent]]:
        outcomes: list[Outcome] = []
        events: list[DriftEvent] = []
        window = self._config.window
        for prediction, resolved_ts, resolved_price in joined:
            if resolved_price == prediction.price:
                self.flat += 1
                continue
            realized_up = resolved_price > prediction.price
            p = min(1.0 - PROBABILITY_FLOOR, max(PROBABILITY_FLOOR, prediction.p_up))
            label = 1.0 if realized_up else 0.0
            log_loss = -(label * math.log(p) + (1.0 - label) * math.log(1.0 - p))
            brier = (prediction.p_up - label) ** 2
            hit = int((prediction.p_up > 0.5) == realized_up)
            stats = self._stats.get(prediction.model_version)
            if stats is None:
                stats = self._stats[prediction.model_version] = _ModelStats(self._config)
            stats.add(hit, log_loss, brier, prediction.confidence, window)
            count = len(stats.recent)
            outcome = Outcome(
                prediction_id=prediction.prediction_id, symbol=prediction.symbol,
                model_version=prediction.model_version, ts_ns=prediction.ts_ns, resolved_ts_ns=resolved_ts,
                horizon_ns=self._config.horizon_ns, price=prediction.price, resolved_price=resolved_price,
                p_up=prediction.p_up, confidence=prediction.confidence, direction=prediction.direction,
                realized_up=realized_up, correct=bool(hit), log_loss=log_loss, brier=brier, window=count,
                rolling_accuracy=stats.hits / count, rolling_log_loss=stats.log_loss / count,
                rolling_brier=stats.brier / count, rolling_confidence=stats.confidence / count,
            )
            outcomes.append(outcome)
            events.extend(self._watch(stats, outcome, resolved_ts))
        return outcomes, events

    def _watch(self, stats: _ModelStats, outcome: Outcome, ts_ns: int) -> list[DriftEvent]:
        events = []
        config = self._config
        error = standardised_excess_log_loss(outcome.p_up, outcome.realized_up)
        stats.cusum = max(0.0, stats.cusum + error - config.cusum_slack)
        retrain = []
        if stats.cusum > config.cusum_threshold:
            retrain.append(self._event("retrain", f"cusum(k={config.cusum_slack:g},h={config.cusum_threshold:g})",
                                       ERROR_FEATURE, stats.cusum, outcome, ts_ns))
            stats.cusum = 0.0
        if stats.alarms["retrain"].update(outcome.rolling_accuracy, outcome.window):
            retrain.append(self._event("retrain", "threshold", "accuracy", outcome.rolling_accuracy, outcome, ts_ns))
        if retrain and (stats.last_retrain < 0 or ts_ns - stats.last_retrain >= config.retrain_min_gap_ns):
            stats.last_retrain = ts_ns
            events.append(retrain[0])
        if stats.alarms["model_review"].update(outcome.rolling_confidence, outcome.window):
            events.append(self._event("model_review", "threshold", "average_confidence", outcome.rolling_confidence,
                                      outcome, ts_ns))
        return events

    @staticmethod
    def _event(kind: str, detector: str, feature: str, statistic: float, outcome: Outcome, ts_ns: int) -> DriftEvent:
        return DriftEvent(event_id=stable_id(outcome.symbol, outcome.model_version, kind, feature, ts_ns),
                          symbol=outcome.symbol, ts_ns=ts_ns, feature=feature, detector=detector,
                          statistic=float(statistic), kind=kind, model_version=outcome.model_version)

    def __getstate__(self) -> dict[str, object]:
        return {"config": self._config, "row_ts": self._row_ts, "row_price": self._row_price,
                "pruned_ts": self._pruned_ts,
                "pending": self._pending, "stats": self._stats, "dropped": self.dropped, "flat": self.flat}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._config = state["config"]  # type: ignore[assignment]
        self._row_ts = state["row_ts"]  # type: ignore[assignment]
        self._row_price = state["row_price"]  # type: ignore[assignment]
        self._pruned_ts = state["pruned_ts"]  # type: ignore[assignment]
        self._pending = state["pending"]  # type: ignore[assignment]
        self._stats = state["stats"]  # type: ignore[assignment]
        self.dropped = state["dropped"]  # type: ignore[assignment]
        self.flat = state["flat"]  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"OutcomeTracker(pending={len(self._pending)}, models={sorted(self._stats)!r})"
