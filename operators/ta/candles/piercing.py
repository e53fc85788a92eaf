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

from operators.ta.candles.candle import Candle, color, penetrates, real_body, within
from operators.ta.candles.pattern import CandlePattern, longer, penetration
from operators.ta.candles.settings import BODY_LONG, EQUAL
from operators.ta.candles.window import CandleRing


class DarkCloudCover(CandlePattern):
    """CDLDARKCLOUDCOVER: long white, then black opening above its high and closing deep into its body."""

    __slots__ = ("penetration",)
    parameters = (penetration(0.5),)
    candles = 2
    rules = (longer(real_body, BODY_LONG, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        return -100 if (color(first) == 1 and color(second) == -1 and second.open > first.high
                        and second.close > first.open and penetrates(second, first, self.penetration)) else 0


class Piercing(CandlePattern):
    """CDLPIERCING: long black, then long white opening below its low and closing above its midpoint."""

    __slots__ = ()
    candles = 2
    rules = (longer(real_body, BODY_LONG, 1), longer(real_body, BODY_LONG))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        return 100 if (color(first) == -1 and color(second) == 1 and second.open < first.low
                       and second.close < first.open and penetrates(second, first, 0.5)) else 0


class _Neck(CandlePattern):
    """Long black, then white opening below its low and closing where ``_closes_at`` says."""

    __slots__ = ()
    candles = 2
    rules = (longer(real_body, BODY_LONG, 1),)
    averages = ((EQUAL, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        return -100 if (color(first) == -1 and color(second) == 1 and second.open < first.low
                        and self._closes_at(first, second.close, thresholds[0])) else 0

    @staticmethod
    def _closes_at(first: Candle, close: float, equal: float) -> bool:
        raise NotImplementedError


class OnNeck(_Neck):
    """CDLONNECK: long black, then white opening below its low and closing at that low."""

    __slots__ = ()

    @staticmethod
    def _closes_at(first: Candle, close: float, equal: float) -> bool:
        return within(close, first.low, equal)


class InNeck(_Neck):
    """CDLINNECK: long black, then white opening below its low and closing at or just above its close."""

    __slots__ = ()

    @staticmethod
    def _closes_at(first: Candle, close: float, equal: float) -> bool:
        return first.close <= close <= first.close + equal


class Thrusting(_Neck):
    """CDLTHRUSTING: long black, then white opening below its low and closing into, not past, its midpoint."""

    __slots__ = ()

    @staticmethod
    def _closes_at(first: Candle, close: float, equal: float) -> bool:
        return first.close + equal < close <= first.close + real_body(first) * 0.5


TALIB_FUNCTIONS: dict[str, type] = {
    "CDLDARKCLOUDCOVER": DarkCloudCover,
    "CDLINNECK": InNeck,
    "CDLONNECK": OnNeck,
    "CDLPIERCING": Piercing,
    "CDLTHRUSTING": Thrusting,
}
