"""The cost-aware signal policy: an order is accepted only when its expected move covers its cost."""

from __future__ import annotations

import math

import pytest

from operators.messages import MarketContext, Prediction
from operators.risk.costs import check_expected_cost, expected_cost_bps, expected_move_bps, half_spread_bps
from operators.risk.engine import PortfolioRiskEngine
from operators.risk.limits import RiskLimits
from operators.risk.verdict import REASONS

S = 1_000_000_000
T0 = 1_381_239_000 * S


def quote(mid: float, spread: float) -> MarketContext:
    return MarketContext("IBM", T0, 0, 1, mid, mid, spread, 0.5, 0.5)


def predict(p_up: float, volatility: float, offset: int = 2) -> Prediction:
    direction = 1 if p_up >= 0.5 else -1
    return Prediction(f"p{offset}", "IBM", T0, 0, offset, 100.0, "v1", p_up, direction, max(p_up, 1.0 - p_up),
                      volatility, "trend", 0.0, {})


def test_expected_move_is_edge_times_mean_absolute_return_in_bps() -> None:
    # (2 * 0.55 - 1) * 0.001 * sqrt(2 / pi) * 1e4
    assert expected_move_bps(0.55, 0.001, 1) == pytest.approx(0.1 * 10.0 * math.sqrt(2.0 / math.pi))
    assert expected_move_bps(0.55, 0.001, -1) == pytest.approx(-expected_move_bps(0.55, 0.001, 1))
    assert expected_move_bps(0.5, 0.01, 1) == 0.0


def test_expected_cost_is_half_spread_plus_fee_plus_square_root_impact() -> None:
    limits = RiskLimits(fee_bps=0.5, impact_bps=2.0)
    half_spread, fee, impact = expected_cost_bps(limits, quote(100.0, 0.02), 250_000.0)
    assert (half_spread, fee, impact) == (pytest.approx(1.0), 0.5, pytest.approx(1.0))
    assert expected_cost_bps(limits, quote(100.0, 0.02), 1_000_000.0)[2] == pytest.approx(2.0)


def test_half_spread_without_a_quote_is_the_trade_half_spread() -> None:
    limits = RiskLimits(trade_half_spread_bps=3.0)
    assert half_spread_bps(limits, None) == 3.0
    assert half_spread_bps(limits, MarketContext("IBM", T0, 0, 1, 100.0)) == 3.0


def test_check_when_move_below_cost_then_denies_with_the_parts_in_the_detail() -> None:
    limits = RiskLimits(fee_bps=0.5, impact_bps=0.0)
    verdict = check_expected_cost(limits, 0.52, 0.001, 1, quote(100.0, 0.02), 10_000.0)  # 0.32 bps < 1.5 bps
    assert (verdict.accepted, verdict.reason, verdict.level) == (False, "below_expected_cost", "model")
    assert "half spread 1.00 + fee 0.50 + impact 0.00" in verdict.detail
    assert check_expected_cost(limits, 0.7, 0.001, 1, quote(100.0, 0.02), 10_000.0).accepted  # 3.19 bps


def test_check_when_direction_disagrees_with_p_up_then_denies() -> None:
    limits = RiskLimits(fee_bps=0.0, impact_bps=0.0)
    assert not check_expected_cost(limits, 0.9, 0.01, -1, quote(100.0, 0.0), 10_000.0).accepted


def test_cost_multiple_scales_the_bar_and_zero_turns_the_policy_off() -> None:
    context = quote(100.0, 0.02)  # cost 1.5 bps; move 3.19 bps
    assert check_expected_cost(RiskLimits(impact_bps=0.0), 0.7, 0.001, 1, context, 1e4).accepted
    assert not check_expected_cost(RiskLimits(impact_bps=0.0, cost_multiple=3.0), 0.7, 0.001, 1, context, 1e4).accepted
    assert check_expected_cost(RiskLimits(cost_multiple=0.0), 0.51, 0.0, 1, context, 1e4).accepted


def test_engine_denies_a_signal_whose_move_does_not_cover_its_cost_and_counts_it() -> None:
    engine = PortfolioRiskEngine(RiskLimits(universe=("IBM",)))
    engine.on_market(quote(100.0, 0.02))
    weak = engine.decide(predict(0.53, 0.001))  # edge 0.06: 0.48 bps against 1.5 bps + impact
    assert (weak.accepted, weak.reason, weak.size) == (False, "below_expected_cost", 0.0)
    assert engine.denied == 1 and engine.positions == {}
    strong = engine.decide(predict(0.8, 0.002, offset=3))  # 9.6 bps against about 2.5 bps
    assert strong.accepted and strong.size > 0


def test_below_expected_cost_is_a_catalogued_reason() -> None:
    assert REASONS["below_expected_cost"] == "model"


@pytest.mark.parametrize("field,value", [("min_confidence", 0.3), ("cost_multiple", -1.0),
                                         ("impact_bps", math.nan)])
def test_limits_refuse_values_off_their_scale(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"RiskLimits.{field}"):
        RiskLimits(**{field: value})
