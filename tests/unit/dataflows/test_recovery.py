"""Specifications of recovery on by default: the default directory, starting over, what a snapshot covers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import pytest
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.recovery import RecoveryConfig
from bytewax.testing import TestingSink, run_main

from dataflows.recovery import (RecoveryDirError, _pickled_integer, check_source_topic, default_recovery_dir,
                                durable_positions, set_aside)
from dataflows.runner import init_recovery_dir


def test_default_recovery_dir_when_state_dir_given_then_under_it(tmp_path: Path) -> None:
    assert default_recovery_dir(tmp_path / "state") == tmp_path / "state" / "recovery"


def test_set_aside_when_recovery_dir_is_ours_then_moved_with_everything_in_it(tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"
    init_recovery_dir(recovery, 2)
    check_source_topic(recovery, "ticks")
    names = sorted(path.name for path in recovery.iterdir())

    moved = set_aside(recovery, "20240101T000000")

    assert moved == tmp_path / "recovery.replaced-20240101T000000"
    assert not recovery.exists() and sorted(path.name for path in moved.iterdir()) == names


def test_set_aside_when_same_suffix_twice_then_second_gets_a_number(tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"
    for _ in range(2):
        init_recovery_dir(recovery, 1)
        last = set_aside(recovery, "x")

    assert last == tmp_path / "recovery.replaced-x-2" and (tmp_path / "recovery.replaced-x").is_dir()


@pytest.mark.parametrize("exists", [False, True])
def test_set_aside_when_missing_or_empty_then_nothing_moved(tmp_path: Path, exists: bool) -> None:
    recovery = tmp_path / "recovery"
    if exists:
        recovery.mkdir()

    assert set_aside(recovery, "x") is None
    assert recovery.exists() == exists


def test_set_aside_when_a_foreign_file_is_inside_then_refused_and_left_alone(tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"
    init_recovery_dir(recovery, 1)
    (recovery / "thesis.tex").write_text("mine")

    with pytest.raises(RecoveryDirError, match="'thesis.tex', which tickwise did not write"):
        set_aside(recovery, "x")
    assert (recovery / "thesis.tex").exists() and list(tmp_path.iterdir()) == [recovery]


def test_set_aside_when_no_state_marker_then_refused(tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"
    recovery.mkdir()
    (recovery / "part-0.sqlite3").write_bytes(b"")

    with pytest.raises(RecoveryDirError, match="no tickwise state marker"):
        set_aside(recovery, "x")


def test_check_source_topic_when_another_topic_then_refused_naming_both(tmp_path: Path) -> None:
    check_source_topic(tmp_path, "ticks")
    check_source_topic(tmp_path, "ticks")  # the same topic again: fine

    with pytest.raises(RecoveryDirError, match="holds positions in topic 'ticks', not 'other'.*--fresh"):
        check_source_topic(tmp_path, "other")


# --- what a snapshot covers, read from a real Bytewax recovery store ---------------------------------


class _Partition(StatefulSourcePartition[int, int]):
    """Emits its offsets one batch at a time; the state is the next offset, like the Kafka source."""

    def __init__(self, count: int, resume: int | None) -> None:
        self._next, self._count = resume if resume is not None else 0, count

    def next_batch(self) -> Iterable[int]:
        if self._next >= self._count:
            raise StopIteration()
        self._next += 1
        return [self._next - 1]

    def snapshot(self) -> int:
        return self._next


class _Offsets(FixedPartitionedSource[int, int]):
    def __init__(self, counts: dict[str, int]) -> None:
        self._counts = counts

    def list_parts(self) -> list[str]:
        return sorted(self._counts)

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _Partition:
        return _Partition(self._counts[for_part], resume_state)


def _run(recovery: Path, counts: dict[str, int]) -> list[int]:
    out: list[int] = []
    flow = Dataflow("tickwise_signals")
    op.output("out", op.input("ticks_in", flow, _Offsets(counts)), TestingSink(out))
    run_main(flow, epoch_interval=timedelta(0), recovery_config=RecoveryConfig(str(recovery)))
    return out


def test_durable_positions_when_no_run_yet_then_empty(tmp_path: Path) -> None:
    init_recovery_dir(tmp_path / "recovery", 1)

    assert durable_positions(tmp_path / "recovery") == {}


def test_durable_positions_when_run_ended_then_each_partition_at_its_end_and_a_resume_starts_there(
        tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"
    init_recovery_dir(recovery, 1)
    first = _run(recovery, {"0": 5, "1": 3, "2": 0})

    positions = durable_positions(recovery)
    resumed = _run(recovery, {"0": 7, "1": 3, "2": 0})

    assert sorted(first) == [0, 0, 1, 1, 2, 2, 3, 4]
    assert positions == {0: 5, 1: 3, 2: 0}
    assert sorted(resumed) == [5, 6] and durable_positions(recovery) == {0: 7, 1: 3, 2: 0}


def test_durable_positions_when_step_id_differs_then_nothing(tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"
    init_recovery_dir(recovery, 1)
    _run(recovery, {"0": 2})

    assert durable_positions(recovery, "other_flow.ticks_in") == {}


@pytest.mark.parametrize("value", [0, 5, 255, 70_000, 2**40, -2])
def test_pickled_integer_when_a_source_position_then_read_without_unpickling(value: int) -> None:
    import pickle

    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert _pickled_integer(pickle.dumps(value, protocol=protocol)) == value


@pytest.mark.parametrize("value", [[1], "7", 1.5, (1, 2), None])
def test_pickled_integer_when_anything_else_then_none(value: object) -> None:
    import pickle

    assert _pickled_integer(pickle.dumps(value)) is None
