"""Hostile input on the real embedded stack, interleaved with a real hour of IBM ticks.

Every corpus message, three 2 MB messages and the stateful cases (a late tick, a tick an hour
in the future, a producer retry with the same sequence number, an identical copy of a real
print) are produced between IBM's real ticks of 2013-10-09 14:00-15:00 UTC, all with key
``IBM`` so they share one partition with the real ticks. The live flow runs to the end of the
topic; then every bad message must be on ``ticks.dlq`` with its reason, every offset must be a
tick or a reject, and no feature row or signal may come from a rejected tick.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import orjson
import pandas as pd
import pytest
from bytewax.testing import run_main

from dataflows.components import build_components
from dataflows.produce import produce_messages
from dataflows.signals import build_flow
from dataflows.tickfiles import encode_ticks, read_tick_frame
from dataflows.verify import verify
from operators.messages import Trade
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter, count_all
from sinks.metrics import MetricsRegistry
from tests.fuzz.test_hostile_input import corpus, expected_reason, huge_messages
from tests.integration.flowkit import create_topics, read_topic, topic_settings

pytestmark = pytest.mark.integration

START = int(pd.Timestamp("2013-10-09 14:00", tz="UTC").value)
END = int(pd.Timestamp("2013-10-09 15:00", tz="UTC").value)
SECOND = 1_000_000_000
HOUR = 3_600 * SECOND
# Marker sequence numbers: real ticks carry none, so these identify the stateful cases.
LATE_SEQ, OUTLIER_SEQ, RETRY_SEQ = 900_001, 900_002, 900_003
# librdkafka refuses to produce messages over 1 MB unless told otherwise.
BIG_MESSAGES = {"message.max.bytes": str(8 * 1024 * 1024)}


def _stateful_cases(real: list[tuple[bytes, bytes]], at: int) -> list[tuple[str, bytes]]:
    """Ticks around the real tick at index ``at``: (expected outcome, value)."""
    ts_ns = orjson.loads(real[at][1])["ts_ns"]
    return [
        ("ts_late", msgspec.json.encode(Trade("IBM", ts_ns - 30 * SECOND, 181.0007, 100.0, seq=LATE_SEQ))),
        ("ts_ahead", msgspec.json.encode(Trade("IBM", ts_ns + HOUR + 5 * 60 * SECOND, 181.0007, 100.0,
                                               seq=OUTLIER_SEQ))),
        ("valid", msgspec.json.encode(Trade("IBM", ts_ns, 181.0007, 100.0, seq=RETRY_SEQ))),
        ("duplicate_sequence", msgspec.json.encode(Trade("IBM", ts_ns, 181.0007, 100.0, seq=RETRY_SEQ))),
        ("valid", real[at][1]),  # an identical copy of a real print: a real-looking trade, kept
    ]


@pytest.fixture(scope="module")
def hostile_run(stack, market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("hostile")
    settings = topic_settings(stack, f"hostile{work.name[-6:]}", f"chdb://{work / 'chdb'}")
    create_topics(settings)
    frame = read_tick_frame([market_data / "trades.csv.gz", market_data / "quotes.csv.gz"], ["IBM"], START, END)
    real = list(encode_ticks(frame))
    bad = [(expected_reason(name), raw) for name, raw in corpus() + huge_messages()]
    messages: list[tuple[bytes, bytes]] = []
    expected: list[str] = []  # per produced message, in order: "real", "valid" or a reject reason
    step = len(real) // (len(bad) + 2)
    stateful_at = len(real) // 2
    cursor = 0
    for index, (tick_key, tick_value) in enumerate(real):
        messages.append((tick_key, tick_value))
        expected.append("real")
        if index == stateful_at:
            for outcome, value in _stateful_cases(real, index):
                messages.append((b"IBM", value))
                expected.append(outcome)
        if step and index % step == step - 1 and cursor < len(bad):
            messages.append((b"IBM", bad[cursor][1]))
            expected.append(bad[cursor][0])
            cursor += 1
    for reason, raw in bad[cursor:]:
        messages.append((b"IBM", raw))
        expected.append(reason)
    produced = produce_messages(settings.kafka.bootstrap, settings.kafka.ticks_topic, messages,
                                extra=BIG_MESSAGES).messages

    registry = MetricsRegistry()
    components = build_components(settings, registry=registry)
    run_main(build_flow(components, components.kafka_source(), components.live_outputs()))

    source = read_topic(settings.kafka.bootstrap, settings.kafka.ticks_topic)
    assert len(source) == produced
    # One producer, one key: the partition holds the messages in production order.
    assert [message.value() for message in source] == [value for _, value in messages]
    positions = [(message.partition(), message.offset()) for message in source]
    writer = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse.url.get_secret_value()))
    client = writer.connect()
    return {"settings": settings, "produced": produced, "expected": dict(zip(positions, expected)),
            "client": client, "counts": count_all(client), "registry": registry}


def test_hostile_stream_valid_plus_rejected_equals_produced_and_no_offset_is_lost(hostile_run: dict) -> None:
    counts = hostile_run["counts"]
    assert counts["ticks"] + counts["rejects"] == hostile_run["produced"]
    registry = hostile_run["registry"]
    assert registry.value("tickwise_ticks_total", outcome="valid") + \
        registry.value("tickwise_ticks_total", outcome="rejected") == hostile_run["produced"]
    report = verify(hostile_run["client"], hostile_run["settings"].kafka.ticks_topic)
    assert report.ok and report.missing_offsets == 0


def test_hostile_stream_every_bad_message_is_on_the_dead_letter_topic_with_its_reason(hostile_run: dict) -> None:
    settings = hostile_run["settings"]
    dead = {}
    for message in read_topic(settings.kafka.bootstrap, settings.kafka.dlq_topic):
        headers = {key: value.decode() for key, value in message.headers()}
        assert headers["tickwise.reason"] and headers["tickwise.detail"]
        dead[(int(headers["tickwise.source.partition"]), int(headers["tickwise.source.offset"]))] = \
            headers["tickwise.reason"]
    wanted = {position: outcome for position, outcome in hostile_run["expected"].items()
              if outcome not in ("real", "valid")}
    assert len(wanted) >= 85
    assert {position: dead.get(position) for position in wanted} == wanted
    # Real ticks and the kept copies are not dead letters (apart from real-tape quirks the
    # validation rejects on its own, such as crossed quotes).
    extra = {reason for position, reason in dead.items() if position not in wanted}
    assert extra <= {"crossed_quote", "ts_late"}, extra


def test_hostile_stream_no_feature_row_or_signal_comes_from_a_rejected_tick(hostile_run: dict) -> None:
    client = hostile_run["client"]
    rejected = {(row[0], row[1]) for row in client.query("SELECT partition, offset FROM rejects FINAL").result_rows}
    late = {position for position, outcome in hostile_run["expected"].items() if outcome == "ts_late"}
    assert late <= rejected
    for table in ("features", "predictions", "signals"):
        sources = {(row[0], row[1]) for row in client.query(
            f"SELECT partition, offset FROM {table} FINAL").result_rows}
        assert sources, f"no {table} on a real hour of IBM"
        assert not sources & rejected, f"{table} produced from a rejected tick"
    signals = read_topic(hostile_run["settings"].kafka.bootstrap, hostile_run["settings"].kafka.signals_topic)
    bodies = [orjson.loads(message.value()) for message in signals]
    assert bodies, "no signal on the signals topic"
    assert {(body["source_partition"], body["source_offset"]) for body in bodies}.isdisjoint(rejected)


def test_hostile_stream_an_hour_ahead_outlier_does_not_stall_later_ticks_of_its_symbol(hostile_run: dict) -> None:
    client = hostile_run["client"]
    outlier = next(position for position, outcome in hostile_run["expected"].items() if outcome == "ts_ahead")
    partition, offset = outlier
    real_after = sum(1 for (p, o), outcome in hostile_run["expected"].items()
                     if p == partition and o > offset and outcome == "real")
    admitted_after = int(client.command(
        f"SELECT count() FROM ticks FINAL WHERE partition = {partition} AND offset > {offset} AND symbol = 'IBM'"))
    rows_after = int(client.command(
        f"SELECT count() FROM features FINAL WHERE partition = {partition} AND offset > {offset}"))
    assert real_after > 1000
    rejected_real_after = int(client.command(
        f"SELECT count() FROM rejects FINAL WHERE partition = {partition} AND offset > {offset} "
        "AND reason IN ('ts_late', 'ts_ahead')"))
    assert rejected_real_after == 0, "ticks after the outlier were judged against its clock"
    assert admitted_after >= real_after - 20  # the real tape's own crossed quotes may go
    assert rows_after > 500
    max_feature_ts = int(client.command("SELECT max(ts_ns) FROM features FINAL"))
    assert max_feature_ts < END


def test_hostile_stream_identical_print_is_kept_and_the_producer_retry_is_dropped(hostile_run: dict) -> None:
    client = hostile_run["client"]
    retries = client.query(f"SELECT offset FROM ticks FINAL WHERE type = 'trade' AND price = 181.0007 "
                           f"AND size = 100").result_rows
    reasons = dict(client.query("SELECT reason, count() FROM rejects FINAL WHERE stage = 'dedupe' "
                                "GROUP BY reason").result_rows)
    assert reasons == {"duplicate_sequence": 1}
    assert len(retries) == 1
    copy = [position for position, outcome in hostile_run["expected"].items() if outcome == "valid"][-1]
    assert int(client.command(f"SELECT count() FROM ticks FINAL WHERE partition = {copy[0]} "
                              f"AND offset = {copy[1]}")) == 1
