"""TA-Lib's volume indicators, one bar at a time: AD, ADOSC, CMF, EFI, MARKETFI, NVI, OBV, PVI,
PVO, PVT, RVOL, VWAP.

Every class follows the indicator contract of :mod:`operators.ta.base`; running window sums are
updated in TA-Lib's order so they carry the same rounding. The Chaikin money-flow family is in
:mod:`~.accumulation`, the indicators that run from the first bar in :mod:`~.cumulative`, the
oscillators and ratios in :mod:`~.oscillators`.

>>> line = AccumulationDistributionLine()
>>> for high, low, close, volume in [(10.0, 8.0, 9.5, 100.0), (11.0, 9.0, 9.5, 50.0)]:
...     line.update(high, low, close, volume)
>>> line.value
25.0
"""

from __future__ import annotations

from operators.ta.base import Indicator
from operators.ta.indicators.volume.accumulation import (
    AccumulationDistributionLine,
    ChaikinMoneyFlow,
    ChaikinOscillator,
)
from operators.ta.indicators.volume.cumulative import (
    NegativeVolumeIndex,
    OnBalanceVolume,
    PositiveVolumeIndex,
    PriceVolumeTrend,
    VolumeWeightedAveragePrice,
)
from operators.ta.indicators.volume.oscillators import (
    ElderForceIndex,
    MarketFacilitationIndex,
    PercentageVolumeOscillator,
    RelativeVolume,
)

__all__ = [
    "TALIB_FUNCTIONS",
    "AccumulationDistributionLine",
    "ChaikinMoneyFlow",
    "ChaikinOscillator",
    "ElderForceIndex",
    "MarketFacilitationIndex",
    "NegativeVolumeIndex",
    "OnBalanceVolume",
    "PercentageVolumeOscillator",
    "PositiveVolumeIndex",
    "PriceVolumeTrend",
    "RelativeVolume",
    "VolumeWeightedAveragePrice",
]

TALIB_FUNCTIONS: dict[str, type[Indicator]] = {
    "AD": AccumulationDistributionLine,
    "ADOSC": ChaikinOscillator,
    "CMF": ChaikinMoneyFlow,
    "EFI": ElderForceIndex,
    "MARKETFI": MarketFacilitationIndex,
    "NVI": NegativeVolumeIndex,
    "OBV": OnBalanceVolume,
    "PVI": PositiveVolumeIndex,
    "PVO": PercentageVolumeOscillator,
    "PVT": PriceVolumeTrend,
    "RVOL": RelativeVolume,
    "VWAP": VolumeWeightedAveragePrice,
}
