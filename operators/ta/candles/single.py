"""One-candle patterns: each judges only the newest candle against trailing averages.

Most are nothing but their rules: which part of the candle must be longer or shorter than
which setting.

>>> line = LongLine()
>>> for bar in [(10.0, 10.6, 9.9, 10.5)] * 10 + [(10.0, 12.0, 10.0, 12.0)]:
...     line.update(*bar)
>>> line.value
100.0
"""

from __future__ import annotations

from operators.ta.candles.candle import (body_bottom, body_top, closing_shadow, color, high_low_range,
                                         lower_shadow, opening_shadow, real_body, upper_shadow)
from operators.ta.candles.pattern import CandlePattern, Rule, at_most, longer, shorter
from operators.ta.candles.settings import (BODY_DOJI, BODY_LONG, BODY_SHORT, NEAR, SHADOW_LONG, SHADOW_SHORT,
                                           SHADOW_VERY_LONG, SHADOW_VERY_SHORT)
from operators.ta.candles.window import CandleRing


def marubozu(offset: int = 0) -> tuple[Rule, ...]:
    """A long body with both shadows very short."""
    return (longer(real_body, BODY_LONG, offset), shorter(upper_shadow, SHADOW_VERY_SHORT, offset),
            shorter(lower_shadow, SHADOW_VERY_SHORT, offset))


BELT_HOLD = (longer(real_body, BODY_LONG), shorter(opening_shadow, SHADOW_VERY_SHORT))
"""A long body opening on its extreme."""


class _SignedByColor(CandlePattern):
    """A one-candle shape signed by the candle's color."""

    __slots__ = ()

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        return color(candles[-1]) * 100


class BeltHold(_SignedByColor):
    """CDLBELTHOLD: a long body opening on its extreme (white: no lower shadow; black: no upper)."""

    __slots__ = ()
    rules = BELT_HOLD


class ClosingMarubozu(_SignedByColor):
    """CDLCLOSINGMARUBOZU: a long body closing on its extreme (white: no upper shadow; black: no lower)."""

    __slots__ = ()
    rules = (longer(real_body, BODY_LONG), shorter(closing_shadow, SHADOW_VERY_SHORT))


class Doji(CandlePattern):
    """CDLDOJI: a real body no larger than a tenth of the average high-low range."""

    __slots__ = ()
    rules = (at_most(real_body, BODY_DOJI),)


class DragonflyDoji(CandlePattern):
    """CDLDRAGONFLYDOJI: a doji with no upper shadow and a lower shadow that is not very short."""

    __slots__ = ()
    rules = (at_most(real_body, BODY_DOJI), shorter(upper_shadow, SHADOW_VERY_SHORT),
             longer(lower_shadow, SHADOW_VERY_SHORT))


class GravestoneDoji(CandlePattern):
    """CDLGRAVESTONEDOJI: a doji with no lower shadow and an upper shadow that is not very short."""

    __slots__ = ()
    rules = (at_most(real_body, BODY_DOJI), shorter(lower_shadow, SHADOW_VERY_SHORT),
             longer(upper_shadow, SHADOW_VERY_SHORT))


class HighWave(_SignedByColor):
    """CDLHIGHWAVE: a short body with both shadows very long; signed by the candle's color."""

    __slots__ = ()
    rules = (shorter(real_body, BODY_SHORT), longer(upper_shadow, SHADOW_VERY_LONG),
             longer(lower_shadow, SHADOW_VERY_LONG))


class LongLeggedDoji(CandlePattern):
    """CDLLONGLEGGEDDOJI: a doji with at least one long shadow."""

    __slots__ = ()
    rules = (at_most(real_body, BODY_DOJI),)
    averages = ((SHADOW_LONG, 0),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        shadow_long = thresholds[0]
        candle = candles[-1]
        return 100 if lower_shadow(candle) > shadow_long or upper_shadow(candle) > shadow_long else 0


class LongLine(_SignedByColor):
    """CDLLONGLINE: a long body with both shadows short; signed by the candle's color."""

    __slots__ = ()
    rules = (longer(real_body, BODY_LONG), shorter(upper_shadow, SHADOW_SHORT), shorter(lower_shadow, SHADOW_SHORT))


class Marubozu(_SignedByColor):
    """CDLMARUBOZU: a long body with both shadows very short; signed by the candle's color."""

    __slots__ = ()
    rules = marubozu()


class RickshawMan(CandlePattern):
    """CDLRICKSHAWMAN: a doji with two long shadows and its body near the middle of the range."""

    __slots__ = ()
    rules = (at_most(real_body, BODY_DOJI), longer(lower_shadow, SHADOW_LONG), longer(upper_shadow, SHADOW_LONG))
    averages = ((NEAR, 0),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        near = thresholds[0]
        candle = candles[-1]
        middle = candle.low + high_low_range(candle) / 2
        return 100 if body_bottom(candle) <= middle + near and body_top(candle) >= middle - near else 0


class ShortLine(_SignedByColor):
    """CDLSHORTLINE: a short body with both shadows short; signed by the candle's color."""

    __slots__ = ()
    rules = (shorter(real_body, BODY_SHORT), shorter(upper_shadow, SHADOW_SHORT), shorter(lower_shadow, SHADOW_SHORT))


class SpinningTop(CandlePattern):
    """CDLSPINNINGTOP: a short body with both shadows longer than the body."""

    __slots__ = ()
    rules = (shorter(real_body, BODY_SHORT),)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        candle = candles[-1]
        body = real_body(candle)
        return color(candle) * 100 if upper_shadow(candle) > body and lower_shadow(candle) > body else 0


class Takuri(CandlePattern):
    """CDLTAKURI: a dragonfly doji whose lower shadow is very long."""

    __slots__ = ()
    rules = (at_most(real_body, BODY_DOJI), shorter(upper_shadow, SHADOW_VERY_SHORT),
             longer(lower_shadow, SHADOW_VERY_LONG))


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
