"""TA-Lib's statistic functions, computed one bar at a time.

Every update is O(1) (amortized where a window is occasionally re-summed) and state is
bounded by the window:

- VAR, STDDEV, BETA and CORREL keep sums of deviations from a shift near the window, so no
  digits are lost to cancellation (TA-Lib 0.8 does the same; both agree with an exact
  two-pass computation to ~1e-11, which is how they agree with each other).
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
from typing import ClassVar

from operators.ta.indicators.base import is_zero, require_period

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


def _require_timeperiod(timeperiod: object, minimum: int) -> None:
    require_period("timeperiod", timeperiod, minimum)
    if timeperiod > LONGEST_PERIOD:  # type: ignore[operator]
        raise ValueError(f"timeperiod must be <= {LONGEST_PERIOD}, got {timeperiod!r}")


def _require_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


class _WindowMoments:
    """Centered sums over the last ``period`` values of one series, or of a pair (x, y).

    The sums hold deviations from a shift near the window, not raw levels, so the sum of
    squared deviations is never a difference of two ~period*level**2 numbers (the
    cancellation that costs a naive running variance most of its digits on a $40,000
    price). The shift is re-anchored at the window mean, and the sums rebuilt with an exact
    two-pass, when the first full window arrives, every ``period`` bars, when an extracted
    sum of squares falls below 1e-6 of the sum it is extracted from, or when a departing
    value dwarfs what remains (an outlier leaving the window). Rebuilds cost O(period), so
    updates are O(1) amortized; a window flat to rounding level (still ill-conditioned
    right after a rebuild) is not rebuilt again on every bar.

    After ``push``: ``squares_x`` = sum((x - mean_x)**2), ``squares_y``, ``products``
    = sum((x - mean_x) * (y - mean_y)), ``scale_x`` / ``scale_y`` = the shifted sums of
    squares they were extracted from.
    """

    __slots__ = ("period", "paired", "_window", "_shift_x", "_shift_y", "_sum_x", "_sum_y",
                 "_sum_xx", "_sum_yy", "_sum_xy", "_leaving_xx", "_leaving_yy", "_until_rebuild",
                 "_flat", "squares_x", "squares_y", "products")

    def __init__(self, period: int, paired: bool) -> None:
        self.period = period
        self.paired = paired
        self._window: deque[tuple[float, float]] = deque()
        self._shift_x = self._shift_y = 0.0
        self._sum_x = self._sum_y = self._sum_xx = self._sum_yy = self._sum_xy = 0.0
        self._leaving_xx = self._leaving_yy = 0.0
        self._until_rebuild = 0
        self._flat = False
        self.squares_x = self.squares_y = self.products = math.nan

    @property
    def full(self) -> bool:
        return len(self._window) == self.period

    @property
    def scale_x(self) -> float:
        return self._sum_xx

    @property
    def scale_y(self) -> float:
        return self._sum_yy

    def push(self, x: float, y: float = 0.0) -> None:
        window = self._window
        if len(window) == self.period:
            old_x, old_y = window.popleft()
            self._remove(old_x - self._shift_x, old_y - self._shift_y)
        elif not window:
            self._shift_x, self._shift_y = x, y
        window.append((x, y))
        dx = x - self._shift_x
        self._sum_x += dx
        self._sum_xx += dx * dx
        if self.paired:
            dy = y - self._shift_y
            self._sum_y += dy
            self._sum_yy += dy * dy
            self._sum_xy += dx * dy
        if len(window) < self.period:
            return
        self._extract()
        self._until_rebuild -= 1
        outlier_left = self._leaving_xx > 1e6 * self._sum_xx or (
            self.paired and self._leaving_yy > 1e6 * self._sum_yy)
        stale = self._stale()
        if self._until_rebuild <= 0 or outlier_left or (stale and not self._flat):
            self._rebuild()
            self._flat = self._stale()
        elif not stale:
            self._flat = False

    def _stale(self) -> bool:
        """Whether an extracted sum of squares has lost more than 6 digits to cancellation."""
        return self.squares_x < 1e-6 * self._sum_xx or (self.paired and self.squares_y < 1e-6 * self._sum_yy)

    def _remove(self, dx: float, dy: float) -> None:
        self._leaving_xx = dx * dx
        self._sum_x -= dx
        self._sum_xx -= self._leaving_xx
        if self.paired:
            self._leaving_yy = dy * dy
            self._sum_y -= dy
            self._sum_yy -= self._leaving_yy
            self._sum_xy -= dx * dy

    def _extract(self) -> None:
        inverse = 1.0 / self.period
        self.squares_x = self._sum_xx - self._sum_x * self._sum_x * inverse
        if self.paired:
            self.squares_y = self._sum_yy - self._sum_y * self._sum_y * inverse
            self.products = self._sum_xy - self._sum_x * self._sum_y * inverse

    def _rebuild(self) -> None:
        window = self._window
        total_x = total_y = 0.0
        for x, y in window:
            total_x += x
            total_y += y
        shift_x = self._shift_x = total_x / self.period
        shift_y = self._shift_y = total_y / self.period
        sum_x = sum_y = sum_xx = sum_yy = sum_xy = 0.0
        for x, y in window:
            dx = x - shift_x
            dy = y - shift_y
            sum_x += dx
            sum_xx += dx * dx
            sum_y += dy
            sum_yy += dy * dy
            sum_xy += dx * dy
        self._sum_x, self._sum_y, self._sum_xx, self._sum_yy, self._sum_xy = sum_x, sum_y, sum_xx, sum_yy, sum_xy
        self._leaving_xx = self._leaving_yy = 0.0
        self._until_rebuild = self.period
        self._extract()
        # A sum of squares cannot be negative; at or under the mean's own rounding it is 0.
        if self.squares_x < 1e-12 * sum_xx:
            self.squares_x = 0.0
        if self.paired and self.squares_y < 1e-12 * sum_yy:
            self.squares_y = 0.0


class Variance:
    """VAR: population variance over ``timeperiod`` bars (TA-Lib ignores ``nbdev`` here, so do we).

    >>> variance = Variance(timeperiod=3)
    >>> for close in [1.0, 2.0, 3.0]:
    ...     variance.update(close)
    >>> round(variance.value, 6)
    0.666667
    """

    __slots__ = ("timeperiod", "nbdev", "_moments")
    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 5, nbdev: float = 1.0) -> None:
        _require_timeperiod(timeperiod, 1)
        self.timeperiod = timeperiod
        self.nbdev = _require_number("nbdev", nbdev)
        self._reset()

    def _reset(self) -> None:
        self._moments = _WindowMoments(self.timeperiod, paired=False)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._moments.full

    @property
    def values(self) -> tuple[float, ...]:
        return (self.value,)

    @property
    def value(self) -> float:
        return self._moments.squares_x / self.timeperiod if self._moments.full else math.nan

    def update(self, close: float) -> None:
        self._moments.push(close)


class StandardDeviation(Variance):
    """STDDEV: ``nbdev`` times the square root of VAR.

    >>> deviation = StandardDeviation(timeperiod=2, nbdev=2.0)
    >>> for close in [1.0, 3.0]:
    ...     deviation.update(close)
    >>> deviation.value
    2.0
    """

    __slots__ = ()

    def __init__(self, timeperiod: int = 5, nbdev: float = 1.0) -> None:
        _require_timeperiod(timeperiod, 2)
        super().__init__(timeperiod, nbdev)

    @property
    def value(self) -> float:
        if not self._moments.full:
            return math.nan
        return math.sqrt(self._moments.squares_x / self.timeperiod) * self.nbdev


def _bar_return(price: float, previous: float) -> float:
    return 0.0 if is_zero(previous) else (price - previous) / previous


class Beta:
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
    inputs: ClassVar[tuple[str, ...]] = ("high", "low")
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 5) -> None:
        _require_timeperiod(timeperiod, 1)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._previous: tuple[float, float] | None = None
        self._moments = _WindowMoments(self.timeperiod, paired=True)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._moments.full

    @property
    def values(self) -> tuple[float, ...]:
        return (self.value,)

    @property
    def value(self) -> float:
        moments = self._moments
        if not moments.full:
            return math.nan
        if moments.squares_x > 1e-14 * moments.scale_x:
            return moments.products / moments.squares_x
        return 0.0

    def update(self, high: float, low: float) -> None:
        previous = self._previous
        self._previous = (high, low)
        if previous is not None:
            self._moments.push(_bar_return(high, previous[0]), _bar_return(low, previous[1]))


class Correlation:
    """CORREL: Pearson correlation of two series over ``timeperiod`` bars; 0 when either is flat.

    >>> correlation = Correlation(timeperiod=3)
    >>> for high, low in [(1.0, 2.0), (2.0, 4.0), (3.0, 6.5)]:
    ...     correlation.update(high, low)
    >>> round(correlation.value, 6)
    0.997949
    """

    __slots__ = ("timeperiod", "_moments")
    inputs: ClassVar[tuple[str, ...]] = ("high", "low")
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 30) -> None:
        _require_timeperiod(timeperiod, 1)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._moments = _WindowMoments(self.timeperiod, paired=True)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._moments.full

    @property
    def values(self) -> tuple[float, ...]:
        return (self.value,)

    @property
    def value(self) -> float:
        moments = self._moments
        if not moments.full:
            return math.nan
        squares_x, squares_y = moments.squares_x, moments.squares_y
        if squares_x > 1e-14 * moments.scale_x and squares_y > 1e-14 * moments.scale_y:
            return min(1.0, max(-1.0, moments.products / math.sqrt(squares_x * squares_y)))
        return 0.0

    def update(self, high: float, low: float) -> None:
        self._moments.push(high, low)


class _LinearFit:
    """Least-squares line through the last ``timeperiod`` closes, x = bars back from the newest.

    The window sums slide in O(1): each step adds one ``SumY`` to ``SumXY`` (every kept bar is
    one bar older) and drops the departing bar at full weight. As TA-Lib 0.8 does, they are
    rebuilt from the window (O(period)) every ``32 * timeperiod`` bars, or when a departing
    value dwarfs the window sum, so float drift stays bounded; following the same cadence
    keeps the slope identical to TA-Lib's to the last bit. Subclasses pick the output from
    the slope ``m`` and intercept ``b`` as TA-Lib does.
    """

    __slots__ = ("timeperiod", "_sum_x", "_divisor", "_window", "_sum_y", "_sum_xy", "_until_rebuild",
                 "_slope", "_intercept")
    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 14) -> None:
        _require_timeperiod(timeperiod, 2)
        self.timeperiod = timeperiod
        self._sum_x = timeperiod * (timeperiod - 1) * 0.5
        sum_x_squared = float(timeperiod * (timeperiod - 1) * (2 * timeperiod - 1) // 6)
        self._divisor = self._sum_x * self._sum_x - timeperiod * sum_x_squared
        self._reset()

    def _reset(self) -> None:
        self._window: deque[float] = deque()
        self._sum_y = 0.0
        self._sum_xy = 0.0
        self._until_rebuild = 0
        self._slope = math.nan
        self._intercept = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return not math.isnan(self._slope)

    @property
    def values(self) -> tuple[float, ...]:
        return (self.value,)

    @property
    def value(self) -> float:
        raise NotImplementedError

    def update(self, close: float) -> None:
        window = self._window
        period = self.timeperiod
        window.append(close)
        if len(window) < period:
            return
        if len(window) == period:  # first full window
            self._rebuild()
        else:
            departing = window.popleft()
            weighted_departing = period * departing
            self._sum_xy = self._sum_xy + self._sum_y - weighted_departing
            self._sum_y = self._sum_y - departing + close
            self._until_rebuild -= 1
            if self._until_rebuild <= 0 or abs(weighted_departing) > 100.0 * abs(self._sum_y):
                self._rebuild()
        slope = (period * self._sum_xy - self._sum_x * self._sum_y) / self._divisor
        self._slope = slope
        self._intercept = (self._sum_y - slope * self._sum_x) / period

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


class LinearRegression(_LinearFit):
    """LINEARREG: the fitted line's value at the newest bar.

    >>> regression = LinearRegression(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     regression.update(close)
    >>> round(regression.value, 6)
    3.833333
    """

    __slots__ = ()

    @property
    def value(self) -> float:
        return self._intercept + self._slope * (self.timeperiod - 1)


class LinearRegressionSlope(_LinearFit):
    """LINEARREG_SLOPE: the fitted line's change per bar.

    >>> slope = LinearRegressionSlope(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     slope.update(close)
    >>> slope.value
    1.5
    """

    __slots__ = ()

    @property
    def value(self) -> float:
        return self._slope


class LinearRegressionAngle(_LinearFit):
    """LINEARREG_ANGLE: the slope as an angle in degrees.

    >>> angle = LinearRegressionAngle(timeperiod=2)
    >>> for close in [1.0, 2.0]:
    ...     angle.update(close)
    >>> round(angle.value, 6)
    45.0
    """

    __slots__ = ()

    @property
    def value(self) -> float:
        return math.atan(self._slope) * DEGREES_PER_RADIAN


class LinearRegressionIntercept(_LinearFit):
    """LINEARREG_INTERCEPT: the fitted line's value at the oldest bar of the window.

    >>> intercept = LinearRegressionIntercept(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     intercept.update(close)
    >>> round(intercept.value, 6)
    0.833333
    """

    __slots__ = ()

    @property
    def value(self) -> float:
        return self._intercept


class TimeSeriesForecast(_LinearFit):
    """TSF: the fitted line extended one bar past the newest.

    >>> forecast = TimeSeriesForecast(timeperiod=3)
    >>> for close in [1.0, 2.0, 4.0]:
    ...     forecast.update(close)
    >>> round(forecast.value, 6)
    5.333333
    """

    __slots__ = ()

    @property
    def value(self) -> float:
        return self._intercept + self._slope * self.timeperiod


class RollingPercentile:
    """PERCENTILE: the nearest-rank percentile of the last ``timeperiod`` bars (no interpolation).

    The rank is ``ceil(percentile * timeperiod / 100)``, kept within 1..timeperiod.

    >>> median = RollingPercentile(timeperiod=4, percentile=50.0)
    >>> for close in [4.0, 1.0, 3.0, 2.0]:
    ...     median.update(close)
    >>> median.value
    2.0
    """

    __slots__ = ("timeperiod", "percentile", "_rank", "_window", "_sorted")
    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 30, percentile: float = 50.0) -> None:
        _require_timeperiod(timeperiod, 2)
        percentile = _require_number("percentile", percentile)
        if not 0.0 <= percentile <= 100.0:
            raise ValueError(f"percentile must be within [0, 100], got {percentile!r}")
        self.timeperiod = timeperiod
        self.percentile = percentile
        self._rank = min(max(math.ceil(percentile * float(timeperiod) / 100.0), 1), timeperiod)
        self._reset()

    def _reset(self) -> None:
        self._window: deque[float] = deque(maxlen=self.timeperiod)
        self._sorted: list[float] = []

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return len(self._sorted) == self.timeperiod

    @property
    def values(self) -> tuple[float, ...]:
        return (self.value,)

    @property
    def value(self) -> float:
        return self._sorted[self._rank - 1] if self.ready else math.nan

    def update(self, close: float) -> None:
        window = self._window
        ordered = self._sorted
        if len(window) == self.timeperiod:
            del ordered[bisect_left(ordered, window[0])]
        window.append(close)
        insort_right(ordered, close)


class PercentRank:
    """PERCENTRANK: percent of the previous ``timeperiod`` bars strictly below the current one.

    >>> rank = PercentRank(timeperiod=4)
    >>> for close in [4.0, 1.0, 3.0, 2.0, 3.5]:
    ...     rank.update(close)
    >>> rank.value
    75.0
    """

    __slots__ = ("timeperiod", "_window", "_sorted", "_rank")
    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)

    def __init__(self, timeperiod: int = 100) -> None:
        _require_timeperiod(timeperiod, 2)
        self.timeperiod = timeperiod
        self._reset()

    def _reset(self) -> None:
        self._window: deque[float] = deque()
        self._sorted: list[float] = []
        self._rank = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return not math.isnan(self._rank)

    @property
    def values(self) -> tuple[float, ...]:
        return (self._rank,)

    @property
    def value(self) -> float:
        return self._rank

    def update(self, close: float) -> None:
        window = self._window
        ordered = self._sorted
        if len(window) == self.timeperiod:
            below = bisect_left(ordered, close)
            self._rank = below / self.timeperiod * 100.0
            del ordered[bisect_left(ordered, window.popleft())]
        window.append(close)
        insort_right(ordered, close)


TALIB_FUNCTIONS: dict[str, type] = {
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
