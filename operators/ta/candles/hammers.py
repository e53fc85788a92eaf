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

from collections import deque

from operators.ta.candles.candle import (Candle, body_bottom, lower_shadow, real_body, real_body_gap_down,
                                      real_body_gap_up, upper_shadow)
from operators.ta.candles.pattern import CandlePattern
from operators.ta.candles.settings import BODY_SHORT, NEAR, SHADOW_LONG, SHADOW_VERY_SHORT


class Hammer(CandlePattern):
    """CDLHAMMER: small body, long lower shadow, no upper shadow, body near or below the prior low."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, SHADOW_LONG.average_period, SHADOW_VERY_SHORT.average_period,
                   NEAR.average_period) + 1
    candles = 2
    averages = ((BODY_SHORT, 0), (SHADOW_LONG, 0), (SHADOW_VERY_SHORT, 0), (NEAR, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_short, shadow_long, shadow_very_short, near = thresholds
        previous, candle = candles[-2], candles[-1]
        return 100 if (real_body(candle) < body_short and lower_shadow(candle) > shadow_long
                       and upper_shadow(candle) < shadow_very_short
                       and body_bottom(candle) <= previous.low + near) else 0


class HangingMan(CandlePattern):
    """CDLHANGINGMAN: the hammer's shape with its body near or above the prior high."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, SHADOW_LONG.average_period, SHADOW_VERY_SHORT.average_period,
                   NEAR.average_period) + 1
    candles = 2
    averages = ((BODY_SHORT, 0), (SHADOW_LONG, 0), (SHADOW_VERY_SHORT, 0), (NEAR, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_short, shadow_long, shadow_very_short, near = thresholds
        previous, candle = candles[-2], candles[-1]
        return -100 if (real_body(candle) < body_short and lower_shadow(candle) > shadow_long
                        and upper_shadow(candle) < shadow_very_short
                        and body_bottom(candle) >= previous.high - near) else 0


class InvertedHammer(CandlePattern):
    """CDLINVERTEDHAMMER: small body, long upper shadow, no lower shadow, gapping down."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, SHADOW_LONG.average_period, SHADOW_VERY_SHORT.average_period) + 1
    candles = 2
    averages = ((BODY_SHORT, 0), (SHADOW_LONG, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_short, shadow_long, shadow_very_short = thresholds
        previous, candle = candles[-2], candles[-1]
        return 100 if (real_body(candle) < body_short and upper_shadow(candle) > shadow_long
                       and lower_shadow(candle) < shadow_very_short
                       and real_body_gap_down(candle, previous)) else 0


class ShootingStar(CandlePattern):
    """CDLSHOOTINGSTAR: the inverted hammer's shape gapping up."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, SHADOW_LONG.average_period, SHADOW_VERY_SHORT.average_period) + 1
    candles = 2
    averages = ((BODY_SHORT, 0), (SHADOW_LONG, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_short, shadow_long, shadow_very_short = thresholds
        previous, candle = candles[-2], candles[-1]
        return -100 if (real_body(candle) < body_short and upper_shadow(candle) > shadow_long
                        and lower_shadow(candle) < shadow_very_short
                        and real_body_gap_up(candle, previous)) else 0


TALIB_FUNCTIONS: dict[str, type] = {
    "CDLHAMMER": Hammer,
    "CDLHANGINGMAN": HangingMan,
    "CDLINVERTEDHAMMER": InvertedHammer,
    "CDLSHOOTINGSTAR": ShootingStar,
}
