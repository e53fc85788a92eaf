"""Start the signal flow as a local Bytewax cluster of N processes x W workers, and summarize.

Bytewax processes share fate: when one dies its peers exit. The runner therefore treats
the cluster as one unit: if any process fails, it stops the others and raises, so a
supervisor (``tickwise run --supervise``, systemd, k8s) restarts the whole cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dataflows.stack import free_port

FLOW_IMPORT = "dataflows.signals:flow()"


class ClusterError(RuntimeError):
    """A process of the cluster failed."""


@dataclass(frozen=True)
class ClusterRun:
    processes: int
    workers: int
    elapsed_s: float


def _init_recovery(recovery_dir: Path, partitions: int) -> None:
    if recovery_dir.exists() and any(recovery_dir.glob("part-*.sqlite3")):
        return
    from bytewax.recovery import init_db_dir

    recovery_dir.mkdir(parents=True, exist_ok=True)
    init_db_dir(recovery_dir, partitions)


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
                log_dir: Path | None = None) -> ClusterRun:
    """Run the flow to completion (``TICKWISE_UNTIL_EOF=true``) or until interrupted."""
    if processes < 1 or workers < 1:
        raise ValueError(f"--processes and --workers must be >= 1, got {processes} and {workers}")
    work_dir.mkdir(parents=True, exist_ok=True)
    addresses_file = None
    if processes > 1:
        addresses_file = work_dir / "addresses.txt"
        addresses_file.write_text("".join(f"127.0.0.1:{free_port()}\n" for _ in range(processes)))
    if recovery_dir is not None:
        _init_recovery(recovery_dir, processes * workers)
    commands = cluster_commands(processes, workers, addresses_file, recovery_dir, snapshot_interval_s)
    children: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    previous_handler = signal.getsignal(signal.SIGTERM)

    def stop_children(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, lambda *_: (stop_children(), sys.exit(143)))
    try:
        for index, command in enumerate(commands):
            child_env = {**os.environ, **env, "TICKWISE_PROCESS_INDEX": str(index)}
            log = open(log_dir / f"worker-{index}.log", "ab") if log_dir else None  # noqa: SIM115
            children.append(subprocess.Popen(command, env=child_env, stdout=log, stderr=log if log else None))
        failed: subprocess.Popen[bytes] | None = None
        while any(child.poll() is None for child in children):
            failed = next((child for child in children if child.poll() not in (None, 0)), None)
            if failed is not None:
                break
            time.sleep(0.1)
        failed = failed or next((child for child in children if child.returncode not in (None, 0)), None)
        if failed is not None:
            stop_children()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            index = children.index(failed)
            where = f"; see {log_dir / f'worker-{index}.log'}" if log_dir else ""
            raise ClusterError(f"process {index} of the cluster exited with code {failed.returncode}{where}")
    except KeyboardInterrupt:
        stop_children()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    return ClusterRun(processes, workers, time.monotonic() - started)
