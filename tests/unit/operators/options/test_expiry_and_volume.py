"""Time to expiry runs to the last session's close; traded volume counts one New York day."""

import datetime as dt

import numpy as np
import pytest

from operators.messages import Quote
from operators.options.calendar import NEW_YORK, last_trading_close_ns
from operators.options.chain import YEAR_NS, ChainConfig, OptionChain
from operators.options.contract import contract
from operators.options.messages import OptionQuote, OptionTrade
from operators.options.rates import RateCurve


def ny_ns(day: dt.date, hour: int, minute: int = 0) -> int:
    return int(dt.datetime.combine(day, dt.time(hour, minute), NEW_YORK).timestamp()) * 1_000_000_000


def priced_years(expiry: dt.date, at_ns: int) -> float:
    chain = OptionChain("GOOG", ChainConfig(RateCurve([(dt.date(2000, 1, 3), 1.0)])))
    chain.update(Quote("GOOG", at_ns, 99.9, 100.1, 100, 100))
    chain.update(OptionQuote(contract("GOOG", expiry, 100.0, "C"), at_ns, 1.0, 1.2, 10, 10))
    return float(chain.analytics(at_ns).columns["years"][0])


def test_an_early_close_expiry_priced_at_noon_has_one_hour_left_not_four():
    day = dt.date(2015, 12, 24)
    assert priced_years(day, ny_ns(day, 12)) * 365 * 24 == pytest.approx(1.0, rel=1e-12)


def test_a_saturday_expiry_ends_at_fridays_close_and_a_good_friday_one_on_thursday():
    monday = dt.date(2014, 6, 16)
    assert priced_years(dt.date(2014, 6, 21), ny_ns(monday, 16)) * 365 == pytest.approx(4.0, rel=1e-12)
    assert last_trading_close_ns(dt.date(2016, 3, 25)) == ny_ns(dt.date(2016, 3, 24), 16)
    assert last_trading_close_ns(dt.date(2016, 1, 15)) == ny_ns(dt.date(2016, 1, 15), 16)


def test_traded_volume_starts_again_each_new_york_day():
    day, call = dt.date(2015, 12, 23), contract("GOOG", dt.date(2016, 1, 15), 750.0, "C")
    chain = OptionChain("GOOG", ChainConfig(RateCurve([(dt.date(2015, 12, 1), 1.0)])))
    chain.update(Quote("GOOG", ny_ns(day, 10), 749.9, 750.1, 100, 100))
    chain.update(OptionQuote(call, ny_ns(day, 10), 17.5, 18.0, 10, 10))
    for minute in (1, 2):
        chain.update(OptionTrade(call, ny_ns(day, 10, minute), 17.8, 5.0))
    assert chain.analytics(ny_ns(day, 15)).columns["volume"].tolist() == [10.0]
    next_day = day + dt.timedelta(days=1)
    assert chain.analytics(ny_ns(next_day, 9, 31)).columns["volume"].tolist() == [0.0]  # no trade yet today
    chain.update(OptionTrade(call, ny_ns(next_day, 9, 45), 18.1, 3.0))
    assert chain.analytics(ny_ns(next_day, 10)).columns["volume"].tolist() == [3.0]
    assert np.isfinite(chain.analytics(ny_ns(next_day, 10)).columns["iv"]).all()
