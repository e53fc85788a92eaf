"""Specifications of the Kafka tick source: offset specs, and reading a real (Tansu) topic exactly once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping

import pytest
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, run_main
from confluent_kafka import Consumer, Producer, TopicPartition

from dataflows.sources import KafkaSourceSettings, KafkaTickSource, commit_positions, parse_offsets
from dataflows.stack import StackInfo
from operators.messages import SourceRecord
from sinks.kafka import KafkaSettings, ensure_topics

PARTITIONS = 2
PER_PARTITION = 500


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("0:100,1:250", {0: 100, 1: 250}),
        ("0:100, 1:250", {0: 100, 1: 250}),
        (" 3:0 ", {3: 0}),
        ("0:1,", {0: 1}),
        ("", {}),
    ],
)
def test_parse_offsets_when_well_formed_then_partition_to_offset(spec: str, expected: dict[int, int]) -> None:
    assert parse_offsets(spec) == expected


@pytest.mark.parametrize("bad", ["0", "0=100", "a:1", "0:b", "-1:5", "0:-5", "0:1:2", ":5", "0:"])
def test_parse_offsets_when_malformed_then_value_error_quotes_the_bad_pair(bad: str) -> None:
    with pytest.raises(ValueError, match="expected PARTITION:OFFSET pairs") as caught:
        parse_offsets(f"7:70,{bad}")

    assert repr(bad.strip()) in str(caught.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"batch_size": 0}, {"start_offsets": {-1: 0}}, {"end_offsets": {0: -3}}],
)
def test_kafka_source_settings_when_invalid_then_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="got"):
        KafkaSourceSettings(bootstrap="127.0.0.1:9092", topic="ticks", **kwargs)  # type: ignore[arg-type]


# --- on the real broker ------------------------------------------------------------------------------------


def value_of(partition: int, index: int) -> bytes:
    return f"p{partition}-m{index}".encode()


@pytest.fixture(scope="module")
def filled_topic(stack: StackInfo) -> Iterator[str]:
    """A uuid topic with 2 partitions holding 500 known messages each (1,000 in all)."""
    topic = f"t{uuid.uuid4().hex[:10]}.ticks"
    ensure_topics(KafkaSettings(stack.kafka_bootstrap, idempotence=False), [topic], PARTITIONS)
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap, "linger.ms": 5})
    failures: list[object] = []
    for index in range(PER_PARTITION):
        for partition in range(PARTITIONS):
            producer.produce(topic, value=value_of(partition, index), key=f"k{index}".encode(), partition=partition,
                             on_delivery=lambda error, _msg: failures.append(error) if error else None)
    assert producer.flush(30) == 0 and not failures
    yield topic


def read_all(stack: StackInfo, topic: str, *, start_offsets: Mapping[int, int] | None = None,
             end_offsets: Mapping[int, int] | None = None, until_eof: bool = True) -> list[SourceRecord]:
    source = KafkaTickSource(KafkaSourceSettings(
        bootstrap=stack.kafka_bootstrap, topic=topic, batch_size=128, until_eof=until_eof,
        start_offsets=start_offsets or {}, end_offsets=end_offsets or {},
    ))
    out: list[SourceRecord] = []
    flow = Dataflow(f"read_{uuid.uuid4().hex[:6]}")
    op.output("out", op.input("ticks_in", flow, source), TestingSink(out))
    run_main(flow)
    return out


def positions(records: list[SourceRecord]) -> list[tuple[int, int, bytes | None]]:
    return sorted((record.partition, record.offset, record.value) for record in records)


def expected_positions(ranges: Mapping[int, range]) -> list[tuple[int, int, bytes]]:
    return sorted((partition, offset, value_of(partition, offset))
                  for partition, offsets in ranges.items() for offset in offsets)


@pytest.mark.integration
def test_kafka_source_when_until_eof_then_every_message_once_with_its_position(
        stack: StackInfo, filled_topic: str) -> None:
    records = read_all(stack, filled_topic)

    assert len(records) == PARTITIONS * PER_PARTITION
    assert positions(records) == expected_positions({p: range(PER_PARTITION) for p in range(PARTITIONS)})
    assert {record.topic for record in records} == {filled_topic}
    assert all(record.key == f"k{record.offset}".encode() for record in records)
    for partition in range(PARTITIONS):
        offsets = [record.offset for record in records if record.partition == partition]
        assert offsets == sorted(offsets)  # a partition is read in order


@pytest.mark.integration
def test_kafka_source_when_end_offsets_then_stops_exactly_before_them(stack: StackInfo, filled_topic: str) -> None:
    ends = {0: 137, 1: PER_PARTITION - 1}

    records = read_all(stack, filled_topic, end_offsets=ends, until_eof=False)

    assert positions(records) == expected_positions({p: range(end) for p, end in ends.items()})


@pytest.mark.integration
def test_kafka_source_when_start_offsets_then_resumes_there_and_reads_to_the_end(
        stack: StackInfo, filled_topic: str) -> None:
    starts = {0: 400, 1: 1}

    records = read_all(stack, filled_topic, start_offsets=starts)

    assert positions(records) == expected_positions({p: range(start, PER_PARTITION) for p, start in starts.items()})


@pytest.mark.integration
def test_kafka_source_when_start_and_end_offsets_then_reads_the_half_open_range(
        stack: StackInfo, filled_topic: str) -> None:
    records = read_all(stack, filled_topic, start_offsets={0: 10, 1: 250}, end_offsets={0: 20, 1: 251},
                       until_eof=False)

    assert positions(records) == expected_positions({0: range(10, 20), 1: range(250, 251)})


@pytest.mark.integration
def test_kafka_source_when_resumed_from_snapshot_then_continues_after_last_read(
        stack: StackInfo, filled_topic: str) -> None:
    source = KafkaTickSource(KafkaSourceSettings(stack.kafka_bootstrap, filled_topic, batch_size=100, until_eof=True))
    first = source.build_part("ticks_in", "1", None)
    read: list[SourceRecord] = []
    try:
        while len(read) < 150:
            read.extend(first.next_batch())
        resume = first.snapshot()
        last_read = read[-1].offset
    finally:
        first.close()
    second = source.build_part("ticks_in", "1", resume)
    try:
        while True:
            try:
                read.extend(second.next_batch())
            except StopIteration:
                break
    finally:
        second.close()

    assert resume == last_read + 1
    assert positions(read) == expected_positions({1: range(PER_PARTITION)})


@pytest.mark.integration
def test_kafka_source_when_end_offset_zero_on_empty_partition_then_partition_ends(stack: StackInfo) -> None:
    topic = f"t{uuid.uuid4().hex[:10]}.empty"
    ensure_topics(KafkaSettings(stack.kafka_bootstrap, idempotence=False), [topic], 1)
    source = KafkaTickSource(KafkaSourceSettings(stack.kafka_bootstrap, topic, end_offsets={0: 0}, until_eof=True))
    partition = source.build_part("ticks_in", "0", None)
    read: list[SourceRecord] = []
    try:
        with pytest.raises(StopIteration):
            for _ in range(40):  # bounded: a correct source ends at once, or after the first fetch reports EOF
                read.extend(partition.next_batch())
    finally:
        partition.close()
    assert read == []


def committed(stack: StackInfo, topic: str, group_id: str, partition: int) -> int:
    consumer = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": group_id})
    try:
        [found] = consumer.committed([TopicPartition(topic, partition)], timeout=10)
    finally:
        consumer.close()
    return found.offset


@pytest.mark.integration
def test_kafka_source_when_group_id_then_each_snapshot_commits_the_previous_one_never_its_own(
        stack: StackInfo, filled_topic: str) -> None:
    group_id = f"g{uuid.uuid4().hex[:8]}"
    source = KafkaTickSource(KafkaSourceSettings(stack.kafka_bootstrap, filled_topic, batch_size=100,
                                                 group_id=group_id))
    partition = source.build_part("ticks_in", "0", None)
    def read_some() -> None:
        deadline = time.monotonic() + 20
        while not partition.next_batch():
            assert time.monotonic() < deadline, "nothing read from the topic"

    try:
        read_some()
        first = partition.snapshot()
        time.sleep(0.5)
        after_first = committed(stack, filled_topic, group_id, 0)
        read_some()
        second = partition.snapshot()
        deadline = time.monotonic() + 10
        while (after_second := committed(stack, filled_topic, group_id, 0)) != first and time.monotonic() < deadline:
            partition.next_batch()  # serves the asynchronous commit's report
    finally:
        partition.close()

    assert 0 < first < second
    assert after_first < 0, "the first snapshot was committed before Bytewax stored it"
    assert after_second == first


@pytest.mark.integration
def test_commit_positions_when_given_then_the_group_reads_them_back(stack: StackInfo, filled_topic: str) -> None:
    group_id = f"g{uuid.uuid4().hex[:8]}"

    commit_positions(stack.kafka_bootstrap, filled_topic, group_id, {0: 123, 1: PER_PARTITION})

    assert committed(stack, filled_topic, group_id, 0) == 123
    assert committed(stack, filled_topic, group_id, 1) == PER_PARTITION
