"""Specifications of the order-flow feature group, against a brute-force recomputation on real ticks."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from operators.features.groups.order_flow import MID_TOLERANCE, OrderFlowFeatures
from operators.features.microstructure import TradeSideClassifier, order_flow_event
from operators.features.rolling import EventTimeSum, EventTimeWindows
from tests.unit.operators.features.ibm_tape import QUOTE, ibm_tape

SECOND = 1_000_000_000
SIGN = {"buy": 1.0, "sell": -1.0, "unknown": 0.0}


@pytest.fixture(scope="module")
def ibm_events(market_data: Path) -> list[tuple]:
    """Real IBM quotes and trades of 2013-10-07 morning, time ordered (quotes first on ties), trade
    sides by the quote rule against the latest mid, as the live step gives them."""
    classifier, middle, events = TradeSideClassifier(), math.nan, []
    for row in ibm_tape(market_data, trade_rows=100_000, quote_rows=150_000).itertuples(index=False):
        if row.kind == QUOTE:
            middle = 0.5 * (row.bid + row.ask)
            events.append((int(row.ts_ns), "quote", float(row.bid), float(row.ask), float(row.bid_size),
                           float(row.ask_size)))
        else:
            events.append((int(row.ts_ns), "trade", float(row.price), float(row.size),
                           classifier.update(float(row.price), middle)))
    assert sum(event[1] == "trade" for event in events) > 1_000 and len(events) > 5_000
    return events


def feed(group: OrderFlowFeatures, event: tuple) -> None:
    if event[1] == "quote":
        group.on_quote(event[0], *event[2:])
    else:
        group.on_trade(*event[0:1], *event[2:])


def brute_force(events: list[tuple], now: int) -> dict[str, float]:
    """Every feature recomputed from the whole history of ticks up to ``now`` (no running state)."""
    quotes = [e for e in events if e[1] == "quote"]
    trades = [e for e in events if e[1] == "trade"]
    out: dict[str, float] = {}
    flow = [(q[0], order_flow_event(*q[2:], *p[2:]), 0.5 * (q[4] + q[5])) for p, q in zip(quotes, quotes[1:])]
    for name, window in (("1s", SECOND), ("10s", 10 * SECOND), ("60s", 60 * SECOND)):
        inside = [(e, d) for ts, e, d in flow if ts > now - window]
        depth = sum(d for _, d in inside)
        out[f"order_flow_imbalance_{name}"] = (sum(e for e, _ in inside) * len(inside) / depth if depth > 0
                                               else 0.0 if not inside else math.nan)
    bid, ask = quotes[-1][2], quotes[-1][3]
    out["spread_ticks"] = round((ask - bid) / 0.01, 6)
    depths = [0.5 * (q[4] + q[5]) for q in quotes if q[0] > now - 60 * SECOND]
    out["depth_ratio_60s"] = 0.5 * (quotes[-1][4] + quotes[-1][5]) / np.mean(depths)
    for name, window in (("1s", SECOND), ("60s", 60 * SECOND)):
        signed = [(SIGN[t[4]] * t[3], t[3]) for t in trades if t[0] > now - window and SIGN[t[4]]]
        out[f"trade_imbalance_{name}"] = (sum(s for s, _ in signed) / sum(v for _, v in signed) if signed else 0.0)
    recent = [t for t in trades if t[0] > now - 60 * SECOND]
    out["trade_count_60s"] = float(len(recent))
    out["mean_log_trade_size_60s"] = float(np.mean([math.log(t[3]) for t in recent])) if recent else math.nan
    out["last_trade_sign"] = SIGN[trades[-1][4]]
    mids = [(q[0], 0.5 * (q[2] + q[3])) for q in quotes if q[2] + q[3] > 0]
    changes = [(ts, m > previous) for (_, previous), (ts, m) in zip(mids, mids[1:])
               if abs(m - previous) > MID_TOLERANCE * previous]
    out["last_mid_move"] = (1.0 if changes[-1][1] else -1.0) if changes else math.nan
    out["mid_unchanged_seconds"] = (now - (changes[-1][0] if changes else mids[0][0])) / SECOND
    out["mid_changes_60s"] = float(sum(ts > now - 60 * SECOND for ts, _ in changes))
    return out


def test_values_equal_a_brute_force_recomputation_on_real_ibm_ticks(ibm_events: list[tuple]) -> None:
    group = OrderFlowFeatures()
    checked = 0
    for index, event in enumerate(ibm_events):
        feed(group, event)
        if index % 97 or index < 200:
            continue
        ours = dict(zip(group.names, group.values(event[0])))
        expected = brute_force(ibm_events[:index + 1], event[0])
        assert set(expected) == set(ours)
        for name, value in expected.items():
            assert ours[name] == pytest.approx(value, rel=1e-9, abs=1e-9, nan_ok=True), (index, name)
        checked += 1
    assert checked > 50


def test_pickle_mid_stream_then_restored_group_continues_identically(ibm_events: list[tuple]) -> None:
    original = OrderFlowFeatures()
    for event in ibm_events[:3_000]:
        feed(original, event)
    restored = pickle.loads(pickle.dumps(original))
    for event in ibm_events[3_000:]:
        feed(original, event)
        feed(restored, event)
        assert np.array_equal(original.values(event[0]), restored.values(event[0]), equal_nan=True)


def test_state_holds_only_the_last_60_seconds(ibm_events: list[tuple]) -> None:
    group = OrderFlowFeatures()
    for event in ibm_events:
        feed(group, event)
    now = ibm_events[-1][0]
    group.values(now)
    held = [getattr(group, name) for name in OrderFlowFeatures.__slots__]
    single = [(window.window_ns, window.times) for window in held if isinstance(window, EventTimeSum)]
    shared = [(window_ns, windows.times(index)) for windows in held if isinstance(windows, EventTimeWindows)
              for index, window_ns in enumerate(windows.windows_ns)]
    assert len(single) + len(shared) == 8
    assert all(now - ts < window_ns for window_ns, times in single + shared for ts in times)


def test_quotes_without_depth_give_nan_not_inf() -> None:
    group = OrderFlowFeatures()
    group.on_quote(SECOND, 10.0, 10.01, 0.0, 0.0)
    group.on_quote(2 * SECOND, 10.01, 10.02, 0.0, 0.0)
    values = dict(zip(group.names, group.values(2 * SECOND)))
    assert math.isnan(values["order_flow_imbalance_1s"]) and math.isnan(values["depth_ratio_60s"])
    assert not any(math.isinf(value) for value in values.values())


def test_before_any_tick_counts_are_zero_and_the_rest_nan_then_empty_windows_read_zero() -> None:
    group = OrderFlowFeatures()
    empty = dict(zip(group.names, group.values(SECOND)))
    assert empty.pop("trade_count_60s") == 0.0 and empty.pop("mid_changes_60s") == 0.0
    assert all(math.isnan(value) for value in empty.values())
    group.on_quote(SECOND, 10.0, 10.02, 100.0, 100.0)
    group.on_quote(SECOND, 10.0, 10.02, 200.0, 100.0)
    group.on_trade(SECOND, 10.02, 100.0, "buy")
    later = dict(zip(group.names, group.values(5 * SECOND)))
    assert later["order_flow_imbalance_1s"] == 0.0 and later["trade_imbalance_1s"] == 0.0
    assert later["order_flow_imbalance_10s"] == pytest.approx(100.0 / 150.0)
    assert later["trade_imbalance_60s"] == 1.0 and later["mid_unchanged_seconds"] == 4.0
