"""Property tests: no accepted signal ever breaks a limit; NaN/inf are always denied;
the event-order buffer releases the same sequence whatever the arrival interleaving."""

from __future__ import annotations

import math
from collections import deque

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.messages import ControlCommand, MarketContext, Prediction
from operators.risk.engine import PortfolioRiskEngine
from operators.risk.costs import expected_cost_bps, expected_move_bps
from operators.risk.limits import RiskLimits
from operators.risk.ordering import EventOrderBuffer

S = 1_000_000_000
T0 = 1_381_239_000 * S
SYMBOLS = ("AIG", "BAC", "IBM")
BAD = st.sampled_from([math.nan, math.inf, -math.inf])

limits_strategy = st.builds(
    RiskLimits,
    universe=st.just(SYMBOLS),
    min_confidence=st.floats(0.5, 0.75),
    cost_multiple=st.sampled_from([0.0, 1.0]),
    impact_bps=st.floats(0.0, 5.0),
    max_order_quantity=st.floats(1.0, 5_000.0),
    max_order_notional=st.floats(1_000.0, 300_000.0),
    max_position_shares=st.floats(1.0, 10_000.0),
    max_position_notional=st.floats(1_000.0, 1_000_000.0),
    max_gross_exposure=st.floats(1_000.0, 2_000_000.0),
    max_net_exposure=st.floats(1_000.0, 1_000_000.0),
    max_var=st.floats(10.0, 20_000.0),
    var_min_observations=st.integers(1, 5),
    var_window=st.just(50),
    var_interval_ns=st.just(10 * S),
    reduce_drawdown=st.floats(0.0005, 0.01),
    halt_drawdown=st.just(0.02),
    max_orders_per_window=st.integers(1, 5),
    throttle_window_ns=st.just(30 * S),
    duplicate_window_ns=st.integers(1, 5 * S),
    restricted_symbols=st.sampled_from([frozenset(), frozenset({"BAC"})]),
)

step_strategy = st.one_of(
    st.tuples(st.just("market"), st.sampled_from(SYMBOLS), st.floats(-0.02, 0.02), st.floats(0.0, 300.0)),
    st.tuples(st.just("predict"), st.sampled_from(SYMBOLS), st.sampled_from([-1, 0, 1]), st.floats(0.5, 1.0),
              st.floats(0.0, 0.05), st.floats(-0.03, 0.03)),
    st.tuples(st.just("control"), st.sampled_from(["halt", "reduce", "resume"])),
)


def _check_accepted(engine: PortfolioRiskEngine, before: dict, decision, prediction: Prediction) -> None:
    limits = engine.limits
    eps = 1e-6
    assert before["state"] != "HALTED"
    assert decision.size >= 1.0 and decision.size == math.floor(decision.size)
    assert decision.size <= limits.max_order_quantity + eps
    assert decision.size * prediction.price <= limits.max_order_notional * (1 + 1e-12) + eps
    assert limits.min_confidence <= prediction.confidence
    half_spread, fee, impact = expected_cost_bps(limits, engine.market.get(prediction.symbol), decision.notional)
    move = expected_move_bps(prediction.p_up, prediction.volatility, prediction.direction)
    assert move >= limits.cost_multiple * (half_spread + fee + impact)
    assert prediction.symbol not in limits.restricted_symbols
    position, after = before["position"], decision.position_after
    if before["state"] == "REDUCING":
        assert abs(after) < abs(position) and after * position >= 0.0
    if abs(after) > abs(position):
        assert abs(after) <= limits.max_position_shares + eps
        assert abs(after) * prediction.price <= limits.max_position_notional * (1 + 1e-12) + eps
    mark = engine.marks[prediction.symbol]
    gross_before = before["gross"] + abs(position) * (prediction.price - mark)
    gross_after = gross_before - abs(position) * prediction.price + abs(after) * prediction.price
    assert gross_after <= max(gross_before, limits.max_gross_exposure) * (1 + 1e-9) + eps
    net_before = before["net"] + position * (prediction.price - mark)
    net_after = net_before + (after - position) * prediction.price
    assert abs(net_after) <= max(abs(net_before), limits.max_net_exposure) * (1 + 1e-9) + eps
    assert decision.var <= max(before["var"], limits.max_var) * (1 + 1e-9) + eps


@settings(max_examples=150, deadline=None)
@given(limits=limits_strategy, steps=st.lists(step_strategy, min_size=1, max_size=60))
def test_no_accepted_signal_ever_violates_a_limit(limits: RiskLimits, steps: list) -> None:
    engine = PortfolioRiskEngine(limits)
    prices = {"AIG": 50.0, "BAC": 14.0, "IBM": 185.0}
    accepted_times: dict[str, deque[int]] = {symbol: deque() for symbol in SYMBOLS}
    ts = T0
    for offset, step in enumerate(steps):
        ts += S
        if step[0] == "market":
            _, symbol, move, age = step
            prices[symbol] *= math.exp(move)
            engine.on_market(MarketContext(symbol, ts, 0, offset, prices[symbol], prices[symbol], 0.01, age, age))
        elif step[0] == "control":
            engine.on_control(ControlCommand(step[1]))
        else:
            _, symbol, direction, confidence, volatility, slip = step
            price = prices[symbol] * (1.0 + slip)
            p_up = confidence if direction >= 0 else 1.0 - confidence
            prediction = Prediction(f"p{offset}", symbol, ts, 0, offset, price, "v1", p_up, direction, confidence,
                                    volatility, "trend", 0.1, {})
            gross, net = engine.exposures()
            before = {"state": engine.trading_state, "position": engine.positions.get(symbol, 0.0),
                      "gross": gross, "net": net, "var": engine.var()}
            decision = engine.decide(prediction)
            if decision.accepted:
                _check_accepted(engine, before, decision, prediction)
                window = accepted_times[symbol]
                window.append(ts)
                while window and window[0] <= ts - limits.throttle_window_ns:
                    window.popleft()
                assert len(window) <= limits.max_orders_per_window
            else:
                assert decision.size == 0.0 and decision.reason != "accepted" and decision.detail


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(["price", "confidence", "volatility", "p_up", "score"]), bad=BAD,
       limits=limits_strategy, direction=st.sampled_from([-1, 1]))
def test_nan_or_inf_in_any_prediction_field_is_always_denied(field: str, bad: float, limits: RiskLimits,
                                                              direction: int) -> None:
    engine = PortfolioRiskEngine(limits)
    engine.on_market(MarketContext("IBM", T0, 0, 0, 185.0, 185.0, 0.01, 0.1, 0.1))
    good = Prediction("p", "IBM", T0, 0, 1, 185.0, "v1", 0.5, direction, 0.9, 0.002, "trend", 0.1, {})
    decision = engine.decide(msgspec.structs.replace(good, **{field: bad}))
    assert not decision.accepted and decision.reason == "invalid_prediction"
    assert engine.positions.get("IBM", 0.0) == 0.0


@settings(max_examples=200, deadline=None)
@given(streams=st.lists(st.lists(st.integers(0, 50), min_size=0, max_size=15), min_size=3, max_size=3),
       choices=st.lists(st.integers(0, 2), min_size=0, max_size=60))
def test_event_order_buffer_release_order_does_not_depend_on_arrival(streams: list, choices: list) -> None:
    """Each symbol's stream is in event-time order; any interleaving gives the sorted order."""
    items = {symbol: [(symbol, ts, 0, i, 0, f"{symbol}{i}") for i, ts in enumerate(sorted(stream))]
             for symbol, stream in zip(SYMBOLS, streams)}

    def run(order: list[int]) -> list:
        buffer = EventOrderBuffer(SYMBOLS)
        queues = {symbol: deque(values) for symbol, values in items.items()}
        released = []
        for pick in order:
            symbol = SYMBOLS[pick]
            if queues[symbol]:
                released.extend(buffer.push(queues[symbol].popleft()))
        for symbol in SYMBOLS:
            while queues[symbol]:
                released.extend(buffer.push(queues[symbol].popleft()))
        released.extend(buffer.flush())
        return released

    expected = sorted((item for values in items.values() for item in values), key=lambda i: (i[1], i[0], i[2], i[3]))
    assert run(choices) == expected
    assert run(list(reversed(choices))) == expected
