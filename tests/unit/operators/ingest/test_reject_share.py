"""Specifications of one symbol's reject share over its latest ticks."""

from __future__ import annotations

import pickle

import pytest

from operators.ingest.reject_share import RejectShare, RejectShareConfig


def test_reject_share_when_window_not_full_then_never_crosses_even_at_100_percent() -> None:
    share = RejectShare(RejectShareConfig(threshold=0.5, window=10))

    assert [share.record(True) for _ in range(9)] == [None] * 9
    assert not share.over and share.share == 1.0


def test_reject_share_when_share_passes_threshold_then_crosses_up_once_and_down_at_half_of_it() -> None:
    share = RejectShare(RejectShareConfig(threshold=0.5, window=10))
    share.record(False, 4)

    ups = [share.record(True) for _ in range(20)]
    assert ups.count(1) == 1 and ups.count(-1) == 0 and share.over
    # From 10 of 10 rejected: 0.4 is still above half the threshold, 0.2 is not.
    downs = [share.record(False) for _ in range(10)]
    assert downs.index(-1) == 7 and downs.count(-1) == 1 and not share.over


def test_reject_share_when_many_outcomes_recorded_at_once_then_same_state_as_one_by_one() -> None:
    config = RejectShareConfig(threshold=0.3, window=7)
    batched, single = RejectShare(config), RejectShare(config)
    pattern = [(True, 3), (False, 20), (True, 9), (False, 2), (True, 1), (False, 30)]

    batched_crossings = [batched.record(rejected, count) for rejected, count in pattern]
    single_over = []
    for rejected, count in pattern:
        for _ in range(count):
            single.record(rejected)
        single_over.append(single.over)

    # (3 rejected, then 20 admitted: over for one outcome when the window fills, under again at the end.)
    assert batched_crossings == [None, None, 1, None, None, -1]
    assert single_over == [False, False, True, True, True, False]
    assert pickle.dumps(batched) == pickle.dumps(single)


def test_reject_share_state_is_the_window_whatever_the_number_of_ticks() -> None:
    share = RejectShare(RejectShareConfig(window=200))
    small = len(pickle.dumps(share))
    share.record(True, 1_000_000)

    assert len(pickle.dumps(share)) <= small + 16
    restored = pickle.loads(pickle.dumps(share))
    assert restored.over and restored.share == 1.0 and restored.record(True) is None


@pytest.mark.parametrize(("threshold", "window"), [(0, 10), (1.01, 10), (0.5, 0), (0.5, 2_000_000), ("0.5", 10)])
def test_reject_share_config_when_out_of_range_then_names_the_value(threshold: object, window: object) -> None:
    with pytest.raises(ValueError, match="RejectShareConfig"):
        RejectShareConfig(threshold=threshold, window=window)  # type: ignore[arg-type]
