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


LEAN = __import__("pathlib").Path(__file__).resolve().parents[5] / "shared" / "data" / "options" / "lean"


@pytest.fixture(scope="session")
def goog_noon():
    """The real GOOG chain of 2015-12-24 as of 12:00 New York (17:00 UTC), priced."""
    import datetime as dt

    from dataflows.optionfiles import read_interest_rates, read_option_day
    from operators.options.chain import ChainConfig, OptionChain

    if not LEAN.exists():
        pytest.skip("shared LEAN option data not present")
    day = read_option_day(LEAN, "GOOG", dt.date(2015, 12, 24))
    chain = OptionChain("GOOG", ChainConfig(read_interest_rates(LEAN / "interest-rate.csv")))
    noon = int(dt.datetime(2015, 12, 24, 17, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    for message in day.messages:
        if message.ts_ns > noon:
            break
        chain.update(message)
    return chain.analytics(noon)
