"""Two-candle reversals and continuations judged on the newest candle and the one before it.

>>> engulfing = Engulfing()
>>> for bar in [(10.0, 10.0, 9.5, 9.5), (9.4, 10.2, 9.4, 10.2), (10.2, 10.2, 9.3, 9.3)]:
...     engulfing.update(*bar)
>>> engulfing.value  # black engulfs the white body but opens at its close: the weaker 80
-80.0
"""

from __future__ import annotations

from collections import deque

from operators.ta.candles.candle import (Candle, body_bottom, body_top, candle_gap_down, candle_gap_up, color,
                                      lower_shadow, real_body, real_body_gap_down, real_body_gap_up, upper_shadow)
from operators.ta.candles.pattern import CandlePattern
from operators.ta.candles.settings import BODY_DOJI, BODY_LONG, BODY_SHORT, EQUAL, SHADOW_VERY_SHORT


def _harami(first: Candle, second: Candle) -> int:
    """Second body inside the first: 100 strictly inside, 80 touching an end; signed against the first."""
    if body_top(second) < body_top(first) and body_bottom(second) > body_bottom(first):
        return -color(first) * 100
    if body_top(second) <= body_top(first) and body_bottom(second) >= body_bottom(first):
        return -color(first) * 80
    return 0


def _marubozu(candle: Candle, body_long: float, shadow_very_short: float) -> bool:
    return (real_body(candle) > body_long and upper_shadow(candle) < shadow_very_short
            and lower_shadow(candle) < shadow_very_short)


def _kicking_gap(first: Candle, second: Candle) -> bool:
    """Opposite colors with a full gap in the direction of the second candle."""
    if color(first) == -color(second):
        return candle_gap_up(second, first) if color(first) == -1 else candle_gap_down(second, first)
    return False


class Counterattack(CandlePattern):
    """CDLCOUNTERATTACK: two long opposite-colored bodies closing at (about) the same price."""

    __slots__ = ()
    lookback = max(EQUAL.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((EQUAL, 1), (BODY_LONG, 1), (BODY_LONG, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        equal, first_long, second_long = thresholds
        first, second = candles[-2], candles[-1]
        if (color(first) == -color(second) and real_body(first) > first_long and real_body(second) > second_long
                and second.close <= first.close + equal and second.close >= first.close - equal):
            return color(second) * 100
        return 0


class DojiStar(CandlePattern):
    """CDLDOJISTAR: a long body, then a doji whose body gaps away from it; signed against the first."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((BODY_LONG, 1), (BODY_DOJI, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_doji = thresholds
        first, second = candles[-2], candles[-1]
        if real_body(first) > body_long and real_body(second) <= body_doji and (
                (color(first) == 1 and real_body_gap_up(second, first))
                or (color(first) == -1 and real_body_gap_down(second, first))):
            return -color(first) * 100
        return 0


class Engulfing(CandlePattern):
    """CDLENGULFING: the second body engulfs the opposite-colored first; 80 when an end is shared."""

    __slots__ = ()
    lookback = 2
    candles = 2

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
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


class Harami(CandlePattern):
    """CDLHARAMI: a long body, then a short body inside it."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((BODY_LONG, 1), (BODY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_short = thresholds
        first, second = candles[-2], candles[-1]
        if real_body(first) > body_long and real_body(second) <= body_short:
            return _harami(first, second)
        return 0


class HaramiCross(CandlePattern):
    """CDLHARAMICROSS: a long body, then a doji inside it."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((BODY_LONG, 1), (BODY_DOJI, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_doji = thresholds
        first, second = candles[-2], candles[-1]
        if real_body(first) > body_long and real_body(second) <= body_doji:
            return _harami(first, second)
        return 0


class HomingPigeon(CandlePattern):
    """CDLHOMINGPIGEON: a long black body, then a short black body strictly inside it."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((BODY_LONG, 1), (BODY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, body_short = thresholds
        first, second = candles[-2], candles[-1]
        return 100 if (color(first) == -1 and color(second) == -1 and real_body(first) > body_long
                       and real_body(second) <= body_short and second.open < first.open
                       and second.close > first.close) else 0


class Kicking(CandlePattern):
    """CDLKICKING: two opposite marubozu with a gap between them; signed by the second."""

    __slots__ = ()
    lookback = max(SHADOW_VERY_SHORT.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((BODY_LONG, 1), (SHADOW_VERY_SHORT, 1), (BODY_LONG, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first_long, first_short_shadow, second_long, second_short_shadow = thresholds
        first, second = candles[-2], candles[-1]
        if (_kicking_gap(first, second) and _marubozu(first, first_long, first_short_shadow)
                and _marubozu(second, second_long, second_short_shadow)):
            return color(second) * 100
        return 0


class KickingByLength(CandlePattern):
    """CDLKICKINGBYLENGTH: the kicking pattern, signed by the longer of the two marubozu."""

    __slots__ = ()
    lookback = max(SHADOW_VERY_SHORT.average_period, BODY_LONG.average_period) + 1
    candles = 2
    averages = ((BODY_LONG, 1), (SHADOW_VERY_SHORT, 1), (BODY_LONG, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        first_long, first_short_shadow, second_long, second_short_shadow = thresholds
        first, second = candles[-2], candles[-1]
        if (_kicking_gap(first, second) and _marubozu(first, first_long, first_short_shadow)
                and _marubozu(second, second_long, second_short_shadow)):
            return color(second if real_body(second) > real_body(first) else first) * 100
        return 0


class MatchingLow(CandlePattern):
    """CDLMATCHINGLOW: two black candles closing at (about) the same price."""

    __slots__ = ()
    lookback = EQUAL.average_period + 1
    candles = 2
    averages = ((EQUAL, 1),)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        equal = thresholds[0]
        first, second = candles[-2], candles[-1]
        return 100 if (color(first) == -1 and color(second) == -1 and second.close <= first.close + equal
                       and second.close >= first.close - equal) else 0


class SeparatingLines(CandlePattern):
    """CDLSEPARATINGLINES: opposite colors opening at the same price, the second a belt hold."""

    __slots__ = ()
    lookback = max(SHADOW_VERY_SHORT.average_period, BODY_LONG.average_period, EQUAL.average_period) + 1
    candles = 2
    averages = ((SHADOW_VERY_SHORT, 0), (BODY_LONG, 0), (EQUAL, 1))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        shadow_very_short, body_long, equal = thresholds
        first, second = candles[-2], candles[-1]
        direction = color(second)
        opening_shadow = lower_shadow(second) if direction == 1 else upper_shadow(second)
        if (color(first) == -direction and second.open <= first.open + equal and second.open >= first.open - equal
                and real_body(second) > body_long and opening_shadow < shadow_very_short):
            return direction * 100
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
