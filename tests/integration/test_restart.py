"""Restarts continue, never repeat: ``tickwise run`` keeps recovery on by default, on the real stack.

Real IBM and SPY ticks of 2013-10-09 go to a uuid topic in two slices. ``tickwise run --until-eof``
(the CLI in a subprocess, no ``--recovery-dir``) reads the first; the second slice is produced and
the same command runs again. The second run must resume where the first one's last snapshot left
off: its summary counts only the new ticks, and no signal or dead letter of the first slice is
published again. After each run the consumer group's committed offsets (read back from the
broker) are the ends of the partitions. ``--fresh`` starts over on purpose; Ctrl-C names the real
recovery directory and claims a resume only when a snapshot exists.
"""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson
import pandas as pd
import pytest
import redis
from confluent_kafka import Consumer, TopicPartition

from dataflows.config import Settings
from dataflows.stack import StackInfo
from tests.integration.faultkit import execution_count
from tests.integration.flowkit import (BAD_MESSAGES, cli_environment, create_topics, produce_real_day, read_topic,
                                       topic_settings)

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = ["IBM", "SPY"]
FIRST = (int(pd.Timestamp("2013-10-09 13:30", tz="UTC").value), int(pd.Timestamp("2013-10-09 13:35", tz="UTC").value))
SECOND = (FIRST[1], int(pd.Timestamp("2013-10-09 13:38", tz="UTC").value))
PARTITIONS = 4


def tickwise(env: dict[str, str], state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "dataflows.cli", *args, "--state-dir", str(state_dir)],
                            env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def summary_of(result: subprocess.CompletedProcess[str]) -> dict:
    return orjson.loads(result.stdout.strip().splitlines()[-1])


def committed_offsets(settings: Settings, group_id: str) -> dict[int, int]:
    """What ``kafka-consumer-groups --describe`` would show as the group's position, per partition."""
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": group_id})
    try:
        parts = consumer.committed([TopicPartition(settings.kafka.ticks_topic, p) for p in range(PARTITIONS)],
                                   timeout=10)
    finally:
        consumer.close()
    return {part.partition: part.offset for part in parts if part.offset >= 0}


def end_offsets(settings: Settings) -> dict[int, int]:
    """Each partition's end, from a full read (Tansu's metadata high-watermark can lag)."""
    ends: dict[int, int] = {}
    for message in read_topic(settings.kafka.bootstrap, settings.kafka.ticks_topic):
        ends[message.partition()] = max(ends.get(message.partition(), 0), message.offset() + 1)
    return ends


def published(settings: Settings) -> tuple[Counter[str], Counter[tuple[bytes, bytes]]]:
    """How often each signal id and each dead letter (by its source position) is on its topic."""
    signals = Counter(orjson.loads(message.value())["signal_id"]
                      for message in read_topic(settings.kafka.bootstrap, settings.kafka.signals_topic))
    dead_letters: Counter[tuple[bytes, bytes]] = Counter()
    for message in read_topic(settings.kafka.bootstrap, settings.kafka.dlq_topic):
        headers = dict(message.headers() or [])
        dead_letters[(headers["tickwise.source.partition"], headers["tickwise.source.offset"])] += 1
    return signals, dead_letters


@pytest.fixture(scope="module")
def restarted(stack: StackInfo, market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two runs of the same command over one topic, more ticks produced in between."""
    work = tmp_path_factory.mktemp("restart")
    settings = topic_settings(stack, f"restart{work.name[-6:]}", f"chdb://{work / 'chdb'}")
    group_id = f"{settings.kafka.ticks_topic}-group"
    env = cli_environment(settings, KAFKA_GROUP_ID=group_id)
    state = work / "state"
    create_topics(settings, PARTITIONS)
    first_produced = produce_real_day(settings, market_data, SYMBOLS, *FIRST, bad_messages=BAD_MESSAGES[:4])
    first = summary_of(tickwise(env, state, "run", "--until-eof"))
    first_ends, first_committed = end_offsets(settings), committed_offsets(settings, group_id)
    first_published = published(settings)
    second_produced = produce_real_day(settings, market_data, SYMBOLS, *SECOND, bad_messages=BAD_MESSAGES[4:])
    second = summary_of(tickwise(env, state, "run", "--until-eof"))
    return {"settings": settings, "env": env, "state": state, "group_id": group_id,
            "produced": (first_produced, second_produced), "summaries": (first, second),
            "ends": (first_ends, end_offsets(settings)),
            "committed": (first_committed, committed_offsets(settings, group_id)),
            "published": (first_published, published(settings))}


def test_run_when_no_recovery_dir_given_then_recovery_lives_under_the_state_dir_private(restarted: dict) -> None:
    recovery = restarted["state"] / "recovery"

    assert sorted(recovery.glob("part-*.sqlite3")), "no recovery store under the state dir"
    assert stat.S_IMODE(recovery.stat().st_mode) == 0o700


def test_run_twice_when_more_ticks_arrive_then_second_run_reads_only_the_new_ticks(restarted: dict) -> None:
    (first_produced, second_produced), (first, second) = restarted["produced"], restarted["summaries"]

    assert first["ticks_in"] == first_produced
    assert second["ticks_in"] == second_produced, "the restart read ticks the first run had already processed"
    assert second["ticks_rejected"] >= len(BAD_MESSAGES[4:])


def test_run_twice_then_no_signal_and_no_dead_letter_is_published_again(restarted: dict) -> None:
    (first_signals, first_letters), (signals, letters) = restarted["published"]
    first, second = restarted["summaries"]

    assert sum(first_signals.values()) > 0, "the first slice gave no signal: the check would be vacuous"
    assert sum(first_letters.values()) == first["ticks_rejected"] >= len(BAD_MESSAGES[:4])
    assert [signal_id for signal_id, count in signals.items() if count > 1] == []
    assert [position for position, count in letters.items() if count > 1] == []
    assert set(first_signals) <= set(signals)
    assert sum(letters.values()) == first["ticks_rejected"] + second["ticks_rejected"]


def test_run_when_bounded_then_consumer_group_commits_the_ends_of_the_partitions(restarted: dict) -> None:
    (first_ends, second_ends), (first_committed, second_committed) = restarted["ends"], restarted["committed"]

    assert first_committed == first_ends
    assert second_committed == second_ends and second_ends != first_ends


def test_run_fresh_when_recovery_dir_is_not_ours_then_refused_and_left_alone(restarted: dict, tmp_path: Path) -> None:
    foreign = tmp_path / "not-recovery"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")

    result = subprocess.run([sys.executable, "-m", "dataflows.cli", "run", "--until-eof", "--fresh", "--recovery-dir",
                             str(foreign), "--state-dir", str(tmp_path / "state")], env=restarted["env"],
                            capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)

    assert result.returncode == 2
    assert "notes.txt" in result.stderr and "did not write" in result.stderr
    assert (foreign / "notes.txt").read_text() == "mine" and not list(tmp_path.glob("not-recovery.replaced-*"))


def test_run_when_recovery_dir_holds_another_topic_then_refused(restarted: dict, stack: StackInfo,
                                                                tmp_path: Path) -> None:
    other = topic_settings(stack, f"other{tmp_path.name[-6:]}", f"chdb://{tmp_path / 'chdb'}")
    create_topics(other, PARTITIONS)

    result = subprocess.run([sys.executable, "-m", "dataflows.cli", "run", "--until-eof", "--state-dir",
                             str(restarted["state"])], env=cli_environment(other), capture_output=True, text=True,
                            timeout=120, cwd=REPO_ROOT)

    assert result.returncode == 2
    assert repr(restarted["settings"].kafka.ticks_topic) in result.stderr and "--fresh" in result.stderr


# --- Ctrl-C ----------------------------------------------------------------------------------------


def interrupt(env: dict[str, str], state: Path, started: Callable[[], bool], *args: str) -> str:
    """Start ``tickwise run`` (unbounded), wait for ``started()``, press Ctrl-C; what it printed."""
    process = subprocess.Popen([sys.executable, "-m", "dataflows.cli", "run", "--state-dir", str(state), *args],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
                               # A test runner started in the background ignores SIGINT; children inherit that.
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not started():
            assert process.poll() is None, process.stdout.read().decode(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the flow did not start"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, output.decode(errors="replace")[-3000:]
    return " ".join(output.decode(errors="replace").split())


def test_ctrl_c_when_a_snapshot_exists_then_names_the_default_recovery_dir_and_the_resume(restarted: dict) -> None:
    state = restarted["state"]
    recovery = state / "recovery"
    seen = execution_count(recovery)

    output = interrupt(restarted["env"], state, lambda: execution_count(recovery) > seen)

    assert f"resume from the last snapshot in {recovery}" in output
    assert "nothing to resume" not in output


def test_run_fresh_then_old_recovery_dir_moved_aside_topic_read_again_and_ctrl_c_claims_no_resume(
        restarted: dict) -> None:
    """Starting over on purpose, stopped before its first snapshot: nothing to resume is claimed."""
    state = restarted["state"]
    before = sorted(path.name for path in (state / "recovery").iterdir())
    prefix = f"{restarted['settings'].redis.key_prefix}fresh:"
    env = {**restarted["env"], "TICKWISE_REDIS_KEY_PREFIX": prefix}
    client = redis.Redis.from_url(restarted["settings"].redis.url.get_secret_value())

    # Every tick was processed already: only a run that reads the topic again writes features.
    output = interrupt(env, state, lambda: bool(client.exists(f"{prefix}IBM")), "--fresh", "--snapshot-interval", "3600")

    [moved] = state.glob("recovery.replaced-*")
    assert sorted(path.name for path in moved.iterdir()) == before
    assert f"moved the old recovery dir to {moved}" in output
    assert f"interrupted before the first snapshot in {state / 'recovery'}" in output
    assert "resume from the last snapshot" not in output
    assert committed_offsets(restarted["settings"], restarted["group_id"]) == restarted["ends"][1]
