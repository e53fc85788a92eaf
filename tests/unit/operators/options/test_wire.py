"""Option messages on the ticks topic: encoded, decoded and validated like the other ticks."""

from __future__ import annotations

import datetime as dt

import pytest

from operators.ingest.validation import REJECT_REASONS, ValidationLimits, decode_tick
from operators.messages import Reject, SourceRecord, ValidTick
from operators.options.contract import contract
from operators.options.messages import OptionOpenInterest, OptionQuote, OptionTrade
from operators.options.wire import STAGE, encode_option

CALL = contract("GOOG", dt.date(2016, 1, 15), 750.0, "C")
TS = 1_450_967_460_000_000_000
LIMITS = ValidationLimits()


def decoded(key: bytes | None, value: bytes) -> ValidTick | Reject:
    return decode_tick(SourceRecord("ticks", 0, 9, key, value), LIMITS)


@pytest.mark.parametrize("message", [OptionQuote(CALL, TS, 12.5, 13.0, 5.0, 7.0), OptionQuote(CALL, TS, 0.0, 0.2, 0.0, 3.0),
                                     OptionTrade(CALL, TS, 12.7, 2.0), OptionOpenInterest(CALL, TS, 1234.0)])
def test_an_encoded_option_message_decodes_to_itself_keyed_by_its_underlying(message: object) -> None:
    key, value = encode_option(message)
    assert key == b"GOOG"
    assert b'"contract":"GOOG  160115C00750000"' in value
    item = decoded(key, value)
    assert type(item) is ValidTick and item.tick == message and item.tick.symbol == "GOOG"


def test_a_european_contract_keeps_its_style_on_the_wire() -> None:
    european = contract("SPX", dt.date(2016, 1, 15), 2000.0, "P", "european", 100)
    item = decoded(*encode_option(OptionTrade(european, TS, 30.0, 1.0)))
    assert item.tick.contract == european


@pytest.mark.parametrize(("key", "value", "reason"), [
    (b"GOOG", b'{"type":"option_quote","contract":"GOOG 160115C750","ts_ns":%d,"bid":1,"ask":2,"bid_size":1,'
              b'"ask_size":1}', "invalid_option_symbol"),
    (b"GOOG", b'{"type":"option_quote","contract":"GOOG  160115C00000000","ts_ns":%d,"bid":1,"ask":2,"bid_size":1,'
              b'"ask_size":1}', "strike_out_of_bounds"),
    (b"GOOG", b'{"type":"option_trade","contract":"GOOG  161315C00750000","ts_ns":%d,"price":1,"size":1}',
     "invalid_contract"),
    (b"GOOG", b'{"type":"option_trade","contract":"GOOG  160115C00750000","ts_ns":%d,"price":1,"size":1,'
              b'"style":"bermudan"}', "invalid_contract"),
    (b"SPY", b'{"type":"option_trade","contract":"GOOG  160115C00750000","ts_ns":%d,"price":1,"size":1}',
     "key_mismatch"),
    (None, b'{"type":"option_trade","contract":"GOOG  160115C00750000","ts_ns":%d,"price":1,"size":1}',
     "missing_key"),
    (b"GOOG", b'{"type":"option_trade","contract":"GOOG  160115C00750000","ts_ns":%d,"price":-1,"size":1}',
     "price_out_of_bounds"),
    (b"GOOG", b'{"type":"option_trade","contract":"GOOG  160115C00750000","ts_ns":%d,"price":1,"size":0}',
     "size_out_of_bounds"),
    (b"GOOG", b'{"type":"option_quote","contract":"GOOG  160115C00750000","ts_ns":%d,"bid":-1,"ask":2,"bid_size":1,'
              b'"ask_size":1}', "bid_out_of_bounds"),
    (b"GOOG", b'{"type":"option_open_interest","contract":"GOOG  160115C00750000","ts_ns":%d,'
              b'"open_interest":-5}', "open_interest_out_of_bounds"),
    (b"GOOG", b'{"type":"option_trade","contract":"GOOG  160115C00750000","ts_ns":%d,"price":1}', "missing_field"),
])
def test_a_bad_option_message_is_rejected_with_its_reason_and_the_underlying(key: bytes | None, value: bytes,
                                                                               reason: str) -> None:
    item = decoded(key, value % TS if b"%d" in value else value)
    assert type(item) is Reject and item.reason == reason, item
    assert reason in REJECT_REASONS
    if item.stage == STAGE:
        assert item.symbol == "GOOG" and item.ts_ns == TS


def test_an_option_message_outside_the_time_bounds_is_rejected_without_an_event_time() -> None:
    item = decoded(b"GOOG", b'{"type":"option_trade","contract":"GOOG  160115C00750000","ts_ns":5,"price":1,"size":1}')
    assert (item.reason, item.stage, item.ts_ns) == ("ts_out_of_bounds", STAGE, None)


def test_a_produced_option_day_decodes_in_event_time_with_no_reject() -> None:
    from pathlib import Path

    from dataflows.optionfiles import encode_option_day, midnight_ns, read_option_day

    lean = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "options" / "lean"
    if not lean.exists():
        pytest.skip("the shared LEAN options data is not on this machine")
    day = dt.date(2015, 12, 24)
    messages = encode_option_day(read_option_day(lean, "GOOG", day).messages, midnight_ns(day) + 34_500 * 10**9)
    items = [decoded(key, value) for key, value in messages]
    assert all(type(item) is ValidTick for item in items)
    times = [item.tick.ts_ns for item in items]
    assert times == sorted(times) and {key for key, _ in messages} == {b"GOOG"}
    assert {type(item.tick).__name__ for item in items} >= {"Quote", "OptionQuote", "OptionOpenInterest"}
