"""Specifications of quote measures, order-flow imbalance and trade-side classification."""

from __future__ import annotations

import math
import pickle

import pytest

from operators.features.rolling import EventTimeSums
from operators.features.microstructure import (
    OrderFlowImbalance,
    SignedVolumeImbalance,
    TradeSideClassifier,
    microprice,
    mid,
    order_flow_event,
    quote_imbalance,
    spread,
    spread_bps,
)
from tests.unit.operators.features.round_trip import assert_restored_copy_continues

SECOND = 1_000_000_000


def test_quote_measures_are_exact_on_a_hand_built_quote() -> None:
    # Prices chosen to be exact in binary floating point, so equality is exact.
    bid, ask, bid_size, ask_size = 100.0, 100.5, 300.0, 100.0
    assert mid(bid, ask) == 100.25
    assert spread(bid, ask) == 0.5
    assert spread_bps(bid, ask) == 0.5 / 100.25 * 1e4
    assert microprice(bid, ask, bid_size, ask_size) == 100.375  # leans to the ask: more size on the bid
    assert quote_imbalance(bid_size, ask_size) == 0.5
    assert microprice(10.0, 10.01, 200.0, 200.0) == pytest.approx(mid(10.0, 10.01), rel=1e-15)


def test_quote_measures_are_nan_instead_of_dividing_by_zero() -> None:
    assert math.isnan(microprice(1.0, 1.1, 0.0, 0.0))
    assert math.isnan(quote_imbalance(0.0, 0.0))
    assert math.isnan(spread_bps(0.0, 0.0))


def test_locked_and_crossed_quotes_give_zero_and_negative_spread() -> None:
    assert spread(10.0, 10.0) == 0.0
    assert spread(10.01, 10.0) < 0.0


@pytest.mark.parametrize(
    ("now", "expected_sign"),
    [
        ((100.01, 100.03, 200.0, 100.0), 1),   # bid steps up: new demand
        ((99.99, 100.03, 200.0, 100.0), -1),   # bid steps down: demand removed
        ((100.0, 100.02, 200.0, 100.0), -1),   # ask steps down: new supply
        ((100.0, 100.04, 200.0, 100.0), 1),    # ask steps up: supply taken away
        ((100.0, 100.03, 500.0, 100.0), 1),    # bid size grows at the same price
        ((100.0, 100.03, 200.0, 900.0), -1),   # ask size grows at the same price
        ((100.0, 100.03, 200.0, 100.0), 0),    # nothing changed
    ],
)
def test_order_flow_event_sign_follows_cont_kukanov_stoikov(now: tuple[float, ...], expected_sign: int) -> None:
    previous = (100.0, 100.03, 200.0, 100.0)
    event = order_flow_event(*now, *previous)
    assert (event > 0) - (event < 0) == expected_sign


def test_order_flow_event_values_on_a_price_change() -> None:
    # Bid up to 100.01 with 50 shares: e = +50 (the old bid queue of 200 is not subtracted).
    assert order_flow_event(100.01, 100.03, 50.0, 100.0, 100.0, 100.03, 200.0, 100.0) == 50.0
    # Bid unchanged, size 200 -> 150: e = 150 - 200 = -50.
    assert order_flow_event(100.0, 100.03, 150.0, 100.0, 100.0, 100.03, 200.0, 100.0) == -50.0


def test_order_flow_imbalance_sums_over_a_rolling_window_and_normalises_by_depth() -> None:
    flow = OrderFlowImbalance(window_ns=10 * SECOND)
    flow.update(0, 100.0, 100.03, 200.0, 100.0)
    assert not flow.ready and math.isnan(flow.value)
    flow.update(1 * SECOND, 100.01, 100.03, 300.0, 100.0)  # +300, depth 200
    flow.update(5 * SECOND, 100.01, 100.03, 300.0, 300.0)  # -200, depth 300
    assert flow.total == 100.0
    assert flow.value == pytest.approx(100.0 / 250.0)
    flow.advance(11 * SECOND)  # the event at 1 s leaves (1 s <= 11 s - 10 s)
    assert flow.total == -200.0
    assert flow.value == pytest.approx(-200.0 / 300.0)
    flow.advance(15 * SECOND)
    assert not flow.ready and math.isnan(flow.total)
    flow = pickle.loads(pickle.dumps(flow))
    flow.update(16 * SECOND, 100.02, 100.03, 10.0, 300.0)
    assert flow.total == 10.0


def test_quote_rule_classifies_against_the_mid() -> None:
    classifier = TradeSideClassifier()
    assert classifier.update(100.03, mid=100.02) == "buy"
    assert classifier.update(100.01, mid=100.02) == "sell"


def test_tick_rule_at_the_mid_up_tick_down_tick_and_zero_tick_inherits() -> None:
    classifier = TradeSideClassifier()
    assert classifier.update(100.02, mid=100.02) == "unknown"  # no previous trade to compare
    assert classifier.update(100.03, mid=100.03) == "buy"      # up-tick at the mid
    assert classifier.update(100.03, mid=100.03) == "buy"      # zero-tick inherits buy
    assert classifier.update(100.01, mid=100.01) == "sell"     # down-tick
    assert classifier.update(100.01) == "sell"                 # no quote: tick rule, zero-tick
    assert classifier.update(100.05) == "buy"
    assert classifier.value == "buy"


def test_quote_rule_overrides_the_tick_rule_but_the_tick_state_keeps_moving() -> None:
    classifier = TradeSideClassifier()
    classifier.update(100.0)
    assert classifier.update(99.9, mid=99.8) == "buy"  # above the mid although a down-tick
    assert classifier.update(99.9, mid=99.9) == "sell"  # at the mid: zero-tick after the down-tick


def test_signed_volume_imbalance_over_the_window_ignores_unknown_sides() -> None:
    imbalance = SignedVolumeImbalance(window_ns=10 * SECOND)
    assert math.isnan(imbalance.value)
    imbalance.update(0, 300.0, "buy")
    imbalance.update(SECOND, 100.0, "sell")
    imbalance.update(2 * SECOND, 1_000.0, "unknown")
    assert imbalance.value == 0.5
    imbalance.advance(10 * SECOND)
    assert imbalance.value == -1.0
    imbalance.advance(11 * SECOND)
    assert math.isnan(imbalance.value) and not imbalance.ready


@pytest.mark.parametrize("window", [0, -1, 2.5])
def test_invalid_windows_are_rejected_naming_the_value(window: object) -> None:
    with pytest.raises(ValueError, match=f"got {window!r}"):
        OrderFlowImbalance(window)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"got {window!r}"):
        SignedVolumeImbalance(window)  # type: ignore[arg-type]


# --- recovery snapshots of the rolling windows -------------------------------------------------------------


def _quote_stream(count: int) -> list[tuple[int, float, float, float, float]]:
    quotes = []
    for i in range(count):
        bid = 100.0 + 0.01 * ((i * 7) % 5)
        quotes.append((1_000 + 250_000_000 * i, bid, bid + 0.01 * (1 + i % 3), 100.0 + (i * 13) % 400,
                       100.0 + (i * 29) % 300))
    return quotes


def test_order_flow_imbalance_pickle_round_trip_continues_bit_identically() -> None:
    assert_restored_copy_continues(OrderFlowImbalance(window_ns=10_000_000_000), _quote_stream(400), 200,
                                   lambda flow: (flow.value, flow.total))


def test_signed_volume_imbalance_pickle_round_trip_continues_bit_identically() -> None:
    trades = [(1_000 + 300_000_000 * i, 100.0 + (i * 17) % 900, "buy" if i % 3 else "sell") for i in range(300)]
    assert_restored_copy_continues(SignedVolumeImbalance(window_ns=10_000_000_000), trades, 150,
                                   lambda imbalance: imbalance.value)


def test_window_pickles_smaller_than_a_tuple_per_event() -> None:
    from collections import deque

    window = EventTimeSums(window_ns=60_000_000_000)
    events = [(1_000 + 250_000_000 * i, float((i * 13) % 400 - 200), 100.0 + (i * 29) % 300) for i in range(200)]
    for event in events:
        window.add(*event)
    as_tuples = deque(events)
    assert len(pickle.dumps(window, protocol=5)) < len(pickle.dumps(as_tuples, protocol=5))
