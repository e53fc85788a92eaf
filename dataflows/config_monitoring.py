"""Settings of model monitoring: drift detectors, PSI against the training profile, live outcomes.

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

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MonitoringSection"]


class MonitoringSection(BaseSettings):
    """Drift detectors, PSI against the training profile and live accuracy thresholds (``TICKWISE_*``)."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore",
                                      alias_generator=lambda name: "TICKWISE_" + name.upper())

    drift_detector: Literal["adwin", "page_hinkley", "kswin"] = "adwin"
    drift_sample_every: int = Field(0, ge=0, le=1_000_000)  # 0: per detector
    psi_window: int = Field(600, ge=20, le=1_000_000)
    psi_threshold: float = Field(0.1, gt=0)
    retrain_accuracy: float = Field(0.55, ge=0, le=1)
    review_confidence: float = Field(0.7, ge=0.5, le=1)  # probability of the predicted class
    outcome_window: int = Field(500, ge=1, le=1_000_000)
    outcome_min_samples: int = Field(100, ge=1, le=1_000_000)

    @property
    def psi_check_every(self) -> int:
        """PSI is checked ten times per window, at least every row and at most every 60."""
        return max(1, min(60, self.psi_window // 10))
