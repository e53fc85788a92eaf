"""Realized variance estimators over the last ``window`` OHLC bars, O(1) per bar.

All are per-bar variances of log prices (multiply by bars per year to annualise):

==================  ===========================================================================
close_to_close      mean of r_t^2, r_t = ln(C_t / C_{t-1})  (zero-mean, as in realized variance)
parkinson           mean of ln(H/L)^2 / (4 ln 2)                          (Parkinson 1980)
garman_klass        mean of 0.5 ln(H/L)^2 - (2 ln 2 - 1) ln(C/O)^2         (Garman-Klass 1980)
rogers_satchell     mean of ln(H/C) ln(H/O) + ln(L/C) ln(L/O)              (Rogers-Satchell 1991)
yang_zhang          s_o^2 + k s_c^2 + (1 - k) rogers_satchell, with s_o^2 the sample variance of
                    ln(O_t / C_{t-1}), s_c^2 that of ln(C_t / O_t), k = 0.34 / (1.34 + (n+1)/(n-1))
                    (Yang-Zhang 2000)
==================  ===========================================================================

The estimators that need the previous close (close-to-close, Yang-Zhang) use bars from the
second one on. Each value is NaN until its window is full.

>>> estimator = RealizedVariance(window=2)
>>> for bar in [(100.0, 101.0, 99.0, 100.5), (100.5, 102.0, 100.0, 101.5), (101.5, 103.0, 101.0, 102.0)]:
...     estimator.update(*bar)
>>> round(estimator.parkinson, 10), round(estimator.close_to_close, 10)
(0.0001400561, 6.10894e-05)
"""

from __future__ import annotations

import math

from operators.features.estimators import RollingEstimator
from operators.features.rolling import RollingSums

NAN = math.nan
_LOG_2 = math.log(2.0)


class RealizedVariance(RollingEstimator):
    """Five range- and return-based variance estimators over a rolling bar window.

    The base's sums hold the return terms (r^2, overnight o, o^2, open-to-close c, c^2,
    rogers-satchell term, from the second bar on); ``_ranges`` the range terms of every bar
    (parkinson, garman-klass, rogers-satchell).
    """

    __slots__ = ("_ranges",)
    columns = 6
    minimum_window = 2
    default_window = 20

    outputs = ("close_to_close", "parkinson", "garman_klass", "rogers_satchell", "yang_zhang")

    def _reset(self) -> None:
        super()._reset()
        self._ranges = RollingSums(self.window, 3)

    def update(self, open_: float, high: float, low: float, close: float) -> None:
        if not (0.0 < low <= high and 0.0 < open_ and 0.0 < close):
            return  # a bar without positive prices carries no variance information
        high_low = math.log(high / low)
        close_open = math.log(close / open_)
        rogers_satchell = math.log(high / close) * math.log(high / open_) + math.log(low / close) * math.log(low / open_)
        self._ranges.update(high_low * high_low / (4.0 * _LOG_2),
                            0.5 * high_low * high_low - (2.0 * _LOG_2 - 1.0) * close_open * close_open,
                            rogers_satchell)
        previous = self._previous
        if previous == previous:
            close_close = math.log(close / previous)
            overnight = math.log(open_ / previous)
            self._sums.update(close_close * close_close, overnight, overnight * overnight,
                                 close_open, close_open * close_open, rogers_satchell)
        self._previous = close

    def _range_mean(self, column: int) -> float:
        sums = self._ranges
        return sums.total(column) / sums.count if sums.ready else NAN

    @property
    def close_to_close(self) -> float:
        return self._mean(0)

    @property
    def parkinson(self) -> float:
        return self._range_mean(0)

    @property
    def garman_klass(self) -> float:
        return self._range_mean(1)

    @property
    def rogers_satchell(self) -> float:
        return self._range_mean(2)

    @property
    def yang_zhang(self) -> float:
        sums = self._sums
        if not sums.ready:
            return NAN
        n = sums.count
        overnight_variance = (sums.total(2) - sums.total(1) ** 2 / n) / (n - 1)
        open_close_variance = (sums.total(4) - sums.total(3) ** 2 / n) / (n - 1)
        k = 0.34 / (1.34 + (n + 1) / (n - 1))
        return max(0.0, overnight_variance) + k * max(0.0, open_close_variance) + (1.0 - k) * sums.total(5) / n

    @property
    def values(self) -> tuple[float, ...]:
        return (self.close_to_close, self.parkinson, self.garman_klass, self.rogers_satchell, self.yang_zhang)

    @property
    def value(self) -> float:
        return self.yang_zhang
