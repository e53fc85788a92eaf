"""Unit specification of the Redis online-feature sink: per-symbol collapse and CAS accounting."""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

import orjson
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, OutOfMemoryError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from operators.messages import FeatureRow
from sinks.metrics import MetricsRegistry
from sinks.failure import flow_failing, partition_closed, report_failure
from sinks.redis_store import (
    COMPARE_AND_SET_LUA,
    COMPARE_AND_SET_SHA,
    OPTION_KEY_SUFFIX,
    RedisSettings,
    _RedisFeaturePartition,
    latest_per_symbol,
    read_features,
)


def a_row(symbol: str, ts_ns: int, offset: int = 0, spread: float = 0.1) -> FeatureRow:
    return FeatureRow(symbol, ts_ns, 0, offset, 100.0, ("spread", "rsi"), (spread, math.nan))


class FakePipeline:
    def __init__(self, client: FakeRedis) -> None:
        self.client = client
        self.calls: list[tuple[Any, ...]] = []

    def evalsha(self, sha: str, numkeys: int, *args: str) -> None:
        self.calls.append((sha, numkeys, *args))

    def execute(self) -> list[int]:
        self.client.pipelines.append(self.calls)
        if self.client.errors:
            raise self.client.errors.pop(0)
        if any(call[0] not in self.client.scripts for call in self.calls):
            raise NoScriptError("No matching script. Please use EVAL.")
        for call in self.calls:
            self.client.stored[call[2]] = (int(call[3]), int(call[4]))
        return [self.client.results.get(call[2], 1) for call in self.calls]


class FakeRedis:
    """A server that knows the scripts it was given; ``errors`` fail the next pipelines, one each."""

    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.scripts: set[str] = set()
        self.pipelines: list[list[tuple[Any, ...]]] = []
        self.results: dict[str, int] = {}
        self.errors: list[Exception] = []
        self.hashes: dict[str, dict[bytes, bytes]] = {}
        self.stored: dict[str, tuple[int, int]] = {}  # key -> (ts_ns, offset) of the last row written
        self.closed = False

    def script_load(self, script: str) -> str:
        self.loaded.append(script)
        sha = hashlib.sha1(script.encode()).hexdigest()
        self.scripts.add(sha)
        return sha

    def pipeline(self, transaction: bool) -> FakePipeline:
        assert transaction is False
        return FakePipeline(self)

    def hgetall(self, key: str) -> dict[bytes, bytes]:
        return self.hashes.get(key, {})

    def close(self) -> None:
        self.closed = True


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def a_partition(client: FakeRedis, metrics: MetricsRegistry, clock: FakeClock | None = None,
                close_wait_s: float = 0.0) -> _RedisFeaturePartition:
    return _RedisFeaturePartition(RedisSettings("redis://:hunter2@127.0.0.1:6379/0", key_prefix="p:",
                                                close_wait_s=close_wait_s),
                                  client, metrics, clock=clock or FakeClock(), wall_clock=lambda: 1_765_000_000.0)  # type: ignore[arg-type]


def test_latest_per_symbol_keeps_the_newest_row_of_each_symbol() -> None:
    rows = [a_row("IBM", 5), a_row("MSFT", 1), a_row("IBM", 9), a_row("IBM", 7)]
    latest = latest_per_symbol(rows)
    assert {symbol: row.ts_ns for symbol, row in latest.items()} == {"IBM": 9, "MSFT": 1}


def test_latest_per_symbol_when_times_tie_then_the_higher_offset_wins() -> None:
    latest = latest_per_symbol([a_row("IBM", 5, offset=8), a_row("IBM", 5, offset=3)])
    assert latest["IBM"].offset == 8


def test_write_batch_registers_the_script_once_and_sends_one_call_per_symbol() -> None:
    client = FakeRedis()
    partition = a_partition(client, MetricsRegistry())
    partition.write_batch([a_row("IBM", 5), a_row("IBM", 6), ("MSFT", a_row("MSFT", 1))])
    partition.write_batch([a_row("IBM", 7)])
    assert client.loaded == [COMPARE_AND_SET_LUA]
    first = client.pipelines[-2]
    assert [call[2] for call in first] == ["p:IBM", "p:MSFT"]
    sha, numkeys, key, ts_ns, offset, fields, repair_after, ttl_ms = first[0]
    assert (sha, numkeys, ts_ns, offset, repair_after, ttl_ms) == (
        COMPARE_AND_SET_SHA, 1, "6", "0", str(6 + 3_600 * 10**9), "0")
    assert orjson.loads(fields) == ["ts_ns", "6", "partition", "0", "offset", "0", "price", "100.0",
                                    "feature_set", "", "quality", "", "spread", "0.1",
                      "rsi", "nan"]
    assert [call[2] for call in client.pipelines[-1]] == ["p:IBM"]


def test_write_batch_counts_written_and_stale_rows() -> None:
    client = FakeRedis()
    client.results = {"p:IBM": 0}
    metrics = MetricsRegistry()
    partition = a_partition(client, metrics)
    partition.write_batch([a_row("IBM", 5), a_row("MSFT", 5), a_row("AAPL", 5)])
    assert (partition.written, partition.stale) == (2, 1)
    assert metrics.value("tickwise_sink_rows_total", sink="redis", table="features") == 2
    assert metrics.value("tickwise_sink_stale_rows_total", sink="redis") == 1


def test_write_batch_when_stored_rows_were_too_far_ahead_then_counts_and_logs_the_repair(
        caplog: pytest.LogCaptureFixture) -> None:
    client = FakeRedis()
    client.results = {"p:AIG": 2, "p:IBM": 0}
    metrics = MetricsRegistry()
    partition = a_partition(client, metrics)
    with caplog.at_level("WARNING", logger="sinks.redis_store"):
        partition.write_batch([a_row("AIG", 5), a_row("IBM", 5), a_row("BAC", 5)])
    assert (partition.written, partition.stale, partition.repaired) == (2, 1, 1)
    assert metrics.value("tickwise_sink_rows_total", sink="redis", table="features") == 2
    assert "repaired the features of AIG" in caplog.text and "IBM" not in caplog.text


@pytest.mark.parametrize("repair_ahead_ns", [0, -1, 1.5, None])
def test_settings_refuse_a_repair_distance_that_is_not_a_positive_int(repair_ahead_ns: object) -> None:
    with pytest.raises(ValueError, match="repair_ahead_ns"):
        RedisSettings("redis://127.0.0.1:6379/0", repair_ahead_ns=repair_ahead_ns)  # type: ignore[arg-type]


def test_write_batch_when_server_forgot_the_script_then_reloads_and_retries_once() -> None:
    client = FakeRedis()
    partition = a_partition(client, MetricsRegistry())
    partition.write_batch([a_row("IBM", 5)])
    client.scripts.clear()  # a restarted server
    partition.write_batch([a_row("IBM", 6)])
    assert len(client.loaded) == 2
    assert partition.written == 2 and not partition.pending_symbols


@pytest.mark.parametrize("error", [
    RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    RedisTimeoutError("Timeout reading from socket"),
    ReadOnlyError("You can't write against a read only replica."),
    OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
])
def test_write_batch_when_redis_fails_then_keeps_the_rows_counts_and_does_not_raise(error: Exception) -> None:
    client = FakeRedis()
    metrics = MetricsRegistry()
    partition = a_partition(client, metrics)
    client.errors = [error]
    partition.write_batch([a_row("IBM", 5), a_row("MSFT", 5)])
    assert partition.pending_symbols == ["IBM", "MSFT"]
    assert metrics.value("tickwise_redis_write_failures_total") == 1
    assert metrics.value("tickwise_redis_pending_symbols") == 2
    assert metrics.value("tickwise_sink_errors_total", sink="redis") is None
    assert not flow_failing()


def test_rows_pending_during_an_outage_merge_forward_only_and_are_written_after_the_backoff() -> None:
    client = FakeRedis()
    clock = FakeClock()
    metrics = MetricsRegistry()
    partition = a_partition(client, metrics, clock)
    client.errors = [RedisConnectionError("Connection refused")]
    partition.write_batch([a_row("IBM", 10, offset=1), a_row("MSFT", 10, offset=2)])
    attempts = len(client.pipelines)
    clock.now += 0.2  # inside the first backoff (0.25 s): no network at all
    partition.write_batch([a_row("IBM", 20, offset=3), a_row("MSFT", 5, offset=4), a_row("AAPL", 7, offset=5)])
    assert len(client.pipelines) == attempts
    assert metrics.value("tickwise_redis_pending_symbols") == 3
    clock.now += 0.1
    partition.write_batch([a_row("IBM", 15, offset=6)])  # older than the pending IBM row: it loses
    assert client.stored == {"p:IBM": (20, 3), "p:MSFT": (10, 2), "p:AAPL": (7, 5)}
    assert not partition.pending_symbols
    assert metrics.value("tickwise_redis_pending_symbols") == 0
    assert metrics.value("tickwise_redis_last_success_timestamp_seconds") == 1_765_000_000.0
    assert metrics.value("tickwise_sink_rows_total", sink="redis", table="features") == 3


def test_backoff_doubles_after_each_failure_up_to_its_maximum() -> None:
    client = FakeRedis()
    clock = FakeClock()
    partition = a_partition(client, MetricsRegistry(), clock)
    client.errors = [RedisConnectionError("Connection refused")] * 10
    began = clock.now
    tries: list[float] = []
    while clock.now - began < 40:
        before = len(client.pipelines)
        partition.write_batch([a_row("IBM", int(clock.now * 1000))])
        if len(client.pipelines) > before:
            tries.append(round(clock.now - began, 2))
        clock.now += 0.01
    gaps = [round(b - a, 1) for a, b in zip(tries, tries[1:])]
    assert gaps[:6] == [0.2, 0.5, 1.0, 2.0, 4.0, 5.0] or gaps[:6] == [0.3, 0.5, 1.0, 2.0, 4.0, 5.0]
    assert set(gaps[6:9]) == {5.0}
    assert not partition.pending_symbols  # the 11th attempt went through


def test_an_outage_logs_its_first_failure_and_its_recovery_once_each_without_the_password(
        caplog: pytest.LogCaptureFixture) -> None:
    client = FakeRedis()
    clock = FakeClock()
    partition = a_partition(client, MetricsRegistry(), clock)
    client.errors = [RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")] * 5
    with caplog.at_level(logging.INFO, logger="sinks.redis_store"):
        for _ in range(200):
            partition.write_batch([a_row("IBM", int(clock.now * 1000))])
            clock.now += 0.05
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert "failed" in messages[0] and "redis://:***@127.0.0.1:6379/0" in messages[0]
    assert "Connection refused" in messages[0]
    assert "work again" in messages[1] and "5 failed attempts" in messages[1]
    assert "hunter2" not in caplog.text


def test_close_makes_one_last_attempt_ignoring_the_backoff() -> None:
    client = FakeRedis()
    partition = a_partition(client, MetricsRegistry())
    client.errors = [RedisConnectionError("Connection refused")]
    partition.write_batch([a_row("IBM", 5)])
    partition.close()
    assert client.stored == {"p:IBM": (5, 0)} and client.closed


def test_close_retries_with_backoff_until_redis_takes_the_rows_within_the_close_wait() -> None:
    client = FakeRedis()
    partition = a_partition(client, MetricsRegistry(), close_wait_s=5.0)
    client.errors = [RedisConnectionError("Connection refused")] * 4  # the batch's attempt and three at close
    partition.write_batch([a_row("IBM", 5)])
    partition.close()
    assert client.stored == {"p:IBM": (5, 0)} and client.closed


def test_close_when_redis_is_still_down_then_counts_and_logs_the_unwritten_symbols(
        caplog: pytest.LogCaptureFixture) -> None:
    client = FakeRedis()
    metrics = MetricsRegistry()
    partition = a_partition(client, metrics)
    client.errors = [RedisConnectionError("Connection refused")] * 2
    partition.write_batch([a_row("IBM", 5), a_row("MSFT", 6)])
    with caplog.at_level(logging.ERROR, logger="sinks.redis_store"):
        partition.close()
    assert metrics.value("tickwise_redis_unwritten_rows_total") == 2
    assert metrics.value("tickwise_redis_pending_symbols") == 0
    assert "2 symbols not written" in caplog.text and "IBM, MSFT" in caplog.text
    assert client.closed


def test_close_when_the_flow_is_failing_then_makes_no_attempt_but_still_counts_the_rows() -> None:
    client = FakeRedis()
    metrics = MetricsRegistry()
    partition = a_partition(client, metrics)
    client.errors = [RedisConnectionError("Connection refused")]
    partition.write_batch([a_row("IBM", 5)])
    report_failure("ClickHouse INSERT of 5 rows into 'ticks' failed: [Errno 28] No space left on device")
    try:
        attempts = len(client.pipelines)
        partition.close()
        assert len(client.pipelines) == attempts
        assert metrics.value("tickwise_redis_unwritten_rows_total") == 1
    finally:
        partition_closed()


@pytest.mark.parametrize("field, value", [("socket_timeout_s", 0), ("connect_timeout_s", -1.0),
                                          ("retry_initial_s", float("inf")), ("retry_max_s", 0.01)])
def test_settings_refuse_a_timeout_or_backoff_that_is_not_positive_or_below_the_first_delay(
        field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        RedisSettings("redis://127.0.0.1:6379/0", **{field: value})


def test_write_batch_of_option_features_writes_the_underlyings_options_key_and_counts_them_apart() -> None:
    client, metrics = FakeRedis(), MetricsRegistry()
    settings = RedisSettings("redis://127.0.0.1:6379/0", key_prefix="p:", key_suffix=OPTION_KEY_SUFFIX)
    partition = _RedisFeaturePartition(settings, client, metrics, clock=FakeClock(),  # type: ignore[arg-type]
                                       table="option_features")
    minute = FeatureRow("GOOG", 120, 0, 0, 750.5, ("atm_iv", "rr25"), (0.21, -0.04))
    partition.write_batch([FeatureRow("GOOG", 60, 0, 0, 750.0, ("atm_iv", "rr25"), (0.2, -0.03)), minute])
    [(_, _, key, ts_ns, offset, fields, _, _)] = client.pipelines[-1]
    assert (key, ts_ns, offset) == ("p:GOOG:options", "120", "0")  # the newest minute only, beside the symbol's key
    assert orjson.loads(fields)[-4:] == ["atm_iv", "0.21", "rr25", "-0.04"]
    assert metrics.value("tickwise_sink_rows_total", sink="redis", table="option_features") == 1
    assert metrics.value("tickwise_sink_rows_total", sink="redis", table="features") is None


def test_read_features_with_the_options_suffix_reads_the_underlyings_option_features_only() -> None:
    client = FakeRedis()
    client.hashes["tickwise:features:GOOG"] = {b"ts_ns": b"61000000000", b"offset": b"9", b"spread": b"0.2"}
    client.hashes["tickwise:features:GOOG:options"] = {b"ts_ns": b"60000000000", b"offset": b"0",
                                                       b"atm_iv": b"0.21"}
    options = read_features(client, "GOOG", key_suffix=OPTION_KEY_SUFFIX)  # type: ignore[arg-type]
    assert options == {"ts_ns": 60_000_000_000, "offset": 0, "atm_iv": 0.21}
    assert "atm_iv" not in read_features(client, "GOOG")  # type: ignore[arg-type]


def test_empty_batch_touches_nothing() -> None:
    client = FakeRedis()
    a_partition(client, MetricsRegistry()).write_batch([])
    assert client.pipelines == []


def test_read_features_types_positions_as_int_and_features_as_float() -> None:
    client = FakeRedis()
    client.hashes["tickwise:features:IBM"] = {b"ts_ns": b"1700000000000000001", b"offset": b"4",
                                              b"partition": b"0", b"price": b"100.5", b"rsi": b"nan"}
    features = read_features(client, "IBM")  # type: ignore[arg-type]
    assert features["ts_ns"] == 1_700_000_000_000_000_001
    assert features["price"] == 100.5
    assert math.isnan(features["rsi"])
    assert read_features(client, "MSFT") == {}  # type: ignore[arg-type]


def test_settings_hide_the_password() -> None:
    settings = RedisSettings("redis://default:hunter2@cache:6379/0")
    assert "hunter2" not in repr(settings)
    assert settings.redacted_url() == "redis://default:***@cache:6379/0"


def test_settings_refuse_a_url_that_is_not_redis() -> None:
    with pytest.raises(ValueError, match="RedisSettings.url"):
        RedisSettings("http://cache:6379")
