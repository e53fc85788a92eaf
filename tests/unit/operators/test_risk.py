"""Specifications of the pre-trade risk check in ``operators.risk``."""

from __future__ import annotations

import math
import pickle

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.ids import stable_id
from operators.messages import Decision, Prediction
from operators.risk import REASONS, RiskCheck, RiskConfig, RiskState

# 2013-10-08 10:15:00 ET, IBM around 183.50
TS_NS = 1_381_241_700_000_000_000


def ibm_prediction(**changes: object) -> Prediction:
    base = Prediction(
        prediction_id="pred-ibm-3-5120",
        symbol="IBM",
        ts_ns=TS_NS,
        partition=3,
        offset=5_120,
        price=183.5,
        model_version="ensemble-v7",
        p_up=0.62,
        direction=1,
        confidence=0.24,
        volatility=0.0021,
        regime="trend",
        score=0.24,
        specialists={"trend": 0.61, "mean_reversion": 0.48},
    )
    return msgspec.structs.replace(base, **changes)


def decide(
    config: RiskConfig | None = None, state: RiskState | None = None, **changes: object
) -> tuple[RiskState, Decision]:
    return RiskCheck(config or RiskConfig()).decide(state, ibm_prediction(**changes))


def assert_denied(decision: Decision, reason: str, state_before: RiskState | None = None) -> None:
    assert (decision.accepted, decision.reason) == (False, reason)
    assert (decision.size, decision.notional) == (0.0, 0.0)
    expected_position = state_before.position_shares if state_before else 0.0
    assert decision.position_after == expected_position


# --- accepted signals and sizing ------------------------------------------------------------


def test_decide_when_signal_is_sound_then_accepts_and_sizes_by_inverse_volatility() -> None:
    config = RiskConfig(max_order_notional=10_000_000.0, max_position_notional=10_000_000.0, max_position_shares=1e6)
    state, decision = decide(config)
    dollar_risk = 1_000_000.0 * 0.02 * 0.24
    expected = math.floor(dollar_risk / (183.5 * 0.0021))
    assert (decision.accepted, decision.reason, decision.size) == (True, "accepted", expected)
    assert decision.notional == expected * 183.5
    assert decision.position_after == expected
    assert state == RiskState(position_shares=expected, signals_accepted=1, signals_denied=0)


def test_decide_when_volatility_is_doubled_then_size_halves() -> None:
    config = RiskConfig(max_order_notional=1e8, max_position_notional=1e8, max_position_shares=1e7)
    size = decide(config, volatility=0.002)[1].size
    assert decide(config, volatility=0.004)[1].size == pytest.approx(size / 2, abs=1)


def test_decide_when_volatility_below_floor_then_sizes_with_the_floor() -> None:
    config = RiskConfig(volatility_floor=0.01, max_order_notional=1e8, max_position_notional=1e8)
    assert decide(config, volatility=0.0)[1].size == math.floor(4_800 / (183.5 * 0.01))


def test_decide_when_portfolio_risk_is_high_then_size_shrinks() -> None:
    config = RiskConfig(portfolio_risk=0.75, max_order_notional=1e8, max_position_notional=1e8)
    assert decide(config)[1].size == math.floor(1_200 / (183.5 * 0.0021))


def test_decide_when_sized_order_exceeds_max_order_notional_then_cuts_it() -> None:
    decision = decide(RiskConfig())[1]
    assert decision.accepted
    assert decision.size == math.floor(250_000.0 / 183.5)
    assert decision.notional <= 250_000.0


def test_decide_when_position_near_share_limit_then_cuts_to_the_room_left() -> None:
    config = RiskConfig(max_position_notional=1e8)
    state, decision = decide(config, RiskState(position_shares=9_900.0, signals_accepted=7))
    assert (decision.accepted, decision.size, decision.position_after) == (True, 100.0, 10_000.0)
    assert state == RiskState(10_000.0, 8, 0)


def test_decide_when_position_near_notional_limit_then_cuts_to_the_room_left() -> None:
    config = RiskConfig(max_position_notional=1_000_000.0, max_position_shares=1e6)
    decision = decide(config, RiskState(position_shares=5_000.0))[1]
    assert decision.size == math.floor(1_000_000.0 / 183.5) - 5_000
    assert decision.position_after * 183.5 <= 1_000_000.0


def test_decide_when_selling_against_a_long_then_reduces_the_position() -> None:
    decision = decide(RiskConfig(), RiskState(position_shares=9_990.0), direction=-1, p_up=0.38)[1]
    assert decision.accepted
    assert decision.position_after == 9_990.0 - decision.size


def test_decide_signal_id_depends_on_symbol_partition_offset_and_model_version() -> None:
    decision = decide()[1]
    assert decision.signal_id == stable_id("IBM", 3, 5_120, "ensemble-v7")
    assert decide(direction=0)[1].signal_id == decision.signal_id
    assert decide(model_version="ensemble-v8")[1].signal_id != decision.signal_id


def test_decide_decision_echoes_the_prediction_and_trading_state() -> None:
    decision = decide(RiskConfig(trading_state="ACTIVE"))[1]
    assert (decision.symbol, decision.ts_ns, decision.partition, decision.offset) == ("IBM", TS_NS, 3, 5_120)
    assert (decision.price, decision.confidence, decision.regime, decision.direction) == (183.5, 0.24, "trend", 1)
    assert decision.trading_state == "ACTIVE"


# --- denials, in check order -----------------------------------------------------------------


def test_decide_when_halted_then_denies() -> None:
    state = RiskState(position_shares=-300.0, signals_accepted=2, signals_denied=1)
    next_state, decision = decide(RiskConfig(trading_state="HALTED"), state)
    assert_denied(decision, "halted", state)
    assert decision.trading_state == "HALTED"
    assert next_state == RiskState(-300.0, 2, 2)


def test_decide_when_halted_and_prediction_is_invalid_then_halted_wins() -> None:
    assert decide(RiskConfig(trading_state="HALTED"), price=math.nan)[1].reason == "halted"


@pytest.mark.parametrize(
    "changes",
    [
        {"price": math.nan},
        {"price": math.inf},
        {"price": 0.0},
        {"price": -183.5},
        {"confidence": math.nan},
        {"confidence": 1.2},
        {"confidence": -0.1},
        {"volatility": math.nan},
        {"volatility": math.inf},
        {"volatility": -0.001},
        {"p_up": math.nan},
        {"score": -math.inf},
        {"direction": 2},
    ],
)
def test_decide_when_prediction_is_invalid_then_denies_invalid_prediction(changes: dict[str, object]) -> None:
    assert_denied(decide(**changes)[1], "invalid_prediction")


def test_decide_when_direction_is_flat_then_denies_no_direction() -> None:
    assert_denied(decide(direction=0, confidence=0.0, p_up=0.5)[1], "no_direction")


def test_decide_when_confidence_below_minimum_then_denies() -> None:
    assert_denied(decide(confidence=0.049)[1], "below_min_confidence")
    assert decide(confidence=0.05)[1].accepted


def test_decide_when_reducing_and_order_adds_to_position_then_denies_reducing_only() -> None:
    state = RiskState(position_shares=400.0)
    assert_denied(decide(RiskConfig(trading_state="REDUCING"), state)[1], "reducing_only", state)


def test_decide_when_reducing_and_flat_then_denies_reducing_only() -> None:
    assert_denied(decide(RiskConfig(trading_state="REDUCING"), RiskState())[1], "reducing_only")


def test_decide_when_reducing_and_order_reduces_then_sizes_at_most_to_flatten() -> None:
    config = RiskConfig(trading_state="REDUCING")
    state, decision = decide(config, RiskState(position_shares=400.0), direction=-1, p_up=0.38)
    assert (decision.accepted, decision.size, decision.position_after) == (True, 400.0, 0.0)
    assert decision.trading_state == "REDUCING"
    short = decide(config, RiskState(position_shares=-50_000.0), direction=1)[1]
    assert short.accepted and short.size == math.floor(250_000.0 / 183.5)


def test_decide_when_position_is_at_the_limit_then_denies_max_position() -> None:
    state = RiskState(position_shares=10_000.0)
    assert_denied(decide(RiskConfig(), state)[1], "max_position", state)
    short = RiskState(position_shares=-10_000.0)
    assert_denied(decide(RiskConfig(), short, direction=-1)[1], "max_position", short)


def test_decide_when_position_notional_is_full_then_denies_max_position() -> None:
    state = RiskState(position_shares=5_449.0)  # 5,449 x 183.5 = 999,891.5: less than one share of room
    assert_denied(decide(RiskConfig(), state)[1], "max_position", state)


def test_decide_when_size_rounds_to_zero_then_denies_zero_size() -> None:
    assert_denied(decide(price=300_000.0)[1], "zero_size")  # one share would break max_order_notional
    tiny_account = RiskConfig(account_equity=1_000.0)
    assert_denied(decide(tiny_account, volatility=0.05)[1], "zero_size")


def test_decide_when_denied_then_counts_the_denial_and_keeps_the_position() -> None:
    state = RiskState(position_shares=120.0, signals_accepted=4, signals_denied=9)
    assert decide(state=state, confidence=0.01)[0] == RiskState(120.0, 4, 10)


# --- config and state -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("account_equity", 0.0),
        ("account_equity", math.inf),
        ("risk_per_trade", 0.0),
        ("risk_per_trade", 1.01),
        ("portfolio_risk", -0.1),
        ("portfolio_risk", math.nan),
        ("min_confidence", 1.5),
        ("max_position_shares", -1.0),
        ("max_position_notional", math.nan),
        ("max_order_notional", 0),
        ("volatility_floor", 0.0),
        ("trading_state", "PAUSED"),
        ("account_equity", True),
    ],
)
def test_risk_config_when_value_is_bad_then_raises_naming_it(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name) as caught:
        RiskConfig(**{name: value})  # type: ignore[arg-type]
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    "changes", [{"position_shares": math.inf}, {"signals_accepted": -1}, {"signals_denied": 1.0}]
)
def test_risk_state_when_value_is_bad_then_raises(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(changes))):
        RiskState(**changes)  # type: ignore[arg-type]


def test_risk_state_pickles_compactly() -> None:
    state = RiskState(position_shares=-1_351.0, signals_accepted=12, signals_denied=40)
    payload = pickle.dumps(state)
    assert pickle.loads(payload) == state
    assert len(payload) < 120


# --- properties -----------------------------------------------------------------------------

finite_prices = st.floats(min_value=0.01, max_value=100_000.0)
configs = st.builds(
    RiskConfig,
    account_equity=st.floats(min_value=1_000.0, max_value=1e9),
    risk_per_trade=st.floats(min_value=1e-4, max_value=1.0),
    portfolio_risk=st.floats(min_value=0.0, max_value=1.0),
    min_confidence=st.floats(min_value=0.0, max_value=1.0),
    max_position_shares=st.floats(min_value=1.0, max_value=1e7),
    max_position_notional=st.floats(min_value=100.0, max_value=1e9),
    max_order_notional=st.floats(min_value=100.0, max_value=1e8),
    volatility_floor=st.floats(min_value=1e-6, max_value=0.1),
    trading_state=st.sampled_from(["ACTIVE", "REDUCING", "HALTED"]),
)
predictions = st.builds(
    ibm_prediction,
    price=finite_prices,
    direction=st.sampled_from([-1, 0, 1]),
    confidence=st.floats(min_value=0.0, max_value=1.0),
    volatility=st.floats(min_value=0.0, max_value=1.0),
)


def assert_within_limits(config: RiskConfig, before: float, decision: Decision) -> None:
    if not decision.accepted:
        assert decision.size == 0.0 and decision.position_after == before
        return
    assert decision.size > 0.0
    assert decision.size * decision.price <= config.max_order_notional
    assert decision.confidence >= config.min_confidence
    assert decision.position_after == before + decision.direction * decision.size
    after = abs(decision.position_after)
    if after >= abs(before):  # an order that reduces |position| may start from above the limits
        assert after <= config.max_position_shares
        assert after * decision.price <= config.max_position_notional
    if config.trading_state == "REDUCING":
        assert after < abs(before) and decision.size <= abs(before)


@settings(max_examples=300)
@given(configs, st.lists(predictions, min_size=1, max_size=25))
def test_decide_accepted_sequences_never_break_any_limit(config: RiskConfig, sequence: list[Prediction]) -> None:
    check = RiskCheck(config)
    state: RiskState | None = None
    for prediction in sequence:
        before = state.position_shares if state else 0.0
        state, decision = check.decide(state, prediction)
        assert decision.reason in REASONS
        assert_within_limits(config, before, decision)
        assert abs(state.position_shares) <= config.max_position_shares


@settings(max_examples=300)
@given(configs, predictions, st.floats(min_value=-1e7, max_value=1e7))
def test_decide_from_any_position_never_breaks_any_limit(
    config: RiskConfig, prediction: Prediction, position: float
) -> None:
    state, decision = RiskCheck(config).decide(RiskState(position_shares=position), prediction)
    assert decision.reason in REASONS
    assert_within_limits(config, position, decision)
    assert state.position_shares == decision.position_after


non_finite = st.sampled_from([math.nan, math.inf, -math.inf])


@settings(max_examples=300)
@given(
    configs,
    predictions,
    st.sampled_from(["price", "confidence", "volatility", "p_up", "score"]),
    non_finite,
)
def test_decide_when_any_numeric_field_is_nan_or_infinite_then_denies(
    config: RiskConfig, prediction: Prediction, field: str, bad: float
) -> None:
    broken = msgspec.structs.replace(prediction, **{field: bad})
    state, decision = RiskCheck(config).decide(None, broken)
    assert not decision.accepted
    assert decision.reason in ("halted", "invalid_prediction")
    assert state == RiskState(signals_denied=1)


@given(predictions, st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_decide_never_raises_on_extreme_values(prediction: Prediction, price: float, volatility: float) -> None:
    extreme = msgspec.structs.replace(prediction, price=price, volatility=volatility)
    RiskCheck(RiskConfig()).decide(RiskState(position_shares=-12.5), extreme)
