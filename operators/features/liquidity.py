"""Liquidity and price-impact estimators from trades and quotes, O(1) per update.

================  ==============================================================================
KyleLambda        price impact: OLS slope of bar price change on signed volume over the last
                  ``window`` bars, cov(dP, Q) / var(Q) (Kyle 1985), in price per share
RollSpread        effective spread implied by trade-price bounce: 2 sqrt(-cov(dP_t, dP_t-1))
                  over the last ``window`` price changes (Roll 1984); NaN when the covariance is
                  not negative (the estimator is undefined there)
AmihudIlliquidity mean of |log return| / dollar volume over the last ``window`` bars, times 1e6
                  (Amihud 2002: absolute return per million of notional traded)
QuoteStaleness    event time since the best bid or ask price last changed
LaggedMid         the mid in effect ``lag_ns`` before a trade (Lee-Ready's quote lag), for
                  trade-side classification on feeds whose quotes and trades are not aligned
================  ==============================================================================

>>> roll = RollSpread(window=4)
>>> for price in [10.00, 10.02, 10.02, 10.00, 10.02, 10.00, 10.00]:
...     roll.update(price)
>>> round(roll.value, 6)
0.03
"""

from __future__ import annotations

import math
from collections import deque

from operators.features.estimators import RollingEstimator

NAN = math.nan


class KyleLambda(RollingEstimator):
    """OLS slope of price change on signed volume over ``window`` bars."""

    __slots__ = ()
    columns = 4  # q, dp, q*q, q*dp
    minimum_window = 3

    def update(self, close: float, signed_volume: float) -> None:
        """One bar: its close and its buy minus sell volume."""
        previous = self._replace_previous(close)
        if previous != previous:
            return
        change = close - previous
        self._sums.update(signed_volume, change, signed_volume * signed_volume, signed_volume * change)

    @property
    def value(self) -> float:
        sums = self._sums
        if not sums.ready:
            return NAN
        n = sums.count
        mean_q = sums.total(0) / n
        variance = sums.total(2) / n - mean_q * mean_q
        if variance <= 1e-12 * max(1.0, sums.total(2) / n):
            return NAN
        covariance = sums.total(3) / n - mean_q * sums.total(1) / n
        return covariance / variance


class RollSpread(RollingEstimator):
    """Roll's implied spread from the serial covariance of trade-price changes."""

    __slots__ = ("_previous_change",)
    columns = 3  # dp_t, dp_t-1, dp_t * dp_t-1
    minimum_window = 3
    default_window = 100

    def _reset(self) -> None:
        super()._reset()
        self._previous_change = NAN

    def update(self, price: float) -> None:
        previous = self._replace_previous(price)
        if previous != previous:
            return
        change = price - previous
        lagged = self._previous_change
        self._previous_change = change
        if lagged == lagged:
            self._sums.update(change, lagged, change * lagged)

    @property
    def value(self) -> float:
        if not self.ready:
            return NAN
        covariance = self._mean(2) - self._mean(0) * self._mean(1)
        return 2.0 * math.sqrt(-covariance) if covariance < 0.0 else NAN


class AmihudIlliquidity(RollingEstimator):
    """Mean |log return| per million of notional over ``window`` bars."""

    __slots__ = ()

    def update(self, close: float, dollar_volume: float) -> None:
        previous = self._replace_previous(close)
        if previous > 0.0 and close > 0.0 and dollar_volume > 0.0:
            self._sums.update(abs(math.log(close / previous)) / dollar_volume * 1e6)

    @property
    def value(self) -> float:
        return self._mean(0)


class QuoteStaleness:
    """Seconds of event time since the best bid or ask price last changed."""

    __slots__ = ("_bid", "_ask", "_changed_ns")

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._bid = NAN
        self._ask = NAN
        self._changed_ns: int | None = None

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._changed_ns is not None

    def update(self, ts_ns: int, bid: float, ask: float) -> None:
        if bid != self._bid or ask != self._ask:
            self._changed_ns = ts_ns
            self._bid = bid
            self._ask = ask

    def seconds(self, now_ns: int) -> float:
        return (now_ns - self._changed_ns) / 1e9 if self._changed_ns is not None else NAN


class LaggedMid:
    """The mid quote in effect ``lag_ns`` before a given event time.

    Queries must come in non-decreasing time (trades in event order), which keeps the queue
    short: quotes older than the one in effect at the latest query are dropped.

    >>> quotes = LaggedMid(lag_ns=5)
    >>> quotes.update(0, 10.0, 10.2); quotes.update(8, 10.4, 10.6)
    >>> quotes.mid_at(10), quotes.mid_at(13)
    (10.1, 10.5)
    """

    __slots__ = ("lag_ns", "_quotes")

    def __init__(self, lag_ns: int = 0) -> None:
        if isinstance(lag_ns, bool) or not isinstance(lag_ns, int) or lag_ns < 0:
            raise ValueError(f"lag_ns must be an integer >= 0, got {lag_ns!r}")
        self.lag_ns = lag_ns
        self._reset()

    def _reset(self) -> None:
        self._quotes: deque[tuple[int, float]] = deque()

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return bool(self._quotes)

    def update(self, ts_ns: int, bid: float, ask: float) -> None:
        self._quotes.append((ts_ns, 0.5 * (bid + ask)))

    def mid_at(self, trade_ts_ns: int) -> float:
        """The mid of the latest quote stamped at or before ``trade_ts_ns - lag_ns`` (NaN if none)."""
        cutoff = trade_ts_ns - self.lag_ns
        quotes = self._quotes
        while len(quotes) > 1 and quotes[1][0] <= cutoff:
            quotes.popleft()
        if quotes and quotes[0][0] <= cutoff:
            return quotes[0][1]
        return NAN
