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

from collections.abc import Callable

from operators.ta.candles.candle import (Candle, colors, lower_shadow, real_body, real_body_gap_up, steps_up,
                                         upper_shadow, within)
from operators.ta.candles.pattern import CandlePattern, Rule, at_most, longer, shorter
from operators.ta.candles.settings import (BODY_LONG, BODY_SHORT, EQUAL, FAR, NEAR, SHADOW_LONG, SHADOW_SHORT,
                                           SHADOW_VERY_SHORT)
from operators.ta.candles.window import CandleRing

WHITE_THREE = (1, 1, 1)
BLACK_THREE = (-1, -1, -1)


def _closing_on_extremes(shadow: Callable[[Candle], float]) -> tuple[Rule, ...]:
    """``shadow`` very short on each of the last three candles."""
    return tuple(shorter(shadow, SHADOW_VERY_SHORT, offset) for offset in (2, 1, 0))


class ThreeBlackCrows(CandlePattern):
    """CDL3BLACKCROWS: after a white candle, three declining black candles each opening inside the
    prior body and closing near their lows."""

    __slots__ = ()
    candles = 4
    rules = _closing_on_extremes(lower_shadow)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        before, first, second, third = candles[-4], candles[-3], candles[-2], candles[-1]
        return -100 if (colors(before, first, second, third) == (1, -1, -1, -1)
                        and first.close < second.open < first.open and second.close < third.open < second.open
                        and before.high > first.close and first.close > second.close > third.close) else 0


class ThreeWhiteSoldiers(CandlePattern):
    """CDL3WHITESOLDIERS: three rising white candles, each opening within or near the prior body,
    closing near their highs, none much shorter than the one before."""

    __slots__ = ()
    candles = 3
    rules = _closing_on_extremes(upper_shadow) + (longer(real_body, BODY_SHORT),)
    averages = ((NEAR, 2), (NEAR, 1), (FAR, 2), (FAR, 1))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first_near, second_near, first_far, second_far = thresholds[:4]
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (colors(first, second, third) == WHITE_THREE and third.close > second.close > first.close
                       and steps_up(second, first, first_near) and steps_up(third, second, second_near)
                       and real_body(second) > real_body(first) - first_far
                       and real_body(third) > real_body(second) - second_far) else 0


class IdenticalThreeCrows(CandlePattern):
    """CDLIDENTICAL3CROWS: three declining black candles, each opening at the prior close."""

    __slots__ = ()
    candles = 3
    rules = _closing_on_extremes(lower_shadow)
    averages = ((EQUAL, 2), (EQUAL, 1))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first_equal, second_equal = thresholds[:2]
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (colors(first, second, third) == BLACK_THREE and first.close > second.close > third.close
                        and within(second.open, first.close, first_equal)
                        and within(third.open, second.close, second_equal)) else 0


class AdvanceBlock(CandlePattern):
    """CDLADVANCEBLOCK: three rising white candles losing strength (shrinking bodies or growing
    upper shadows)."""

    __slots__ = ()
    candles = 3
    rules = (longer(real_body, BODY_LONG, 2), shorter(upper_shadow, SHADOW_SHORT, 2))
    averages = ((SHADOW_SHORT, 1), (SHADOW_SHORT, 0), (SHADOW_LONG, 0), (NEAR, 2), (NEAR, 1), (FAR, 2), (FAR, 1))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        (second_short_shadow, third_short_shadow, third_long_shadow, first_near, second_near, first_far,
         second_far) = thresholds[:7]
        first, second, third = candles[-3], candles[-2], candles[-1]
        if not (colors(first, second, third) == WHITE_THREE and third.close > second.close > first.close
                and steps_up(second, first, first_near) and steps_up(third, second, second_near)):
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
    candles = 3
    rules = (longer(real_body, BODY_LONG, 2), longer(real_body, BODY_LONG, 1), shorter(real_body, BODY_SHORT),
             shorter(upper_shadow, SHADOW_VERY_SHORT, 1))
    averages = ((NEAR, 2), (NEAR, 1))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first_near, second_near = thresholds[:2]
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (colors(first, second, third) == WHITE_THREE and third.close > second.close > first.close
                        and steps_up(second, first, first_near)
                        and third.open >= second.close - real_body(third) - second_near) else 0


class TwoCrows(CandlePattern):
    """CDL2CROWS: long white, a black body gapping up, then black opening inside it and closing
    inside the white body."""

    __slots__ = ()
    candles = 3
    rules = (longer(real_body, BODY_LONG, 2),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (colors(first, second, third) == (1, -1, -1) and real_body_gap_up(second, first)
                        and second.close < third.open < second.open
                        and first.open < third.close < first.close) else 0


class UpsideGapTwoCrows(CandlePattern):
    """CDLUPSIDEGAP2CROWS: long white, a short black gapping up, then a black candle engulfing it
    but still closing above the white close."""

    __slots__ = ()
    candles = 3
    rules = (longer(real_body, BODY_LONG, 2), at_most(real_body, BODY_SHORT, 1))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (colors(first, second, third) == (1, -1, -1) and real_body_gap_up(second, first)
                        and third.open > second.open and third.close < second.close
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
