"""Two-candle lines where the second candle opens beyond the first and closes back into it.

Dark cloud cover and piercing close deep into the first body; on-neck, in-neck and thrusting
are the weaker bearish continuations that stop near the first candle's low or close.

>>> piercing = Piercing()
>>> for open, close in [(10.0, 10.5)] * 10 + [(11.0, 10.0), (9.8, 10.7)]:
...     piercing.update(open, max(open, close) + 0.05, min(open, close) - 0.05, close)
>>> piercing.value
100.0
"""

from __future__ import annotations

from collections import deque

from operators.ta.candles.candle import Candle, color, real_body
from operators.ta.candles.pattern import CandlePattern, require_penetration
from operators.ta.candles.settings import BODY_LONG, EQUAL


class DarkCloudCover(CandlePattern):
    """CDLDARKCLOUDCOVER: long white, then black opening above its high and closing deep into its body."""

    __slots__ = ("penetration",)
    lookback = BODY_LONG.average_period + 1
    candles = 2
    averages = ((BODY_LONG, 1),)

    def __init__(self, penetration: float = 0.5) -> None:
        require_penetration(penetration)
        self.penetration = penetration
        super().__init__()

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        return -100 if (color(first) == 1 and real_body(first) > thresholds[0] and color(second) == -1
                        and second.open > first.high and second.close > first.open
                        and second.close < first.close - real_body(first) * self.penetration) else 0


class Piercing(CandlePattern):
    """CDLPIERCING: long black, then long white opening below its low and closing above its midpoint."""

    __slots__ = ()
    lookback = BODY_LONG.average_period + 1
    candles = 2
    averages = ((BODY_LONG, 1), (BODY_LONG, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first_long, second_long = thresholds
        first, second = candles[-2], candles[-1]
        return 100 if (color(first) == -1 and real_body(first) > first_long and color(second) == 1
                       and real_body(second) > second_long and second.open < first.low
                       and second.close < first.open
                       and second.close > first.close + real_body(first) * 0.5) else 0


class OnNeck(CandlePattern):
    """CDLONNECK: long black, then white opening below its low and closing at that low."""

    __slots__ = ()
    lookback = max(EQUAL.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((EQUAL, 1), (BODY_LONG, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        equal, body_long = thresholds
        first, second = candles[-2], candles[-1]
        return -100 if (color(first) == -1 and real_body(first) > body_long and color(second) == 1
                        and second.open < first.low and second.close <= first.low + equal
                        and second.close >= first.low - equal) else 0


class InNeck(CandlePattern):
    """CDLINNECK: long black, then white opening below its low and closing at or just above its close."""

    __slots__ = ()
    lookback = max(EQUAL.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((EQUAL, 1), (BODY_LONG, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        equal, body_long = thresholds
        first, second = candles[-2], candles[-1]
        return -100 if (color(first) == -1 and real_body(first) > body_long and color(second) == 1
                        and second.open < first.low and second.close <= first.close + equal
                        and second.close >= first.close) else 0


class Thrusting(CandlePattern):
    """CDLTHRUSTING: long black, then white opening below its low and closing into, not past, its midpoint."""

    __slots__ = ()
    lookback = max(EQUAL.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((EQUAL, 1), (BODY_LONG, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        equal, body_long = thresholds
        first, second = candles[-2], candles[-1]
        return -100 if (color(first) == -1 and real_body(first) > body_long and color(second) == 1
                        and second.open < first.low and second.close > first.close + equal
                        and second.close <= first.close + real_body(first) * 0.5) else 0


TALIB_FUNCTIONS: dict[str, type] = {
    "CDLDARKCLOUDCOVER": DarkCloudCover,
    "CDLINNECK": InNeck,
    "CDLONNECK": OnNeck,
    "CDLPIERCING": Piercing,
    "CDLTHRUSTING": Thrusting,
}
