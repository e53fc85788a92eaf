"""The real GOOG chain of 2015-12-24 at noon, checked against QuantLib and against itself."""

import numpy as np
import pytest

from operators.options.black import black_price
from operators.options.chain import REASONS
from tests.unit.operators.options.conftest import quantlib_option


def solved(chain):
    return np.flatnonzero(np.isfinite(chain.columns["iv"]))


def test_most_two_sided_quotes_get_an_iv_and_every_other_contract_a_reason(goog_noon):
    c = goog_noon.columns
    two_sided = (c["bid"] > 0) & (c["ask"] >= c["bid"])
    exercise = np.maximum(np.where(c["is_call"], goog_noon.spot - c["strike"], c["strike"] - goog_noon.spot), 0)
    has_iv = np.isfinite(c["iv"])
    assert has_iv[two_sided & (c["bid"] > exercise)].mean() > 0.85
    # a bid at or under the exercise value pins no volatility: those quotes get a reason, not an IV
    assert not has_iv[two_sided & (exercise > 0) & (c["bid"] <= exercise)].any()
    assert goog_noon.reason_counts["bid_below_intrinsic"] > 0
    assert all((reason == "ok") == iv for reason, iv in zip(goog_noon.reasons, has_iv))
    assert goog_noon.reason_counts["no_bid"] > 0 and sum(goog_noon.reason_counts.values()) == len(goog_noon.reasons)
    assert set(goog_noon.reasons) <= set(REASONS)


def test_round_trip_of_real_european_equivalent_prices_within_1e_8(goog_noon):
    c, i = goog_noon.columns, solved(goog_noon)
    forward = goog_noon.spot * np.exp(c["rate"][i] * c["years"][i])
    again = black_price(forward, c["strike"][i], c["years"][i], np.exp(-c["rate"][i] * c["years"][i]), c["iv"][i],
                        c["is_call"][i])
    assert np.max(np.abs(again / c["european_price"][i] - 1)) < 1e-8


def quantlib_at_whole_days(chain, i, american, engine="analytic"):
    """QuantLib counts whole days: price the same problem rescaled in time to the next whole day.

    With ``T' = ceil(days) / 365``, ``sigma'^2 T' = sigma^2 T`` and ``r' T' = r T`` every price is
    unchanged (American ones too: exercise times rescale with it); ``ratio = T / T'`` converts the
    time-scaled greeks back (vega * sqrt(ratio), theta / ratio, rho * ratio).
    """
    c = chain.columns
    days = c["years"][i] * 365
    whole = int(np.ceil(days))
    ratio = days / whole
    option = quantlib_option(chain.spot, c["strike"][i], whole, c["rate"][i] * ratio, 0.0, c["iv"][i] * np.sqrt(ratio),
                             bool(c["is_call"][i]), american=american, engine=engine, steps=800)
    return option, ratio


def test_real_contracts_match_quantlib_european_prices_and_greeks(goog_noon):
    c = goog_noon.columns
    checked = 0
    for i in solved(goog_noon)[::7]:
        option, ratio = quantlib_at_whole_days(goog_noon, i, american=False)
        expected = {"price": option.NPV(), "delta": option.delta(), "gamma": option.gamma(),
                    "vega": option.vega() * np.sqrt(ratio), "theta": option.theta() / ratio, "rho": option.rho() * ratio}
        assert expected["price"] == pytest.approx(c["european_price"][i], rel=1e-8, abs=1e-10)
        for name in ("delta", "gamma", "vega", "theta", "rho"):
            assert c[name][i] == pytest.approx(expected[name], rel=1e-7, abs=1e-9), name
        checked += 1
    assert checked > 50


def test_real_contracts_priced_american_by_quantlib_at_our_iv_reproduce_the_quoted_mid(goog_noon):
    c = goog_noon.columns
    checked = 0
    for i in solved(goog_noon)[::10]:
        if c["years"][i] < 3 / 365:
            continue
        option, _ = quantlib_at_whole_days(goog_noon, i, american=True, engine="crr")
        assert option.NPV() == pytest.approx(c["mid"][i], rel=2e-3, abs=5e-3)
        checked += 1
    assert checked > 20


def test_put_call_parity_holds_within_the_half_spreads_on_european_equivalent_prices(goog_noon):
    c = goog_noon.columns
    pairs = {}
    for i, option in enumerate(goog_noon.contracts):
        pairs.setdefault((option.expiry, option.strike), {})[option.right] = i
    inside = []
    for legs in pairs.values():
        if len(legs) < 2 or not np.isfinite(c["european_price"][[legs["C"], legs["P"]]]).all():
            continue
        call, put = legs["C"], legs["P"]
        years, rate = c["years"][call], c["rate"][call]
        parity = (c["european_price"][call] - c["european_price"][put]
                  - np.exp(-rate * years) * (goog_noon.spot * np.exp(rate * years) - c["strike"][call]))
        inside.append(abs(parity) <= (c["spread"][call] + c["spread"][put]) / 2)
    assert len(inside) >= 80 and np.mean(inside) > 0.9
