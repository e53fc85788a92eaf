"""One-candle patterns: each judges only the newest candle against trailing averages.

>>> line = LongLine()
>>> for bar in [(10.0, 10.6, 9.9, 10.5)] * 10 + [(10.0, 12.0, 10.0, 12.0)]:
...     line.update(*bar)
>>> line.value
100.0
"""

from __future__ import annotations

from collections import deque

from operators.ta.candles.candle import (Candle, body_bottom, body_top, color, high_low_range, lower_shadow, real_body,
                                      upper_shadow)
from operators.ta.candles.pattern import CandlePattern
from operators.ta.candles.settings import (BODY_DOJI, BODY_LONG, BODY_SHORT, NEAR, SHADOW_LONG, SHADOW_SHORT,
                                        SHADOW_VERY_LONG, SHADOW_VERY_SHORT)


class BeltHold(CandlePattern):
    """CDLBELTHOLD: a long body opening on its extreme (white: no lower shadow; black: no upper)."""

    __slots__ = ()
    lookback = max(BODY_LONG.average_period, SHADOW_VERY_SHORT.average_period)
    averages = ((BODY_LONG, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, shadow_very_short = thresholds
        candle = candles[-1]
        direction = color(candle)
        opening_shadow = lower_shadow(candle) if direction == 1 else upper_shadow(candle)
        return direction * 100 if real_body(candle) > body_long and opening_shadow < shadow_very_short else 0


class ClosingMarubozu(CandlePattern):
    """CDLCLOSINGMARUBOZU: a long body closing on its extreme (white: no upper shadow; black: no lower)."""

    __slots__ = ()
    lookback = max(BODY_LONG.average_period, SHADOW_VERY_SHORT.average_period)
    averages = ((BODY_LONG, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, shadow_very_short = thresholds
        candle = candles[-1]
        direction = color(candle)
        closing_shadow = upper_shadow(candle) if direction == 1 else lower_shadow(candle)
        return direction * 100 if real_body(candle) > body_long and closing_shadow < shadow_very_short else 0


class Doji(CandlePattern):
    """CDLDOJI: a real body no larger than a tenth of the average high-low range."""

    __slots__ = ()
    lookback = BODY_DOJI.average_period
    averages = ((BODY_DOJI, 0),)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        return 100 if real_body(candles[-1]) <= thresholds[0] else 0


class DragonflyDoji(CandlePattern):
    """CDLDRAGONFLYDOJI: a doji with no upper shadow and a lower shadow that is not very short."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, SHADOW_VERY_SHORT.average_period)
    averages = ((BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_doji, shadow_very_short = thresholds
        candle = candles[-1]
        return 100 if (real_body(candle) <= body_doji and upper_shadow(candle) < shadow_very_short
                       and lower_shadow(candle) > shadow_very_short) else 0


class GravestoneDoji(CandlePattern):
    """CDLGRAVESTONEDOJI: a doji with no lower shadow and an upper shadow that is not very short."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, SHADOW_VERY_SHORT.average_period)
    averages = ((BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_doji, shadow_very_short = thresholds
        candle = candles[-1]
        return 100 if (real_body(candle) <= body_doji and lower_shadow(candle) < shadow_very_short
                       and upper_shadow(candle) > shadow_very_short) else 0


class HighWave(CandlePattern):
    """CDLHIGHWAVE: a short body with both shadows very long; signed by the candle's color."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, SHADOW_VERY_LONG.average_period)
    averages = ((BODY_SHORT, 0), (SHADOW_VERY_LONG, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_short, shadow_very_long = thresholds
        candle = candles[-1]
        if (real_body(candle) < body_short and upper_shadow(candle) > shadow_very_long
                and lower_shadow(candle) > shadow_very_long):
            return color(candle) * 100
        return 0


class LongLeggedDoji(CandlePattern):
    """CDLLONGLEGGEDDOJI: a doji with at least one long shadow."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, SHADOW_LONG.average_period)
    averages = ((BODY_DOJI, 0), (SHADOW_LONG, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_doji, shadow_long = thresholds
        candle = candles[-1]
        return 100 if real_body(candle) <= body_doji and (
            lower_shadow(candle) > shadow_long or upper_shadow(candle) > shadow_long) else 0


class LongLine(CandlePattern):
    """CDLLONGLINE: a long body with both shadows short; signed by the candle's color."""

    __slots__ = ()
    lookback = max(BODY_LONG.average_period, SHADOW_SHORT.average_period)
    averages = ((BODY_LONG, 0), (SHADOW_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, shadow_short = thresholds
        candle = candles[-1]
        if (real_body(candle) > body_long and upper_shadow(candle) < shadow_short
                and lower_shadow(candle) < shadow_short):
            return color(candle) * 100
        return 0


class Marubozu(CandlePattern):
    """CDLMARUBOZU: a long body with both shadows very short; signed by the candle's color."""

    __slots__ = ()
    lookback = max(BODY_LONG.average_period, SHADOW_VERY_SHORT.average_period)
    averages = ((BODY_LONG, 0), (SHADOW_VERY_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_long, shadow_very_short = thresholds
        candle = candles[-1]
        if (real_body(candle) > body_long and upper_shadow(candle) < shadow_very_short
                and lower_shadow(candle) < shadow_very_short):
            return color(candle) * 100
        return 0


class RickshawMan(CandlePattern):
    """CDLRICKSHAWMAN: a doji with two long shadows and its body near the middle of the range."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, SHADOW_LONG.average_period, NEAR.average_period)
    averages = ((BODY_DOJI, 0), (SHADOW_LONG, 0), (NEAR, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_doji, shadow_long, near = thresholds
        candle = candles[-1]
        middle = candle.low + high_low_range(candle) / 2
        return 100 if (real_body(candle) <= body_doji and lower_shadow(candle) > shadow_long
                       and upper_shadow(candle) > shadow_long and body_bottom(candle) <= middle + near
                       and body_top(candle) >= middle - near) else 0


class ShortLine(CandlePattern):
    """CDLSHORTLINE: a short body with both shadows short; signed by the candle's color."""

    __slots__ = ()
    lookback = max(BODY_SHORT.average_period, SHADOW_SHORT.average_period)
    averages = ((BODY_SHORT, 0), (SHADOW_SHORT, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_short, shadow_short = thresholds
        candle = candles[-1]
        if (real_body(candle) < body_short and upper_shadow(candle) < shadow_short
                and lower_shadow(candle) < shadow_short):
            return color(candle) * 100
        return 0


class SpinningTop(CandlePattern):
    """CDLSPINNINGTOP: a short body with both shadows longer than the body."""

    __slots__ = ()
    lookback = BODY_SHORT.average_period
    averages = ((BODY_SHORT, 0),)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        candle = candles[-1]
        body = real_body(candle)
        if body < thresholds[0] and upper_shadow(candle) > body and lower_shadow(candle) > body:
            return color(candle) * 100
        return 0


class Takuri(CandlePattern):
    """CDLTAKURI: a dragonfly doji whose lower shadow is very long."""

    __slots__ = ()
    lookback = max(BODY_DOJI.average_period, SHADOW_VERY_SHORT.average_period, SHADOW_VERY_LONG.average_period)
    averages = ((BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0), (SHADOW_VERY_LONG, 0))

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        body_doji, shadow_very_short, shadow_very_long = thresholds
        candle = candles[-1]
        return 100 if (real_body(candle) <= body_doji and upper_shadow(candle) < shadow_very_short
                       and lower_shadow(candle) > shadow_very_long) else 0


TALIB_FUNCTIONS: dict[str, type] = {
    "CDLBELTHOLD": BeltHold,
    "CDLCLOSINGMARUBOZU": ClosingMarubozu,
    "CDLDOJI": Doji,
    "CDLDRAGONFLYDOJI": DragonflyDoji,
    "CDLGRAVESTONEDOJI": GravestoneDoji,
    "CDLHIGHWAVE": HighWave,
    "CDLLONGLEGGEDDOJI": LongLeggedDoji,
    "CDLLONGLINE": LongLine,
    "CDLMARUBOZU": Marubozu,
    "CDLRICKSHAWMAN": RickshawMan,
    "CDLSHORTLINE": ShortLine,
    "CDLSPINNINGTOP": SpinningTop,
    "CDLTAKURI": Takuri,
}
