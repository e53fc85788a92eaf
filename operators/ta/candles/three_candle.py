"""Other three-candle patterns: inside/outside confirmations, gaps held or filled, river bottoms.

>>> outside = ThreeOutside()
>>> for open, close in [(10.0, 10.1), (10.5, 10.2), (10.1, 10.7), (10.7, 11.0)]:
...     outside.update(open, max(open, close), min(open, close), close)
>>> outside.value
100.0
"""

from __future__ import annotations

from collections import deque

from operators.ta.candles.candle import (Candle, body_bottom, body_top, color, lower_shadow, real_body,
                                      real_body_gap_down, real_body_gap_up, upper_shadow)
from operators.ta.candles.pattern import CandlePattern
from operators.ta.candles.settings import BODY_LONG, BODY_SHORT, EQUAL, NEAR, SHADOW_LONG, SHADOW_VERY_SHORT


class ThreeInside(CandlePattern):
    """CDL3INSIDE: a harami (long body, short body inside it) confirmed by a close beyond the first open."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, BODY_LONG.average_period) + 2
    candles = 3
    averages = ((BODY_LONG, 2), (BODY_SHORT, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_short = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        if not (real_body(first) > body_long and real_body(second) <= body_short
                and body_top(second) < body_top(first) and body_bottom(second) > body_bottom(first)):
            return 0
        if (color(first) == 1 and color(third) == -1 and third.close < first.open) or (
                color(first) == -1 and color(third) == 1 and third.close > first.open):
            return -color(first) * 100
        return 0


class ThreeOutside(CandlePattern):
    """CDL3OUTSIDE: an engulfing pair confirmed by a third close beyond the second."""

    __slots__ = ()
    lookback = 3
    candles = 3

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        if (color(second) == 1 and color(first) == -1 and second.close > first.open and second.open < first.close
                and third.close > second.close) or (
                color(second) == -1 and color(first) == 1 and second.open > first.close
                and second.close < first.open and third.close < second.close):
            return color(second) * 100
        return 0


class ThreeStarsInTheSouth(CandlePattern):
    """CDL3STARSINSOUTH: three black candles shrinking into a small marubozu inside the prior range."""

    __slots__ = ()
    lookback = max(SHADOW_VERY_SHORT.average_period, SHADOW_LONG.average_period, BODY_LONG.average_period,
                   BODY_SHORT.average_period) + 2
    candles = 3
    averages = ((BODY_LONG, 2), (SHADOW_LONG, 2), (SHADOW_VERY_SHORT, 1), (BODY_SHORT, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, shadow_long, second_very_short, body_short, third_very_short = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (color(first) == -1 and color(second) == -1 and color(third) == -1
                       and real_body(first) > body_long and lower_shadow(first) > shadow_long
                       and real_body(second) < real_body(first)
                       and second.open > first.close and second.open <= first.high
                       and second.low < first.close and second.low >= first.low
                       and lower_shadow(second) > second_very_short
                       and real_body(third) < body_short
                       and lower_shadow(third) < third_very_short and upper_shadow(third) < third_very_short
                       and third.low > second.low and third.high < second.high) else 0


class GapSideBySideWhiteLines(CandlePattern):
    """CDLGAPSIDESIDEWHITE: after a gap, two similar white candles side by side; signed by the gap."""

    __slots__ = ()
    lookback = max(NEAR.average_period, EQUAL.average_period) + 2
    candles = 3
    averages = ((NEAR, 1), (EQUAL, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        near, equal = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        gap_up = real_body_gap_up(second, first)
        if ((gap_up and real_body_gap_up(third, first))
                or (real_body_gap_down(second, first) and real_body_gap_down(third, first))) and (
                color(second) == 1 and color(third) == 1
                and real_body(second) - near <= real_body(third) <= real_body(second) + near
                and second.open - equal <= third.open <= second.open + equal):
            return 100 if gap_up else -100
        return 0


class StickSandwich(CandlePattern):
    """CDLSTICKSANDWICH: black, white trading above the black close, then black closing at the first close."""

    __slots__ = ()
    lookback = EQUAL.average_period + 2
    candles = 3
    averages = ((EQUAL, 2),)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        equal = thresholds[0]
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (color(first) == -1 and color(second) == 1 and color(third) == -1
                       and second.low > first.close
                       and first.close - equal <= third.close <= first.close + equal) else 0


class TasukiGap(CandlePattern):
    """CDLTASUKIGAP: a body gap, then an opposite candle of similar size that closes into the gap
    without filling it; signed by the second candle."""

    __slots__ = ()
    lookback = NEAR.average_period + 2
    candles = 3
    averages = ((NEAR, 1),)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        near = thresholds[0]
        first, second, third = candles[-3], candles[-2], candles[-1]
        similar = abs(real_body(second) - real_body(third)) < near
        if (real_body_gap_up(second, first) and color(second) == 1 and color(third) == -1
                and second.open < third.open < second.close
                and body_top(first) < third.close < second.open and similar) or (
                real_body_gap_down(second, first) and color(second) == -1 and color(third) == 1
                and second.close < third.open < second.open
                and second.open < third.close < body_bottom(first) and similar):
            return color(second) * 100
        return 0


class UniqueThreeRiver(CandlePattern):
    """CDLUNIQUE3RIVER: long black, a black harami body with a lower low, then a small white above that low."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, BODY_LONG.average_period) + 2
    candles = 3
    averages = ((BODY_LONG, 2), (BODY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_short = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (real_body(first) > body_long and color(first) == -1
                       and color(second) == -1 and second.close > first.close and second.open <= first.open
                       and second.low < first.low
                       and real_body(third) < body_short and color(third) == 1 and third.open > second.low) else 0


class UpsideDownsideGapThreeMethods(CandlePattern):
    """CDLXSIDEGAP3METHODS: two same-colored candles with a body gap, then an opposite candle
    opening inside the second body and closing inside the first; signed by the first."""

    __slots__ = ()
    lookback = 2
    candles = 3

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        if (color(first) == color(second) and color(second) == -color(third)
                and body_bottom(second) < third.open < body_top(second)
                and body_bottom(first) < third.close < body_top(first)
                and ((color(first) == 1 and real_body_gap_up(second, first))
                     or (color(first) == -1 and real_body_gap_down(second, first)))):
            return color(first) * 100
        return 0


TALIB_FUNCTIONS: dict[str, type] = {
    "CDL3INSIDE": ThreeInside,
    "CDL3OUTSIDE": ThreeOutside,
    "CDL3STARSINSOUTH": ThreeStarsInTheSouth,
    "CDLGAPSIDESIDEWHITE": GapSideBySideWhiteLines,
    "CDLSTICKSANDWICH": StickSandwich,
    "CDLTASUKIGAP": TasukiGap,
    "CDLUNIQUE3RIVER": UniqueThreeRiver,
    "CDLXSIDEGAP3METHODS": UpsideDownsideGapThreeMethods,
}
