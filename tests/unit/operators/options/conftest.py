"""QuantLib, the oracle: European and American prices and greeks of single contracts."""

from __future__ import annotations

import pytest

ql = pytest.importorskip("QuantLib")

TODAY = ql.Date(24, 12, 2015)
DAY_COUNT = ql.Actual365Fixed()


def quantlib_option(spot: float, strike: float, days: int, rate: float, dividend: float, vol: float, is_call: bool,
                    american: bool, engine: str = "analytic", steps: int = 801) -> ql.VanillaOption:
    """A QuantLib vanilla option priced by ``engine`` (``analytic``, ``crr`` or ``fd``), expiry ``days`` ahead."""
    ql.Settings.instance().evaluationDate = TODAY
    expiry = TODAY + days
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, strike)
    exercise = ql.AmericanExercise(TODAY, expiry) if american else ql.EuropeanExercise(expiry)
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, dividend, DAY_COUNT)),
        ql.YieldTermStructureHandle(ql.FlatForward(TODAY, rate, DAY_COUNT)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), vol, DAY_COUNT)))
    option = ql.VanillaOption(payoff, exercise)
    if engine == "analytic":
        option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    elif engine == "crr":
        option.setPricingEngine(ql.BinomialVanillaEngine(process, "crr", steps))
    else:
        option.setPricingEngine(ql.FdBlackScholesVanillaEngine(process, 400, 800))
    return option
