"""deploy/clickhouse/kafka_engine.sql: ClickHouse's Kafka engine path parses what tickwise publishes.

No broker here: each Kafka engine table is created as a Memory table with the same columns plus the
Kafka engine's virtual columns (``_error``, ``_key``, ``_topic``, ``_partition``, ``_offset``,
``_headers``), the file's materialized views are created over them unchanged, and messages made by
tickwise's own encoders (``sinks.topics``, ``sinks.kafka``, ``dataflows.tickfiles``) are inserted the
way the engine would: MessagePack through ClickHouse's ``MsgPack`` format, dead letters as raw bytes
with their headers, ticks as ``JSONEachRow``. The rows that land in tickwise's tables (the real DDL)
must carry the fields the encoders were given.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import orjson
import pandas as pd
import pytest

from dataflows.tickfiles import encode_ticks
from operators.messages import Decision, FeatureRow, Prediction, Reject
from sinks.clickhouse import TABLE_DDL
from sinks.kafka import dead_letter_message
from sinks.topics import DECISION_FIELDS, FEATURE_FIELDS, Scored, encode_decision, encode_scored, split_topics

chdb_session = pytest.importorskip("chdb.session")

SQL = Path(__file__).resolve().parents[3] / "deploy" / "clickhouse" / "kafka_engine.sql"
VIRTUAL = ("_error String DEFAULT '', _key String DEFAULT '', _topic String DEFAULT 'ticks', "
           "_partition UInt64 DEFAULT 0, _offset UInt64 DEFAULT 0, _headers Nested(name String, value String)")
TS = 1_381_325_400_000_000_000


def statements() -> list[str]:
    text = "\n".join(line for line in SQL.read_text().splitlines() if not line.lstrip().startswith("--"))
    return [statement.strip() for statement in text.split(";") if statement.strip()]


def kafka_tables() -> dict[str, str]:
    return {re.search(r"TABLE IF NOT EXISTS (\w+)", s).group(1): s for s in statements() if "ENGINE = Kafka" in s}


def setting(statement: str, name: str) -> str:
    return re.search(rf"{name} = '([^']*)'", statement).group(1)


def as_memory_table(statement: str) -> str:
    """The Kafka engine table as a Memory table with the engine's virtual columns."""
    head, _, _ = statement.partition(") ENGINE = Kafka")
    return f"{head}, {VIRTUAL}) ENGINE = Memory"


def tuple_type(statement: str) -> str:
    return re.search(r"m (Tuple\(.*\))\s*\) ENGINE", statement, re.S).group(1)


@pytest.fixture()
def clickhouse(tmp_path: Path):
    session = chdb_session.Session(str(tmp_path / "chdb"))
    session.query("CREATE DATABASE IF NOT EXISTS tickwise")
    session.query("USE tickwise")
    for ddl in TABLE_DDL.values():
        session.query(ddl)
    for statement in statements():
        session.query(as_memory_table(statement) if "ENGINE = Kafka" in statement else statement)
    yield session, tmp_path
    session.close()


def rows(session, sql: str) -> list[list[object]]:
    return orjson.loads(session.query(sql, "JSONCompact").bytes())["data"]


def insert_msgpack(session, tmp_path: Path, table: str, messages: list[bytes]) -> None:
    path = tmp_path / f"{table}.msgpk"
    path.write_bytes(b"".join(messages))
    kind = tuple_type(kafka_tables()[table])
    session.query(f"INSERT INTO {table} (m) SELECT m FROM file('{path}', 'MsgPack', 'm {kind}')")


def scored() -> Scored:
    row = FeatureRow(symbol="IBM", ts_ns=TS, partition=1, offset=42, price=185.0, names=("ret_1", "rsi_14"),
                     values=(0.5, math.nan), feature_set="fs-test", quality=(0, 2))
    prediction = Prediction(prediction_id="p-1", symbol="IBM", ts_ns=TS, partition=1, offset=42, price=185.0,
                            model_version="tw-1", p_up=0.6, direction=1, confidence=0.2, volatility=0.01,
                            regime="calm", score=0.3, specialists={"trend": 0.7})
    return Scored(row, prediction)


def decision(signal_id: str, accepted: bool) -> Decision:
    return Decision(signal_id, "IBM", TS, 1, 42, "tw-1", -1, 100.0, 18_500.0, 185.0, 0.6, "calm", accepted,
                    "accepted" if accepted else "min_confidence", "ACTIVE", -100.0, "model", "why", 0.25, 12.5,
                    18_500.0, -18_500.0)


def test_kafka_tables_read_the_topics_tickwise_publishes_in_their_encoding() -> None:
    tables = kafka_tables()
    topics = split_topics("ticks")

    assert setting(tables["kafka_features"], "kafka_topic_list") == topics.features
    assert setting(tables["kafka_decisions"], "kafka_topic_list") == topics.decisions
    assert setting(tables["kafka_dead_letters"], "kafka_topic_list") == "ticks.dlq"
    assert setting(tables["kafka_ticks"], "kafka_topic_list") == "ticks"
    assert {setting(tables[t], "kafka_format") for t in ("kafka_features", "kafka_decisions")} == {"MsgPack"}
    # The version, then one Tuple element per wire field.
    assert tuple_type(tables["kafka_features"]).count(",") - tuple_type(tables["kafka_features"]).count(
        "Map(String,") == len(FEATURE_FIELDS)
    assert tuple_type(tables["kafka_decisions"]).count(",") == len(DECISION_FIELDS)
    assert len({setting(statement, "kafka_group_name") for statement in tables.values()}) == 1


def test_features_message_becomes_a_feature_row_and_a_prediction(clickhouse) -> None:
    session, tmp_path = clickhouse
    item = scored()
    session.query("INSERT INTO feature_layouts VALUES ('fs-test', ['ret_1', 'rsi_14'])")

    insert_msgpack(session, tmp_path, "kafka_features", [encode_scored(item), encode_scored(item)])

    [feature] = rows(session, "SELECT symbol, ts_ns, partition, offset, price, names, values, feature_set, quality "
                              "FROM features FINAL")
    assert feature[:5] == ["IBM", TS, 1, 42, 185.0]
    assert feature[5] == ["ret_1", "rsi_14"] and feature[6][0] == 0.5 and feature[6][1] in (None, "nan")
    assert feature[7:] == ["fs-test", [0, 2]]
    [prediction] = rows(session, "SELECT prediction_id, model_version, p_up, direction, confidence, regime, score, "
                                 "specialists FROM predictions FINAL")
    assert prediction == ["p-1", "tw-1", 0.6, 1, 0.2, "calm", 0.3, {"trend": 0.7}]


def test_decisions_message_becomes_a_risk_decision_and_accepted_ones_a_signal(clickhouse) -> None:
    session, tmp_path = clickhouse

    insert_msgpack(session, tmp_path, "kafka_decisions", [encode_decision(decision("s-ok", True)),
                                                          encode_decision(decision("s-no", False))])

    stored = rows(session, "SELECT signal_id, direction, size, accepted, reason, position_after, level, detail, "
                           "risk_score, var, net_exposure FROM risk_decisions FINAL ORDER BY signal_id")
    assert stored == [["s-no", -1, 100.0, False, "min_confidence", -100.0, "model", "why", 0.25, 12.5, -18500.0],
                      ["s-ok", -1, 100.0, True, "accepted", -100.0, "model", "why", 0.25, 12.5, -18500.0]]
    assert rows(session, "SELECT signal_id FROM signals FINAL") == [["s-ok"]]


def test_dead_letter_becomes_a_reject_with_its_source_position(clickhouse) -> None:
    session, _ = clickhouse
    message = dead_letter_message(Reject(reason="crossed_quote", detail="bid 181 > ask 180", stage="validation",
                                         topic="ticks", partition=3, offset=17, raw=b'{"type":"quote"}',
                                         symbol="IBM"))
    names = [name for name, _ in message.headers]
    values = [value.decode() for _, value in message.headers]

    session.query("INSERT INTO kafka_dead_letters (raw, _key, `_headers.name`, `_headers.value`) VALUES "
                  f"({message.value.decode()!r}, {message.key.decode()!r}, {names!r}, {values!r})")

    assert rows(session, "SELECT reason, detail, stage, topic, partition, offset, raw, symbol FROM rejects FINAL") == [
        ["crossed_quote", "bid 181 > ask 180", "validation", "ticks", 3, 17, '{"type":"quote"}', "IBM"]]


def test_tick_json_becomes_a_tick_row(clickhouse) -> None:
    session, tmp_path = clickhouse
    frame = pd.DataFrame({"type": ["trade", "quote"], "symbol": ["IBM", "IBM"], "ts_ns": [TS, TS + 1],
                          "price": [185.0, None], "size": [100.0, None], "side": ["buy", None],
                          "bid": [None, 184.9], "ask": [None, 185.1], "bid_size": [None, 5.0],
                          "ask_size": [None, 7.0]})
    path = tmp_path / "ticks.json"
    path.write_bytes(b"\n".join(value for _, value in encode_ticks(frame)) + b"\n")
    columns = " ".join(re.search(r"kafka_ticks \((.*?)\) ENGINE", kafka_tables()["kafka_ticks"], re.S).group(1).split())
    names = ", ".join(column.split()[0] for column in re.split(r",\s*(?![^()]*\))", columns))

    session.query(f"INSERT INTO kafka_ticks ({names}, _offset) SELECT *, rowNumberInAllBlocks() "
                  f"FROM file('{path}', 'JSONEachRow', '{columns}')")

    assert rows(session, "SELECT type, price, size, side, bid, ask, bid_size, ask_size, offset FROM ticks FINAL "
                         "ORDER BY ts_ns") == [["trade", 185.0, 100.0, "buy", None, None, None, None, 0],
                                               ["quote", None, None, None, 184.9, 185.1, 5.0, 7.0, 1]]
