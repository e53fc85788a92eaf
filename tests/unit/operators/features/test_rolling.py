"""The flat rolling buffers: same sums as the plain definitions, bounded, and exact across a pickle."""

from __future__ import annotations

import math
import pickle
import random

import pytest

from operators.features.rolling import EventTimeSum, EventTimeSums, EventTimeWindows, RollingSums
from tests.unit.operators.features.round_trip import assert_restored_copy_continues

SECOND = 1_000_000_000
WINDOWS_NS = (SECOND, 10 * SECOND, 60 * SECOND)


def _events(count: int, seed: int) -> list[tuple[int, float, float]]:
    """Bursts and gaps (so windows fill, drain and empty), with a NaN now and then."""
    rng = random.Random(seed)
    ts, events = 0, []
    for index in range(count):
        ts += int(rng.expovariate(1.0 / (20 * SECOND if index % 500 < 5 else SECOND // 20)))
        first = math.nan if index % 997 == 13 else rng.uniform(-500.0, 500.0)
        events.append((ts, first, rng.uniform(0.0, 300.0)))
    return events


def test_event_time_windows_match_one_event_time_sums_per_window_to_the_bit() -> None:
    shared = EventTimeWindows(WINDOWS_NS)
    singles = [EventTimeSums(window_ns) for window_ns in WINDOWS_NS]
    for index, (ts, first, second) in enumerate(_events(20_000, seed=3)):
        shared.add(ts, first, second)
        for single in singles:
            single.add(ts, first, second)
        if index % 3 == 0:  # advanced now and then, as the features read them
            shared.advance(ts)
            for number, single in enumerate(singles):
                single.advance(ts)
                got = (shared.count(number), shared.first(number), shared.second(number))
                assert repr(got) == repr((len(single), single.first, single.second))
                assert list(shared.times(number)) == list(single.times)


def test_event_time_sum_matches_the_first_sum_of_event_time_sums_to_the_bit() -> None:
    one, two = EventTimeSum(10 * SECOND), EventTimeSums(10 * SECOND)
    for index, (ts, first, second) in enumerate(_events(20_000, seed=13)):
        one.add(ts, first)
        two.add(ts, first, second)
        if index % 3 == 0:
            one.advance(ts)
            two.advance(ts)
            assert repr((len(one), one.total)) == repr((len(two), two.first))
            assert one.times == two.times


def _leaving_out_the_first_event() -> EventTimeWindows:
    """Windows of 1, 10 and 60 s that leave out the stream's first event, then one of 60 s that keeps it."""
    return EventTimeWindows((*WINDOWS_NS, 60 * SECOND))


def test_windows_that_leave_out_the_first_event_match_sums_started_after_it_to_the_bit() -> None:
    events = _events(20_000, seed=7)
    shared = _leaving_out_the_first_event()
    shared.add(*events[0])
    for number in range(len(WINDOWS_NS)):
        shared.leave_out_newest(number)
    singles = [EventTimeSums(window_ns) for window_ns in WINDOWS_NS]
    whole = EventTimeSums(60 * SECOND)
    whole.add(*events[0])
    for index, (ts, first, second) in enumerate(events[1:]):
        shared.add(ts, first, second)
        for single in (*singles, whole):
            single.add(ts, first, second)
        if index % 3 == 0:
            shared.advance(ts)
            for number, single in enumerate((*singles, whole)):
                single.advance(ts)
                got = (shared.count(number), shared.first(number), shared.second(number))
                assert repr(got) == repr((len(single), single.first, single.second))
                assert list(shared.times(number)) == list(single.times)


def test_only_a_window_whose_one_event_is_the_newest_can_leave_it_out() -> None:
    windows = _leaving_out_the_first_event()
    windows.add(1, 2.0, 3.0)
    windows.add(2, 2.0, 3.0)
    with pytest.raises(ValueError, match="window 0 holds 2 events"):
        windows.leave_out_newest(0)
    assert (windows.count(0), windows.first(0)) == (2, 4.0)


def test_advancing_again_to_the_same_time_drops_what_was_added_since_and_is_otherwise_a_no_op() -> None:
    windows = EventTimeWindows((10, 100))
    windows.add(1, 3.0, 1.0)
    windows.advance(20)
    windows.advance(20)
    assert (windows.count(0), windows.count(1), windows.first(1)) == (0, 1, 3.0)
    windows.add(5, 4.0, 1.0)  # at or before 20 - 10: the 10 ns window drops it at the next advance
    windows.advance(20)
    assert (windows.count(0), windows.first(0), windows.count(1), windows.first(1)) == (0, 0.0, 2, 7.0)


def test_event_time_windows_keep_their_buffers_bounded_by_the_longest_window() -> None:
    windows = EventTimeWindows(WINDOWS_NS)
    events = _events(20_000, seed=5)
    most = 0
    for ts, first, second in events:
        windows.add(ts, first, second)
        windows.advance(ts)
        most = max(most, windows.count(2))
    assert len(windows._times) <= most + max(16, most // 2)


def _left_out_first() -> EventTimeWindows:
    windows = _leaving_out_the_first_event()
    windows.add(0, 5.0, 2.0)
    windows.leave_out_newest(0)
    return windows


@pytest.mark.parametrize("make", [lambda: EventTimeSum(10 * SECOND), lambda: EventTimeSums(10 * SECOND),
                                  lambda: EventTimeWindows(WINDOWS_NS), _left_out_first],
                         ids=["EventTimeSum", "EventTimeSums", "EventTimeWindows", "EventTimeWindows_left_out_first"])
def test_event_time_buffers_restored_from_a_pickle_continue_to_the_bit(make) -> None:
    events = _events(6_000, seed=11)
    original = make()
    values = 1 if isinstance(original, EventTimeSum) else 2
    for ts, first, second in events[:3_000]:
        original.add(ts, *(first, second)[:values])
        original.advance(ts)
    restored = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
    assert all(type(value) in (tuple, bytes, int, float) for value in original.__getstate__())
    for ts, first, second in events[3_000:]:
        for window in (original, restored):
            window.add(ts, *(first, second)[:values])
            window.advance(ts)
        assert pickle.dumps(restored) == pickle.dumps(original)


def test_rolling_sums_restored_from_a_pickle_continue_to_the_bit() -> None:
    rng = random.Random(2)
    rows = [(rng.uniform(-1.0, 1.0), rng.uniform(0.0, 1e6), rng.uniform(-1e-3, 1e-3)) for _ in range(500)]
    assert_restored_copy_continues(RollingSums(window=30, columns=3), rows, 47,
                                   lambda sums: [sums.total(c) for c in range(3)])


def test_rolling_sums_equal_the_sums_of_the_last_rows_within_float_noise() -> None:
    rng = random.Random(4)
    rows = [(rng.uniform(-1.0, 1.0), rng.uniform(0.0, 1e3)) for _ in range(200)]
    sums = RollingSums(window=7, columns=2)
    for end, row in enumerate(rows, start=1):
        sums.update(*row)
        last = rows[max(0, end - 7):end]
        assert sums.count == len(last)
        for column in range(2):
            assert sums.total(column) == pytest.approx(math.fsum(r[column] for r in last), rel=1e-9, abs=1e-9)
