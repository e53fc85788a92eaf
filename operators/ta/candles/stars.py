"""Star patterns: a long body, a small (or doji) body gapping away, then a reversal candle.

``penetration`` is how far, as a fraction of the first body, the third candle must close
back into the first body.

>>> star = MorningStar()
>>> for open, close in [(10.0, 10.3)] * 10 + [(10.6, 10.0), (9.8, 9.75), (9.9, 10.5)]:
...     star.update(open, max(open, close) + 0.05, min(open, close) - 0.05, close)
>>> star.value
100.0
"""

from __future__ import annotations

from collections import deque

from operators.ta.candles.candle import (Candle, body_bottom, body_top, candle_gap_down, candle_gap_up, color, real_body,
                                      real_body_gap_down, real_body_gap_up)
from operators.ta.candles.pattern import CandlePattern, require_penetration
from operators.ta.candles.settings import BODY_DOJI, BODY_LONG, BODY_SHORT


class _PenetratingStar(CandlePattern):
    """A star whose third candle must close ``penetration`` of the way into the first body."""

    __slots__ = ("penetration",)
    candles = 3

    def __init__(self, penetration: float = 0.3) -> None:
        require_penetration(penetration)
        self.penetration = penetration
        super().__init__()


class AbandonedBaby(_PenetratingStar):
    """CDLABANDONEDBABY: a doji star whose shadows gap away from both neighbours."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, BODY_LONG.average_period, BODY_SHORT.average_period) + 2
    averages = ((BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_doji, body_short = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        if not (real_body(first) > body_long and real_body(second) <= body_doji and real_body(third) > body_short):
            return 0
        reach = real_body(first) * self.penetration
        if (color(first) == 1 and color(third) == -1 and third.close < first.close - reach
                and candle_gap_up(second, first) and candle_gap_down(third, second)):
            return -100
        if (color(first) == -1 and color(third) == 1 and third.close > first.close + reach
                and candle_gap_down(second, first) and candle_gap_up(third, second)):
            return 100
        return 0


class EveningDojiStar(_PenetratingStar):
    """CDLEVENINGDOJISTAR: long white, a doji gapping up, then a black candle closing into the white."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, BODY_LONG.average_period, BODY_SHORT.average_period) + 2
    averages = ((BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_doji, body_short = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (real_body(first) > body_long and color(first) == 1 and real_body(second) <= body_doji
                        and real_body_gap_up(second, first) and real_body(third) > body_short
                        and color(third) == -1
                        and third.close < first.close - real_body(first) * self.penetration) else 0


class EveningStar(_PenetratingStar):
    """CDLEVENINGSTAR: long white, a short body gapping up, then a black candle closing into the white."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, BODY_LONG.average_period) + 2
    averages = ((BODY_LONG, 2), (BODY_SHORT, 1), (BODY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, second_short, third_short = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return -100 if (real_body(first) > body_long and color(first) == 1 and real_body(second) <= second_short
                        and real_body_gap_up(second, first) and real_body(third) > third_short
                        and color(third) == -1
                        and third.close < first.close - real_body(first) * self.penetration) else 0


class MorningDojiStar(_PenetratingStar):
    """CDLMORNINGDOJISTAR: long black, a doji gapping down, then a white candle closing into the black."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, BODY_LONG.average_period, BODY_SHORT.average_period) + 2
    averages = ((BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_doji, body_short = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (real_body(first) > body_long and color(first) == -1 and real_body(second) <= body_doji
                       and real_body_gap_down(second, first) and real_body(third) > body_short
                       and color(third) == 1
                       and third.close > first.close + real_body(first) * self.penetration) else 0


class MorningStar(_PenetratingStar):
    """CDLMORNINGSTAR: long black, a short body gapping down, then a white candle closing into the black."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, BODY_LONG.average_period) + 2
    averages = ((BODY_LONG, 2), (BODY_SHORT, 1), (BODY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, second_short, third_short = thresholds
        first, second, third = candles[-3], candles[-2], candles[-1]
        return 100 if (real_body(first) > body_long and color(first) == -1 and real_body(second) <= second_short
                       and real_body_gap_down(second, first) and real_body(third) > third_short
                       and color(third) == 1
                       and third.close > first.close + real_body(first) * self.penetration) else 0


class Tristar(CandlePattern):
    """CDLTRISTAR: three dojis, the middle one gapping away; all judged by the first doji's average."""

    __slots__ = ()
    lookback = BODY_DOJI.average_period + 2
    candles = 3
    averages = ((BODY_DOJI, 2),)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_doji = thresholds[0]
        first, second, third = candles[-3], candles[-2], candles[-1]
        if not (real_body(first) <= body_doji and real_body(second) <= body_doji and real_body(third) <= body_doji):
            return 0
        signal = 0
        if real_body_gap_up(second, first) and body_top(third) < body_top(second):
            signal = -100
        if real_body_gap_down(second, first) and body_bottom(third) > body_bottom(second):
            signal = 100
        return signal


TALIB_FUNCTIONS: dict[str, type] = {
    "CDLABANDONEDBABY": AbandonedBaby,
    "CDLEVENINGDOJISTAR": EveningDojiStar,
    "CDLEVENINGSTAR": EveningStar,
    "CDLMORNINGDOJISTAR": MorningDojiStar,
    "CDLMORNINGSTAR": MorningStar,
    "CDLTRISTAR": Tristar,
}
