"""Four- and five-candle patterns: strikes, breakaways, swallows, ladders and three-methods holds.

>>> strike = ThreeLineStrike()
>>> bars = [(10.0, 10.2)] * 5 + [(10.0, 10.4), (10.3, 10.7), (10.6, 11.0), (11.1, 9.9)]
>>> for open, close in bars:
...     strike.update(open, max(open, close) + 0.05, min(open, close) - 0.05, close)
>>> strike.value
100.0
"""

from __future__ import annotations

from operators.ta.candles.candle import (body_bottom, body_top, color, colors, lower_shadow, real_body,
                                         real_body_gap, upper_shadow)
from operators.ta.candles.pattern import CandlePattern, at_most, longer, penetration, shorter
from operators.ta.candles.settings import BODY_LONG, BODY_SHORT, NEAR, SHADOW_VERY_SHORT
from operators.ta.candles.window import CandleRing


class ThreeLineStrike(CandlePattern):
    """CDL3LINESTRIKE: three same-colored candles stepping one way, then one opposite candle
    wiping them out; signed by the three."""

    __slots__ = ()
    candles = 4
    averages = ((NEAR, 3), (NEAR, 2))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first_near, second_near = thresholds
        first, second, third, fourth = candles[-4], candles[-3], candles[-2], candles[-1]
        direction = color(third)
        if not (colors(first, second, fourth) == (direction, direction, -direction)
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
    candles = 5
    rules = (longer(real_body, BODY_LONG, 4),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third, fourth, fifth = candles[-5], candles[-4], candles[-3], candles[-2], candles[-1]
        direction = color(first)
        if not (colors(second, fourth, fifth) == (direction, direction, -direction)
                and real_body_gap(second, first, direction)):
            return 0
        if (direction == -1 and third.high < second.high and third.low < second.low
                and fourth.high < third.high and fourth.low < third.low
                and first.close > fifth.close > second.open) or (
                direction == 1 and third.high > second.high and third.low > second.low
                and fourth.high > third.high and fourth.low > third.low
                and first.close < fifth.close < second.open):
            return -direction * 100
        return 0


class ConcealingBabySwallow(CandlePattern):
    """CDLCONCEALBABYSWALL: two black marubozu, a black candle gapping down whose upper shadow reaches
    back, then a black candle engulfing it, shadows included."""

    __slots__ = ()
    candles = 4
    rules = tuple(shorter(shadow, SHADOW_VERY_SHORT, offset)
                  for offset in (3, 2) for shadow in (lower_shadow, upper_shadow)) + (
        longer(upper_shadow, SHADOW_VERY_SHORT, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third, fourth = candles[-4], candles[-3], candles[-2], candles[-1]
        return 100 if (colors(first, second, third, fourth) == (-1, -1, -1, -1)
                       and real_body_gap(third, second, -1) and third.high > second.close
                       and fourth.high > third.high and fourth.low < third.low) else 0


class LadderBottom(CandlePattern):
    """CDLLADDERBOTTOM: three falling black candles, a black one with an upper shadow, then a white
    candle gapping above it."""

    __slots__ = ()
    candles = 5
    rules = (longer(upper_shadow, SHADOW_VERY_SHORT, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third, fourth, fifth = candles[-5], candles[-4], candles[-3], candles[-2], candles[-1]
        return 100 if (colors(first, second, third, fourth, fifth) == (-1, -1, -1, -1, 1)
                       and first.open > second.open > third.open and first.close > second.close > third.close
                       and fifth.open > fourth.open and fifth.close > fourth.high) else 0


class MatHold(CandlePattern):
    """CDLMATHOLD: long white, a short black gapping up, two short falling candles holding within
    ``penetration`` of the white body, then a white candle closing at a new high."""

    __slots__ = ("penetration",)
    parameters = (penetration(0.5),)
    candles = 5
    rules = (longer(real_body, BODY_LONG, 4), at_most(real_body, BODY_SHORT, 3), at_most(real_body, BODY_SHORT, 2),
             at_most(real_body, BODY_SHORT, 1))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third, fourth, fifth = candles[-5], candles[-4], candles[-3], candles[-2], candles[-1]
        floor = first.close - real_body(first) * self.penetration
        return 100 if (colors(first, second, fifth) == (1, -1, 1) and real_body_gap(second, first, 1)
                       and floor < body_bottom(third) < first.close and floor < body_bottom(fourth) < first.close
                       and body_top(third) < second.open and body_top(fourth) < body_top(third)
                       and fifth.open > fourth.close
                       and fifth.close > max(second.high, third.high, fourth.high)) else 0


class RisingFallingThreeMethods(CandlePattern):
    """CDLRISEFALL3METHODS: a long candle, three short counter-moves within its range, then a long
    candle of the first color closing beyond it; signed by the first."""

    __slots__ = ()
    candles = 5
    rules = (longer(real_body, BODY_LONG, 4), shorter(real_body, BODY_SHORT, 3), shorter(real_body, BODY_SHORT, 2),
             shorter(real_body, BODY_SHORT, 1), longer(real_body, BODY_LONG))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third, fourth, fifth = candles[-5], candles[-4], candles[-3], candles[-2], candles[-1]
        direction = color(first)
        if (colors(second, third, fourth, fifth) == (-direction, -direction, -direction, direction)
                and all(body_bottom(counter) < first.high and body_top(counter) > first.low
                        for counter in (second, third, fourth))
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
