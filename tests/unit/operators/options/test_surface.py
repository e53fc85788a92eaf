import datetime as dt

import numpy as np
import pytest

from operators.messages import Quote
from operators.options import OptionOpenInterest, OptionQuote, OptionTrade, contract
from operators.options.black import greeks
from operators.options.chain import YEAR_NS, ChainConfig, OptionChain
from operators.options.rates import RateCurve
from operators.options.surface import VolSurface, chain_features
from operators.options.svi import butterfly_g, fit_svi

NOW = int(dt.datetime(2024, 1, 2, 17, tzinfo=dt.timezone.utc).timestamp()) * 10**9
EXPIRIES = (dt.date(2024, 1, 19), dt.date(2024, 3, 15))


def flat_chain(vol_of_expiry: dict[dt.date, float]) -> OptionChain:
    """European calls and puts quoted at their Black-Scholes prices with one volatility per expiry."""
    chain = OptionChain("ABC", ChainConfig(RateCurve([(dt.date(2023, 1, 1), 5.0)])))
    chain.update(Quote("ABC", NOW, 99.99, 100.01, 100, 100))
    for expiry, vol in vol_of_expiry.items():
        years = (chain._expiry_ns(expiry) - NOW) / YEAR_NS
        for strike in np.arange(70.0, 131.0, 2.5):
            for right in "CP":
                option = contract("ABC", expiry, float(strike), right, style="european")
                price = greeks(np.array([100.0]), np.array([strike]), np.array([years]), np.array([0.05]),
                               np.array([0.0]), np.array([vol]), np.array([right == "C"]))["price"][0]
                chain.update(OptionQuote(option, NOW, price, price, 1, 1))
                chain.update(OptionOpenInterest(option, NOW, 100.0 if right == "C" else 300.0))
                chain.update(OptionTrade(option, NOW, price, 10.0 if right == "C" else 5.0))
    return chain


def test_a_flat_smile_has_its_volatility_at_the_money_and_no_skew_or_wings():
    chain = flat_chain({EXPIRIES[0]: 0.2, EXPIRIES[1]: 0.3})
    rows, features = VolSurface().update(chain.analytics(NOW)), chain_features(chain.analytics(NOW, american=False), 7)
    assert [row.expiry for row in rows] == list(EXPIRIES)
    for row, vol in zip(rows, (0.2, 0.3)):
        assert row.atm_iv == pytest.approx(vol, abs=1e-9)
        assert row.rr25 == pytest.approx(0.0, abs=1e-9) and row.bf25 == pytest.approx(0.0, abs=1e-9)
        assert row.svi_rmse_vol < 1e-4 and not row.svi_min_g < 0
    assert features["atm_iv"] == pytest.approx(0.2, abs=1e-9)
    assert features["term_slope"] == pytest.approx(0.1 / (rows[1].years - rows[0].years), rel=1e-6)
    assert features["put_call_volume_ratio"] == pytest.approx(0.5)
    assert features["put_call_oi_ratio"] == pytest.approx(3.0)
    assert features["gamma_exposure"] < 0  # the public holds three times more puts than calls


def test_butterfly_check_flags_a_smile_whose_density_goes_negative():
    k = np.linspace(-1.5, 1.5, 301)
    assert butterfly_g((0.04, 0.4, -0.2, 0.0, 0.1), k).min() > 0
    assert butterfly_g((-0.0410, 0.1331, 0.3060, 0.3586, 0.4153), k).min() < 0  # Axel Vogt's arbitrageable SVI
    assert butterfly_g((-0.02, 2.0, -0.95, 0.0, 0.01), k).min() == -np.inf  # negative total variance


def test_real_goog_surface_has_an_equity_skew_and_fits_its_smiles(goog_noon):
    rows, features = VolSurface().update(goog_noon), chain_features(goog_noon)
    fitted = [row for row in rows if row.points >= 10]
    assert len(fitted) >= 8
    assert all(row.svi_rmse_vol < 0.01 for row in fitted)  # within one vol point
    assert all(row.rr25 < 0 for row in fitted if np.isfinite(row.rr25))  # puts richer than calls
    assert 0.1 < features["atm_iv"] < 0.4 and features["rr25"] < 0
    assert np.isfinite(features["gamma_exposure"]) and features["put_call_oi_ratio"] > 0


def test_svi_fit_of_a_smile_on_one_side_of_its_minimum_does_not_fail():
    k = np.linspace(0.05, 0.3, 6)  # a straight line: sqrt((k - m)^2 + sigma^2) = k - m for sigma -> 0
    fit = fit_svi(k, np.sqrt((0.01 + 0.2 * k) / 0.1), 0.1, start=(0.0, 0.0, 0.0, -0.5, 1e-4))
    assert fit is not None and fit.rmse_vol < 1e-3
