CREATE TABLE IF NOT EXISTS ticks (
    id UInt64 COMMENT 'stable_uint64(topic, partition, offset)',
    symbol LowCardinality(String),
    ts_ns Int64,
    type LowCardinality(String) COMMENT 'trade or quote',
    price Nullable(Float64),
    size Nullable(Float64),
    side LowCardinality(Nullable(String)),
    bid Nullable(Float64),
    ask Nullable(Float64),
    bid_size Nullable(Float64),
    ask_size Nullable(Float64),
    topic LowCardinality(String),
    partition Int32,
    offset Int64,
    ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC'),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, id);

CREATE TABLE IF NOT EXISTS features (
    id UInt64 COMMENT 'stable_uint64(symbol, ts_ns, partition, offset)',
    symbol LowCardinality(String),
    ts_ns Int64,
    partition Int32,
    offset Int64,
    price Float64,
    names Array(LowCardinality(String)),
    values Array(Float64) COMMENT 'aligned with names; NaN = not ready (warm-up)',
    feature_set LowCardinality(String) COMMENT 'feature-set version: the definitions and parameters behind values',
    quality Array(UInt8) COMMENT 'per-feature flags aligned with names: 1 missing input, 2 warming up, 4 stale',
    ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC'),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, id);

CREATE TABLE IF NOT EXISTS predictions (
    prediction_id String,
    symbol LowCardinality(String),
    ts_ns Int64,
    partition Int32,
    offset Int64,
    price Float64,
    model_version LowCardinality(String),
    p_up Float64,
    direction Int8,
    confidence Float64,
    volatility Float64,
    regime LowCardinality(String),
    score Float64,
    specialists Map(LowCardinality(String), Float64),
    ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC'),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, prediction_id);

CREATE TABLE IF NOT EXISTS signals (
    signal_id String,
    symbol LowCardinality(String),
    ts_ns Int64,
    partition Int32,
    offset Int64,
    model_version LowCardinality(String),
    direction Int8,
    size Float64,
    notional Float64,
    price Float64,
    confidence Float64,
    regime LowCardinality(String),
    accepted Bool,
    reason LowCardinality(String),
    trading_state LowCardinality(String),
    position_after Float64,
    level LowCardinality(String) COMMENT 'risk level of the denying check (model, instrument, portfolio, execution)',
    detail String COMMENT 'one sentence: why the check denied',
    risk_score Float64 COMMENT 'portfolio VaR / max VaR (capped at 1) that scaled the size',
    var Float64 COMMENT 'portfolio VaR after the decision',
    gross_exposure Float64,
    net_exposure Float64,
    ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC'),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, signal_id);

CREATE TABLE IF NOT EXISTS rejects (
    id UInt64 COMMENT 'stable_uint64(topic, partition, offset, stage)',
    reason LowCardinality(String),
    detail String,
    stage LowCardinality(String),
    topic LowCardinality(String),
    partition Int32,
    offset Int64,
    raw String COMMENT 'the original message bytes',
    symbol LowCardinality(Nullable(String)),
    ts_ns Nullable(Int64),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (topic, partition, offset, id);

CREATE TABLE IF NOT EXISTS cross_asset (
    id UInt64 COMMENT 'stable_uint64(pair, interval_ns, ts_ns)',
    pair LowCardinality(String),
    symbol LowCardinality(String),
    reference LowCardinality(String),
    ts_ns Int64 COMMENT 'end of the bar interval',
    interval_ns Int64,
    correlation Float64,
    beta Float64,
    observations UInt32,
    ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC'),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (pair, ts_ns, id);

CREATE TABLE IF NOT EXISTS monitor_events (
    event_id String,
    kind LowCardinality(String),
    symbol LowCardinality(String),
    ts_ns Int64,
    feature LowCardinality(String),
    detector LowCardinality(String),
    statistic Float64,
    model_version LowCardinality(String) COMMENT 'set for events about a model (model_decay, retrain, model_review)',
    ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC'),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, event_id);

CREATE TABLE IF NOT EXISTS outcomes (
    prediction_id String,
    symbol LowCardinality(String),
    model_version LowCardinality(String),
    ts_ns Int64 COMMENT 'event time of the prediction',
    resolved_ts_ns Int64 COMMENT 'event time of the first feature row at or after ts_ns + horizon_ns',
    horizon_ns Int64,
    price Float64,
    resolved_price Float64,
    p_up Float64,
    confidence Float64,
    direction Int8,
    realized_up Bool,
    correct Bool,
    log_loss Float64,
    brier Float64,
    window UInt32 COMMENT 'outcomes in the rolling statistics',
    rolling_accuracy Float64,
    rolling_log_loss Float64,
    rolling_brier Float64,
    rolling_confidence Float64,
    ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC'),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, prediction_id);

CREATE TABLE IF NOT EXISTS pnl (
    id String COMMENT 'PnlRow.row_id: stable_id(symbol, model_version, ts_ns, reason, trades)',
    symbol LowCardinality(String),
    model_version LowCardinality(String),
    ts_ns Int64,
    position Float64,
    average_price Float64,
    mid Float64,
    realized_pnl Float64,
    unrealized_pnl Float64,
    fees Float64,
    total_pnl Float64,
    trades UInt32,
    closing_trades UInt32,
    wins UInt32,
    win_rate Float64,
    sharpe Float64,
    drawdown Float64,
    max_drawdown Float64,
    reason LowCardinality(String) COMMENT 'fill or mark',
    ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC'),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
) ENGINE = ReplacingMergeTree ORDER BY (symbol, model_version, ts_ns, id);

ALTER TABLE features ADD COLUMN IF NOT EXISTS feature_set LowCardinality(String) DEFAULT '';

ALTER TABLE features ADD COLUMN IF NOT EXISTS quality Array(UInt8);

ALTER TABLE signals ADD COLUMN IF NOT EXISTS level LowCardinality(String) DEFAULT '';

ALTER TABLE signals ADD COLUMN IF NOT EXISTS detail String DEFAULT '';

ALTER TABLE signals ADD COLUMN IF NOT EXISTS risk_score Float64 DEFAULT 0;

ALTER TABLE signals ADD COLUMN IF NOT EXISTS var Float64 DEFAULT 0;

ALTER TABLE signals ADD COLUMN IF NOT EXISTS gross_exposure Float64 DEFAULT 0;

ALTER TABLE signals ADD COLUMN IF NOT EXISTS net_exposure Float64 DEFAULT 0;
