"""The Redis online-feature sink on a real Redis/Valkey server: writes only move forward."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator

import pytest
import redis

from dataflows.stack import StackInfo
from operators.messages import FeatureRow
from sinks.metrics import MetricsRegistry
from sinks.redis_store import RedisFeatureSink, RedisSettings, read_features

pytestmark = pytest.mark.integration

TS = 1_700_000_000_000_000_000


def a_row(symbol: str, ts_ns: int, offset: int, spread: float = 0.1,
          names: tuple[str, ...] = ("spread", "rsi")) -> FeatureRow:
    values = (spread, math.nan, 1.0)[: len(names)]
    return FeatureRow(symbol, ts_ns, 0, offset, 100.0 + spread, names, values)


@pytest.fixture()
def settings(stack: StackInfo, topic_prefix: str) -> RedisSettings:
    return RedisSettings(stack.redis_url, key_prefix=f"{topic_prefix}:features:")


@pytest.fixture()
def client(settings: RedisSettings) -> Iterator[redis.Redis]:
    client = settings.client()
    yield client
    client.close()


def test_a_newer_row_wins_and_an_older_row_written_after_it_is_skipped(
        settings: RedisSettings, client: redis.Redis) -> None:
    partition = RedisFeatureSink(settings, MetricsRegistry()).build("features_out", 0, 1)
    partition.write_batch([a_row("IBM", TS + 10, 5, spread=0.5)])
    partition.write_batch([a_row("IBM", TS + 20, 9, spread=0.7)])
    partition.write_batch([a_row("IBM", TS + 15, 7, spread=0.6)])
    partition.close()
    stored = read_features(client, "IBM", settings.key_prefix)
    assert (stored["ts_ns"], stored["offset"], stored["spread"]) == (TS + 20, 9, 0.7)
    assert math.isnan(stored["rsi"])
    assert (partition.written, partition.stale) == (2, 1)


def test_timestamps_one_nanosecond_apart_are_ordered_exactly(settings: RedisSettings, client: redis.Redis) -> None:
    partition = RedisFeatureSink(settings, MetricsRegistry()).build("features_out", 0, 1)
    partition.write_batch([a_row("IBM", TS + 2, 1, spread=0.2)])
    partition.write_batch([a_row("IBM", TS + 1, 2, spread=0.1)])
    assert read_features(client, "IBM", settings.key_prefix)["ts_ns"] == TS + 2
    assert partition.stale == 1


def test_equal_timestamps_are_decided_by_offset(settings: RedisSettings, client: redis.Redis) -> None:
    partition = RedisFeatureSink(settings, MetricsRegistry()).build("features_out", 0, 1)
    partition.write_batch([a_row("IBM", TS, 8, spread=0.8)])
    partition.write_batch([a_row("IBM", TS, 3, spread=0.3)])
    partition.write_batch([a_row("IBM", TS, 8, spread=0.8)])
    assert read_features(client, "IBM", settings.key_prefix)["offset"] == 8
    assert (partition.written, partition.stale) == (2, 1)


def test_a_batch_collapses_to_the_latest_row_per_symbol(settings: RedisSettings, client: redis.Redis) -> None:
    partition = RedisFeatureSink(settings, MetricsRegistry()).build("features_out", 0, 1)
    partition.write_batch([a_row("IBM", TS + i, i) for i in range(100)] + [("MSFT", a_row("MSFT", TS, 1))])
    assert partition.written == 2
    assert read_features(client, "IBM", settings.key_prefix)["ts_ns"] == TS + 99
    assert read_features(client, "MSFT", settings.key_prefix)["ts_ns"] == TS


def test_a_new_feature_set_replaces_the_old_fields(settings: RedisSettings, client: redis.Redis) -> None:
    partition = RedisFeatureSink(settings, MetricsRegistry()).build("features_out", 0, 1)
    partition.write_batch([a_row("IBM", TS, 1, names=("spread", "rsi", "old"))])
    partition.write_batch([a_row("IBM", TS + 1, 2, names=("spread",))])
    assert set(read_features(client, "IBM", settings.key_prefix)) == {"ts_ns", "partition", "offset", "price",
                                                                      "feature_set", "quality", "spread"}


def test_concurrent_batches_keep_the_maximum_event_time(settings: RedisSettings, client: redis.Redis) -> None:
    symbols = [f"S{i}" for i in range(20)]
    rows = [a_row(symbol, TS + step * 1_000, step) for symbol in symbols for step in range(200)]
    random.Random(7).shuffle(rows)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            partition = RedisFeatureSink(settings, MetricsRegistry()).build("features_out", index, 4)
            mine = rows[index::4]
            for start in range(0, len(mine), 37):
                partition.write_batch(mine[start:start + 37])
            partition.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    for symbol in symbols:
        stored = read_features(client, symbol, settings.key_prefix)
        assert (stored["ts_ns"], stored["offset"]) == (TS + 199_000, 199)


def test_a_row_stamped_2099_is_repaired_by_the_next_real_row(settings: RedisSettings, client: redis.Redis) -> None:
    partition = RedisFeatureSink(settings, MetricsRegistry()).build("features_out", 0, 1)
    poison = 4_070_908_800 * 1_000_000_000  # 2099-01-01
    partition.write_batch([a_row("AIG", poison, 3, spread=9.9)])
    partition.write_batch([a_row("AIG", TS, 40, spread=0.2)])
    partition.write_batch([a_row("AIG", TS + 5, 41, spread=0.3)])
    stored = read_features(client, "AIG", settings.key_prefix)
    assert (stored["ts_ns"], stored["offset"], stored["spread"]) == (TS + 5, 41, 0.3)
    assert (partition.written, partition.stale, partition.repaired) == (3, 0, 1)


def test_a_stored_row_is_repaired_only_when_more_than_the_ahead_tolerance_ahead(
        stack: StackInfo, topic_prefix: str, client: redis.Redis) -> None:
    hour = 3_600 * 1_000_000_000
    settings = RedisSettings(stack.redis_url, key_prefix=f"{topic_prefix}:repair:", repair_ahead_ns=hour)
    partition = RedisFeatureSink(settings, MetricsRegistry()).build("features_out", 0, 1)
    partition.write_batch([a_row("IBM", TS + hour, 9, spread=0.9)])
    partition.write_batch([a_row("IBM", TS, 1, spread=0.1)])  # exactly the tolerance behind: stale
    assert read_features(client, "IBM", settings.key_prefix)["ts_ns"] == TS + hour
    partition.write_batch([a_row("IBM", TS - 1, 2, spread=0.2)])  # one nanosecond more: repaired
    assert read_features(client, "IBM", settings.key_prefix)["ts_ns"] == TS - 1
    assert (partition.stale, partition.repaired) == (1, 1)


def test_a_symbol_never_written_reads_as_empty(settings: RedisSettings, client: redis.Redis) -> None:
    assert read_features(client, "NOPE", settings.key_prefix) == {}


def test_a_symbol_key_expires_after_its_time_to_live_and_each_write_renews_it(
        stack: StackInfo, topic_prefix: str, client: redis.Redis) -> None:
    import dataclasses
    import time

    settings = RedisSettings(stack.redis_url, key_prefix=f"{topic_prefix}:ttl:", ttl_ms=3_000)
    idle, live = f"{settings.key_prefix}IDLE", f"{settings.key_prefix}LIVE"
    partition = RedisFeatureSink(settings, MetricsRegistry()).build("features_out", 0, 1)
    partition.write_batch([a_row("IDLE", TS, 1), a_row("LIVE", TS, 1)])
    assert 0 < client.pttl(idle) <= 3_000
    time.sleep(1.0)
    partition.write_batch([a_row("LIVE", TS + 1, 2)])  # a write renews the key's time to live
    assert client.pttl(live) > client.pttl(idle) + 500
    deadline = time.monotonic() + 10
    while client.exists(idle) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert read_features(client, "IDLE", settings.key_prefix) == {}  # an idle symbol's row is gone
    assert read_features(client, "LIVE", settings.key_prefix)["ts_ns"] == TS + 1  # about 1 s left on it
    never = dataclasses.replace(settings, key_prefix=f"{topic_prefix}:keep:", ttl_ms=0)
    RedisFeatureSink(never, MetricsRegistry()).build("features_out", 0, 1).write_batch([a_row("IBM", TS, 1)])
    assert client.pttl(f"{never.key_prefix}IBM") == -1  # 0: the key never expires
