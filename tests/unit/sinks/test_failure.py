"""Unit specification of ``sinks.failure``: causes named by errno, one marked log line, and a flow
that is failing from its first sink failure until every partition opened since has closed."""

from __future__ import annotations

import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from operators.messages import FeatureRow
from sinks.failure import (FAILURE_MARKER, describe_cause, flow_failing, partition_closed, partition_opened,
                           report_failure)
from sinks.metrics import MetricsRegistry
from sinks.redis_store import RedisSettings, _RedisFeaturePartition


def raised_from(outer: type[Exception], message: str, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException:
            raise outer(message)  # noqa: B904 - chained implicitly, as redis-py chains its OSError
    except Exception as error:
        return error


def test_describe_cause_when_an_oserror_is_in_the_chain_then_names_its_errno_and_the_outer_error() -> None:
    error = raised_from(RedisConnectionError, "Error 111 connecting to 127.0.0.1:6379. Connection refused.",
                        ConnectionRefusedError(111, "Connection refused"))
    assert describe_cause(error) == ("[Errno 111] Connection refused (ConnectionError: Error 111 connecting to "
                                     "127.0.0.1:6379. Connection refused.)")


def test_describe_cause_when_clickhouse_text_carries_errno_and_strerror_then_names_them() -> None:
    error = RuntimeError("Code: 76. DB::ErrnoException: Cannot open file /data/status: , errno: 30, "
                         "strerror: Read-only file system. (CANNOT_OPEN_FILE)")
    assert describe_cause(error).startswith("[Errno 30] Read-only file system (RuntimeError: Code: 76.")


def test_describe_cause_without_errno_names_the_type_and_hides_passwords() -> None:
    error = ValueError("cannot reach http://writer:hunter2@ch.internal:8123/market")
    assert describe_cause(error) == "ValueError: cannot reach http://writer:***@ch.internal:8123/market"


def test_report_failure_logs_one_marked_line_with_the_cause_and_marks_the_flow_failing(
        caplog: pytest.LogCaptureFixture) -> None:
    assert not flow_failing()
    with caplog.at_level(logging.ERROR, logger="sinks.failure"):
        report_failure("Redis write to redis://:hunter2@cache:6379/0 failed: [Errno 111] Connection refused")
    assert [record.getMessage() for record in caplog.records] == [
        f"{FAILURE_MARKER}Redis write to redis://:***@cache:6379/0 failed: [Errno 111] Connection refused"]
    assert flow_failing()


def test_flow_failing_ends_when_every_partition_opened_has_closed() -> None:
    partition_opened()
    partition_opened()
    report_failure("ClickHouse INSERT of 1 rows into 'ticks' failed: [Errno 28] No space left on device")
    partition_closed()
    assert flow_failing(), "a partition of the failing flow is still open"
    partition_closed()
    assert not flow_failing(), "a flow run later in this process must start afresh"


class RefusingPipeline:
    def evalsha(self, *args: object) -> None:
        pass

    def execute(self) -> list[int]:
        raise raised_from(RedisConnectionError, "Error 111 connecting to 127.0.0.1:6390. Connection refused.",
                          ConnectionRefusedError(111, "Connection refused"))


class RefusingRedis:
    def script_load(self, script: str) -> str:
        return "sha"

    def pipeline(self, transaction: bool) -> RefusingPipeline:
        return RefusingPipeline()


def test_redis_write_failure_is_logged_with_the_url_and_errno_but_is_no_flow_failure(
        caplog: pytest.LogCaptureFixture) -> None:
    # The online store is retried with backoff (sinks.redis_store): signals go on, nothing raises.
    partition = _RedisFeaturePartition(RedisSettings("redis://:hunter2@127.0.0.1:6390/0"), RefusingRedis(),
                                       MetricsRegistry())  # type: ignore[arg-type]
    row = FeatureRow("IBM", 5, 0, 7, 101.5, ("spread",), (0.25,))
    with caplog.at_level(logging.WARNING):
        partition.write_batch([row])
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert ("a write of 1 feature rows to redis://:***@127.0.0.1:6390/0 failed: [Errno 111] Connection refused"
            in logged)
    assert FAILURE_MARKER not in logged
    assert "hunter2" not in logged
    assert not flow_failing()
