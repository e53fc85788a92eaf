"""Unit specification of the Redis online-feature sink: per-symbol collapse and CAS accounting."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

from operators.messages import FeatureRow
from sinks.metrics import MetricsRegistry
from sinks.redis_store import (
    COMPARE_AND_SET_LUA,
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
        if self.client.error is not None:
            error, self.client.error = self.client.error, None
            raise error
        return [self.client.results.get(call[2], 1) for call in self.calls]


class FakeRedis:
    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.pipelines: list[list[tuple[Any, ...]]] = []
        self.results: dict[str, int] = {}
        self.error: Exception | None = None
        self.hashes: dict[str, dict[bytes, bytes]] = {}

    def script_load(self, script: str) -> str:
        self.loaded.append(script)
        return f"sha{len(self.loaded)}"

    def pipeline(self, transaction: bool) -> FakePipeline:
        assert transaction is False
        return FakePipeline(self)

    def hgetall(self, key: str) -> dict[bytes, bytes]:
        return self.hashes.get(key, {})

    def close(self) -> None:
        pass


def a_partition(client: FakeRedis, metrics: MetricsRegistry) -> _RedisFeaturePartition:
    return _RedisFeaturePartition(RedisSettings("redis://127.0.0.1:6379/0", key_prefix="p:"),
                                  client, metrics)  # type: ignore[arg-type]


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
    first = client.pipelines[0]
    assert [call[2] for call in first] == ["p:IBM", "p:MSFT"]
    sha, numkeys, key, ts_ns, offset, fields, repair_after, ttl_ms = first[0]
    assert (sha, numkeys, ts_ns, offset, repair_after, ttl_ms) == ("sha1", 1, "6", "0", str(6 + 3_600 * 10**9), "0")
    assert orjson.loads(fields) == ["ts_ns", "6", "partition", "0", "offset", "0", "price", "100.0",
                                    "feature_set", "", "quality", "", "spread", "0.1",
                      "rsi", "nan"]


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
    client.error = NoScriptError("No matching script")
    partition.write_batch([a_row("IBM", 5)])
    assert len(client.loaded) == 2
    assert client.pipelines[-1][0][0] == "sha2"
    assert partition.written == 1


def test_write_batch_when_redis_fails_then_raises_and_counts_error() -> None:
    client = FakeRedis()
    metrics = MetricsRegistry()
    partition = a_partition(client, metrics)
    client.error = RedisConnectionError("connection refused")
    with pytest.raises(RedisConnectionError):
        partition.write_batch([a_row("IBM", 5)])
    assert metrics.value("tickwise_sink_errors_total", sink="redis") == 1


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
