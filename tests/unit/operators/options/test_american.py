import numpy as np
import pytest

from operators.options.american import EXERCISED, crr_prices, european_equivalent
from operators.options.black import implied_vol
from tests.unit.operators.options.conftest import quantlib_option

CASES = [  # strike, days, vol, is_call, dividend yield
    (700.0, 22, 0.25, False, 0.0), (760.0, 22, 0.22, False, 0.0), (850.0, 113, 0.3, False, 0.0),
    (740.0, 57, 0.2, True, 0.02), (600.0, 400, 0.35, False, 0.0)]
SPOT, RATE = 748.4, 0.01


def arrays(cases=CASES):
    strike, days, vol, is_call, dividend = (np.array(column) for column in zip(*cases))
    size = len(cases)
    return (np.full(size, SPOT), strike.astype(float), days / 365, np.full(size, RATE), dividend.astype(float),
            vol.astype(float), is_call.astype(bool))


def test_crr_tree_matches_quantlib_binomial_crr_engine_with_the_same_steps():
    # QuantLib's CRR linearises the up probability (0.5 + drift dt / 2 dx): agreement to O(dt), not to rounding
    spot, strike, years, rate, dividend, vol, is_call = arrays()
    american, european = crr_prices(spot, strike, years, rate, dividend, vol, is_call, 201)
    for i, (k, d, v, c, q) in enumerate(CASES):
        assert american[i] == pytest.approx(quantlib_option(SPOT, k, d, RATE, q, v, c, True, "crr", 201).NPV(), rel=2e-5)
        assert european[i] == pytest.approx(quantlib_option(SPOT, k, d, RATE, q, v, c, False, "crr", 201).NPV(),
                                            rel=2e-5)


def test_de_americanized_price_recovers_the_volatility_of_a_quantlib_fd_american_price():
    spot, strike, years, rate, dividend, vol, is_call = arrays()
    american = np.array([quantlib_option(SPOT, k, d, RATE, q, v, c, True, "fd").NPV() for k, d, v, c, q in CASES])
    equivalent, status = european_equivalent(american, spot, strike, years, rate, dividend, is_call, 200)
    assert (status == 0).all()
    forward, discount = spot * np.exp((rate - dividend) * years), np.exp(-rate * years)
    iv, _ = implied_vol(equivalent, forward, strike, years, discount, is_call)
    np.testing.assert_allclose(iv, vol, atol=2e-3)
    naive, _ = implied_vol(american, forward, strike, years, discount, is_call)
    puts = ~is_call
    assert (naive[puts] > vol[puts]).all()  # the early-exercise premium, read as volatility
    assert (np.abs(iv - vol)[puts] < np.abs(naive - vol)[puts]).all()


def test_calls_without_dividends_are_never_exercised_early_so_stay_unchanged():
    spot, strike, years, rate, dividend, vol, is_call = arrays([(740.0, 57, 0.2, True, 0.0)])
    price = np.array([30.0])
    assert european_equivalent(price, spot, strike, years, rate, dividend, is_call, 100)[0][0] == 30.0


def test_a_put_priced_at_its_exercise_value_has_no_european_equivalent():
    spot, strike, years, rate, dividend, vol, is_call = arrays([(900.0, 30, 0.2, False, 0.0)])
    price, status = european_equivalent(np.array([900.0 - SPOT]), spot, strike, years, rate, dividend, is_call, 100)
    assert np.isnan(price[0]) and status[0] == EXERCISED
