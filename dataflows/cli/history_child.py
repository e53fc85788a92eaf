"""The history flow as a child of a live ``tickwise run`` (``--role both``): started, watched, stopped.

A failing history flow never stops the signals. A watcher thread waits for the child; when it exits
on its own (not by our stop, not by the operator's Ctrl-C), the run prints one line at once naming
the exit code, the cause the child logged and its log (``<state dir>/logs/history-run.log``), and
the signals go on. ``failure`` keeps that line for the run's final message and exit status.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from dataflows.config import Settings, environment_variables
from dataflows.private_files import make_private_dir, open_private_log
from dataflows.runner import die_with_parent
from dataflows.worker_log import exit_cause, log_size, rotate_logs
from sinks.redaction import redact_text

LOG_NAME = "history-run.log"
#: The history flow may lag, the signals may not: beside a signals cluster on the same machine the
#: history child runs this much nicer, so the scheduler gives the signals flow the CPU first.
HISTORY_NICENESS = 10
#: Exit codes of an interrupted child (Ctrl-C reaches the whole process group): not a failure.
_INTERRUPTED = (130, -signal.SIGINT)
_ERROR_PREFIX = "error:"


def _lower_priority(then: Callable[[], None] | None) -> Callable[[], None]:
    """A ``preexec_fn``: ``then`` (dying with the parent), then ``HISTORY_NICENESS`` added to the child's nice value."""
    def arrange() -> None:
        if then is not None:
            then()
        os.nice(HISTORY_NICENESS)
    return arrange


def logged_cause(log: Path, start: int) -> str | None:
    """The child's own one-sentence error (``error: ...``, as ``tickwise`` prints it), else the cause its
    workers logged (``exit_cause``), among what was written to ``log`` since ``start``."""
    try:
        with open(log, "rb") as file:
            file.seek(start)
            lines = file.read().decode(errors="replace").splitlines()
    except OSError:
        return None
    errors = [line.strip()[len(_ERROR_PREFIX):].strip() for line in lines if line.startswith(_ERROR_PREFIX)]
    return redact_text(errors[-1]) if errors else exit_cause(log, start)


class HistoryChild:
    """``tickwise run --role history`` beside the signals cluster, with its own supervisor, recovery dir and log."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path, log_start: int,
                 on_failure: Callable[[str], None]) -> None:
        self.process = process
        self.log = log
        self._log_start = log_start
        self._on_failure = on_failure
        self._stopping = False
        self.failure: str | None = None
        self._watcher = threading.Thread(target=self._watch, name="history-child-watcher", daemon=True)
        self._watcher.start()

    @classmethod
    def start(cls, settings: Settings, state_dir: Path, recovery_dir: Path, snapshot_interval: int,
              max_restarts: int | None, on_failure: Callable[[str], None]) -> HistoryChild:
        command = [sys.executable, "-m", "dataflows.cli", "run", "--role", "history", "--state-dir", str(state_dir),
                   "--recovery-dir", str(recovery_dir), "--snapshot-interval", str(snapshot_interval)]
        if max_restarts is not None:
            command += ["--supervise", "--max-restarts", str(max_restarts)]
        log_dir = make_private_dir(make_private_dir(settings.run.state_dir) / "logs", "the workers' logs")
        log_path = log_dir / LOG_NAME
        rotate_logs(log_dir, LOG_NAME)
        start = log_size(log_path)
        log = open_private_log(log_path)
        try:
            process = subprocess.Popen(command, env={**os.environ, **environment_variables(settings)}, stdout=log,
                                       stderr=log, stdin=subprocess.DEVNULL,
                                       preexec_fn=_lower_priority(die_with_parent()))
        finally:
            log.close()
        return cls(process, log_path, start, on_failure)

    def _watch(self) -> None:
        code = self.process.wait()
        if self._stopping or code in _INTERRUPTED:
            return
        cause = logged_cause(self.log, self._log_start) or "no cause in its log"
        self.failure = (f"the history flow exited with code {code}: {cause}; the signals go on without it "
                        f"(nothing is written to ClickHouse until it runs again); see {self.log}")
        self._on_failure(self.failure)

    def stop(self) -> None:
        """Stop the child as an operator would (SIGINT: it snapshots and commits), kill it after 60 s."""
        if self.process.poll() is None:
            self._stopping = True
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._watcher.join(timeout=5)
