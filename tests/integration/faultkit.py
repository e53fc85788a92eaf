"""Running ``tickwise run`` under faults, for the fault tests: start, watch and wait for a cluster run,
read its recovery store and its outputs."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import redis

from dataflows.config import Settings
from sinks.redis_store import read_features
from tests.integration.flowkit import cli_environment, read_topic

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 240
# A two-process Bytewax 0.21 cluster on this machine now and then dies at start with timely's
# "Send thread panic" (seen in about 1 of 10 starts under load): runs that resume from a
# recovery dir therefore go through the supervisor (``--supervise``), as production does.
MAX_RESTARTS = 8
TABLES = ("ticks", "rejects", "features", "predictions", "risk_decisions", "signals")


def fault_env(settings: Settings) -> dict[str, str]:
    return cli_environment(settings, TICKWISE_SOURCE_BATCH_SIZE=str(settings.source.batch_size))


@dataclass
class Run:
    """One ``tickwise run`` of the whole cluster, as a subprocess."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    started: float

    def wait(self, timeout_s: float = RUN_TIMEOUT_S) -> int:
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"tickwise run did not end within {timeout_s} s; logs in {self.state_dir}") from None

    log_start: int = 0

    def output(self) -> str:
        """What this run printed (the log file is shared by the runs of one state dir)."""
        with open(self.state_dir / "cli.log", "rb") as log:
            log.seek(self.log_start)
            return log.read().decode(errors="replace")

    def flow_pids(self) -> list[int]:
        """The Bytewax processes the runner started (children of the CLI), in start order."""
        pids: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            try:
                pids += [int(pid) for pid in (task / "children").read_text().split()]
            except OSError:
                continue
        return sorted(pids)


def start_run(settings: Settings, state_dir: Path, processes: int, recovery_dir: Path | None,
              snapshot_interval_s: int = 1, env: dict[str, str] | None = None, supervise: bool = False) -> Run:
    state_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "dataflows.cli", "run", "--until-eof", "--processes", str(processes),
               "--state-dir", str(state_dir), "--snapshot-interval", str(snapshot_interval_s)]
    if recovery_dir is not None:
        command += ["--recovery-dir", str(recovery_dir)]
    if supervise:
        command += ["--supervise", "--max-restarts", str(MAX_RESTARTS)]
    log = open(state_dir / "cli.log", "ab")  # noqa: SIM115 - handed to the child
    log_start = log.tell()
    process = subprocess.Popen(command, env=env or fault_env(settings), stdout=log, stderr=subprocess.STDOUT,
                               cwd=REPO_ROOT)
    return Run(process, state_dir, time.monotonic(), log_start)


def run_to_end(settings: Settings, state_dir: Path, processes: int, recovery_dir: Path | None) -> float:
    started = time.monotonic()
    run = start_run(settings, state_dir, processes, recovery_dir, supervise=recovery_dir is not None)
    code = run.wait()
    assert code == 0, f"exit {code}:\n{run.output()[-3000:]}"
    return time.monotonic() - started


def source_epoch(recovery_dir: Path, partitions: Sequence[int] | None = None) -> int:
    """The latest epoch at which the Kafka source's position was snapshotted (-1: none yet);
    ``partitions`` limits it to those source partitions (a partition without data reaches its
    end, and is snapshotted as finished, as soon as the run starts)."""
    latest = -1
    where = "step_id LIKE '%ticks_in%'"
    if partitions is not None:
        where += f" AND state_key IN ({', '.join(repr(str(p)) for p in partitions)})"
    for part in recovery_dir.glob("part-*.sqlite3"):
        try:
            with sqlite3.connect(f"file:{part}?mode=ro", uri=True, timeout=1) as db:
                row = db.execute(f"SELECT max(snap_epoch) FROM snaps WHERE {where}").fetchone()
        except sqlite3.Error:
            continue
        if row and row[0] is not None:
            latest = max(latest, int(row[0]))
    return latest


def execution_count(recovery_dir: Path) -> int:
    """How many executions (runs of the cluster) the recovery store has recorded."""
    executions = set()
    for part in recovery_dir.glob("part-*.sqlite3"):
        try:
            with sqlite3.connect(f"file:{part}?mode=ro", uri=True, timeout=1) as db:
                executions.update(row[0] for row in db.execute("SELECT ex_num FROM exs"))
        except sqlite3.Error:
            continue
    return len(executions)


def wait_until(condition: Callable[[], bool], run: Run, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        if run.process.poll() is not None:
            raise AssertionError(f"the run ended (exit {run.process.returncode}) before {what}:\n"
                                 f"{run.output()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def first_output(settings: Settings) -> Callable[[], bool]:
    """True once the flow has written its first feature row (to Redis): it is mid-run from then on.

    Waiting for output, not for a number of snapshot epochs, keeps these tests independent of
    how fast the machine runs the slice.
    """
    client = redis.Redis.from_url(settings.redis.url.get_secret_value())
    key = f"{settings.redis.key_prefix}IBM"
    return lambda: bool(client.exists(key))


def clickhouse(settings: Settings, sql: str) -> list[list[object]]:
    """Rows of ``sql``, queried in a subprocess (one chDB engine per process)."""
    script = (
        "import sys, orjson, clickhouse_connect\n"
        "from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter\n"
        "writer = ClickHouseWriter(ClickHouseSettings(url=sys.argv[1]))\n"
        "client = writer.connect(); writer.ensure_schema()\n"
        "rows = client.query(sys.argv[2]).result_rows\n"
        "sys.stdout.write(orjson.dumps([list(r) for r in rows]).decode())\n"
        "writer.close()\n")
    result = subprocess.run([sys.executable, "-c", script, settings.clickhouse.url.get_secret_value(), sql],
                            capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    return orjson.loads(result.stdout.strip().splitlines()[-1])


def assert_every_offset_is_a_tick_or_a_reject(settings: Settings, expect: str) -> None:
    """Our own gap check, independent of ``tickwise verify``: offsets 0..END-1 of each partition."""
    for spec in expect.split(","):
        partition, end = (int(part) for part in spec.split(":"))
        found = {row[0] for row in clickhouse(settings, (
            f"SELECT DISTINCT offset FROM (SELECT offset FROM ticks FINAL WHERE partition = {partition} "
            f"AND topic = '{settings.kafka.ticks_topic}' UNION ALL SELECT offset FROM rejects FINAL "
            f"WHERE partition = {partition} AND topic = '{settings.kafka.ticks_topic}')"))}
        assert found == set(range(end)), f"partition {partition}: {end - len(found & set(range(end)))} offsets lost"


def verify_report(settings: Settings, state_dir: Path, expect: str) -> dict:
    assert_every_offset_is_a_tick_or_a_reject(settings, expect)
    result = subprocess.run([sys.executable, "-m", "dataflows.cli", "verify", "--state-dir", str(state_dir),
                             "--expect-offsets", expect], env=fault_env(settings), capture_output=True, text=True,
                            timeout=120, cwd=REPO_ROOT)
    assert result.stdout.strip(), f"tickwise verify failed: {result.stderr[-2000:]}"
    report = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0, f"tickwise verify found a gap: {report}"
    return report


def outcome(settings: Settings) -> dict:
    """What a finished run left behind, for comparison with a clean run."""
    counts = {table: clickhouse(settings, f"SELECT count() FROM {table} FINAL")[0][0] for table in TABLES}
    signal_ids = {row[0] for row in clickhouse(settings, "SELECT signal_id FROM signals FINAL")}
    topic_ids = {orjson.loads(m.value())["signal_id"] for m in read_topic(settings.kafka.bootstrap,
                                                                          settings.kafka.signals_topic)}
    client = redis.Redis.from_url(settings.redis.url.get_secret_value())
    # NaN (a feature not ready) never equals itself: compare it as the text Redis stores.
    features = {name: "nan" if isinstance(value, float) and math.isnan(value) else value
                for name, value in read_features(client, "IBM", settings.redis.key_prefix).items()}
    client.close()
    return {"counts": counts, "signal_ids": signal_ids, "topic_ids": topic_ids, "features": features}
