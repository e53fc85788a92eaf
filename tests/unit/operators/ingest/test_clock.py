"""Specifications of ``operators.ingest.clock.EventTimeGuard``."""

from __future__ import annotations

import pickle

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from operators.ingest.clock import EventTimeConfig, EventTimeGuard
from operators.messages import Quote, Reject, Trade, ValidTick

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
# 2013-10-07 19:59:00 ET (23:59:00 UTC), the last minute of the extended session on the real tape
SESSION_END = 1_381_190_340 * SECOND
# 2013-10-08 04:00:00 ET (08:00:00 UTC), the first pre-market minute of the next day
NEXT_SESSION_START = 1_381_219_200 * SECOND


class Tape:
    """Builds IBM ticks with increasing Kafka offsets, like one partition of ``ticks``."""

    def __init__(self) -> None:
        self.offset = 100

    def trade(self, ts_ns: int, price: float = 185.17) -> ValidTick:
        self.offset += 1
        return ValidTick(Trade("IBM", ts_ns, price, 100.0), "ticks", 3, self.offset)

    def quote(self, ts_ns: int) -> ValidTick:
        self.offset += 1
        return ValidTick(Quote("IBM", ts_ns, 185.15, 185.18, 300.0, 500.0), "ticks", 3, self.offset)


def run(guard: EventTimeGuard, ticks: list[ValidTick]) -> tuple[list[int], list[tuple[str, int]]]:
    """Admit every tick, flush, and return released offsets and (reason, offset) of rejects."""
    released: list[int] = []
    rejected: list[tuple[str, int]] = []
    for tick in ticks:
        out, rejects = guard.admit(tick)
        released += [item.offset for item in out]
        rejected += [(reject.reason, reject.offset) for reject in rejects]
    out, rejects = guard.flush()
    released += [item.offset for item in out]
    rejected += [(reject.reason, reject.offset) for reject in rejects]
    return released, rejected


@pytest.fixture()
def tape() -> Tape:
    return Tape()


@pytest.fixture()
def guard() -> EventTimeGuard:
    return EventTimeGuard(EventTimeConfig())


def test_admit_when_first_tick_then_releases_it_and_sets_the_clock(guard: EventTimeGuard, tape: Tape) -> None:
    tick = tape.trade(SESSION_END)
    assert guard.admit(tick) == ([tick], [])
    assert guard.clock_ns == SESSION_END


def test_admit_when_ticks_move_forward_then_releases_all_and_clock_is_the_max(
    guard: EventTimeGuard, tape: Tape
) -> None:
    ticks = [tape.trade(SESSION_END + step * 250_000_000) for step in range(5)]
    assert run(guard, ticks) == ([tick.offset for tick in ticks], [])
    assert guard.clock_ns == SESSION_END + 1 * SECOND


def test_admit_when_tick_is_slightly_out_of_order_then_releases_it_without_moving_the_clock_back(
    guard: EventTimeGuard, tape: Tape
) -> None:
    guard.admit(tape.trade(SESSION_END))
    released, rejected = guard.admit(tape.quote(SESSION_END - SECOND))
    assert (len(released), rejected) == (1, [])
    assert guard.clock_ns == SESSION_END


def test_admit_when_tick_is_later_than_tolerance_then_rejects_ts_late(guard: EventTimeGuard, tape: Tape) -> None:
    guard.admit(tape.trade(SESSION_END))
    late = tape.trade(SESSION_END - 2 * SECOND - 1)
    released, rejected = guard.admit(late)
    assert released == []
    [reject] = rejected
    assert (reject.reason, reject.stage, reject.offset, reject.partition) == ("ts_late", "clock", late.offset, 3)
    assert (reject.symbol, reject.ts_ns) == ("IBM", late.tick.ts_ns)
    assert msgspec.json.decode(reject.raw, type=Trade) == late.tick
    assert "2000000001 ns behind" in reject.detail
    assert guard.clock_ns == SESSION_END


def test_admit_when_tick_is_exactly_at_late_tolerance_then_releases_it(guard: EventTimeGuard, tape: Tape) -> None:
    guard.admit(tape.trade(SESSION_END))
    assert len(guard.admit(tape.trade(SESSION_END - 2 * SECOND))[0]) == 1


def test_admit_when_overnight_session_gap_then_loses_no_tick(guard: EventTimeGuard, tape: Tape) -> None:
    evening = [tape.trade(SESSION_END + step * 7 * SECOND) for step in range(8)]
    morning = [tape.quote(NEXT_SESSION_START + step * 120_000_000) for step in range(8)]
    released, rejected = run(guard, evening + morning)
    assert rejected == []
    assert released == [tick.offset for tick in evening + morning]
    assert guard.clock_ns == morning[-1].tick.ts_ns


def test_admit_when_gap_is_confirmed_then_releases_pending_before_the_confirming_tick(
    guard: EventTimeGuard, tape: Tape
) -> None:
    guard.admit(tape.trade(SESSION_END))
    first_morning = tape.trade(NEXT_SESSION_START)
    assert guard.admit(first_morning) == ([], [])
    assert guard.pending == first_morning
    second_morning = tape.trade(NEXT_SESSION_START + 3 * SECOND)
    assert guard.admit(second_morning) == ([first_morning, second_morning], [])
    assert guard.pending is None


def test_admit_when_confirming_tick_is_slightly_behind_pending_then_both_pass(
    guard: EventTimeGuard, tape: Tape
) -> None:
    guard.admit(tape.trade(SESSION_END))
    guard.admit(tape.trade(NEXT_SESSION_START))
    released, rejected = guard.admit(tape.trade(NEXT_SESSION_START - SECOND))
    assert (len(released), rejected) == (2, [])
    assert guard.clock_ns == NEXT_SESSION_START


def test_admit_when_weekend_gap_of_64_hours_then_loses_no_tick(guard: EventTimeGuard, tape: Tape) -> None:
    friday = [tape.trade(SESSION_END + step * SECOND) for step in range(3)]
    monday = [tape.trade(SESSION_END + 64 * HOUR + step * SECOND) for step in range(3)]
    assert run(guard, friday + monday) == ([tick.offset for tick in friday + monday], [])


def test_admit_when_single_tick_is_stamped_an_hour_ahead_then_rejects_it_and_keeps_its_neighbours(
    guard: EventTimeGuard, tape: Tape
) -> None:
    before = [tape.trade(SESSION_END - 10 * SECOND + step * SECOND) for step in range(5)]
    outlier = tape.trade(SESSION_END + HOUR + MINUTE)
    after = [tape.trade(SESSION_END - 5 * SECOND + step * SECOND) for step in range(5)]
    released, rejected = run(guard, [*before, outlier, *after])
    assert rejected == [("ts_ahead", outlier.offset)]
    assert released == [tick.offset for tick in before + after]
    assert guard.clock_ns == after[-1].tick.ts_ns


def test_admit_when_outlier_is_refuted_then_reject_precedes_the_refuting_tick_release(
    guard: EventTimeGuard, tape: Tape
) -> None:
    guard.admit(tape.trade(SESSION_END))
    outlier = tape.trade(SESSION_END + 2 * HOUR)
    guard.admit(outlier)
    next_tick = tape.trade(SESSION_END + SECOND)
    released, rejected = guard.admit(next_tick)
    assert released == [next_tick]
    [reject] = rejected
    assert (reject.reason, reject.stage, reject.offset) == ("ts_ahead", "clock", outlier.offset)
    assert reject.ts_ns == outlier.tick.ts_ns
    assert reject.detail.startswith("clock: ") and str(outlier.tick.ts_ns) in reject.detail


def test_admit_when_refuting_tick_is_late_against_old_clock_then_rejects_both(
    guard: EventTimeGuard, tape: Tape
) -> None:
    guard.admit(tape.trade(SESSION_END))
    outlier = tape.trade(SESSION_END + 2 * HOUR)
    guard.admit(outlier)
    late = tape.trade(SESSION_END - MINUTE)
    assert [(reject.reason, reject.offset) for reject in guard.admit(late)[1]] == [
        ("ts_ahead", outlier.offset),
        ("ts_late", late.offset),
    ]


def test_admit_when_second_far_ahead_tick_is_not_near_pending_then_rejects_older_and_holds_newer(
    guard: EventTimeGuard, tape: Tape
) -> None:
    guard.admit(tape.trade(SESSION_END))
    first = tape.trade(SESSION_END + 30 * HOUR)
    second = tape.trade(SESSION_END + 8 * HOUR)
    guard.admit(first)
    released, rejected = guard.admit(second)
    assert released == []
    assert [(reject.reason, reject.offset) for reject in rejected] == [("ts_ahead", first.offset)]
    assert guard.pending == second
    assert guard.clock_ns == SESSION_END


def test_admit_when_second_far_ahead_tick_is_far_past_pending_then_newer_becomes_pending(
    guard: EventTimeGuard, tape: Tape
) -> None:
    guard.admit(tape.trade(SESSION_END))
    guard.admit(tape.trade(SESSION_END + 8 * HOUR))
    newest = tape.trade(SESSION_END + 30 * HOUR)
    assert [reject.reason for reject in guard.admit(newest)[1]] == ["ts_ahead"]
    assert guard.pending == newest


def test_flush_when_a_tick_is_pending_then_releases_it_and_moves_the_clock(
    guard: EventTimeGuard, tape: Tape
) -> None:
    guard.admit(tape.trade(SESSION_END))
    last = tape.trade(NEXT_SESSION_START)
    guard.admit(last)
    assert guard.flush() == ([last], [])
    assert guard.clock_ns == NEXT_SESSION_START
    assert guard.flush() == ([], [])


def test_flush_when_nothing_is_pending_then_returns_nothing(guard: EventTimeGuard) -> None:
    assert guard.flush() == ([], [])


def test_guard_when_pickled_with_pending_tick_then_resumes_identically(guard: EventTimeGuard, tape: Tape) -> None:
    guard.admit(tape.trade(SESSION_END))
    guard.admit(tape.trade(NEXT_SESSION_START))
    restored = pickle.loads(pickle.dumps(guard))
    follow_up = tape.trade(NEXT_SESSION_START + SECOND)
    assert restored.admit(follow_up) == guard.admit(follow_up)
    assert restored.clock_ns == guard.clock_ns
    assert len(pickle.dumps(restored)) < 600


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"ahead_tolerance_ns": 0}, "ahead_tolerance_ns"),
        ({"ahead_tolerance_ns": 1.5e12}, "ahead_tolerance_ns"),
        ({"late_tolerance_ns": -1}, "late_tolerance_ns"),
        ({"late_tolerance_ns": True}, "late_tolerance_ns"),
    ],
)
def test_event_time_config_when_value_is_bad_then_raises_naming_it(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        EventTimeConfig(**overrides)  # type: ignore[arg-type]


def test_event_time_config_defaults_are_one_hour_ahead_and_two_seconds_late() -> None:
    assert EventTimeConfig() == EventTimeConfig(ahead_tolerance_ns=HOUR, late_tolerance_ns=2 * SECOND)


@given(st.lists(st.integers(min_value=-3 * HOUR, max_value=3 * HOUR), max_size=60))
def test_every_admitted_tick_comes_out_exactly_once_and_released_ticks_respect_late_tolerance(
    steps: list[int],
) -> None:
    tape = Tape()
    guard = EventTimeGuard(EventTimeConfig())
    ts_ns = SESSION_END
    ticks = []
    for step in steps:
        ts_ns += step
        ticks.append(tape.trade(ts_ns))
    released: list[ValidTick] = []
    rejected: list[Reject] = []
    for tick in ticks:
        out, rejects = guard.admit(tick)
        released += out
        rejected += rejects
        assert guard.pending is None or guard.pending.offset == tick.offset
    out, rejects = guard.flush()
    released += out
    rejected += rejects
    assert sorted([t.offset for t in released] + [r.offset for r in rejected]) == [t.offset for t in ticks]
    clock = None
    for tick in released:
        if clock is not None:
            assert tick.tick.ts_ns >= clock - 2 * SECOND
        clock = tick.tick.ts_ns if clock is None else max(clock, tick.tick.ts_ns)
