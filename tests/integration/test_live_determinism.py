"""A live run decides exactly what a bounded run of the same offsets decides (issue 13, item 5).

The live flow (not until-eof) runs as one ``python -m bytewax.run`` process on uuid topics of the
real embedded stack (Tansu, Redis, chDB), fed real ticks of 2013-10-09 in the ways arrival timing
varies: a backlog already in the topic at start, ticks produced while the flow runs, and two
partitions delivered at very different paces. The risk universe also names a symbol that never
trades, which the live run must stop waiting for (idleness, a couple of seconds here). Then the
same topic is run to its end (``until_eof``): every decision of the slice, accepted or denied
with its reason, size and trading state, must be the same in both runs; accepted signal ids too.

The live flow decides a row only once every flowing symbol has passed it, so a closing minute of
ticks follows the slice and only decisions of the slice itself are compared.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson
import pandas as pd
import pytest
from confluent_kafka import Producer

from dataflows.config import Settings, environment_variables, load_settings
from dataflows.runner import init_recovery_dir
from dataflows.stack import StackInfo, free_port
from dataflows.tickfiles import encode_ticks, read_tick_frame
from sinks.kafka import KafkaSettings, ensure_topics
from tests.integration.flowkit import create_topics, metrics_text, read_topic, stop_flow

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
OPEN = pd.Timestamp("2013-10-09 13:30", tz="UTC")
IDLE_AFTER_S = 4.0
_TICKS = re.compile(r'^tickwise_ticks_total\{outcome="\w+"\} ([0-9.e+]+)$', re.MULTILINE)
_DECIDED = re.compile(r'^tickwise_signals_total\{decision="\w+",reason="\w+"\} ([0-9.e+]+)$', re.MULTILINE)
Decisions = dict[str, tuple]


def _ns(minutes: float) -> int:
    return int((OPEN + pd.Timedelta(minutes=minutes)).value)


def _settings(stack: StackInfo, prefix: str, work: Path, port: int, until_eof: bool) -> Settings:
    return load_settings(
        kafka={"bootstrap": stack.kafka_bootstrap, "ticks_topic": f"{prefix}.ticks",
               "signals_topic": f"{prefix}.signals.{'bounded' if until_eof else 'live'}",
               "dlq_topic": f"{prefix}.ticks.dlq", "model_events_topic": f"{prefix}.model-events",
               "control_topic": f"{prefix}.control"},
        redis={"url": stack.redis_url, "key_prefix": f"{prefix}:{until_eof}:features:"},
        clickhouse={"url": f"chdb://{work / ('bounded' if until_eof else 'live') / 'chdb'}"},
        run={"until_eof": until_eof, "state_dir": work / ("bounded" if until_eof else "live")},
        metrics={"port": port}, source={"batch_size": 500},
        # AIG never trades in these topics: the live run stops waiting for it after IDLE_AFTER_S.
        risk={"symbols": "AIG,IBM,SPY", "idle_after_s": IDLE_AFTER_S},
    )


@pytest.fixture(scope="module")
def tape(market_data: Path) -> pd.DataFrame:
    """IBM's and SPY's real ticks of the first 36 minutes of 2013-10-09 (read once: the files are large)."""
    return read_tick_frame([market_data / "trades.csv.gz", market_data / "quotes.csv.gz"], ["IBM", "SPY"], _ns(0),
                           _ns(36))


def _produce(settings: Settings, tape: pd.DataFrame, symbol: str, start_min: float, end_min: float,
             partition: int) -> int:
    """``symbol``'s ticks of ``[start_min, end_min)`` to one partition of the ticks topic, in tape order."""
    frame = tape[(tape["symbol"] == symbol) & (tape["ts_ns"] >= _ns(start_min)) & (tape["ts_ns"] < _ns(end_min))]
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap, "linger.ms": 5, "acks": "all"})
    count = 0
    for key, value in encode_ticks(frame):
        producer.produce(settings.kafka.ticks_topic, value=value, key=key, partition=partition)
        count += 1
        if count % 5_000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0, "every tick must be delivered"
    return count


def _trickle(settings: Settings, tape: pd.DataFrame, symbol: str, minutes: range, partition: int) -> int:
    """Produce ``symbol``'s ``minutes`` one at a time, 0.3 s apart, while the live flow runs; the ticks sent."""
    count = 0
    for minute in minutes:
        count += _produce(settings, tape, symbol, minute, minute + 1, partition=partition)
        time.sleep(0.3)
    return count


def _progress(port: int) -> tuple[int, int]:
    """(ticks read, decisions made) so far, from the flow's /metrics (zeros while it starts)."""
    text = metrics_text(port)
    return (sum(int(float(value)) for value in _TICKS.findall(text)),
            sum(int(float(value)) for value in _DECIDED.findall(text)))


def _start(settings: Settings, work: Path) -> tuple[subprocess.Popen, object]:
    """The live flow as ``tickwise run`` starts it: recovery on, a snapshot (and epoch) every 10 s."""
    recovery = work / "recovery"
    init_recovery_dir(recovery, 1)
    log = open(work / "live.log", "wb")  # noqa: SIM115 - closed by the caller
    process = subprocess.Popen(
        [sys.executable, "-m", "bytewax.run", "dataflows.signals:flow()", "-r", str(recovery), "-s", "10", "-b", "0"],
        cwd=REPO_ROOT,
        env={**os.environ, **environment_variables(settings)}, stdout=log, stderr=subprocess.STDOUT,
        # A test runner started in the background ignores SIGINT, and children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    return process, log


def _wait_until_settled(process: subprocess.Popen, port: int, produced: int, timeout_s: float) -> None:
    """Wait until the live flow has read ``produced`` ticks and its decision count held still for
    longer than the idleness (so an idle symbol's release has happened)."""
    deadline = time.monotonic() + timeout_s
    last, since = (-1, -1), time.monotonic()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the live flow exited with code {process.returncode}")
        now = _progress(port)
        if now != last or now[0] < produced:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= IDLE_AFTER_S + 1.5:
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {produced} ticks and settled decisions: "
                         f"{_progress(port)}")


def _run_live(settings: Settings, work: Path, produced: int, trickle: Callable[[], int]) -> None:
    """Start the live flow on the topic's backlog, run ``trickle`` (more ticks) once it reads, let it settle."""
    process, log = _start(settings, work)
    try:
        deadline = time.monotonic() + 60
        while _progress(settings.metrics.port)[0] == 0 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        produced += trickle()
        _wait_until_settled(process, settings.metrics.port, produced, timeout_s=60)
    finally:
        stop_flow(process)
        log.close()


def _run_bounded(settings: Settings, work: Path) -> None:
    with open(work / "bounded.log", "wb") as log:
        result = subprocess.run([sys.executable, "-m", "bytewax.run", "dataflows.signals:flow()"], cwd=REPO_ROOT,
                                env={**os.environ, **environment_variables(settings)}, stdout=log,
                                stderr=subprocess.STDOUT, timeout=120)
    assert result.returncode == 0, (work / "bounded.log").read_text()[-3000:]


def _decisions(settings: Settings, before_ns: int) -> Decisions:
    """Every decision of predictions before ``before_ns`` by signal id, read in a fresh process (one chDB
    per process): (symbol, ts_ns, accepted, reason, size, trading_state, position_after)."""
    script = ("import sys, orjson\n"
              "from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter\n"
              "client = ClickHouseWriter(ClickHouseSettings(url=sys.argv[1])).connect()\n"
              "rows = client.query('SELECT signal_id, symbol, ts_ns, accepted, reason, size, trading_state, "
              "position_after FROM risk_decisions FINAL WHERE ts_ns < %d' % int(sys.argv[2])).result_rows\n"
              "sys.stdout.buffer.write(orjson.dumps([list(row) for row in rows]))\n")
    result = subprocess.run([sys.executable, "-c", script, settings.clickhouse.url.get_secret_value(), str(before_ns)],
                            capture_output=True, cwd=REPO_ROOT, timeout=60, check=True)
    return {row[0]: tuple(row[1:]) for row in orjson.loads(result.stdout)}


def _signal_ids(settings: Settings, before_ns: int) -> set[str]:
    """The ids of the signals published on the run's signals topic, for predictions before ``before_ns``."""
    messages = [orjson.loads(message.value()) for message in read_topic(settings.kafka.bootstrap,
                                                                       settings.kafka.signals_topic)]
    return {signal["signal_id"] for signal in messages if signal["ts_ns"] < before_ns}


def _assert_same_decisions(live: Settings, bounded: Settings, before_ns: int) -> None:
    live_decisions, bounded_decisions = _decisions(live, before_ns), _decisions(bounded, before_ns)
    reasons = Counter(reason for _symbol, _ts, _accepted, reason, *_ in bounded_decisions.values())
    stale = sum(1 for _symbol, _ts, _accepted, reason, *_ in live_decisions.values() if reason == "stale_prediction")
    assert len(bounded_decisions) > 300, f"the slice must give hundreds of decisions, got {len(bounded_decisions)}"
    assert reasons["accepted"] > 0, f"the bounded run must accept signals: {dict(reasons)}"
    assert stale == 0, f"{stale} of {len(live_decisions)} live decisions were stale_prediction"
    assert set(live_decisions) == set(bounded_decisions), (
        f"{len(set(live_decisions) - set(bounded_decisions))} decisions only live, "
        f"{len(set(bounded_decisions) - set(live_decisions))} only bounded")
    differing = [(signal_id, decision, bounded_decisions[signal_id]) for signal_id, decision in live_decisions.items()
                 if decision != bounded_decisions[signal_id]]
    assert not differing, f"{len(differing)} decisions differ (live, bounded), first: {differing[:3]}"
    accepted = {signal_id for signal_id, (_symbol, _ts, ok, *_) in bounded_decisions.items() if ok}
    assert _signal_ids(live, before_ns) == accepted == _signal_ids(bounded, before_ns)


@pytest.fixture()
def runs(stack: StackInfo, topic_prefix: str, tmp_path: Path) -> tuple[Settings, Settings]:
    live = _settings(stack, topic_prefix, tmp_path, free_port(), until_eof=False)
    ensure_topics(KafkaSettings(bootstrap=live.kafka.bootstrap, idempotence=False), [live.kafka.control_topic], 1)
    # Its own signals topic, Redis keys, ClickHouse and state: nothing of the live run is reused.
    return live, _settings(stack, topic_prefix, tmp_path, 0, until_eof=True)


def test_live_run_on_a_backlog_then_a_trickle_when_a_universe_symbol_never_trades_then_decides_as_bounded(
        runs: tuple[Settings, Settings], tape: pd.DataFrame, tmp_path: Path) -> None:
    """One partition of IBM: 25 minutes in the topic before the flow starts (the backlog that made
    the old event-time lateness release predictions minutes late, as stale_prediction), then ten
    one-minute slices while it runs, then the closing minute."""
    live, bounded = runs
    create_topics(live, partitions=1)
    produced = _produce(live, tape, "IBM", 0, 25, partition=0)
    _run_live(live, tmp_path, produced, lambda: _trickle(live, tape, "IBM", range(25, 36), partition=0))
    _run_bounded(bounded, tmp_path)
    _assert_same_decisions(live, bounded, _ns(35))


def test_live_run_when_two_partitions_are_read_at_different_paces_then_decides_as_bounded(
        runs: tuple[Settings, Settings], tape: pd.DataFrame, tmp_path: Path) -> None:
    """IBM's partition holds its whole slice at start and is read at full speed; SPY's partition holds
    two minutes and gets one more minute every 0.3 s while the flow runs. IBM runs minutes ahead
    in event time, ends, and turns idle while SPY still trickles in."""
    live, bounded = runs
    create_topics(live, partitions=2)
    produced = _produce(live, tape, "IBM", 0, 13, partition=0)
    produced += _produce(live, tape, "SPY", 0, 2, partition=1)
    _run_live(live, tmp_path, produced, lambda: _trickle(live, tape, "SPY", range(2, 13), partition=1))
    _run_bounded(bounded, tmp_path)
    _assert_same_decisions(live, bounded, _ns(12))
