"""Oscillators built from the upward and downward moves of a window: ``talib.CMO``, ``talib.CMOU``,
``talib.IMI`` and ``talib.MFI``.

- CMO (TA-Lib's Chande momentum oscillator) smooths gains and losses of the close as RSI does:
  the first ``timeperiod`` steps are averaged, then ``(average * (timeperiod - 1) + step) /
  timeperiod``; the output is ``100 * (gains - losses) / (gains + losses)``, 0 when the sum is
  (TA-Lib-)zero. The recursion starts at the first bar, so it matches TA-Lib fed from there.
- CMOU is Chande's original, unsmoothed form: plain sums over the last ``timeperiod`` steps.
- IMI, the intraday momentum index: ``100 * up / (up + down)`` with up/down the sums of positive
  and negative ``close - open`` over the last ``timeperiod`` bars; 50 when both sums are zero.
- MFI, the money flow index: typical price ``(high + low + close) / 3`` times volume counts as
  positive flow when the typical price rose, negative when it fell, nothing when unchanged
  (TA-Lib 0.8 treats typical prices within ``1e-14 * (|a| + |b|)`` of each other as unchanged,
  so a rounding difference of an ulp or two between equal sums is no move);
  ``100 * positive / (positive + negative)`` over ``timeperiod`` steps, 0 when that total is below
  1.0. The flow totals are kept exactly as TA-Lib keeps them (subtract the oldest, add the newest).

All are O(1) per update with a ``timeperiod``-sized window (none for CMO).

>>> oscillator = ChandeMomentumOscillatorUnsmoothed(timeperiod=2)
>>> for close in [10.0, 12.0, 11.0]:
...     oscillator.update(close)
>>> round(oscillator.value, 6)
33.333333
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar

from operators.ta.indicators.base import is_zero, require_period
from operators.ta.indicators.momentum.rolling_window import RollingSum


# TA-Lib 0.8 counts a typical price within about 1e-14 of the sum of magnitudes of the previous
# one as unchanged (found by experiment), so a one-ulp difference from rounding is no move.
_TIE_TOLERANCE = 1e-14


class _Ratio:
    """Shared contract: ``timeperiod`` >= 2, one output, NaN until ready."""

    __slots__ = ("timeperiod", "_value")

    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 14) -> None:
        require_period("timeperiod", timeperiod, 2)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._value = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._value == self._value

    @property
    def value(self) -> float:
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        return (self._value,)


class ChandeMomentumOscillator(_Ratio):
    """``talib.CMO``: Wilder-smoothed gains against losses, -100 .. 100.

    >>> oscillator = ChandeMomentumOscillator(timeperiod=2)
    >>> for close in [10.0, 12.0, 11.0, 12.0]:
    ...     oscillator.update(close)
    >>> round(oscillator.value, 6)
    60.0
    """

    __slots__ = ("_previous", "_steps", "_gain", "_loss")

    def _reset(self) -> None:
        super()._reset()
        self._previous = math.nan
        self._steps = 0
        self._gain = 0.0
        self._loss = 0.0

    def update(self, close: float) -> None:
        previous = self._previous
        self._previous = close
        if previous != previous:
            return
        step = close - previous
        gain = step if step > 0.0 else 0.0
        loss = -step if step < 0.0 else 0.0
        period = self.timeperiod
        if self._steps >= period:
            self._gain = (self._gain * (period - 1) + gain) / period
            self._loss = (self._loss * (period - 1) + loss) / period
        else:
            self._steps += 1
            self._gain += gain
            self._loss += loss
            if self._steps < period:
                return
            self._gain /= period
            self._loss /= period
        total = self._gain + self._loss
        self._value = 0.0 if is_zero(total) else 100.0 * ((self._gain - self._loss) / total)


class ChandeMomentumOscillatorUnsmoothed(_Ratio):
    """``talib.CMOU``: ``100 * (sum of gains - sum of losses) / (sum of both)`` over the window."""

    __slots__ = ("_previous", "_gains", "_losses")

    def _reset(self) -> None:
        super()._reset()
        self._previous = math.nan
        self._gains = RollingSum(self.timeperiod)
        self._losses = RollingSum(self.timeperiod)

    def update(self, close: float) -> None:
        previous = self._previous
        self._previous = close
        if previous != previous:
            return
        step = close - previous
        gains = self._gains
        losses = self._losses
        gains.update(step if step > 0.0 else 0.0)
        losses.update(-step if step < 0.0 else 0.0)
        if not gains.ready:
            return
        gain = gains.value
        loss = losses.value
        total = gain + loss
        self._value = 0.0 if is_zero(total) else 100.0 * ((gain - loss) / total)


class IntradayMomentumIndex(_Ratio):
    """``talib.IMI``: share of the window's open-to-close moves that went up, 0 .. 100.

    >>> index = IntradayMomentumIndex(timeperiod=2)
    >>> for open_, close in [(10.0, 11.0), (11.0, 10.5)]:
    ...     index.update(open_, close)
    >>> round(index.value, 6)
    66.666667
    """

    __slots__ = ("_gains", "_losses")
    inputs: ClassVar[tuple[str, ...]] = ("open", "close")

    def _reset(self) -> None:
        super()._reset()
        self._gains = RollingSum(self.timeperiod)
        self._losses = RollingSum(self.timeperiod)

    def update(self, open: float, close: float) -> None:  # noqa: A002 - TA-Lib's input name
        step = close - open
        gains = self._gains
        losses = self._losses
        gains.update(step if step > 0.0 else 0.0)
        losses.update(-step if step < 0.0 else 0.0)
        if not gains.ready:
            return
        gain = gains.value
        total = gain + losses.value
        self._value = 50.0 if is_zero(total) else 100.0 * (gain / total)


class MoneyFlowIndex(_Ratio):
    """``talib.MFI``: volume-weighted RSI of the typical price, 0 .. 100.

    >>> index = MoneyFlowIndex(timeperiod=2)
    >>> for bar in [(11.0, 9.0, 10.0, 100.0), (12.0, 10.0, 11.0, 100.0), (11.0, 9.0, 10.0, 50.0)]:
    ...     index.update(*bar)
    >>> round(index.value, 6)
    68.75
    """

    __slots__ = ("_previous", "_flows", "_positive", "_negative")
    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close", "volume")

    def _reset(self) -> None:
        super()._reset()
        self._previous = math.nan
        self._flows: deque[tuple[float, float]] = deque()
        self._positive = 0.0
        self._negative = 0.0

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        typical = (high + low + close) / 3.0
        previous = self._previous
        self._previous = typical
        if previous != previous:
            return
        flows = self._flows
        if len(flows) == self.timeperiod:
            leaving_positive, leaving_negative = flows.popleft()
            self._positive -= leaving_positive
            self._negative -= leaving_negative
        flow = typical * volume
        step = typical - previous
        if abs(step) <= _TIE_TOLERANCE * (abs(typical) + abs(previous)):
            flows.append((0.0, 0.0))
        elif step > 0.0:
            flows.append((flow, 0.0))
            self._positive += flow
        else:
            flows.append((0.0, flow))
            self._negative += flow
        if len(flows) < self.timeperiod:
            return
        total = self._positive + self._negative
        self._value = 0.0 if total < 1.0 else 100.0 * (self._positive / total)


TALIB_FUNCTIONS: dict[str, type] = {
    "CMO": ChandeMomentumOscillator,
    "CMOU": ChandeMomentumOscillatorUnsmoothed,
    "IMI": IntradayMomentumIndex,
    "MFI": MoneyFlowIndex,
}
