"""Ehlers' Hilbert-transform cycle indicators ("Cycle Indicators" and MAMA), one bar at a time.

Every function runs one :class:`~.hilbert_transform.HilbertTransform` core, started as TA-Lib
starts it, and follows the indicator contract of :mod:`operators.ta.base`. Fed from the same
first bar, the results match ``talib`` within ~1e-13 (TA-Lib 0.8 fuses some multiply-adds,
which Python 3.11 cannot; HT_TRENDLINE and HT_TRENDMODE come out bit-identical on real data).
Cost per update is O(1); the dominant-cycle phase and the trendline average over the current
dominant cycle, capped at 50 bars.

>>> mama = MesaAdaptiveMovingAverage(fastlimit=0.5, slowlimit=0.05)
>>> for bar in range(40):
...     mama.update(100.0 + bar % 7)
>>> mama.ready, round(mama.value, 4)
(True, 102.9013)
"""

from __future__ import annotations

from operators.ta.base import Indicator
from operators.ta.indicators.cycle.dominant_cycle import (
    HilbertDominantCyclePeriod,
    HilbertDominantCyclePhase,
    HilbertPhasor,
    HilbertSine,
)
from operators.ta.indicators.cycle.hilbert_transform import HilbertTransform
from operators.ta.indicators.cycle.mesa_adaptive_moving_average import MesaAdaptiveMovingAverage
from operators.ta.indicators.cycle.trend import HilbertTrendline, HilbertTrendMode

__all__ = [
    "TALIB_FUNCTIONS",
    "HilbertDominantCyclePeriod",
    "HilbertDominantCyclePhase",
    "HilbertPhasor",
    "HilbertSine",
    "HilbertTransform",
    "HilbertTrendMode",
    "HilbertTrendline",
    "MesaAdaptiveMovingAverage",
]

TALIB_FUNCTIONS: dict[str, type[Indicator]] = {
    "HT_DCPERIOD": HilbertDominantCyclePeriod,
    "HT_DCPHASE": HilbertDominantCyclePhase,
    "HT_PHASOR": HilbertPhasor,
    "HT_SINE": HilbertSine,
    "HT_TRENDMODE": HilbertTrendMode,
    "HT_TRENDLINE": HilbertTrendline,
    "MAMA": MesaAdaptiveMovingAverage,
}
