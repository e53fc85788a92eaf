"""Specifications of ``operators.ingest.validation.decode_tick`` and ``ValidationLimits``."""

from __future__ import annotations

import math

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.ingest.symbols import symbol_problem
from operators.messages import Quote, Reject, SourceRecord, Trade, ValidTick
from operators.ingest.validation import REJECT_REASONS, SYMBOL_PATTERN, ValidationLimits, decode_tick

LIMITS = ValidationLimits()
# 2013-10-08 09:30:00.010 ET, from the real IBM tape
OPEN_TS_NS = 1_381_239_000_010_000_000
IBM_TRADE = b'{"type":"trade","symbol":"IBM","ts_ns":1381239000010000000,"price":183.52,"size":100,"side":"unknown"}'
IBM_QUOTE = (
    b'{"type":"quote","symbol":"IBM","ts_ns":1381239000010000000,'
    b'"bid":183.5,"ask":183.54,"bid_size":300,"ask_size":1200}'
)


def record(value: bytes | None, key: bytes | None = b"IBM", offset: int = 7) -> SourceRecord:
    return SourceRecord(topic="ticks", partition=2, offset=offset, key=key, value=value)


def trade_json(**fields: object) -> bytes:
    base: dict[str, object] = {"type": "trade", "symbol": "IBM", "ts_ns": OPEN_TS_NS, "price": 183.52, "size": 100}
    base.update(fields)
    return msgspec.json.encode({name: value for name, value in base.items() if value is not ...})


def quote_json(**fields: object) -> bytes:
    base: dict[str, object] = {
        "type": "quote",
        "symbol": "IBM",
        "ts_ns": OPEN_TS_NS,
        "bid": 183.5,
        "ask": 183.54,
        "bid_size": 300,
        "ask_size": 1200,
    }
    base.update(fields)
    return msgspec.json.encode({name: value for name, value in base.items() if value is not ...})


def rejected(value: bytes | None, key: bytes | None = b"IBM", limits: ValidationLimits = LIMITS) -> Reject:
    result = decode_tick(record(value, key), limits)
    assert isinstance(result, Reject), result
    assert result.stage == "validate"
    assert (result.topic, result.partition, result.offset) == ("ticks", 2, 7)
    assert result.raw == (value or b"")
    assert result.detail.startswith("validate: ") and result.detail.endswith(".")
    return result


# --- accepted ticks -------------------------------------------------------------------------


def test_decode_tick_when_real_trade_then_returns_valid_tick_with_source_position() -> None:
    result = decode_tick(record(IBM_TRADE), LIMITS)
    assert result == ValidTick(
        tick=Trade(symbol="IBM", ts_ns=OPEN_TS_NS, price=183.52, size=100.0, side="unknown"),
        topic="ticks",
        partition=2,
        offset=7,
    )


def test_decode_tick_when_real_quote_then_returns_valid_tick() -> None:
    result = decode_tick(record(IBM_QUOTE), LIMITS)
    assert isinstance(result, ValidTick)
    assert result.tick == Quote("IBM", OPEN_TS_NS, 183.5, 183.54, 300.0, 1200.0)


def test_decode_tick_when_quote_is_locked_then_accepts_it() -> None:
    assert isinstance(decode_tick(record(quote_json(bid=183.52, ask=183.52)), LIMITS), ValidTick)




def test_decode_tick_when_symbol_has_class_suffix_then_accepts_it() -> None:
    value = trade_json(symbol="BRK.B", price=345.1)
    assert isinstance(decode_tick(record(value, key=b"BRK.B"), LIMITS), ValidTick)


def test_decode_tick_when_side_is_buy_then_keeps_it() -> None:
    result = decode_tick(record(trade_json(side="buy")), LIMITS)
    assert isinstance(result, ValidTick) and isinstance(result.tick, Trade)
    assert result.tick.side == "buy"


def test_decode_tick_when_values_sit_on_the_bounds_then_accepts_them() -> None:
    limits = ValidationLimits(min_price=0.01, max_price=500.0, max_size=1e6)
    at_bounds = trade_json(price=0.01, size=1e6, ts_ns=limits.min_ts_ns)
    assert isinstance(decode_tick(record(at_bounds), limits), ValidTick)
    assert isinstance(decode_tick(record(trade_json(price=500.0, ts_ns=limits.max_ts_ns)), limits), ValidTick)


# --- one test per reason code ---------------------------------------------------------------


@pytest.mark.parametrize("value", [None, b""])
def test_decode_tick_when_value_is_empty_then_rejects_empty_message(value: bytes | None) -> None:
    reject = rejected(value)
    assert reject.reason == "empty_message"
    assert reject.raw == b""


def test_decode_tick_when_value_exceeds_max_bytes_then_rejects_message_too_large_keeping_only_the_head() -> None:
    reject = decode_tick(record(IBM_TRADE, b"IBM"), ValidationLimits(max_message_bytes=64))
    assert isinstance(reject, Reject) and reject.reason == "message_too_large"
    assert "64 bytes" in reject.detail and f"got {len(IBM_TRADE)} bytes" in reject.detail
    # The head only: a multi-megabyte message must not overflow the dead-letter topic's limit.
    assert reject.raw == IBM_TRADE[:64]


def test_decode_tick_when_bytes_are_not_utf8_then_rejects_invalid_utf8() -> None:
    assert rejected(IBM_TRADE.replace(b"IBM", b"I\xffM")).reason == "invalid_utf8"
    assert rejected(b"\xfe\xff{}").reason == "invalid_utf8"


@pytest.mark.parametrize(
    "value",
    [
        b'{"type":"trade","symbol":"IBM"',
        b"not json",
        b'{"type":"trade","symbol":"IBM","ts_ns":1,"price":NaN,"size":1}',
        IBM_TRADE + b" trailing",
        b"   ",
    ],
)
def test_decode_tick_when_json_is_malformed_then_rejects_invalid_json(value: bytes) -> None:
    assert rejected(value).reason == "invalid_json"


def test_decode_tick_when_json_is_nested_too_deeply_then_rejects_invalid_json() -> None:
    deep = b'{"a":' * 20_000 + b"1" + b"}" * 20_000
    reject = rejected(deep, limits=ValidationLimits(max_message_bytes=len(deep)))
    assert reject.reason == "invalid_json"
    assert "nested too deeply" in reject.detail


def test_decode_tick_when_type_is_a_bar_then_rejects_unknown_type() -> None:
    reject = rejected(b'{"type":"bar","symbol":"IBM","ts_ns":1381239000010000000}')
    assert reject.reason == "unknown_type"
    assert "'bar'" in reject.detail


def test_decode_tick_when_price_is_missing_then_rejects_missing_field() -> None:
    reject = rejected(trade_json(price=...))
    assert reject.reason == "missing_field"
    assert "'price'" in reject.detail


def test_decode_tick_when_type_is_missing_then_rejects_missing_field() -> None:
    assert rejected(b'{"symbol":"IBM","ts_ns":1381239000010000000,"price":1.0,"size":1}').reason == "missing_field"


def test_decode_tick_when_extra_field_then_rejects_unknown_field() -> None:
    reject = rejected(trade_json(exchange="N"))
    assert reject.reason == "unknown_field"
    assert "'exchange'" in reject.detail


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (trade_json(ts_ns=1.381239e18), "$.ts_ns"),
        (trade_json(ts_ns=True), "$.ts_ns"),
        (trade_json(ts_ns="1381239000010000000"), "$.ts_ns"),
        (trade_json(price="183.52"), "$.price"),
        (quote_json(ask_size=[1200]), "$.ask_size"),
        (trade_json(side=None), "$.side"),
        (b"[1, 2]", "object"),
        (b'{"type": 5}', "$.type"),
    ],
)
def test_decode_tick_when_field_has_wrong_json_type_then_rejects_wrong_type(value: bytes, where: str) -> None:
    reject = rejected(value)
    assert reject.reason == "wrong_type"
    assert where in reject.detail


def test_decode_tick_when_side_is_not_allowed_then_rejects_invalid_value() -> None:
    assert rejected(trade_json(side="short")).reason == "invalid_value"


def test_decode_tick_when_number_overflows_to_infinity_then_rejects_non_finite() -> None:
    assert rejected(IBM_TRADE.replace(b"183.52", b"1e999")).reason == "non_finite"
    assert rejected(IBM_QUOTE.replace(b'"ask_size":1200', b'"ask_size":-1e400')).reason == "non_finite"


@pytest.mark.parametrize("price", [0.0, -183.52, 1e8, 5e-7])
def test_decode_tick_when_price_out_of_bounds_then_rejects(price: float) -> None:
    reject = rejected(trade_json(price=price))
    assert reject.reason == "price_out_of_bounds"
    assert repr(price) in reject.detail
    assert (reject.symbol, reject.ts_ns) == ("IBM", OPEN_TS_NS)


@pytest.mark.parametrize("size", [0, -100, 1e11])
def test_decode_tick_when_size_out_of_bounds_then_rejects(size: float) -> None:
    assert rejected(trade_json(size=size)).reason == "size_out_of_bounds"


@pytest.mark.parametrize(
    ("field", "value"),
    [("bid", 0.0), ("ask", 2e7), ("bid_size", 0), ("ask_size", -5), ("bid_size", 2e10)],
)
def test_decode_tick_when_quote_field_out_of_bounds_then_rejects_with_field_reason(field: str, value: float) -> None:
    assert rejected(quote_json(**{field: value})).reason == f"{field}_out_of_bounds"


def test_decode_tick_when_bid_above_ask_then_rejects_crossed_quote() -> None:
    reject = rejected(quote_json(bid=183.56, ask=183.54))
    assert reject.reason == "crossed_quote"
    assert "183.56" in reject.detail and "183.54" in reject.detail


@pytest.mark.parametrize("ts_ns", [0, 946_684_799_999_999_999, 4_102_444_800_000_000_001, -1, 10**21])
def test_decode_tick_when_timestamp_out_of_bounds_then_rejects_ts_out_of_bounds(ts_ns: int) -> None:
    reject = rejected(trade_json(ts_ns=ts_ns))
    assert reject.reason == "ts_out_of_bounds"
    assert reject.ts_ns is None
    assert reject.symbol == "IBM"


def test_decode_tick_when_timestamp_is_in_seconds_then_rejects_ts_out_of_bounds() -> None:
    assert rejected(trade_json(ts_ns=1_381_239_000)).reason == "ts_out_of_bounds"


# Identifiers of real venues and vendors (see the grammar in operators/ingest/symbols.py).
REAL_IDENTIFIERS = [
    "IBM", "BRK.B", "BRK/B", "BRK B", "ibm", "ESc1", ".SPX", "^GSPC", "ES=F", "EURUSD=X", "M&M.NS", "@ES#",
    "$SPX", "BTC-USD", "XBT/USD", "SPX_W", "BRK_B", "6E:CME", "BTC-27DEC24-100000-C", "IBM US Equity",
    "AAPL  240119C00190000", "SPXW  240119P04700000", "A" * 32,
]


@pytest.mark.parametrize("symbol", REAL_IDENTIFIERS)
def test_decode_tick_when_symbol_is_a_real_venue_identifier_then_accepts_it_unchanged(symbol: str) -> None:
    result = decode_tick(record(trade_json(symbol=symbol), key=symbol.encode()), LIMITS)

    assert isinstance(result, ValidTick), result
    assert result.tick.symbol == symbol


@pytest.mark.parametrize(
    ("symbol", "named"),
    [
        ("", "empty symbol"), ("A" * 33, "at most 32 characters"),
        (" IBM", "leading or trailing spaces"), ("IBM ", "leading or trailing spaces"),
        ("IBM\n", "'\\n' at position 3"), ("IB\tM", "'\\t'"), ("IB\x00M", "'\\x00'"), ("IBM\r", "'\\r'"),
        ("ÍBM", "'Í' at position 0"), ("\u0406BM", "position 0"),
        ("A/../../ETC", "path segments"), ("..", "path segments"), ("A..B", "path segments"),
        ("/ES", "starting with"), ("A//B", "'/' only between"), ("A/", "'/' only between"),
        ("A/./B", "'/' only between"), ("A/.", "'/' only between"), ("-IBM", "starting with"),
        ("IBM*", "'*'"), ("IB?M", "'?'"), ("IBM[1]", "'['"), ("{IBM}", "'{'"), ("IBM'", '"\'"'),
        ('IB"M', "'\"'"), ("IB\\M", "'\\\\'"), ("IBM,AIG", "','"), ("IBM;", "';'"), ("IBM|X", "'|'"),
        ("IBM'; DROP TABLE ticks;--", "\"'\""),
    ],
)
def test_decode_tick_when_symbol_breaks_the_grammar_then_rejects_invalid_symbol_naming_why(symbol: str,
                                                                                           named: str) -> None:
    reject = rejected(trade_json(symbol=symbol), key=symbol.encode("utf-8", "surrogatepass"))
    assert reject.reason == "invalid_symbol"
    assert named in reject.detail
    assert reject.symbol is None
    assert reject.ts_ns == OPEN_TS_NS


def test_decode_tick_when_symbol_is_a_path_then_no_tick_carries_it_to_a_redis_key() -> None:
    reject = rejected(trade_json(symbol="A/../../ETC"), key=b"A/../../ETC")
    assert reject.reason == "invalid_symbol"
    assert "path segments" in reject.detail


def test_decode_tick_when_kafka_key_differs_from_symbol_then_rejects_key_mismatch() -> None:
    reject = rejected(IBM_TRADE, key=b"AIG")
    assert reject.reason == "key_mismatch"
    assert "'IBM'" in reject.detail and "b'AIG'" in reject.detail
    assert reject.symbol == "IBM"


def test_decode_tick_when_kafka_key_is_empty_then_rejects_key_mismatch() -> None:
    assert rejected(IBM_TRADE, key=b"").reason == "key_mismatch"


def test_decode_tick_when_kafka_key_differs_only_in_case_then_rejects_key_mismatch() -> None:
    assert rejected(IBM_TRADE, key=b"ibm").reason == "key_mismatch"


def test_decode_tick_when_message_has_no_kafka_key_then_rejects_missing_key() -> None:
    # A keyless copy lands on any partition and races the symbol's real ticks to its clock.
    reject = rejected(IBM_TRADE, key=None)
    assert reject.reason == "missing_key"
    assert "'IBM'" in reject.detail and "without a key" in reject.detail
    assert (reject.symbol, reject.ts_ns) == ("IBM", OPEN_TS_NS)


def test_decode_tick_when_symbol_not_on_the_allow_list_then_rejects_symbol_not_allowed() -> None:
    limits = ValidationLimits(allowed_symbols=frozenset({"IBM", "SPY"}))

    assert isinstance(decode_tick(record(IBM_TRADE), limits), ValidTick)
    reject = rejected(trade_json(symbol="JUNK1"), key=b"JUNK1", limits=limits)
    assert reject.reason == "symbol_not_allowed"
    assert "'JUNK1'" in reject.detail and "2 allowed symbols" in reject.detail
    assert reject.symbol == "JUNK1"


def test_decode_tick_when_allow_list_is_empty_then_any_grammatical_symbol_passes() -> None:
    assert LIMITS.allowed_symbols == frozenset()
    assert isinstance(decode_tick(record(trade_json(symbol="ZZZ9"), key=b"ZZZ9"), LIMITS), ValidTick)


def test_decode_tick_when_case_is_upper_then_folds_the_symbol_and_expects_the_folded_key() -> None:
    limits = ValidationLimits(symbol_case="upper", allowed_symbols=frozenset({"BRK.B"}))

    result = decode_tick(record(trade_json(symbol="brk.b"), key=b"BRK.B"), limits)

    assert isinstance(result, ValidTick) and result.tick.symbol == "BRK.B"
    # Keyed by the folded symbol, every message of one instrument shares one partition.
    mismatch = rejected(trade_json(symbol="brk.b"), key=b"brk.b", limits=limits)
    assert mismatch.reason == "key_mismatch" and "'BRK.B'" in mismatch.detail


def test_decode_tick_when_case_is_keep_then_lower_case_is_another_instrument() -> None:
    result = decode_tick(record(trade_json(symbol="ibm"), key=b"ibm"), LIMITS)

    assert isinstance(result, ValidTick) and result.tick.symbol == "ibm"


def test_decode_tick_when_symbol_was_accepted_before_then_its_key_and_folding_are_still_checked() -> None:
    limits = ValidationLimits(symbol_case="upper")
    for _ in range(3):  # the first call fills the identity cache; later calls use it
        result = decode_tick(record(trade_json(symbol="ibm")), limits)
        assert isinstance(result, ValidTick) and result.tick.symbol == "IBM"
        assert rejected(trade_json(symbol="ibm"), key=b"AIG", limits=limits).reason == "key_mismatch"
        assert rejected(trade_json(symbol="ibm"), key=None, limits=limits).reason == "missing_key"
    assert limits.known_symbols == {"ibm": (b"IBM", "IBM")}


def test_decode_tick_identity_cache_stays_bounded_under_a_stream_of_new_symbols() -> None:
    limits = ValidationLimits()
    for index in range(70_000):
        symbol = f"S{index}"
        assert isinstance(decode_tick(record(trade_json(symbol=symbol), key=symbol.encode()), limits), ValidTick)
    assert 0 < len(limits.known_symbols) <= 65_536


def test_every_identity_reason_is_declared_for_the_metrics() -> None:
    assert {"invalid_symbol", "key_mismatch", "missing_key", "symbol_not_allowed"} <= set(REJECT_REASONS)


# --- limits ---------------------------------------------------------------------------------


def test_validation_limits_defaults_match_the_contract() -> None:
    assert LIMITS.min_ts_ns == 946_684_800 * 10**9  # 2000-01-01T00:00:00Z
    assert LIMITS.max_ts_ns == 4_102_444_800 * 10**9  # 2100-01-01T00:00:00Z
    assert (LIMITS.max_message_bytes, LIMITS.max_symbol_length) == (4096, 32)
    assert (LIMITS.symbol_case, LIMITS.allowed_symbols) == ("keep", frozenset())
    assert (LIMITS.min_price, LIMITS.max_price, LIMITS.max_size) == (1e-6, 1e7, 1e10)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"max_message_bytes": 0}, "max_message_bytes"),
        ({"max_symbol_length": 2.5}, "max_symbol_length"),
        ({"min_price": 0.0}, "min_price"),
        ({"min_price": math.nan}, "min_price"),
        ({"max_price": math.inf}, "max_price"),
        ({"max_price": 1e-7}, "max_price"),
        ({"max_size": -1.0}, "max_size"),
        ({"min_ts_ns": 1.5e18}, "min_ts_ns"),
        ({"max_ts_ns": 0}, "max_ts_ns"),
        ({"symbol_case": "lower"}, "symbol_case"),
        ({"allowed_symbols": ["IBM"]}, "allowed_symbols"),
    ],
)
def test_validation_limits_when_value_is_bad_then_raises_naming_it(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named) as caught:
        ValidationLimits(**overrides)  # type: ignore[arg-type]
    assert repr(next(iter(overrides.values()))) in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "bad"),
    [
        ({"allowed_symbols": frozenset({"IBM", "A*"})}, "A*"),
        ({"allowed_symbols": frozenset({"IBM", "A/../B"})}, "A/../B"),
        ({"allowed_symbols": frozenset({"IBM", "A" * 33})}, "A" * 33),
        ({"allowed_symbols": frozenset({"IBM", "ibm"}), "symbol_case": "upper"}, "ibm"),
    ],
)
def test_validation_limits_when_an_allowed_symbol_is_bad_then_raises_naming_it(overrides: dict[str, object],
                                                                              bad: str) -> None:
    with pytest.raises(ValueError, match="allowed_symbols") as caught:
        ValidationLimits(**overrides)  # type: ignore[arg-type]
    assert repr(bad) in str(caught.value)


# --- properties -----------------------------------------------------------------------------

symbols = st.from_regex(r"[A-Za-z0-9^@$._][A-Za-z0-9 ._:/^=#@$&-]{0,30}", fullmatch=True).filter(
    lambda symbol: symbol_problem(symbol, LIMITS.max_symbol_length) is None)
timestamps = st.integers(min_value=LIMITS.min_ts_ns, max_value=LIMITS.max_ts_ns)
prices = st.floats(min_value=LIMITS.min_price, max_value=LIMITS.max_price)
sizes = st.floats(min_value=0.0, max_value=LIMITS.max_size, exclude_min=True)
trades = st.builds(Trade, symbols, timestamps, prices, sizes, st.sampled_from(["buy", "sell", "unknown"]))


@st.composite
def quotes(draw: st.DrawFn) -> Quote:
    low, high = sorted((draw(prices), draw(prices)))
    return Quote(draw(symbols), draw(timestamps), low, high, draw(sizes), draw(sizes))


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20)
)
json_like_ticks = st.fixed_dictionaries(
    {"type": st.sampled_from(["trade", "quote", "bar"]), "symbol": st.one_of(symbols, st.text(max_size=20))},
    optional={
        name: st.one_of(json_scalars, prices, sizes, timestamps)
        for name in ("ts_ns", "price", "size", "side", "bid", "ask", "bid_size", "ask_size", "venue")
    },
)


@settings(max_examples=400)
@given(
    st.one_of(st.binary(max_size=300), json_like_ticks.map(msgspec.json.encode)),
    st.one_of(st.none(), symbols.map(str.encode)),
)
def test_decode_tick_for_any_bytes_returns_exactly_one_result_and_never_raises(value: bytes, key: bytes | None) -> None:
    result = decode_tick(record(value, key), LIMITS)
    assert type(result) in (ValidTick, Reject)
    if isinstance(result, Reject):
        assert result.reason and result.stage == "validate" and result.raw == value
    else:
        value.decode("utf-8")  # an accepted message is always valid UTF-8


@settings(max_examples=400)
@given(json_like_ticks)
def test_decode_tick_accepted_ticks_are_finite_and_inside_the_limits(fields: dict[str, object]) -> None:
    symbol = fields["symbol"]
    key = symbol.encode("utf-8", "surrogatepass") if isinstance(symbol, str) else None
    result = decode_tick(record(msgspec.json.encode(fields), key=key), LIMITS)
    if isinstance(result, Reject):
        return
    tick = result.tick
    assert type(tick.ts_ns) is int and LIMITS.min_ts_ns <= tick.ts_ns <= LIMITS.max_ts_ns
    assert SYMBOL_PATTERN.fullmatch(tick.symbol) and len(tick.symbol) <= LIMITS.max_symbol_length
    assert symbol_problem(tick.symbol, LIMITS.max_symbol_length) is None
    assert ".." not in tick.symbol and not tick.symbol.startswith("/")
    assert not set(tick.symbol) & set("*?[]{}\\'\",\n\r\t\x00")
    if isinstance(tick, Trade):
        prices_seen, sizes_seen = [tick.price], [tick.size]
    else:
        prices_seen, sizes_seen = [tick.bid, tick.ask], [tick.bid_size, tick.ask_size]
        assert tick.bid <= tick.ask
    for price in prices_seen:
        assert math.isfinite(price) and LIMITS.min_price <= price <= LIMITS.max_price
    for size in sizes_seen:
        assert math.isfinite(size) and 0.0 < size <= LIMITS.max_size


@settings(max_examples=400)
@given(st.one_of(trades, quotes()))
def test_decode_tick_round_trips_every_in_bounds_keyed_tick_and_rejects_it_without_a_key(tick: Trade | Quote) -> None:
    value = msgspec.json.encode(tick)
    result = decode_tick(record(value, tick.symbol.encode()), LIMITS)
    assert isinstance(result, ValidTick), result
    assert result.tick == tick
    assert rejected(value, key=None).reason == "missing_key"
