"""Decode and validate raw ``events`` messages: every message becomes an ``EventMessage`` or a reject.

Like ``operators.ingest.validation`` for ticks, ``decode_event`` never raises: a message that is
empty, too large, not UTF-8, not JSON, not an event, or out of bounds becomes a ``Reject`` (stage
``"validate_event"``) with a reason code, one sentence saying what was expected and what arrived,
the source position and the original bytes, ready for ``events.dlq``.

Reason codes: ``empty_message``, ``message_too_large``, ``invalid_utf8``, ``invalid_json``,
``missing_field``, ``unknown_field``, ``wrong_type``, ``invalid_name`` (``source``,
``event_type`` or ``event_id`` empty, too long or holding characters outside ``[A-Za-z0-9_.:/-]``),
``invalid_entity`` (outside the symbol grammar of ``operators.ingest.symbols``), ``missing_key``,
``key_mismatch`` (the Kafka key is not the entity), ``public_ts_out_of_bounds``,
``scheduled_ts_out_of_bounds``, ``importance_out_of_bounds`` (outside 1..3), ``non_finite``
(an actual, forecast or previous that is NaN or infinite) and ``actual_before_event`` (an actual
value published before the event's scheduled time: a look-ahead the producer must not send).

On the ticks topic an event travels as an ``EventTick`` (``operators.events.wire``) in the partition of
a symbol; ``operators.ingest.validation.decode_tick`` checks its content with ``event_problem`` and
adds the reasons of that path: ``invalid_symbol``, ``symbol_not_allowed``, ``ts_out_of_bounds`` (the
tick's own time) and ``entity_mismatch`` (an entity that is neither the symbol nor a market of
``EventLimits.markets``).

>>> from operators.messages import SourceRecord
>>> value = (b'{"source":"trading_economics","event_type":"fed_interest_rate_decision","entity":"US",'
...          b'"event_id":"17459","public_ts_ns":1379530800000000000,'
...          b'"scheduled_ts_ns":1379530800000000000,"importance":3,"actual":0.25,"forecast":0.25}')
>>> decode_event(SourceRecord("events", 0, 5, b"US", value), EventLimits()).actual
0.25
>>> early = value.replace(b'"public_ts_ns":1379530800', b'"public_ts_ns":1379520000')
>>> decode_event(SourceRecord("events", 0, 6, b"US", early), EventLimits()).reason
'actual_before_event'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import msgspec

from operators.events.message import EventMessage
from operators.ingest.symbols import symbol_problem
from operators.messages import Reject, SourceRecord, reject

__all__ = ["EVENT_REJECT_REASONS", "STAGE", "EventLimits", "decode_event", "event_problem"]

STAGE = "validate_event"

_NANOSECONDS_1990_01_01 = 631_152_000_000_000_000
_NANOSECONDS_2100_01_01 = 4_102_444_800_000_000_000
_NAME = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")
_FIELD_IN_BACKTICKS = re.compile(r"`([^`]*)`")
_PREVIEW_CHARS = 40
_DECODER = msgspec.json.Decoder(EventMessage)

EVENT_REJECT_REASONS: tuple[str, ...] = (
    "empty_message", "message_too_large", "invalid_utf8", "invalid_json", "missing_field", "unknown_field",
    "wrong_type", "invalid_name", "invalid_entity", "missing_key", "key_mismatch", "public_ts_out_of_bounds",
    "scheduled_ts_out_of_bounds", "importance_out_of_bounds", "non_finite", "actual_before_event",
    "invalid_symbol", "symbol_not_allowed", "ts_out_of_bounds", "entity_mismatch",
)


@dataclass(frozen=True, slots=True)
class EventLimits:
    """Bounds an event must satisfy; validated on construction.

    Times lie in ``[min_ts_ns, max_ts_ns]`` (1990-01-01 to 2100-01-01 UTC by default: the
    calendars and estimates reach back to 1999). ``max_message_bytes`` defaults to 1 MB, the
    broker's usual message limit, which a 10-Q's plain text (174,374 characters for AAPL's
    2019 Q1) fits. ``markets`` are the entities whose events the producer fans out to every
    symbol (``operators.events.market_fan_out``): on the ticks topic an event in a symbol's
    partition must be about that symbol or one of them.

    >>> EventLimits(max_message_bytes=0)
    Traceback (most recent call last):
    ...
    ValueError: EventLimits.max_message_bytes must be a positive int, got 0
    """

    max_message_bytes: int = 1_000_000
    min_ts_ns: int = _NANOSECONDS_1990_01_01
    max_ts_ns: int = _NANOSECONDS_2100_01_01
    max_entity_length: int = 32
    markets: tuple[str, ...] = ("US",)

    def __post_init__(self) -> None:
        for name in ("max_message_bytes", "max_entity_length"):
            value = getattr(self, name)
            if type(value) is not int or value <= 0:
                raise ValueError(f"EventLimits.{name} must be a positive int, got {value!r}")
        if type(self.min_ts_ns) is not int or type(self.max_ts_ns) is not int or not self.min_ts_ns < self.max_ts_ns:
            raise ValueError(f"EventLimits.max_ts_ns must be an int above min_ts_ns={self.min_ts_ns!r}, "
                             f"got {self.max_ts_ns!r}")
        if type(self.markets) is not tuple or not all(type(market) is str and market.isalpha() and market.isupper()
                                                      for market in self.markets):
            raise ValueError(f"EventLimits.markets must be a tuple of upper-case market codes, got {self.markets!r}")


def decode_event(record: SourceRecord, limits: EventLimits) -> EventMessage | Reject:
    """Decode ``record.value`` into an ``EventMessage``, or explain in a ``Reject`` why not."""
    raw = record.value
    if not raw:
        return reject(STAGE, record, "empty_message", "expected a JSON event, got an empty value", raw=b"")
    if len(raw) > limits.max_message_bytes:
        return reject(STAGE, record, "message_too_large",
                      f"expected at most {limits.max_message_bytes} bytes, got {len(raw)} bytes "
                      f"(raw keeps the first {limits.max_message_bytes})", raw=raw[: limits.max_message_bytes])
    try:
        event = _DECODER.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as error:
        reason, detail = _explain_decode_failure(raw, error)
        return reject(STAGE, record, reason, detail, raw=raw)
    problem = event_problem(event, limits) or _check_key(event, record.key)
    if problem is None:
        return event
    entity = event.entity if symbol_problem(event.entity, limits.max_entity_length) is None else None
    ts_ns = event.public_ts_ns if limits.min_ts_ns <= event.public_ts_ns <= limits.max_ts_ns else None
    return reject(STAGE, record, problem[0], problem[1], raw=raw, symbol=entity, ts_ns=ts_ns)


def event_problem(event: EventMessage, limits: EventLimits) -> tuple[str, str] | None:
    """The first problem of a decoded event's content as ``(reason, detail)``, None when it has none:
    its names, its entity's grammar, its times and its values (the Kafka key is the caller's check)."""
    return _check_names(event) or _check_entity(event, limits) or _check_values(event, limits)


def _check_names(event: EventMessage) -> tuple[str, str] | None:
    for name in ("source", "event_type", "event_id"):
        value = getattr(event, name)
        if _NAME.fullmatch(value) is None:
            return "invalid_name", (f"expected {name} of 1 to 64 characters from [A-Za-z0-9_.:/-], "
                                    f"got {_preview(value)}")
    return None


def _check_entity(event: EventMessage, limits: EventLimits) -> tuple[str, str] | None:
    problem = symbol_problem(event.entity, limits.max_entity_length)
    return None if problem is None else ("invalid_entity", problem)


def _check_key(event: EventMessage, key: bytes | None) -> tuple[str, str] | None:
    if key is None:
        return "missing_key", f"expected the Kafka key {event.entity!r} (the entity), got a message without a key"
    if key != event.entity.encode():
        return "key_mismatch", f"expected the Kafka key to equal the entity {event.entity!r}, got {_preview(key)}"
    return None


def _check_values(event: EventMessage, limits: EventLimits) -> tuple[str, str] | None:
    for name in ("public_ts_ns", "scheduled_ts_ns"):
        value = getattr(event, name)
        if not limits.min_ts_ns <= value <= limits.max_ts_ns:
            return (f"{name[:-3]}_out_of_bounds",
                    f"expected {name} in [{limits.min_ts_ns}, {limits.max_ts_ns}], got {_preview(value)}")
    if not 1 <= event.importance <= 3:
        return "importance_out_of_bounds", f"expected importance 1, 2 or 3, got {event.importance!r}"
    for name in ("actual", "forecast", "previous"):
        value = getattr(event, name)
        if value is not None and not math.isfinite(value):
            return "non_finite", f"expected a finite {name} or null, got {value!r}"
    if event.actual is not None and event.public_ts_ns < event.scheduled_ts_ns:
        return "actual_before_event", (f"expected an actual value only at or after the scheduled time "
                                       f"{event.scheduled_ts_ns}, got one public at {event.public_ts_ns}")
    return None


def _explain_decode_failure(raw: bytes, error: Exception) -> tuple[str, str]:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        return "invalid_utf8", f"expected UTF-8 text, got byte {raw[utf8_error.start]:#04x} at position {utf8_error.start}"
    if isinstance(error, RecursionError):
        return "invalid_json", "expected a flat JSON object, got JSON nested too deeply to decode"
    if not isinstance(error, msgspec.ValidationError):
        return "invalid_json", f"expected one JSON object, got malformed JSON ({error})"
    message = str(error)
    names = _FIELD_IN_BACKTICKS.findall(message)
    if message.startswith("Object missing required field"):
        return "missing_field", f"expected field {names[0]!r} of an event, got an object without it"
    if message.startswith("Object contains unknown field"):
        return "unknown_field", f"expected only the fields of an event, got unknown field {names[0]!r}"
    if message.startswith("Integer value out of range") and ("$.public_ts_ns" in message or "$.scheduled_ts_ns" in message):
        name = "public_ts" if "$.public_ts_ns" in message else "scheduled_ts"
        return f"{name}_out_of_bounds", f"expected a 64-bit integer {name}_ns, got an integer out of that range"
    if message.startswith("Number out of range"):
        return "non_finite", f"expected finite numbers, got: {message}"
    return "wrong_type", f"expected an event with typed fields, got: {message}"


def _preview(value: object) -> str:
    text = repr(value)
    return text[:_PREVIEW_CHARS] + "..." if len(text) > _PREVIEW_CHARS else text
