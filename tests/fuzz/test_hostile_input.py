"""Hostile input at the operator level: nothing raises, every message has exactly one outcome.

The pipeline under test is the live one without Bytewax: ``decode_tick`` (typed decoder and
bounds), then per symbol ``dataflows.steps.SymbolLogic`` (duplicate filter, event-time guard,
features), driven by hand. Each consumed message must end as exactly one admitted tick or
exactly one ``Reject`` with a reason code, so ``valid + rejected == consumed``.

The corpus (``tests/fuzz/corpus/<reason>.<what>.msg``: the raw message bytes, the expected
reject reason in the file name, all produced with Kafka key ``IBM``) holds the stateless
cases; messages too big to keep in the repository (2 MB) are built here. The stateful cases
(late, far-future, duplicate and out-of-order ticks) need a stream around them and are
built on real IBM ticks.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataflows.symbol_step import SymbolLogic, SymbolLogicBuilder
from operators.ingest.clock import EventTimeConfig
from operators.ingest.dedupe import DedupeConfig, Deduplicator
from operators.features.symbol import FeatureConfig
from operators.messages import BarReturn, FeatureRow, Quote, Reject, SourceRecord, TickBatch, Trade, ValidTick
from operators.ingest.validation import ValidationLimits, decode_tick

CORPUS = Path(__file__).resolve().parent / "corpus"
LIMITS = ValidationLimits()
SECOND = 1_000_000_000
HOUR = 3_600 * SECOND
T0 = 1_381_329_000 * SECOND  # 2013-10-09 14:30:00 UTC, the real session IBM trades in


def corpus() -> list[tuple[str, bytes]]:
    """``(file name, raw bytes)`` of every corpus message, sorted by name."""
    return [(path.name, path.read_bytes()) for path in sorted(CORPUS.glob("*.msg"))]


def expected_reason(name: str) -> str:
    return name.split(".", 1)[0]


def huge_messages() -> list[tuple[str, bytes]]:
    """Messages too large to keep in the repository; each must be ``message_too_large``."""
    padding = b" " * (2 * 1024 * 1024)
    valid = b'{"type":"trade","symbol":"IBM","ts_ns":%d,"price":180.0,"size":100}' % T0
    return [
        ("message_too_large.2mb_whitespace_padded_valid_trade", valid[:-1] + padding + b"}"),
        ("message_too_large.2mb_random_bytes", bytes(range(256)) * 8192),
        ("message_too_large.2mb_of_nesting", b"[" * (2 * 1024 * 1024)),
        ("message_too_large.5000_digit_ts", b'{"type":"trade","symbol":"IBM","ts_ns":' + b"9" * 5000
         + b',"price":180.0,"size":100}'),
    ]


@dataclass
class Pipeline:
    """The live per-message path: decode, key by symbol, ``SymbolLogic`` per symbol."""

    limits: ValidationLimits = LIMITS
    clock: EventTimeConfig = field(default_factory=EventTimeConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    dedupe: DedupeConfig = field(default_factory=DedupeConfig)
    logic: dict[str, SymbolLogic] = field(default_factory=dict)
    admitted: list[ValidTick] = field(default_factory=list)
    rows: list[FeatureRow] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    consumed: int = 0

    def feed(self, record: SourceRecord) -> None:
        self.consumed += 1
        decoded = decode_tick(record, self.limits)
        if isinstance(decoded, Reject):
            self.rejects.append(decoded)
            return
        symbol = decoded.tick.symbol
        if symbol not in self.logic:
            self.logic[symbol] = SymbolLogicBuilder(self.clock, self.features, self.dedupe)(None)
        out, _ = self.logic[symbol].on_item(TickBatch(symbol, [decoded]))  # as the live flow feeds it
        self._collect(out)

    def finish(self) -> None:
        for logic in self.logic.values():
            out, _ = logic.on_eof()
            self._collect(out)

    def _collect(self, out: object) -> None:
        # Branch as ``dataflows.signals.feature_stage`` does: whatever is not a feature row, a
        # batch of admitted ticks or a bar return goes to the rejects, so it must be a Reject.
        for item in out:  # type: ignore[attr-defined]
            if isinstance(item, FeatureRow):
                self.rows.append(item)
            elif type(item) is TickBatch:
                self.admitted.extend(item.ticks)
            elif not isinstance(item, BarReturn):
                assert isinstance(item, Reject), f"{type(item).__name__} would reach the reject counter"
                self.rejects.append(item)

    def outcomes(self) -> Counter[tuple[int, int]]:
        """How many outcomes (admitted or rejected) each source position had."""
        return Counter([(t.partition, t.offset) for t in self.admitted]
                       + [(r.partition, r.offset) for r in self.rejects])


class Tape:
    """Kafka-like positions: one partition, offsets counting up from 0."""

    def __init__(self, partition: int = 0) -> None:
        self.partition = partition
        self.offset = -1

    def record(self, value: bytes | None, key: bytes | None = b"IBM") -> SourceRecord:
        self.offset += 1
        return SourceRecord("ticks", self.partition, self.offset, key, value)


def trade_bytes(ts_ns: int, price: float = 180.0, size: float = 100.0, seq: int | None = None,
                symbol: str = "IBM") -> bytes:
    return msgspec.json.encode(Trade(symbol, ts_ns, price, size, seq=seq))


def quote_bytes(ts_ns: int, bid: float = 179.95, ask: float = 180.05, symbol: str = "IBM") -> bytes:
    return msgspec.json.encode(Quote(symbol, ts_ns, bid, ask, 300.0, 500.0))


def assert_every_reject_is_explained(rejects: list[Reject]) -> None:
    for reject in rejects:
        assert reject.reason and reject.reason.replace("_", "").isalnum(), reject
        assert reject.detail.startswith(f"{reject.stage}: ") and reject.detail.endswith("."), reject.detail


# --- the corpus, message by message -----------------------------------------------------------------


def test_corpus_holds_every_family_of_hostile_input() -> None:
    reasons = {expected_reason(name) for name, _ in corpus()}
    assert len(corpus()) >= 80
    assert {"invalid_utf8", "invalid_json", "wrong_type", "missing_field", "unknown_field", "unknown_type",
            "non_finite", "ts_out_of_bounds", "seq_out_of_bounds", "price_out_of_bounds", "size_out_of_bounds",
            "crossed_quote", "invalid_symbol", "key_mismatch", "empty_message"} <= reasons
    symbols = {name.split(".", 2)[1] for name, _ in corpus() if name.startswith("invalid_symbol.")}
    assert {"path_traversal", "leading_slash", "redis_glob_star", "redis_cluster_hash_tag", "backslash",
            "prometheus_label_break", "nul_char", "newline", "trailing_space", "comma_list"} <= symbols


@pytest.mark.parametrize(("name", "raw"), corpus() + huge_messages(), ids=lambda value: value
                         if isinstance(value, str) else "")
def test_decode_tick_when_corpus_message_then_exactly_one_reject_with_the_expected_reason(name: str,
                                                                                          raw: bytes) -> None:
    pipeline = Pipeline()
    pipeline.feed(SourceRecord("ticks", 0, 7, b"IBM", raw))
    pipeline.finish()

    assert pipeline.admitted == []
    assert [(r.reason, r.offset) for r in pipeline.rejects] == [(expected_reason(name), 7)]
    reject = pipeline.rejects[0]
    assert reject.stage == "validate" and reject.topic == "ticks" and reject.partition == 0
    assert len(reject.detail) < 400, "a detail must stay one readable sentence, even for a 2 MB message"
    assert_every_reject_is_explained(pipeline.rejects)


def test_decode_tick_when_timestamp_is_naive_iso_string_then_rejects_it_instead_of_guessing_a_zone() -> None:
    raw = b'{"type":"trade","symbol":"IBM","ts_ns":"2013-10-09T14:30:00","price":180.0,"size":100}'

    reject = decode_tick(SourceRecord("ticks", 0, 1, b"IBM", raw), LIMITS)

    assert isinstance(reject, Reject) and reject.reason == "wrong_type"
    assert "$.ts_ns" in reject.detail


def test_reject_of_a_2mb_message_keeps_its_source_position_and_a_symbol_of_none() -> None:
    name, raw = huge_messages()[0]

    reject = decode_tick(SourceRecord("ticks", 3, 99, b"IBM", raw), LIMITS)

    assert isinstance(reject, Reject) and (reject.partition, reject.offset) == (3, 99)
    assert reject.symbol is None and reject.ts_ns is None
    # Only the head is kept, so the dead-letter message stays under Kafka's 1 MB message limit.
    assert reject.raw == raw[:LIMITS.max_message_bytes]
    assert f"got {len(raw)} bytes" in reject.detail


# --- stateful hostile input on real-looking streams --------------------------------------------------


def test_pipeline_when_tick_is_late_then_rejects_ts_late_and_it_produces_no_feature_row() -> None:
    tape, pipeline = Tape(), Pipeline()
    for i in range(10):
        pipeline.feed(tape.record(trade_bytes(T0 + i * SECOND)))
    late = tape.record(trade_bytes(T0 + 9 * SECOND - 30 * SECOND))
    pipeline.feed(late)
    pipeline.feed(tape.record(trade_bytes(T0 + 10 * SECOND)))
    pipeline.finish()

    assert [(r.reason, r.offset) for r in pipeline.rejects] == [("ts_late", late.offset)]
    assert late.offset not in {row.offset for row in pipeline.rows}
    assert len(pipeline.admitted) + len(pipeline.rejects) == pipeline.consumed


def test_pipeline_when_tick_is_an_hour_in_the_future_then_later_ticks_still_produce_features() -> None:
    tape, pipeline = Tape(), Pipeline()
    for i in range(5):
        pipeline.feed(tape.record(trade_bytes(T0 + i * SECOND)))
    outlier = tape.record(trade_bytes(T0 + 5 * SECOND + HOUR + 10 * SECOND))
    pipeline.feed(outlier)
    after = [tape.record(trade_bytes(T0 + (5 + i) * SECOND)) for i in range(1, 20)]
    for record in after:
        pipeline.feed(record)
    pipeline.finish()

    assert [(r.reason, r.offset) for r in pipeline.rejects] == [("ts_ahead", outlier.offset)]
    assert {record.offset for record in after} <= {tick.offset for tick in pipeline.admitted}
    row_offsets = {row.offset for row in pipeline.rows}
    assert outlier.offset not in row_offsets
    assert row_offsets & {record.offset for record in after[1:]}, "later ticks of the symbol produced no row"
    assert max(row.ts_ns for row in pipeline.rows) < T0 + HOUR, "the outlier moved the symbol's clock"


def test_pipeline_when_ticks_arrive_slightly_out_of_order_then_keeps_them_all() -> None:
    tape, pipeline = Tape(), Pipeline()
    stamps = [T0, T0 + 3 * SECOND, T0 + SECOND, T0 + 2 * SECOND, T0 + 4 * SECOND]
    for ts_ns in stamps:
        pipeline.feed(tape.record(trade_bytes(ts_ns)))
    pipeline.finish()

    assert pipeline.rejects == []
    assert len(pipeline.admitted) == len(stamps)


def test_pipeline_when_same_sequence_number_is_produced_twice_then_second_is_duplicate_sequence() -> None:
    tape, pipeline = Tape(), Pipeline()
    pipeline.feed(tape.record(trade_bytes(T0, seq=41)))
    first = tape.record(trade_bytes(T0 + SECOND, seq=42))
    retry = tape.record(trade_bytes(T0 + SECOND, seq=42))  # a producer retry: new offset, same seq
    pipeline.feed(first)
    pipeline.feed(retry)
    pipeline.feed(tape.record(trade_bytes(T0 + 2 * SECOND, seq=43)))
    pipeline.finish()

    assert [(r.reason, r.stage, r.offset) for r in pipeline.rejects] == [("duplicate_sequence", "dedupe",
                                                                           retry.offset)]
    assert [t.offset for t in pipeline.admitted] == [0, first.offset, 3]


def test_pipeline_when_same_record_is_delivered_again_then_second_is_duplicate_offset() -> None:
    tape, pipeline = Tape(), Pipeline()
    records = [tape.record(trade_bytes(T0 + i * SECOND)) for i in range(5)]
    for record in records + records[2:4]:  # a source that rewound two records
        pipeline.feed(record)
    pipeline.finish()

    assert [(r.reason, r.offset) for r in pipeline.rejects] == [("duplicate_offset", 2), ("duplicate_offset", 3)]
    assert [t.offset for t in pipeline.admitted] == [0, 1, 2, 3, 4]


def test_pipeline_when_identical_prints_carry_no_sequence_then_keeps_every_one() -> None:
    # The real tape: several 100-share SPY prints at one price in one millisecond.
    tape, pipeline = Tape(), Pipeline()
    for _ in range(4):
        pipeline.feed(tape.record(trade_bytes(1_381_132_800_465_000_000, 167.41, 100.0, symbol="SPY"), b"SPY"))
    pipeline.finish()

    assert pipeline.rejects == []
    assert len(pipeline.admitted) == 4


def test_deduplicator_state_is_bounded_by_the_sequence_window() -> None:
    dedupe = Deduplicator(DedupeConfig(sequence_window=8))
    for seq in range(1_000):
        assert dedupe.check(ValidTick(Trade("IBM", T0 + seq, 180.0, 100.0, seq=seq), "ticks", 0, seq)) is None
    state = dedupe.__getstate__()
    assert len(state[2]) == 8 and len(state[1]) == 1
    assert dedupe.check(ValidTick(Trade("IBM", T0, 180.0, 100.0, seq=999), "ticks", 0, 5_000)).reason == \
        "duplicate_sequence"


# --- identity: which symbol a message speaks for ------------------------------------------------------


def test_pipeline_when_keyless_copies_of_a_symbol_run_ahead_on_another_partition_then_real_ticks_stay_valid() -> None:
    # A keyless producer spreads copies of IBM's ticks over other partitions; read first, they
    # would move IBM's clock ahead and make every real tick behind them late.
    real, copies, pipeline = Tape(partition=0), Tape(partition=1), Pipeline()
    stamps = [T0 + i * SECOND for i in range(40)]
    for ts_ns in stamps[20:]:
        pipeline.feed(copies.record(trade_bytes(ts_ns), key=None))
    for ts_ns in stamps:
        pipeline.feed(real.record(trade_bytes(ts_ns)))
    pipeline.finish()

    assert [(r.reason, r.partition) for r in pipeline.rejects] == [("missing_key", 1)] * 20
    assert [(t.partition, t.offset) for t in pipeline.admitted] == [(0, offset) for offset in range(40)]
    assert all("without a key" in r.detail and r.symbol == "IBM" for r in pipeline.rejects)


def test_pipeline_when_a_symbol_is_a_path_then_it_never_reaches_a_feature_row() -> None:
    tape, pipeline = Tape(), Pipeline()
    for i in range(5):
        pipeline.feed(tape.record(trade_bytes(T0 + i * SECOND, symbol="A/../../ETC"), key=b"A/../../ETC"))
    pipeline.finish()

    assert {r.reason for r in pipeline.rejects} == {"invalid_symbol"} and len(pipeline.rejects) == 5
    assert pipeline.admitted == [] and pipeline.rows == [] and pipeline.logic == {}


@pytest.mark.parametrize("symbol", ["AAPL  240119C00190000", "^GSPC", "ES=F", "BRK B", "BTC-USD", "@ES#", "es_f"])
def test_pipeline_when_symbol_is_a_real_venue_identifier_then_it_gets_features_under_its_own_name(symbol: str) -> None:
    tape, pipeline = Tape(), Pipeline()
    for i in range(30):
        pipeline.feed(tape.record(trade_bytes(T0 + i * SECOND, symbol=symbol), key=symbol.encode()))
    pipeline.finish()

    assert pipeline.rejects == []
    assert len(pipeline.admitted) == 30
    assert pipeline.rows and {row.symbol for row in pipeline.rows} == {symbol}


def test_pipeline_when_allow_list_is_set_then_other_symbols_are_symbol_not_allowed_and_get_no_state() -> None:
    tape, pipeline = Tape(), Pipeline(limits=ValidationLimits(allowed_symbols=frozenset({"IBM"})))
    for i in range(200):
        junk = f"JUNK{i}"
        pipeline.feed(tape.record(trade_bytes(T0 + i * SECOND, symbol=junk), key=junk.encode()))
        pipeline.feed(tape.record(trade_bytes(T0 + i * SECOND)))
    pipeline.finish()

    assert Counter(r.reason for r in pipeline.rejects) == {"symbol_not_allowed": 200}
    assert len(pipeline.admitted) == 200
    assert set(pipeline.logic) == {"IBM"}, "a symbol off the allow-list got per-symbol state"


def test_pipeline_when_case_is_upper_then_both_spellings_share_one_symbol_state() -> None:
    tape, pipeline = Tape(), Pipeline(limits=ValidationLimits(symbol_case="upper"))
    for i in range(10):
        pipeline.feed(tape.record(trade_bytes(T0 + i * SECOND, symbol="ibm" if i % 2 else "IBM")))
    pipeline.finish()

    assert pipeline.rejects == []
    assert set(pipeline.logic) == {"IBM"} and {t.tick.symbol for t in pipeline.admitted} == {"IBM"}


# --- property-based: any mix of hostile and valid messages -------------------------------------------


def _valid_tick_bytes() -> st.SearchStrategy[bytes]:
    offsets_ns = st.integers(min_value=-10 * SECOND, max_value=2 * HOUR)
    symbols = st.sampled_from(["IBM", "SPY", "BRK.B"])
    prices = st.floats(min_value=1.0, max_value=1_000.0)
    sizes = st.floats(min_value=1.0, max_value=1e6)
    seqs = st.none() | st.integers(min_value=0, max_value=50)
    trades = st.builds(lambda dt, symbol, price, size, seq: msgspec.json.encode(
        Trade(symbol, T0 + dt, price, size, seq=seq)), offsets_ns, symbols, prices, sizes, seqs)
    quotes = st.builds(lambda dt, symbol, bid, spread: msgspec.json.encode(
        Quote(symbol, T0 + dt, bid, bid + spread, 100.0, 200.0)), offsets_ns, symbols, prices,
        st.floats(min_value=-0.5, max_value=0.5))
    return trades | quotes


def _mutated(raw: bytes, position: int, byte: int) -> bytes:
    position %= max(1, len(raw))
    return raw[:position] + bytes([byte]) + raw[position + 1:]


def _hostile_bytes() -> st.SearchStrategy[bytes]:
    corpus_values = [raw for _, raw in corpus()]
    return st.one_of(
        st.sampled_from(corpus_values),
        st.binary(max_size=200),
        st.builds(_mutated, _valid_tick_bytes(), st.integers(min_value=0), st.integers(0, 255)),
        st.builds(lambda raw, cut: raw[:cut], _valid_tick_bytes(), st.integers(0, 120)),
        st.builds(lambda n: b'{"type":"trade","symbol":"IBM","ts_ns":1381329000000000000,"price":' + b"9" * n
                  + b',"size":100}', st.integers(300, 4000)),
        st.builds(lambda value: b'{"type":"trade","symbol":"IBM","ts_ns":' + value
                  + b',"price":180.0,"size":100}',
                  st.sampled_from([b"1e30", b"-0", b"1.5", b'"2013-10-09T14:30:00"', b"null", b"1381329000.0",
                                   b"10000000000000000000000000000000", b"NaN", b"[]", b"{}"])),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["valid", "hostile", "repeat", "redeliver"]), _valid_tick_bytes(),
                          _hostile_bytes(), st.sampled_from([b"IBM", b"SPY", None])),
                min_size=1, max_size=60))
def test_pipeline_for_any_mix_never_raises_and_gives_every_message_exactly_one_outcome(
        plan: list[tuple[str, bytes, bytes, bytes | None]]) -> None:
    tape, pipeline = Tape(), Pipeline()
    fed: list[SourceRecord] = []
    for kind, valid, hostile, key in plan:
        if kind == "redeliver" and fed:
            record = fed[-1]  # the same record again (same offset): a duplicate delivery
        elif kind == "repeat" and fed:
            record = tape.record(fed[-1].value, fed[-1].key)  # the same payload at a new offset
        else:
            value = valid if kind == "valid" else hostile
            symbol_key = key if kind != "valid" else msgspec.json.decode(valid)["symbol"].encode()
            record = tape.record(value, symbol_key)
        fed.append(record)
        pipeline.feed(record)
    pipeline.finish()

    assert len(pipeline.admitted) + len(pipeline.rejects) == pipeline.consumed == len(fed)
    outcomes = pipeline.outcomes()
    deliveries = Counter((record.partition, record.offset) for record in fed)
    assert outcomes == deliveries, "every delivery ends as exactly one admitted tick or one reject"
    # A position delivered more than once is admitted at most once.
    admitted = Counter((t.partition, t.offset) for t in pipeline.admitted)
    assert max(admitted.values(), default=0) <= 1
    assert_every_reject_is_explained(pipeline.rejects)
    for tick in pipeline.admitted:
        values = (tick.tick.price, tick.tick.size) if isinstance(tick.tick, Trade) else \
            (tick.tick.bid, tick.tick.ask, tick.tick.bid_size, tick.tick.ask_size)
        assert all(math.isfinite(value) and value > 0 for value in values)
    rejected_positions = {(r.partition, r.offset) for r in pipeline.rejects if r.stage != "dedupe"}
    for row in pipeline.rows:
        assert all(not math.isinf(value) for value in row.values)
        assert (row.partition, row.offset) not in rejected_positions, "a rejected tick produced a feature row"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=-5 * SECOND, max_value=3 * HOUR), min_size=2, max_size=80))
def test_admitted_ticks_never_move_event_time_back_further_than_the_late_tolerance(steps: list[int]) -> None:
    tape, pipeline = Tape(), Pipeline()
    ts_ns = T0
    for step in steps:
        ts_ns = max(T0, ts_ns + step)
        pipeline.feed(tape.record(trade_bytes(ts_ns)))
    pipeline.finish()

    assert len(pipeline.admitted) + len(pipeline.rejects) == len(steps)
    late_tolerance = EventTimeConfig().late_tolerance_ns
    output_clock = None
    # One partition: ticks come out in offset order; only a counted clock_reset may move time back.
    resets = [reject for reject in pipeline.rejects if reject.reason == "clock_reset"]
    for item in sorted([*pipeline.admitted, *resets], key=lambda item: item.offset):
        if isinstance(item, Reject):
            output_clock = None
            continue
        if output_clock is not None:
            assert item.tick.ts_ns >= output_clock - late_tolerance
        output_clock = item.tick.ts_ns if output_clock is None else max(output_clock, item.tick.ts_ns)


def test_every_reason_of_the_corpus_is_declared_for_the_metrics() -> None:
    from operators.ingest.validation import REJECT_REASONS

    reasons = {expected_reason(name) for name, _ in corpus()} | {expected_reason(name) for name, _ in huge_messages()}
    assert reasons <= set(REJECT_REASONS), sorted(reasons - set(REJECT_REASONS))
