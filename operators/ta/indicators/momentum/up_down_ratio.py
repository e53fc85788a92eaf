"""Oscillators built from the upward and downward moves of a window: ``talib.CMO``, ``talib.CMOU``,
``talib.IMI`` and ``talib.MFI``.

- CMO (TA-Lib's Chande momentum oscillator) smooths gains and losses of the close as RSI does:
  the first ``timeperiod`` steps are averaged, then ``(average * (timeperiod - 1) + step) /
  timeperiod``; the output is ``100 * (gains - losses) / (gains + losses)``. The recursion starts
  at the first bar, so it matches TA-Lib fed from there.
- CMOU is Chande's original, unsmoothed form: plain sums over the last ``timeperiod`` steps,
  ``(100 * (gains - losses)) / (gains + losses)`` (scaled before dividing, as TA-Lib does).
- IMI, the intraday momentum index: ``100 * up / (up + down)`` with up/down the sums of positive
  and negative ``close - open`` over the last ``timeperiod`` bars; 50 when both sums are zero.
- MFI, the money flow index: typical price ``(high + low + close) / 3`` times volume counts as
  positive flow when the typical price rose, negative when it fell, nothing when unchanged
  (TA-Lib 0.8 treats typical prices within ``1e-14 * (|a| + |b|)`` of each other as unchanged,
  so a rounding difference of an ulp or two between equal sums is no move);
  ``100 * positive / (positive + negative)`` over ``timeperiod`` steps, the positive flow clamped
  into ``[0, total]``. The flow totals are kept exactly as TA-Lib keeps them (subtract the
  oldest, add the newest, reset to zero once a whole window brought no flow).

Flat windows follow TA-Lib 0.8: every sum here is of non-negative terms, so a window is flat
exactly when its sum is not positive (0 for CMO, CMOU and MFI, 50 for IMI), at any price level.
All are O(1) per update with a ``timeperiod``-sized window (none for CMO).

>>> oscillator = ChandeMomentumOscillatorUnsmoothed(timeperiod=2)
>>> for close in [10.0, 12.0, 11.0]:
...     oscillator.update(close)
>>> round(oscillator.value, 6)
33.333333
"""

from __future__ import annotations

import math

from operators.ta.base import Indicator, Period
from operators.ta.indicators.momentum._wilder import WilderOscillator
from operators.ta.indicators.momentum.rolling_window import RollingSum
from operators.ta.ring import FloatRing

# TA-Lib 0.8 counts a typical price within 1e-14 of the sum of magnitudes of the previous one as
# unchanged, so a one-ulp difference from rounding is no move.
_TIE_TOLERANCE = 1e-14


class ChandeMomentumOscillator(WilderOscillator):
    """``talib.CMO``: Wilder-smoothed gains against losses, -100 .. 100.

    >>> oscillator = ChandeMomentumOscillator(timeperiod=2)
    >>> for close in [10.0, 12.0, 11.0, 12.0]:
    ...     oscillator.update(close)
    >>> round(oscillator.value, 6)
    60.0
    """

    __slots__ = ()
    reciprocal = False

    @staticmethod
    def _numerator(gain: float, loss: float) -> float:
        return gain - loss


class _UpDownSums(Indicator):
    """Rolling sums of the up moves and the down moves over ``timeperiod`` steps."""

    __slots__ = ("timeperiod", "_gains", "_losses")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._gains = RollingSum(self.timeperiod)
        self._losses = RollingSum(self.timeperiod)

    def _add(self, step: float) -> bool:
        """Add one move; True once the window is full."""
        gains = self._gains
        gains.update(step if step > 0.0 else 0.0)
        self._losses.update(-step if step < 0.0 else 0.0)
        return gains.ready


class ChandeMomentumOscillatorUnsmoothed(_UpDownSums):
    """``talib.CMOU``: ``100 * (sum of gains - sum of losses) / (sum of both)`` over the window."""

    __slots__ = ("_previous",)

    def _reset(self) -> None:
        super()._reset()
        self._previous = math.nan

    def update(self, close: float) -> None:
        previous = self._previous
        self._previous = close
        if previous != previous or not self._add(close - previous):
            return
        gain = self._gains.value
        loss = self._losses.value
        total = gain + loss
        self._value = (100.0 * (gain - loss)) / total if total > 0.0 else 0.0


class IntradayMomentumIndex(_UpDownSums):
    """``talib.IMI``: share of the window's open-to-close moves that went up, 0 .. 100.

    >>> index = IntradayMomentumIndex(timeperiod=2)
    >>> for open_, close in [(10.0, 11.0), (11.0, 10.5)]:
    ...     index.update(open_, close)
    >>> round(index.value, 6)
    66.666667
    """

    __slots__ = ()
    inputs = ("open", "close")

    def update(self, open: float, close: float) -> None:  # noqa: A002 - TA-Lib's input name
        if not self._add(close - open):
            return
        gain = self._gains.value
        total = gain + self._losses.value
        self._value = 100.0 * (gain / total) if total > 0.0 else 50.0


class MoneyFlowIndex(Indicator):
    """``talib.MFI``: volume-weighted RSI of the typical price, 0 .. 100.

    >>> index = MoneyFlowIndex(timeperiod=2)
    >>> for bar in [(11.0, 9.0, 10.0, 100.0), (12.0, 10.0, 11.0, 100.0), (11.0, 9.0, 10.0, 50.0)]:
    ...     index.update(*bar)
    >>> round(index.value, 6)
    68.75
    """

    __slots__ = ("timeperiod", "_previous", "_positive_flows", "_negative_flows", "_positive", "_negative",
                 "_empty_run")
    inputs = ("high", "low", "close", "volume")
    parameters = (Period("timeperiod", 14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._previous = math.nan
        self._positive_flows = FloatRing(self.timeperiod)
        self._negative_flows = FloatRing(self.timeperiod)
        self._positive = 0.0
        self._negative = 0.0
        self._empty_run = 0  # consecutive bars that brought no money flow

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        typical = (high + low + close) / 3.0
        previous = self._previous
        self._previous = typical
        if previous != previous:
            return
        positive_flows, negative_flows = self._positive_flows, self._negative_flows
        period = self.timeperiod
        if len(positive_flows) == period:  # the oldest flows leave as the new ones are appended
            self._positive -= positive_flows[0]
            self._negative -= negative_flows[0]
        step = typical - previous
        unchanged = abs(step) <= _TIE_TOLERANCE * (abs(typical) + abs(previous))
        flow = 0.0 if unchanged else typical * volume
        if step < 0.0:
            positive_flows.append(0.0)
            negative_flows.append(flow)
            self._negative += flow
        else:
            positive_flows.append(flow)
            negative_flows.append(0.0)
            self._positive += flow
        self._empty_run = min(self._empty_run + 1, period) if flow == 0.0 else 0
        if self._empty_run == period:  # the window holds only zeros: drop the sums' residue
            self._positive = 0.0
            self._negative = 0.0
        if len(positive_flows) < period:
            return
        positive = self._positive
        total = positive + self._negative
        if total <= 0.0:
            self._value = 0.0
        else:
            self._value = 100.0 * (min(max(positive, 0.0), total) / total)


TALIB_FUNCTIONS: dict[str, type] = {
    "CMO": ChandeMomentumOscillator,
    "CMOU": ChandeMomentumOscillatorUnsmoothed,
    "IMI": IntradayMomentumIndex,
    "MFI": MoneyFlowIndex,
}
