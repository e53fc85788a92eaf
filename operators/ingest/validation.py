"""Decode and validate raw Kafka tick messages: every message becomes a tick or a reject.

``decode_tick`` is the first step of every flow. It decodes the JSON value of one
``SourceRecord`` with a typed msgspec decoder for the tagged union
``Trade | Quote | BookSnapshot | BookDelta`` and the option messages of
``operators.options.wire``
(strict: ``ts_ns`` must be a JSON integer, never a float or a bool) and then applies the
stateless checks of ``ValidationLimits``. It never raises: a message that is empty, too
large, not UTF-8, not JSON, not a trade, quote or depth message, or out of bounds becomes a ``Reject``
(stage ``"validate"``) with a short reason code, a one-sentence detail, the source
topic/partition/offset and the original bytes, ready for ``ticks.dlq``.

Reason codes: ``empty_message``, ``message_too_large``, ``invalid_utf8``, ``invalid_json``,
``unknown_type``, ``missing_field``, ``unknown_field``, ``wrong_type``, ``invalid_value``
(a ``side`` outside buy/sell/unknown), ``non_finite``, ``invalid_symbol`` (outside the grammar of
``operators.ingest.symbols``), ``missing_key`` (a message without a Kafka key), ``key_mismatch``
(a key other than the symbol, after normalisation), ``symbol_not_allowed`` (a symbol off a
non-empty allow-list),
``ts_out_of_bounds``, ``price_out_of_bounds``, ``size_out_of_bounds``, ``bid_out_of_bounds``,
``ask_out_of_bounds``, ``bid_size_out_of_bounds``, ``ask_size_out_of_bounds``,
``seq_out_of_bounds`` (an optional feed sequence number outside ``[0, 2**63 - 1]``) and
``crossed_quote`` (bid above ask; a locked quote, bid equal to ask, is valid), and for depth
messages the reasons of ``operators.ingest.book_checks`` (``book_id_out_of_bounds``,
``level_price_out_of_bounds``, ``level_size_out_of_bounds``, ``crossed_book``). An integer
too large for 64 bits (say 5,000 digits) in ``ts_ns`` or ``seq`` is ``ts_out_of_bounds`` or
``seq_out_of_bounds``.

An event (``type`` ``event``, ``operators.events.wire.EventTick``) is keyed by the symbol it reaches
and checked like a tick for its symbol, key and ``ts_ns``, then by ``operators.events.event_problem``
for its content (with ``ValidationLimits.events``, which allows events up to 1 MB: a filing's text);
its rejects have stage ``validate_event`` and a reason of ``operators.events.EVENT_REJECT_REASONS``.

An option message (``option_quote``, ``option_trade``, ``option_open_interest``) is keyed by its
underlying and checked by ``operators.options.wire.to_message``; its rejects have stage
``validate_option`` and the reasons listed there (``invalid_option_symbol``,
``strike_out_of_bounds``, ...) and carry the underlying, never the contract, as symbol.

A depth message may be up to ``max_book_message_bytes`` long (a venue's REST snapshot holds
a thousand levels a side), an event up to ``events.max_message_bytes``; every other tick up to
``max_message_bytes``. A reject for size keeps
the first ``max_message_bytes`` in ``raw``.

Every bound is checked as ``lo <= x <= hi`` (sizes as ``0 < x <= hi``), so NaN fails.
A reject carries ``symbol`` and ``ts_ns`` only when those values are themselves valid,
so sinks can store them in typed columns. Its ``raw`` is the original message, except for
``message_too_large``, whose ``raw`` keeps only the first ``max_message_bytes`` bytes.

>>> from operators.messages import SourceRecord
>>> limits = ValidationLimits()
>>> value = b'{"type":"trade","symbol":"IBM","ts_ns":1381152600010000000,"price":185.17,"size":100}'
>>> decode_tick(SourceRecord("ticks", 0, 41, b"IBM", value), limits).tick
Trade(symbol='IBM', ts_ns=1381152600010000000, price=185.17, size=100.0, side='unknown', seq=None)
>>> crossed = (b'{"type":"quote","symbol":"IBM","ts_ns":1381152600010000000,'
...            b'"bid":185.2,"ask":185.1,"bid_size":100,"ask_size":200}')
>>> reject = decode_tick(SourceRecord("ticks", 0, 42, b"IBM", crossed), limits)
>>> reject.reason, reject.offset, reject.symbol
('crossed_quote', 42, 'IBM')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import msgspec

from operators.events.message import EventMessage
from operators.events.validation import EVENT_REJECT_REASONS, EventLimits, event_problem
from operators.events.validation import STAGE as EVENT_STAGE
from operators.events.wire import EventTick
from operators.ingest.book_checks import BOOK_REJECT_REASONS, book_problem
from operators.ingest.symbols import SYMBOL_CASES, SYMBOL_PATTERN, SymbolCase, normalise_symbol, symbol_problem
from operators.messages import BookDelta, BookSnapshot, Quote, Reject, SourceRecord, Trade, ValidTick, reject
from operators.options import wire as option_wire

__all__ = ["REJECT_REASONS", "STAGE", "SYMBOL_PATTERN", "ValidationLimits", "decode_tick"]

STAGE = "validate"

_NANOSECONDS_2000_01_01 = 946_684_800_000_000_000
_NANOSECONDS_2100_01_01 = 4_102_444_800_000_000_000
_DETAIL_PREVIEW_CHARS = 40
_MAX_SEQ = 2**63 - 1
_KNOWN_SYMBOLS = 65_536

_DECODER = msgspec.json.Decoder(Trade | Quote | BookSnapshot | BookDelta | EventTick | option_wire.OptionWire)
_BOOK_TYPES = (BookSnapshot, BookDelta)
_ID_FIELDS = ("$.update_id", "$.first_id", "$.last_id", "$.prev_id")

_BOUNDED_FIELDS = ("ts", "price", "size", "bid", "ask", "bid_size", "ask_size", "seq")

#: Every reason code a message can be rejected with on the tick path (this validator, the
#: event-time guard, the duplicate filter, the control topic). The metrics declare each at 0 at
#: start, so a burst of a reason never seen before still shows in a Prometheus ``rate()``.
REJECT_REASONS: tuple[str, ...] = tuple(dict.fromkeys((
    "empty_message", "message_too_large", "invalid_json", "invalid_utf8", "invalid_value", "missing_field", "unknown_field",
    "unknown_type", "wrong_type", "non_finite", "invalid_symbol", "missing_key", "key_mismatch",
    "symbol_not_allowed", "crossed_quote", *BOOK_REJECT_REASONS, *option_wire.REJECT_REASONS,
    *(f"{field}_out_of_bounds" for field in _BOUNDED_FIELDS),
    "ts_ahead", "ts_late", "clock_reset", "symbol_idle", "duplicate_offset", "duplicate_sequence", "invalid_control",
    *EVENT_REJECT_REASONS,
)))
_TICK_KINDS = "trade, quote, depth, event or option message"
_FIELD_IN_BACKTICKS = re.compile(r"`([^`]*)`")
_PATH_SUFFIX = re.compile(r" - at `(\$[^`]*)`$")


@dataclass(frozen=True, slots=True)
class ValidationLimits:
    """Bounds a decoded tick must satisfy; validated on construction.

    ``min_ts_ns``/``max_ts_ns`` default to 2000-01-01 and 2100-01-01 UTC in nanoseconds.
    Prices (trade price, bid, ask) must lie in ``[min_price, max_price]``; sizes (trade
    size, bid size, ask size) in ``(0, max_size]``. Symbols follow the grammar of
    ``operators.ingest.symbols`` up to ``max_symbol_length`` characters, are folded as
    ``symbol_case`` says, and must be on ``allowed_symbols`` unless it is empty.

    >>> ValidationLimits(max_price=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: ValidationLimits.max_price must be a finite number above min_price=1e-06, got -1.0
    """

    max_message_bytes: int = 4096
    max_book_message_bytes: int = 524_288
    min_price: float = 1e-6
    max_price: float = 1e7
    max_size: float = 1e10
    min_ts_ns: int = _NANOSECONDS_2000_01_01
    max_ts_ns: int = _NANOSECONDS_2100_01_01
    max_symbol_length: int = 32
    symbol_case: SymbolCase = "keep"
    allowed_symbols: frozenset[str] = field(default_factory=frozenset)
    events: EventLimits = field(default_factory=EventLimits)
    #: Symbols that passed every identity check: symbol -> (its Kafka key, the normalised symbol when it
    #: differs). A cache for the hot path, bounded by ``_KNOWN_SYMBOLS``; not part of the limits' value.
    known_symbols: dict[str, tuple[bytes, str | None]] = field(default_factory=dict, init=False, repr=False,
                                                        compare=False)

    def __post_init__(self) -> None:
        _require_positive_int("max_message_bytes", self.max_message_bytes)
        _require_positive_int("max_book_message_bytes", self.max_book_message_bytes)
        _require_positive_int("max_symbol_length", self.max_symbol_length)
        if self.symbol_case not in SYMBOL_CASES:
            raise ValueError(f"ValidationLimits.symbol_case must be one of {', '.join(SYMBOL_CASES)}, "
                             f"got {self.symbol_case!r}")
        self._check_allowed_symbols()
        if not (_is_real(self.min_price) and 0.0 < self.min_price < math.inf):
            raise ValueError(f"ValidationLimits.min_price must be a finite number above 0, got {self.min_price!r}")
        if not (_is_real(self.max_price) and self.min_price < self.max_price < math.inf):
            raise ValueError(
                f"ValidationLimits.max_price must be a finite number above min_price={self.min_price!r}, "
                f"got {self.max_price!r}"
            )
        if not (_is_real(self.max_size) and 0.0 < self.max_size < math.inf):
            raise ValueError(f"ValidationLimits.max_size must be a finite number above 0, got {self.max_size!r}")
        for name in ("min_ts_ns", "max_ts_ns"):
            value = getattr(self, name)
            if type(value) is not int:
                raise ValueError(f"ValidationLimits.{name} must be an int of nanoseconds, got {value!r}")
        if not self.min_ts_ns < self.max_ts_ns:
            raise ValueError(
                f"ValidationLimits.max_ts_ns must be above min_ts_ns={self.min_ts_ns!r}, got {self.max_ts_ns!r}"
            )


    def _check_allowed_symbols(self) -> None:
        if type(self.allowed_symbols) is not frozenset:
            raise ValueError(f"ValidationLimits.allowed_symbols must be a frozenset, got {self.allowed_symbols!r}")
        for symbol in sorted(self.allowed_symbols):
            problem = symbol_problem(symbol, self.max_symbol_length) if type(symbol) is str else "expected a str"
            if problem is None and normalise_symbol(symbol, self.symbol_case) != symbol:
                problem = f"expected symbols as symbol_case={self.symbol_case!r} normalises them"
            if problem is not None:
                raise ValueError(f"ValidationLimits.allowed_symbols must hold valid symbols, got {symbol!r}: {problem}")


def decode_tick(record: SourceRecord, limits: ValidationLimits) -> ValidTick | Reject:
    """Decode ``record.value`` into a ``ValidTick``, or explain in a ``Reject`` why not.

    The Kafka key must be present and equal the UTF-8 bytes of the symbol as normalised, so all
    messages of one instrument share one partition. Never raises for any content of ``record``.
    """
    raw = record.value
    if not raw:
        return reject(STAGE, record, "empty_message", "expected a JSON tick, got an empty value", raw=b"")
    size = len(raw)
    largest = max(limits.max_message_bytes, limits.max_book_message_bytes, limits.events.max_message_bytes)
    if size > largest:
        return _too_large(record, raw, largest, limits.max_message_bytes)
    try:
        tick = _DECODER.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as error:
        if size > limits.max_message_bytes:
            return _too_large(record, raw, limits.max_message_bytes, limits.max_message_bytes)
        reason, detail = _explain_decode_failure(raw, error)
        return reject(STAGE, record, reason, detail, raw=raw)
    if type(tick) is EventTick:
        if size > limits.events.max_message_bytes:
            return _too_large(record, raw, limits.events.max_message_bytes, limits.max_message_bytes)
        return _event(record, tick, limits)
    book = type(tick) in _BOOK_TYPES
    limit = limits.max_book_message_bytes if book else limits.max_message_bytes
    if size > limit:
        return _too_large(record, raw, limit, limits.max_message_bytes)
    if type(tick) in option_wire.WIRE_TYPES:
        return _option(record, tick, limits)
    symbol = tick.symbol
    known = limits.known_symbols.get(symbol)
    if known is not None and record.key == known[0]:
        problem = None
    else:
        problem = _check_identity(symbol, record.key, limits)
        known = limits.known_symbols.get(symbol)
    if problem is None:
        if known[1] is not None:  # type: ignore[index]
            tick = msgspec.structs.replace(tick, symbol=known[1])  # type: ignore[index]
        problem = _check_ts(tick, limits)
    if problem is None:
        if book:
            problem = book_problem(tick, limits.min_price, limits.max_price, limits.max_size)
        else:
            problem = _check_trade(tick, limits) if type(tick) is Trade else _check_quote(tick, limits)
    if problem is None and not book and tick.seq is not None and not 0 <= tick.seq <= _MAX_SEQ:
        problem = "seq_out_of_bounds", f"expected seq in [0, {_MAX_SEQ}], got {_preview(tick.seq)}"
    if problem is None:
        return ValidTick(tick, record.topic, record.partition, record.offset)
    valid_symbol = None if symbol_problem(symbol, limits.max_symbol_length) else normalise_symbol(
        symbol, limits.symbol_case)
    ts_ns = tick.ts_ns if limits.min_ts_ns <= tick.ts_ns <= limits.max_ts_ns else None
    return reject(STAGE, record, problem[0], problem[1], raw=raw, symbol=valid_symbol, ts_ns=ts_ns)


def _option(record: SourceRecord, wire: option_wire.OptionWire, limits: ValidationLimits) -> ValidTick | Reject:
    message = option_wire.to_message(wire, record.key, limits.min_price, limits.max_price, limits.max_size,
                                     (limits.min_ts_ns, limits.max_ts_ns))
    if type(message) is not tuple:
        return ValidTick(message, record.topic, record.partition, record.offset)  # type: ignore[arg-type]
    root = wire.contract.split(" ", 1)[0][:6]
    symbol = root if root and symbol_problem(root, limits.max_symbol_length) is None else None
    ts_ns = wire.ts_ns if limits.min_ts_ns <= wire.ts_ns <= limits.max_ts_ns else None
    return reject(option_wire.STAGE, record, message[0], message[1], raw=record.value, symbol=symbol, ts_ns=ts_ns)


def _event(record: SourceRecord, tick: EventTick, limits: ValidationLimits) -> ValidTick | Reject:
    """An event for a symbol: its symbol, key and delivery time checked as a tick's, then its content."""
    symbol = tick.symbol
    problem = _check_identity(symbol, record.key, limits) or _check_ts(tick, limits)
    if problem is None:
        problem = event_problem(tick.event, limits.events) or _check_audience(tick, limits.events)
    if problem is None:
        canonical = normalise_symbol(symbol, limits.symbol_case)
        if canonical != symbol:
            tick = msgspec.structs.replace(tick, symbol=canonical)
        return ValidTick(tick, record.topic, record.partition, record.offset)  # type: ignore[arg-type]
    valid_symbol = None if symbol_problem(symbol, limits.max_symbol_length) else normalise_symbol(
        symbol, limits.symbol_case)
    ts_ns = tick.ts_ns if limits.min_ts_ns <= tick.ts_ns <= limits.max_ts_ns else None
    return reject(EVENT_STAGE, record, problem[0], problem[1], raw=record.value, symbol=valid_symbol, ts_ns=ts_ns)


def _check_audience(tick: EventTick, limits: EventLimits) -> tuple[str, str] | None:
    """An event reaches a symbol when it is about that symbol or about one of the markets."""
    event: EventMessage = tick.event
    if event.entity == tick.symbol or event.entity in limits.markets:
        return None
    return "entity_mismatch", (f"expected an event about {tick.symbol!r} or a market of {', '.join(limits.markets)}, "
                               f"got one about {event.entity!r}")


def _too_large(record: SourceRecord, raw: bytes, limit: int, kept: int) -> Reject:
    # Keep only the head: a 2 MB garbage message copied whole into ticks.dlq would exceed
    # the producer's (and most brokers') 1 MB message limit, fail the dead-letter sink and,
    # replayed on every resume, crash-loop the flow. The source position locates the rest.
    return reject(STAGE, record, "message_too_large",
                  f"expected at most {limit} bytes, got {len(raw)} bytes (raw keeps the first {kept})",
                  raw=raw[:kept])


def _check_identity(symbol: str, key: bytes | None, limits: ValidationLimits) -> tuple[str, str] | None:
    """The symbol follows the grammar, the message is keyed by it (as normalised), and it is allowed."""
    problem = symbol_problem(symbol, limits.max_symbol_length)
    if problem is not None:
        return "invalid_symbol", problem
    canonical = normalise_symbol(symbol, limits.symbol_case)
    if key is None:
        return "missing_key", (f"expected the Kafka key {canonical!r} (the symbol), got a message without a key, "
                               "which may sit on any partition and race the symbol's keyed ticks")
    if key != canonical.encode():
        return "key_mismatch", f"expected the Kafka key to equal the symbol {canonical!r}, got key {_preview(key)}"
    if limits.allowed_symbols and canonical not in limits.allowed_symbols:
        return "symbol_not_allowed", (f"expected one of the {len(limits.allowed_symbols)} allowed symbols, "
                                      f"got {canonical!r}")
    if len(limits.known_symbols) >= _KNOWN_SYMBOLS:
        limits.known_symbols.clear()
    limits.known_symbols[symbol] = (key, None if canonical == symbol else canonical)
    return None


def _check_ts(tick: Trade | Quote | BookSnapshot | BookDelta | EventTick,
              limits: ValidationLimits) -> tuple[str, str] | None:
    if not limits.min_ts_ns <= tick.ts_ns <= limits.max_ts_ns:
        return (
            "ts_out_of_bounds",
            f"expected ts_ns in [{limits.min_ts_ns}, {limits.max_ts_ns}], got {_preview(tick.ts_ns)}",
        )
    return None


def _check_trade(trade: Trade, limits: ValidationLimits) -> tuple[str, str] | None:
    if not limits.min_price <= trade.price <= limits.max_price:
        return _price_problem("price", trade.price, limits)
    if not 0.0 < trade.size <= limits.max_size:
        return _size_problem("size", trade.size, limits)
    return None


def _check_quote(quote: Quote, limits: ValidationLimits) -> tuple[str, str] | None:
    if not limits.min_price <= quote.bid <= limits.max_price:
        return _price_problem("bid", quote.bid, limits)
    if not limits.min_price <= quote.ask <= limits.max_price:
        return _price_problem("ask", quote.ask, limits)
    if not 0.0 < quote.bid_size <= limits.max_size:
        return _size_problem("bid_size", quote.bid_size, limits)
    if not 0.0 < quote.ask_size <= limits.max_size:
        return _size_problem("ask_size", quote.ask_size, limits)
    if quote.bid > quote.ask:
        return "crossed_quote", f"expected bid <= ask, got bid {quote.bid!r} above ask {quote.ask!r}"
    return None


def _price_problem(field: str, value: float, limits: ValidationLimits) -> tuple[str, str]:
    if not math.isfinite(value):
        return "non_finite", f"expected a finite {field}, got {value!r}"
    return f"{field}_out_of_bounds", f"expected {field} in [{limits.min_price!r}, {limits.max_price!r}], got {value!r}"


def _size_problem(field: str, value: float, limits: ValidationLimits) -> tuple[str, str]:
    if not math.isfinite(value):
        return "non_finite", f"expected a finite {field}, got {value!r}"
    return f"{field}_out_of_bounds", f"expected {field} in (0, {limits.max_size!r}], got {value!r}"


def _explain_decode_failure(raw: bytes, error: Exception) -> tuple[str, str]:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        return (
            "invalid_utf8",
            f"expected UTF-8 text, got byte {raw[utf8_error.start]:#04x} at position {utf8_error.start}",
        )
    if isinstance(error, msgspec.ValidationError):
        return _explain_validation_error(str(error))
    if isinstance(error, RecursionError):
        return "invalid_json", "expected a flat JSON object, got JSON nested too deeply to decode"
    return "invalid_json", f"expected one JSON object, got malformed JSON ({error})"


def _explain_validation_error(message: str) -> tuple[str, str]:
    """Map a msgspec ``ValidationError`` message onto a reason code."""
    names = _FIELD_IN_BACKTICKS.findall(message)
    path_match = _PATH_SUFFIX.search(message)
    path = path_match.group(1) if path_match else "$"
    if message.startswith("Object missing required field"):
        reason = "missing_field"
        detail = f"expected field {names[0]!r} of a {_TICK_KINDS}, got an object without it"
    elif message.startswith("Object contains unknown field"):
        reason = "unknown_field"
        detail = f"expected only the fields of a {_TICK_KINDS}, got unknown field {names[0]!r}"
    elif path == "$.type" and message.startswith("Invalid value"):
        reason = "unknown_type"
        detail = ("expected type 'trade', 'quote', 'book_snapshot', 'book_delta', 'event' or an option message, "
                  f"got {_offending_value(message, 'Invalid value ')}")
    elif message.startswith("Integer value out of range") and path in ("$.ts_ns", "$.seq"):
        reason = f"{path[2:]}_out_of_bounds"
        detail = f"expected a 64-bit integer at {path}, got an integer out of that range"
    elif message.startswith("Integer value out of range") and path in _ID_FIELDS:
        reason = "book_id_out_of_bounds"
        detail = f"expected a 64-bit integer at {path}, got an integer out of that range"
    elif message.startswith("Number out of range"):
        reason = "non_finite"
        detail = f"expected a finite number at {path}, got a number out of the float range"
    elif message.startswith("Invalid enum value"):
        reason = "invalid_value"
        detail = f"expected one of the allowed values at {path}, got {_offending_value(message, 'Invalid enum value ')}"
    else:
        reason = "wrong_type"
        detail = f"expected a {_TICK_KINDS} with typed fields, got: {message}"
    return reason, detail


def _offending_value(message: str, prefix: str) -> str:
    return message.split(" - at ")[0].removeprefix(prefix)



def _preview(value: object) -> str:
    text = repr(value)
    if len(text) > _DETAIL_PREVIEW_CHARS:
        return text[:_DETAIL_PREVIEW_CHARS] + "..."
    return text


def _is_real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require_positive_int(name: str, value: object) -> None:
    if type(value) is not int or value <= 0:
        raise ValueError(f"ValidationLimits.{name} must be a positive int, got {value!r}")
