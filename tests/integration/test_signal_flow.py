"""The whole tick-to-signal path on the real embedded stack, with one real symbol-day.

Tansu (Kafka API), a real Redis-protocol server and chDB: produce IBM's 2013-10-09
session (trades and quotes, merged in time order) plus a handful of hostile messages, run
the live flow to the end of the topic, and check every sink against the others.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd
import pytest
import redis
from bytewax.testing import run_main

from dataflows.components import build_components
from dataflows.signals import build_flow
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter, count_all
from sinks.metrics import MetricsRegistry
from sinks.redis_store import read_features
from tests.integration.flowkit import (BAD_MESSAGES, create_topics, produce_real_day, read_topic,
                                       topic_settings)

pytestmark = pytest.mark.integration

DAY_START = int(pd.Timestamp("2013-10-09 08:00", tz="UTC").value)
DAY_END = int(pd.Timestamp("2013-10-10 00:00", tz="UTC").value)


@pytest.fixture(scope="module")
def ibm_day_run(stack, market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the live flow once over IBM's real day; the tests below inspect what it left."""
    work = tmp_path_factory.mktemp("ibm_day")
    settings = topic_settings(stack, "ibmday", f"chdb://{work / 'chdb'}")
    create_topics(settings)
    produced = produce_real_day(settings, market_data, ["IBM"], DAY_START, DAY_END, BAD_MESSAGES)
    registry = MetricsRegistry()
    components = build_components(settings, registry=registry)
    outputs = components.live_outputs()
    run_main(build_flow(components, components.kafka_source(), outputs))

    writer = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse.url.get_secret_value()))
    client = writer.connect()
    return {"settings": settings, "produced": produced, "client": client, "counts": count_all(client),
            "registry": registry, "stack": stack, "market": market_data}


def test_valid_plus_rejected_equals_produced(ibm_day_run: dict) -> None:
    counts = ibm_day_run["counts"]
    assert counts["ticks"] > 80_000
    assert counts["ticks"] + counts["rejects"] == ibm_day_run["produced"]
    registry = ibm_day_run["registry"]
    valid = registry.value("tickwise_ticks_total", outcome="valid")
    rejected = registry.value("tickwise_ticks_total", outcome="rejected")
    assert valid + rejected == ibm_day_run["produced"]
    assert rejected == counts["rejects"]


def test_every_bad_message_is_rejected_with_a_reason(ibm_day_run: dict) -> None:
    client = ibm_day_run["client"]
    reasons = dict(client.query("SELECT reason, count() FROM rejects FINAL GROUP BY reason").result_rows)
    for expected in ("invalid_json", "price_out_of_bounds", "crossed_quote", "missing_field", "unknown_type"):
        assert reasons.get(expected, 0) >= 1, f"no {expected} reject in {reasons}"
    raws = {row[0] for row in client.query("SELECT raw FROM rejects FINAL").result_rows}
    assert len(raws) >= len({bad for _, bad in BAD_MESSAGES}) - 1


def test_every_reject_is_on_the_dead_letter_topic_with_its_source_position(ibm_day_run: dict) -> None:
    settings = ibm_day_run["settings"]
    messages = read_topic(settings.kafka.bootstrap, settings.kafka.dlq_topic)
    client = ibm_day_run["client"]
    table = {(row[0], row[1]): row[2] for row in client.query(
        "SELECT partition, offset, reason FROM rejects FINAL").result_rows}
    assert len(messages) >= len(table)
    seen = {}
    for message in messages:
        headers = {key: value.decode() for key, value in message.headers()}
        assert headers["tickwise.reason"]
        assert headers["tickwise.source.topic"] == settings.kafka.ticks_topic
        seen[(int(headers["tickwise.source.partition"]), int(headers["tickwise.source.offset"]))] = \
            headers["tickwise.reason"]
    assert seen == table
    bad_values = {bad for _, bad in BAD_MESSAGES}
    assert bad_values <= {message.value() for message in messages}


def test_clickhouse_signals_equal_the_signals_topic(ibm_day_run: dict) -> None:
    settings = ibm_day_run["settings"]
    client = ibm_day_run["client"]
    messages = read_topic(settings.kafka.bootstrap, settings.kafka.signals_topic)
    from_kafka = {}
    for message in messages:
        body = orjson.loads(message.value())
        assert message.key() == body["symbol"].encode()
        from_kafka[body["signal_id"]] = (body["direction"], round(body["size"], 6), body["model_version"])
    rows = client.query("SELECT signal_id, direction, size, model_version FROM signals FINAL").result_rows
    from_clickhouse = {row[0]: (row[1], round(row[2], 6), row[3]) for row in rows}
    assert len(from_clickhouse) > 0, "the flow produced no accepted signal on a full real day"
    assert from_kafka == from_clickhouse
    assert len(messages) == len(from_kafka), "a signal was produced twice"


def test_every_prediction_has_exactly_one_decision_with_a_reason(ibm_day_run: dict) -> None:
    client = ibm_day_run["client"]
    counts = ibm_day_run["counts"]
    assert counts["predictions"] == counts["features"] > 1000
    assert counts["risk_decisions"] == counts["predictions"]
    empty = client.command("SELECT count() FROM risk_decisions FINAL WHERE reason = ''")
    assert int(empty) == 0


def test_redis_holds_the_latest_features_at_the_last_in_session_tick_of_each_symbol(ibm_day_run: dict) -> None:
    settings = ibm_day_run["settings"]
    client = ibm_day_run["client"]
    last_row = int(client.command("SELECT max(ts_ns) FROM features FINAL WHERE symbol = 'IBM'"))
    last_tick = int(client.command("SELECT max(ts_ns) FROM ticks FINAL WHERE symbol = 'IBM'"))
    redis_client = redis.Redis.from_url(settings.redis.url.get_secret_value())
    stored = read_features(redis_client, "IBM", settings.redis.key_prefix)
    assert int(stored["ts_ns"]) == last_row < last_tick  # post-market ticks (to 20:00 ET) update no feature
    assert "rsi_1m" in stored and "spread_bps" in stored


def test_features_the_live_flow_stored_equal_what_the_trainer_computes_for_the_same_ticks(ibm_day_run: dict) -> None:
    """Train/serve parity: `tickwise train`'s backfill over the same real ticks gives the same rows."""
    import math

    from dataflows.backfill import run_backfill
    from dataflows.components import build_components as build

    settings = ibm_day_run["settings"]
    market = ibm_day_run["market"]
    backfill = run_backfill(build(settings, registry=MetricsRegistry()),
                            [market / "trades.csv.gz", market / "quotes.csv.gz"], DAY_START, DAY_END, ["IBM"])
    trainer = {(row.ts_ns, row.price): (row.names, row.values, row.feature_set) for row in backfill.rows}
    live_rows = ibm_day_run["client"].query(
        "SELECT ts_ns, price, names, values, feature_set FROM features FINAL WHERE symbol = 'IBM' ORDER BY ts_ns"
    ).result_rows
    assert len(live_rows) == len(trainer) > 10_000
    for ts_ns, price, names, values, feature_set in live_rows:
        expected_names, expected_values, expected_set = trainer[(ts_ns, price)]
        assert tuple(names) == expected_names and feature_set == expected_set
        for name, got, want in zip(names, values, expected_values):
            assert (math.isnan(got) and math.isnan(want)) or got == want, (ts_ns, name, got, want)
