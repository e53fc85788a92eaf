"""The live run's history child: its own exit is reported once, with the cause and the log; our stop and Ctrl-C are not."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from dataflows.cli.history_child import HistoryChild, logged_cause


def child(log: Path, code: str, on_failure) -> HistoryChild:
    start = log.stat().st_size if log.exists() else 0
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=out)
    return HistoryChild(process, log, start, on_failure)


def test_history_child_exits_non_zero_then_one_report_names_code_cause_and_log(tmp_path: Path) -> None:
    log = tmp_path / "history-run.log"
    log.write_text("error: an earlier run's failure\n")
    reports: list[str] = []
    reported = threading.Event()

    def on_failure(message: str) -> None:
        reports.append(message)
        reported.set()

    history = child(log, "import sys; print('starting'); print('error: ClickHouse at http://u:secret@127.0.0.1:9 "
                         "refused the connection'); sys.exit(2)", on_failure)

    assert reported.wait(timeout=30)
    history.stop()
    assert len(reports) == 1 and history.failure == reports[0]
    assert "exited with code 2" in reports[0] and "127.0.0.1:9 refused the connection" in reports[0]
    assert str(log) in reports[0] and "secret" not in reports[0] and "earlier run" not in reports[0]


def test_history_child_stopped_by_the_run_or_interrupted_then_no_report(tmp_path: Path) -> None:
    reports: list[str] = []
    running = child(tmp_path / "a.log", "import time; time.sleep(60)", reports.append)
    interrupted = child(tmp_path / "b.log", "import sys; sys.exit(130)", reports.append)

    running.stop()
    interrupted.process.wait(timeout=30)
    interrupted.stop()

    assert reports == [] and running.failure is None and interrupted.failure is None


def test_a_worker_traceback_is_the_cause_when_the_child_printed_no_error(tmp_path: Path) -> None:
    log = tmp_path / "history-run.log"
    log.write_text("Traceback (most recent call last):\n  File \"x\", line 1\nOSError: disk full\n")

    assert logged_cause(log, 0) == "OSError: disk full"
    assert logged_cause(tmp_path / "missing.log", 0) is None


def test_the_history_child_runs_nicer_than_the_signals_flow_beside_it() -> None:
    import os
    import subprocess
    import sys

    from dataflows.cli.history_child import HISTORY_NICENESS, _lower_priority

    child = subprocess.run([sys.executable, "-c", "import os; print(os.nice(0))"], capture_output=True, text=True,
                           check=True, preexec_fn=_lower_priority(None))
    assert int(child.stdout) == min(19, os.nice(0) + HISTORY_NICENESS)
