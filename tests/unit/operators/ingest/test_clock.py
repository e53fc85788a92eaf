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


def assert_rejects_only(guard: EventTimeGuard, ticks: list[ValidTick], ahead: list[ValidTick]) -> None:
    """Fed ``ticks``, ``guard`` rejects exactly ``ahead`` (``ts_ahead``), releases every other tick in
    order, and its clock ends at the last of them."""
    kept = [tick for tick in ticks if tick not in ahead]
    assert run(guard, ticks) == ([tick.offset for tick in kept], [("ts_ahead", tick.offset) for tick in ahead])
    assert guard.clock_ns == kept[-1].tick.ts_ns


def anchor(guard: EventTimeGuard, tape: Tape, ts_ns: int) -> None:
    """Give ``guard`` a confirmed clock at ``ts_ns`` (three agreeing ticks, the last at ``ts_ns``)."""
    for step in (2, 1, 0):
        guard.admit(tape.trade(ts_ns - step * 100_000_000))
    assert guard.clock_ns == ts_ns and guard.held == ()


@pytest.fixture()
def tape() -> Tape:
    return Tape()


@pytest.fixture()
def guard() -> EventTimeGuard:
    return EventTimeGuard(EventTimeConfig())


@pytest.fixture()
def held_outlier(guard: EventTimeGuard, tape: Tape) -> ValidTick:
    """A tick two hours ahead of ``guard``'s confirmed clock (at ``SESSION_END``), admitted and held."""
    anchor(guard, tape, SESSION_END)
    outlier = tape.trade(SESSION_END + 2 * HOUR)
    assert guard.admit(outlier) == ([], [])
    return outlier


# --- the first ticks of a symbol ---------------------------------------------------------------------------


def test_admit_when_first_ticks_agree_then_holds_them_until_three_and_releases_them_in_order(
    guard: EventTimeGuard, tape: Tape
) -> None:
    first, second, third = tape.trade(SESSION_END), tape.quote(SESSION_END - SECOND), tape.trade(SESSION_END + SECOND)
    assert guard.admit(first) == ([], [])
    assert guard.admit(second) == ([], [])
    assert guard.clock_ns is None and guard.held == (first, second)
    assert guard.admit(third) == ([first, second, third], [])
    assert guard.clock_ns == SESSION_END + SECOND


def test_admit_when_first_tick_is_stamped_2099_then_rejects_only_it_and_admits_every_real_tick(
    guard: EventTimeGuard, tape: Tape
) -> None:
    poison = tape.trade(4_070_908_800 * SECOND)  # 2099-01-01
    real = [tape.trade(SESSION_END + step * 4 * SECOND) for step in range(200)]
    released, rejected = run(guard, [poison, *real])
    assert rejected == [("ts_ahead", poison.offset)]
    assert released == [tick.offset for tick in real]
    assert guard.clock_ns == real[-1].tick.ts_ns


def test_admit_when_real_first_tick_is_followed_by_a_2099_tick_then_rejects_only_the_2099_tick(
    guard: EventTimeGuard, tape: Tape
) -> None:
    real = [tape.trade(SESSION_END + step * SECOND) for step in range(10)]
    poison = tape.trade(4_070_908_800 * SECOND)
    released, rejected = run(guard, [real[0], poison, *real[1:]])
    assert rejected == [("ts_ahead", poison.offset)]
    assert released == [tick.offset for tick in real]


def test_admit_when_first_tick_is_contradicted_then_its_reject_names_the_contradicting_tick(
    guard: EventTimeGuard, tape: Tape
) -> None:
    stray = tape.trade(SESSION_END + 30 * MINUTE)
    guard.admit(stray)
    refuting = tape.trade(SESSION_END)
    released, [reject] = guard.admit(refuting)
    assert released == []
    assert (reject.reason, reject.stage, reject.offset, reject.ts_ns) == ("ts_ahead", "clock", stray.offset,
                                                                         stray.tick.ts_ns)
    assert "a first event time" in reject.detail and f"offset {refuting.offset}" in reject.detail
    assert guard.held == (refuting,)


def test_flush_when_fewer_ticks_than_confirmations_then_releases_them(guard: EventTimeGuard, tape: Tape) -> None:
    only = [tape.trade(SESSION_END), tape.trade(SESSION_END + SECOND)]
    assert run(guard, only) == ([tick.offset for tick in only], [])
    assert guard.clock_ns == SESSION_END + SECOND


# --- around the clock --------------------------------------------------------------------------------------


def test_admit_when_ticks_move_forward_then_releases_all_and_clock_is_the_max(
    guard: EventTimeGuard, tape: Tape
) -> None:
    ticks = [tape.trade(SESSION_END + step * 250_000_000) for step in range(5)]
    assert run(guard, ticks) == ([tick.offset for tick in ticks], [])
    assert guard.clock_ns == SESSION_END + 1 * SECOND


def test_admit_when_tick_is_slightly_out_of_order_then_releases_it_without_moving_the_clock_back(
    guard: EventTimeGuard, tape: Tape
) -> None:
    anchor(guard, tape, SESSION_END)
    released, rejected = guard.admit(tape.quote(SESSION_END - SECOND))
    assert (len(released), rejected) == (1, [])
    assert guard.clock_ns == SESSION_END


def test_admit_when_tick_is_later_than_tolerance_then_rejects_ts_late(guard: EventTimeGuard, tape: Tape) -> None:
    anchor(guard, tape, SESSION_END)
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
    anchor(guard, tape, SESSION_END)
    assert len(guard.admit(tape.trade(SESSION_END - 2 * SECOND))[0]) == 1


# --- jumps: real gaps and ticks stamped in the future -------------------------------------------------------


def test_admit_when_overnight_session_gap_then_loses_no_tick(guard: EventTimeGuard, tape: Tape) -> None:
    evening = [tape.trade(SESSION_END + step * 7 * SECOND) for step in range(8)]
    morning = [tape.quote(NEXT_SESSION_START + step * 120_000_000) for step in range(8)]
    assert_rejects_only(guard, evening + morning, ahead=[])


def test_admit_when_gap_is_confirmed_by_three_ticks_then_releases_them_in_order(
    guard: EventTimeGuard, tape: Tape
) -> None:
    anchor(guard, tape, SESSION_END)
    morning = [tape.trade(NEXT_SESSION_START + step * SECOND) for step in range(3)]
    assert guard.admit(morning[0]) == ([], [])
    assert guard.admit(morning[1]) == ([], [])
    assert guard.held == tuple(morning[:2]) and guard.clock_ns == SESSION_END
    assert guard.admit(morning[2]) == (morning, [])
    assert guard.held == () and guard.clock_ns == morning[2].tick.ts_ns


def test_admit_when_confirming_tick_is_slightly_behind_the_held_ones_then_all_pass(
    guard: EventTimeGuard, tape: Tape
) -> None:
    anchor(guard, tape, SESSION_END)
    guard.admit(tape.trade(NEXT_SESSION_START))
    guard.admit(tape.trade(NEXT_SESSION_START + SECOND))
    released, rejected = guard.admit(tape.trade(NEXT_SESSION_START - SECOND))
    assert (len(released), rejected) == (3, [])
    assert guard.clock_ns == NEXT_SESSION_START + SECOND


def test_admit_when_weekend_gap_of_64_hours_then_loses_no_tick(guard: EventTimeGuard, tape: Tape) -> None:
    friday = [tape.trade(SESSION_END + step * SECOND) for step in range(3)]
    monday = [tape.trade(SESSION_END + 64 * HOUR + step * SECOND) for step in range(3)]
    assert_rejects_only(guard, friday + monday, ahead=[])


def test_admit_when_two_ticks_two_hours_ahead_then_rejects_only_them_and_keeps_the_real_ticks(
    guard: EventTimeGuard, tape: Tape
) -> None:
    before = [tape.trade(SESSION_END + step * SECOND) for step in range(5)]
    ahead = [tape.trade(SESSION_END + 2 * HOUR + step * SECOND) for step in range(2)]
    after = [tape.trade(SESSION_END + (5 + step) * SECOND) for step in range(4_400)]
    assert_rejects_only(guard, [*before, *ahead, *after], ahead)


@pytest.mark.parametrize("confirmations", [2, 3, 5])
def test_admit_when_jump_has_one_tick_less_than_confirmations_then_it_is_refuted(
    confirmations: int, tape: Tape
) -> None:
    guard = EventTimeGuard(EventTimeConfig(confirmations=confirmations))
    anchor_ticks = [tape.trade(SESSION_END + step) for step in range(confirmations)]
    ahead = [tape.trade(SESSION_END + 2 * HOUR + step * SECOND) for step in range(confirmations - 1)]
    real = tape.trade(SESSION_END + SECOND)
    assert_rejects_only(guard, [*anchor_ticks, *ahead, real], ahead)


def test_admit_when_held_ticks_repeat_one_source_position_then_the_repeat_confirms_nothing(
    guard: EventTimeGuard, tape: Tape, held_outlier: ValidTick
) -> None:
    guard.admit(tape.trade(SESSION_END + 2 * HOUR + SECOND))
    released, rejected = guard.admit(held_outlier)  # the same record delivered again
    assert released == []
    assert guard.clock_ns == SESSION_END
    assert len(guard.held) <= 2


def test_admit_when_single_tick_is_stamped_an_hour_ahead_then_rejects_it_and_keeps_its_neighbours(
    guard: EventTimeGuard, tape: Tape
) -> None:
    before = [tape.trade(SESSION_END - 10 * SECOND + step * SECOND) for step in range(5)]
    outlier = tape.trade(SESSION_END + HOUR + MINUTE)
    after = [tape.trade(SESSION_END - 5 * SECOND + step * SECOND) for step in range(5)]
    assert_rejects_only(guard, [*before, outlier, *after], [outlier])


def test_admit_when_outlier_is_refuted_then_reject_precedes_the_refuting_tick_release(
    guard: EventTimeGuard, tape: Tape, held_outlier: ValidTick
) -> None:
    outlier = held_outlier
    next_tick = tape.trade(SESSION_END + SECOND)
    released, rejected = guard.admit(next_tick)
    assert released == [next_tick]
    [reject] = rejected
    assert (reject.reason, reject.stage, reject.offset) == ("ts_ahead", "clock", outlier.offset)
    assert reject.ts_ns == outlier.tick.ts_ns
    assert reject.detail.startswith("clock: ") and str(outlier.tick.ts_ns) in reject.detail
    assert "3 agreeing ticks" in reject.detail


def test_admit_when_refuting_tick_is_late_against_old_clock_then_rejects_both(
    guard: EventTimeGuard, tape: Tape, held_outlier: ValidTick
) -> None:
    late = tape.trade(SESSION_END - MINUTE)
    assert [(reject.reason, reject.offset) for reject in guard.admit(late)[1]] == [
        ("ts_ahead", held_outlier.offset),
        ("ts_late", late.offset),
    ]


def test_admit_when_second_far_ahead_tick_is_not_near_the_held_one_then_rejects_older_and_holds_newer(
    guard: EventTimeGuard, tape: Tape
) -> None:
    anchor(guard, tape, SESSION_END)
    first = tape.trade(SESSION_END + 30 * HOUR)
    second = tape.trade(SESSION_END + 8 * HOUR)
    guard.admit(first)
    released, rejected = guard.admit(second)
    assert released == []
    assert [(reject.reason, reject.offset) for reject in rejected] == [("ts_ahead", first.offset)]
    assert guard.held == (second,)
    assert guard.clock_ns == SESSION_END


def test_flush_when_ticks_are_held_then_releases_them_and_moves_the_clock(
    guard: EventTimeGuard, tape: Tape
) -> None:
    anchor(guard, tape, SESSION_END)
    last = tape.trade(NEXT_SESSION_START)
    guard.admit(last)
    assert guard.flush() == ([last], [])
    assert guard.clock_ns == NEXT_SESSION_START
    assert guard.flush() == ([], [])


def test_flush_when_nothing_is_held_then_returns_nothing(guard: EventTimeGuard) -> None:
    assert guard.flush() == ([], [])


# --- a captured clock heals --------------------------------------------------------------------------------


def captured(tape: Tape, reset_after: int = 20) -> EventTimeGuard:
    """A guard whose clock three agreeing ticks moved two hours ahead of the real feed."""
    guard = EventTimeGuard(EventTimeConfig(reset_after=reset_after))
    anchor(guard, tape, SESSION_END)
    for step in range(3):
        guard.admit(tape.trade(SESSION_END + 2 * HOUR + step))
    assert guard.clock_ns == SESSION_END + 2 * HOUR + 2
    return guard


def test_admit_when_clock_is_captured_then_symbol_rejoins_after_reset_after_late_ticks(tape: Tape) -> None:
    guard = captured(tape)
    real = [tape.trade(SESSION_END + (1 + step) * SECOND) for step in range(100)]
    released, rejected = run(guard, real)
    assert rejected == [("ts_late", tick.offset) for tick in real[:19]] + [("clock_reset", real[19].offset)]
    assert released == [tick.offset for tick in real[20:]]
    assert guard.clock_ns == real[-1].tick.ts_ns


def test_admit_when_clock_resets_then_its_reject_says_from_where_to_where(tape: Tape) -> None:
    guard = captured(tape, reset_after=2)
    guard.admit(tape.trade(SESSION_END + SECOND))
    [reject] = guard.admit(tape.trade(SESSION_END + 2 * SECOND))[1]
    assert (reject.reason, reject.stage) == ("clock_reset", "clock")
    assert f"reset from {SESSION_END + 2 * HOUR + 2} to {SESSION_END + 2 * SECOND}" in reject.detail
    assert guard.clock_ns == SESSION_END + 2 * SECOND


def test_admit_when_late_ticks_do_not_agree_with_each_other_then_the_streak_starts_again(tape: Tape) -> None:
    guard = captured(tape, reset_after=3)
    scattered = [SESSION_END, SESSION_END - 10 * MINUTE, SESSION_END - 20 * MINUTE, SESSION_END - 30 * MINUTE]
    _, rejected = run(guard, [tape.trade(ts_ns) for ts_ns in scattered])
    assert [reason for reason, _ in rejected] == ["ts_late"] * 4


def test_admit_when_released_tick_interrupts_late_ticks_then_clock_does_not_reset(tape: Tape) -> None:
    guard = EventTimeGuard(EventTimeConfig(reset_after=3))
    anchor(guard, tape, SESSION_END)
    stream = []
    for step in range(10):
        stream.append(tape.trade(SESSION_END - MINUTE + step))  # a late tick ...
        stream.append(tape.trade(SESSION_END + step))  # ... and a real one between each
    _, rejected = run(guard, stream)
    assert {reason for reason, _ in rejected} == {"ts_late"}
    assert guard.clock_ns == SESSION_END + 9


def test_guard_when_pickled_with_held_ticks_and_late_streak_then_resumes_identically(
    guard: EventTimeGuard, tape: Tape
) -> None:
    anchor(guard, tape, SESSION_END)
    guard.admit(tape.trade(SESSION_END - MINUTE))
    guard.admit(tape.trade(NEXT_SESSION_START))
    restored = pickle.loads(pickle.dumps(guard))
    for follow_up in [tape.trade(NEXT_SESSION_START + SECOND), tape.trade(NEXT_SESSION_START + 2 * SECOND)]:
        assert restored.admit(follow_up) == guard.admit(follow_up)
    assert restored.clock_ns == guard.clock_ns == NEXT_SESSION_START + 2 * SECOND
    assert len(pickle.dumps(restored)) < 1_200


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"ahead_tolerance_ns": 0}, "ahead_tolerance_ns"),
        ({"ahead_tolerance_ns": 1.5e12}, "ahead_tolerance_ns"),
        ({"late_tolerance_ns": -1}, "late_tolerance_ns"),
        ({"late_tolerance_ns": True}, "late_tolerance_ns"),
        ({"confirmations": 0}, "confirmations"),
        ({"confirmations": 2.0}, "confirmations"),
        ({"reset_after": 1}, "reset_after"),
        ({"reset_after": None}, "reset_after"),
    ],
)
def test_event_time_config_when_value_is_bad_then_raises_naming_it(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        EventTimeConfig(**overrides)  # type: ignore[arg-type]


def test_event_time_config_defaults_are_one_hour_ahead_two_seconds_late_three_confirmations_reset_after_20() -> None:
    assert EventTimeConfig() == EventTimeConfig(ahead_tolerance_ns=HOUR, late_tolerance_ns=2 * SECOND,
                                                confirmations=3, reset_after=20)


@given(st.lists(st.integers(min_value=-3 * HOUR, max_value=3 * HOUR) | st.integers(-5 * SECOND, 5 * SECOND),
                max_size=60),
       st.integers(min_value=1, max_value=4), st.integers(min_value=2, max_value=5))
def test_every_tick_comes_out_exactly_once_held_state_is_bounded_and_only_a_reset_moves_the_clock_back(
    steps: list[int], confirmations: int, reset_after: int,
) -> None:
    tape = Tape()
    guard = EventTimeGuard(EventTimeConfig(confirmations=confirmations, reset_after=reset_after))
    ts_ns = SESSION_END
    ticks = []
    for step in steps:
        ts_ns += step
        ticks.append(tape.trade(ts_ns))
    released: list[ValidTick] = []
    rejected: list[Reject] = []
    clock = None
    for tick in [*ticks, None]:
        out, rejects = guard.admit(tick) if tick is not None else guard.flush()
        assert len(guard.held) <= 2 * (confirmations - 1)
        if any(reject.reason == "clock_reset" for reject in rejects):
            clock = None
        for item in out:
            if clock is not None:
                assert item.tick.ts_ns >= clock - 2 * SECOND
            clock = item.tick.ts_ns if clock is None else max(clock, item.tick.ts_ns)
        released += out
        rejected += rejects
    assert sorted([t.offset for t in released] + [r.offset for r in rejected]) == [t.offset for t in ticks]
    assert {reject.reason for reject in rejected} <= {"ts_ahead", "ts_late", "clock_reset"}
