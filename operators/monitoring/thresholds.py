"""Threshold alarms with hysteresis: one event per onset of a condition, never one per update.

The automated monitor raises three actions: ``retrain`` when live accuracy falls
below 0.55, ``feature_investigation`` when a feature's drift (PSI) rises above 0.1 and
``model_review`` when the average confidence falls below 0.7. ``Threshold`` states one such
rule; ``OnsetAlarm`` watches one value against it and says when the condition *begins*.

Hysteresis: after firing, the alarm re-arms only once the value has gone back past
``clear_level`` (on the healthy side of ``level``), so a value that hovers around the
threshold raises one event, not one per update. ``min_samples`` keeps an alarm quiet until
the value is computed over enough observations (a rolling accuracy of 3 outcomes means
nothing).

>>> alarm = OnsetAlarm(Threshold("retrain", "below", level=0.55, clear_level=0.60, min_samples=10))
>>> [alarm.update(value, samples=50) for value in (0.70, 0.54, 0.50, 0.58, 0.61, 0.52)]
[False, True, False, False, False, True]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["OnsetAlarm", "Threshold", "seed_thresholds"]

Side = Literal["below", "above"]


@dataclass(frozen=True, slots=True)
class Threshold:
    """One rule: ``kind`` fires when the value is ``side`` ``level``; it re-arms past ``clear_level``.

    >>> Threshold("retrain", "below", level=0.55, clear_level=0.50)
    Traceback (most recent call last):
    ...
    ValueError: Threshold.clear_level of 'retrain' must be above level 0.55 (the healthy side), got 0.5
    """

    kind: str
    side: Side
    level: float
    clear_level: float
    min_samples: int = 1

    def __post_init__(self) -> None:
        if not self.kind:
            raise ValueError("Threshold.kind must name the event, got ''")
        if self.side not in ("below", "above"):
            raise ValueError(f"Threshold.side of {self.kind!r} must be 'below' or 'above', got {self.side!r}")
        if not (math.isfinite(self.level) and math.isfinite(self.clear_level)):
            raise ValueError(f"Threshold levels of {self.kind!r} must be finite, got {self.level}, {self.clear_level}")
        healthy = "above" if self.side == "below" else "below"
        if (self.side == "below" and self.clear_level < self.level) or (
                self.side == "above" and self.clear_level > self.level):
            raise ValueError(f"Threshold.clear_level of {self.kind!r} must be {healthy} level {self.level} "
                             f"(the healthy side), got {self.clear_level}")
        if type(self.min_samples) is not int or self.min_samples < 1:
            raise ValueError(f"Threshold.min_samples of {self.kind!r} must be an int >= 1, got {self.min_samples!r}")

    def breached(self, value: float) -> bool:
        return value < self.level if self.side == "below" else value > self.level

    def cleared(self, value: float) -> bool:
        return value >= self.clear_level if self.side == "below" else value <= self.clear_level


def seed_thresholds(accuracy: float = 0.55, drift: float = 0.1, confidence: float = 0.7,
                    min_outcomes: int = 100) -> dict[str, Threshold]:
    """The monitor's three rules, with a hysteresis band of about 10% of each level."""
    return {
        "retrain": Threshold("retrain", "below", accuracy, min(1.0, accuracy + 0.05), min_outcomes),
        "feature_investigation": Threshold("feature_investigation", "above", drift, drift * 0.5, 1),
        "model_review": Threshold("model_review", "below", confidence, confidence * 1.1, min_outcomes),
    }


class OnsetAlarm:
    """Watches one value; ``update`` is True exactly when the condition begins."""

    __slots__ = ("threshold", "active")

    def __init__(self, threshold: Threshold) -> None:
        self.threshold = threshold
        self.active = False

    def update(self, value: float, samples: int = 1) -> bool:
        """Feed the current value (computed over ``samples`` observations); True on an onset."""
        if not math.isfinite(value) or samples < self.threshold.min_samples:
            return False
        if self.active:
            if self.threshold.cleared(value):
                self.active = False
            return False
        if self.threshold.breached(value):
            self.active = True
            return True
        return False

    def __getstate__(self) -> tuple[Threshold, bool]:
        return self.threshold, self.active

    def __setstate__(self, state: tuple[Threshold, bool]) -> None:
        self.threshold, self.active = state

    def __repr__(self) -> str:
        return f"OnsetAlarm({self.threshold!r}, active={self.active})"
