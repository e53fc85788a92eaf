"""``talib.ULTOSC``: Larry Williams' ultimate oscillator.

Each bar contributes its buying pressure ``close - min(low, previous close)`` and its true
range. Over three windows (TA-Lib sorts the periods, so the shortest gets weight 4, the middle
2 and the longest 1) the oscillator is ``100 * (4 * bp1 / tr1 + 2 * bp2 / tr2 + bp3 / tr3) / 7``,
a term being skipped when its true-range sum is not positive. The six window sums are running
sums kept in TA-Lib's order (each starts on the bar TA-Lib primes it from, then adds the new bar,
is read, and drops the oldest), so they match TA-Lib's rounding instead of drifting from it; the
terms live in two ring buffers as long as the longest window. As in TA-Lib 0.8, a window whose bars all
brought neither pressure nor range has its sums reset to exactly zero, so the test can be exact
and holds at any price level.

>>> oscillator = UltimateOscillator(timeperiod1=1, timeperiod2=1, timeperiod3=2)
>>> for high, low, close in [(10.0, 8.0, 9.0), (11.0, 9.0, 10.0), (12.0, 10.0, 12.0)]:
...     oscillator.update(high, low, close)
>>> round(oscillator.value, 6)
96.428571
"""

from __future__ import annotations

import math

from operators.ta.base import Indicator, Period
from operators.ta.ring import FloatRing

_WEIGHTS = (4.0, 2.0, 1.0)


class UltimateOscillator(Indicator):
    """Ultimate oscillator in [0, 100]; NaN for the first ``max(periods)`` bars."""

    __slots__ = ("timeperiod1", "timeperiod2", "timeperiod3", "_periods", "_pressures", "_ranges", "_previous_close",
                 "_bars", "_empty_run", "_pressure_sums", "_range_sums")
    inputs = ("high", "low", "close")
    parameters = (Period("timeperiod1", 7), Period("timeperiod2", 14), Period("timeperiod3", 28))

    def _reset(self) -> None:
        super()._reset()
        self._periods = tuple(sorted((self.timeperiod1, self.timeperiod2, self.timeperiod3)))
        self._pressures = FloatRing(self._periods[-1])
        self._ranges = FloatRing(self._periods[-1])
        self._previous_close = math.nan
        self._bars = 0
        self._empty_run = 0  # consecutive bars with neither pressure nor range
        self._pressure_sums = [0.0, 0.0, 0.0]
        self._range_sums = [0.0, 0.0, 0.0]

    def update(self, high: float, low: float, close: float) -> None:
        previous = self._previous_close
        self._previous_close = close
        if previous != previous:  # the first bar has no previous close
            return
        true_low = low if low < previous else previous
        pressure = close - true_low
        true_range = max(high - low, abs(previous - high), abs(previous - low))
        self._pressures.append(pressure)
        self._ranges.append(true_range)
        longest = self._periods[-1]
        if self._bars < longest:
            self._bars += 1
        bars = self._bars
        pressure_sums, range_sums = self._pressure_sums, self._range_sums
        for index, period in enumerate(self._periods):
            if bars > longest - period:
                pressure_sums[index] += pressure
                range_sums[index] += true_range
        self._empty_run = min(self._empty_run + 1, longest) if true_range == 0.0 and pressure == 0.0 else 0
        for index, period in enumerate(self._periods):
            if self._empty_run >= period:  # the window holds only zeros: drop the sums' residue
                pressure_sums[index] = 0.0
                range_sums[index] = 0.0
        if bars < longest:
            return
        total = 0.0
        for index, weight in enumerate(_WEIGHTS):
            if range_sums[index] > 0.0:
                term = pressure_sums[index] / range_sums[index]
                total += term if weight == 1.0 else weight * term
        self._value = 100.0 * (total / 7.0)
        pressures, ranges = self._pressures, self._ranges
        for index, period in enumerate(self._periods):
            pressure_sums[index] -= pressures[-period]
            range_sums[index] -= ranges[-period]


TALIB_FUNCTIONS: dict[str, type] = {"ULTOSC": UltimateOscillator}
