"""Sink failures on real components: the cause is named and the run ends within seconds.

Each test runs ``tickwise run --until-eof`` (the CLI in a subprocess, a real Bytewax process) over
real IBM ticks of 2013-10-09 and breaks one real component: chDB on a full tmpfs, chDB on a
read-only mount, a ClickHouse HTTP URL whose port is closed. The run must exit non-zero within a
bound (a disk-full chDB write used to hang the worker for about five minutes before Bytewax aborted
it) and its error must name the cause as the sink logged it. The Redis server killed mid-run is the
exception: the online store is retried with backoff while signals go on, and the run ends normally.

The tmpfs and the read-only mount live in a user and mount namespace of the run's own
(``unshare --user --map-root-user --mount``): a real filesystem without root.
"""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

import pandas as pd
import pytest
import redis

from dataflows.config import Settings
from dataflows.stack import StackInfo, free_port, redis_binary
from sinks.redis_store import read_features
from tests.integration.faultkit import clickhouse
from tests.integration.flowkit import (cli_environment, create_topics, metrics_text, produce_real_day, read_topic,
                                      topic_settings)

pytestmark = [pytest.mark.integration, pytest.mark.fault]

REPO_ROOT = Path(__file__).resolve().parents[2]
START = int(pd.Timestamp("2013-10-09 08:00", tz="UTC").value)
END = int(pd.Timestamp("2013-10-09 15:30", tz="UTC").value)
# From the fault to the exit of the run (the old code: about 300 s, then an abort).
EXIT_BOUND_S = 30.0
# From the start of the run to its exit when the fault is there from the start (imports, model load).
RUN_BOUND_S = 60.0


def _namespaces_work() -> bool:
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_namespaces = pytest.mark.skipif(not _namespaces_work(), reason=(
    "needs unprivileged user and mount namespaces (unshare --user --map-root-user --mount) for a private tmpfs"))


@pytest.fixture(scope="module")
def ticks_topic(stack: StackInfo, market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Real ticks on a topic of this module's own; every test writes to outputs of its own."""
    settings = topic_settings(stack, f"sinkfail{tmp_path_factory.mktemp('t').name[-6:]}", "chdb:///unused")
    create_topics(settings)
    assert produce_real_day(settings, market_data, ["IBM"], START, END) > 10_000
    return settings.kafka.ticks_topic


def run_settings(stack: StackInfo, ticks_topic: str, tmp_path: Path, name: str, clickhouse_url: str,
                 redis_url: str | None = None) -> Settings:
    settings = topic_settings(stack, f"{name}{tmp_path.name[-6:]}", clickhouse_url)
    create_topics(settings)
    settings = settings.replace(kafka={"ticks_topic": ticks_topic})
    return settings.replace(redis={"url": redis_url}) if redis_url else settings


def start_run(settings: Settings, state_dir: Path, prefix: list[str] | None = None,
              source_batch: int = 5000, **variables: str) -> subprocess.Popen[str]:
    state_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "dataflows.cli", "run", "--until-eof", "--state-dir", str(state_dir)]
    env = cli_environment(settings, TICKWISE_SOURCE_BATCH_SIZE=str(source_batch), **variables)
    return subprocess.Popen([*(prefix or []), *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=REPO_ROOT)


def wait_for_exit(run: subprocess.Popen[str], bound_s: float, state_dir: Path) -> tuple[int, str, float]:
    """The exit code, the output and the seconds it took; fails if the run outlives ``bound_s``."""
    began = time.monotonic()
    try:
        output, _ = run.communicate(timeout=bound_s)
    except subprocess.TimeoutExpired:
        run.kill()
        output, _ = run.communicate()
        log = (state_dir / "logs" / "worker-0.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"the run did not end within {bound_s} s:\n{output[-2000:]}\n{log}") from None
    return run.returncode, output, time.monotonic() - began


def in_private_mount(mount_point: Path, setup: str) -> list[str]:
    """A command prefix: run in a user and mount namespace where ``setup`` (shell) has prepared ``mount_point``."""
    mount_point.mkdir(parents=True, exist_ok=True)
    script = f"{setup} && exec \"$@\""
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "in-private-mount"]


def one_line(output: str) -> str:
    """The CLI's error sentence (Rich may wrap it over several lines)."""
    return " ".join(output.split())


@needs_namespaces
def test_disk_full_during_a_chdb_write_then_the_error_names_enospc_and_the_run_ends_within_seconds(
        stack: StackInfo, ticks_topic: str, tmp_path: Path) -> None:
    mount_point = tmp_path / "small"
    settings = run_settings(stack, ticks_topic, tmp_path, "full", f"chdb://{mount_point / 'chdb'}")
    # 3 MiB: the tables are created, then the first big insert of ticks fills the disk.
    setup = f"mount -t tmpfs -o size=3m tmpfs {shlex.quote(str(mount_point))}"
    run = start_run(settings, tmp_path / "state", in_private_mount(mount_point, setup))

    code, output, took = wait_for_exit(run, RUN_BOUND_S, tmp_path / "state")

    message = one_line(output)
    assert code != 0, output[-2000:]
    assert re.search(r"process 0 exited: ClickHouse INSERT of \d+ rows into '\w+' failed: \[Errno 28\] No space "
                     r"left on device", message), output[-2000:]
    assert f"chdb://{mount_point / 'chdb'}" in message
    worker_log = (tmp_path / "state" / "logs" / "worker-0.log").read_text(errors="replace")
    assert "panic in a destructor" not in worker_log
    print(f"disk full: the run ended {took:.1f} s after it started")


@needs_namespaces
def test_chdb_on_read_only_storage_then_the_error_names_erofs_and_the_run_ends_within_seconds(
        stack: StackInfo, ticks_topic: str, tmp_path: Path) -> None:
    mount_point = tmp_path / "readonly"
    settings = run_settings(stack, ticks_topic, tmp_path, "ro", f"chdb://{mount_point / 'chdb'}")
    where = shlex.quote(str(mount_point))
    setup = (f"mount -t tmpfs -o size=64m tmpfs {where} && mkdir -m 700 {where}/chdb && "
             f"mount -o remount,ro {where}")
    run = start_run(settings, tmp_path / "state", in_private_mount(mount_point, setup))

    code, output, _ = wait_for_exit(run, RUN_BOUND_S, tmp_path / "state")

    assert code != 0, output[-2000:]
    assert (f"process 0 exited: ClickHouse at chdb://{mount_point / 'chdb'} cannot be opened: [Errno 30] "
            f"Read-only file system") in one_line(output), output[-2000:]


def test_clickhouse_http_url_to_a_closed_port_then_the_error_names_the_refused_connection_without_the_password(
        stack: StackInfo, ticks_topic: str, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    settings = run_settings(stack, ticks_topic, tmp_path, "closed", f"http://writer:s3cret@127.0.0.1:{port}/default")
    run = start_run(settings, tmp_path / "state")

    code, output, _ = wait_for_exit(run, RUN_BOUND_S, tmp_path / "state")

    assert code != 0, output[-2000:]
    assert (f"process 0 exited: ClickHouse at http://writer:***@127.0.0.1:{port}/default cannot be opened: "
            f"[Errno 111] Connection refused") in one_line(output), output[-2000:]
    assert "s3cret" not in output
    assert "s3cret" not in (tmp_path / "state" / "logs" / "worker-0.log").read_text(errors="replace")


class OwnRedis:
    """A Redis server of this test's own on a fixed port, to kill mid-run and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.server = subprocess.Popen([redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                        "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        assert self.server is not None
        self.server.kill()
        self.server.wait(10)

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(10)


@pytest.fixture()
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


_SAMPLE = re.compile(r"^(tickwise_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$", re.MULTILINE)


def scrape(port: int) -> dict[str, float]:
    """Each tickwise metric of the run's /metrics summed over its labels ({} while the run starts)."""
    totals: dict[str, float] = {}
    for name, _labels, value in _SAMPLE.findall(metrics_text(port)):
        totals[name] = totals.get(name, 0.0) + float(value)
    return totals


REDIS_DOWN_S = 10.0


def test_redis_down_for_10_s_mid_run_then_signals_go_on_and_afterwards_every_stored_row_is_its_latest(
        stack: StackInfo, ticks_topic: str, tmp_path: Path, own_redis: OwnRedis) -> None:
    settings = run_settings(stack, ticks_topic, tmp_path, "redis", f"chdb://{tmp_path / 'chdb'}", own_redis.url)
    port = free_port()
    # Small source batches: the run lasts long enough for a 10 s outage in its middle.
    run = start_run(settings, tmp_path / "state", source_batch=10, TICKWISE_METRICS_PORT=str(port))
    client = redis.Redis.from_url(own_redis.url)
    key = f"{settings.redis.key_prefix}IBM"
    deadline = time.monotonic() + RUN_BOUND_S
    while not client.exists(key):
        assert run.poll() is None, f"the run ended before writing a feature row:\n{run.communicate()[0][-2000:]}"
        assert time.monotonic() < deadline, "no feature row reached Redis"
        time.sleep(0.1)
    client.close()
    own_redis.kill()
    before = scrape(port)

    outage_ends = time.monotonic() + REDIS_DOWN_S
    while time.monotonic() < outage_ends:
        assert run.poll() is None, f"the run stopped while Redis was down:\n{run.communicate()[0][-2000:]}"
        time.sleep(0.5)
    during = scrape(port)
    own_redis.start()  # the same port, an empty store
    code, output, _ = wait_for_exit(run, RUN_BOUND_S * 4, tmp_path / "state")

    assert code == 0, output[-2000:]
    # The signal path kept reading ticks and running its stages while Redis was down.
    progress = "tickwise_ticks_total", "tickwise_stage_items_total"
    assert all(during.get(name, 0) > before.get(name, 0) for name in progress), (before, during)
    assert during["tickwise_redis_write_failures_total"] > 0
    assert during["tickwise_redis_pending_symbols"] >= 1
    # Every accepted signal of the run reached Kafka, those decided while Redis was down included.
    accepted = {row[0] for row in clickhouse(settings, "SELECT signal_id FROM signals FINAL")}
    on_topic = {orjson.loads(m.value())["signal_id"] for m in read_topic(settings.kafka.bootstrap,
                                                                         settings.kafka.signals_topic)}
    assert on_topic == accepted
    # Afterwards each symbol's stored row is its latest feature row.
    latest = clickhouse(settings, "SELECT symbol, argMax(ts_ns, (ts_ns, offset)), argMax(offset, (ts_ns, offset)) "
                                  "FROM features FINAL GROUP BY symbol ORDER BY symbol")
    assert latest, "the run wrote no feature row"
    client = redis.Redis.from_url(own_redis.url)
    stored = [[symbol, *(read_features(client, symbol, settings.redis.key_prefix)[field]
                         for field in ("ts_ns", "offset"))] for symbol, _, _ in latest]
    client.close()
    assert stored == latest
    print(f"redis down {REDIS_DOWN_S:g} s: ticks read {before.get('tickwise_ticks_total', 0):.0f} -> "
          f"{during['tickwise_ticks_total']:.0f}, failed Redis writes {during['tickwise_redis_write_failures_total']:.0f}, "
          f"{len(accepted)} signals on Kafka, {len(latest)} symbols")
