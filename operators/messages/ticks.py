"""Message types that flow between the steps of every tickwise dataflow.

Ticks arrive as JSON on Kafka (key = symbol) and are decoded into
``Trade`` or ``Quote``. Everything downstream is a small frozen ``msgspec.Struct``
so it pickles compactly for Bytewax recovery and encodes fast for the sinks.

Every record that leaves the engine carries the Kafka partition and offset of the
tick that produced it, so ids derived from them are deterministic on replay.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Side = Literal["buy", "sell", "unknown"]
Direction = Literal[1, 0, -1]
TradingState = Literal["ACTIVE", "REDUCING", "HALTED"]


class Trade(msgspec.Struct, tag_field="type", tag="trade", frozen=True, forbid_unknown_fields=True):
    """One print on the tape.

    ``seq`` is the feed's sequence number when it sends one (optional, so feeds without it
    decode unchanged); ``operators.ingest.dedupe`` drops a repeated (symbol, seq).
    """

    symbol: str
    ts_ns: int
    price: float
    size: float
    side: Side = "unknown"
    seq: int | None = None


class Quote(msgspec.Struct, tag_field="type", tag="quote", frozen=True, forbid_unknown_fields=True):
    """Best bid and offer (``seq``: optional feed sequence number, as on ``Trade``).

    ``book_id`` is the venue's order-book update id this best quote reflects (Binance's
    ``bookTicker`` ``u``), when the venue publishes one: the top of a rebuilt book at that id
    must equal it (``operators.book.check``).
    """

    symbol: str
    ts_ns: int
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    seq: int | None = None
    book_id: int | None = None


#: One price level: ``(price, size)``; size 0 deletes the level.
Level = tuple[float, float]


class BookSnapshot(msgspec.Struct, tag_field="type", tag="book_snapshot", frozen=True, forbid_unknown_fields=True):
    """A venue's whole order book (or its best levels) as of update id ``update_id``.

    ``bids`` best (highest) first, ``asks`` best (lowest) first. A snapshot replaces the book
    and makes it valid; deltas continue it (``operators.book``).
    """

    symbol: str
    ts_ns: int
    update_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


class BookDelta(msgspec.Struct, tag_field="type", tag="book_delta", frozen=True, forbid_unknown_fields=True):
    """Changed price levels covering the venue's update ids ``first_id`` to ``last_id``.

    ``prev_id`` is the ``last_id`` of the symbol's previous delta on venues that send it
    (Binance futures ``pu``); without it, deltas must be contiguous (``first_id`` = previous
    ``last_id`` + 1, Binance spot). A level's size replaces the book's; 0 deletes it.
    """

    symbol: str
    ts_ns: int
    first_id: int
    last_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    prev_id: int | None = None


class BookEvent(msgspec.Struct, frozen=True):
    """Something happened to a symbol's rebuilt book: ``book_gap`` (a delta does not continue the
    sequence) or ``book_crossed`` (best bid >= best ask); either leaves the book invalid until the
    next snapshot. ``detail`` says which ids."""

    event_id: str
    symbol: str
    ts_ns: int
    kind: str
    detail: str


Tick = Trade | Quote
BookMessage = BookSnapshot | BookDelta


class SourceRecord(msgspec.Struct, frozen=True):
    """A raw message as it came off Kafka, before any decoding."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class ValidTick(msgspec.Struct, frozen=True):
    """A decoded tick that passed the stateless checks, with its source position."""

    tick: Trade | Quote
    topic: str
    partition: int
    offset: int


class TickBatch(msgspec.Struct, frozen=True):
    """Consecutive ticks of one symbol, in arrival order: how the hot path moves ticks.

    The decode step groups each source batch by symbol and the per-symbol step re-emits the
    ticks it admitted as one ``TickBatch``, so the Bytewax plumbing (keying, routing between
    workers, the ClickHouse and paper-trading inputs) costs one item per symbol per source
    batch instead of one per tick. ``ticks`` is never empty.
    """

    symbol: str
    ticks: list[ValidTick]

    def __len__(self) -> int:
        return len(self.ticks)


class Reject(msgspec.Struct, frozen=True):
    """A message refused by a step; goes to ``ticks.dlq`` and the ``rejects`` table.

    ``reason`` is a short machine-readable code (``invalid_json``, ``price_out_of_bounds``,
    ``ts_ahead`` ...); ``detail`` is one human sentence naming the step, what was expected
    and what arrived.
    """

    reason: str
    detail: str
    stage: str
    topic: str
    partition: int
    offset: int
    raw: bytes
    symbol: str | None = None
    ts_ns: int | None = None


_TICK_ENCODER = msgspec.json.Encoder()


def reject(stage: str, source: SourceRecord | ValidTick, reason: str, detail: str, raw: bytes | None = None,
           symbol: str | None = None, ts_ns: int | None = None) -> Reject:
    """The one way a step refuses a message: ``detail`` becomes ``"<stage>: <detail>."``.

    A ``ValidTick`` source carries its own bytes (the tick re-encoded), symbol and event time.

    >>> record = SourceRecord("ticks", 0, 7, None, b"{")
    >>> reject("validate", record, "invalid_json", "expected a JSON tick", raw=b"{").detail
    'validate: expected a JSON tick.'
    """
    if isinstance(source, ValidTick):
        tick = source.tick
        raw = _TICK_ENCODER.encode(tick) if raw is None else raw
        symbol, ts_ns = tick.symbol, tick.ts_ns
    return Reject(reason=reason, detail=f"{stage}: {detail}.", stage=stage, topic=source.topic,
                  partition=source.partition, offset=source.offset, raw=raw if raw is not None else b"",
                  symbol=symbol, ts_ns=ts_ns)


class FeatureRow(msgspec.Struct, frozen=True):
    """The feature vector of one symbol at one event time.

    ``values`` is aligned with ``names`` (the operator's ordered feature names); a value
    that is not ready yet (indicator warm-up) is NaN. ``price`` is the reference price
    (the mid while the row has a valid quote, else the last trade: no bid-ask bounce in the
    labels, outcomes and decisions priced on it) and ``partition``/``offset`` point at the tick that produced
    the row. ``feature_set`` is the feature-set version (which definitions and parameters
    produced the values) and ``quality`` holds per-feature flags (``operators.features.feature_set``:
    1 missing input, 2 warming up, 4 stale input).
    """

    symbol: str
    ts_ns: int
    partition: int
    offset: int
    price: float
    names: tuple[str, ...]
    values: tuple[float, ...]
    feature_set: str = ""
    quality: tuple[int, ...] = ()

    @property
    def complete(self) -> bool:
        """Every feature present, warmed up and fresh (all quality flags 0)."""
        return bool(self.quality) and not any(self.quality)

    def get(self, name: str, default: float = float("nan")) -> float:
        try:
            return self.values[self.names.index(name)]
        except ValueError:
            return default


class DriftEvent(msgspec.Struct, frozen=True):
    """A monitor event of one symbol: a feature group's alarm opening or closing
    (``feature_investigation``/``feature_investigation_closed``, from the standardised monitor or
    PSI; ``feature_drift`` from a River detector), or a model's live accuracy or confidence
    falling (``retrain``, ``model_review``), or an order book becoming invalid (``book_gap``,
    ``book_crossed``: feature ``book_valid``, detector ``order_book``, statistic the count so far).
    ``model_version`` is set for events about a model."""

    event_id: str
    symbol: str
    ts_ns: int
    feature: str
    detector: str
    statistic: float
    kind: str = "feature_drift"
    model_version: str = ""


class Prediction(msgspec.Struct, frozen=True):
    """The ensemble's view of one feature row.

    ``p_up`` is the meta model's probability that the price rises over its horizon,
    ``direction`` is +1/-1/0, ``confidence`` in [0.5, 1] is ``max(p_up, 1 - p_up)`` (the probability of the predicted class), ``volatility``
    the volatility specialist's forecast (per-horizon return standard deviation) and
    ``specialists`` each specialist's raw output by name.
    """

    prediction_id: str
    symbol: str
    ts_ns: int
    partition: int
    offset: int
    price: float
    model_version: str
    p_up: float
    direction: int
    confidence: float
    volatility: float
    regime: str
    score: float
    specialists: dict[str, float]


class Decision(msgspec.Struct, frozen=True):
    """The risk step's verdict on one prediction: a signal if ``accepted``.

    Every prediction gets exactly one decision, accepted or denied, with a reason code.
    ``level`` is the risk level of the denying check (``model``, ``instrument``,
    ``portfolio``, ``execution``; empty when accepted) and ``detail`` one sentence on why.
    ``risk_score`` (portfolio VaR / max VaR, capped at 1, which scaled the size), ``var``
    (portfolio VaR after the decision) and the gross/net exposure after it are recorded too.
    """

    signal_id: str
    symbol: str
    ts_ns: int
    partition: int
    offset: int
    model_version: str
    direction: int
    size: float
    notional: float
    price: float
    confidence: float
    regime: str
    accepted: bool
    reason: str
    trading_state: str
    position_after: float
    level: str = ""
    detail: str = ""
    risk_score: float = 0.0
    var: float = 0.0
    gross_exposure: float = 0.0
    net_exposure: float = 0.0


class BarReturn(msgspec.Struct, frozen=True):
    """One completed time bar's log return, for cross-asset statistics.

    ``previous_end_ns`` is the end of the bar before it: the return covers exactly
    ``[previous_end_ns, end_ns)``, so two symbols' returns are comparable only when both
    bounds agree (a bar without trades makes the next return span two intervals).
    """

    symbol: str
    interval_ns: int
    previous_end_ns: int
    end_ns: int
    log_return: float


class CrossAssetRow(msgspec.Struct, frozen=True):
    """Rolling correlation and beta of ``symbol`` against ``reference`` at one bar end."""

    pair: str
    symbol: str
    reference: str
    ts_ns: int
    interval_ns: int
    correlation: float
    beta: float
    observations: int


class Fill(msgspec.Struct, frozen=True):
    """A paper execution of one accepted signal (``operators.paper.book``).

    ``direction`` is +1 (bought) or -1 (sold), ``quantity`` > 0 shares, ``price`` the fill
    price including the half-spread (ask for a buy, bid for a sell, or trade price +/- the
    configured half-spread for symbols without quotes); ``fee`` is paid on top.
    ``reference`` says what the price came from (``ask``, ``bid``, ``trade``).
    ``realized_pnl`` is the price P&L this fill closed (before fees); ``signal_ts_ns`` the
    event time of the signal, ``ts_ns`` the event time of the tick that filled it.
    """

    fill_id: str
    signal_id: str
    symbol: str
    ts_ns: int
    signal_ts_ns: int
    direction: int
    quantity: float
    price: float
    mid: float
    fee: float
    reference: str
    model_version: str = ""
    regime: str = ""
    realized_pnl: float = 0.0
    position_after: float = 0.0
    average_price_after: float = 0.0


class PnlSnapshot(msgspec.Struct, frozen=True):
    """One symbol's paper book marked to mid at event time ``ts_ns``.

    ``realized_pnl`` and ``unrealized_pnl`` are price P&L before fees; ``fees`` the fees
    paid so far; ``total_pnl = realized_pnl + unrealized_pnl - fees``. ``trades`` counts
    fills, ``closing_trades`` the fills that reduced a position and ``wins`` those whose
    realized P&L net of their own fee was > 0.
    """

    symbol: str
    ts_ns: int
    position: float
    average_price: float
    mid: float
    realized_pnl: float
    unrealized_pnl: float
    fees: float
    total_pnl: float
    trades: int = 0
    closing_trades: int = 0
    wins: int = 0
    gross_exposure: float = 0.0
    traded_notional: float = 0.0


class MarketContext(msgspec.Struct, frozen=True):
    """What the risk engine needs to know of one symbol's market at a feature row.

    Built from the ``FeatureRow`` that the prediction of the same (symbol, ts_ns, offset)
    was scored from: ``price`` (last trade, else mid), ``mid`` and ``spread`` of the latest
    quote (NaN without quotes) and the event-time ages of the latest quote and trade.
    """

    symbol: str
    ts_ns: int
    partition: int
    offset: int
    price: float
    mid: float = float("nan")
    spread: float = float("nan")
    quote_age_s: float = float("nan")
    trade_age_s: float = float("nan")


class ControlCommand(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A message on the Kafka ``control`` topic: the desk's kill switch.

    ``command`` is ``halt`` (HALTED: deny everything), ``reduce`` (REDUCING: only orders
    that shrink a position) or ``resume`` (back to ACTIVE, also clearing a drawdown trip).
    """

    command: Literal["halt", "reduce", "resume"]
    ts_ns: int = 0
    reason: str = ""
    issued_by: str = ""


class Outcome(msgspec.Struct, frozen=True):
    """A prediction joined with what the market did over its horizon (``operators.monitoring.outcomes``).

    ``realized_up`` is True when the first feature row of the symbol at or after
    ``ts_ns + horizon_ns`` (``resolved_ts_ns``) has a price above the prediction's; ``correct``
    compares it with ``p_up > 0.5``; ``log_loss`` and ``brier`` score ``p_up`` against it.
    The ``rolling_*`` fields are the model's live statistics for this symbol over the last
    ``window`` resolved predictions, this one included.
    """

    prediction_id: str
    symbol: str
    model_version: str
    ts_ns: int
    resolved_ts_ns: int
    horizon_ns: int
    price: float
    resolved_price: float
    p_up: float
    confidence: float
    direction: int
    realized_up: bool
    correct: bool
    log_loss: float
    brier: float
    window: int
    rolling_accuracy: float
    rolling_log_loss: float
    rolling_brier: float
    rolling_confidence: float


class PnlRow(msgspec.Struct, frozen=True):
    """The paper book of one symbol and model marked at ``ts_ns`` (``operators.paper.trader``).

    The book fields are those of ``PnlSnapshot``; ``win_rate`` is wins over closing trades,
    ``sharpe`` the rolling Sharpe ratio of the per-interval changes of ``total_pnl`` (annualised),
    ``drawdown`` the distance of ``total_pnl`` below its running peak (>= 0, currency) and
    ``max_drawdown`` the largest such distance so far. ``reason`` is ``fill`` or ``mark``.
    """

    row_id: str
    symbol: str
    model_version: str
    ts_ns: int
    position: float
    average_price: float
    mid: float
    realized_pnl: float
    unrealized_pnl: float
    fees: float
    total_pnl: float
    trades: int
    closing_trades: int
    wins: int
    win_rate: float
    sharpe: float
    drawdown: float
    max_drawdown: float
    reason: str = "mark"
