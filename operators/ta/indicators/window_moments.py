"""Centered sums over a sliding window of one series or of a pair: what VAR, STDDEV, BETA,
CORREL and BBANDS compute their moments from.

>>> moments = WindowMoments(period=3, paired=False)
>>> for value in [1.0, 2.0, 3.0]:
...     moments.push(value)
>>> moments.full, moments.squares_x
(True, 2.0)
"""

from __future__ import annotations


from operators.ta.base import NAN
from operators.ta.ring import FloatRing
from operators.ta.state import FlatState


class WindowMoments(FlatState):
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

    __slots__ = ("period", "paired", "_xs", "_ys", "_shift_x", "_shift_y", "_sum_x", "_sum_y",
                 "_sum_xx", "_sum_yy", "_sum_xy", "_leaving_xx", "_leaving_yy", "_until_rebuild",
                 "_flat", "squares_x", "squares_y", "products")

    def __init__(self, period: int, paired: bool) -> None:
        self.period = period
        self.paired = paired
        self._xs = FloatRing(period)  # the window: x values, and y values (0.0 unless paired)
        self._ys = FloatRing(period)
        self._shift_x = self._shift_y = 0.0
        self._sum_x = self._sum_y = self._sum_xx = self._sum_yy = self._sum_xy = 0.0
        self._leaving_xx = self._leaving_yy = 0.0
        self._until_rebuild = 0
        self._flat = False
        self.squares_x = self.squares_y = self.products = NAN

    @property
    def full(self) -> bool:
        return len(self._xs) == self.period

    @property
    def scale_x(self) -> float:
        return self._sum_xx

    @property
    def scale_y(self) -> float:
        return self._sum_yy

    def push(self, x: float, y: float = 0.0) -> None:
        xs, ys = self._xs, self._ys
        if len(xs) == self.period:  # the oldest pair leaves as the new one is appended
            self._remove(xs[0] - self._shift_x, ys[0] - self._shift_y)
        elif not xs:
            self._shift_x, self._shift_y = x, y
        xs.append(x)
        ys.append(y)
        dx = x - self._shift_x
        self._sum_x += dx
        self._sum_xx += dx * dx
        if self.paired:
            dy = y - self._shift_y
            self._sum_y += dy
            self._sum_yy += dy * dy
            self._sum_xy += dx * dy
        if len(xs) < self.period:
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
        pairs = list(zip(self._xs, self._ys))
        total_x = total_y = 0.0
        for x, y in pairs:
            total_x += x
            total_y += y
        shift_x = self._shift_x = total_x / self.period
        shift_y = self._shift_y = total_y / self.period
        sum_x = sum_y = sum_xx = sum_yy = sum_xy = 0.0
        for x, y in pairs:
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
