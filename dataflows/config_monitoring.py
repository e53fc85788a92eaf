"""Settings of model monitoring: drift detectors, PSI against the training profile, live outcomes.

Feature drift (``TICKWISE_DRIFT_DETECTOR``, default ``standardised``): each feature against its
own last half hour, one alarm per symbol and feature group that opens at
``TICKWISE_DRIFT_OPEN_LEVEL`` and closes at ``TICKWISE_DRIFT_CLOSE_LEVEL`` (in units of the
statistic's own typical size; ``operators.monitoring.standardised``), at most one opening per
group every ``TICKWISE_DRIFT_MIN_GAP_S``. The levels are the ones ``bench/drift_eval.py``
supports on real held-out days (``docs/monitoring.md`` has its table). ``adwin``,
``page_hinkley`` and ``kswin`` run River detectors on raw feature values instead (the former
monitor: hundreds of events a day).

A section of ``dataflows.config.Settings`` (``settings.monitoring``, variables ``TICKWISE_*``
named after the fields). Three thresholds raise model events (``operators.monitoring.thresholds``);
each is a fixed, documented cut rather than one tuned on our data, and is on the scale its
name says:

- ``TICKWISE_RETRAIN_ACCURACY`` (0.55): a ``retrain`` event when the live share of correct
  directions over the latest ``outcome_window`` (500) resolved predictions falls below it. A
  coin flip scores 0.5 with a standard error of sqrt(0.25 / 500) = 0.022 on 500 outcomes, so
  0.55 is about two standard errors above chance: a model below it has not shown skill.
- ``TICKWISE_PSI_THRESHOLD`` (0.1): a ``drift`` event when a feature's population stability
  index against the training profile exceeds it. The credit-scoring convention reads a PSI
  under 0.1 as no shift, 0.1-0.25 as a moderate shift and above 0.25 as a major one; we alarm
  at the first level.
- ``TICKWISE_REVIEW_CONFIDENCE`` (0.7): a ``model_review`` event when the average confidence
  over the window falls below it. Confidence is the probability of the predicted class,
  ``max(p_up, 1 - p_up)`` in [0.5, 1], so 0.7 means "on average at least 70/30 sure"; a
  model that hovers near 0.5 (as the shipped one does) is flagged for review, which is the
  point. On the former scale ``|2 p_up - 1|`` the same cut meant 85/15.

The thresholds need ``outcome_min_samples`` (100) resolved predictions before they can fire.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from operators.monitoring.drift import DriftConfig
from operators.monitoring.standardised import StandardisedDriftConfig

__all__ = ["MonitoringSection"]

_DRIFT = StandardisedDriftConfig()


class MonitoringSection(BaseSettings):
    """Drift detectors, PSI against the training profile and live accuracy thresholds (``TICKWISE_*``)."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore",
                                      alias_generator=lambda name: "TICKWISE_" + name.upper())

    drift_detector: Literal["standardised", "adwin", "page_hinkley", "kswin"] = "standardised"
    drift_open_level: float = Field(_DRIFT.open_level, gt=0, le=1_000)
    drift_close_level: float = Field(_DRIFT.close_level, gt=0, le=1_000)
    drift_min_gap_s: float = Field(_DRIFT.min_gap_s, ge=0, le=86_400)
    drift_sample_every: int = Field(0, ge=0, le=1_000_000)  # 0: per detector
    psi_window: int = Field(600, ge=20, le=1_000_000)
    psi_threshold: float = Field(0.1, gt=0)
    retrain_accuracy: float = Field(0.55, ge=0, le=1)
    review_confidence: float = Field(0.7, ge=0.5, le=1)  # probability of the predicted class
    outcome_window: int = Field(500, ge=1, le=1_000_000)
    outcome_min_samples: int = Field(100, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _close_below_open(self) -> MonitoringSection:
        if self.drift_close_level > self.drift_open_level:
            raise ValueError(f"TICKWISE_DRIFT_CLOSE_LEVEL ({self.drift_close_level}) must not be above "
                             f"TICKWISE_DRIFT_OPEN_LEVEL ({self.drift_open_level})")
        return self

    def drift_config(self) -> DriftConfig:
        """The drift stage's settings (``dataflows.components`` builds ``DriftStep`` with them)."""
        return DriftConfig(detector=self.drift_detector, sample_every=self.drift_sample_every,
                           standardised=StandardisedDriftConfig(open_level=self.drift_open_level,
                                                                close_level=self.drift_close_level,
                                                                min_gap_s=self.drift_min_gap_s))

    @property
    def psi_check_every(self) -> int:
        """PSI is checked ten times per window, at least every row and at most every 60."""
        return max(1, min(60, self.psi_window // 10))
