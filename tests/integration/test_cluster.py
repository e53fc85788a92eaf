"""A two-process Bytewax cluster gives the same signals and monitor events as one process.

Both runs go through ``tickwise run --until-eof`` (the CLI, real subprocesses) over the
same real ticks on separate topics and chDB directories. With chDB, ClickHouse writes are
routed to the one worker that owns the data directory.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pandas as pd
import pytest

from tests.integration.flowkit import cli_environment, create_topics, produce_real_day, read_topic, topic_settings

pytestmark = pytest.mark.integration

START = int(pd.Timestamp("2013-10-08 13:30", tz="UTC").value)
END = int(pd.Timestamp("2013-10-08 15:00", tz="UTC").value)


# Low drift levels so the 90 minutes hold feature alarms (opening and closing) to compare.
SENSITIVE_DRIFT = {"TICKWISE_DRIFT_OPEN_LEVEL": "3", "TICKWISE_DRIFT_CLOSE_LEVEL": "2", "TICKWISE_DRIFT_MIN_GAP_S": "0"}


def _run_cli(settings, processes: int, state_dir: Path) -> dict:
    env = cli_environment(settings, **SENSITIVE_DRIFT)
    result = subprocess.run(
        [sys.executable, "-m", "dataflows.cli", "run", "--until-eof", "--processes", str(processes),
         "--state-dir", str(state_dir)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return orjson.loads(result.stdout.strip().splitlines()[-1])


def _signal_ids(settings) -> set[str]:
    return {orjson.loads(message.value())["signal_id"]
            for message in read_topic(settings.kafka.bootstrap, settings.kafka.signals_topic)}


def _monitor_events(settings) -> list[tuple]:
    events = [orjson.loads(message.value()) for message in
              read_topic(settings.kafka.bootstrap, settings.kafka.model_events_topic)]
    return sorted((event["event_id"], event["kind"], event["feature"], event["ts_ns"], event["statistic"])
                  for event in events)


def test_two_processes_give_the_same_signal_ids_and_monitor_events_as_one(stack, market_data: Path, tmp_path: Path) -> None:
    runs = {}
    for processes in (1, 2):
        settings = topic_settings(stack, f"cluster{processes}{tmp_path.name[-6:]}",
                                  f"chdb://{tmp_path / f'chdb{processes}'}")
        create_topics(settings)
        produced = produce_real_day(settings, market_data, ["AIG", "BAC", "IBM", "SPY"], START, END)
        summary = _run_cli(settings, processes, tmp_path / f"state{processes}")
        assert summary["ticks_in"] == produced
        assert summary["processes"] == processes
        runs[processes] = (summary, _signal_ids(settings), _monitor_events(settings))
    one, two = runs[1], runs[2]
    assert len(one[1]) > 0
    assert one[1] == two[1]
    assert any(event[1] == "feature_investigation" for event in one[2])
    assert one[2] == two[2]
    for field in ("ticks_valid", "ticks_rejected", "features", "predictions", "signals_accepted", "signals_denied"):
        assert one[0][field] == two[0][field], field
