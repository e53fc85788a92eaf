"""Unit specification of ``dataflows.worker_log``: the cause a flow process logged before it died."""

from __future__ import annotations

from pathlib import Path

from dataflows.worker_log import exit_cause, log_size

EARLIER_RUN = (b"09:00 ERROR sinks.failure: sink failed: Redis write of 1 feature rows to redis://127.0.0.1:6379/0 "
               b"failed: [Errno 111] Connection refused\n")
DISK_FULL = (b"10:00 ERROR sinks.failure: sink failed: ClickHouse INSERT of 4982 rows into 'ticks' failed: "
             b"[Errno 28] No space left on device at chdb:///data\n")


def test_exit_cause_is_the_first_sink_failure_this_run_logged_not_an_earlier_run_s(tmp_path: Path) -> None:
    log = tmp_path / "worker-0.log"
    log.write_bytes(EARLIER_RUN)
    start = log_size(log)
    with open(log, "ab") as appended:
        appended.write(b"10:00 INFO sinks.kafka: kafka sink ...\n" + DISK_FULL +
                       b"10:00 ERROR sinks.failure: sink failed: kafka sink: 3 of 3 messages ...\n"
                       b"thread '<unnamed>' panicked at src/outputs.rs:332:45:\nBox<dyn Any>\n")
    assert exit_cause(log, start) == ("ClickHouse INSERT of 4982 rows into 'ticks' failed: [Errno 28] No space "
                                      "left on device at chdb:///data")


def test_exit_cause_without_a_sink_failure_is_the_last_traceback_s_exception_line_redacted(tmp_path: Path) -> None:
    log = tmp_path / "worker-0.log"
    log.write_bytes(b"Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
                    b"KeyError: 'a'\n\nDuring handling of the above exception, another exception occurred:\n\n"
                    b"Traceback (most recent call last):\n  File \"y.py\", line 2, in <module>\n"
                    b"    raise RuntimeError(url)\n"
                    b"RuntimeError: cannot reach http://writer:hunter2@ch:8123/db\n")
    assert exit_cause(log) == "RuntimeError: cannot reach http://writer:***@ch:8123/db"


def test_exit_cause_when_the_process_logged_no_cause_or_has_no_log_is_none(tmp_path: Path) -> None:
    log = tmp_path / "worker-0.log"
    log.write_bytes(b"10:00 INFO sinks.kafka: kafka sink ...\n")
    assert exit_cause(log) is None
    assert exit_cause(tmp_path / "missing.log") is None
    assert log_size(tmp_path / "missing.log") == 0


def history_flow_into_a_file() -> object:
    """A flow whose real ClickHouse sink cannot open its chDB directory: ``CHDB_URL`` lies under a file."""
    import os

    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSource

    from operators.messages import Trade, ValidTick
    from sinks.clickhouse import ClickHouseSettings, ClickHouseSink

    flow = Dataflow("history_into_a_file")
    ticks = op.input("ticks", flow, TestingSource([ValidTick(Trade("IBM", 1, 100.0, 1.0), "ticks", 0, 0)]))
    keyed = op.key_on("by_symbol", ticks, lambda tick: tick.tick.symbol)
    op.output("history_out", keyed, ClickHouseSink(ClickHouseSettings(os.environ["CHDB_URL"])))
    return flow


def test_run_cluster_error_quotes_the_cause_the_process_logged(tmp_path: Path) -> None:
    from dataflows.runner import ClusterError, run_cluster

    (tmp_path / "a-file").write_text("not a directory")
    url = f"chdb://{tmp_path / 'a-file' / 'chdb'}"
    try:
        run_cluster({"CHDB_URL": url}, work_dir=tmp_path / "work", log_dir=tmp_path / "logs",
                    flow_import="tests.unit.dataflows.test_worker_log:history_flow_into_a_file()")
    except ClusterError as error:
        message = str(error)
    else:
        raise AssertionError("the flow ran although its ClickHouse directory lies under a file")
    assert message.startswith(f"process 0 exited: ClickHouse at {url} cannot be opened: [Errno 20] Not a directory "
                              f"(exit code 1; see {tmp_path / 'logs' / 'worker-0.log'})"), message


def test_rotate_logs_when_log_over_the_limit_then_moved_aside_keeping_the_newest_few(tmp_path: Path) -> None:
    from dataflows.worker_log import rotate_logs

    big, small, other = tmp_path / "worker-0.log", tmp_path / "worker-1.log", tmp_path / "history-run.log"
    small.write_bytes(b"x" * 10)
    other.write_bytes(b"y" * 100)  # another pattern's log: left alone
    for run in range(4):
        big.write_bytes(bytes([ord("a") + run]) * 100)
        rotated = rotate_logs(tmp_path, max_bytes=50, keep=2)  # worker-*.log
        assert rotated == [big]

    assert not big.exists()
    assert (tmp_path / "worker-0.log.1").read_bytes() == b"d" * 100
    assert (tmp_path / "worker-0.log.2").read_bytes() == b"c" * 100
    assert not (tmp_path / "worker-0.log.3").exists()
    assert small.read_bytes() == b"x" * 10
    assert other.read_bytes() == b"y" * 100
