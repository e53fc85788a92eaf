"""TA-Lib's statistic functions, computed one bar at a time.

Every update is O(1) (amortized where a window is occasionally re-summed) and state is
bounded by the window:

- VAR, STDDEV, BETA and CORREL keep sums of deviations from a shift near the window
  (:class:`~operators.ta.indicators.window_moments.WindowMoments`), so no digits are lost to
  cancellation (TA-Lib 0.8 does the same; both agree with an exact two-pass computation to
  ~1e-11, which is how they agree with each other).
- The linear regressions slide their sums in O(1) and re-sum the window on TA-Lib's own
  cadence, which keeps the slope bit-identical to TA-Lib's.

PERCENTILE and PERCENTRANK keep the window sorted: a binary search, O(log n) comparisons,
plus one list insert and one delete, which move O(n) pointers in a single memmove.

>>> deviation = StandardDeviation(timeperiod=3)
>>> for close in [1.0, 2.0, 3.0, 4.0]:
...     deviation.update(close)
>>> round(deviation.value, 6)
0.816497
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort_right
from collections import deque

from operators.ta.base import Indicator, Number, Period, is_zero
from operators.ta.indicators.overlap import LARGEST_REAL
from operators.ta.indicators.window_moments import WindowMoments
from operators.ta.ring import FloatRing

__all__ = [
    "Beta",
    "Correlation",
    "LinearRegression",
    "LinearRegressionAngle",
    "LinearRegressionIntercept",
    "LinearRegressionSlope",
    "PercentRank",
    "RollingPercentile",
    "StandardDeviation",
    "TALIB_FUNCTIONS",
    "TimeSeriesForecast",
    "Variance",
]

LONGEST_PERIOD = 100_000
DEGREES_PER_RADIAN = 180.0 / 3.14159265358979323846


def _timeperiod(default: int, minimum: int) -> Period:
    return Period("timeperiod", default, minimum=minimum, maximum=LONGEST_PERIOD)


class Variance(Indicator):
    """VAR: population variance over ``timeperiod`` bars (TA-Lib ignores ``nbdev`` here, so do we).

    >>> variance = Variance(timeperiod=3)
    >>> for close in [1.0, 2.0, 3.0]:
    ...     variance.update(close)
    >>> round(variance.value, 6)
    0.666667
    """

    __slots__ = ("timeperiod", "nbdev", "_moments")
    parameters = (_timeperiod(5, minimum=1), Number("nbdev", 1.0, -LARGEST_REAL, LARGEST_REAL))

    def _reset(self) -> None:
        super()._reset()
        self._moments = WindowMoments(self.timeperiod, paired=False)

    def update(self, close: float) -> None:
        moments = self._moments
        moments.push(close)
        if moments.full:
            self._value = moments.squares_x / self.timeperiod


class StandardDeviation(Variance):
    """STDDEV: ``nbdev`` times the square root of VAR.

    >>> deviation = StandardDeviation(timeperiod=2, nbdev=2.0)
    >>> for close in [1.0, 3.0]:
    ...     deviation.update(close)
    >>> deviation.value
    2.0
    """

    __slots__ = ()
    parameters = (_timeperiod(5, minimum=2), Variance.parameters[1])

    def update(self, close: float) -> None:
        moments = self._moments
        moments.push(close)
        if moments.full:
            self._value = math.sqrt(moments.squares_x / self.timeperiod) * self.nbdev


def _bar_return(price: float, previous: float) -> float:
    return 0.0 if is_zero(previous) else (price - previous) / previous


class Beta(Indicator):
    """BETA: regression slope of the second series' bar returns on the first's, over ``timeperiod`` returns.

    A return is ``(price - previous) / previous``, or 0 after a price within 1e-14 of zero; the
    result is 0 when the first series' returns do not vary (relative to their own size).

    >>> beta = Beta(timeperiod=3)
    >>> for high, low in [(10.0, 20.0), (11.0, 23.0), (11.0, 23.0), (12.1, 29.9)]:
    ...     beta.update(high, low)
    >>> round(beta.value, 6)
    2.25
    """

    __slots__ = ("timeperiod", "_previous", "_moments")
    inputs = ("high", "low")
    parameters = (_timeperiod(5, minimum=1),)

    def _reset(self) -> None:
        super()._reset()
        self._previous: tuple[float, float] | None = None
        self._moments = WindowMoments(self.timeperiod, paired=True)

    def update(self, high: float, low: float) -> None:
        previous = self._previous
        self._previous = (high, low)
        if previous is None:
            return
        moments = self._moments
        moments.push(_bar_return(high, previous[0]), _bar_return(low, previous[1]))
        if moments.full:
            varies = moments.squares_x > 1e-14 * moments.scale_x
            self._value = moments.products / moments.squares_x if varies else 0.0


class Correlation(Indicator):
    """CORREL: Pearson correlation of two series over ``timeperiod`` bars; 0 when either is flat.

    >>> correlation = Correlation(timeperiod=3)
    >>> for high, low in [(1.0, 2.0), (2.0, 4.0), (3.0, 6.5)]:
    ...     correlation.update(high, low)
    >>> round(correlation.value, 6)
    0.997949
    """

    __slots__ = ("timeperiod", "_moments")
    inputs = ("high", "low")
    parameters = (_timeperiod(30, minimum=1),)

    def _reset(self) -> None:
        super()._reset()
        self._moments = WindowMoments(self.timeperiod, paired=True)

    def update(self, high: float, low: float) -> None:
        moments = self._moments
        moments.push(high, low)
        if not moments.full:
            return
        squares_x, squares_y = moments.squares_x, moments.squares_y
        if squares_x > 1e-14 * moments.scale_x and squares_y > 1e-14 * moments.scale_y:
            self._value = min(1.0, max(-1.0, moments.products / math.sqrt(squares_x * squares_y)))
        else:
            self._value = 0.0


class LinearFit(Indicator):
    """Least-squares line through the last ``timeperiod`` closes, x = bars back from the newest.

    The window sums slide in O(1): each step adds one ``SumY`` to ``SumXY`` (every kept bar is
    one bar older) and drops the departing bar at full weight. As TA-Lib 0.8 does, they are
    rebuilt from the window (O(period)) every ``32 * timeperiod`` bars, or when a departing
    value dwarfs the window sum, so float drift stays bounded; following the same cadence
    keeps the slope identical to TA-Lib's to the last bit. A subclass picks its output from
    the slope and intercept in :meth:`_fitted`, as TA-Lib does.
    """

    __slots__ = ("timeperiod", "_sum_x", "_divisor", "_window", "_sum_y", "_sum_xy", "_until_rebuild")
    parameters = (_timeperiod(14, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        timeperiod = self.timeperiod
        self._sum_x = timeperiod * (timeperiod - 1) * 0.5
        sum_x_squared = float(timeperiod * (timeperiod - 1) * (2 * timeperiod - 1) // 6)
        self._divisor = self._sum_x * self._sum_x - timeperiod * sum_x_squared
        self._window = FloatRing(timeperiod)
        self._sum_y = 0.0
        self._sum_xy = 0.0
        self._until_rebuild = 0

    def _fitted(self, slope: float, intercept: float) -> float:
        """The output, from the line's ``slope`` and its ``intercept`` at the oldest bar."""
        raise NotImplementedError

    def update(self, close: float) -> None:
        window = self._window
        period = self.timeperiod
        if len(window) < period:
            window.append(close)
            if len(window) < period:
                return
            self._rebuild()  # first full window
        else:
            departing = window[0]
            window.append(close)  # drops the departing bar
            weighted_departing = period * departing
            self._sum_xy = self._sum_xy + self._sum_y - weighted_departing
            self._sum_y = self._sum_y - departing + close
            self._until_rebuild -= 1
            if self._until_rebuild <= 0 or abs(weighted_departing) > 100.0 * abs(self._sum_y):
                self._rebuild()
        slope = (period * self._sum_xy - self._sum_x * self._sum_y) / self._divisor
        self._value = self._fitted(slope, (self._sum_y - slope * self._sum_x) / period)

    def _rebuild(self) -> None:
        """Sum the window afresh, oldest bar first (weight timeperiod - 1) down to the newest (0)."""
        sum_y = 0.0
        sum_xy = 0.0
        bars_back = self.timeperiod
        for close in self._window:
            bars_back -= 1
            sum_y += close
            sum_xy += bars_back * close
        self._sum_y = sum_y
        self._sum_xy = sum_xy
        self._until_rebuild = 32 * self.timeperiod


class LinearRegression(LinearFit):
    """LINEARREG: the fitted line's value at the newest bar.

    >>> regression = LinearRegression(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     regression.update(close)
    >>> round(regression.value, 6)
    3.833333
    """

    __slots__ = ()

    def _fitted(self, slope: float, intercept: float) -> float:
        return intercept + slope * (self.timeperiod - 1)


class LinearRegressionSlope(LinearFit):
    """LINEARREG_SLOPE: the fitted line's change per bar.

    >>> slope = LinearRegressionSlope(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     slope.update(close)
    >>> slope.value
    1.5
    """

    __slots__ = ()

    def _fitted(self, slope: float, intercept: float) -> float:
        return slope


class LinearRegressionAngle(LinearFit):
    """LINEARREG_ANGLE: the slope as an angle in degrees.

    >>> angle = LinearRegressionAngle(timeperiod=2)
    >>> for close in [1.0, 2.0]:
    ...     angle.update(close)
    >>> round(angle.value, 6)
    45.0
    """

    __slots__ = ()

    def _fitted(self, slope: float, intercept: float) -> float:
        return math.atan(slope) * DEGREES_PER_RADIAN


class LinearRegressionIntercept(LinearFit):
    """LINEARREG_INTERCEPT: the fitted line's value at the oldest bar of the window.

    >>> intercept = LinearRegressionIntercept(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     intercept.update(close)
    >>> round(intercept.value, 6)
    0.833333
    """

    __slots__ = ()

    def _fitted(self, slope: float, intercept: float) -> float:
        return intercept


class TimeSeriesForecast(LinearFit):
    """TSF: the fitted line extended one bar past the newest.

    >>> forecast = TimeSeriesForecast(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     forecast.update(close)
    >>> round(forecast.value, 6)
    5.333333
    """

    __slots__ = ()

    def _fitted(self, slope: float, intercept: float) -> float:
        return intercept + slope * self.timeperiod


class RollingPercentile(Indicator):
    """PERCENTILE: the nearest-rank percentile of the last ``timeperiod`` bars (no interpolation).

    The rank is ``ceil(percentile * timeperiod / 100)``, kept within 1..timeperiod.

    >>> median = RollingPercentile(timeperiod=4, percentile=50.0)
    >>> for close in [4.0, 1.0, 3.0, 2.0]:
    ...     median.update(close)
    >>> median.value
    2.0
    """

    __slots__ = ("timeperiod", "percentile", "_rank", "_window", "_sorted")
    parameters = (_timeperiod(30, minimum=2), Number("percentile", 50.0, 0.0, 100.0))

    def _reset(self) -> None:
        super()._reset()
        timeperiod = self.timeperiod
        self._rank = min(max(math.ceil(self.percentile * float(timeperiod) / 100.0), 1), timeperiod)
        self._window: deque[float] = deque(maxlen=timeperiod)
        self._sorted: list[float] = []

    def update(self, close: float) -> None:
        window = self._window
        ordered = self._sorted
        if len(window) == self.timeperiod:
            del ordered[bisect_left(ordered, window[0])]
        window.append(close)
        insort_right(ordered, close)
        if len(ordered) == self.timeperiod:
            self._value = ordered[self._rank - 1]


class PercentRank(Indicator):
    """PERCENTRANK: percent of the previous ``timeperiod`` bars strictly below the current one.

    >>> rank = PercentRank(timeperiod=4)
    >>> for close in [4.0, 1.0, 3.0, 2.0, 3.5]:
    ...     rank.update(close)
    >>> rank.value
    75.0
    """

    __slots__ = ("timeperiod", "_window", "_sorted")
    parameters = (_timeperiod(100, minimum=2),)

    def _reset(self) -> None:
        super()._reset()
        self._window: deque[float] = deque()
        self._sorted: list[float] = []

    def update(self, close: float) -> None:
        window = self._window
        ordered = self._sorted
        if len(window) == self.timeperiod:
            below = bisect_left(ordered, close)
            self._value = below / self.timeperiod * 100.0
            del ordered[bisect_left(ordered, window.popleft())]
        window.append(close)
        insort_right(ordered, close)


TALIB_FUNCTIONS: dict[str, type[Indicator]] = {
    "BETA": Beta,
    "CORREL": Correlation,
    "LINEARREG": LinearRegression,
    "LINEARREG_ANGLE": LinearRegressionAngle,
    "LINEARREG_INTERCEPT": LinearRegressionIntercept,
    "LINEARREG_SLOPE": LinearRegressionSlope,
    "PERCENTILE": RollingPercentile,
    "PERCENTRANK": PercentRank,
    "STDDEV": StandardDeviation,
    "TSF": TimeSeriesForecast,
    "VAR": Variance,
}
