"""The risk-free rate as of a date, from a step curve of published rates.

LEAN's ``interest-rate.csv`` lists the US primary credit rate on the dates it changed; the rate
on any day is the last one published on or before it. Rates are given in percent and used as a
continuously compounded annual rate (``r = percent / 100``): at these levels and horizons the
compounding convention moves an implied volatility by far less than a quote's half-spread.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence


class RateCurve:
    """Step curve: ``rate(day)`` is the last rate published on or before ``day``.

    >>> curve = RateCurve([(dt.date(2015, 12, 17), 1.0), (dt.date(2023, 7, 27), 5.5)])
    >>> curve.rate(dt.date(2015, 12, 24)), curve.rate(dt.date(2023, 8, 3))
    (0.01, 0.055)
    """

    def __init__(self, points: Sequence[tuple[dt.date, float]]) -> None:
        if not points:
            raise ValueError("rate curve has no points")
        ordered = sorted(points)
        self.dates = [day for day, _ in ordered]
        self.percents = [percent for _, percent in ordered]

    def rate(self, day: dt.date) -> float:
        """The continuously compounded rate (a fraction) in force on ``day``."""
        index = bisect.bisect_right(self.dates, day) - 1
        if index < 0:
            raise ValueError(f"rate curve starts on {self.dates[0]}, after {day}")
        return self.percents[index] / 100

    def rate_or_nan(self, day: dt.date) -> float:
        """:meth:`rate`, or NaN for a day before the curve's first point."""
        return self.rate(day) if day >= self.dates[0] else float("nan")
