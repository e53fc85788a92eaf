"""Specifications of depth messages on the ``ticks`` topic: how they are encoded, decoded and refused
(``operators.ingest.validation`` with ``operators.ingest.book_checks``), and how the duplicate filter
treats them."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataflows.depthfiles import CaptureItem, encode_messages
from operators.book.tracker import DEPTH_FEATURES, BookTracker
from operators.ingest.dedupe import DedupeConfig, Deduplicator
from operators.ingest.validation import REJECT_REASONS, ValidationLimits, decode_tick
from operators.messages import BookDelta, BookSnapshot, Quote, Reject, SourceRecord, Trade, ValidTick

LIMITS = ValidationLimits()
SYMBOL = "BINANCE-USDM:BTCUSDT"
TS = 1_721_347_022_504_000_000  # 2024-07-19, the USD-M capture
SNAPSHOT = BookSnapshot(SYMBOL, TS, 4_984_028_384_061, ((63_943.9, 4.5), (63_943.8, 0.2)), ((63_944.0, 1.5),))
DELTA = BookDelta(SYMBOL, TS + 1_000_000, 4_984_028_384_060, 4_984_028_384_100, ((63_943.9, 0.0),),
                  ((63_944.1, 2.0),), prev_id=4_984_028_384_050)


def record(value: bytes, key: bytes = SYMBOL.encode(), offset: int = 3) -> SourceRecord:
    return SourceRecord("ticks", 0, offset, key, value)


def wire(message: object) -> bytes:
    [(key, value)] = encode_messages([CaptureItem(message, 0, 1)])  # type: ignore[arg-type]
    assert key == SYMBOL.encode()
    return value


OVERFLOW = 123_456_789.25  # written as 1e999 on the wire: JSON has no NaN or infinity, a float that overflows is the way in


def message_json(message: BookSnapshot | BookDelta, **fields: object) -> bytes:
    value = msgspec.json.decode(wire(message))
    value.update(fields)
    encoded = msgspec.json.encode({name: part for name, part in value.items() if part is not ...})
    return encoded.replace(b"123456789.25", b"1e999")


def rejected(value: bytes) -> Reject:
    result = decode_tick(record(value), LIMITS)
    assert isinstance(result, Reject), result
    return result


@pytest.mark.parametrize("message", [SNAPSHOT, DELTA, BookDelta(SYMBOL, TS, 7, 9, (), ())])
def test_depth_message_when_encoded_for_the_wire_then_decodes_to_the_same_message(message: object) -> None:
    decoded = decode_tick(record(wire(message)), LIMITS)

    assert isinstance(decoded, ValidTick) and decoded.tick == message and decoded.offset == 3


def test_trade_and_quote_of_a_capture_when_encoded_then_decode_with_their_ids() -> None:
    trade = Trade(SYMBOL, TS, 63_944.0, 0.01, "sell", seq=5_123)
    quote = Quote(SYMBOL, TS, 63_943.9, 63_944.0, 4.5, 1.5, book_id=4_984_028_384_061)

    assert [decode_tick(record(wire(item)), LIMITS).tick for item in (trade, quote)] == [trade, quote]


@pytest.mark.parametrize(("fields", "reason"), [
    ({"asks": [[63_944.0, -1.0]]}, "level_size_out_of_bounds"),
    ({"bids": [[63_943.9, OVERFLOW]]}, "non_finite"),
    ({"bids": [[OVERFLOW, 1.0]]}, "non_finite"),
    ({"bids": [[63_943.9, None]]}, "wrong_type"),
    ({"bids": [[1e8, 1.0]]}, "level_price_out_of_bounds"),
    ({"bids": [[0.0, 1.0]]}, "level_price_out_of_bounds"),
    ({"bids": [[63_944.0, 1.0]]}, "crossed_book"),
    ({"update_id": -1}, "book_id_out_of_bounds"),
    ({"update_id": 2**64}, "book_id_out_of_bounds"),
    ({"update_id": ...}, "missing_field"),
    ({"bids": [[63_943.9]]}, "wrong_type"),
])
def test_snapshot_when_bad_then_rejected_with_its_reason(fields: dict[str, object], reason: str) -> None:
    result = rejected(message_json(SNAPSHOT, **fields))

    assert (result.reason, result.stage) == (reason, "validate") and reason in REJECT_REASONS


@pytest.mark.parametrize("fields", [{"asks": [[63_944.0, -1.0]]}, {"bids": [[63_944.0, 1.0]]}, {"update_id": -1}])
def test_snapshot_refused_after_decoding_keeps_its_symbol_and_time_for_the_rejects_table(
        fields: dict[str, object]) -> None:
    result = rejected(message_json(SNAPSHOT, **fields))

    assert (result.symbol, result.ts_ns, result.offset) == (SYMBOL, TS, 3)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"first_id": 9, "last_id": 8}, "book_id_out_of_bounds"),
    ({"last_id": ...}, "missing_field"),
    ({"prev_id": -5}, "book_id_out_of_bounds"),
    ({"asks": [[63_944.1, OVERFLOW]]}, "non_finite"),
    ({"asks": [[63_944.1, -0.5]]}, "level_size_out_of_bounds"),
])
def test_delta_when_bad_then_rejected_with_its_reason(fields: dict[str, object], reason: str) -> None:
    assert rejected(message_json(DELTA, **fields)).reason == reason


def test_delta_that_deletes_a_level_and_crosses_nothing_by_itself_is_valid() -> None:
    """Size 0 deletes; whether a delta crosses depends on the book it continues (the book checks it)."""
    crossing = BookDelta(SYMBOL, TS, 1, 1, ((70_000.0, 1.0),), ((60_000.0, 0.0),))

    assert isinstance(decode_tick(record(wire(crossing)), LIMITS), ValidTick)


def test_snapshot_larger_than_a_tick_is_valid_but_a_trade_that_large_is_refused() -> None:
    levels = tuple((60_000.0 - i, 1.0 + i) for i in range(1_000))
    big = BookSnapshot(SYMBOL, TS, 1, levels, tuple((70_000.0 + i, 1.0) for i in range(1_000)))
    value = wire(big)
    assert len(value) > LIMITS.max_message_bytes

    assert isinstance(decode_tick(record(value), LIMITS), ValidTick)
    padded = b'{"type":"trade","symbol":"%s","ts_ns":%d,"price":1.0,"size":1.0,"side":"%s"}' % (
        SYMBOL.encode(), TS, b" " * 5_000)
    assert rejected(padded).reason == "message_too_large"
    assert rejected(b"[" + b"1," * LIMITS.max_book_message_bytes + b"1]").reason == "message_too_large"


def test_depth_message_keyed_by_another_symbol_is_refused_like_any_tick() -> None:
    assert decode_tick(record(wire(SNAPSHOT), key=b"BINANCE:BTCUSDT"), LIMITS).reason == "key_mismatch"


def test_duplicate_filter_when_depth_message_redelivered_then_duplicate_offset_but_ids_are_the_books() -> None:
    dedupe = Deduplicator(DedupeConfig())
    first = ValidTick(DELTA, "ticks", 0, 10)

    assert dedupe.check(first) is None
    assert dedupe.check(first).reason == "duplicate_offset"
    # The same delta produced again (new offset): the book counts it stale, the filter lets it pass.
    assert dedupe.check(ValidTick(DELTA, "ticks", 0, 11)) is None


LEVEL = st.tuples(st.one_of(st.floats(), st.integers(-10, 10**9)), st.one_of(st.floats(), st.integers(-10, 10**6)))


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["book_snapshot", "book_delta"]), bids=st.lists(LEVEL, max_size=6),
       asks=st.lists(LEVEL, max_size=6), ids=st.lists(st.integers(-2, 2**65), min_size=3, max_size=3))
def test_any_depth_message_is_a_valid_tick_the_book_applies_or_a_reject_never_an_exception(
        kind: str, bids: list, asks: list, ids: list[int]) -> None:
    fields = ({"update_id": ids[0]} if kind == "book_snapshot" else
              {"first_id": ids[0], "last_id": ids[1], "prev_id": ids[2]})
    value = msgspec.json.encode({"type": kind, "symbol": SYMBOL, "ts_ns": TS, "bids": bids, "asks": asks, **fields})
    tracker = BookTracker(SYMBOL)
    tracker.apply(SNAPSHOT)

    result = decode_tick(record(value), LIMITS)

    if type(result) is ValidTick:
        tracker.apply(result.tick)
        assert len(tracker.values(TS)) == len(DEPTH_FEATURES)
        assert tracker.book.counts["rejected"] == 0  # validation let nothing through that the book refuses
    else:
        assert result.reason in REJECT_REASONS
