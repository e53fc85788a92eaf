"""The portfolio risk step in live runs: Bytewax's notification releases what a symbol that never
trades was holding, on an injected clock; decisions are those of the same items in a bounded run."""

from __future__ import annotations

from datetime import datetime, timezone

from dataflows.steps import PortfolioRiskBuilder, PortfolioRiskLogic
from operators.messages import MarketContext, Prediction
from operators.risk.limits import RiskLimits

S = 1_000_000_000
T0 = 1_381_325_400 * S
LIMITS = RiskLimits(universe=("IBM", "SPY"))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _rows(count: int) -> list[object]:
    items: list[object] = []
    for i in range(count):
        ts = T0 + i * S
        items.append(MarketContext("IBM", ts, 0, i, 185.0, 185.0, 0.02, 0.1, 0.1))
        items.append(Prediction(f"p{i}", "IBM", ts, 0, i, 185.0, "v1", 0.6, 1 if i % 2 else -1, 0.8, 0.002,
                                "trend", 0.1, {}))
    return items


def _live(clock: Clock) -> PortfolioRiskLogic:
    return PortfolioRiskBuilder(LIMITS, idle_after_s=30.0, clock=clock)(None)


def test_live_step_when_a_universe_symbol_never_trades_then_notified_at_idle_and_releases_in_order() -> None:
    clock = Clock()
    logic = _live(clock)
    assert logic.notify_at() is None  # nothing arrived yet: nothing to wait for
    decided = []
    for item in _rows(5):
        out, _ = logic.on_item(item)
        decided += out
    assert decided == []  # SPY, never seen, holds the watermark
    due = logic.notify_at()
    assert due is not None and due.tzinfo is timezone.utc
    assert 29.0 <= (due - datetime.now(timezone.utc)).total_seconds() <= 30.5

    clock.now += 30.0
    out, _ = logic.on_notify()
    assert [decision.signal_id for decision in out] == [decision.signal_id for decision in _bounded(_rows(4))]
    assert logic.notify_at() is None  # SPY is idle now


def _bounded(items: list[object]) -> list:
    logic = PortfolioRiskBuilder(LIMITS, idle_after_s=None)(None)
    decided = []
    for item in items:
        out, _ = logic.on_item(item)
        decided += out
    out, _ = logic.on_eof()
    return decided + list(out)


def test_live_step_when_restored_from_its_snapshot_then_takes_the_run_setting_and_decides_the_same() -> None:
    clock = Clock()
    logic = _live(clock)
    rows = _rows(6)
    for item in rows[:6]:  # three rows
        logic.on_item(item)
    restored = PortfolioRiskBuilder(LIMITS, idle_after_s=5.0, clock=clock)(logic.snapshot())
    clock.now = 7.0  # another process: another monotonic clock
    decided = []
    for item in rows[6:]:
        out, _ = restored.on_item(item)
        decided += out
    clock.now += 5.0  # the run's setting (5 s), not the snapshot's (30 s)
    out, _ = restored.on_notify()
    decided += out
    assert [decision.signal_id for decision in decided] == [decision.signal_id for decision in _bounded(rows[:10])]
