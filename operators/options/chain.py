"""One underlying's option chain: latest quotes in, per-contract analytics out.

State is the latest quote, the traded volume of the New York day and the open interest of each contract
(bounded by the number of listed contracts, kept in numpy arrays grown as contracts appear)
and the underlying's latest usable quote. ``analytics(ts_ns)`` prices the whole chain as of
that event time in one vectorised pass:

* **inputs**: the mid ``(bid + ask) / 2`` of the latest quote; the underlying's latest mid
  (a quote with both sides and a relative spread within ``max_underlying_spread``); the rate in
  force that New York date (:class:`~operators.options.rates.RateCurve`); a continuous dividend
  yield per underlying (configured, default 0); time to expiry in years, ACT/365 calendar time
  from the event to the close of the last NYSE session on or before the expiry date
  (:mod:`operators.options.calendar`: 13:00 on an early-close day, Friday for a Saturday expiry);
* **American exercise**: the price is de-Americanized
  (:mod:`operators.options.american`) before the Black solver sees it;
* **outputs**: the European-equivalent price, implied volatility (:mod:`operators.options.black`),
  Black-Scholes-Merton delta,
  gamma, vega, theta and rho at that volatility, and a reason for every contract without one.

Reasons (counted in ``reason_counts``): ``no_underlying``, ``no_rate`` (a date before the rate
curve), ``expired``, ``no_bid`` (zero bid),
``no_ask``, ``crossed`` (bid above ask), ``bid_below_intrinsic`` (the bid at or under the exercise
value: the quote admits an option with no time value, so it pins no volatility; on GOOG's
2015-12-24 same-day expiry such deep in-the-money mids read 500-1,800%), ``below_intrinsic`` (mid at or under exercise value, or
under the discounted European bound), ``above_upper_bound`` (mid at or over the spot for a call,
the strike for a put), ``exercise_boundary`` (an American price that is all early-exercise
value), ``no_convergence``. Time is passed in; nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from operators.messages import Quote, Trade
from operators.options.american import NOT_CONVERGED, european_equivalent
from operators.options.calendar import NEW_YORK, last_trading_close_ns
from operators.options.black import ABOVE_UPPER_BOUND, BELOW_INTRINSIC, NO_CONVERGENCE, greeks, implied_vol
from operators.options.contract import OptionContract
from operators.options.messages import OptionOpenInterest, OptionQuote, OptionTrade
from operators.options.rates import RateCurve

YEAR_NS = 365 * 86_400 * 1_000_000_000
REASONS = ("ok", "no_underlying", "no_rate", "expired", "no_bid", "no_ask", "crossed", "bid_below_intrinsic",
           "below_intrinsic",
           "above_upper_bound", "exercise_boundary", "no_convergence")
_BLACK_REASON = {BELOW_INTRINSIC: "below_intrinsic", ABOVE_UPPER_BOUND: "above_upper_bound",
                 NO_CONVERGENCE: "no_convergence"}
GREEKS = ("delta", "gamma", "vega", "theta", "rho")


@dataclass(frozen=True)
class ChainConfig:
    """How one underlying's chain is priced; checked on creation."""

    rates: RateCurve
    dividend_yield: float = 0.0
    tree_steps: int = 100
    max_underlying_spread: float = 0.02

    def __post_init__(self) -> None:
        if not 0 <= self.dividend_yield < 1:
            raise ValueError(f"dividend_yield {self.dividend_yield!r} is not a yearly fraction in [0, 1)")
        if not 10 <= self.tree_steps <= 5000:
            raise ValueError(f"tree_steps {self.tree_steps!r} is not between 10 and 5,000")
        if not 0 < self.max_underlying_spread < 1:
            raise ValueError(f"max_underlying_spread {self.max_underlying_spread!r} is not a fraction in (0, 1)")


@dataclass
class ChainAnalytics:
    """The chain priced at ``ts_ns``: one entry per quoted contract in every array."""

    underlying: str
    ts_ns: int
    spot: float
    contracts: list[OptionContract]
    columns: dict[str, np.ndarray]
    reasons: list[str]
    reason_counts: Counter = field(default_factory=Counter)


class OptionChain:
    """Latest state of one underlying's chain; feed it messages, ask for ``analytics``.

    >>> import datetime as dt
    >>> from operators.options.contract import contract
    >>> chain = OptionChain("GOOG", ChainConfig(RateCurve([(dt.date(2015, 12, 17), 1.0)])))
    >>> call = contract("GOOG", dt.date(2016, 1, 15), 750.0, "C")
    >>> chain.update(Quote("GOOG", 1_450_978_200_000_000_000, 747.9, 748.1, 100, 100))
    >>> chain.update(OptionQuote(call, 1_450_978_200_000_000_000, 17.5, 18.0, 10, 10))
    >>> round(float(chain.analytics(1_450_978_200_000_000_000).columns["iv"][0]), 4)
    0.2516
    """

    def __init__(self, underlying: str, config: ChainConfig) -> None:
        self.underlying = underlying
        self.config = config
        self._reset()

    def _reset(self) -> None:
        self.index: dict[OptionContract, int] = {}
        self.contracts: list[OptionContract] = []
        self.quotes = np.full((0, 3), np.nan)  # ts_ns, bid, ask
        self.volume = np.zeros(0)
        self.open_interest = np.full(0, np.nan)
        self.terms = np.zeros((0, 4))  # strike, is_call, american, expiry (UTC ns): fixed per contract
        self.spot = np.nan
        self.spot_ts_ns = -1
        self.volume_until_ns = 0  # the next New York midnight after the volume's day: volume counts one day

    def update(self, message: Quote | Trade | OptionQuote | OptionTrade | OptionOpenInterest) -> None:
        """Take one message of this underlying (an underlying trade changes nothing)."""
        if isinstance(message, Quote):
            mid = (message.bid + message.ask) / 2
            spread = message.ask - message.bid
            if message.bid > 0 and 0 <= spread <= self.config.max_underlying_spread * mid:
                self.spot, self.spot_ts_ns = mid, message.ts_ns
        elif isinstance(message, OptionQuote):
            slot = self._slot(message.contract)
            self.quotes[slot] = (message.ts_ns, message.bid, message.ask)
        elif isinstance(message, OptionTrade):
            slot = self._slot(message.contract)
            if message.ts_ns >= self.volume_until_ns:
                self.volume[:] = 0.0
                self.volume_until_ns = _next_midnight_ns(message.ts_ns)
            self.volume[slot] += message.size
        elif isinstance(message, OptionOpenInterest):
            slot = self._slot(message.contract)
            self.open_interest[slot] = message.open_interest

    def _slot(self, option: OptionContract) -> int:
        slot = self.index.get(option)
        if slot is None:
            slot = self.index[option] = len(self.contracts)
            self.contracts.append(option)
            self.quotes = np.vstack([self.quotes, np.full((1, 3), np.nan)])
            self.volume = np.append(self.volume, 0.0)
            self.open_interest = np.append(self.open_interest, np.nan)
            terms = (option.strike, option.is_call, option.style == "american", self._expiry_ns(option.expiry))
            self.terms = np.vstack([self.terms, np.array(terms, dtype=float)])
        return slot

    def analytics(self, ts_ns: int, american: bool = True) -> ChainAnalytics:
        """Implied volatility and greeks of every quoted contract as of ``ts_ns``.

        ``american=False`` reads every price as European (no trees: about 20 times cheaper on a
        large chain); the chain's features use that pass (``operators.options.surface``)."""
        quoted = np.flatnonzero(np.isfinite(self.quotes[:, 0]))
        contracts = [self.contracts[i] for i in quoted]
        bid, ask = self.quotes[quoted, 1], self.quotes[quoted, 2]
        strike = self.terms[quoted, 0]
        is_call = self.terms[quoted, 1] > 0
        american = (self.terms[quoted, 2] > 0) & american
        years = (self.terms[quoted, 3] - ts_ns) / YEAR_NS
        spot = np.full(quoted.size, self.spot)
        rate = np.full(quoted.size, self.config.rates.rate_or_nan(_new_york_date(ts_ns)))
        dividend = np.full(quoted.size, self.config.dividend_yield)
        mid = (bid + ask) / 2
        reasons = np.full(quoted.size, "ok", dtype=object)
        for name, bad in (("crossed", bid > ask), ("no_ask", ask <= 0), ("no_bid", bid <= 0),
                          ("expired", years <= 0), ("no_rate", ~np.isfinite(rate)),
                          ("no_underlying", ~np.isfinite(spot))):
            reasons[bad] = name
        exercise = np.maximum(np.where(is_call, spot - strike, strike - spot), 0.0)
        reasons[(reasons == "ok") & american & (mid <= exercise)] = "below_intrinsic"
        reasons[(reasons == "ok") & (exercise > 0) & (bid <= exercise)] = "bid_below_intrinsic"
        iv, european = np.full(quoted.size, np.nan), np.full(quoted.size, np.nan)
        todo = np.flatnonzero(reasons == "ok")
        if todo.size:
            iv[todo], european[todo], reasons[todo] = self._solve(mid[todo], spot[todo], strike[todo], years[todo],
                                                                  rate[todo],
                                                  dividend[todo], is_call[todo], american[todo])
        columns = {"bid": bid, "ask": ask, "mid": mid, "spread": ask - bid, "strike": strike,
                   "is_call": is_call, "years": years, "rate": rate, "iv": iv, "european_price": european,
                   "volume": self.volume[quoted] if ts_ns < self.volume_until_ns else np.zeros(quoted.size),
                   "open_interest": self.open_interest[quoted],
                   "quote_age_s": (ts_ns - self.quotes[quoted, 0]) / 1e9}
        solved = np.isfinite(iv)
        values = greeks(spot[solved], strike[solved], years[solved], rate[solved], dividend[solved], iv[solved],
                        is_call[solved])
        for name in GREEKS:
            columns[name] = np.full(quoted.size, np.nan)
            columns[name][solved] = values[name]
        return ChainAnalytics(self.underlying, ts_ns, self.spot, contracts, columns, list(reasons),
                              Counter(reasons.tolist()))

    def _solve(self, mid: np.ndarray, spot: np.ndarray, strike: np.ndarray, years: np.ndarray, rate: np.ndarray,
               dividend: np.ndarray, is_call: np.ndarray, american: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Implied volatility, European-equivalent price and reason of quotes that passed the checks."""
        forward, discount = spot * np.exp((rate - dividend) * years), np.exp(-rate * years)
        price = mid.copy()
        unsettled = np.zeros(mid.shape, dtype=bool)
        if american.any():
            price[american], status = european_equivalent(
                mid[american], spot[american], strike[american], years[american], rate[american], dividend[american],
                is_call[american], self.config.tree_steps)
            unsettled[np.flatnonzero(american)[status == NOT_CONVERGED]] = True
        _, quoted_code = implied_vol(mid, forward, strike, years, discount, is_call)
        iv, code = implied_vol(np.nan_to_num(price, nan=0.0), forward, strike, years, discount, is_call)
        reasons = np.array([_BLACK_REASON.get(int(c), "ok") for c in quoted_code], dtype=object)
        lost = (quoted_code == 0) & (code != 0)
        reasons[lost] = "exercise_boundary"
        reasons[(quoted_code == 0) & ((code == NO_CONVERGENCE) | unsettled)] = "no_convergence"
        solved = reasons == "ok"
        return np.where(solved, iv, np.nan), np.where(solved, price, np.nan), reasons

    def _expiry_ns(self, expiry: dt.date) -> int:
        return last_trading_close_ns(expiry)


def _new_york_date(ts_ns: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts_ns / 1e9, NEW_YORK).date()


def _next_midnight_ns(ts_ns: int) -> int:
    """UTC nanoseconds of the New York midnight after ``ts_ns``."""
    midnight = dt.datetime.combine(_new_york_date(ts_ns) + dt.timedelta(days=1), dt.time(), NEW_YORK)
    return int(midnight.timestamp()) * 1_000_000_000

