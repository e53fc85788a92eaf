import numpy as np
import pytest

from operators.options.black import (ABOVE_UPPER_BOUND, BELOW_INTRINSIC, SOLVED, black_price, greeks,
                                     implied_vol)
from tests.unit.operators.options.conftest import quantlib_option


def grid(seed: int = 7, size: int = 4000):
    rng = np.random.default_rng(seed)
    forward = np.full(size, 100.0)
    strike = 100.0 * np.exp(rng.uniform(-1.0, 1.0, size))
    years = rng.uniform(1 / 365, 3.0, size)
    discount = np.exp(-0.03 * years)
    vol = rng.uniform(0.03, 2.0, size)
    is_call = rng.random(size) < 0.5
    return forward, strike, years, discount, vol, is_call


def test_round_trip_price_to_iv_to_price_within_1e_8_relative_wherever_an_iv_exists():
    forward, strike, years, discount, vol, is_call = grid()
    price = black_price(forward, strike, years, discount, vol, is_call)
    quotable = price > 1e-6
    iv, reason = implied_vol(price[quotable], forward[quotable], strike[quotable], years[quotable],
                             discount[quotable], is_call[quotable])
    solved = reason == SOLVED
    assert solved.mean() > 0.98  # the rest: deep in the money, time value below double precision
    again = black_price(forward[quotable][solved], strike[quotable][solved], years[quotable][solved],
                        discount[quotable][solved], iv[solved], is_call[quotable][solved])
    assert np.max(np.abs(again / price[quotable][solved] - 1)) < 1e-8


def test_far_out_of_the_money_prices_keep_their_volatility():
    forward, strike = np.full(3, 100.0), np.array([30.0, 250.0, 400.0])
    years, discount, is_call = np.full(3, 0.25), np.ones(3), np.array([False, True, True])
    vol = np.array([0.5, 0.4, 0.6])
    price = black_price(forward, strike, years, discount, vol, is_call)
    assert price.max() < 1e-3
    iv, reason = implied_vol(price, forward, strike, years, discount, is_call)
    assert (reason == SOLVED).all()
    np.testing.assert_allclose(iv, vol, rtol=1e-9)


def test_prices_without_time_value_or_above_the_bound_have_no_iv_and_say_why():
    forward, strike, years, discount = np.full(4, 100.0), np.array([90.0, 90.0, 110.0, 110.0]), np.ones(4), np.ones(4)
    is_call = np.array([True, True, False, True])
    price = np.array([9.99, 100.0, 10.0, 0.0])
    iv, reason = implied_vol(price, forward, strike, years, discount, is_call)
    assert reason.tolist() == [BELOW_INTRINSIC, ABOVE_UPPER_BOUND, BELOW_INTRINSIC, BELOW_INTRINSIC]
    assert np.isnan(iv).all()


@pytest.mark.parametrize("is_call", [True, False])
def test_price_and_greeks_match_quantlib_analytic_european_engine(is_call):
    spot, rate, dividend = 748.4, 0.01, 0.015
    cases = [(600.0, 3, 0.45), (740.0, 22, 0.21), (750.0, 8, 0.18), (800.0, 57, 0.25), (1000.0, 757, 0.3)]
    strike, days, vol = (np.array(column, dtype=float) for column in zip(*cases))
    ours = greeks(np.full(5, spot), strike, days / 365, np.full(5, rate), np.full(5, dividend), vol,
                  np.full(5, is_call))
    for i, (k, d, v) in enumerate(cases):
        option = quantlib_option(spot, k, d, rate, dividend, v, is_call, american=False)
        expected = {"price": option.NPV(), "delta": option.delta(), "gamma": option.gamma(), "vega": option.vega(),
                    "theta": option.theta(), "rho": option.rho()}
        for name, value in expected.items():
            assert ours[name][i] == pytest.approx(value, rel=1e-9, abs=1e-12), (name, k, d)


def test_black_price_of_the_spot_form_equals_the_greeks_price():
    spot, strike, years, rate, dividend = np.array([100.0]), np.array([95.0]), np.array([0.5]), 0.04, 0.01
    vol, is_call = np.array([0.3]), np.array([False])
    forward = spot * np.exp((rate - dividend) * years)
    black = black_price(forward, strike, years, np.exp(-rate * years), vol, is_call)
    bsm = greeks(spot, strike, years, np.array([rate]), np.array([dividend]), vol, is_call)["price"]
    np.testing.assert_allclose(black, bsm, rtol=1e-12)
