-- The alternative to the history flow's ClickHouse writes: ClickHouse's Kafka table engine reads the
-- topics the signals flow publishes, and materialized views insert into the same tables.
--
--   clickhouse-client --database tickwise --multiquery < deploy/clickhouse/kafka_engine.sql
--
-- Run it once, after the tables exist (the history flow or `tickwise query` creates them; the DDL
-- is sinks/clickhouse TABLE_DDL). Broker, topics and group below are the compose stack's: change
-- `kafka_broker_list`, the topic names (<ticks>.features, <ticks>.decisions, <ticks>.dlq, <ticks>)
-- and `kafka_group_name` for yours; for SASL/TLS add the `<kafka>` section to the server config.
--
-- Encoding (sinks/topics.py, version 1): a message of <ticks>.features or <ticks>.decisions is ONE
-- MessagePack array, version first, then the fields in wire order. ClickHouse's MsgPack format reads
-- a MessagePack array into a Tuple column, so each Kafka engine table below has one column `m`
-- whose Tuple lists the wire fields in order (m.1 is the encoding version; a message of another
-- version is skipped by `WHERE m.1 = 1`). Feature values travel as one byte string of little-endian
-- float64 (m.8) and quality flags as one byte each (m.9): the views unpack both. Checked by
-- tests/unit/deploy/test_kafka_engine.py, which parses messages made by the real encoders with chDB.
-- `signals` comes from the decisions topic (accepted ones); the `signals` topic is JSON for consumers.
--
-- What this path does NOT give you, and why the history flow stays the default:
-- * ids: `features`, `ticks` and `rejects` ids are BLAKE2b-64 of their parts in tickwise
--   (operators/messages/ids.py); ClickHouse has no BLAKE2b, so these views use sipHash64 of the same parts.
--   Replays still collapse (the id is deterministic), but never let both paths write these tables.
--   Prediction, decision and signal ids travel in the messages and are the same on both paths.
-- * feature names are not sent (only the feature-set version): fill `feature_layouts` with one row per
--   feature set you run (names in layout order, e.g. from `tickwise features`), else `names` is empty.
-- * `ticks` holds ADMITTED ticks in tickwise: validated, de-duplicated and passed by the event-time
--   guard of the feature stage, which the history flow recomputes. The Kafka engine cannot run that
--   stage: the view below stores every tick of the ticks topic that parses, so a tick the flow
--   rejected for a reason other than its shape (crossed quote, duplicate, late, symbol rules) is in
--   both `ticks` and `rejects`, and `tickwise verify` no longer separates them. Exact `ticks` rows
--   need the signals flow to publish its admitted ticks to a topic (not done: it would double the
--   signals flow's Kafka writes), or the history flow.
-- * drift and PSI, outcomes, paper P&L, cross-asset rows and `model-events` are computed state, not
--   rows of a topic: run the history flow for them (it then also writes these tables; the views'
--   rows collapse with its rows only where the ids agree, see above).

CREATE TABLE IF NOT EXISTS feature_layouts (
    feature_set LowCardinality(String),
    names Array(LowCardinality(String))
) ENGINE = ReplacingMergeTree ORDER BY feature_set;

-- <ticks>.features: FEATURE_FIELDS of sinks/topics.py after the version.
CREATE TABLE IF NOT EXISTS kafka_features (
    m Tuple(UInt8, String, Int64, Int32, Int64, Float64, String, String, String, String, String, Float64, Int8,
            Float64, Float64, String, Float64, Map(String, Float64))
) ENGINE = Kafka
SETTINGS kafka_broker_list = 'redpanda:9092', kafka_topic_list = 'ticks.features',
         kafka_group_name = 'tickwise-clickhouse', kafka_format = 'MsgPack', kafka_num_consumers = 1,
         kafka_handle_error_mode = 'stream';

CREATE MATERIALIZED VIEW IF NOT EXISTS kafka_features_to_features TO features AS
SELECT sipHash64(m.2, m.3, m.4, m.5) AS id, m.2 AS symbol, m.3 AS ts_ns, m.4 AS partition, m.5 AS offset,
       m.6 AS price, layout.names AS names,
       arrayMap(i -> reinterpretAsFloat64(substring(m.8, 8 * i + 1, 8)), range(intDiv(length(m.8), 8))) AS values,
       m.7 AS feature_set,
       arrayMap(i -> reinterpretAsUInt8(substring(m.9, i, 1)), range(1, length(m.9) + 1)) AS quality
FROM kafka_features
LEFT JOIN (SELECT feature_set, names FROM feature_layouts FINAL) AS layout ON layout.feature_set = m.7
WHERE length(_error) = 0 AND m.1 = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS kafka_features_to_predictions TO predictions AS
SELECT m.10 AS prediction_id, m.2 AS symbol, m.3 AS ts_ns, m.4 AS partition, m.5 AS offset, m.6 AS price,
       m.11 AS model_version, m.12 AS p_up, m.13 AS direction, m.14 AS confidence, m.15 AS volatility,
       m.16 AS regime, m.17 AS score, m.18 AS specialists
FROM kafka_features
WHERE length(_error) = 0 AND m.1 = 1;

-- <ticks>.decisions: DECISION_FIELDS of sinks/topics.py after the version.
CREATE TABLE IF NOT EXISTS kafka_decisions (
    m Tuple(UInt8, String, String, Int64, Int32, Int64, String, Int8, Float64, Float64, Float64, Float64, String,
            Bool, String, String, Float64, String, String, Float64, Float64, Float64, Float64)
) ENGINE = Kafka
SETTINGS kafka_broker_list = 'redpanda:9092', kafka_topic_list = 'ticks.decisions',
         kafka_group_name = 'tickwise-clickhouse', kafka_format = 'MsgPack', kafka_num_consumers = 1,
         kafka_handle_error_mode = 'stream';

CREATE MATERIALIZED VIEW IF NOT EXISTS kafka_decisions_to_risk_decisions TO risk_decisions AS
SELECT m.2 AS signal_id, m.3 AS symbol, m.4 AS ts_ns, m.5 AS partition, m.6 AS offset, m.7 AS model_version,
       m.8 AS direction, m.9 AS size, m.10 AS notional, m.11 AS price, m.12 AS confidence, m.13 AS regime,
       m.14 AS accepted, m.15 AS reason, m.16 AS trading_state, m.17 AS position_after, m.18 AS level,
       m.19 AS detail, m.20 AS risk_score, m.21 AS var, m.22 AS gross_exposure, m.23 AS net_exposure
FROM kafka_decisions
WHERE length(_error) = 0 AND m.1 = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS kafka_decisions_to_signals TO signals AS
SELECT m.2 AS signal_id, m.3 AS symbol, m.4 AS ts_ns, m.5 AS partition, m.6 AS offset, m.7 AS model_version,
       m.8 AS direction, m.9 AS size, m.10 AS notional, m.11 AS price, m.12 AS confidence, m.13 AS regime,
       m.14 AS accepted, m.15 AS reason, m.16 AS trading_state, m.17 AS position_after, m.18 AS level,
       m.19 AS detail, m.20 AS risk_score, m.21 AS var, m.22 AS gross_exposure, m.23 AS net_exposure
FROM kafka_decisions
WHERE length(_error) = 0 AND m.1 = 1 AND m.14;

-- ticks.dlq: the original bytes unchanged, the reason and the source position in headers
-- (sinks/kafka.py dead_letter_message).
CREATE TABLE IF NOT EXISTS kafka_dead_letters (
    raw String
) ENGINE = Kafka
SETTINGS kafka_broker_list = 'redpanda:9092', kafka_topic_list = 'ticks.dlq',
         kafka_group_name = 'tickwise-clickhouse', kafka_format = 'RawBLOB', kafka_num_consumers = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS kafka_dead_letters_to_rejects TO rejects AS
WITH arrayElement(_headers.value, indexOf(_headers.name, 'tickwise.source.topic')) AS source_topic,
     toInt32(arrayElement(_headers.value, indexOf(_headers.name, 'tickwise.source.partition'))) AS source_partition,
     toInt64(arrayElement(_headers.value, indexOf(_headers.name, 'tickwise.source.offset'))) AS source_offset,
     arrayElement(_headers.value, indexOf(_headers.name, 'tickwise.stage')) AS reject_stage
SELECT sipHash64(source_topic, source_partition, source_offset, reject_stage) AS id,
       arrayElement(_headers.value, indexOf(_headers.name, 'tickwise.reason')) AS reason,
       arrayElement(_headers.value, indexOf(_headers.name, 'tickwise.detail')) AS detail,
       reject_stage AS stage, source_topic AS topic, source_partition AS partition, source_offset AS offset,
       raw, if(_key = '', NULL, _key) AS symbol, CAST(NULL, 'Nullable(Int64)') AS ts_ns
FROM kafka_dead_letters;

-- ticks: the feed's JSON (see the caveat on admitted ticks above). Messages that do not parse are
-- skipped here; the signals flow sends them to ticks.dlq, which fills `rejects`.
CREATE TABLE IF NOT EXISTS kafka_ticks (
    type String, symbol String, ts_ns Int64, price Nullable(Float64), size Nullable(Float64),
    side Nullable(String), bid Nullable(Float64), ask Nullable(Float64), bid_size Nullable(Float64),
    ask_size Nullable(Float64)
) ENGINE = Kafka
SETTINGS kafka_broker_list = 'redpanda:9092', kafka_topic_list = 'ticks',
         kafka_group_name = 'tickwise-clickhouse', kafka_format = 'JSONEachRow', kafka_num_consumers = 1,
         kafka_handle_error_mode = 'stream', input_format_skip_unknown_fields = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS kafka_ticks_to_ticks TO ticks AS
SELECT sipHash64(_topic, _partition, _offset) AS id, symbol, ts_ns, type, price, size, side, bid, ask, bid_size,
       ask_size, _topic AS topic, toInt32(_partition) AS partition, toInt64(_offset) AS offset
FROM kafka_ticks
WHERE length(_error) = 0 AND type IN ('trade', 'quote');
