"""``tickwise export`` archives a day's features, predictions and decisions; exporting it again replaces
the day instead of adding to it, and what pandas and ClickHouse read back is what ClickHouse held.

The rows are written into an in-process chDB state dir by the ClickHouse sink's writer, as the flow
does: two UTC days of IBM rows (one a nanosecond before midnight), a prediction whose tick has no
feature row, and a row a recovery wrote twice (``FINAL`` keeps one).
"""

from __future__ import annotations

import math
from pathlib import Path

import chdb
import deltalake
import pandas as pd
import pytest
import pyarrow as pa
from typer.testing import CliRunner, Result

from dataflows.cli import app
from dataflows.config import environment_names
from dataflows.export import export_day
from operators.messages import Decision, FeatureRow, Prediction
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter

DAY_ONE = 1_381_276_800_000_000_000  # 2013-10-09 00:00 UTC
DAY_NS = 86_400 * 1_000_000_000
TIMES = [DAY_ONE + 48_600 * 10**9 + i for i in range(4)] + [DAY_ONE + DAY_NS - 1, DAY_ONE + DAY_NS + 5]


def tickwise(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={name: None for name in environment_names()})


def _rows(offsets: range, feature_set: str) -> list[object]:
    records: list[object] = []
    for offset in offsets:
        ts = TIMES[offset]
        warming = offset == 0
        records.append(FeatureRow("IBM", ts, 0, offset, 150.0 + offset, ("spread", "rsi"),
                                  (0.01 * offset, math.nan if warming else 50.0), feature_set, (0, 2 * warming)))
        records.append(Prediction(f"p{offset}", "IBM", ts, 0, offset, 150.0 + offset, "v1", 0.6, 1, 0.6, 0.01, "calm",
                                  0.3, {"trend": 0.7, "flow": 0.1 * offset}))
        records.append(Decision(f"s{offset}", "IBM", ts, 0, offset, "v1", 1, 10.0, 1_500.0, 150.0, 0.6, "calm",
                                offset % 2 == 0, "accepted" if offset % 2 == 0 else "low_confidence", "ACTIVE", 10.0))
    return records


def _write(state_dir: Path, records: list[object]) -> None:
    writer = ClickHouseWriter(ClickHouseSettings(f"chdb://{(state_dir / 'chdb').resolve()}"))
    writer.connect()
    writer.ensure_schema()
    writer.write(records)
    writer.close()


@pytest.fixture()
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two days of rows; the orphan prediction (offset 9) has no feature row. chDB reads files only under the
    working directory, so the test runs in its own."""
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state"
    orphan = Prediction("p9", "IBM", TIMES[1] + 7, 0, 9, 150.0, "v1", 0.4, -1, 0.6, 0.01, "calm", -0.3, {})
    _write(state, [*_rows(range(6), "fs-1"), orphan])
    _write(state, _rows(range(2, 3), "fs-1"))  # a recovery writes the same rows again
    return state


def _export(state_dir: Path, out: Path, *options: str) -> Result:
    result = tickwise("export", "--day", "2013-10-09", "--out", str(out), "--state-dir", str(state_dir), *options)
    assert result.exit_code == 0, result.output
    return result


def test_delta_export_twice_keeps_one_copy_and_round_trips(state_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    _export(state_dir, archive)
    _export(state_dir, archive)

    features = deltalake.DeltaTable(str(archive / "features")).to_pandas().sort_values("ts_ns")
    predictions = deltalake.DeltaTable(str(archive / "predictions")).to_pandas().sort_values("ts_ns")
    decisions = deltalake.DeltaTable(str(archive / "decisions")).to_pandas().sort_values("ts_ns")
    assert features["ts_ns"].tolist() == TIMES[:5] and set(features["day"]) == {"2013-10-09"}
    assert len(predictions) == 6 and len(decisions) == 5
    assert features["values"].iloc[3].tolist() == [0.03, 50.0] and math.isnan(features["values"].iloc[0][1])
    assert features["quality"].iloc[0].tolist() == [0, 2] and set(features["feature_set"]) == {"fs-1"}
    assert dict(predictions[predictions["prediction_id"] == "p1"]["specialists"].iloc[0]) == {"trend": 0.7,
                                                                                              "flow": 0.1}
    assert predictions.set_index("prediction_id")["feature_set"].isna().to_dict() == {
        "p0": False, "p1": False, "p9": True, "p2": False, "p3": False, "p4": False}
    assert decisions["reason"].tolist() == ["accepted", "low_confidence", "accepted", "low_confidence", "accepted"]
    assert decisions["offset"].tolist() == [0, 1, 2, 3, 4] and set(decisions["model_version"]) == {"v1"}
    assert features["exported_at"].notna().all() and features["inserted_at"].notna().all()
    connection = chdb.connect(":memory:")
    try:
        read = connection.query(f"SELECT day, count(), sum(offset) FROM deltaLakeLocal('{archive / 'features'}') "
                                "GROUP BY day", "CSV").bytes().decode()
    finally:
        connection.close()
    assert read.strip() == '"2013-10-09",5,10'


def test_re_export_replaces_the_day_with_what_clickhouse_now_holds_and_keeps_the_others(
        state_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    _export(state_dir, archive, "--day", "2013-10-10", "--tables", "features")
    _write(state_dir, [FeatureRow("IBM", TIMES[0] + 1, 0, 7, 151.0, ("spread",), (0.5,), "fs-2", (0,))])

    _export(state_dir, archive, "--tables", "features")

    features = deltalake.DeltaTable(str(archive / "features")).to_pandas()
    assert features.groupby("day")["ts_ns"].count().to_dict() == {"2013-10-09": 6, "2013-10-10": 1}
    assert set(features["feature_set"]) == {"fs-1", "fs-2"} and not (archive / "predictions").exists()


def test_parquet_export_twice_keeps_one_copy_readable_by_pandas_and_clickhouse(state_dir: Path,
                                                                               tmp_path: Path) -> None:
    archive = tmp_path / "parquet"
    _export(state_dir, archive, "--format", "parquet")
    _export(state_dir, archive, "--format", "parquet")

    decisions = pd.read_parquet(archive / "decisions")
    assert len(decisions) == 5 and decisions["day"].astype(str).unique().tolist() == ["2013-10-09"]
    assert [path.name for path in (archive / "decisions").iterdir()] == ["day=2013-10-09"]
    connection = chdb.connect(":memory:")
    try:
        read = connection.query(f"SELECT count(), sum(ts_ns - {DAY_ONE}) "
                                f"FROM file('{archive}/features/day=*/*.parquet', Parquet)", "CSV").bytes().decode()
    finally:
        connection.close()
    assert read.strip() == f"5,{sum(ts - DAY_ONE for ts in TIMES[:5])}"


class _ArrowClient:
    """Answers every query with the next of ``tables`` (a ClickHouse whose table gained a column in between)."""

    def __init__(self, *tables: pa.Table) -> None:
        self.tables = list(tables)

    def query_arrow(self, sql: str, parameters: dict[str, int]) -> pa.Table:
        return self.tables.pop(0)


def test_delta_export_when_a_later_day_has_a_new_column_then_the_archive_gains_it(tmp_path: Path) -> None:
    older = pa.table({"symbol": ["IBM"], "ts_ns": [TIMES[0]]})
    newer = pa.table({"symbol": ["IBM"], "ts_ns": [TIMES[5]], "risk_score": [0.25]})
    client = _ArrowClient(older, newer)
    exported_at = pd.Timestamp("2026-01-01", tz="UTC").to_pydatetime()

    for day in (pd.Timestamp("2013-10-09").date(), pd.Timestamp("2013-10-10").date()):
        export_day(client, "decisions", day, tmp_path, "delta", exported_at)

    archive = deltalake.DeltaTable(str(tmp_path / "decisions")).to_pandas().sort_values("ts_ns")
    assert archive["day"].tolist() == ["2013-10-09", "2013-10-10"]
    assert math.isnan(archive["risk_score"].iloc[0]) and archive["risk_score"].iloc[1] == 0.25


@pytest.mark.parametrize(("options", "phrase"), [
    (["--day", "2013-10-32"], "--day: expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, got '2013-10-32'"),
    (["--day", "2013-10-10..2013-10-09"], "whose first day is not after its last"),
    (["--day", "2013-10-09", "--tables", "features,fills"], "--tables: expected a comma-separated list of"),
    (["--day", "2013-10-09", "--format", "csv"], "--format: expected one of delta, parquet, got 'csv'"),
])
def test_export_when_options_are_bad_then_one_sentence_and_exit_2(tmp_path: Path, options: list[str],
                                                                   phrase: str) -> None:
    result = tickwise("export", "--out", str(tmp_path / "archive"), "--state-dir", str(tmp_path), *options)

    assert result.exit_code == 2, result.output
    assert phrase in " ".join(result.stderr.split()) and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "archive").exists()
