"""``tickwise features history`` gives each entity row the stored features known at its time, equal to a
brute-force scan of what two runs of the flow wrote into one chDB ``features`` table.

Two state dirs. One holds rows built from the shipped IBM trades (last price and a 10-trade return at
every 10th trade), written by the ClickHouse sink's writer in two sessions: the first run, then a
restart that replays the first run's last batch (same ids: ``FINAL`` keeps one), recomputes one row
from another offset (a later insert of the same symbol and time: it wins) and goes on with a new
feature-set version that adds a feature. The other holds what the live flow itself wrote in two runs
over overlapping spans of the IBM sample (13:28-13:40, then 13:37-13:50 from cold state, in a child
process): all 73 features, and times both runs wrote. The join runs in process against each chDB
state dir.
"""

from __future__ import annotations

import gzip
import io
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from dataflows.cli import app
from dataflows.config import environment_names
from dataflows.point_in_time import ENGINES, features_as_of
from operators.messages import FeatureRow
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE_TRADES = REPO_ROOT / "data" / "sample" / "ibm_2013-10-09_trades.csv.gz"
PLUMBING_MODEL = REPO_ROOT / "tests" / "models" / "plumbing"
#: The live flow over the IBM sample into one chDB directory, once per (start, end) span, one run after the other.
TWO_RUNS = """
import sys
from pathlib import Path
from bytewax.testing import run_main
from dataflows.backtest import file_source
from dataflows.components import build_components
from dataflows.config import load_settings
from dataflows.outputs import Outputs
from dataflows.signals import build_flow
from dataflows.tickfiles import read_tick_frame
from sinks.clickhouse import ClickHouseSettings, ClickHouseSink
from sinks.metrics import MetricsRegistry

sample, model, chdb, *spans = sys.argv[1:]
settings = load_settings(model={"spec": model}, clickhouse={"url": f"chdb://{chdb}"}, run={"until_eof": True},
                         metrics={"port": 0}, risk={"symbols": "IBM"})
for start, end in zip(spans[::2], spans[1::2]):
    frame = read_tick_frame(sorted(Path(sample).glob("*.csv.gz")), ["IBM"], int(start), int(end))
    run_main(build_flow(build_components(settings, registry=MetricsRegistry()), file_source(frame), Outputs(
        clickhouse=ClickHouseSink(ClickHouseSettings(f"chdb://{chdb}")), redis=None, signals=None,
        dead_letters=None, model_events=None)))
"""
FED_CALENDAR = REPO_ROOT.parent / "shared" / "data" / "alt" / "lean" / "trading-economics" / "fdtr_calendar.zip"


def tickwise(*args: str) -> Result:
    """The CLI in process with none of the settings' variables set."""
    return CliRunner().invoke(app, list(args), env={name: None for name in environment_names()})


def _feature_rows(trades: pd.DataFrame, start: int, stop: int, feature_set: str,
                  with_volume: bool) -> list[FeatureRow]:
    rows = []
    for i in range(start, stop, 10):
        price, before = float(trades["price"].iloc[i]), float(trades["price"].iloc[i - 10])
        names, values = ["last_price", "return_10"], [price, price / before - 1]
        if with_volume:
            names.append("volume_10")
            values.append(float(trades["size"].iloc[i - 9:i + 1].sum()))
        rows.append(FeatureRow("IBM", int(trades["ts_ns"].iloc[i]), 0, i, price, tuple(names), tuple(values),
                               feature_set))
    return rows


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A state dir whose chDB holds the feature rows of two runs; ``written`` lists them in insert order."""
    state_dir = tmp_path_factory.mktemp("history") / "state"
    with gzip.open(SAMPLE_TRADES, "rt") as text:
        trades = pd.read_csv(io.StringIO(text.read()), nrows=400)
    first_run = _feature_rows(trades, 50, 200, "fs-1", with_volume=False)
    recomputed = first_run[5]
    recomputed = FeatureRow("IBM", recomputed.ts_ns, 1, 99_999, recomputed.price, recomputed.names,
                            (recomputed.values[0], 0.125), "fs-1")
    restart = [*first_run[-3:], recomputed, *_feature_rows(trades, 200, 400, "fs-2", with_volume=True)]
    for run in (first_run, restart):
        writer = ClickHouseWriter(ClickHouseSettings(f"chdb://{(state_dir / 'chdb').resolve()}"))
        writer.connect()
        writer.ensure_schema()
        writer.write(run)
        writer.close()
    return {"state_dir": state_dir, "written": first_run + restart, "trades": trades}


def _brute_force(entities: pd.DataFrame, written: list[FeatureRow]) -> pd.DataFrame:
    """For each entity row, scan every written row: the last written of the latest time at or before it."""
    names = ["last_price", "return_10", "volume_10"]
    rows = []
    for symbol, moment in zip(entities["symbol"], entities["timestamp"], strict=True):
        known = [row for row in written if row.symbol == symbol and row.ts_ns <= moment.value]
        latest = [row for row in known if row.ts_ns == max(r.ts_ns for r in known)][-1:] if known else []
        values = dict(zip(latest[0].names, latest[0].values, strict=True)) if latest else {}
        rows.append({**{name: values.get(name, math.nan) for name in names},
                     "feature_ts": pd.Timestamp(latest[0].ts_ns, tz="UTC") if latest else pd.NaT,
                     "feature_set": latest[0].feature_set if latest else None})
    return pd.DataFrame(rows)


def _entities(stored: dict[str, object], path: Path) -> pd.DataFrame:
    """IBM rows from before the first feature to after the last (some exactly at a feature's time, one at the
    recomputed row) and AIG rows (no features), with ISO 8601 times of nanosecond precision and a label."""
    rng = np.random.default_rng(7)
    times = stored["trades"]["ts_ns"].to_numpy()  # type: ignore[index]
    moments = np.concatenate([rng.integers(times[0], times[-1] + 10**9, 120), times[[50, 100, 120, 200, 390]]])
    symbols = np.where(rng.random(len(moments)) < 0.9, "IBM", "AIG")
    entities = pd.DataFrame({"symbol": symbols, "timestamp": pd.to_datetime(moments, unit="ns", utc=True),
                             "label": rng.integers(0, 2, len(moments))})
    entities.assign(timestamp=entities["timestamp"].map(lambda t: t.isoformat())).to_csv(path, index=False)
    return entities


def test_history_equals_the_brute_force_join_across_both_runs(stored: dict[str, object], tmp_path: Path) -> None:
    entities = _entities(stored, tmp_path / "entities.csv")

    result = tickwise("features", "history", "--entities", str(tmp_path / "entities.csv"), "--out",
                      str(tmp_path / "set.parquet"), "--state-dir", str(stored["state_dir"]))

    assert result.exit_code == 0, result.output
    written = pd.read_parquet(tmp_path / "set.parquet")
    expected = _brute_force(entities, stored["written"])  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(written[["symbol", "timestamp", "label"]], entities, check_dtype=False)
    for name in ("last_price", "return_10", "volume_10"):
        np.testing.assert_array_equal(written[name].to_numpy(), expected[name].to_numpy(), err_msg=name)
    assert written["feature_ts"].tolist() == expected["feature_ts"].tolist()
    assert written["feature_set"].fillna("").tolist() == expected["feature_set"].fillna("").tolist()
    assert written["last_price"].isna().sum() > len(entities) * 0.1  # before the first feature, and AIG
    assert set(written["feature_set"].dropna()) == {"fs-1", "fs-2"}
    assert 0.125 in written["return_10"].tolist()  # the recomputed row, inserted last, won


@pytest.fixture(scope="module")
def flow_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The state dir of two live-flow runs, and every stored row as (symbol, ts_ns, inserted_at, id, values)."""
    state_dir = tmp_path_factory.mktemp("flow") / "state"
    spans = [str(pd.Timestamp(moment, tz="UTC").value) for moment in
             ("2013-10-09 13:28", "2013-10-09 13:40", "2013-10-09 13:37", "2013-10-09 13:50")]
    done = subprocess.run([sys.executable, "-c", TWO_RUNS, str(REPO_ROOT / "data" / "sample"), str(PLUMBING_MODEL),
                           str((state_dir / "chdb").resolve()), *spans], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    writer = ClickHouseWriter(ClickHouseSettings(f"chdb://{(state_dir / 'chdb').resolve()}"))
    writer.connect()
    rows = writer.client.query("SELECT symbol, ts_ns, inserted_at, id, names, values FROM features FINAL").result_rows
    writer.close()
    return {"state_dir": state_dir, "rows": rows}


def test_history_equals_a_brute_force_scan_of_two_live_flow_runs(flow_runs: dict[str, object],
                                                                 tmp_path: Path) -> None:
    rows = flow_runs["rows"]
    times = [row[1] for row in rows]  # type: ignore[union-attr]
    twice = sorted({ts for ts in times if times.count(ts) > 1})
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2013-10-09 13:25", tz="UTC").value
    moments = np.concatenate([rng.integers(start, start + 30 * 60 * 10**9, 300), twice[::10], times[::50]])
    entities = pd.DataFrame({"symbol": "IBM", "timestamp": pd.to_datetime(moments, unit="ns", utc=True)})
    entities.to_parquet(tmp_path / "entities.parquet")

    result = tickwise("features", "history", "--entities", str(tmp_path / "entities.parquet"), "--out",
                      str(tmp_path / "set.parquet"), "--state-dir", str(flow_runs["state_dir"]))

    assert result.exit_code == 0, result.output
    written = pd.read_parquet(tmp_path / "set.parquet")
    names = list(rows[0][4])  # type: ignore[index]
    expected = np.full((len(moments), len(names)), np.nan)
    for i, moment in enumerate(moments):
        known = [row for row in rows if row[1] <= moment]  # type: ignore[union-attr]
        if known:
            latest = max(known, key=lambda row: (row[1], row[2], row[3]))  # latest time, then the last insert
            expected[i] = [dict(zip(latest[4], latest[5], strict=True))[name] for name in names]
    np.testing.assert_array_equal(written[names].to_numpy(), expected)
    assert len(names) == 73 and len(twice) > 50 and np.isnan(expected[:, 0]).sum() > 0  # before the first row
    by_time = {}
    for row in sorted(rows, key=lambda row: (row[2], row[3])):  # type: ignore[union-attr]
        by_time.setdefault(row[1], []).append(list(row[5]))
    differ = [not np.array_equal(by_time[ts][0], by_time[ts][-1], equal_nan=True) for ts in twice]
    assert any(differ)  # the second run, from cold state, wrote other values at times both runs wrote


def test_history_prints_json_when_no_out_is_given(stored: dict[str, object], tmp_path: Path) -> None:
    first = stored["written"][0]  # type: ignore[index]
    pd.DataFrame({"symbol": ["IBM", "IBM"], "ts": [first.ts_ns - 1, first.ts_ns]}).to_csv(tmp_path / "e.csv",
                                                                                         index=False)

    result = tickwise("features", "history", "--entities", str(tmp_path / "e.csv"), "--format", "json",
                      "--state-dir", str(stored["state_dir"]))

    assert result.exit_code == 0, result.output
    records = orjson.loads(result.stdout)
    assert records[0]["last_price"] is None and records[1]["last_price"] == first.values[0]
    assert records[1]["feature_set"] == "fs-1" and records[1]["ts"] == first.ts_ns


@pytest.mark.skipif(not FED_CALENDAR.is_file(), reason="the shared alt data is not on this machine")
def test_history_adds_event_features_from_the_shared_calendar_without_the_store(tmp_path: Path) -> None:
    pd.DataFrame({"symbol": ["SPY", "SPY"], "timestamp": ["2013-01-01", "2019-12-31T23:00:00Z"]}).to_parquet(
        tmp_path / "e.parquet")

    result = tickwise("features", "history", "--entities", str(tmp_path / "e.parquet"), "--no-store",
                      "--events", str(FED_CALENDAR), "--out", str(tmp_path / "set.csv"))

    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "set.csv")
    assert written.filter(like="us_").notna().any(axis=None) and len(written) == 2


@pytest.mark.parametrize(("content", "phrase"), [
    (None, "cannot read the entities from"),
    ("symbol,when\nIBM,2013-10-09\n", "with columns 'symbol' and 'timestamp'"),
    ("symbol,timestamp\nIBM,2013-10-09T14:00:00Z\nIBM,yesterday\n", "got 'yesterday' in row 2"),
])
def test_history_when_entity_file_is_bad_then_one_sentence_and_exit_2(tmp_path: Path, content: str | None,
                                                                       phrase: str) -> None:
    if content is not None:
        (tmp_path / "entities.csv").write_text(content)

    result = tickwise("features", "history", "--entities", str(tmp_path / "entities.csv"), "--no-store")

    assert result.exit_code == 2, result.output
    assert phrase in " ".join(result.stderr.split()) and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_history_when_no_stored_row_is_of_the_entities_symbols_then_nan_and_null_lineage(
        stored: dict[str, object], tmp_path: Path) -> None:
    pd.DataFrame({"symbol": ["AIG"], "timestamp": ["2013-10-09T14:00:00Z"]}).to_csv(tmp_path / "e.csv", index=False)

    result = tickwise("features", "history", "--entities", str(tmp_path / "e.csv"), "--format", "csv",
                      "--state-dir", str(stored["state_dir"]))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["symbol,timestamp,feature_ts,feature_set", "AIG,2013-10-09T14:00:00Z,,"]


@pytest.mark.parametrize("engine", ENGINES)
def test_features_as_of_when_no_feature_rows_then_nan(engine: str) -> None:
    features = pd.DataFrame({"symbol": pd.Series([], dtype=object), "ts": pd.Series([], dtype=np.int64),
                             "x": pd.Series([], dtype=float)})

    result = features_as_of(pd.DataFrame({"symbol": ["A", "B"], "ts": [1, 2]}), features, engine=engine)

    assert result["symbol"].tolist() == ["A", "B"] and result["x"].isna().all()


def test_history_when_the_state_dir_has_no_features_table_then_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "state" / "chdb").mkdir(parents=True)
    pd.DataFrame({"symbol": ["IBM"], "ts": [1]}).to_csv(tmp_path / "e.csv", index=False)

    result = tickwise("features", "history", "--entities", str(tmp_path / "e.csv"), "--state-dir",
                      str(tmp_path / "state"))

    assert result.exit_code == 2, result.output
    assert "cannot read the stored features" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_features_symbol_still_shows_the_online_store_and_history_is_a_subcommand() -> None:
    online = tickwise("features", "IBM", "--format", "json", "--state-dir", "/nonexistent")
    help_text = tickwise("features", "--help")

    assert online.exit_code == 2 and "no Redis to use" in online.stderr
    assert "history" in help_text.stdout and "show" in help_text.stdout
