"""The kill switch on the real embedded stack: a ``halt`` on the control topic stops trading at once.

The live flow (not until-eof) runs as one ``python -m bytewax.run`` process on uuid topics
(Tansu, Redis, chDB) with the IBM universe. Real IBM ticks of 2013-10-09 go in, in three
ten-minute slices:

1. before: the flow accepts signals;
2. ``{"command": "halt"}`` on the control topic, then the next slice: every decision released
   after the command is denied with reason ``halted`` (the risk step applies a command as soon
   as it arrives, so HALTED holds from the next batch on);
3. ``{"command": "resume"}``, then the last slice: signals are accepted again.

Live counters (``tickwise_signals_total``) show what was decided between the commands;
ClickHouse ``risk_decisions`` (read after the process stopped) shows it per prediction. The
last second or two of a slice are decided only when the next slice's ticks push the event-time
watermark past them, so the per-prediction checks leave a few seconds at each slice's end out.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from dataflows.config import Settings, environment_variables
from dataflows.produce import produce_messages
from dataflows.stack import free_port
from sinks.kafka import KafkaSettings, ensure_topics
from tests.integration.flowkit import create_topics, live_settings, metrics_text, produce_real_day, stop_flow

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
OPEN = pd.Timestamp("2013-10-09 13:30", tz="UTC")
BEFORE, HALTED, RESUMED = ((int((OPEN + pd.Timedelta(minutes=m)).value),
                            int((OPEN + pd.Timedelta(minutes=m + 10)).value)) for m in (0, 10, 20))
TAIL_NS = 5 * 1_000_000_000
_DECISIONS = re.compile(r'^tickwise_signals_total\{decision="(\w+)",reason="(\w+)"\} ([0-9.e+]+)$', re.MULTILINE)
_TICKS = re.compile(r'^tickwise_ticks_total\{outcome="\w+"\} ([0-9.e+]+)$', re.MULTILINE)


def _metrics(port: int) -> tuple[int, Counter]:
    """(ticks read, decisions by reason) so far, from the flow's /metrics (nothing while it starts)."""
    text = metrics_text(port)
    ticks = sum(int(float(value)) for value in _TICKS.findall(text))
    return ticks, Counter({reason: int(float(value)) for _decision, reason, value in _DECISIONS.findall(text)})


def _wait_until_settled(process: subprocess.Popen, port: int, produced: int, timeout_s: float) -> Counter:
    """Wait until the flow has read all ``produced`` ticks and its decisions held still for 1.5 s."""
    deadline = time.monotonic() + timeout_s
    last, since = Counter(), time.monotonic()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the flow exited with code {process.returncode}")
        ticks, now = _metrics(port)
        if now != last or ticks < produced:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 1.5:
            return now
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {produced} ticks and settled decisions: "
                         f"{_metrics(port)}")


def _command(settings: Settings, command: str) -> None:
    produce_messages(settings.kafka.bootstrap, settings.kafka.control_topic,
                     [(b"desk", f'{{"command": "{command}", "reason": "kill-switch test"}}'.encode())])


def _risk_decisions(settings: Settings) -> list[tuple[int, str, bool, str]]:
    """(ts_ns, reason, accepted, trading_state) of every decision, read in a fresh process (one chDB per process)."""
    script = ("import sys, orjson\n"
              "from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter\n"
              "client = ClickHouseWriter(ClickHouseSettings(url=sys.argv[1])).connect()\n"
              "rows = client.query('SELECT ts_ns, reason, accepted, trading_state FROM risk_decisions FINAL "
              "ORDER BY ts_ns, offset').result_rows\n"
              "sys.stdout.buffer.write(orjson.dumps([list(row) for row in rows]))\n")
    result = subprocess.run([sys.executable, "-c", script, settings.clickhouse.url.get_secret_value()],
                            capture_output=True, cwd=REPO_ROOT, timeout=60, check=True)
    import orjson

    return [tuple(row) for row in orjson.loads(result.stdout)]  # type: ignore[misc]


def test_halt_on_the_control_topic_then_every_later_decision_is_denied_until_resume(
        stack, market_data: Path, topic_prefix: str, tmp_path: Path) -> None:
    started = time.monotonic()
    port = free_port()
    settings = live_settings(
        stack, topic_prefix, tmp_path, port, kafka={"control_topic": f"{topic_prefix}.control"},
        # Position and exposure limits wide enough that the model's one-sided run cannot fill them: this test is
        # about the trading state, and a full position would deny every later signal anyway. For the same reason
        # the drawdown never switches the state (REDUCING, HALTED): here only the kill switch does.
        risk={"symbols": "IBM", "max_position_shares": 1e9, "max_position_notional": 1e12, "max_gross_exposure": 1e12,
              "max_net_exposure": 1e12, "max_var": 1e12, "reduce_drawdown": 1.0, "halt_drawdown": 1.0},
    )
    create_topics(settings, partitions=1)
    ensure_topics(KafkaSettings(bootstrap=settings.kafka.bootstrap, idempotence=False), [settings.kafka.control_topic], 1)

    log = open(tmp_path / "flow.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "bytewax.run", "dataflows.signals:flow()"], cwd=REPO_ROOT,
        env={**os.environ, **environment_variables(settings)}, stdout=log, stderr=subprocess.STDOUT,
        # A test runner started in the background ignores SIGINT, and children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        produced = produce_real_day(settings, market_data, ["IBM"], *BEFORE)
        before = _wait_until_settled(process, port, produced, timeout_s=45)
        assert before["accepted"] > 0, f"the flow must accept signals before the halt: {dict(before)}"

        _command(settings, "halt")
        time.sleep(2.0)  # the control source is polled every batch; far less than this
        produced += produce_real_day(settings, market_data, ["IBM"], *HALTED)
        halted = _wait_until_settled(process, port, produced, timeout_s=30)
        during = halted - before
        assert during["halted"] > 100, dict(during)
        assert set(during) == {"halted"}, f"every decision after the halt must be denied as halted: {dict(during)}"

        _command(settings, "resume")
        time.sleep(2.0)
        produced += produce_real_day(settings, market_data, ["IBM"], *RESUMED)
        resumed = _wait_until_settled(process, port, produced, timeout_s=30)
        after = resumed - halted
        assert after["accepted"] > 0 and after["halted"] == 0, dict(after)
        assert process.poll() is None, "the same live process must still be running"
    finally:
        stop_flow(process)
        log.close()

    rows = _risk_decisions(settings)
    in_slice = {name: [row for row in rows if start <= row[0] < end - TAIL_NS]
                for name, (start, end) in (("before", BEFORE), ("halted", HALTED), ("resumed", RESUMED))}
    assert any(accepted for _ts, _reason, accepted, _state in in_slice["before"])
    assert in_slice["halted"], "decisions of the halted slice must be in risk_decisions"
    assert {(reason, accepted, state) for _ts, reason, accepted, state in in_slice["halted"]} \
        == {("halted", False, "HALTED")}
    resumed_rows = [row for row in in_slice["resumed"] if row[0] >= RESUMED[0] + TAIL_NS]
    assert all(reason != "halted" for _ts, reason, _accepted, _state in resumed_rows)
    assert any(accepted for _ts, _reason, accepted, _state in resumed_rows)
    assert time.monotonic() - started < 90.0, f"the kill-switch test took {time.monotonic() - started:.0f} s"
