"""Watching features and models: standardised features per group (the live default), River drift
detectors on raw values, PSI against the training profile, live outcomes (accuracy, calibrated
error) and the thresholds that raise events. ``docs/monitoring.md`` says what is watched and why.
"""

from operators.monitoring.drift import DriftConfig, FeatureDriftMonitor
from operators.monitoring.psi import FeatureProfile, PsiConfig, PsiMonitor, PsiReading, population_stability_index
from operators.monitoring.outcomes import OutcomeConfig, OutcomeTracker
from operators.monitoring.standardised import StandardisedDriftConfig, StandardisedDriftMonitor
from operators.monitoring.thresholds import OnsetAlarm, Threshold, seed_thresholds

__all__ = ["DriftConfig", "FeatureDriftMonitor", "FeatureProfile", "OnsetAlarm", "OutcomeConfig", "OutcomeTracker", "PsiConfig", "PsiMonitor", "PsiReading", "StandardisedDriftConfig", "StandardisedDriftMonitor", "Threshold", "population_stability_index", "seed_thresholds"]
