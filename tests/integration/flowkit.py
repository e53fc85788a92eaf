"""Helpers for integration tests: produce real ticks, read topics to their end, run flows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import orjson
from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient

from dataflows.config import Settings, environment_names, load_settings
from dataflows.produce import produce_messages
from dataflows.stack import StackInfo
from dataflows.tickfiles import encode_ticks, read_tick_frame
from sinks.kafka import KafkaSettings, ensure_topics

# Messages no tick feed should ever send; each must end on the dead-letter topic.
BAD_MESSAGES: tuple[tuple[bytes | None, bytes], ...] = (
    (b"IBM", b"{not json"),
    (b"IBM", b'{"type":"trade","symbol":"IBM","ts_ns":1381329000000000000,"price":NaN,"size":100}'),
    (b"IBM", b'{"type":"trade","symbol":"IBM","ts_ns":1381329000000000000,"price":1e999,"size":100}'),
    (b"IBM", b'{"type":"trade","symbol":"IBM","ts_ns":1381329000000000000,"price":-1.0,"size":100}'),
    (b"IBM", b'{"type":"quote","symbol":"IBM","ts_ns":1381329000000000000,"bid":181.0,"ask":180.0,'
             b'"bid_size":100,"ask_size":100}'),
    (b"IBM", b'{"type":"trade","symbol":"IBM","price":180.0,"size":100}'),
    (b"IBM", b'{"type":"order","symbol":"IBM","ts_ns":1381329000000000000}'),
    (b"IBM", b"\xff\xfe\x00garbage"),
)


def topic_settings(stack: StackInfo, prefix: str, chdb_url: str, **overrides: dict[str, object]) -> Settings:
    """Settings of a bounded run on ``stack`` with topics and keys of its own; ``overrides`` per section."""
    return load_settings(
        kafka={"bootstrap": stack.kafka_bootstrap, "ticks_topic": f"{prefix}.ticks", "signals_topic": f"{prefix}.signals",
               "dlq_topic": f"{prefix}.ticks.dlq", "model_events_topic": f"{prefix}.model-events"},
        redis={"url": stack.redis_url, "key_prefix": f"{prefix}:features:"}, clickhouse={"url": chdb_url},
        run={"until_eof": True}, metrics={"port": 0},
    ).replace(**overrides)


def live_settings(stack: StackInfo, prefix: str, work: Path, port: int, **overrides: dict[str, object]) -> Settings:
    """Settings of a live run (no end at EOF) as ``topic_settings``: an embedded ClickHouse and the state in
    ``work``, metrics on ``port``, source batches of 500 ticks; ``overrides`` per section."""
    return topic_settings(stack, prefix, f"chdb://{work / 'chdb'}", run={"until_eof": False, "state_dir": work},
                          metrics={"port": port}, source={"batch_size": 500}).replace(**overrides)


def metrics_text(port: int) -> str:
    """The flow's /metrics page on ``port``; empty while the flow starts (nothing listens yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return response.read().decode()
    except OSError:
        return ""


def create_topics(settings: Settings, partitions: int = 4) -> None:
    kafka = KafkaSettings(bootstrap=settings.kafka.bootstrap, idempotence=False)
    ensure_topics(kafka, [settings.kafka.ticks_topic, settings.kafka.signals_topic, settings.kafka.dlq_topic,
                          settings.kafka.model_events_topic], partitions)


def real_trades(market: Path, symbols: Sequence[str], start_ns: int, end_ns: int
                ) -> dict[str, list[tuple[bytes, bytes]]]:
    """The real trades of ``symbols`` from ``start_ns`` to ``end_ns`` as ticks-topic messages, per symbol, in
    time order."""
    messages = list(encode_ticks(read_tick_frame([market / "trades.csv.gz"], symbols, start_ns, end_ns)))
    return {symbol: [message for message in messages if message[0] == symbol.encode()] for symbol in symbols}


def produce_real_day(settings: Settings, market: Path, symbols: Sequence[str], start_ns: int, end_ns: int,
                     bad_messages: Sequence[tuple[bytes | None, bytes]] = ()) -> int:
    frame = read_tick_frame([market / "trades.csv.gz", market / "quotes.csv.gz"], symbols, start_ns, end_ns)
    messages = list(encode_ticks(frame))
    # Spread the bad messages through the day so they arrive between real ticks.
    step = max(1, len(messages) // (len(bad_messages) + 1))
    for index, bad in enumerate(bad_messages, start=1):
        messages.insert(min(index * step + index - 1, len(messages)), bad)
    report = produce_messages(settings.kafka.bootstrap, settings.kafka.ticks_topic, messages)
    return report.messages


def read_topic(bootstrap: str, topic: str, timeout_s: float = 60.0) -> list[object]:
    """Every message of ``topic`` up to its end (decided by the fetch, not broker metadata)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    partitions = sorted(admin.list_topics(topic, timeout=10).topics[topic].partitions)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{topic}", "enable.auto.commit": False,
                         "enable.partition.eof": True, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, partition, 0) for partition in partitions])
    import time

    deadline = time.monotonic() + timeout_s
    finished: set[int] = set()
    messages = []
    while len(finished) < len(partitions) and time.monotonic() < deadline:
        for message in consumer.consume(10_000, 0.5):
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    finished.add(message.partition())
                    continue
                raise RuntimeError(str(message.error()))
            messages.append(message)
    consumer.close()
    if len(finished) < len(partitions):
        raise TimeoutError(f"{topic}: only {len(finished)} of {len(partitions)} partitions reached their end")
    return messages


def cli_environment(settings: Settings, **variables: str) -> dict[str, str]:
    """The environment of a ``tickwise`` child process on ``settings``' broker, topics, Redis keys and
    ClickHouse, metrics on a free port; tickwise variables of the calling shell are left out so only
    the test decides. ``variables`` adds or replaces environment variables."""
    clean = {name: value for name, value in os.environ.items() if name not in environment_names()}
    kafka = settings.kafka
    return {**clean,
            "KAFKA_BOOTSTRAP": kafka.bootstrap,
            "KAFKA_TICKS_TOPIC": kafka.ticks_topic,
            "KAFKA_SIGNALS_TOPIC": kafka.signals_topic,
            "KAFKA_DLQ_TOPIC": kafka.dlq_topic,
            "KAFKA_MODEL_EVENTS_TOPIC": kafka.model_events_topic,
            "REDIS_URL": settings.redis.url.get_secret_value(),
            "TICKWISE_REDIS_KEY_PREFIX": settings.redis.key_prefix,
            "CLICKHOUSE_URL": settings.clickhouse.url.get_secret_value(),
            "TICKWISE_METRICS_PORT": "0",
            "TICKWISE_MODEL": settings.model.spec,  # the plumbing model (conftest.py) unless a test says otherwise
            **variables}


def stop_flow(process: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """Stop a flow process as an operator would (SIGINT); kill it if it has not ended in ``timeout_s``."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def chdb_rows(chdb_dir: Path, sql: str) -> list[list[object]]:
    """Rows of ``sql`` on a run's chDB, read in a child process (chDB allows one data directory per process)."""
    script = ("import sys, orjson, clickhouse_connect\n"
              "client = clickhouse_connect.get_client(dsn=sys.argv[1])\n"
              "print(orjson.dumps([list(row) for row in client.query(sys.argv[2]).result_rows]).decode())\n")
    done = subprocess.run([sys.executable, "-c", script, f"chdb://{chdb_dir}", sql], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return orjson.loads(done.stdout.strip().splitlines()[-1])
