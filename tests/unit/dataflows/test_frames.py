"""Specifications of the notebook API (``dataflows.frames``) on the output of a small real run: the live
flow over the shipped IBM sample's first 20 minutes after the open (plumbing model) into chDB, and a
backtest of the same ticks. The run happens in a child process, so this process opens chDB only to read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dataflows.frames import History, load_backtest

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "data" / "sample"
PLUMBING_MODEL = REPO / "tests" / "models" / "plumbing"
START = pd.Timestamp("2013-10-09 13:25", tz="UTC")  # five minutes before the open: those ticks are stored only
END = pd.Timestamp("2013-10-09 13:50", tz="UTC")

RUN = """
import sys
from pathlib import Path
from bytewax.testing import run_main
from dataflows.backtest import file_source, run_backtest
from dataflows.components import build_components
from dataflows.config import load_settings
from dataflows.outputs import Outputs
from dataflows.signals import build_flow
from dataflows.tickfiles import read_tick_frame
from sinks.clickhouse import ClickHouseSettings, ClickHouseSink
from sinks.metrics import MetricsRegistry

sample, model, chdb, out, start, end = sys.argv[1:]
frame = read_tick_frame(sorted(Path(sample).glob("*.csv.gz")), ["IBM"], int(start), int(end))
settings = load_settings(model={"spec": model}, clickhouse={"url": f"chdb://{chdb}"}, run={"until_eof": True},
                         metrics={"port": 0}, risk={"symbols": "IBM"})
components = build_components(settings, registry=MetricsRegistry())
run_main(build_flow(components, file_source(frame), Outputs(
    clickhouse=ClickHouseSink(ClickHouseSettings(f"chdb://{chdb}")), redis=None, signals=None, dead_letters=None,
    model_events=None)))
run_backtest(build_components(settings, registry=MetricsRegistry()), Path(out), frame=frame, render=False)
print(len(frame))
"""


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("frames")
    chdb, out = work / "state" / "chdb", work / "backtest"
    done = subprocess.run([sys.executable, "-c", RUN, str(SAMPLE), str(PLUMBING_MODEL), str(chdb), str(out),
                           str(START.value), str(END.value)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"state_dir": work / "state", "out": out, "ticks": int(done.stdout.split()[-1])}


@pytest.fixture(scope="module")
def history(real_run: dict[str, object]) -> History:
    with History.open(real_run["state_dir"]) as opened:  # type: ignore[arg-type]
        yield opened


def is_utc_event_time(frame: pd.DataFrame) -> bool:
    index = frame.index
    return (isinstance(index, pd.DatetimeIndex) and str(index.tz) == "UTC" and index.name == "ts"
            and index.is_monotonic_increasing)


def test_ticks_when_read_then_every_tick_of_the_run_indexed_by_utc_event_time(history: History,
                                                                               real_run: dict[str, object]) -> None:
    ticks, rejects = history.ticks(), history.table("rejects")

    assert len(ticks) + len(rejects) == real_run["ticks"] and len(ticks) > 1_000
    assert is_utc_event_time(ticks)
    assert START <= ticks.index[0] < pd.Timestamp("2013-10-09 13:30", tz="UTC") and ticks.index[-1] < END
    assert set(ticks["type"]) == {"trade", "quote"} and "id" not in ticks.columns


def test_features_when_read_then_one_float_column_per_feature_and_none_before_the_open(history: History) -> None:
    features = history.features("IBM")

    assert is_utc_event_time(features) and len(features) > 100
    assert features.index[0] >= pd.Timestamp("2013-10-09 13:30", tz="UTC")  # the session filter held the rest
    assert {"spread_bps", "rsi_1m"} <= set(features.columns)
    assert features["spread_bps"].dtype == float and features["spread_bps"].notna().any()
    assert not {"names", "values", "quality"} & set(features.columns)


def test_features_when_time_range_then_rows_in_start_inclusive_end_exclusive(history: History) -> None:
    everything = history.features()
    start, end = everything.index[10], everything.index[50]

    window = history.features(start=start, end=end.tz_convert(None))  # a naive time is UTC

    assert window.index.min() == start and window.index.max() < end
    assert len(window) == ((everything.index >= start) & (everything.index < end)).sum()


def test_predictions_and_decisions_when_read_then_one_decision_per_prediction_joined_by_id(history: History) -> None:
    predictions, decisions, signals = history.predictions(), history.decisions(), history.signals()

    assert is_utc_event_time(predictions) and is_utc_event_time(decisions)
    assert len(predictions) == len(decisions) > 0
    assert set(decisions["signal_id"]) >= set(signals["signal_id"])
    assert signals["accepted"].all() and predictions["p_up"].between(0, 1).all()
    assert history.decisions("AIG").empty


def test_table_when_unknown_name_then_value_error_naming_the_tables(history: History) -> None:
    with pytest.raises(ValueError, match="expected one of the tables ticks, features"):
        history.table("trades")


def test_open_when_state_dir_has_no_history_then_file_not_found_saying_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="tickwise demo"):
        History.open(tmp_path)


def test_load_backtest_when_read_then_frames_agree_with_the_summary(real_run: dict[str, object]) -> None:
    backtest = load_backtest(real_run["out"])  # type: ignore[arg-type]

    assert backtest.summary["decisions"] == len(backtest.decisions) > 0
    assert backtest.summary["signals"] == len(backtest.signals) and backtest.summary["fills"] == len(backtest.fills)
    for frame in (backtest.decisions, backtest.signals, backtest.equity):
        assert is_utc_event_time(frame)
    assert (backtest.equity.index.second == 0).all() and backtest.equity.index.is_unique
    summary = backtest.summary
    assert backtest.equity["equity"].iloc[-1] == pytest.approx(summary["capital"] + summary["net_pnl"])
    if len(backtest.fills):
        assert (backtest.fills.index >= backtest.fills["signal_ts"]).all()


def test_load_backtest_when_no_summary_then_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="summary.json"):
        load_backtest(tmp_path)
