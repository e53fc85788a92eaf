"""Specifications of the Bytewax adapters: per-symbol logic (EOF flush, snapshots) and the batch scorer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec
import numpy as np
import pytest

from dataflows.steps import BatchScorer
from dataflows.symbol_step import SymbolLogic, SymbolLogicBuilder
from dataflows.tickfiles import encode_ticks, read_tick_frame
from models.ensemble import Ensemble
from models.registry import resolve_model_dir
from operators.ingest.clock import EventTimeConfig
from operators.features.symbol import FeatureConfig
from operators.messages.ids import stable_id
from operators.messages import FeatureRow, Prediction, Reject, SourceRecord, TickBatch, Trade, ValidTick
from operators.ingest.validation import ValidationLimits, decode_tick
from tests.unit.dataflows.comparable import comparable, without_nan

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"
SECOND = 1_000_000_000
HOUR = 3_600 * SECOND
SESSION_OPEN_NS = 1_381_325_400 * SECOND  # 2013-10-09 13:30 UTC


@pytest.fixture(scope="module")
def ibm_ticks() -> list[ValidTick]:
    """Real IBM trades and quotes (2013-10-09, 13:00 to 14:15 UTC) through the real decoder, in time order."""
    frame = read_tick_frame([SAMPLE / "ibm_2013-10-09_trades.csv.gz", SAMPLE / "ibm_2013-10-09_quotes.csv.gz"],
                            start_ns=SESSION_OPEN_NS - HOUR // 2, end_ns=SESSION_OPEN_NS + 45 * 60 * SECOND)
    limits = ValidationLimits()
    decoded = [decode_tick(SourceRecord("ticks", 0, offset, key, value), limits)
               for offset, (key, value) in enumerate(encode_ticks(frame))]
    ticks = [item for item in decoded if isinstance(item, ValidTick)]
    assert len(ticks) > 5_000
    return ticks


@pytest.fixture(scope="module")
def ensemble() -> Ensemble:
    return Ensemble.load(resolve_model_dir("default"))


def new_logic() -> SymbolLogic:
    return SymbolLogicBuilder(EventTimeConfig(), FeatureConfig())(None)


def feed(logic: SymbolLogic, ticks: Sequence[ValidTick]) -> list[object]:
    out: list[object] = []
    for tick in ticks:
        emitted, retain = logic.on_item(tick)
        assert retain is SymbolLogic.RETAIN
        out.extend(emitted)
    return out


def finish(logic: SymbolLogic) -> list[object]:
    emitted, retain = logic.on_eof()
    assert retain is SymbolLogic.RETAIN
    return list(emitted)


@pytest.fixture(scope="module")
def ibm_outputs(ibm_ticks: list[ValidTick]) -> list[object]:
    logic = new_logic()
    return feed(logic, ibm_ticks) + finish(logic)


@pytest.fixture(scope="module")
def ibm_rows(ibm_outputs: list[object]) -> list[FeatureRow]:
    rows = [item for item in ibm_outputs if isinstance(item, FeatureRow)]
    assert len(rows) > 1_000
    return rows


# --- SymbolLogic -------------------------------------------------------------------------------------------


def test_symbol_logic_when_tick_admitted_then_reemits_it_before_its_feature_rows() -> None:
    logic = new_logic()
    first, second = (ValidTick(Trade("IBM", SESSION_OPEN_NS + step, 180.0, 100.0), "ticks", 3, 40 + step)
                     for step in range(2))
    tick = ValidTick(Trade("IBM", SESSION_OPEN_NS + 2, 180.0, 100.0), "ticks", 3, 42)
    feed(logic, [first, second])  # the first ticks wait until three agree

    emitted, _ = logic.on_item(tick)

    assert [item for item in emitted if isinstance(item, ValidTick)] == [first, second, tick]
    assert emitted[0] == first and isinstance(emitted[1], FeatureRow)
    assert (emitted[1].offset, emitted[1].partition, emitted[1].get("last_price")) == (40, 3, 180.0)


def test_symbol_logic_when_eof_releases_a_held_tick_then_it_comes_as_a_tick_batch_not_a_bare_tick() -> None:
    # The flow branches admitted ticks as TickBatch only; a bare ValidTick fell among the rejects and
    # crashed the reject counter of bounded runs ('ValidTick' object has no attribute 'reason').
    logic = new_logic()
    ticks = [ValidTick(Trade("IBM", SESSION_OPEN_NS + step * SECOND, 180.0, 100.0), "ticks", 0, step)
             for step in range(3)]
    last = ValidTick(Trade("IBM", SESSION_OPEN_NS + 2 * HOUR, 181.0, 100.0), "ticks", 0, 3)
    logic.on_item(TickBatch("IBM", [*ticks, last]))

    flushed = finish(logic)

    assert flushed[0] == TickBatch("IBM", [last])
    assert not any(isinstance(item, (ValidTick, Reject)) for item in flushed)
    assert [row.offset for row in flushed if isinstance(row, FeatureRow)] == [3]


def test_symbol_logic_when_clock_resets_then_features_start_again_from_the_next_tick() -> None:
    logic = SymbolLogicBuilder(EventTimeConfig(reset_after=2), FeatureConfig(emit_interval_ns=0))(None)
    real = [ValidTick(Trade("IBM", SESSION_OPEN_NS + step * SECOND, 180.0 + step, 100.0), "ticks", 0, step)
            for step in range(3)]
    future = [ValidTick(Trade("IBM", SESSION_OPEN_NS + 3 * HOUR + step, 500.0, 100.0), "ticks", 0, 3 + step)
              for step in range(3)]
    rejoin = [ValidTick(Trade("IBM", SESSION_OPEN_NS + (10 + step) * SECOND, 190.0, 100.0), "ticks", 0, 6 + step)
              for step in range(3)]

    out = logic.on_item(TickBatch("IBM", [*real, *future, *rejoin]))[0]

    assert [(r.reason, r.offset) for r in out if isinstance(r, Reject)] == [("ts_late", 6), ("clock_reset", 7)]
    assert [t.offset for t in out[0].ticks] == [0, 1, 2, 3, 4, 5, 8]
    [after_reset] = [row for row in out if isinstance(row, FeatureRow) and row.offset == 8]
    assert after_reset.ts_ns == rejoin[2].tick.ts_ns
    fresh = SymbolLogicBuilder(EventTimeConfig(confirmations=1), FeatureConfig(emit_interval_ns=0))(None)
    [fresh_row] = [row for row in fresh.on_item(rejoin[2])[0] if isinstance(row, FeatureRow)]
    assert comparable([after_reset]) == comparable([fresh_row])  # nothing of the 500.00 timeline is left


def test_symbol_logic_when_eof_then_releases_pending_tick_and_flushes_its_feature_row() -> None:
    logic = new_logic()
    first = ValidTick(Trade("IBM", SESSION_OPEN_NS, 180.0, 100.0), "ticks", 0, 0)
    within = ValidTick(Trade("IBM", SESSION_OPEN_NS + SECOND // 2, 180.5, 100.0), "ticks", 0, 1)
    far_ahead = ValidTick(Trade("IBM", SESSION_OPEN_NS + 20 * HOUR, 181.0, 100.0), "ticks", 0, 2)
    feed(logic, [first, within])
    held, _ = logic.on_item(far_ahead)
    assert list(held) == []  # held by the event-time guard until later ticks (or EOF) decide

    flushed = finish(logic)

    assert flushed[0] == TickBatch("IBM", [first, within, far_ahead])
    rows = [item for item in flushed if isinstance(item, FeatureRow)]
    assert [row.offset for row in rows] == [0, 2]
    assert rows[-1].ts_ns == far_ahead.tick.ts_ns and rows[-1].get("last_price") == 181.0


def test_symbol_logic_when_eof_after_unemitted_tick_then_flushes_last_feature_row() -> None:
    logic = SymbolLogicBuilder(EventTimeConfig(confirmations=1), FeatureConfig())(None)  # first tick trusted
    feed(logic, [ValidTick(Trade("IBM", SESSION_OPEN_NS, 180.0, 100.0), "ticks", 0, 0)])
    inside_interval = ValidTick(Trade("IBM", SESSION_OPEN_NS + SECOND // 4, 180.25, 50.0), "ticks", 0, 1)
    assert not any(isinstance(item, FeatureRow) for item in logic.on_item(inside_interval)[0])

    flushed = finish(logic)

    assert [(row.offset, row.get("last_price")) for row in flushed if isinstance(row, FeatureRow)] == [(1, 180.25)]


def test_symbol_logic_when_eof_without_ticks_then_emits_nothing() -> None:
    assert finish(new_logic()) == []


def test_symbol_logic_when_real_ticks_then_every_tick_out_once_in_order(
        ibm_ticks: list[ValidTick], ibm_outputs: list[object]) -> None:
    admitted = [item for item in ibm_outputs if isinstance(item, ValidTick)]
    rejected = [item for item in ibm_outputs if isinstance(item, Reject)]

    assert len({t.offset for t in admitted}) == len(admitted)
    assert sorted([t.offset for t in admitted] + [r.offset for r in rejected]) == [t.offset for t in ibm_ticks]
    rows = [item for item in ibm_outputs if isinstance(item, FeatureRow)]
    assert [row.ts_ns for row in rows] == sorted(row.ts_ns for row in rows)


def test_snapshot_when_taken_then_bytes(ibm_ticks: list[ValidTick]) -> None:
    logic = new_logic()
    feed(logic, ibm_ticks[:100])

    assert isinstance(logic.snapshot(), bytes)


@pytest.mark.parametrize("fraction", [0.0, 0.37, 0.81, 1.0])
def test_snapshot_when_restored_mid_stream_then_outputs_equal_an_uninterrupted_run(
        ibm_ticks: list[ValidTick], ibm_outputs: list[object], fraction: float) -> None:
    cut = int(len(ibm_ticks) * fraction)
    builder = SymbolLogicBuilder(EventTimeConfig(), FeatureConfig())
    before = builder(None)
    out = feed(before, ibm_ticks[:cut])

    restored = builder(before.snapshot())
    out += feed(restored, ibm_ticks[cut:]) + finish(restored)

    assert comparable(out) == comparable(ibm_outputs)


def test_snapshot_when_logic_continues_then_stored_snapshot_is_unchanged(ibm_ticks: list[ValidTick]) -> None:
    builder = SymbolLogicBuilder(EventTimeConfig(), FeatureConfig())
    logic = builder(None)
    feed(logic, ibm_ticks[:2_000])
    snapshot = logic.snapshot()
    continued = feed(logic, ibm_ticks[2_000:4_000]) + finish(logic)

    replayed = builder(snapshot)
    again = feed(replayed, ibm_ticks[2_000:4_000]) + finish(replayed)

    assert comparable(again) == comparable(continued)
    assert len(continued) > 2_000


def test_snapshot_when_pending_tick_then_restored_logic_releases_it_on_eof() -> None:
    builder = SymbolLogicBuilder(EventTimeConfig(), FeatureConfig())
    logic = builder(None)
    far_ahead = ValidTick(Trade("IBM", SESSION_OPEN_NS + 20 * HOUR, 181.0, 100.0), "ticks", 0, 1)
    feed(logic, [ValidTick(Trade("IBM", SESSION_OPEN_NS, 180.0, 100.0), "ticks", 0, 0), far_ahead])

    flushed = finish(builder(logic.snapshot()))

    assert flushed[0].ticks[-1] == far_ahead


# --- BatchScorer -------------------------------------------------------------------------------------------


def prediction_values(prediction: Prediction) -> tuple[object, ...]:
    return (prediction.p_up, prediction.direction, prediction.confidence, prediction.volatility,
            prediction.regime, prediction.score, tuple(sorted(prediction.specialists.items())))


def test_batch_scorer_when_batch_then_equals_rows_scored_one_by_one(
        ensemble: Ensemble, ibm_rows: list[FeatureRow]) -> None:
    rows = ibm_rows[::5][:300]
    scorer = BatchScorer(ensemble)

    batch = scorer(rows)
    single = [prediction for row in rows for prediction in scorer([row])]

    assert batch == single
    assert len(batch) == len(rows)


def test_batch_scorer_when_batch_then_equals_ensemble_predict_on_the_same_matrix(
        ensemble: Ensemble, ibm_rows: list[FeatureRow]) -> None:
    rows = ibm_rows[-400:]
    matrix = np.array([row.values for row in rows])[:, ensemble.feature_index(rows[0].names)]
    expected = ensemble.predict(matrix)

    predictions = BatchScorer(ensemble)(rows)

    np.testing.assert_array_equal([p.p_up for p in predictions], expected.p_up)
    np.testing.assert_array_equal([p.direction for p in predictions], expected.direction)
    np.testing.assert_array_equal([p.confidence for p in predictions], expected.confidence)
    np.testing.assert_array_equal([p.volatility for p in predictions], expected.volatility)
    np.testing.assert_array_equal([p.score for p in predictions], expected.score)
    assert [p.regime for p in predictions] == list(expected.regime)
    for name, column in expected.specialists.items():
        np.testing.assert_array_equal([p.specialists[name] for p in predictions], column)
    assert [(p.symbol, p.ts_ns, p.partition, p.offset, p.price) for p in predictions] == [
        (r.symbol, r.ts_ns, r.partition, r.offset, r.price) for r in rows]
    assert {p.model_version for p in predictions} == {ensemble.version}


def test_batch_scorer_when_scored_twice_then_same_deterministic_ids(
        ensemble: Ensemble, ibm_rows: list[FeatureRow]) -> None:
    rows = ibm_rows[:200]

    first = BatchScorer(ensemble)(rows)
    second = BatchScorer(ensemble)(list(reversed(rows)))

    assert [p.prediction_id for p in first] == [p.prediction_id for p in reversed(second)]
    assert [p.prediction_id for p in first] == [
        stable_id(r.symbol, r.partition, r.offset, ensemble.version) for r in rows]
    assert len({p.prediction_id for p in first}) == len(rows)


def test_batch_scorer_when_rows_lack_a_model_feature_then_scored_as_missing(
        ensemble: Ensemble, ibm_rows: list[FeatureRow]) -> None:
    dropped = "order_flow_imbalance"
    assert dropped in ensemble.feature_names
    full = ibm_rows[-50:]
    keep = [i for i, name in enumerate(full[0].names) if name != dropped]
    partial = [FeatureRow(r.symbol, r.ts_ns, r.partition, r.offset, r.price, tuple(r.names[i] for i in keep),
                          tuple(r.values[i] for i in keep)) for r in full]
    matrix = np.array([row.values for row in full])[:, ensemble.feature_index(full[0].names)]
    matrix[:, ensemble.feature_names.index(dropped)] = np.nan

    predictions = BatchScorer(ensemble)(partial)

    np.testing.assert_array_equal([p.p_up for p in predictions], ensemble.predict(matrix).p_up)


def test_batch_scorer_when_rows_in_other_column_order_then_same_predictions(
        ensemble: Ensemble, ibm_rows: list[FeatureRow]) -> None:
    rows = ibm_rows[-50:]
    order = list(reversed(range(len(rows[0].names))))
    shuffled = [FeatureRow(r.symbol, r.ts_ns, r.partition, r.offset, r.price, tuple(r.names[i] for i in order),
                           tuple(r.values[i] for i in order)) for r in rows]

    assert BatchScorer(ensemble)(shuffled) == BatchScorer(ensemble)(rows)


def test_batch_scorer_when_batch_empty_then_no_predictions(ensemble: Ensemble) -> None:
    assert BatchScorer(ensemble)([]) == []


def test_symbol_logic_snapshot_names_the_feature_config_instead_of_pickling_it(ibm_ticks: list[ValidTick]) -> None:
    import pickle

    from dataflows.snapshots import load_state
    from operators.features.symbol import feature_layout

    builder = SymbolLogicBuilder(EventTimeConfig(), FeatureConfig())
    logic = builder(None)
    feed(logic, ibm_ticks[:2_000])
    snapshot = logic.snapshot()
    config_bytes = len(pickle.dumps(FeatureConfig(), protocol=pickle.HIGHEST_PROTOCOL))
    _, features, *_ = load_state(snapshot, "features")

    assert features.config == FeatureConfig()
    assert b"FeatureConfig" not in snapshot and feature_layout(FeatureConfig()).version.encode() in snapshot
    assert config_bytes > 1_000  # what each key's state no longer carries
    resumed = builder(snapshot)
    rest = ibm_ticks[2_000:4_000]
    assert comparable(feed(resumed, rest)) == comparable(feed(logic, rest))


def test_symbol_logic_when_batch_given_then_same_outputs_as_tick_by_tick(ibm_ticks: list[ValidTick]) -> None:
    per_tick, batched = new_logic(), new_logic()
    ticks = ibm_ticks[:3_000]
    expected = feed(per_tick, ticks)
    out: list[object] = []
    for start in range(0, len(ticks), 700):
        emitted, retain = batched.on_item(TickBatch("IBM", ticks[start:start + 700]))
        assert retain is SymbolLogic.RETAIN
        out.extend(emitted)

    admitted = [tick for item in out if isinstance(item, TickBatch) for tick in item.ticks]
    assert admitted == [item for item in expected if isinstance(item, ValidTick)]
    others = [item for item in out if not isinstance(item, TickBatch)]
    assert comparable(others) == comparable([item for item in expected if not isinstance(item, ValidTick)])


def test_batch_scorer_when_rows_of_two_layouts_then_each_scored_as_alone_in_row_order(
        ensemble: Ensemble, ibm_rows: list[FeatureRow]) -> None:
    """Symbols with order books add the depth features: one batch may hold rows of both layouts."""
    from operators.book.tracker import DEPTH_FEATURES

    plain = ibm_rows[-60:]
    deep = [msgspec.structs.replace(row, symbol="BINANCE:BTCUSDT", names=row.names + DEPTH_FEATURES,
                                    values=row.values + (0.5,) * len(DEPTH_FEATURES)) for row in ibm_rows[-120:-60]]
    mixed = [row for pair in zip(plain, deep) for row in pair]

    predictions = BatchScorer(ensemble)(mixed)

    def same(items: list[Prediction]) -> list[object]:
        return [without_nan(msgspec.structs.asdict(item)) for item in items]

    scorer = BatchScorer(ensemble)
    assert [p.symbol for p in predictions] == [row.symbol for row in mixed]
    assert same(predictions[0::2]) == same(scorer(plain)) and same(predictions[1::2]) == same(scorer(deep))
    # The model reads its features by name: depth columns it was not trained on change nothing.
    assert ([without_nan(prediction_values(p)) for p in scorer(deep)]
            == [without_nan(prediction_values(p)) for p in scorer([msgspec.structs.replace(row, symbol="BINANCE:BTCUSDT")
                                                                   for row in ibm_rows[-120:-60]])])
