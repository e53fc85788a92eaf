"""Specifications of the per-symbol step's bounds: reject share per symbol, idle restarts, release of
silent symbols (with clocks passed in, never read)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import lz4.block

from dataflows.flow_metrics import FlowMetrics
from dataflows.symbol_step import SymbolLogic, SymbolLogicBuilder, SymbolRules
from operators.features.symbol import FeatureConfig
from operators.ingest.clock import EventTimeConfig
from operators.ingest.reject_share import RejectShareConfig
from operators.messages import FeatureRow, Reject, TickBatch, Trade, ValidTick
from sinks.metrics import MetricsRegistry
from tests.unit.dataflows.comparable import comparable

SECOND = 1_000_000_000
DAY = 86_400 * SECOND
T0 = 1_381_329_000 * SECOND  # 2013-10-09 14:30 UTC
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeClock:
    """Monotonic seconds and the matching UTC time, moved by the test."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.seconds)


def trade(symbol: str, ts_ns: int, offset: int, seq: int | None = None, price: float = 100.0) -> ValidTick:
    return ValidTick(Trade(symbol, ts_ns, price + 0.01 * (offset % 5), 10.0, seq=seq), "ticks", 0, offset)


def run(logic: SymbolLogic, ticks: list[ValidTick]) -> list[object]:
    out: list[object] = []
    for tick in ticks:
        emitted, retain = logic.on_item(TickBatch(tick.tick.symbol, [tick]))
        assert retain is SymbolLogic.RETAIN
        out.extend(emitted)
    return out


def builder(registry: MetricsRegistry, clock: FakeClock | None = None, **rules: object) -> SymbolLogicBuilder:
    clock = clock or FakeClock()
    return SymbolLogicBuilder(EventTimeConfig(), FeatureConfig(), watch=FlowMetrics(registry).symbol_states,
                              rules=SymbolRules(monotonic=clock.monotonic, now=clock.now, **rules))  # type: ignore[arg-type]


# --- reject share per symbol -------------------------------------------------------------------------------


def test_symbol_step_when_a_symbol_repeats_its_sequence_numbers_then_it_alone_is_counted_over_the_share() -> None:
    registry = MetricsRegistry()
    build = builder(registry, reject_share=RejectShareConfig(threshold=0.5, window=50))
    healthy, replayed = build(None), build(None)
    run(healthy, [trade("IBM", T0 + i * SECOND, i, seq=i) for i in range(200)])
    # A feed handler that replays its session: every tick after the first 20 repeats a sequence number.
    out = run(replayed, [trade("AIG", T0 + i * SECOND, 1_000 + i, seq=i % 20) for i in range(200)])

    assert sum(isinstance(item, Reject) and item.reason == "duplicate_sequence" for item in out) == 180
    assert registry.value("tickwise_symbols_over_reject_share") == 1.0

    run(replayed, [trade("AIG", T0 + (200 + i) * SECOND, 2_000 + i, seq=100 + i) for i in range(50)])
    assert registry.value("tickwise_symbols_over_reject_share") == 0.0


def test_symbol_step_when_restored_over_the_share_then_the_new_process_counts_it_again() -> None:
    build = builder(MetricsRegistry(), reject_share=RejectShareConfig(threshold=0.5, window=10))
    logic = build(None)
    run(logic, [trade("AIG", T0 + i * SECOND, i, seq=0) for i in range(30)])
    registry = MetricsRegistry()

    builder(registry, reject_share=RejectShareConfig(threshold=0.5, window=10))(logic.snapshot())

    assert registry.value("tickwise_symbols_over_reject_share") == 1.0
    assert registry.value("tickwise_symbol_states") == 1.0


def test_symbol_step_snapshot_leaves_the_flows_configs_to_the_builder_that_restores_it() -> None:
    """Every key of a flow has the same guard, duplicate-filter and reject-share configs: a snapshot
    stores none of them, and the restoring builder gives its own back."""
    share = RejectShareConfig(threshold=0.5, window=10)
    logic = builder(MetricsRegistry(), reject_share=share)(None)
    run(logic, [trade("AIG", T0 + i * SECOND, i, seq=i % 4) for i in range(30)])
    snapshot = logic.snapshot()
    for name in (b"EventTimeConfig", b"DedupeConfig", b"RejectShareConfig"):
        assert name not in lz4.block.decompress(snapshot.partition(b"\n")[2][1:])

    restoring = builder(MetricsRegistry(), reject_share=share)
    restored = restoring(snapshot)
    assert restored._guard._config is restoring._clock and restored._dedupe._config is restoring._dedupe
    assert restored._share._config is share and restored._share.share == logic._share.share > 0
    ticks = [trade("AIG", T0 + (30 + i) * SECOND, 30 + i, seq=i % 6) for i in range(40)]
    assert comparable(run(restored, ticks)) == comparable(run(logic, ticks))


def test_symbol_step_when_validation_rejects_a_symbols_quotes_then_they_pass_through_and_count_in_its_share() -> None:
    registry = MetricsRegistry()
    logic = builder(registry, reject_share=RejectShareConfig(threshold=0.5, window=20))(None)
    run(logic, [trade("BAC", T0 + i * SECOND, i) for i in range(10)])
    crossed = [Reject("crossed_quote", "validate: expected bid <= ask.", "validate", "ticks", 0, 100 + i, b"{}",
                      symbol="BAC", ts_ns=T0 + (10 + i) * SECOND) for i in range(15)]

    out = [item for reject in crossed for item in logic.on_item(reject)[0]]

    assert out == crossed  # unchanged, in order: the dead-letter topic gets each one as validation made it
    assert registry.value("tickwise_symbols_over_reject_share") == 1.0


# --- idle symbols start fresh (event time) -----------------------------------------------------------------


def _session(start_ns: int, first_offset: int, count: int = 400) -> list[ValidTick]:
    return [trade("IBM", start_ns + i * SECOND // 4, first_offset + i, seq=i) for i in range(count)]


def test_symbol_step_when_event_time_jumps_past_idle_then_outputs_equal_a_new_symbols() -> None:
    registry = MetricsRegistry()
    build = builder(registry, idle_ns=2 * DAY)
    kept = build(None)
    run(kept, _session(T0, 0))
    # A week later, the same sequence numbers again (a feed that numbers each session from 0).
    after_gap = _session(T0 + 7 * DAY, 400)

    kept_out = run(kept, after_gap)
    fresh_out = run(build(None), after_gap)

    assert comparable(kept_out) == comparable(fresh_out)
    assert not any(isinstance(item, Reject) for item in kept_out)
    assert registry.value("tickwise_symbol_idle_restarts_total") == 1.0


def test_symbol_step_when_a_single_tick_is_stamped_past_idle_then_the_symbol_keeps_its_state() -> None:
    build = builder(MetricsRegistry(), idle_ns=2 * DAY)
    logic = build(None)
    run(logic, _session(T0, 0))
    rows_before = len(run(logic, [trade("IBM", T0 + 200 * SECOND, 400, seq=1_000)]))

    out = run(logic, [trade("IBM", T0 + 30 * DAY, 401, seq=1_001),
                      *(trade("IBM", T0 + (201 + i) * SECOND, 402 + i, seq=1_002 + i) for i in range(5))])

    assert [item.reason for item in out if isinstance(item, Reject)] == ["ts_ahead"]
    assert rows_before >= 1 and any(isinstance(item, FeatureRow) for item in out)


# --- silent symbols are released (wall time, live runs only) -----------------------------------------------


def test_symbol_step_when_silent_for_release_after_then_discards_and_rejects_held_ticks_as_symbol_idle() -> None:
    registry, clock = MetricsRegistry(), FakeClock()
    logic = builder(registry, clock, release_after_s=60.0)(None)
    run(logic, [trade("JUNK1", T0, 0)])  # one tick: held until more evidence agrees

    assert logic.notify_at() == EPOCH + timedelta(seconds=60)
    clock.seconds = 59.0
    assert logic.on_notify() == ([], SymbolLogic.RETAIN)
    clock.seconds = 61.0
    out, discard = logic.on_notify()

    assert discard is SymbolLogic.DISCARD
    assert [(item.reason, item.offset) for item in out] == [("symbol_idle", 0)]
    assert registry.value("tickwise_symbols_released_total") == 1.0
    assert registry.value("tickwise_symbol_states") == 0.0


def test_symbol_step_when_an_item_arrives_then_the_release_moves_on() -> None:
    clock = FakeClock()
    logic = builder(MetricsRegistry(), clock, release_after_s=60.0)(None)
    clock.seconds = 50.0
    run(logic, _session(T0, 0, count=3))

    assert logic.notify_at() == EPOCH + timedelta(seconds=110)
    clock.seconds = 70.0
    assert logic.on_notify() == ([], SymbolLogic.RETAIN)


def test_symbol_step_without_release_after_then_never_asks_to_be_woken() -> None:
    logic = builder(MetricsRegistry())(None)
    run(logic, [trade("JUNK1", T0, 0)])

    assert logic.notify_at() is None
    assert logic.on_notify() == ([], SymbolLogic.RETAIN)


def test_symbol_step_when_released_then_the_next_session_gives_what_the_kept_state_gives() -> None:
    clock = FakeClock()
    build = builder(MetricsRegistry(), clock, idle_ns=2 * DAY, release_after_s=2 * 86_400.0)
    kept, released = build(None), build(None)
    first, after_gap = _session(T0, 0), _session(T0 + 7 * DAY, 400)
    run(kept, first)
    run(released, first)
    clock.seconds = 3 * 86_400.0
    assert released.on_notify() == ([], SymbolLogic.DISCARD)  # nothing held: releasing rejects nothing

    assert comparable(run(kept, after_gap)) == comparable(run(build(None), after_gap))
