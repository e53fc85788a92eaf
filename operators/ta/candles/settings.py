"""TA-Lib's default candle settings: what "long", "short", "doji", "near" ... mean.

Each setting measures a candle by one range (real body, high-low range, or both shadows) and
compares it with ``factor`` times the average of that range over the ``average_period``
candles *before* the candle judged; a period of 0 means "this candle's own range". A
``SHADOWS`` average is halved, so it stands for one shadow, not the two together.

>>> BODY_DOJI.range_type.name, BODY_DOJI.average_period, BODY_DOJI.factor
('HIGH_LOW', 10, 0.1)
>>> sorted(DEFAULT_CANDLE_SETTINGS) == sorted(setting.name for setting in DEFAULT_CANDLE_SETTINGS.values())
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from operators.ta.candles.candle import Candle, high_low_range, real_body, shadows


class RangeType(Enum):
    """Which part of a candle a setting measures."""

    REAL_BODY = "RealBody"
    HIGH_LOW = "HighLow"
    SHADOWS = "Shadows"


RANGE_MEASURES: dict[RangeType, Callable[[Candle], float]] = {
    RangeType.REAL_BODY: real_body,
    RangeType.HIGH_LOW: high_low_range,
    RangeType.SHADOWS: shadows,
}


@dataclass(frozen=True, slots=True)
class CandleSetting:
    """One named threshold: ``factor * mean(range over average_period candles) / divisor``."""

    name: str
    range_type: RangeType
    average_period: int
    factor: float

    def __post_init__(self) -> None:
        if isinstance(self.average_period, bool) or not isinstance(self.average_period, int) or self.average_period < 0:
            raise ValueError(f"{self.name}: average_period must be an integer >= 0, got {self.average_period!r}")
        if not self.factor >= 0.0:
            raise ValueError(f"{self.name}: factor must be >= 0, got {self.factor!r}")

    @property
    def measure(self) -> Callable[[Candle], float]:
        return RANGE_MEASURES[self.range_type]

    @property
    def divisor(self) -> float:
        return 2.0 if self.range_type is RangeType.SHADOWS else 1.0


BODY_LONG = CandleSetting("BodyLong", RangeType.REAL_BODY, 10, 1.0)
BODY_VERY_LONG = CandleSetting("BodyVeryLong", RangeType.REAL_BODY, 10, 3.0)
BODY_SHORT = CandleSetting("BodyShort", RangeType.REAL_BODY, 10, 1.0)
BODY_DOJI = CandleSetting("BodyDoji", RangeType.HIGH_LOW, 10, 0.1)
SHADOW_LONG = CandleSetting("ShadowLong", RangeType.REAL_BODY, 0, 1.0)
SHADOW_VERY_LONG = CandleSetting("ShadowVeryLong", RangeType.REAL_BODY, 0, 2.0)
SHADOW_SHORT = CandleSetting("ShadowShort", RangeType.SHADOWS, 10, 1.0)
SHADOW_VERY_SHORT = CandleSetting("ShadowVeryShort", RangeType.HIGH_LOW, 10, 0.1)
NEAR = CandleSetting("Near", RangeType.HIGH_LOW, 5, 0.2)
FAR = CandleSetting("Far", RangeType.HIGH_LOW, 5, 0.6)
EQUAL = CandleSetting("Equal", RangeType.HIGH_LOW, 5, 0.05)

DEFAULT_CANDLE_SETTINGS: dict[str, CandleSetting] = {
    setting.name: setting
    for setting in (BODY_LONG, BODY_VERY_LONG, BODY_SHORT, BODY_DOJI, SHADOW_LONG, SHADOW_VERY_LONG,
                    SHADOW_SHORT, SHADOW_VERY_SHORT, NEAR, FAR, EQUAL)
}
