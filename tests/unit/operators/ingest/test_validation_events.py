"""Events on the ticks topic (``operators.events.EventTick``): ``decode_tick`` admits a valid one keyed by its
symbol and turns every bad one into a reject of stage ``validate_event`` with a reason of
``EVENT_REJECT_REASONS``, ready for the dead-letter topic like any other reject."""

from __future__ import annotations

import msgspec
import pytest

from operators.events import EVENT_REJECT_REASONS, EventLimits, EventMessage, EventTick, encode_event_tick
from operators.ingest.validation import REJECT_REASONS, ValidationLimits, decode_tick
from operators.messages import Reject, SourceRecord, ValidTick

DECISION_NS = 1_379_530_800_000_000_000  # 2013-09-18 18:00 UTC, an FOMC rate decision
DELIVERED_NS = 1_381_152_600_000_000_000  # 2013-10-07 13:30 UTC
RATE_DECISION = EventMessage("trading_economics", "fed_interest_rate_decision", "US", "17459", DECISION_NS,
                             DECISION_NS, 2, actual=0.25, forecast=0.25)


def decode(value: bytes, key: bytes | None = b"SPY", limits: ValidationLimits | None = None) -> ValidTick | Reject:
    return decode_tick(SourceRecord("ticks", 1, 17, key, value), limits or ValidationLimits())


def wire(symbol: str = "SPY", ts_ns: int = DELIVERED_NS, **event: object) -> bytes:
    body = {**msgspec.structs.asdict(RATE_DECISION), **event}
    return msgspec.json.encode({"type": "event", "symbol": symbol, "ts_ns": ts_ns, "event": body})


def test_an_event_keyed_by_its_symbol_is_admitted_as_an_event_tick() -> None:
    key, value = encode_event_tick("SPY", DELIVERED_NS, RATE_DECISION)

    decoded = decode(value, key)

    assert decoded == ValidTick(EventTick("SPY", DELIVERED_NS, RATE_DECISION), "ticks", 1, 17)


def test_a_symbols_own_event_in_its_partition_is_admitted() -> None:
    assert type(decode(wire("AAPL", entity="AAPL"), b"AAPL")) is ValidTick


@pytest.mark.parametrize(("value", "key", "reason"), [
    (wire(entity="IBM"), b"SPY", "entity_mismatch"),
    (wire(), b"IBM", "key_mismatch"),
    (wire(), None, "missing_key"),
    (wire("spy?"), b"spy?", "invalid_symbol"),
    (wire(ts_ns=5), b"SPY", "ts_out_of_bounds"),
    (wire(public_ts_ns=DECISION_NS - 1), b"SPY", "actual_before_event"),
    (wire(importance=7), b"SPY", "importance_out_of_bounds"),
    (wire(source="trading economics"), b"SPY", "invalid_name"),
    (wire(scheduled_ts_ns=5), b"SPY", "scheduled_ts_out_of_bounds"),
    (wire().replace(b'"actual":0.25', b'"actual":1e400'), b"SPY", "non_finite"),
    (wire().replace(b'"importance":2,', b""), b"SPY", "missing_field"),
    (wire(mood="calm"), b"SPY", "unknown_field"),
    (wire(importance="high"), b"SPY", "wrong_type"),
])
def test_a_bad_event_becomes_a_reject_with_its_reason(value: bytes, key: bytes | None, reason: str) -> None:
    rejected = decode(value, key)

    assert type(rejected) is Reject and rejected.reason == reason, rejected
    assert reason in EVENT_REJECT_REASONS and reason in REJECT_REASONS
    assert rejected.offset == 17 and rejected.raw == value
    assert rejected.detail.endswith(".") and "expected" in rejected.detail


def test_a_content_reject_names_the_event_stage_the_symbol_and_the_delivery_time() -> None:
    rejected = decode(wire(entity="IBM"))

    assert (rejected.stage, rejected.symbol, rejected.ts_ns) == ("validate_event", "SPY", DELIVERED_NS)
    assert rejected.detail == ("validate_event: expected an event about 'SPY' or a market of US, got one about "
                               "'IBM'.")


def test_the_markets_an_event_may_be_about_are_the_limits_markets() -> None:
    limits = ValidationLimits(events=EventLimits(markets=("EU",)))

    assert decode(wire(), limits=limits).reason == "entity_mismatch"  # type: ignore[union-attr]
    assert type(decode(wire(entity="EU"), limits=limits)) is ValidTick


def test_a_filings_text_fits_although_a_trade_of_that_size_would_not() -> None:
    filing = EventMessage("sec_edgar", "10-Q", "AAPL", "0000320193-19-000010", DECISION_NS, DECISION_NS, 2,
                          text="revenue " * 25_000)
    key, value = encode_event_tick("AAPL", DELIVERED_NS, filing)
    trade = b'{"type":"trade","symbol":"AAPL","ts_ns":1381152600000000000,"price":1.0,"size":1.0,"side":"' + \
        b"x" * 5_000 + b'"}'

    assert len(value) > 200_000 and type(decode(value, key)) is ValidTick
    assert decode(trade, b"AAPL").reason == "message_too_large"  # type: ignore[union-attr]


def test_an_event_over_the_event_limit_is_too_large_and_keeps_only_the_head() -> None:
    limits = ValidationLimits(events=EventLimits(max_message_bytes=5_000))
    filing = EventMessage("sec_edgar", "8-K", "AAPL", "1", DECISION_NS, DECISION_NS, 2, text="x" * 6_000)
    key, value = encode_event_tick("AAPL", DELIVERED_NS, filing)

    rejected = decode(value, key, limits)

    assert type(rejected) is Reject and rejected.reason == "message_too_large"
    assert len(rejected.raw) == limits.max_message_bytes


def test_a_depth_message_over_the_book_limit_stays_too_large_though_an_event_may_be_longer() -> None:
    limits = ValidationLimits()
    levels = ",".join(f"[{100 + i * 0.01:.2f},1.0]" for i in range(60_000))
    book = (f'{{"type":"book_snapshot","symbol":"SPY","ts_ns":{DELIVERED_NS},"update_id":1,'
            f'"bids":[{levels}],"asks":[]}}').encode()

    rejected = decode(book, b"SPY", limits)

    assert limits.max_book_message_bytes < len(book) < limits.events.max_message_bytes
    assert type(rejected) is Reject and rejected.reason == "message_too_large"
    assert str(limits.max_book_message_bytes) in rejected.detail
