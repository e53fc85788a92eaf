"""Four- and five-candle patterns: strikes, breakaways, swallows, ladders and three-methods holds.

>>> strike = ThreeLineStrike()
>>> bars = [(10.0, 10.2)] * 5 + [(10.0, 10.4), (10.3, 10.7), (10.6, 11.0), (11.1, 9.9)]
>>> for open, close in bars:
...     strike.update(open, max(open, close) + 0.05, min(open, close) - 0.05, close)
>>> strike.value
100.0
"""

from __future__ import annotations

from collections import deque

from operators.ta.candles.candle import (Candle, body_bottom, body_top, color, lower_shadow, real_body,
                                      real_body_gap_down, real_body_gap_up, upper_shadow)
from operators.ta.candles.pattern import CandlePattern, require_penetration
from operators.ta.candles.settings import BODY_LONG, BODY_SHORT, NEAR, SHADOW_VERY_SHORT


class ThreeLineStrike(CandlePattern):
    """CDL3LINESTRIKE: three same-colored candles stepping one way, then one opposite candle
    wiping them out; signed by the three."""

    __slots__ = ()
    lookback = NEAR.average_period + 3
    candles = 4
    averages = ((NEAR, 3), (NEAR, 2))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first_near, second_near = thresholds
        first, second, third, fourth = candles[-4], candles[-3], candles[-2], candles[-1]
        direction = color(third)
        if not (color(first) == color(second) == direction and color(fourth) == -direction
                and body_bottom(first) - first_near <= second.open <= body_top(first) + first_near
                and body_bottom(second) - second_near <= third.open <= body_top(second) + second_near):
            return 0
        if (direction == 1 and third.close > second.close > first.close and fourth.open > third.close
                and fourth.close < first.open) or (
                direction == -1 and third.close < second.close < first.close and fourth.open < third.close
                and fourth.close > first.open):
            return direction * 100
        return 0


class Breakaway(CandlePattern):
    """CDLBREAKAWAY: a long candle, a gap, three candles drifting on, then a reversal closing in the gap."""

    __slots__ = ()
    lookback = BODY_LONG.average_period + 4
    candles = 5
    averages = ((BODY_LONG, 4),)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first, second, third, fourth, fifth = candles[-5], candles[-4], candles[-3], candles[-2], candles[-1]
        direction = color(first)
        if not (real_body(first) > thresholds[0] and direction == color(second) == color(fourth)
                and color(fifth) == -direction):
            return 0
        if (direction == -1 and real_body_gap_down(second, first)
                and third.high < second.high and third.low < second.low
                and fourth.high < third.high and fourth.low < third.low
                and first.close > fifth.close > second.open) or (
                direction == 1 and real_body_gap_up(second, first)
                and third.high > second.high and third.low > second.low
                and fourth.high > third.high and fourth.low > third.low
                and first.close < fifth.close < second.open):
            return color(fifth) * 100
        return 0


class ConcealingBabySwallow(CandlePattern):
    """CDLCONCEALBABYSWALL: two black marubozu, a black candle gapping down whose upper shadow reaches
    back, then a black candle engulfing it, shadows included."""

    __slots__ = ()
    lookback = SHADOW_VERY_SHORT.average_period + 3
    candles = 4
    averages = ((SHADOW_VERY_SHORT, 3), (SHADOW_VERY_SHORT, 2), (SHADOW_VERY_SHORT, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first_shadow, second_shadow, third_shadow = thresholds
        first, second, third, fourth = candles[-4], candles[-3], candles[-2], candles[-1]
        return 100 if (color(first) == -1 and color(second) == -1 and color(third) == -1 and color(fourth) == -1
                       and lower_shadow(first) < first_shadow and upper_shadow(first) < first_shadow
                       and lower_shadow(second) < second_shadow and upper_shadow(second) < second_shadow
                       and real_body_gap_down(third, second) and upper_shadow(third) > third_shadow
                       and third.high > second.close
                       and fourth.high > third.high and fourth.low < third.low) else 0


class LadderBottom(CandlePattern):
    """CDLLADDERBOTTOM: three falling black candles, a black one with an upper shadow, then a white
    candle gapping above it."""

    __slots__ = ()
    lookback = SHADOW_VERY_SHORT.average_period + 4
    candles = 5
    averages = ((SHADOW_VERY_SHORT, 1),)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first, second, third, fourth, fifth = candles[-5], candles[-4], candles[-3], candles[-2], candles[-1]
        return 100 if (color(first) == -1 and color(second) == -1 and color(third) == -1
                       and first.open > second.open > third.open and first.close > second.close > third.close
                       and color(fourth) == -1 and upper_shadow(fourth) > thresholds[0]
                       and color(fifth) == 1 and fifth.open > fourth.open and fifth.close > fourth.high) else 0


class MatHold(CandlePattern):
    """CDLMATHOLD: long white, a short black gapping up, two short falling candles holding within
    ``penetration`` of the white body, then a white candle closing at a new high."""

    __slots__ = ("penetration",)
    lookback = max(BODY_SHORT.average_period, BODY_LONG.average_period) + 4
    candles = 5
    averages = ((BODY_LONG, 4), (BODY_SHORT, 3), (BODY_SHORT, 2), (BODY_SHORT, 1))

    def __init__(self, penetration: float = 0.5) -> None:
        require_penetration(penetration)
        self.penetration = penetration
        super().__init__()

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, second_short, third_short, fourth_short = thresholds
        first, second, third, fourth, fifth = candles[-5], candles[-4], candles[-3], candles[-2], candles[-1]
        floor = first.close - real_body(first) * self.penetration
        return 100 if (real_body(first) > body_long and real_body(second) <= second_short
                       and real_body(third) <= third_short and real_body(fourth) <= fourth_short
                       and color(first) == 1 and color(second) == -1 and color(fifth) == 1
                       and real_body_gap_up(second, first)
                       and body_bottom(third) < first.close and body_bottom(fourth) < first.close
                       and body_bottom(third) > floor and body_bottom(fourth) > floor
                       and body_top(third) < second.open and body_top(fourth) < body_top(third)
                       and fifth.open > fourth.close
                       and fifth.close > max(second.high, third.high, fourth.high)) else 0


class RisingFallingThreeMethods(CandlePattern):
    """CDLRISEFALL3METHODS: a long candle, three short counter-moves within its range, then a long
    candle of the first color closing beyond it; signed by the first."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, BODY_LONG.average_period) + 4
    candles = 5
    averages = ((BODY_LONG, 4), (BODY_SHORT, 3), (BODY_SHORT, 2), (BODY_SHORT, 1), (BODY_LONG, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first_long, second_short, third_short, fourth_short, fifth_long = thresholds
        first, second, third, fourth, fifth = candles[-5], candles[-4], candles[-3], candles[-2], candles[-1]
        direction = color(first)
        if (real_body(first) > first_long and real_body(second) < second_short and real_body(third) < third_short
                and real_body(fourth) < fourth_short and real_body(fifth) > fifth_long
                and color(second) == -direction and color(third) == color(second) and color(fourth) == color(third)
                and color(fifth) == direction
                and body_bottom(second) < first.high and body_top(second) > first.low
                and body_bottom(third) < first.high and body_top(third) > first.low
                and body_bottom(fourth) < first.high and body_top(fourth) > first.low
                and third.close * direction < second.close * direction
                and fourth.close * direction < third.close * direction
                and fifth.open * direction > fourth.close * direction
                and fifth.close * direction > first.close * direction):
            return direction * 100
        return 0


TALIB_FUNCTIONS: dict[str, type] = {
    "CDL3LINESTRIKE": ThreeLineStrike,
    "CDLBREAKAWAY": Breakaway,
    "CDLCONCEALBABYSWALL": ConcealingBabySwallow,
    "CDLLADDERBOTTOM": LadderBottom,
    "CDLMATHOLD": MatHold,
    "CDLRISEFALL3METHODS": RisingFallingThreeMethods,
}
