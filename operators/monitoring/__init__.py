"""Watching features and models: River drift detectors, PSI against the training profile, live
outcomes (accuracy, calibration) and the thresholds that raise events.
"""

from operators.monitoring.drift import DriftConfig, FeatureDriftMonitor
from operators.monitoring.psi import FeatureProfile, PsiConfig, PsiMonitor, PsiReading, population_stability_index
from operators.monitoring.outcomes import OutcomeConfig, OutcomeTracker
from operators.monitoring.thresholds import OnsetAlarm, Threshold, seed_thresholds

__all__ = ["DriftConfig", "FeatureDriftMonitor", "FeatureProfile", "OnsetAlarm", "OutcomeConfig", "OutcomeTracker", "PsiConfig", "PsiMonitor", "PsiReading", "Threshold", "population_stability_index", "seed_thresholds"]
