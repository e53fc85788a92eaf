"""decode_event turns every message into an EventMessage or a reject with a reason (events.dlq)."""

from __future__ import annotations

import msgspec
import pytest

from operators.events import EVENT_REJECT_REASONS, EventLimits, EventMessage, decode_event
from operators.messages import Reject, SourceRecord

_RATE_DECISION = EventMessage("trading_economics", "fed_interest_rate_decision", "US", "17459",
                              1_379_530_800_000_000_000, 1_379_530_800_000_000_000, 3, actual=0.25, forecast=0.25)


def _decode(value: bytes, key: bytes | None = b"US") -> EventMessage | Reject:
    return decode_event(SourceRecord("events", 0, 9, key, value), EventLimits())


def _with(**changes: object) -> bytes:
    return msgspec.json.encode({**msgspec.structs.asdict(_RATE_DECISION), **changes})


def test_decode_event_when_valid_then_returns_the_message() -> None:
    assert _decode(msgspec.json.encode(_RATE_DECISION)) == _RATE_DECISION


@pytest.mark.parametrize(("value", "key", "reason"), [
    (b"", b"US", "empty_message"),
    (b"\xff{", b"US", "invalid_utf8"),
    (b"{", b"US", "invalid_json"),
    (b'{"source":"x"}', b"US", "missing_field"),
    (_with(extra=1), b"US", "unknown_field"),
    (_with(importance="high"), b"US", "wrong_type"),
    (_with(event_type=""), b"US", "invalid_name"),
    (_with(source="trading economics"), b"US", "invalid_name"),
    (_with(entity="U S*"), b"U S*", "invalid_entity"),
    (_with(), None, "missing_key"),
    (_with(), b"AAPL", "key_mismatch"),
    (_with(public_ts_ns=5), b"US", "public_ts_out_of_bounds"),
    (_with(scheduled_ts_ns=2**70), b"US", "scheduled_ts_out_of_bounds"),
    (_with(importance=0), b"US", "importance_out_of_bounds"),
    (_with().replace(b'"actual":0.25', b'"actual":1e400'), b"US", "non_finite"),
    (_with(public_ts_ns=1_379_530_799_999_999_999), b"US", "actual_before_event"),
])
def test_decode_event_when_bad_then_rejects_with_reason(value: bytes, key: bytes | None, reason: str) -> None:
    rejected = _decode(value, key)
    assert isinstance(rejected, Reject)
    assert rejected.reason == reason and reason in EVENT_REJECT_REASONS
    assert rejected.detail.startswith("validate_event: expected ") and rejected.detail.endswith(".")
    assert rejected.offset == 9


def test_decode_event_when_too_large_then_keeps_only_the_head() -> None:
    limits = EventLimits(max_message_bytes=64)
    rejected = decode_event(SourceRecord("events", 0, 1, b"US", msgspec.json.encode(_RATE_DECISION)), limits)
    assert isinstance(rejected, Reject) and rejected.reason == "message_too_large" and len(rejected.raw) == 64


def test_decode_event_when_announcement_carries_forecast_then_accepts_it() -> None:
    announcement = _with(public_ts_ns=1_378_926_000_000_000_000, actual=None)
    assert isinstance(_decode(announcement), EventMessage)


def test_reject_carries_entity_and_time_only_when_valid() -> None:
    rejected = _decode(_with(importance=7))
    assert isinstance(rejected, Reject)
    assert (rejected.symbol, rejected.ts_ns) == ("US", _RATE_DECISION.public_ts_ns)
