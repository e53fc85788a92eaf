"""Specifications of the supervisor: a failed cluster is restarted whole, with backoff, up to a limit.

Two tests run real ``python -m bytewax.run`` processes built by the runner's own command
construction (``run_cluster`` with a test flow): in one, process 1 of a two-process cluster exits
with code 3 on its first start, so the runner stops process 0 and the supervisor restarts both; in
the other, the parent of an endless cluster is killed with SIGKILL and its workers must die with it.
"""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from bytewax import operators as op
from bytewax.connectors.stdio import StdOutSink
from bytewax.dataflow import Dataflow
from bytewax.inputs import SimplePollingSource
from bytewax.testing import TestingSource

from dataflows.runner import (ClusterError, ClusterRun, RestartPolicy, init_recovery_dir, recovery_partitions,
                              run_cluster, supervise)
from tests.unit.dataflows.processes import running

REPO_ROOT = Path(__file__).resolve().parents[3]
CRASH_ONCE_FLOW = "tests.unit.dataflows.test_runner_supervisor:crash_once_flow()"
ENDLESS_FLOW = "tests.unit.dataflows.test_runner_supervisor:endless_flow()"


def crash_once_flow() -> Dataflow:
    """Test flow for ``bytewax.run``: process 1 exits with code 3 the first time it starts."""
    marker_dir = Path(os.environ["TICKWISE_TEST_MARKER_DIR"])
    index = os.environ.get("TICKWISE_PROCESS_INDEX", "0")
    with open(marker_dir / "starts.log", "a") as log:
        log.write(f"{index}\n")
    crashed = marker_dir / "crashed"
    if index == "1" and not crashed.exists():
        crashed.touch()
        os._exit(3)
    flow = Dataflow("crash_once")
    op.output("out", op.input("in", flow, TestingSource([1, 2, 3])), StdOutSink())
    return flow


class FakeCluster:
    """``start`` for ``supervise``: fails with the given exit codes, then succeeds."""

    def __init__(self, *exit_codes: int) -> None:
        self.exit_codes = list(exit_codes)
        self.starts = 0

    def __call__(self) -> ClusterRun:
        self.starts += 1
        if self.exit_codes:
            code = self.exit_codes.pop(0)
            raise ClusterError(f"process 1 of the cluster exited with code {code}", 1, code)
        return ClusterRun(2, 1, 0.0)


def test_supervise_when_cluster_fails_twice_then_restarts_it_twice_with_doubling_backoff(
        caplog: pytest.LogCaptureFixture) -> None:
    cluster = FakeCluster(137, 1)
    waits: list[float] = []

    with caplog.at_level(logging.WARNING, logger="dataflows.runner"):
        result = supervise(cluster, RestartPolicy(max_restarts=5, backoff_initial_s=0.5), sleep=waits.append)

    assert cluster.starts == 3
    assert waits == [0.5, 1.0]
    assert [(r.number, r.process_index, r.returncode) for r in result.restarts] == [(1, 1, 137), (2, 1, 1)]
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "exited with code 137" in messages[0] and "exited with code 1 " in messages[1]


def test_supervise_when_backoff_would_exceed_the_maximum_then_waits_the_maximum() -> None:
    waits: list[float] = []

    supervise(FakeCluster(1, 1, 1, 1), RestartPolicy(backoff_initial_s=2, backoff_max_s=5), sleep=waits.append)

    assert waits == [2, 4, 5, 5]


def test_supervise_when_a_run_was_healthy_long_enough_then_backoff_starts_over() -> None:
    times = iter([0, 0, 1, 1, 500, 500, 501, 501, 502, 502])  # the second attempt runs 499 s, then fails
    waits: list[float] = []

    supervise(FakeCluster(1, 1, 1), RestartPolicy(backoff_initial_s=1, healthy_after_s=100), sleep=waits.append,
              clock=lambda: next(times))

    assert waits == [1, 1, 2]


def test_supervise_when_restarts_exhausted_then_raises_the_last_failure() -> None:
    cluster = FakeCluster(3, 3, 3)

    with pytest.raises(ClusterError, match=r"exited with code 3 \(gave up after 2 restart\(s\)\)") as caught:
        supervise(cluster, RestartPolicy(max_restarts=2, backoff_initial_s=0), sleep=lambda _: None)

    assert cluster.starts == 3
    assert caught.value.returncode == 3


def test_supervise_when_interrupted_then_does_not_restart() -> None:
    def interrupted() -> ClusterRun:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        supervise(interrupted, sleep=lambda _: pytest.fail("must not restart"))


@pytest.mark.parametrize("kwargs", [{"max_restarts": -1}, {"backoff_initial_s": 5, "backoff_max_s": 1}])
def test_restart_policy_when_invalid_then_value_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="got"):
        RestartPolicy(**kwargs)  # type: ignore[arg-type]


def test_init_recovery_dir_when_new_then_private_and_idempotent(tmp_path: Path) -> None:
    recovery = tmp_path / "nested" / "recovery"

    assert init_recovery_dir(recovery, 3) == [0, 1, 2]
    assert stat.S_IMODE(recovery.stat().st_mode) == 0o700
    assert init_recovery_dir(recovery, 5) == [0, 1, 2]  # existing partitions are kept as they are


def test_init_recovery_dir_when_readable_by_others_then_tightened_to_0700(tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"
    recovery.mkdir(mode=0o755)
    recovery.chmod(0o755)

    init_recovery_dir(recovery, 1)

    assert stat.S_IMODE(recovery.stat().st_mode) == 0o700


def test_init_recovery_dir_when_process_index_then_keeps_its_share_of_partitions(tmp_path: Path) -> None:
    shares = [init_recovery_dir(tmp_path / f"pod-{index}", 4, index, 2) for index in range(2)]

    assert shares == [[0, 2], [1, 3]]
    assert recovery_partitions(tmp_path / "pod-1") == [1, 3]
    assert not list((tmp_path / "pod-0").glob(".init-*"))


def test_init_recovery_dir_when_process_added_after_the_partitions_were_spread_then_it_gets_none(
        tmp_path: Path) -> None:
    assert init_recovery_dir(tmp_path / "pod-2", 4, 2, 2) == []


def test_run_cluster_under_supervise_when_a_process_dies_once_then_whole_cluster_restarts_and_finishes(
        tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"TICKWISE_TEST_MARKER_DIR": str(markers), "PYTHONPATH": str(REPO_ROOT)}
    restarts = []

    def start() -> ClusterRun:
        return run_cluster(env, processes=2, workers=1, recovery_dir=tmp_path / "recovery", snapshot_interval_s=1,
                           work_dir=tmp_path / "work", log_dir=tmp_path, flow_import=CRASH_ONCE_FLOW)

    result = supervise(start, RestartPolicy(max_restarts=2, backoff_initial_s=0.1), on_restart=restarts.append)

    assert [(r.process_index, r.returncode) for r in restarts] == [(1, 3)]
    assert result.run.processes == 2
    starts = (markers / "starts.log").read_text().split()
    assert starts.count("1") == 2  # process 1 started again after its crash ...
    assert starts.count("0") >= 1  # ... together with process 0 (which may not have started the first time)
    assert b"3" in (tmp_path / "worker-0.log").read_bytes() + (tmp_path / "worker-1.log").read_bytes()
    assert sys.executable  # the commands ran this interpreter (cluster_commands uses sys.executable)


class EveryTenthOfASecond(SimplePollingSource[int]):
    def next_item(self) -> int:
        return 1


def endless_flow() -> Dataflow:
    """Test flow for ``bytewax.run`` that never ends; each process writes its PID to ``worker-<index>.pid``."""
    marker_dir = Path(os.environ["TICKWISE_TEST_MARKER_DIR"])
    (marker_dir / f"worker-{os.environ.get('TICKWISE_PROCESS_INDEX', '0')}.pid").write_text(str(os.getpid()))
    flow = Dataflow("endless")
    op.inspect("seen", op.input("in", flow, EveryTenthOfASecond(timedelta(seconds=0.1))), lambda *_: None)
    return flow


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's prctl")
def test_run_cluster_when_its_parent_is_killed_then_every_worker_dies_with_it(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    parent_code = ("import sys; from pathlib import Path; from dataflows.runner import run_cluster; "
                   f"run_cluster({{}}, processes=2, work_dir=Path(sys.argv[1]), log_dir=Path(sys.argv[1]), "
                   f"flow_import={ENDLESS_FLOW!r})")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TICKWISE_TEST_MARKER_DIR": str(markers)}
    parent = subprocess.Popen([sys.executable, "-c", parent_code, str(tmp_path)], cwd=REPO_ROOT, env=env)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            workers = [int(path.read_text()) for path in markers.glob("worker-*.pid") if path.read_text()]
            time.sleep(0.1)
        assert len(workers) == 2, "the cluster did not start"
        time.sleep(1.0)  # the workers are running the flow
        assert all(running(pid) for pid in workers)

        parent.send_signal(signal.SIGKILL)
        parent.wait()

        deadline = time.monotonic() + 5
        while any(running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [pid for pid in workers if running(pid)] == []
    finally:
        parent.kill()
        parent.wait()
        for pid in workers:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
