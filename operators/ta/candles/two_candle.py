"""Two-candle reversals and continuations judged on the newest candle and the one before it.

>>> engulfing = Engulfing()
>>> for bar in [(10.0, 10.0, 9.5, 9.5), (9.4, 10.2, 9.4, 10.2), (10.2, 10.2, 9.3, 9.3)]:
...     engulfing.update(*bar)
>>> engulfing.value  # black engulfs the white body but opens at its close: the weaker 80
-80.0
"""

from __future__ import annotations

from operators.ta.candles.candle import (Candle, body_bottom, body_top, candle_gap, color, real_body, real_body_gap,
                                         real_body_inside, within)
from operators.ta.candles.pattern import CandlePattern, at_most, longer
from operators.ta.candles.settings import BODY_DOJI, BODY_LONG, BODY_SHORT, EQUAL
from operators.ta.candles.single import BELT_HOLD, marubozu
from operators.ta.candles.window import CandleRing


class Counterattack(CandlePattern):
    """CDLCOUNTERATTACK: two long opposite-colored bodies closing at (about) the same price."""

    __slots__ = ()
    candles = 2
    rules = (longer(real_body, BODY_LONG, 1), longer(real_body, BODY_LONG))
    averages = ((EQUAL, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        if color(first) == -color(second) and within(second.close, first.close, thresholds[0]):
            return color(second) * 100
        return 0


class DojiStar(CandlePattern):
    """CDLDOJISTAR: a long body, then a doji whose body gaps away from it; signed against the first."""

    __slots__ = ()
    candles = 2
    rules = (longer(real_body, BODY_LONG, 1), at_most(real_body, BODY_DOJI))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        return -color(first) * 100 if real_body_gap(second, first, color(first)) else 0


class Engulfing(CandlePattern):
    """CDLENGULFING: the second body engulfs the opposite-colored first; 80 when an end is shared."""

    __slots__ = ()
    lookback = 2
    candles = 2

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        white_engulfs_black = color(second) == 1 and color(first) == -1 and (
            (second.close >= first.open and second.open < first.close)
            or (second.close > first.open and second.open <= first.close))
        black_engulfs_white = color(second) == -1 and color(first) == 1 and (
            (second.open >= first.close and second.close < first.open)
            or (second.open > first.close and second.close <= first.open))
        if not (white_engulfs_black or black_engulfs_white):
            return 0
        strength = 100 if second.open != first.close and second.close != first.open else 80
        return color(second) * strength


class _Harami(CandlePattern):
    """A long body, then a small one inside it: 100 strictly inside, 80 touching an end; signed
    against the first."""

    __slots__ = ()
    candles = 2

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        if real_body_inside(second, first):
            return -color(first) * 100
        if body_top(second) <= body_top(first) and body_bottom(second) >= body_bottom(first):
            return -color(first) * 80
        return 0


class Harami(_Harami):
    """CDLHARAMI: a long body, then a short body inside it."""

    __slots__ = ()
    rules = (longer(real_body, BODY_LONG, 1), at_most(real_body, BODY_SHORT))


class HaramiCross(_Harami):
    """CDLHARAMICROSS: a long body, then a doji inside it."""

    __slots__ = ()
    rules = (longer(real_body, BODY_LONG, 1), at_most(real_body, BODY_DOJI))


class HomingPigeon(CandlePattern):
    """CDLHOMINGPIGEON: a long black body, then a short black body strictly inside it."""

    __slots__ = ()
    candles = 2
    rules = (longer(real_body, BODY_LONG, 1), at_most(real_body, BODY_SHORT))

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        return 100 if color(first) == -1 and color(second) == -1 and real_body_inside(second, first) else 0


class _Kicking(CandlePattern):
    """Two opposite-colored marubozu with a full gap in the direction of the second."""

    __slots__ = ()
    candles = 2
    rules = marubozu(1) + marubozu(0)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        if color(first) == -color(second) and candle_gap(second, first, color(second)):
            return color(self._leader(first, second)) * 100
        return 0

    @staticmethod
    def _leader(first: Candle, second: Candle) -> Candle:
        """The candle whose color signs the pattern."""
        raise NotImplementedError


class Kicking(_Kicking):
    """CDLKICKING: two opposite marubozu with a gap between them; signed by the second."""

    __slots__ = ()

    @staticmethod
    def _leader(first: Candle, second: Candle) -> Candle:
        return second


class KickingByLength(_Kicking):
    """CDLKICKINGBYLENGTH: the kicking pattern, signed by the longer of the two marubozu."""

    __slots__ = ()

    @staticmethod
    def _leader(first: Candle, second: Candle) -> Candle:
        return second if real_body(second) > real_body(first) else first


class MatchingLow(CandlePattern):
    """CDLMATCHINGLOW: two black candles closing at (about) the same price."""

    __slots__ = ()
    candles = 2
    averages = ((EQUAL, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        return 100 if (color(first) == -1 and color(second) == -1
                       and within(second.close, first.close, thresholds[0])) else 0


class SeparatingLines(CandlePattern):
    """CDLSEPARATINGLINES: opposite colors opening at the same price, the second a belt hold."""

    __slots__ = ()
    candles = 2
    rules = BELT_HOLD
    averages = ((EQUAL, 1),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        first, second = candles[-2], candles[-1]
        if color(first) == -color(second) and within(second.open, first.open, thresholds[0]):
            return color(second) * 100
        return 0


TALIB_FUNCTIONS: dict[str, type] = {
    "CDLCOUNTERATTACK": Counterattack,
    "CDLDOJISTAR": DojiStar,
    "CDLENGULFING": Engulfing,
    "CDLHARAMI": Harami,
    "CDLHARAMICROSS": HaramiCross,
    "CDLHOMINGPIGEON": HomingPigeon,
    "CDLKICKING": Kicking,
    "CDLKICKINGBYLENGTH": KickingByLength,
    "CDLMATCHINGLOW": MatchingLow,
    "CDLSEPARATINGLINES": SeparatingLines,
}
