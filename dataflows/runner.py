"""Start a flow (combined, signals or history) as a local Bytewax cluster of N processes x W workers, and supervise it.

Bytewax processes share fate: when one dies its peers exit. The runner therefore treats
the cluster as one unit: if any process fails, it stops the others and raises
``ClusterError``; ``supervise`` (``tickwise run --supervise``) then restarts the whole
cluster with backoff, and every process resumes from the last snapshot in the recovery
directory. systemd or Kubernetes can play the supervisor's part instead.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dataflows.private_files import make_private_dir, open_private_log
from dataflows.snapshots import check_recovery_dir, mark_recovery_dir
from dataflows.stack import free_port
from dataflows.worker_log import exit_cause, log_size

FLOW_IMPORT = "dataflows.signals:flow()"  # the combined flow: both halves in one
#: What each role of ``tickwise run --role`` runs under ``bytewax.run``.
FLOW_IMPORTS = {"combined": FLOW_IMPORT, "signals": "dataflows.signals:signals_flow()",
                "history": "dataflows.history:flow()"}
PR_SET_PDEATHSIG = 1  # prctl option: the signal the kernel sends a process when its parent thread exits

logger = logging.getLogger(__name__)


class ClusterError(RuntimeError):
    """A process of the cluster failed; ``process_index`` and ``returncode`` say which and how."""

    def __init__(self, message: str, process_index: int = -1, returncode: int | None = None) -> None:
        super().__init__(message)
        self.process_index = process_index
        self.returncode = returncode


@dataclass(frozen=True)
class ClusterRun:
    processes: int
    workers: int
    elapsed_s: float


def recovery_partitions(recovery_dir: Path) -> list[int]:
    """Indexes of the Bytewax recovery partitions (``part-<i>.sqlite3``) in ``recovery_dir``."""
    indexes = []
    for path in recovery_dir.glob("part-*.sqlite3"):
        number = path.name.removeprefix("part-").removesuffix(".sqlite3")
        if number.isdigit():
            indexes.append(int(number))
    return sorted(indexes)


def init_recovery_dir(recovery_dir: Path, partitions: int, process_index: int | None = None,
                      processes: int = 1) -> list[int]:
    """Create ``partitions`` empty Bytewax recovery partitions in ``recovery_dir`` (mode 0700).

    The directory holds pickled state that the flow loads on resume, so it is private to the
    user: created 0700, and tightened to 0700 when it already exists with wider permissions.
    Idempotent: a directory that already holds partitions is left as it is, once its state format
    marker shows this version can restore it (else ``IncompatibleSnapshot``, one sentence). With
    ``process_index``, only the partitions ``i`` with ``i % processes == process_index`` are
    kept, for clusters where each process has its own volume (the cluster as a whole must hold
    every partition); a process index at or above ``processes`` (a pod added later) keeps none.
    Returns the partition indexes now in the directory.
    """
    if partitions < 1 or processes < 1:
        raise ValueError(f"recovery partitions and processes must be >= 1, got {partitions} and {processes}")
    if process_index is not None and process_index < 0:
        raise ValueError(f"process index must be >= 0, got {process_index}")
    make_private_dir(recovery_dir, "pickled state")
    existing = recovery_partitions(recovery_dir)
    if existing:
        check_recovery_dir(recovery_dir)
        return existing
    from bytewax.recovery import init_db_dir

    with tempfile.TemporaryDirectory(dir=recovery_dir, prefix=".init-") as scratch:
        init_db_dir(Path(scratch), partitions)
        for index in range(partitions):
            if process_index is None or index % processes == process_index:
                (Path(scratch) / f"part-{index}.sqlite3").rename(recovery_dir / f"part-{index}.sqlite3")
    mark_recovery_dir(recovery_dir)
    return recovery_partitions(recovery_dir)


def _init_recovery(recovery_dir: Path, partitions: int) -> None:
    init_recovery_dir(recovery_dir, partitions)


def cluster_commands(processes: int, workers: int, addresses_file: Path | None,
                     recovery_dir: Path | None, snapshot_interval_s: float | None,
                     flow_import: str = FLOW_IMPORT) -> list[list[str]]:
    base = [sys.executable, "-m", "bytewax.run", flow_import, "-w", str(workers)]
    if recovery_dir is not None:
        base += ["-r", str(recovery_dir), "-s", str(max(1, round(snapshot_interval_s or 10))), "-b", "0"]
    if processes == 1:
        return [base]
    assert addresses_file is not None
    # bytewax.run takes the addresses as "host:port;host:port" (a file only via BYTEWAX_HOSTFILE_PATH).
    addresses = ";".join(addresses_file.read_text().split())
    return [base + ["-i", str(index), "-a", addresses] for index in range(processes)]


def run_cluster(env: Mapping[str, str], processes: int = 1, workers: int = 1, recovery_dir: Path | None = None,
                snapshot_interval_s: float | None = None, work_dir: Path = Path(".tickwise"),
                log_dir: Path | None = None, flow_import: str = FLOW_IMPORT) -> ClusterRun:
    """Run the flow to completion (``TICKWISE_UNTIL_EOF=true``) or until interrupted."""
    if processes < 1 or workers < 1:
        raise ValueError(f"--processes and --workers must be >= 1, got {processes} and {workers}")
    make_private_dir(work_dir)
    if log_dir is not None:
        make_private_dir(log_dir, "the workers' logs")
    addresses_file = None
    if processes > 1:
        addresses_file = work_dir / "addresses.txt"
        addresses_file.write_text("".join(f"127.0.0.1:{free_port()}\n" for _ in range(processes)))
    if recovery_dir is not None:
        _init_recovery(recovery_dir, processes * workers)
    commands = cluster_commands(processes, workers, addresses_file, recovery_dir, snapshot_interval_s, flow_import)
    children: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    previous_handler = signal.getsignal(signal.SIGTERM)

    def stop_children(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)

    def stop_and_reap(grace_s: float = 10.0) -> None:
        """SIGINT every worker, give each ``grace_s`` to finish its epoch, then kill what is left."""
        stop_children()
        for child in children:
            try:
                child.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def terminated(*_: object) -> None:  # stop the workers gracefully before we go (they would get SIGTERM)
        stop_and_reap()
        sys.exit(143)

    signal.signal(signal.SIGTERM, terminated)
    log_starts: list[int] = []
    try:
        for index, command in enumerate(commands):
            child_env = {**os.environ, **env, "TICKWISE_PROCESS_INDEX": str(index)}
            log_starts.append(log_size(log_dir / f"worker-{index}.log") if log_dir else 0)
            log = open_private_log(log_dir / f"worker-{index}.log") if log_dir else None
            children.append(subprocess.Popen(command, env=child_env, stdout=log, stderr=log if log else None,
                                             preexec_fn=die_with_parent()))
        failed: subprocess.Popen[bytes] | None = None
        while any(child.poll() is None for child in children):
            failed = next((child for child in children if child.poll() not in (None, 0)), None)
            if failed is not None:
                break
            time.sleep(0.1)
        failed = failed or next((child for child in children if child.returncode not in (None, 0)), None)
        if failed is not None:
            stop_and_reap()
            index = children.index(failed)
            where = f"; see {log_dir / f'worker-{index}.log'}" if log_dir else ""
            cause = exit_cause(log_dir / f"worker-{index}.log", log_starts[index]) if log_dir else None
            if cause:  # what the process logged as the cause of its end, from its log's tail
                raise ClusterError(f"process {index} exited: {cause} (exit code {failed.returncode}{where})",
                                   index, failed.returncode)
            raise ClusterError(f"process {index} of the cluster exited with code {failed.returncode}{where}",
                               index, failed.returncode)
    except KeyboardInterrupt:
        stop_and_reap(grace_s=30.0)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    return ClusterRun(processes, workers, time.monotonic() - started)


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` after which the kernel sends the child SIGTERM when this process dies, even by
    SIGKILL (Linux's PR_SET_PDEATHSIG); None elsewhere. Call it in the thread that waits for the child."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def arrange() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the parent died before the request took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange


# -- supervisor ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestartPolicy:
    """How ``supervise`` restarts a failed cluster.

    The delay before restart ``n`` (1-based) of a run of quick failures is
    ``min(backoff_max_s, backoff_initial_s * 2 ** (n - 1))``; a cluster that ran at least
    ``healthy_after_s`` before failing starts the backoff over. ``max_restarts`` counts every
    restart of the supervised run.
    """

    max_restarts: int = 10
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    healthy_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_restarts < 0:
            raise ValueError(f"max_restarts must be >= 0, got {self.max_restarts}")
        if not 0 <= self.backoff_initial_s <= self.backoff_max_s:
            raise ValueError(f"expected 0 <= backoff_initial_s <= backoff_max_s, got {self.backoff_initial_s} "
                             f"and {self.backoff_max_s}")


@dataclass(frozen=True)
class Restart:
    """One restart of the whole cluster: which process failed, how, and the wait before restarting."""

    number: int
    process_index: int
    returncode: int | None
    ran_s: float
    delay_s: float
    reason: str


@dataclass(frozen=True)
class SupervisedRun:
    run: ClusterRun
    restarts: list[Restart] = field(default_factory=list)
    elapsed_s: float = 0.0


def supervise(start: Callable[[], ClusterRun], policy: RestartPolicy = RestartPolicy(),
              on_restart: Callable[[Restart], None] | None = None,
              sleep: Callable[[float], None] = time.sleep,
              clock: Callable[[], float] = time.monotonic) -> SupervisedRun:
    """Run ``start`` (one whole-cluster run) until it succeeds, restarting it after a ``ClusterError``.

    Each restart is logged with the failed process and its exit code. After
    ``policy.max_restarts`` restarts the last ``ClusterError`` is raised. Anything else
    (``KeyboardInterrupt``, a bad argument) is not retried.
    """
    restarts: list[Restart] = []
    quick_failures = 0
    began = clock()
    while True:
        attempt_began = clock()
        try:
            run = start()
        except ClusterError as error:
            ran_s = clock() - attempt_began
            if len(restarts) >= policy.max_restarts:
                logger.error("cluster failed (%s); giving up after %d restart(s)", error, len(restarts))
                raise ClusterError(f"{error} (gave up after {len(restarts)} restart(s))", error.process_index,
                                   error.returncode) from error
            quick_failures = 1 if ran_s >= policy.healthy_after_s else quick_failures + 1
            delay = min(policy.backoff_max_s, policy.backoff_initial_s * 2 ** (quick_failures - 1))
            restart = Restart(len(restarts) + 1, error.process_index, error.returncode, round(ran_s, 3),
                              delay, str(error))
            restarts.append(restart)
            logger.warning("cluster process %d exited with code %s after %.1f s; restarting the whole cluster "
                           "in %.1f s (restart %d of at most %d)", restart.process_index, restart.returncode,
                           ran_s, delay, restart.number, policy.max_restarts)
            if on_restart is not None:
                on_restart(restart)
            sleep(delay)
            continue
        return SupervisedRun(ClusterRun(run.processes, run.workers, clock() - began), restarts, clock() - began)
