"""Hikkake: an inside bar, a false breakout, and an optional confirmation within three bars.

Unlike the other patterns these keep state across bars: the direction of the last hikkake,
the bar it appeared on, and the prices it must close beyond to be confirmed. TA-Lib starts
scanning three bars before its first output, so the state is warmed up from there. The
output is ±100 on the hikkake bar and ±200 on the bar that confirms it.

>>> hikkake = Hikkake()
>>> bars = [(10.0, 10.5, 9.5, 10.0)] * 3 + [(10.0, 12.0, 8.0, 10.0), (10.0, 11.0, 9.0, 10.0),
...         (9.5, 10.5, 8.5, 9.0), (9.0, 11.5, 8.9, 11.2)]
>>> values = []
>>> for bar in bars:
...     hikkake.update(*bar)
...     values.append(hikkake.value)
>>> values
[0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 200.0]
"""

from __future__ import annotations

from operators.ta.candles.pattern import CandlePattern
from operators.ta.candles.settings import NEAR
from operators.ta.candles.window import CandleRing


class _HikkakeState(CandlePattern):
    """The confirmation logic shared by both hikkake variants; subclasses say what a hikkake is."""

    __slots__ = ("_direction", "_pattern_index", "_confirm_above", "_confirm_below")

    def _reset(self) -> None:
        super()._reset()
        self._direction = 0
        self._pattern_index = 0
        self._confirm_above = 0.0
        self._confirm_below = 0.0

    def _breakout(self, candles: CandleRing, thresholds: list[float]) -> int:
        """+1 for a bullish hikkake at the newest candle, -1 for a bearish one, 0 for none."""
        raise NotImplementedError

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        direction = self._breakout(candles, thresholds)
        if direction:
            inside = candles[-2]
            self._direction = direction
            self._pattern_index = index
            self._confirm_above = inside.high
            self._confirm_below = inside.low
            return direction * 100
        close = candles[-1].close
        if self._direction and index <= self._pattern_index + 3 and (
                (self._direction > 0 and close > self._confirm_above)
                or (self._direction < 0 and close < self._confirm_below)):
            self._pattern_index = 0
            return self._direction * 200
        return 0


class Hikkake(_HikkakeState):
    """CDLHIKKAKE: an inside bar followed by a bar breaking out of it on both high and low."""

    __slots__ = ()
    lookback = 5
    first_evaluated = lookback - 3
    candles = 3

    def _breakout(self, candles: CandleRing, thresholds: list[float]) -> int:
        first, second, third = candles[-3], candles[-2], candles[-1]
        if second.high < first.high and second.low > first.low:
            if third.high < second.high and third.low < second.low:
                return 1
            if third.high > second.high and third.low > second.low:
                return -1
        return 0


class ModifiedHikkake(_HikkakeState):
    """CDLHIKKAKEMOD: two nested inside bars, the middle one closing near its low (bullish) or high
    (bearish), then a false breakout."""

    __slots__ = ()
    lookback = max(1, NEAR.average_period) + 5
    first_evaluated = lookback - 3
    candles = 4
    averages = ((NEAR, 2),)

    def _breakout(self, candles: CandleRing, thresholds: list[float]) -> int:
        near = thresholds[0]
        first, second, third, fourth = candles[-4], candles[-3], candles[-2], candles[-1]
        if (second.high < first.high and second.low > first.low
                and third.high < second.high and third.low > second.low):
            if fourth.high < third.high and fourth.low < third.low and second.close <= second.low + near:
                return 1
            if fourth.high > third.high and fourth.low > third.low and second.close >= second.high - near:
                return -1
        return 0


TALIB_FUNCTIONS: dict[str, type] = {
    "CDLHIKKAKE": Hikkake,
    "CDLHIKKAKEMOD": ModifiedHikkake,
}
