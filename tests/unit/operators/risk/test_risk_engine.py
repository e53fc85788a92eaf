"""The portfolio risk engine: every check denies with its reason code; limits always hold."""

from __future__ import annotations

import math

import msgspec
import pytest

from operators.messages import ControlCommand, MarketContext, Prediction
from operators.risk.engine import PortfolioRiskEngine
from operators.risk.limits import RiskLimits

S = 1_000_000_000
T0 = 1_381_239_000 * S


def context(symbol: str, ts_ns: int, price: float, *, mid: float | None = None, age_s: float = 0.5,
            offset: int = 0) -> MarketContext:
    mid = price if mid is None else mid
    return MarketContext(symbol, ts_ns, 0, offset, price, mid, 0.02, age_s, age_s)


def prediction(symbol: str, ts_ns: int, price: float, direction: int = 1, confidence: float = 0.8,
               volatility: float = 0.002, version: str = "v1", offset: int | None = None, **changes) -> Prediction:
    """``confidence`` is the probability of the predicted class; p_up points the same way."""
    offset = ts_ns // S if offset is None else offset
    p_up = confidence if direction >= 0 else 1.0 - confidence
    fields = dict(prediction_id=f"p{offset}", symbol=symbol, ts_ns=ts_ns, partition=0, offset=offset, price=price,
                  model_version=version, p_up=p_up, direction=direction, confidence=confidence,
                  volatility=volatility, regime="trend", score=0.6, specialists={})
    fields.update(changes)
    return Prediction(**fields)


def engine(**limits) -> PortfolioRiskEngine:
    limits.setdefault("universe", ("AIG", "IBM"))
    return PortfolioRiskEngine(RiskLimits(**limits))


def decide(risk: PortfolioRiskEngine, symbol: str, ts_ns: int, price: float, **kwargs):
    risk.on_market(context(symbol, ts_ns, price))
    return risk.decide(prediction(symbol, ts_ns, price, **kwargs))


def test_accepts_a_valid_signal_sized_by_the_seed_rule() -> None:
    decision = decide(engine(), "IBM", T0, 185.0)
    assert (decision.accepted, decision.reason, decision.level) == (True, "accepted", "")
    assert decision.size == 1351.0  # 1e6 * 0.02 * (2 * 0.8 - 1) / (185 * 0.002) = 32,432, cut to $250,000 / 185
    assert decision.position_after == 1351.0


@pytest.mark.parametrize("field,value", [("price", math.nan), ("price", math.inf), ("price", -1.0),
                                         ("confidence", math.nan), ("volatility", math.inf), ("p_up", math.nan),
                                         ("score", -math.inf), ("direction", 2)])
def test_submit_with_non_finite_or_out_of_domain_value_then_denies_invalid(field: str, value: float) -> None:
    risk = engine()
    risk.on_market(context("IBM", T0, 185.0))
    decision = risk.decide(msgspec.structs.replace(prediction("IBM", T0, 185.0), **{field: value}))
    assert (decision.accepted, decision.reason) == (False, "invalid_prediction")


def test_submit_when_halted_by_kill_switch_then_denies_until_resume() -> None:
    risk = engine()
    risk.on_control(ControlCommand("halt", reason="desk"))
    assert decide(risk, "IBM", T0, 185.0).reason == "halted"
    risk.on_control(ControlCommand("resume"))
    assert decide(risk, "IBM", T0 + S, 185.0, offset=99).accepted


def test_submit_symbol_outside_universe_then_denies_without_state() -> None:
    risk = engine()
    decision = risk.decide(prediction("MSFT", T0, 30.0))
    assert decision.reason == "not_in_universe" and risk.clock_ns == 0


@pytest.mark.parametrize("limits,kwargs,reason", [
    ({"known_model_versions": frozenset({"v2"})}, {}, "unknown_model_version"),
    ({"unhealthy_model_versions": frozenset({"v1"})}, {}, "unhealthy_model"),
    ({}, {"direction": 0}, "no_direction"),
    ({"min_confidence": 0.9}, {}, "below_min_confidence"),
    ({"restricted_symbols": frozenset({"IBM"})}, {}, "restricted_symbol"),
])
def test_model_and_instrument_checks_deny_with_their_reason(limits: dict, kwargs: dict, reason: str) -> None:
    decision = decide(engine(**limits), "IBM", T0, 185.0, **kwargs)
    assert (decision.accepted, decision.reason) == (False, reason)
    assert decision.detail


def test_prediction_older_than_portfolio_clock_is_stale() -> None:
    risk = engine()
    risk.on_market(context("AIG", T0 + 10 * S, 50.0))
    risk.on_market(context("IBM", T0, 185.0))
    assert risk.decide(prediction("IBM", T0, 185.0)).reason == "stale_prediction"


def test_stale_market_data_and_missing_market_data_are_denied() -> None:
    risk = engine()
    assert risk.decide(prediction("IBM", T0, 185.0)).reason == "no_market_data"
    risk.on_market(context("IBM", T0, 185.0, age_s=600.0))
    assert risk.decide(prediction("IBM", T0, 185.0, offset=5)).reason == "stale_market_data"


def test_fat_finger_price_outside_collar_is_denied() -> None:
    risk = engine(price_collar_bps=50.0)
    risk.on_market(context("IBM", T0, 14.10, mid=13.80))  # an off-market print against the quote
    decision = risk.decide(prediction("IBM", T0, 14.10))
    assert decision.reason == "price_collar" and decision.level == "instrument"


def test_order_is_cut_to_max_quantity_and_max_position_then_denied() -> None:
    risk = engine(max_order_quantity=400.0, max_position_shares=700.0, duplicate_window_ns=1)
    first = decide(risk, "IBM", T0, 185.0)
    second = decide(risk, "IBM", T0 + S, 185.0)
    third = decide(risk, "IBM", T0 + 2 * S, 185.0)
    assert (first.size, second.size) == (400.0, 300.0)
    assert (third.accepted, third.reason) == (False, "max_position")


def test_gross_and_net_caps_deny_when_no_room_is_left() -> None:
    risk = engine(max_gross_exposure=100_000.0, max_net_exposure=1_000_000.0, duplicate_window_ns=1)
    assert decide(risk, "IBM", T0, 100.0).size == 1000.0
    assert decide(risk, "AIG", T0 + S, 50.0).reason == "gross_exposure"
    risk = engine(max_net_exposure=50_000.0, duplicate_window_ns=1)
    assert decide(risk, "IBM", T0, 100.0).size == 500.0
    assert decide(risk, "AIG", T0 + S, 50.0).reason == "net_exposure"
    assert decide(risk, "AIG", T0 + 2 * S, 50.0, direction=-1).accepted  # reduces net exposure


def test_var_limit_denies_orders_that_raise_var_above_the_maximum() -> None:
    risk = engine(max_var=100.0, var_prior_volatility=0.01)
    decision = decide(risk, "IBM", T0, 185.0)
    assert (decision.accepted, decision.reason, decision.level) == (False, "var_limit", "portfolio")


def test_duplicate_signal_and_order_rate_are_execution_denials() -> None:
    risk = engine(max_position_shares=1e6, max_position_notional=1e9, max_gross_exposure=1e9, min_confidence=0.5,
                  cost_multiple=0.0, max_net_exposure=1e9, max_var=1e9, max_orders_per_window=2,
                  duplicate_window_ns=2 * S)
    assert decide(risk, "IBM", T0, 10.0, confidence=0.505).accepted
    again = risk.decide(prediction("IBM", T0, 10.0, confidence=0.505))
    assert again.reason == "duplicate_signal"
    assert decide(risk, "IBM", T0 + S, 10.0, confidence=0.505).reason == "duplicate_signal"  # same direction, 1 s
    assert decide(risk, "IBM", T0 + 3 * S, 10.0, confidence=0.505).accepted
    rated = decide(risk, "IBM", T0 + 6 * S, 10.0, confidence=0.505)
    assert (rated.reason, rated.level) == ("order_rate", "execution")


def test_drawdown_switches_to_reducing_then_halted() -> None:
    risk = engine(reduce_drawdown=0.0003, halt_drawdown=0.002, max_var=1e9, max_order_quantity=1000.0,
                  duplicate_window_ns=1)
    assert decide(risk, "IBM", T0, 100.0).accepted
    assert decide(risk, "IBM", T0 + S, 100.0).accepted  # 2,000 shares
    risk.on_market(context("IBM", T0 + 2 * S, 99.8))  # -400: 0.04% drawdown
    assert risk.trading_state == "REDUCING"
    assert decide(risk, "IBM", T0 + 3 * S, 99.8).reason == "reducing_only"
    reduced = decide(risk, "IBM", T0 + 4 * S, 99.8, direction=-1)
    assert reduced.accepted and reduced.position_after == 1000.0
    risk.on_market(context("IBM", T0 + 5 * S, 97.0))  # -3,200: 0.32% drawdown
    assert risk.trading_state == "HALTED"
    assert decide(risk, "IBM", T0 + 6 * S, 97.0, direction=-1).reason == "halted"


def test_risk_score_scales_size_down() -> None:
    risk = engine(max_var=5_000.0, duplicate_window_ns=1, min_confidence=0.5, cost_multiple=0.0)
    first = decide(risk, "IBM", T0, 100.0, confidence=0.505)
    second = decide(risk, "AIG", T0 + S, 100.0, confidence=0.505)
    assert first.risk_score == 0.0 and 0.0 < second.risk_score < 1.0
    assert second.size < first.size


def quoted(symbol: str, ts_ns: int, mid: float, spread: float) -> MarketContext:
    return MarketContext(symbol, ts_ns, 0, ts_ns // S, mid, mid, spread, 0.5, 0.5)


def test_accepted_order_is_booked_at_the_quote_it_crosses_plus_the_fee() -> None:
    risk = engine(max_order_quantity=1000.0, max_var=1e9)
    risk.on_market(quoted("IBM", T0, 100.0, 0.04))
    decision = risk.decide(prediction("IBM", T0, 100.0))
    assert decision.accepted and decision.size == 1000.0
    # a buy pays the ask (mid + half the spread) and 0.5 bps of the notional, as the paper book does
    assert risk.cash == pytest.approx(-1000.0 * 100.02 * (1.0 + 0.5e-4))
    assert risk.equity() == pytest.approx(1_000_000.0 - 1000.0 * 0.02 - 1000.0 * 100.02 * 0.5e-4)


def test_symbol_without_quotes_is_booked_at_the_last_trade_plus_the_trade_half_spread() -> None:
    risk = engine(max_order_quantity=1000.0, max_var=1e9, fee_bps=0.0, trade_half_spread_bps=2.0)
    risk.on_market(MarketContext("IBM", T0, 0, 1, 100.0, math.nan, math.nan, math.nan, 0.5))
    decision = risk.decide(prediction("IBM", T0, 100.0, direction=-1))
    assert decision.accepted and decision.size == 1000.0
    assert risk.cash == pytest.approx(1000.0 * 100.0 * (1.0 - 2e-4))  # a sell receives the trade minus 2 bps


def test_round_trips_at_a_flat_price_lose_the_costs_then_drawdown_halts() -> None:
    """The paper book's costs are in the engine's P&L: only spread and fees move equity here."""
    risk = engine(reduce_drawdown=0.001, halt_drawdown=0.002, max_var=1e9, max_order_quantity=1000.0,
                  duplicate_window_ns=1, cost_multiple=0.0)  # the cost policy would refuse a 100 bps spread
    states = []
    for step, direction in enumerate((1, 1, -1, -1)):
        ts = T0 + step * S
        risk.on_market(quoted("IBM", ts, 100.0, 1.0))  # 100 bps wide: 0.50 per share each way + 0.5 bps fee
        assert risk.decide(prediction("IBM", ts, 100.0, direction=direction)).accepted
        risk.on_market(quoted("IBM", ts + S // 2, 100.0, 1.0))
        states.append(risk.trading_state)
    assert states == ["ACTIVE", "REDUCING", "REDUCING", "HALTED"]
    assert risk.positions["IBM"] == 0.0
    assert risk.equity() == pytest.approx(1_000_000.0 - 4 * 1000.0 * 0.5 - 1000.0 * 0.5e-4 * (2 * 100.5 + 2 * 99.5))
    assert risk.decide(prediction("IBM", T0 + 5 * S, 100.0)).reason == "halted"
