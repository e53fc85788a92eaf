"""Market input as it enters the engine: ticks, order-book messages, source positions and rejects.

Ticks arrive as JSON on Kafka (key = symbol) and are decoded into ``Trade`` or ``Quote``
(``BookSnapshot``/``BookDelta`` for venues that publish depth). Each keeps the Kafka position
it came from (``ValidTick``), and a message a step refuses becomes a ``Reject`` for ``ticks.dlq``.
"""

# Annotations are evaluated at class creation (no ``from __future__ import annotations``): the
# structs take the package's name as ``__module__`` (see ``__init__``), so msgspec must not have to
# look their annotation names up in that module.

from typing import Literal

import msgspec

Side = Literal["buy", "sell", "unknown"]


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
