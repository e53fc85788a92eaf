"""Long-horizon models on the bar history (DESIGN section 8): volatility, trend and regime.

Features come from the live bar operator :class:`operators.features.long_horizon.LongHorizonFeatures`
driven over 23 years of hourly and daily bars; models are chosen by walk-forward inside the
development years and scored once on the held-out years against their baselines.
"""

from models.bars.predictor import BarModels
from models.bars.train import train_bar_models

__all__ = ["BarModels", "train_bar_models"]
