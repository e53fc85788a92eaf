"""Hammer-shaped candles judged against the candle before them.

A small body with one long shadow and (almost) none on the other side; where it sits relative
to the previous candle decides the name.

>>> hammer = Hammer()
>>> for open, high, low, close in [(10.0, 10.6, 9.9, 10.5)] * 11 + [(9.6, 9.62, 8.6, 9.55)]:
...     hammer.update(open, high, low, close)
>>> hammer.value
100.0
"""

from __future__ import annotations

from operators.ta.candles.candle import (body_bottom, lower_shadow, real_body, real_body_gap_down,
                                         real_body_gap_up, upper_shadow)
from operators.ta.candles.pattern import CandlePattern, longer, shorter
from operators.ta.candles.settings import BODY_SHORT, NEAR, SHADOW_LONG, SHADOW_VERY_SHORT
from operators.ta.candles.window import CandleRing

HAMMER = (shorter(real_body, BODY_SHORT), longer(lower_shadow, SHADOW_LONG), shorter(upper_shadow, SHADOW_VERY_SHORT))
"""Small body, long lower shadow, (almost) no upper shadow."""
INVERTED_HAMMER = (shorter(real_body, BODY_SHORT), longer(upper_shadow, SHADOW_LONG),
                   shorter(lower_shadow, SHADOW_VERY_SHORT))
"""Small body, long upper shadow, (almost) no lower shadow."""


class Hammer(CandlePattern):
    """CDLHAMMER: the hammer's shape with its body near or below the prior low."""

    __slots__ = ()
    candles = 2
    rules = HAMMER
    averages = ((NEAR, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        return 100 if body_bottom(candles[-1]) <= candles[-2].low + thresholds[0] else 0


class HangingMan(CandlePattern):
    """CDLHANGINGMAN: the hammer's shape with its body near or above the prior high."""

    __slots__ = ()
    candles = 2
    rules = HAMMER
    averages = ((NEAR, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        return -100 if body_bottom(candles[-1]) >= candles[-2].high - thresholds[0] else 0


class InvertedHammer(CandlePattern):
    """CDLINVERTEDHAMMER: the inverted hammer's shape gapping down."""

    __slots__ = ()
    candles = 2
    rules = INVERTED_HAMMER

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        return 100 if real_body_gap_down(candles[-1], candles[-2]) else 0


class ShootingStar(CandlePattern):
    """CDLSHOOTINGSTAR: the inverted hammer's shape gapping up."""

    __slots__ = ()
    candles = 2
    rules = INVERTED_HAMMER

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        return -100 if real_body_gap_up(candles[-1], candles[-2]) else 0


TALIB_FUNCTIONS: dict[str, type] = {
    "CDLHAMMER": Hammer,
    "CDLHANGINGMAN": HangingMan,
    "CDLINVERTEDHAMMER": InvertedHammer,
    "CDLSHOOTINGSTAR": ShootingStar,
}
