"""Specifications of the microstructure specialist: labels, the held-out split, the dataset and the predictor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import metrics
from models.micro import MicroModel, train_micro
from models.micro.dataset import FEATURE_NAMES, build_rows, merged_events
from models.micro.labels import HORIZONS, SECOND_NS, make_labels
from models.micro.train import _development, label_rows
from operators.features.symbol import FeatureConfig, SymbolFeatures
from operators.messages import Quote, Trade, ValidTick

HOUR_NS = 3600 * SECOND_NS
SESSION_OPENS = tuple(1_381_132_800 * SECOND_NS + day * 24 * HOUR_NS for day in range(3))  # 04:00 ET, 10-07..09


def hours(first: int, *, last_day_first: int | None = None) -> tuple[tuple[int, int], ...]:
    """One hour of each tick day, ``first`` hours after 04:00 ET (the held-out day's may differ)."""
    starts = (first, first, first if last_day_first is None else last_day_first)
    return tuple((opens + start * HOUR_NS, opens + (start + 1) * HOUR_NS) for opens, start in zip(SESSION_OPENS, starts))


@pytest.fixture(scope="module")
def small_run(market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out_dir = tmp_path_factory.mktemp("micro")
    messages: list[str] = []
    section = train_micro(market_data / "quotes.csv.gz", market_data / "trades.csv.gz", out_dir, symbols=("IBM",),
                          ts_ranges=hours(6), progress=messages.append)
    assert any(message.startswith("rows:") for message in messages) and messages[-1].startswith("done")
    return out_dir, section


def random_walk_mids(rows: int = 2_000, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.integers(1, 400_000_000, rows))
    mids = 100.0 + 0.005 * np.cumsum(rng.choice([-1, 0, 0, 0, 1], rows))
    day = np.where(np.arange(rows) < rows // 2, np.datetime64("2013-10-07"), np.datetime64("2013-10-08"))
    return ts, mids, day


def test_labels_when_a_jump_is_planted_then_only_rows_before_it_see_it() -> None:
    ts, mids, day = random_walk_mids()
    before = make_labels(ts, mids, day)
    planted = mids.copy()
    planted[700:] += 5.0  # a jump at row 700: later rows only see moves among shifted mids
    after = make_labels(ts, planted, day)
    for name in HORIZONS:
        assert np.array_equal(before[name][700:], after[name][700:], equal_nan=True), name
        old, new = before[name][:700], after[name][:700]
        changed = np.flatnonzero((old != new) & ~(np.isnan(old) & np.isnan(new)))
        assert len(changed) and (after[name][changed] == 1.0).all(), name  # they see the jump up, ahead


def test_labels_when_the_future_mid_moves_then_they_follow_it_within_the_session() -> None:
    ts = np.array([0, 1, 2, 3]) * SECOND_NS
    day = np.array(["2013-10-07"] * 3 + ["2013-10-08"], dtype="datetime64[D]")
    labels = make_labels(ts, np.array([10.0, 10.0, 9.99, 10.5]), day)
    assert labels["next"].tolist()[:2] == [0.0, 0.0] and np.isnan(labels["next"][2])  # 10.5 is the next session
    assert np.isnan(labels["1s"][0]) and labels["1s"][1] == 0.0  # flat over the second: no label
    assert np.isnan(labels["10s"]).all()  # every horizon ends after its session's last quote


def test_fitting_refuses_the_held_out_day() -> None:
    day = np.array(["2013-10-07", "2013-10-09"], dtype="datetime64[D]")
    held_out = np.datetime64("2013-10-09")
    assert _development(day, held_out, np.datetime64("2013-10-07")).tolist() == [True, False]
    with pytest.raises(ValueError, match="held-out day"):
        _development(day, held_out, np.datetime64("2013-10-08"), held_out)


def test_models_when_only_the_held_out_day_changes_then_are_identical(
    market_data: Path, small_run: tuple[Path, dict], tmp_path: Path
) -> None:
    out_dir, section = small_run
    other = train_micro(market_data / "quotes.csv.gz", market_data / "trades.csv.gz", tmp_path, symbols=("IBM",),
                        ts_ranges=hours(6, last_day_first=9))
    assert other["rows"]["next"]["held_out"] != section["rows"]["next"]["held_out"]
    for name, file in section["files"].items():
        assert (out_dir / file).read_bytes() == (tmp_path / file).read_bytes(), name


def test_small_run_writes_one_model_per_label_and_a_json_section(small_run: tuple[Path, dict]) -> None:
    out_dir, section = small_run
    assert section["feature_names"] == list(FEATURE_NAMES)
    assert set(section["files"]) == set(section["horizons"]) == set(HORIZONS)
    assert all((out_dir / file).is_file() for file in section["files"].values())
    assert section["held_out_day"] == "2013-10-09"
    assert len(section["skill"]) == len(HORIZONS) * 2 * 3  # labels x (IBM, ALL) x metrics
    assert {row["symbol"] for row in section["skill"]} == {"IBM", "ALL"}
    assert all(len(row["baselines"]) == 3 and row["blocks"] >= 6 for row in section["skill"])
    assert json.loads(json.dumps(section)) == section


def test_saved_models_reproduce_the_held_out_scores(market_data: Path, small_run: tuple[Path, dict]) -> None:
    out_dir, section = small_run
    rows = build_rows(market_data / "quotes.csv.gz", market_data / "trades.csv.gz", symbols=("IBM",),
                      row_stride=4, ts_ranges=hours(6))
    labels = label_rows(rows)
    predictions = MicroModel.load(out_dir, section).predict(rows.features.astype(np.float64))
    for name in HORIZONS:
        test = np.isfinite(labels[name]) & (rows.day == np.datetime64("2013-10-09"))
        [row] = [row for row in section["skill"] if row["model"] == f"micro_{name}" and row["symbol"] == "ALL"
                 and row["metric"] == "log_loss"]
        assert metrics.log_loss(labels[name][test], predictions[name][test]) == pytest.approx(row["value"]["value"],
                                                                                               rel=1e-12)


def test_predict_when_columns_do_not_match_then_says_what_it_expects(small_run: tuple[Path, dict]) -> None:
    model = MicroModel.load(*small_run)
    with pytest.raises(ValueError, match=f"rows of {len(FEATURE_NAMES)} features"):
        model.predict(np.zeros((2, 3)))


def test_dataset_rows_equal_the_live_rows_features_of_the_same_names(market_data: Path) -> None:
    window = ((SESSION_OPENS[0] + 6 * HOUR_NS, SESSION_OPENS[0] + 6 * HOUR_NS + 10 * 60 * SECOND_NS),)
    rows = build_rows(market_data / "quotes.csv.gz", market_data / "trades.csv.gz", symbols=("IBM",),
                      ts_ranges=window, chunk_rows=20_000)  # many chunk boundaries inside the window
    live = SymbolFeatures("IBM", FeatureConfig(emit_interval_ns=0))
    at_quotes = []
    for tick in _ibm_ticks(market_data, *window[0]):
        [row] = live.update(tick)
        if isinstance(tick.tick, Quote) and tick.tick.bid > 0 and tick.tick.ask >= tick.tick.bid:
            at_quotes.append([row.get(name) for name in FEATURE_NAMES])
    assert len(at_quotes) == len(rows) > 1_000
    np.testing.assert_array_equal(np.array(at_quotes, np.float32), rows.features)


def test_merged_events_when_ties_straddle_chunks_then_time_order_with_quotes_first() -> None:
    quotes = pd.DataFrame({"ts_ns": [1, 2, 2, 2, 5], "symbol": "IBM", "bid": [1.0, 2.0, 3.0, 4.0, 5.0], "ask": 9.0,
                           "bid_size": 1.0, "ask_size": 1.0})
    trades = pd.DataFrame({"ts_ns": [0, 2, 2, 6], "symbol": "IBM", "price": [10.0, 20.0, 30.0, 40.0], "size": 1.0})
    events = pd.concat(merged_events(iter([quotes[:2], quotes[2:4], quotes[4:]]), iter([trades[:2], trades[2:]])))
    assert events["ts_ns"].tolist() == [0, 1, 2, 2, 2, 2, 2, 5, 6]
    assert events["a"].tolist() == [10.0, 1.0, 2.0, 3.0, 4.0, 20.0, 30.0, 5.0, 40.0]


def _ibm_ticks(market_data: Path, start: int, end: int) -> list[ValidTick]:
    frames = []
    for name, kind in (("quotes", 0), ("trades", 1)):
        frame = pd.concat(chunk[(chunk["symbol"] == "IBM") & chunk["ts_ns"].between(start, end - 1)]
                          for chunk in pd.read_csv(market_data / f"{name}.csv.gz", chunksize=500_000))
        frames.append(frame.assign(kind=kind))
    merged = pd.concat(frames).sort_values(["ts_ns", "kind"], kind="stable")
    ticks = []
    for offset, row in enumerate(merged.itertuples(index=False)):
        item = (Trade("IBM", int(row.ts_ns), float(row.price), float(row.size), row.side) if row.kind else
                Quote("IBM", int(row.ts_ns), float(row.bid), float(row.ask), float(row.bid_size), float(row.ask_size)))
        ticks.append(ValidTick(item, "ticks", 0, offset))
    return ticks
