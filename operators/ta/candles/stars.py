"""Star patterns: a long body, a small (or doji) body gapping away, then a reversal candle.

``penetration`` is how far, as a fraction of the first body, the third candle must close
back into the first body. The evening and morning stars are one pattern and its mirror image,
each with a short or a doji star; they differ only in their declarations.

>>> star = MorningStar()
>>> for open, close in [(10.0, 10.3)] * 10 + [(10.6, 10.0), (9.8, 9.75), (9.9, 10.5)]:
...     star.update(open, max(open, close) + 0.05, min(open, close) - 0.05, close)
>>> star.value
100.0
"""

from __future__ import annotations

from typing import ClassVar

from operators.ta.candles.candle import (body_bottom, body_top, candle_gap, color, penetrates, real_body,
                                         real_body_gap, real_body_gap_down, real_body_gap_up)
from operators.ta.candles.pattern import CandlePattern, Rule, at_most, longer, penetration
from operators.ta.candles.settings import BODY_DOJI, BODY_LONG, BODY_SHORT, CandleSetting
from operators.ta.candles.window import CandleRing


def _star(star_body: CandleSetting) -> tuple[Rule, ...]:
    """A long body, a star no longer than ``star_body``, then a body that is not short."""
    return (longer(real_body, BODY_LONG, 2), at_most(real_body, star_body, 1), longer(real_body, BODY_SHORT))


class AbandonedBaby(CandlePattern):
    """CDLABANDONEDBABY: a doji star whose shadows gap away from both neighbours."""

    __slots__ = ("penetration",)
    parameters = (penetration(0.3),)
    candles = 3
    rules = _star(BODY_DOJI)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        direction = color(first)
        return -direction * 100 if (color(third) == -direction and penetrates(third, first, self.penetration)
                                    and candle_gap(second, first, direction)
                                    and candle_gap(third, second, -direction)) else 0


class _Star(CandlePattern):
    """A long body of color ``direction``, a star whose body gaps away from it, then an opposite
    candle closing ``penetration`` into the first body; signed against the first."""

    __slots__ = ("penetration",)
    parameters = (penetration(0.3),)
    candles = 3
    direction: ClassVar[int] = 1

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        direction = self.direction
        return -direction * 100 if (color(first) == direction and real_body_gap(second, first, direction)
                                    and color(third) == -direction
                                    and penetrates(third, first, self.penetration)) else 0


class EveningDojiStar(_Star):
    """CDLEVENINGDOJISTAR: long white, a doji gapping up, then a black candle closing into the white."""

    __slots__ = ()
    rules = _star(BODY_DOJI)


class EveningStar(_Star):
    """CDLEVENINGSTAR: long white, a short body gapping up, then a black candle closing into the white."""

    __slots__ = ()
    rules = _star(BODY_SHORT)


class MorningDojiStar(_Star):
    """CDLMORNINGDOJISTAR: long black, a doji gapping down, then a white candle closing into the black."""

    __slots__ = ()
    direction = -1
    rules = _star(BODY_DOJI)


class MorningStar(_Star):
    """CDLMORNINGSTAR: long black, a short body gapping down, then a white candle closing into the black."""

    __slots__ = ()
    direction = -1
    rules = _star(BODY_SHORT)


class Tristar(CandlePattern):
    """CDLTRISTAR: three dojis, the middle one gapping away; all judged by the first doji's average."""

    __slots__ = ()
    candles = 3
    averages = ((BODY_DOJI, 2),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
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
