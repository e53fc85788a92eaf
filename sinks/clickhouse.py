"""History for research, backtests and dashboards: one ClickHouse table per record type.

Every table is a ``ReplacingMergeTree`` whose ORDER BY ends with a deterministic id, so a
batch written twice (Bytewax recovery gives at-least-once output) collapses to one row per
id at merge time; read with ``FINAL`` (``count_rows`` does) or ``argMax``.

The URL picks the engine: ``chdb:///abs/path`` opens chDB in this process (one engine per
process, one process per data directory, so ``ClickHouseSink`` then has exactly one
partition), ``http(s)://user:password@host:port/database`` a ClickHouse server.

Feature vectors are stored as two aligned arrays, ``names Array(LowCardinality(String))``
and ``values Array(Float64)``, not a column per feature: the feature set changes with the
operators and the table must not need a migration each time, arrays insert without
building a dict per row, and one feature reads as ``values[indexOf(names, 'rsi_14')]``.
Specialist outputs of a prediction are a ``Map(LowCardinality(String), Float64)``.
``rejects.raw`` holds the original bytes; read them back with
``client.query(sql, column_formats={"raw": "bytes"})`` (clickhouse-connect otherwise
decodes String as UTF-8 and shows invalid bytes as hex).

>>> group_by_table([DriftEvent("e1", "IBM", 5, "spread", "adwin", 0.5)])
{'monitor_events': [DriftEvent(event_id='e1', symbol='IBM', ts_ns=5, feature='spread', detector='adwin', statistic=0.5, kind='feature_drift', model_version='')]}
>>> ClickHouseSettings("https://reader:hunter2@ch.internal:8443/market").redacted_url()
'https://reader:***@ch.internal:8443/market'
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from hashlib import blake2b
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import clickhouse_connect
import pyarrow as pa
from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition
from clickhouse_connect.driver.client import Client

from operators.ids import stable_uint64
from operators.messages import (CrossAssetRow, Decision, DriftEvent, FeatureRow, Outcome, PnlRow, Prediction, Reject,
                                TickBatch, Trade, ValidTick)
from sinks.metrics import MetricsRegistry, default_metrics

logger = logging.getLogger(__name__)

Record = ValidTick | FeatureRow | Prediction | Decision | Reject | DriftEvent | CrossAssetRow | Outcome | PnlRow

SINK_NAME = "clickhouse"


_TS = "ts DateTime64(9, 'UTC') MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC')"
_INSERTED = "inserted_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')"

_DECISION_COLUMNS = """
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
    net_exposure Float64"""

TABLE_DDL: dict[str, str] = {
    "ticks": f"""
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
    {_TS},
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, id)""",
    "features": f"""
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
    {_TS},
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, id)""",
    "predictions": f"""
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
    {_TS},
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, prediction_id)""",
    "signals": f"""
CREATE TABLE IF NOT EXISTS signals ({_DECISION_COLUMNS},
    {_TS},
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, signal_id)""",
    "risk_decisions": f"""
CREATE TABLE IF NOT EXISTS risk_decisions ({_DECISION_COLUMNS},
    {_TS},
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, signal_id)""",
    "rejects": f"""
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
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (topic, partition, offset, id)""",
    "cross_asset": f"""
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
    {_TS},
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (pair, ts_ns, id)""",
    "monitor_events": f"""
CREATE TABLE IF NOT EXISTS monitor_events (
    event_id String,
    kind LowCardinality(String),
    symbol LowCardinality(String),
    ts_ns Int64,
    feature LowCardinality(String),
    detector LowCardinality(String),
    statistic Float64,
    model_version LowCardinality(String) COMMENT 'set for events about a model (model_decay, retrain, model_review)',
    {_TS},
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, event_id)""",
    "outcomes": f"""
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
    {_TS},
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (symbol, ts_ns, prediction_id)""",
    "pnl": f"""
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
    {_TS},
    {_INSERTED}
) ENGINE = ReplacingMergeTree ORDER BY (symbol, model_version, ts_ns, id)""",
}

TABLES: tuple[str, ...] = tuple(TABLE_DDL)

#: Columns added after a table's first release: tables created by an older tickwise get them
#: on start-up (ADD COLUMN IF NOT EXISTS), so an existing history keeps working.
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("features", "feature_set LowCardinality(String) DEFAULT ''"),
    ("features", "quality Array(UInt8)"),
    # The portfolio risk engine's fields of a decision (both decision tables share the columns).
    ("signals", "level LowCardinality(String) DEFAULT ''"),
    ("signals", "detail String DEFAULT ''"),
    ("signals", "risk_score Float64 DEFAULT 0"),
    ("signals", "var Float64 DEFAULT 0"),
    ("signals", "gross_exposure Float64 DEFAULT 0"),
    ("signals", "net_exposure Float64 DEFAULT 0"),
    ("risk_decisions", "level LowCardinality(String) DEFAULT ''"),
    ("risk_decisions", "detail String DEFAULT ''"),
    ("risk_decisions", "risk_score Float64 DEFAULT 0"),
    ("risk_decisions", "var Float64 DEFAULT 0"),
    ("risk_decisions", "gross_exposure Float64 DEFAULT 0"),
    ("risk_decisions", "net_exposure Float64 DEFAULT 0"),
)


# -- column builders: records of one type -> (column names, columns) ---------------------------

Columns = tuple[tuple[str, ...], list[list[Any]]]


def tick_id(topic: str, partition: int, offset: int) -> int:
    """``stable_uint64(topic, partition, offset)`` without its generic joining, for the table that
    gets a row per tick.

    >>> tick_id("ticks", 3, 41) == stable_uint64("ticks", 3, 41)
    True
    """
    return int.from_bytes(blake2b(f"{topic}|{partition}|{offset}".encode("utf-8", "surrogatepass"),
                                  digest_size=8).digest(), "big")


TICK_COLUMNS = ("id", "symbol", "ts_ns", "type", "price", "size", "side", "bid", "ask", "bid_size",
                "ask_size", "topic", "partition", "offset")


#: Tables inserted as Arrow (the column types of their Arrow tables).
ARROW_TYPES: dict[str, dict[str, pa.DataType]] = {
    "ticks": {"id": pa.uint64(), "symbol": pa.string(), "ts_ns": pa.int64(), "type": pa.string(),
              "price": pa.float64(), "size": pa.float64(), "side": pa.string(), "bid": pa.float64(),
              "ask": pa.float64(), "bid_size": pa.float64(), "ask_size": pa.float64(), "topic": pa.string(),
              "partition": pa.int32(), "offset": pa.int64()},
}


def tick_columns(rows: Sequence[ValidTick]) -> Columns:
    cols: list[list[Any]] = [[] for _ in TICK_COLUMNS]
    (ids, symbols, ts, types, prices, sizes, sides, bids, asks, bid_sizes, ask_sizes, topics,
     partitions, offsets) = cols
    for row in rows:
        tick = row.tick
        topic, partition, offset = row.topic, row.partition, row.offset
        ids.append(tick_id(topic, partition, offset))
        symbols.append(tick.symbol)
        ts.append(tick.ts_ns)
        topics.append(topic)
        partitions.append(partition)
        offsets.append(offset)
        if type(tick) is Trade:
            types.append("trade")
            prices.append(tick.price)
            sizes.append(tick.size)
            sides.append(tick.side)
            bids.append(None)
            asks.append(None)
            bid_sizes.append(None)
            ask_sizes.append(None)
        else:
            types.append("quote")
            prices.append(None)
            sizes.append(None)
            sides.append(None)
            bids.append(tick.bid)
            asks.append(tick.ask)
            bid_sizes.append(tick.bid_size)
            ask_sizes.append(tick.ask_size)
    return TICK_COLUMNS, cols


def feature_columns(rows: Sequence[FeatureRow]) -> Columns:
    names = ("id", "symbol", "ts_ns", "partition", "offset", "price", "names", "values", "feature_set", "quality")
    return names, [
        [stable_uint64(r.symbol, r.ts_ns, r.partition, r.offset) for r in rows],
        [r.symbol for r in rows],
        [r.ts_ns for r in rows],
        [r.partition for r in rows],
        [r.offset for r in rows],
        [r.price for r in rows],
        [r.names for r in rows],
        [r.values for r in rows],
        [r.feature_set for r in rows],
        [r.quality for r in rows],
    ]


def prediction_columns(rows: Sequence[Prediction]) -> Columns:
    names = ("prediction_id", "symbol", "ts_ns", "partition", "offset", "price", "model_version", "p_up",
             "direction", "confidence", "volatility", "regime", "score", "specialists")
    return names, [[getattr(r, name) for r in rows] for name in names]


_DECISION_FIELDS = ("signal_id", "symbol", "ts_ns", "partition", "offset", "model_version", "direction",
                    "size", "notional", "price", "confidence", "regime", "accepted", "reason",
                    "trading_state", "position_after", "level", "detail", "risk_score", "var",
                    "gross_exposure", "net_exposure")


def decision_columns(rows: Sequence[Decision]) -> Columns:
    return _DECISION_FIELDS, [[getattr(r, name) for r in rows] for name in _DECISION_FIELDS]


def reject_columns(rows: Sequence[Reject]) -> Columns:
    fields = ("reason", "detail", "stage", "topic", "partition", "offset", "raw", "symbol", "ts_ns")
    return ("id", *fields), [
        [stable_uint64(r.topic, r.partition, r.offset, r.stage) for r in rows],
        *([getattr(r, name) for r in rows] for name in fields),
    ]


def monitor_event_columns(rows: Sequence[DriftEvent]) -> Columns:
    names = ("event_id", "kind", "symbol", "ts_ns", "feature", "detector", "statistic", "model_version")
    return names, [[getattr(r, name) for r in rows] for name in names]


_OUTCOME_FIELDS = tuple(Outcome.__struct_fields__)
_PNL_FIELDS = tuple(PnlRow.__struct_fields__)


def outcome_columns(rows: Sequence[Outcome]) -> Columns:
    return _OUTCOME_FIELDS, [[getattr(r, name) for r in rows] for name in _OUTCOME_FIELDS]


def pnl_columns(rows: Sequence[PnlRow]) -> Columns:
    return ("id", *_PNL_FIELDS[1:]), [[getattr(r, name) for r in rows] for name in _PNL_FIELDS]


def cross_asset_columns(rows: Sequence[CrossAssetRow]) -> Columns:
    fields = ("pair", "symbol", "reference", "ts_ns", "interval_ns", "correlation", "beta", "observations")
    return ("id", *fields), [
        [stable_uint64(r.pair, r.interval_ns, r.ts_ns) for r in rows],
        *([getattr(r, name) for r in rows] for name in fields),
    ]


def group_by_table(records: Iterable[Record]) -> dict[str, list[Any]]:
    """Records grouped into their tables; a decision goes to ``risk_decisions`` and, when
    accepted, to ``signals`` as well. An unknown type raises ``TypeError`` (never dropped)."""
    groups: dict[str, list[Any]] = {}
    for record in records:
        kind = type(record)
        if kind is TickBatch:
            groups.setdefault("ticks", []).extend(record.ticks)
            continue
        table = _TABLE_OF.get(kind)
        if table is None:
            raise TypeError(
                f"clickhouse sink: expected TickBatch or one of {', '.join(t.__name__ for t in _TABLE_OF)}, "
                f"got {kind.__name__}")
        groups.setdefault(table, []).append(record)
        if kind is Decision and record.accepted:
            groups.setdefault("signals", []).append(record)
    return groups


_TABLE_OF: dict[type, str] = {
    ValidTick: "ticks", FeatureRow: "features", Prediction: "predictions", Decision: "risk_decisions",
    Reject: "rejects", DriftEvent: "monitor_events", CrossAssetRow: "cross_asset", Outcome: "outcomes",
    PnlRow: "pnl",
}

COLUMN_BUILDERS: dict[str, Callable[[Sequence[Any]], Columns]] = {
    "ticks": tick_columns, "features": feature_columns, "predictions": prediction_columns,
    "signals": decision_columns, "risk_decisions": decision_columns, "rejects": reject_columns,
    "monitor_events": monitor_event_columns, "cross_asset": cross_asset_columns, "outcomes": outcome_columns,
    "pnl": pnl_columns,
}


# -- settings, writer, sink -------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ClickHouseSettings:
    """Where the history goes.

    ``url`` is ``chdb:///abs/path`` or ``http(s)://user:password@host:port/database`` (the
    password is a secret: ``repr`` and logs show ``redacted_url()``). ``batch_rows`` caps
    one INSERT; a bigger write is split. The sink collects rows per table across Bytewax
    batches and inserts a table once it holds ``batch_rows`` rows or its oldest row is
    ``flush_interval_s`` old (wall clock: this is delivery, not event time; one such table
    per batch), and everything at each epoch's snapshot and at close, so a recovery snapshot
    never covers a row that is not in ClickHouse yet. ``partitions`` is the number of sink
    partitions (parallel writers) for a server; chDB always has exactly one.
    """

    url: str
    batch_rows: int = 10_000
    flush_interval_s: float = 0.5
    partitions: int = 1
    connect_timeout_s: float = 10.0
    send_receive_timeout_s: float = 300.0

    def __post_init__(self) -> None:
        scheme = urlsplit(self.url).scheme
        if scheme not in ("chdb", "http", "https"):
            raise ValueError(f"ClickHouseSettings.url must start with chdb://, http:// or https://, "
                             f"got {self.redacted_url()!r}")
        if scheme == "chdb" and not self.chdb_path.startswith("/"):
            raise ValueError(f"ClickHouseSettings.url must be chdb:///absolute/path, got {self.url!r}")
        if self.batch_rows < 1:
            raise ValueError(f"ClickHouseSettings.batch_rows must be >= 1, got {self.batch_rows}")
        if not self.flush_interval_s >= 0.0:
            raise ValueError(f"ClickHouseSettings.flush_interval_s must be >= 0, got {self.flush_interval_s}")
        if self.partitions < 1:
            raise ValueError(f"ClickHouseSettings.partitions must be >= 1, got {self.partitions}")

    @property
    def is_chdb(self) -> bool:
        return self.url.startswith("chdb:")

    @property
    def chdb_path(self) -> str:
        return self.url[len("chdb://"):]

    @property
    def partition_count(self) -> int:
        return 1 if self.is_chdb else self.partitions

    def redacted_url(self) -> str:
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``clickhouse_connect.get_client`` (includes the password)."""
        if self.is_chdb:
            return {"dsn": self.url}
        parts = urlsplit(self.url)
        database = parts.path.strip("/") or "default"
        return {
            "interface": parts.scheme,
            "host": parts.hostname or "localhost",
            "port": parts.port or (8443 if parts.scheme == "https" else 8123),
            "username": unquote(parts.username) if parts.username else "default",
            "password": unquote(parts.password) if parts.password else "",
            "database": database,
            "connect_timeout": self.connect_timeout_s,
            "send_receive_timeout": self.send_receive_timeout_s,
        }

    def __repr__(self) -> str:
        return (f"ClickHouseSettings(url={self.redacted_url()!r}, batch_rows={self.batch_rows}, "
                f"flush_interval_s={self.flush_interval_s}, partitions={self.partitions})")


class ClickHouseWriteError(RuntimeError):
    """An INSERT failed; the batch was not (fully) written."""


class ClickHouseWriter:
    """Column-oriented inserts of tickwise records, one INSERT per table per chunk."""

    def __init__(self, settings: ClickHouseSettings, metrics: MetricsRegistry | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self._client: Client | None = None
        self._column_types: dict[str, dict[str, str]] = {}

    @property
    def client(self) -> Client:
        if self._client is None:
            raise ClickHouseWriteError("clickhouse sink: connect() first (no client yet)")
        return self._client

    def connect(self) -> Client:
        if self._client is None:
            logger.info("clickhouse sink: connecting to %s", self.settings.redacted_url())
            self._client = clickhouse_connect.get_client(**self.settings.client_kwargs())
        return self._client

    def ensure_schema(self) -> None:
        """Create every table that is missing and add columns that newer versions introduced."""
        for ddl in TABLE_DDL.values():
            self.client.command(ddl)
        for table, column in ADDED_COLUMNS:
            self.client.command(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}")
        # Known column types spare clickhouse-connect a DESCRIBE query before every INSERT.
        for table in TABLE_DDL:
            described = self.client.query(f"DESCRIBE TABLE {table}").result_rows
            self._column_types[table] = {row[0]: row[1] for row in described}

    def _type_names(self, table: str, names: Sequence[str]) -> list[str] | None:
        types = self._column_types.get(table)
        if types is None or any(name not in types for name in names):
            return None
        return [types[name] for name in names]

    def write(self, records: Iterable[Record]) -> dict[str, int]:
        """Insert the records, one column-oriented INSERT per table; rows written per table."""
        return self.write_groups(group_by_table(records))

    def write_groups(self, groups: dict[str, list[Any]]) -> dict[str, int]:
        """Insert records already grouped by table (``group_by_table``); rows written per table."""
        return {table: self.insert_rows(table, rows) for table, rows in groups.items() if rows}

    def insert_rows(self, table: str, rows: Sequence[Any]) -> int:
        """Insert records that all belong to ``table``, in chunks of ``batch_rows``."""
        builder = COLUMN_BUILDERS[table]
        metrics = self.metrics or default_metrics()
        step = self.settings.batch_rows
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            names, columns = builder(chunk)
            try:
                arrow_types = ARROW_TYPES.get(table)
                if arrow_types is not None:
                    # Arrow: about half the cost per row of the native-format insert for the
                    # one table that gets a row per tick (measured with chDB, 50k-row batches).
                    self.client.insert_arrow(table, pa.table(
                        {name: pa.array(column, type=arrow_types[name]) for name, column in zip(names, columns)}))
                else:
                    self.client.insert(table, columns, column_names=names, column_oriented=True,
                                       column_type_names=self._type_names(table, names))
            except Exception as exc:
                metrics.count_sink_error(SINK_NAME)
                raise ClickHouseWriteError(
                    f"clickhouse sink: INSERT of {len(chunk)} rows into {table!r} at "
                    f"{self.settings.redacted_url()} failed: {exc}") from exc
            metrics.count_sink_rows(SINK_NAME, table, len(chunk))
        return len(rows)

    def close(self) -> None:
        """Close the client. A chDB client closed from a Bytewax worker thread of a process
        running several workers deadlocks inside chDB (seen with chdb 4.4, ``-w 2``), so off
        the main thread its close is deferred to interpreter exit (writes are already done:
        every INSERT is synchronous)."""
        client, self._client = self._client, None
        if client is None:
            return
        if self.settings.is_chdb and threading.current_thread() is not threading.main_thread():
            _close_at_exit(client)
        else:
            client.close()


_deferred_clients: list[Client] = []


def _close_deferred_clients() -> None:
    while _deferred_clients:
        _deferred_clients.pop().close()


def _close_at_exit(client: Client) -> None:
    if not _deferred_clients:
        atexit.register(_close_deferred_clients)
    _deferred_clients.append(client)


def count_rows(client: Client, table: str) -> int:
    """Rows of ``table`` after replacing duplicates (``SELECT count() FROM table FINAL``)."""
    if table not in TABLE_DDL:
        raise ValueError(f"count_rows: expected one of {', '.join(TABLES)}, got {table!r}")
    return int(client.command(f"SELECT count() FROM {table} FINAL"))


def count_all(client: Client) -> dict[str, int]:
    """``count_rows`` of every tickwise table (for run summaries)."""
    return {table: count_rows(client, table) for table in TABLES}


class _ClickHousePartition(StatefulSinkPartition[Record, None]):
    """Collects rows per table across batches (see ``ClickHouseSettings``): a chDB INSERT costs
    milliseconds however small it is, and most batches carry a few rows of most tables.

    A table is inserted as soon as it holds ``batch_rows`` rows; otherwise at most ONE table
    per Bytewax batch, the one waiting longest once it has waited ``flush_interval_s``, so the
    history's cost is spread over the flow's cycles instead of stalling one of them (a
    latency spike for every tick behind it); everything at each epoch's snapshot and at close.
    """

    def __init__(self, writer: ClickHouseWriter, clock: Callable[[], float] = time.monotonic) -> None:
        self._writer = writer
        self._clock = clock
        self._pending: dict[str, list[Any]] = {}
        self._since: dict[str, float] = {}

    @property
    def pending_rows(self) -> int:
        return sum(len(rows) for rows in self._pending.values())

    def write_batch(self, values: list[Record]) -> None:
        pending, since = self._pending, self._since
        now = self._clock()
        for table, rows in group_by_table(values).items():
            pending.setdefault(table, []).extend(rows)
            since.setdefault(table, now)
        if not pending:
            return
        settings = self._writer.settings
        due = [table for table, rows in pending.items() if len(rows) >= settings.batch_rows]
        if not due:
            waiting = min(since, key=since.__getitem__)
            if now - since[waiting] >= settings.flush_interval_s:
                due = [waiting]
        if due:
            self._write(due)

    def _write(self, tables: list[str]) -> None:
        # On failure this raises with the rows still collected (the flow resumes and replays them).
        self._writer.write_groups({table: self._pending[table] for table in tables})
        for table in tables:
            del self._pending[table]
            del self._since[table]

    def flush(self) -> None:
        """Insert everything collected."""
        if self._pending:
            self._write(list(self._pending))

    def snapshot(self) -> None:
        # Bytewax snapshots at the end of every epoch: rows of this epoch are written first.
        self.flush()
        return None

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._writer.close()


class ClickHouseSink(FixedPartitionedSink[Record, None]):
    """Write keyed ``(key, record)`` items to ClickHouse; nothing is buffered across batches.

    With chDB there is one partition, so every row of a multi-process cluster is routed to
    the single worker that opens the data directory; with a server, ``partitions`` writers.
    Rows carry deterministic ids, so replays after a resume collapse (snapshots are None).
    """

    def __init__(self, settings: ClickHouseSettings, metrics: MetricsRegistry | None = None) -> None:
        self.settings = settings
        self.metrics = metrics

    def list_parts(self) -> list[str]:
        return [f"clickhouse-{index}" for index in range(self.settings.partition_count)]

    def part_fn(self, item_key: str) -> int:
        if self.settings.partition_count == 1:
            return 0
        return int.from_bytes(hashlib.blake2b(item_key.encode(), digest_size=4).digest(), "big")

    def build_part(self, step_id: str, for_part: str, resume_state: None) -> _ClickHousePartition:
        (self.metrics or default_metrics()).declare_sink(SINK_NAME)
        writer = ClickHouseWriter(self.settings, self.metrics)
        writer.connect()
        try:
            writer.ensure_schema()
        except Exception:
            writer.close()
            raise
        logger.info("clickhouse sink %s partition %s writing to %s", step_id, for_part,
                    self.settings.redacted_url())
        return _ClickHousePartition(writer)
