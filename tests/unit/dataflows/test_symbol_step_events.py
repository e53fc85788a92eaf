"""Specifications of events inside the per-symbol feature step (``dataflows.symbol_step`` with
``operators.events.join_step``): an event changes no feature before its publication, a market's event fanned
out by the producer reaches every symbol, without ``TICKWISE_EVENTS`` the rows are those of a flow without
events, and a restore mid-stream (also from a snapshot written before events existed) continues identically."""

from __future__ import annotations

import math

import msgspec
import pytest

from dataflows.produce import plan_event_ticks
from dataflows.symbol_step import SymbolLogic, SymbolLogicBuilder
from operators.events import EVENT_FEATURE_SET, EventJoinConfig, EventMessage, EventTick
from operators.features.layout import feature_layout
from operators.features.symbol import FeatureConfig
from operators.ingest.clock import EventTimeConfig
from operators.ingest.validation import ValidationLimits, decode_tick
from operators.messages import FeatureRow, Reject, SourceRecord, TickBatch, Trade, ValidTick
from tests.unit.dataflows.comparable import comparable

SECOND = 1_000_000_000
T0 = 1_381_329_000 * SECOND  # 2013-10-09 14:30 UTC
CONFIG = FeatureConfig()
EVENTS = EventJoinConfig()
EARNINGS = EventMessage("estimize", "earnings_release", "AAPL", "42", T0 + 30 * SECOND, T0, 3, actual=4.18,
                        forecast=4.0, period="2013Q4")
FOMC = EventMessage("trading_economics", "fomc_minutes", "US", "17460:schedule", T0 - 7 * 86_400 * SECOND,
                    T0 + 3_600 * SECOND, 3)


def build(events: EventJoinConfig | None = EVENTS, state: bytes | None = None) -> SymbolLogic:
    return SymbolLogicBuilder(EventTimeConfig(confirmations=1), CONFIG, events=events)(state)


def stream(symbol: str = "AAPL", seconds: int = 60) -> list[ValidTick]:
    """A trade a second from T0, with the market's FOMC schedule (history, delivered at T0) and AAPL's
    earnings release delivered at T0 too, 30 s before it is public."""
    ticks = [ValidTick(EventTick(symbol, T0, FOMC), "ticks", 0, 0)]
    if symbol == "AAPL":
        ticks.append(ValidTick(EventTick(symbol, T0, EARNINGS), "ticks", 0, 1))
    ticks += [ValidTick(Trade(symbol, T0 + i * SECOND, 500.0 + 0.01 * (i % 7), 100.0), "ticks", 0, 2 + i)
              for i in range(seconds)]
    return ticks


def run(logic: SymbolLogic, ticks: list[ValidTick]) -> list[object]:
    out: list[object] = []
    for tick in ticks:
        out.extend(logic.on_item(TickBatch(tick.tick.symbol, [tick]))[0])
    return out


def rows(items: list[object]) -> list[FeatureRow]:
    return [item for item in items if type(item) is FeatureRow]


def without_event_ticks(items: list[object]) -> list[object]:
    """``items`` with the events taken out of the admitted batches (a batch of events only dropped)."""
    out: list[object] = []
    for item in items:
        if type(item) is TickBatch:
            ticks = [tick for tick in item.ticks if type(tick.tick) is not EventTick]
            if ticks:
                out.append(TickBatch(item.symbol, ticks))
        else:
            out.append(item)
    return out


def test_no_event_feature_moves_before_the_events_publication_although_it_arrived_earlier() -> None:
    emitted = rows(run(build(), stream()))

    before = [row for row in emitted if row.ts_ns < EARNINGS.public_ts_ns]
    after = [row for row in emitted if row.ts_ns >= EARNINGS.public_ts_ns]
    assert len(before) == 30 and len(after) == 30
    assert all(math.isnan(row.get("earnings_surprise")) for row in before)
    assert all(row.get("earnings_surprise") == pytest.approx(0.045) for row in after)
    assert all(row.feature_set == feature_layout(CONFIG).version + EVENT_FEATURE_SET for row in emitted)


def test_the_rows_carry_the_market_schedule_as_of_their_own_time() -> None:
    emitted = rows(run(build(), stream()))

    assert [row.get("us_seconds_to_next_high_importance") for row in emitted[:3]] == [3600.0, 3599.0, 3598.0]
    assert emitted[0].names[-len(EVENTS.names):] == EVENTS.names


def test_a_market_event_fanned_out_by_the_producer_reaches_every_symbol() -> None:
    plan = plan_event_ticks([FOMC], ["IBM", "SPY"], EVENTS.markets, T0, T0 + 60 * SECOND)
    delivered = [decode_tick(SourceRecord("ticks", 0, 0, key, value), ValidationLimits())
                 for _, key, value in plan.messages]
    assert [tick.tick.symbol for tick in delivered] == ["IBM", "SPY"]  # type: ignore[union-attr]

    for tick in delivered:
        symbol = tick.tick.symbol  # type: ignore[union-attr]
        trades = [item for item in stream(symbol, 5) if type(item.tick) is Trade]
        emitted = rows(run(build(), [tick, *trades]))  # type: ignore[list-item]
        assert [row.get("us_seconds_to_next_high_importance") for row in emitted] == [3600.0, 3599.0, 3598.0,
                                                                                      3597.0, 3596.0], symbol


def test_without_the_setting_events_change_nothing_in_the_rows() -> None:
    ticks = stream()
    without_events = [tick for tick in ticks if type(tick.tick) is not EventTick]

    with_events_in_stream = run(build(events=None), ticks)

    assert comparable(without_event_ticks(with_events_in_stream)) == comparable(run(build(events=None), without_events))
    assert {row.feature_set for row in rows(with_events_in_stream)} == {feature_layout(CONFIG).version}
    assert all("earnings_surprise" not in row.names for row in rows(with_events_in_stream))


@pytest.mark.parametrize("events", [EVENTS, None])
def test_admitted_events_are_reemitted_with_the_admitted_ticks_in_arrival_order(events: EventJoinConfig | None) -> None:
    ticks = stream(seconds=3)

    admitted = [tick for item in run(build(events), ticks) if type(item) is TickBatch for tick in item.ticks]

    assert admitted == ticks  # two events, then three trades: each offset once


def test_an_event_taken_twice_is_a_duplicate_reject_and_is_not_reemitted() -> None:
    ticks = stream(seconds=3)
    again = ValidTick(EventTick("AAPL", T0 + 2 * SECOND, FOMC), "ticks", 0, 0)  # offset 0 read again

    out = run(build(), [*ticks, again])

    admitted = [tick for item in out if type(item) is TickBatch for tick in item.ticks]
    assert admitted == ticks
    assert [(item.reason, item.offset) for item in out if type(item) is Reject] == [("duplicate_offset", 0)]


@pytest.mark.parametrize("cut", [1, 2, 17, 45])
def test_a_restore_mid_stream_continues_identically(cut: int) -> None:
    ticks = stream()
    straight = run(build(), ticks)

    first = build()
    head = run(first, ticks[:cut])
    resumed = build(state=first.snapshot())
    tail = run(resumed, ticks[cut:])

    assert comparable(head + tail) == comparable(straight)


def test_a_snapshot_written_with_events_off_restores_with_them_on_and_then_takes_events() -> None:
    ticks = [tick for tick in stream() if type(tick.tick) is Trade]
    old = build(events=None)
    run(old, ticks[:10])
    snapshot = old.snapshot()

    resumed = build(state=snapshot)
    event = ValidTick(EventTick("AAPL", T0 + 10 * SECOND, FOMC), "ticks", 0, ticks[10].offset)
    emitted = rows(run(resumed, [event, *ticks[11:]]))

    assert emitted[0].ts_ns == T0 + 11 * SECOND
    assert emitted[0].get("us_seconds_to_next_high_importance") == 3589.0
    assert comparable([msgspec.structs.replace(row, names=row.names[:-len(EVENTS.names)], feature_set=row.feature_set[
        :-len(EVENT_FEATURE_SET)], values=row.values[:-len(EVENTS.names)], quality=row.quality[:-len(EVENTS.names)])
        for row in emitted]) == comparable(rows(run(build(events=None, state=snapshot), ticks[11:])))
