"""Other three-candle patterns: inside/outside confirmations, gaps held or filled, river bottoms.

>>> outside = ThreeOutside()
>>> for open, close in [(10.0, 10.1), (10.5, 10.2), (10.1, 10.7), (10.7, 11.0)]:
...     outside.update(open, max(open, close), min(open, close), close)
>>> outside.value
100.0
"""

from __future__ import annotations

from operators.ta.candles.candle import (body_bottom, body_top, color, colors, lower_shadow, real_body,
                                         real_body_gap, real_body_gap_down, real_body_gap_up, real_body_inside,
                                         upper_shadow, within)
from operators.ta.candles.pattern import CandlePattern, at_most, longer, shorter
from operators.ta.candles.settings import BODY_LONG, BODY_SHORT, EQUAL, NEAR, SHADOW_LONG, SHADOW_VERY_SHORT
from operators.ta.candles.window import CandleRing


class ThreeInside(CandlePattern):
    """CDL3INSIDE: a harami (long body, short body inside it) confirmed by a close beyond the first open."""

    __slots__ = ()
    candles = 3
    rules = (longer(real_body, BODY_LONG, 2), at_most(real_body, BODY_SHORT, 1))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        direction = color(first)
        if (real_body_inside(second, first) and color(third) == -direction
                and (third.close < first.open if direction == 1 else third.close > first.open)):
            return -direction * 100
        return 0


class ThreeOutside(CandlePattern):
    """CDL3OUTSIDE: an engulfing pair confirmed by a third close beyond the second."""

    __slots__ = ()
    lookback = 3
    candles = 3

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
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
    candles = 3
    rules = (longer(real_body, BODY_LONG, 2), longer(lower_shadow, SHADOW_LONG, 2),
             longer(lower_shadow, SHADOW_VERY_SHORT, 1), shorter(real_body, BODY_SHORT),
             shorter(lower_shadow, SHADOW_VERY_SHORT), shorter(upper_shadow, SHADOW_VERY_SHORT))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (colors(first, second, third) == (-1, -1, -1) and real_body(second) < real_body(first)
                       and first.close < second.open <= first.high and first.low <= second.low < first.close
                       and third.low > second.low and third.high < second.high) else 0


class GapSideBySideWhiteLines(CandlePattern):
    """CDLGAPSIDESIDEWHITE: after a gap, two similar white candles side by side; signed by the gap."""

    __slots__ = ()
    candles = 3
    averages = ((NEAR, 1), (EQUAL, 1))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        near, equal = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        gap_up = real_body_gap_up(second, first)
        if ((gap_up and real_body_gap_up(third, first))
                or (real_body_gap_down(second, first) and real_body_gap_down(third, first))) and (
                colors(second, third) == (1, 1) and within(real_body(third), real_body(second), near)
                and within(third.open, second.open, equal)):
            return 100 if gap_up else -100
        return 0


class StickSandwich(CandlePattern):
    """CDLSTICKSANDWICH: black, white trading above the black close, then black closing at the first close."""

    __slots__ = ()
    candles = 3
    averages = ((EQUAL, 2),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (colors(first, second, third) == (-1, 1, -1) and second.low > first.close
                       and within(third.close, first.close, thresholds[0])) else 0


class TasukiGap(CandlePattern):
    """CDLTASUKIGAP: a body gap, then an opposite candle of similar size that closes into the gap
    without filling it; signed by the second candle."""

    __slots__ = ()
    candles = 3
    averages = ((NEAR, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
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
    candles = 3
    rules = (longer(real_body, BODY_LONG, 2), shorter(real_body, BODY_SHORT))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (colors(first, second, third) == (-1, -1, 1) and second.close > first.close
                       and second.open <= first.open and second.low < first.low and third.open > second.low) else 0


class UpsideDownsideGapThreeMethods(CandlePattern):
    """CDLXSIDEGAP3METHODS: two same-colored candles with a body gap, then an opposite candle
    opening inside the second body and closing inside the first; signed by the first."""

    __slots__ = ()
    candles = 3

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        direction = color(first)
        if (color(second) == direction and color(third) == -direction
                and body_bottom(second) < third.open < body_top(second)
                and body_bottom(first) < third.close < body_top(first)
                and real_body_gap(second, first, direction)):
            return direction * 100
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
