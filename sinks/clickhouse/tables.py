"""Every tickwise table, declared once (``schema.Table``), and the routing of records to them.

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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from hashlib import blake2b
from operator import attrgetter
from typing import Any

from operators.events import EventTick
from operators.messages import (BookDelta, BookSnapshot, CrossAssetRow, Decision, DriftEvent, FeatureRow, Outcome,
                                PnlRow, Prediction, Reject, TickBatch, Trade, ValidTick)
from operators.messages.ids import stable_uint64
from operators.options.messages import OptionOpenInterest, OptionQuote, OptionTrade
from operators.options.minute import ChainMinute
from sinks.clickhouse.schema import Column, Table, uint64_id

Record = ValidTick | FeatureRow | Prediction | Decision | Reject | DriftEvent | CrossAssetRow | Outcome | PnlRow


def tick_id(topic: str, partition: int, offset: int) -> int:
    """``stable_uint64(topic, partition, offset)`` without its generic joining, for the table that
    gets a row per tick.

    >>> from operators.messages.ids import stable_uint64
    >>> tick_id("ticks", 3, 41) == stable_uint64("ticks", 3, 41)
    True
    """
    return int.from_bytes(blake2b(f"{topic}|{partition}|{offset}".encode("utf-8", "surrogatepass"),
                                  digest_size=8).digest(), "big")


def _trade_field(name: str) -> Callable[[ValidTick], object]:
    """A field of a trade; None on a quote's row."""
    field = attrgetter(name)
    return lambda row: field(row.tick) if type(row.tick) is Trade else None


def _quote_field(name: str) -> Callable[[ValidTick], object]:
    """A field of a quote; None on a trade's row."""
    field = attrgetter(name)
    return lambda row: None if type(row.tick) is Trade else field(row.tick)


def _string(name: str, comment: str = "") -> Column:
    return Column(name, "LowCardinality(String)", comment)


SYMBOL = _string("symbol")
TS_NS = Column("ts_ns", "Int64")
PARTITION = Column("partition", "Int32")
OFFSET = Column("offset", "Int64")
PRICE = Column("price", "Float64")
MODEL_VERSION = _string("model_version")
EVENT_TIME = Column("ts", "DateTime64(9, 'UTC')", computed="MATERIALIZED fromUnixTimestamp64Nano(ts_ns, 'UTC')")
INSERTED_AT = Column("inserted_at", "DateTime64(3, 'UTC')", computed="DEFAULT now64(3, 'UTC')")
#: The server-filled tail of every table with an event time.
STAMPS = (EVENT_TIME, INSERTED_AT)

#: Tick types stored in ``book_messages`` rather than ``ticks``.
BOOK_TYPES = (BookSnapshot, BookDelta)
#: Option messages, stored in ``option_messages`` (their analytics go to ``option_analytics``).
OPTION_TYPES = (OptionQuote, OptionTrade, OptionOpenInterest)
_OPTION_KINDS = {OptionQuote: "quote", OptionTrade: "trade", OptionOpenInterest: "open_interest"}
_NOT_TICKS = (*BOOK_TYPES, *OPTION_TYPES, EventTick)


def is_book_message(row: ValidTick) -> bool:
    return type(row.tick) in BOOK_TYPES


def is_option_message(row: ValidTick) -> bool:
    return type(row.tick) in OPTION_TYPES


def is_event_message(row: ValidTick) -> bool:
    return type(row.tick) is EventTick


def is_trade_or_quote(row: ValidTick) -> bool:
    return type(row.tick) not in _NOT_TICKS


#: The leading columns of a row per source message (a tick or a depth message).
SOURCE_COLUMNS = (
    Column("id", "UInt64", "stable_uint64(topic, partition, offset)",
           value=lambda row: tick_id(row.topic, row.partition, row.offset)),
    Column("symbol", "LowCardinality(String)", value="tick.symbol"),
    Column("ts_ns", "Int64", value="tick.ts_ns"),
)

TICKS = Table("ticks", ValidTick, (
    *SOURCE_COLUMNS,
    Column("type", "LowCardinality(String)", "trade or quote",
           value=lambda row: "trade" if type(row.tick) is Trade else "quote"),
    Column("price", "Nullable(Float64)", value=_trade_field("price")),
    Column("size", "Nullable(Float64)", value=_trade_field("size")),
    Column("side", "LowCardinality(Nullable(String))", value=_trade_field("side")),
    Column("bid", "Nullable(Float64)", value=_quote_field("bid")),
    Column("ask", "Nullable(Float64)", value=_quote_field("ask")),
    Column("bid_size", "Nullable(Float64)", value=_quote_field("bid_size")),
    Column("ask_size", "Nullable(Float64)", value=_quote_field("ask_size")),
    _string("topic"), PARTITION, OFFSET, *STAMPS,
), order_by=("symbol", "ts_ns", "id"), keeps=is_trade_or_quote, arrow=True)


def _first_id(row: ValidTick) -> int:
    book = row.tick
    return book.update_id if type(book) is BookSnapshot else book.first_id


def _last_id(row: ValidTick) -> int:
    book = row.tick
    return book.update_id if type(book) is BookSnapshot else book.last_id


def _prev_id(row: ValidTick) -> int | None:
    book = row.tick
    return None if type(book) is BookSnapshot else book.prev_id


BOOK_MESSAGES = Table("book_messages", ValidTick, (
    *SOURCE_COLUMNS,
    Column("kind", "LowCardinality(String)", "snapshot or delta",
           value=lambda row: "snapshot" if type(row.tick) is BookSnapshot else "delta"),
    Column("first_id", "Int64", "first venue update id covered (a snapshot: its update id)", value=_first_id),
    Column("last_id", "Int64", "last venue update id covered (a snapshot: its update id)", value=_last_id),
    Column("prev_id", "Nullable(Int64)", "last_id of the previous delta, where the venue sends it", value=_prev_id),
    Column("bid_levels", "UInt32", "bid levels in the message (a delta: changed levels; size 0 deletes)",
           value=lambda row: len(row.tick.bids)),
    Column("ask_levels", "UInt32", "ask levels in the message (a delta: changed levels; size 0 deletes)",
           value=lambda row: len(row.tick.asks)),
    _string("topic"), PARTITION, OFFSET, *STAMPS,
), order_by=("symbol", "ts_ns", "id"), keeps=is_book_message, arrow=True)

#: One row per admitted option message, so ``tickwise verify`` accounts for its offset; the
#: prices themselves are in ``option_analytics`` (per contract and minute).
OPTION_MESSAGES = Table("option_messages", ValidTick, (
    *SOURCE_COLUMNS,  # symbol: the underlying
    Column("kind", "LowCardinality(String)", "quote, trade or open_interest",
           value=lambda row: _OPTION_KINDS[type(row.tick)]),
    Column("contract", "String", "the contract's OSI symbol", value=lambda row: row.tick.contract.symbol),
    _string("topic"), PARTITION, OFFSET, *STAMPS,
), order_by=("symbol", "ts_ns", "id"), keeps=is_option_message, arrow=True)

#: One row per admitted event (``operators.events.EventTick``: one message delivered to one symbol),
#: so ``tickwise verify`` accounts for its offset; the event features are in the rows of ``features``.
EVENT_MESSAGES = Table("event_messages", ValidTick, (
    *SOURCE_COLUMNS,  # symbol: the symbol the event reaches; ts_ns: when the stream delivered it
    Column("source", "LowCardinality(String)", "the vendor", value="tick.event.source"),
    Column("event_type", "LowCardinality(String)", value="tick.event.event_type"),
    Column("entity", "LowCardinality(String)", "the symbol or market the event is about", value="tick.event.entity"),
    Column("event_id", "String", "the vendor's id, unique per source and message", value="tick.event.event_id"),
    Column("public_ts_ns", "Int64", "when the message's content became public", value="tick.event.public_ts_ns"),
    Column("scheduled_ts_ns", "Int64", "when the event takes or took place", value="tick.event.scheduled_ts_ns"),
    Column("importance", "UInt8", "1 (low) to 3 (high)", value="tick.event.importance"),
    _string("topic"), PARTITION, OFFSET, *STAMPS,
), order_by=("symbol", "ts_ns", "id"), keeps=is_event_message, arrow=True)

FEATURES = Table("features", FeatureRow, (
    uint64_id("symbol", "ts_ns", "partition", "offset"), SYMBOL, TS_NS, PARTITION, OFFSET, PRICE,
    Column("names", "Array(LowCardinality(String))"),
    Column("values", "Array(Float64)", "aligned with names; NaN = not ready (warm-up)"),
    Column("feature_set", "LowCardinality(String)",
           "feature-set version: the definitions and parameters behind values", added=True, added_default="''"),
    Column("quality", "Array(UInt8)",
           "per-feature flags aligned with names: 1 missing input, 2 warming up, 4 stale", added=True),
    *STAMPS,
), order_by=("symbol", "ts_ns", "id"))

PREDICTIONS = Table("predictions", Prediction, (
    Column("prediction_id", "String"), SYMBOL, TS_NS, PARTITION, OFFSET, PRICE, MODEL_VERSION,
    Column("p_up", "Float64"), Column("direction", "Int8"), Column("confidence", "Float64"),
    Column("volatility", "Float64"), _string("regime"), Column("score", "Float64"),
    Column("specialists", "Map(LowCardinality(String), Float64)"), *STAMPS,
), order_by=("symbol", "ts_ns", "prediction_id"))

#: A decision's columns, shared by the table of every decision and that of the accepted ones.
DECISION_COLUMNS = (
    Column("signal_id", "String"), SYMBOL, TS_NS, PARTITION, OFFSET, MODEL_VERSION, Column("direction", "Int8"),
    Column("size", "Float64"), Column("notional", "Float64"), PRICE, Column("confidence", "Float64"),
    _string("regime"), Column("accepted", "Bool"), _string("reason"), _string("trading_state"),
    Column("position_after", "Float64"),
    # The portfolio risk engine's fields, added after the first release.
    Column("level", "LowCardinality(String)",
           "risk level of the denying check (model, instrument, portfolio, execution)", added=True, added_default="''"),
    Column("detail", "String", "one sentence: why the check denied", added=True, added_default="''"),
    Column("risk_score", "Float64", "portfolio VaR / max VaR (capped at 1) that scaled the size",
           added=True, added_default="0"),
    Column("var", "Float64", "portfolio VaR after the decision", added=True, added_default="0"),
    Column("gross_exposure", "Float64", added=True, added_default="0"),
    Column("net_exposure", "Float64", added=True, added_default="0"),
    *STAMPS,
)

SIGNALS = Table("signals", Decision, DECISION_COLUMNS, order_by=("symbol", "ts_ns", "signal_id"),
                keeps=lambda decision: decision.accepted)
RISK_DECISIONS = Table("risk_decisions", Decision, DECISION_COLUMNS, order_by=("symbol", "ts_ns", "signal_id"))

REJECTS = Table("rejects", Reject, (
    uint64_id("topic", "partition", "offset", "stage"), _string("reason"), Column("detail", "String"),
    _string("stage"), _string("topic"), PARTITION, OFFSET,
    Column("raw", "String", "the original message bytes"),
    Column("symbol", "LowCardinality(Nullable(String))"), Column("ts_ns", "Nullable(Int64)"), INSERTED_AT,
), order_by=("topic", "partition", "offset", "id"))

CROSS_ASSET = Table("cross_asset", CrossAssetRow, (
    uint64_id("pair", "interval_ns", "ts_ns"), _string("pair"), SYMBOL, _string("reference"),
    Column("ts_ns", "Int64", "end of the bar interval"), Column("interval_ns", "Int64"),
    Column("correlation", "Float64"), Column("beta", "Float64"), Column("observations", "UInt32"), *STAMPS,
), order_by=("pair", "ts_ns", "id"))

MONITOR_EVENTS = Table("monitor_events", DriftEvent, (
    Column("event_id", "String"), _string("kind"), SYMBOL, TS_NS, _string("feature"), _string("detector"),
    Column("statistic", "Float64"),
    _string("model_version", "set for events about a model (model_decay, retrain, model_review)"), *STAMPS,
), order_by=("symbol", "ts_ns", "event_id"))

OUTCOMES = Table("outcomes", Outcome, (
    Column("prediction_id", "String"), SYMBOL, MODEL_VERSION,
    Column("ts_ns", "Int64", "event time of the prediction"),
    Column("resolved_ts_ns", "Int64", "event time of the first feature row at or after ts_ns + horizon_ns"),
    Column("horizon_ns", "Int64"), PRICE, Column("resolved_price", "Float64"), Column("p_up", "Float64"),
    Column("confidence", "Float64"), Column("direction", "Int8"), Column("realized_up", "Bool"),
    Column("correct", "Bool"), Column("log_loss", "Float64"), Column("brier", "Float64"),
    Column("window", "UInt32", "outcomes in the rolling statistics"),
    *(Column(f"rolling_{name}", "Float64") for name in ("accuracy", "log_loss", "brier", "confidence")), *STAMPS,
), order_by=("symbol", "ts_ns", "prediction_id"))

PNL = Table("pnl", PnlRow, (
    Column("id", "String", "PnlRow.row_id: stable_id(symbol, model_version, ts_ns, reason, trades)", value="row_id"),
    SYMBOL, MODEL_VERSION, TS_NS,
    *(Column(name, "Float64") for name in ("position", "average_price", "mid", "realized_pnl", "unrealized_pnl",
                                           "fees", "total_pnl")),
    *(Column(name, "UInt32") for name in ("trades", "closing_trades", "wins")),
    *(Column(name, "Float64") for name in ("win_rate", "sharpe", "drawdown", "max_drawdown")),
    _string("reason", "fill or mark"), *STAMPS,
), order_by=("symbol", "model_version", "ts_ns", "id"))

def _item(name: str) -> Callable[[dict], object]:
    """A field of an options row (``operators.options.minute``: rows are dicts)."""
    return lambda row: row[name]


def _floats(*names: str, comment: str = "") -> tuple[Column, ...]:
    return tuple(Column(name, "Float64", comment, value=_item(name)) for name in names)


#: One row per quoted contract per minute (``ChainMinute.contracts``).
OPTION_ANALYTICS = Table("option_analytics", ChainMinute, (
    Column("id", "UInt64", "stable_uint64(symbol, ts_ns)",
           value=lambda row: stable_uint64(row["symbol"], row["ts_ns"])),
    Column("underlying", "LowCardinality(String)", value=_item("underlying")),
    Column("symbol", "String", "the contract's OSI symbol", value=_item("symbol")),
    Column("ts_ns", "Int64", "the minute boundary the chain is priced at", value=_item("ts_ns")),
    Column("expiry", "Date", value=_item("expiry")),
    Column("strike", "Float64", value=_item("strike")),
    Column("right", "LowCardinality(String)", "C or P", value=_item("right")),
    Column("style", "LowCardinality(String)", "american or european", value=_item("style")),
    Column("spot", "Float64", "the underlying's latest usable mid", value=_item("spot")),
    *_floats("bid", "ask", "mid", "spread"),
    *_floats("european_price", comment="the mid de-Americanized: what the Black solver inverts"),
    *_floats("iv", comment="implied volatility; NaN where reason is not ok"),
    *_floats("delta", "gamma", "vega", "theta", "rho"),
    *_floats("years", comment="ACT/365 from ts_ns to 16:00 New York on the expiry date"),
    *_floats("rate", comment="continuously compounded, from the rate curve on that New York date"),
    *_floats("volume", "open_interest", "quote_age_s"),
    Column("reason", "LowCardinality(String)", "ok, or why there is no implied volatility", value=_item("reason")),
    *STAMPS,
), order_by=("underlying", "ts_ns", "id"))

#: One row per expiry per minute (``ChainMinute.expiries``).
VOL_SURFACE = Table("vol_surface", ChainMinute, (
    Column("id", "UInt64", "stable_uint64(underlying, expiry, ts_ns)",
           value=lambda row: stable_uint64(row["underlying"], str(row["expiry"]), row["ts_ns"])),
    Column("underlying", "LowCardinality(String)", value=_item("underlying")),
    Column("ts_ns", "Int64", "the minute boundary the chain is priced at", value=_item("ts_ns")),
    Column("expiry", "Date", value=_item("expiry")),
    *_floats("years", "forward"),
    Column("points", "UInt32", "contracts with an implied volatility in the fit", value=_item("points")),
    *_floats("atm_iv", "rr25", "bf25"),
    *_floats("svi_a", "svi_b", "svi_rho", "svi_m", "svi_sigma", comment="raw SVI total variance; NaN: no fit"),
    *_floats("svi_rmse_vol", comment="fit error, root mean square in volatility"),
    *_floats("svi_min_g", comment="minimum of the butterfly density function g over the fitted range"),
    Column("butterfly_arbitrage", "Bool", "svi_min_g < 0", value=_item("butterfly_arbitrage")),
    *_floats("call_volume", "put_volume", "call_open_interest", "put_open_interest"),
    *STAMPS,
), order_by=("underlying", "ts_ns", "id"))

#: One row per underlying per minute (``ChainMinute.features``), laid out like ``features``.
OPTION_FEATURES = Table("option_features", ChainMinute, (
    uint64_id("underlying", "ts_ns"),
    Column("underlying", "LowCardinality(String)"),
    Column("ts_ns", "Int64", "the minute boundary the chain is priced at"),
    Column("names", "Array(LowCardinality(String))", value=lambda minute: list(minute.features)),
    Column("values", "Array(Float64)", "aligned with names; NaN = no value this minute",
           value=lambda minute: list(minute.features.values())),
    *STAMPS,
), order_by=("underlying", "ts_ns", "id"))

#: ``ChainMinute`` attribute -> the table its rows go to (each minute itself goes to ``option_features``).
CHAIN_TABLES: tuple[tuple[str, str], ...] = (("contracts", "option_analytics"), ("expiries", "vol_surface"))

#: Every table, in the order the schema is created.
TABLE_DECLARATIONS: dict[str, Table] = {table.name: table for table in (
    TICKS, FEATURES, PREDICTIONS, SIGNALS, RISK_DECISIONS, REJECTS, CROSS_ASSET, MONITOR_EVENTS, OUTCOMES, PNL,
    BOOK_MESSAGES, OPTION_ANALYTICS, VOL_SURFACE, OPTION_MESSAGES, OPTION_FEATURES, EVENT_MESSAGES)}

#: The tables whose rows account for the offsets of the ticks topic (``tickwise verify``): an
#: admitted trade or quote, an admitted depth message, an admitted option message, an admitted
#: event, or a reject.
OFFSET_TABLES: tuple[str, ...] = ("ticks", "book_messages", "option_messages", "event_messages", "rejects")

TABLES: tuple[str, ...] = tuple(TABLE_DECLARATIONS)
TABLE_DDL: dict[str, str] = {name: table.ddl() for name, table in TABLE_DECLARATIONS.items()}

#: Columns added after a table's first release, as ``(table, "name type [DEFAULT expr]")``: tables
#: created by an older tickwise get them on start-up, so an existing history keeps working.
ADDED_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (table.name, column.migration()) for table in TABLE_DECLARATIONS.values() for column in table.columns
    if column.added)



def _tables_by_record() -> dict[type, tuple[Table, ...]]:
    """A record type's tables: those that take all its records first, then those that pick some."""
    tables: dict[type, tuple[Table, ...]] = {}
    for table in sorted(TABLE_DECLARATIONS.values(), key=lambda table: table.keeps is not None):
        tables[table.record] = (*tables.get(table.record, ()), table)
    return tables


_TABLES_OF = _tables_by_record()


def _group_ticks(ticks: list[ValidTick], groups: dict[str, list[Any]]) -> None:
    """A batch's trades and quotes to ``ticks``, its depth messages to ``book_messages``, its option
    messages to ``option_messages``, its events to ``event_messages``."""
    if not any(type(tick.tick) in _NOT_TICKS for tick in ticks):
        groups.setdefault("ticks", []).extend(ticks)
        return
    for tick in ticks:
        kind = type(tick.tick)
        name = ("book_messages" if kind in BOOK_TYPES else "option_messages" if kind in OPTION_TYPES
                else "event_messages" if kind is EventTick else "ticks")
        groups.setdefault(name, []).append(tick)


def group_by_table(records: Iterable[Record]) -> dict[str, list[Any]]:
    """Records grouped into their tables; a decision goes to ``risk_decisions`` and, when
    accepted, to ``signals`` as well; a tick to ``ticks``, a depth message to ``book_messages``, an
    option message to ``option_messages``, an event to ``event_messages``; an options chain's minute
    (``ChainMinute``) to ``option_analytics`` (its contracts), ``vol_surface`` (its expiries) and
    ``option_features`` (the minute itself). An unknown type raises ``TypeError`` (never dropped)."""
    groups: dict[str, list[Any]] = {}
    for record in records:
        kind = type(record)
        if kind is TickBatch:
            _group_ticks(record.ticks, groups)
            continue
        if kind is ChainMinute:
            for attribute, table_name in CHAIN_TABLES:
                rows = getattr(record, attribute)
                if rows:
                    groups.setdefault(table_name, []).extend(rows)
            groups.setdefault("option_features", []).append(record)
            continue
        tables = _TABLES_OF.get(kind)
        if tables is None:
            raise TypeError(
                f"clickhouse sink: expected TickBatch or one of {', '.join(t.__name__ for t in _TABLES_OF)}, "
                f"got {kind.__name__}")
        for table in tables:
            if table.keeps is None or table.keeps(record):
                groups.setdefault(table.name, []).append(record)
    return groups
