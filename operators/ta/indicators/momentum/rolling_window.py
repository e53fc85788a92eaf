"""Bounded rolling windows the momentum indicators share: a sum, an arg-extreme and a range.

:class:`RollingSum` keeps the last ``period`` terms and their running total in O(1) per update.
Two guards keep it honest against a batch sum: a total whose window holds only exact zeros is
exactly ``0.0`` (a long run of additions and subtractions would otherwise leave a residue of a few
ulps, where TA-Lib, which counts the zero terms and resets its sums, has exactly 0), and the total
is re-added from the window once every ``period`` updates (O(1) amortised), which bounds
floating-point drift.

:class:`RollingArgExtreme` tracks the highest (or lowest) of the last ``period`` values and the
bar it came from, with a monotonic queue in flat arrays (O(1) amortised). Ties go to the newest
bar, as in TA-Lib's ``MAX``/``AROON``. :class:`RollingRange` pairs two of them: the highest high and the
lowest low of the last ``period`` bars.

These are building blocks, not indicators: their callers check the periods.

>>> total = RollingSum(period=2)
>>> for term in [1.0, 2.0, 4.0]:
...     total.update(term)
>>> total.value
6.0
"""

from __future__ import annotations

from array import array
from collections import deque
from operators.ta.state import FlatState


class RollingSum(FlatState):
    """Sum of the last ``period`` terms; ``value`` covers fewer terms until the window fills."""

    __slots__ = ("period", "_terms", "_total", "_nonzero", "_until_resync")

    def __init__(self, period: int) -> None:
        self.period = period
        self._terms: deque[float] = deque()
        self._total = 0.0
        self._nonzero = 0
        self._until_resync = period

    @property
    def ready(self) -> bool:
        return len(self._terms) >= self.period

    @property
    def value(self) -> float:
        return self._total

    def update(self, term: float) -> None:
        terms = self._terms
        terms.append(term)
        self._total += term
        if term != 0.0:
            self._nonzero += 1
        if len(terms) > self.period:
            leaving = terms.popleft()
            self._total -= leaving
            if leaving != 0.0:
                self._nonzero -= 1
        if self._nonzero == 0:
            self._total = 0.0
        self._until_resync -= 1
        if self._until_resync == 0:
            self._until_resync = self.period
            total = 0.0
            for kept in terms:
                total += kept
            self._total = total


class RollingArgExtreme:
    """Highest (``highest=True``) or lowest of the last ``period`` values and its bar number.

    Bars are numbered from 0 in update order; ties go to the newest bar. The candidates (a
    monotonic queue of bar numbers and values) live in two flat arrays used as one ring of
    ``period + 1`` places: ``_first`` is the oldest candidate, ``_size`` how many there are.

    >>> lowest = RollingArgExtreme(period=3, highest=False)
    >>> for value in [2.0, 1.0, 3.0, 1.0]:
    ...     lowest.update(value)
    >>> lowest.value, lowest.bar
    (1.0, 3)
    """

    __slots__ = ("period", "highest", "_candidate_bars", "_candidate_values", "_first", "_size", "_bars")

    def __init__(self, period: int, highest: bool) -> None:
        self.period = period
        self.highest = highest
        self._candidate_bars = array("q", bytes(8 * (period + 1)))
        self._candidate_values = array("d", bytes(8 * (period + 1)))
        self._first = 0
        self._size = 0
        self._bars = 0

    def __reduce_ex__(self, protocol: int) -> object:
        return _restore_arg_extreme, (self.period, self.highest, self._candidate_bars.tobytes(),
                                      self._candidate_values.tobytes(), self._first, self._size, self._bars)

    @property
    def ready(self) -> bool:
        return self._bars >= self.period

    @property
    def value(self) -> float:
        return self._candidate_values[self._first]

    @property
    def bar(self) -> int:
        return self._candidate_bars[self._first]

    @property
    def bars(self) -> int:
        """How many values have been fed; the newest is bar ``bars - 1``."""
        return self._bars

    def update(self, value: float) -> None:
        values = self._candidate_values
        places = len(values)
        first, size = self._first, self._size
        if self.highest:
            while size and values[(first + size - 1) % places] <= value:
                size -= 1
        else:
            while size and values[(first + size - 1) % places] >= value:
                size -= 1
        newest = (first + size) % places
        values[newest] = value
        bar = self._bars
        self._candidate_bars[newest] = bar
        size += 1
        self._bars = bar + 1
        if self._candidate_bars[first] <= bar - self.period:
            first = first + 1 if first + 1 < places else 0
            size -= 1
        self._first, self._size = first, size


def _restore_arg_extreme(period: int, highest: bool, bars: bytes, values: bytes, first: int, size: int,
                         count: int) -> RollingArgExtreme:
    """The window that ``RollingArgExtreme.__reduce_ex__`` described."""
    window = RollingArgExtreme.__new__(RollingArgExtreme)
    window.period, window.highest, window._first, window._size, window._bars = period, highest, first, size, count
    window._candidate_bars, window._candidate_values = array("q", bars), array("d", values)
    return window


class RollingRange(FlatState):
    """Highest high and lowest low of the last ``period`` bars; ``ready`` once ``period`` were seen.

    >>> window = RollingRange(period=3)
    >>> for high, low in [(5.0, 1.0), (7.0, 2.0), (6.0, 3.0), (4.0, 3.5)]:
    ...     window.update(high, low)
    >>> window.highest, window.lowest
    (7.0, 2.0)
    """

    __slots__ = ("_highs", "_lows")

    def __init__(self, period: int) -> None:
        self._highs = RollingArgExtreme(period, highest=True)
        self._lows = RollingArgExtreme(period, highest=False)

    @property
    def ready(self) -> bool:
        return self._highs.ready

    @property
    def highest(self) -> float:
        return self._highs.value

    @property
    def lowest(self) -> float:
        return self._lows.value

    def update(self, high: float, low: float) -> None:
        self._highs.update(high)
        self._lows.update(low)


def is_flat_range(highest: float, lowest: float) -> bool:
    """TA-Lib 0.8's flat-window test: a range within ``1e-14 * (|highest| + |lowest|)`` (about 90
    ulps of the price), so a window flat but for rounding residue reads as flat at any price level.

    >>> is_flat_range(0.30000000000000004, 0.3), is_flat_range(101.31, 101.3)
    (True, False)
    """
    return abs(highest - lowest) <= 1e-14 * (abs(highest) + abs(lowest))
