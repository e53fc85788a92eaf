"""One OHLC candle and the geometry every candlestick pattern is written in.

The definitions are TA-Lib's: a candle whose close equals its open counts as white, shadows
are measured from the top and bottom of the real body, and a gap is strict.

>>> candle = Candle(open=10.0, high=12.0, low=9.0, close=11.0)
>>> color(candle), real_body(candle), upper_shadow(candle), lower_shadow(candle)
(1, 1.0, 1.0, 1.0)
"""

from __future__ import annotations

from typing import NamedTuple


class Candle(NamedTuple):
    """One bar's prices."""

    open: float
    high: float
    low: float
    close: float


def color(candle: Candle) -> int:
    """1 for a white (rising or flat) candle, -1 for a black one."""
    return 1 if candle.close >= candle.open else -1


def real_body(candle: Candle) -> float:
    return abs(candle.close - candle.open)


def body_top(candle: Candle) -> float:
    return candle.close if candle.close >= candle.open else candle.open


def body_bottom(candle: Candle) -> float:
    return candle.open if candle.close >= candle.open else candle.close


def upper_shadow(candle: Candle) -> float:
    return candle.high - body_top(candle)


def lower_shadow(candle: Candle) -> float:
    return body_bottom(candle) - candle.low


def high_low_range(candle: Candle) -> float:
    return candle.high - candle.low


def shadows(candle: Candle) -> float:
    """Upper plus lower shadow."""
    return upper_shadow(candle) + lower_shadow(candle)


def real_body_gap_up(later: Candle, earlier: Candle) -> bool:
    """The later real body lies wholly above the earlier one."""
    return min(later.open, later.close) > max(earlier.open, earlier.close)


def real_body_gap_down(later: Candle, earlier: Candle) -> bool:
    """The later real body lies wholly below the earlier one."""
    return max(later.open, later.close) < min(earlier.open, earlier.close)


def candle_gap_up(later: Candle, earlier: Candle) -> bool:
    """The later candle's low is above the earlier candle's high (shadows do not touch)."""
    return later.low > earlier.high


def candle_gap_down(later: Candle, earlier: Candle) -> bool:
    """The later candle's high is below the earlier candle's low."""
    return later.high < earlier.low


def opening_shadow(candle: Candle) -> float:
    """The shadow on the side the candle opened: lower for a white candle, upper for a black one."""
    return lower_shadow(candle) if candle.close >= candle.open else upper_shadow(candle)


def closing_shadow(candle: Candle) -> float:
    """The shadow on the side the candle closed: upper for a white candle, lower for a black one."""
    return upper_shadow(candle) if candle.close >= candle.open else lower_shadow(candle)


def real_body_gap(later: Candle, earlier: Candle, direction: int) -> bool:
    """A real-body gap up (``direction`` 1) or down (-1)."""
    return real_body_gap_up(later, earlier) if direction == 1 else real_body_gap_down(later, earlier)


def candle_gap(later: Candle, earlier: Candle, direction: int) -> bool:
    """A whole-candle gap up (``direction`` 1) or down (-1)."""
    return candle_gap_up(later, earlier) if direction == 1 else candle_gap_down(later, earlier)


def real_body_inside(inner: Candle, outer: Candle) -> bool:
    """The inner real body lies strictly inside the outer one."""
    return body_top(inner) < body_top(outer) and body_bottom(inner) > body_bottom(outer)


def within(value: float, reference: float, tolerance: float) -> bool:
    """``reference - tolerance <= value <= reference + tolerance``."""
    return reference - tolerance <= value <= reference + tolerance


def penetrates(later: Candle, earlier: Candle, fraction: float) -> bool:
    """The later candle closes more than ``fraction`` of the earlier body back into it: below a
    white body's close, above a black one's."""
    if earlier.close >= earlier.open:
        return later.close < earlier.close - real_body(earlier) * fraction
    return later.close > earlier.close + real_body(earlier) * fraction


def colors(*candles: Candle) -> tuple[int, ...]:
    """The colors of several candles, to compare with a tuple such as ``(1, -1, -1)``."""
    return tuple(1 if candle.close >= candle.open else -1 for candle in candles)


def steps_up(later: Candle, earlier: Candle, near: float) -> bool:
    """The later candle opens above the earlier open and at most ``near`` above the earlier close."""
    return earlier.open < later.open <= earlier.close + near
