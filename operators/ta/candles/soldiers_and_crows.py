"""Three same-colored candles stepping one way (soldiers, crows, and their weakening forms),
and the two-crows patterns.

>>> crows = ThreeBlackCrows()
>>> bars = [(10.0, 10.3, 9.9, 10.2)] * 10 + [(10.2, 11.0, 10.1, 10.9), (10.8, 10.85, 10.34, 10.35),
...         (10.5, 10.55, 9.94, 9.95), (10.1, 10.15, 9.44, 9.45)]
>>> for bar in bars:
...     crows.update(*bar)
>>> crows.value
-100.0
"""

from __future__ import annotations

from collections import deque

from operators.ta.candles.candle import Candle, color, lower_shadow, real_body, real_body_gap_up, upper_shadow
from operators.ta.candles.pattern import CandlePattern
from operators.ta.candles.settings import (BODY_LONG, BODY_SHORT, EQUAL, FAR, NEAR, SHADOW_LONG, SHADOW_SHORT,
                                        SHADOW_VERY_SHORT)


class ThreeBlackCrows(CandlePattern):
    """CDL3BLACKCROWS: after a white candle, three declining black candles each opening inside the
    prior body and closing near their lows."""

    __slots__ = ()
    lookback = SHADOW_VERY_SHORT.average_period + 3
    candles = 4
    averages = ((SHADOW_VERY_SHORT, 2), (SHADOW_VERY_SHORT, 1), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first_shadow, second_shadow, third_shadow = thresholds
        before, first, second, third = candles[-4], candles[-3], candles[-2], candles[-1]
        return -100 if (color(before) == 1 and color(first) == -1 and color(second) == -1 and color(third) == -1
                        and first.close < second.open < first.open and second.close < third.open < second.open
                        and before.high > first.close and first.close > second.close > third.close
                        and lower_shadow(first) < first_shadow and lower_shadow(second) < second_shadow
                        and lower_shadow(third) < third_shadow) else 0


class ThreeWhiteSoldiers(CandlePattern):
    """CDL3WHITESOLDIERS: three rising white candles, each opening within or near the prior body,
    closing near their highs, none much shorter than the one before."""

    __slots__ = ()
    lookback = max(SHADOW_VERY_SHORT.average_period, BODY_SHORT.average_period, FAR.average_period,
                   NEAR.average_period) + 2
    candles = 3
    averages = ((SHADOW_VERY_SHORT, 2), (SHADOW_VERY_SHORT, 1), (SHADOW_VERY_SHORT, 0), (NEAR, 2), (NEAR, 1),
                (FAR, 2), (FAR, 1), (BODY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        (first_shadow, second_shadow, third_shadow, first_near, second_near, first_far, second_far,
         body_short) = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (color(first) == 1 and upper_shadow(first) < first_shadow
                       and color(second) == 1 and upper_shadow(second) < second_shadow
                       and color(third) == 1 and upper_shadow(third) < third_shadow
                       and third.close > second.close > first.close
                       and second.open > first.open and second.open <= first.close + first_near
                       and third.open > second.open and third.open <= second.close + second_near
                       and real_body(second) > real_body(first) - first_far
                       and real_body(third) > real_body(second) - second_far
                       and real_body(third) > body_short) else 0


class IdenticalThreeCrows(CandlePattern):
    """CDLIDENTICAL3CROWS: three declining black candles, each opening at the prior close."""

    __slots__ = ()
    lookback = max(SHADOW_VERY_SHORT.average_period, EQUAL.average_period) + 2
    candles = 3
    averages = ((SHADOW_VERY_SHORT, 2), (SHADOW_VERY_SHORT, 1), (SHADOW_VERY_SHORT, 0), (EQUAL, 2), (EQUAL, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first_shadow, second_shadow, third_shadow, first_equal, second_equal = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (color(first) == -1 and lower_shadow(first) < first_shadow
                        and color(second) == -1 and lower_shadow(second) < second_shadow
                        and color(third) == -1 and lower_shadow(third) < third_shadow
                        and first.close > second.close > third.close
                        and first.close - first_equal <= second.open <= first.close + first_equal
                        and second.close - second_equal <= third.open <= second.close + second_equal) else 0


class AdvanceBlock(CandlePattern):
    """CDLADVANCEBLOCK: three rising white candles losing strength (shrinking bodies or growing
    upper shadows)."""

    __slots__ = ()
    lookback = max(SHADOW_LONG.average_period, SHADOW_SHORT.average_period, FAR.average_period,
                   NEAR.average_period, BODY_LONG.average_period) + 2
    candles = 3
    averages = ((SHADOW_SHORT, 2), (SHADOW_SHORT, 1), (SHADOW_SHORT, 0), (SHADOW_LONG, 0), (NEAR, 2), (NEAR, 1),
                (FAR, 2), (FAR, 1), (BODY_LONG, 2))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        (first_short_shadow, second_short_shadow, third_short_shadow, third_long_shadow, first_near, second_near,
         first_far, second_far, body_long) = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        if not (color(first) == 1 and color(second) == 1 and color(third) == 1
                and third.close > second.close > first.close
                and second.open > first.open and second.open <= first.close + first_near
                and third.open > second.open and third.open <= second.close + second_near
                and real_body(first) > body_long and upper_shadow(first) < first_short_shadow):
            return 0
        first_body, second_body, third_body = real_body(first), real_body(second), real_body(third)
        weakening = (
            (second_body < first_body - first_far and third_body < second_body + second_near)
            or third_body < second_body - second_far
            or (third_body < second_body and second_body < first_body
                and (upper_shadow(third) > third_short_shadow or upper_shadow(second) > second_short_shadow))
            or (third_body < second_body and upper_shadow(third) > third_long_shadow))
        return -100 if weakening else 0


class StalledPattern(CandlePattern):
    """CDLSTALLEDPATTERN: two long rising white candles, then a small white one riding on the
    second's close."""

    __slots__ = ()
    lookback = max(BODY_LONG.average_period, BODY_SHORT.average_period, SHADOW_VERY_SHORT.average_period,
                   NEAR.average_period) + 2
    candles = 3
    averages = ((BODY_LONG, 2), (BODY_LONG, 1), (BODY_SHORT, 0), (SHADOW_VERY_SHORT, 1), (NEAR, 2), (NEAR, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first_long, second_long, body_short, shadow_very_short, first_near, second_near = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (color(first) == 1 and color(second) == 1 and color(third) == 1
                        and third.close > second.close > first.close
                        and real_body(first) > first_long and real_body(second) > second_long
                        and upper_shadow(second) < shadow_very_short
                        and second.open > first.open and second.open <= first.close + first_near
                        and real_body(third) < body_short
                        and third.open >= second.close - real_body(third) - second_near) else 0


class TwoCrows(CandlePattern):
    """CDL2CROWS: long white, a black body gapping up, then black opening inside it and closing
    inside the white body."""

    __slots__ = ()
    lookback = BODY_LONG.average_period + 2
    candles = 3
    averages = ((BODY_LONG, 2),)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (color(first) == 1 and real_body(first) > thresholds[0]
                        and color(second) == -1 and real_body_gap_up(second, first)
                        and color(third) == -1 and second.close < third.open < second.open
                        and first.open < third.close < first.close) else 0


class UpsideGapTwoCrows(CandlePattern):
    """CDLUPSIDEGAP2CROWS: long white, a short black gapping up, then a black candle engulfing it
    but still closing above the white close."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, BODY_LONG.average_period) + 2
    candles = 3
    averages = ((BODY_LONG, 2), (BODY_SHORT, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_short = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (color(first) == 1 and real_body(first) > body_long
                        and color(second) == -1 and real_body(second) <= body_short
                        and real_body_gap_up(second, first)
                        and color(third) == -1 and third.open > second.open and third.close < second.close
                        and third.close > first.close) else 0


TALIB_FUNCTIONS: dict[str, type] = {
    "CDL2CROWS": TwoCrows,
    "CDL3BLACKCROWS": ThreeBlackCrows,
    "CDL3WHITESOLDIERS": ThreeWhiteSoldiers,
    "CDLADVANCEBLOCK": AdvanceBlock,
    "CDLIDENTICAL3CROWS": IdenticalThreeCrows,
    "CDLSTALLEDPATTERN": StalledPattern,
    "CDLUPSIDEGAP2CROWS": UpsideGapTwoCrows,
}
