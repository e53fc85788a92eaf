"""``tickwise verify`` and ``tickwise run --recovery-dir --supervise`` on the real embedded stack.

One supervised run with recovery (``-r/-s/-b`` underneath) writes twenty minutes of IBM plus
hostile messages into a chDB directory. ``verify`` must find no gap there and read each
partition's end from Kafka; on copies of that directory, duplicated rows are reported without
failing, a deleted tick is a gap and deleted last rows an unprocessed tail (exit 1), and an
empty directory fails in one sentence. A run of its own is killed with SIGKILL mid-run: verify
reports its unprocessed tails apart from gaps, and nothing lost once the run resumed.
Every command runs as a user runs it, in its own process (chDB allows one process per directory).
"""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pandas as pd
import pytest

from dataflows.config import Settings
from tests.integration.flowkit import BAD_MESSAGES, cli_environment, create_topics, produce_real_day, read_topic, topic_settings

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
START = int(pd.Timestamp("2013-10-08 13:30", tz="UTC").value)
END = int(pd.Timestamp("2013-10-08 13:50", tz="UTC").value)
PARTITIONS = 2


def cli_env(settings: Settings, clickhouse_url: str) -> dict[str, str]:
    return cli_environment(settings, CLICKHOUSE_URL=clickhouse_url)


def tickwise(env: dict[str, str], state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataflows.cli", *args, "--state-dir", str(state_dir)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)


def last_json(result: subprocess.CompletedProcess[str]) -> dict:
    return orjson.loads(result.stdout.strip().splitlines()[-1])


def chdb_sql(chdb_dir: Path, *statements: str) -> list[list[object]]:
    """Run SQL on a chDB directory in a separate process; the result rows of each statement."""
    script = (
        "import sys, orjson, clickhouse_connect\n"
        "client = clickhouse_connect.get_client(dsn=sys.argv[1])\n"
        "out = []\n"
        "for sql in sys.argv[2:]:\n"
        "    out.append([list(row) for row in client.query(sql).result_rows])\n"
        "client.close()\n"
        "print(orjson.dumps(out).decode())\n"
    )
    done = subprocess.run([sys.executable, "-c", script, f"chdb://{chdb_dir}", *statements],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return orjson.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def supervised_run(stack, market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("verify")
    settings = topic_settings(stack, f"verify{uuid.uuid4().hex[:8]}", f"chdb://{work / 'chdb'}")
    create_topics(settings, partitions=PARTITIONS)
    produced = produce_real_day(settings, market_data, ["IBM"], START, END, BAD_MESSAGES)
    env = cli_env(settings, f"chdb://{work / 'chdb'}")
    recovery = work / "recovery"
    result = tickwise(env, work / "state", "run", "--until-eof", "--recovery-dir", str(recovery),
                      "--snapshot-interval", "1", "--supervise", "--max-restarts", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    ends: dict[int, int] = {}
    for message in read_topic(settings.kafka.bootstrap, settings.kafka.ticks_topic):
        ends[message.partition()] = max(ends.get(message.partition(), 0), message.offset() + 1)
    return {"settings": settings, "env": env, "work": work, "produced": produced, "summary": last_json(result),
            "recovery": recovery, "ends": ends}


def copy_of_chdb(run: dict, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    copy = tmp_path / "chdb"
    shutil.copytree(run["work"] / "chdb", copy, symlinks=True)  # chDB links metadata to store/ relatively
    return copy, {**run["env"], "CLICKHOUSE_URL": f"chdb://{copy}"}


def expect_spec(ends: dict[int, int]) -> str:
    return ",".join(f"{partition}:{end}" for partition, end in sorted(ends.items()))


def test_supervised_run_with_recovery_accounts_for_every_tick_and_keeps_a_private_recovery_dir(
        supervised_run: dict) -> None:
    summary, recovery = supervised_run["summary"], supervised_run["recovery"]

    assert summary["ticks_in"] == supervised_run["produced"]
    assert summary["ticks_rejected"] >= len(BAD_MESSAGES) - 1
    assert stat.S_IMODE(recovery.stat().st_mode) == 0o700
    assert list(recovery.glob("part-*.sqlite3"))


def test_verify_after_a_clean_run_then_no_gap_and_exit_0(supervised_run: dict) -> None:
    result = tickwise(supervised_run["env"], supervised_run["work"] / "state", "verify",
                      "--expect-offsets", expect_spec(supervised_run["ends"]))

    assert result.returncode == 0, result.stderr[-3000:]
    report = last_json(result)
    assert report["ok"] is True
    assert report["missing_offsets"] == 0
    seen = {int(p): (part["first"], part["last"] + 1, part["offsets"]) for p, part in report["partitions"].items()
            if part["offsets"]}
    assert seen == {p: (0, end, end) for p, end in supervised_run["ends"].items()}
    assert report["tables"]["ticks"]["rows"] + report["tables"]["rejects"]["rows"] >= supervised_run["produced"]
    assert "duplicates" in result.stderr and "offsets of" in result.stderr


def test_verify_when_rows_are_duplicated_then_reports_them_and_still_exits_0(
        supervised_run: dict, tmp_path: Path) -> None:
    chdb_dir, env = copy_of_chdb(supervised_run, tmp_path)
    [[before]] = chdb_sql(chdb_dir, "SELECT count() FROM signals")[0]
    chdb_sql(chdb_dir, "INSERT INTO signals SELECT * FROM signals LIMIT 5")

    result = tickwise(env, supervised_run["work"] / "state", "verify")

    assert result.returncode == 0, result.stderr[-3000:]
    signals = last_json(result)["tables"]["signals"]
    assert (signals["rows"], signals["distinct_ids"], signals["duplicate_rows"]) == (before + 5, before, 5)
    assert signals["final_rows"] == before


def test_verify_when_the_rows_of_one_offset_are_deleted_from_ticks_then_reports_the_gap_and_exits_1(
        supervised_run: dict, tmp_path: Path) -> None:
    chdb_dir, env = copy_of_chdb(supervised_run, tmp_path)
    [[[partition, offset]]] = chdb_sql(chdb_dir, "SELECT partition, offset FROM ticks ORDER BY partition, offset "
                                                 "LIMIT 1 OFFSET 500")
    chdb_sql(chdb_dir, f"ALTER TABLE ticks DELETE WHERE partition = {partition} AND offset = {offset} "
                       "SETTINGS mutations_sync = 2")

    result = tickwise(env, supervised_run["work"] / "state", "verify")

    assert result.returncode == 1, result.stderr[-3000:]
    report = last_json(result)
    assert report["ok"] is False and report["missing_offsets"] == 1
    assert report["partitions"][str(partition)]["missing_ranges"] == [[offset, offset + 1]]
    assert f"partition {partition}: gaps [{offset}, {offset + 1})" in result.stderr


def test_verify_when_a_partition_stops_short_of_its_expected_end_then_reports_the_tail(
        supervised_run: dict) -> None:
    partition, end = max(supervised_run["ends"].items(), key=lambda item: item[1])

    result = tickwise(supervised_run["env"], supervised_run["work"] / "state", "verify",
                      "--expect-offsets", f"{partition}:{end + 7}")

    assert result.returncode == 1, result.stderr[-3000:]
    reported = last_json(result)["partitions"][str(partition)]
    assert (reported["missing_ranges"], reported["unprocessed_range"]) == ([], [end, end + 7])


def test_verify_without_expected_ends_then_reads_each_partition_end_from_kafka(supervised_run: dict) -> None:
    result = tickwise(supervised_run["env"], supervised_run["work"] / "state", "verify")

    assert result.returncode == 0, result.stderr[-3000:]
    report = last_json(result)
    # Tansu's high watermark lags far behind the end: these ends come from fetching the tail.
    assert {int(p): (part["start"], part["end"]) for p, part in report["partitions"].items()} == \
        {p: (0, supervised_run["ends"].get(p, 0)) for p in range(PARTITIONS)}
    assert (report["ok"], report["missing_offsets"], report["unprocessed_offsets"]) == (True, 0, 0)


def test_verify_when_the_last_ticks_were_never_processed_and_one_was_lost_then_reports_the_tail_and_the_gap_apart(
        supervised_run: dict, tmp_path: Path) -> None:
    partition, end = max(supervised_run["ends"].items(), key=lambda item: item[1])
    tail_start = end - 137
    chdb_dir, env = copy_of_chdb(supervised_run, tmp_path)
    [[[gap_offset]]] = chdb_sql(chdb_dir, f"SELECT offset FROM ticks WHERE partition = {partition} "
                                          "ORDER BY offset LIMIT 1 OFFSET 300")
    chdb_sql(chdb_dir, *(f"ALTER TABLE {table} DELETE WHERE partition = {partition} AND offset >= {tail_start} "
                         "SETTINGS mutations_sync = 2" for table in ("ticks", "rejects")),
             f"ALTER TABLE ticks DELETE WHERE partition = {partition} AND offset = {gap_offset} "
             "SETTINGS mutations_sync = 2")

    result = tickwise(env, supervised_run["work"] / "state", "verify")

    assert result.returncode == 1, result.stderr[-3000:]
    report = last_json(result)
    assert (report["ok"], report["missing_offsets"], report["unprocessed_offsets"]) == (False, 1, 137)
    reported = report["partitions"][str(partition)]
    assert (reported["last"], reported["end"]) == (tail_start - 1, end)
    assert reported["missing_ranges"] == [[gap_offset, gap_offset + 1]]
    assert reported["unprocessed_range"] == [tail_start, end]
    assert f"partition {partition}: gaps [{gap_offset}, {gap_offset + 1})" in result.stderr
    assert f"partition {partition}: unprocessed tail [{tail_start}, {end})" in result.stderr
    assert "1 offset(s) lost in gaps" in result.stderr and "137 offset(s) not processed" in result.stderr


def test_verify_when_the_database_holds_no_row_of_a_topic_with_messages_then_fails_in_one_sentence(
        supervised_run: dict, tmp_path: Path) -> None:
    (tmp_path / "empty-chdb").mkdir()  # a database that exists but holds nothing (a missing one is exit 2)
    env = {**supervised_run["env"], "CLICKHOUSE_URL": f"chdb://{tmp_path / 'empty-chdb'}"}

    result = tickwise(env, supervised_run["work"] / "state", "verify")

    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stderr.strip().startswith("error: no rows of topic") and len(result.stderr.strip().splitlines()) == 1
    report = last_json(result)
    assert (report["ok"], report["empty"]) == (False, True)
    assert report["unprocessed_offsets"] == sum(supervised_run["ends"].values())


def test_run_again_on_the_same_recovery_dir_then_resumes_at_the_end_and_writes_nothing_new(
        supervised_run: dict) -> None:
    result = tickwise(supervised_run["env"], supervised_run["work"] / "state", "run", "--until-eof",
                      "--recovery-dir", str(supervised_run["recovery"]), "--snapshot-interval", "1")

    assert result.returncode == 0, result.stderr[-3000:]
    assert last_json(result)["ticks_in"] == 0


def test_verify_after_a_real_kill_9_mid_run_then_reports_the_unprocessed_tail_apart_and_after_resume_nothing_lost(
        stack, market_data: Path, tmp_path: Path) -> None:
    """Not rows deleted by hand: a ``tickwise run`` whose flow process is killed with SIGKILL mid-run."""
    import os
    import signal

    from tests.integration.faultkit import run_to_end, source_epoch, start_run, wait_until

    settings = topic_settings(stack, f"kill{uuid.uuid4().hex[:8]}", f"chdb://{tmp_path / 'chdb'}")
    create_topics(settings, partitions=PARTITIONS)
    produced = produce_real_day(settings, market_data, ["AIG", "BAC", "IBM"], START, END, BAD_MESSAGES)
    # Small source batches: the run lasts several snapshot intervals, so the kill lands mid-run.
    env = {**cli_env(settings, f"chdb://{tmp_path / 'chdb'}"), "TICKWISE_SOURCE_BATCH_SIZE": "10"}
    state, recovery = tmp_path / "state", tmp_path / "recovery"
    ends: dict[int, int] = {}
    for message in read_topic(settings.kafka.bootstrap, settings.kafka.ticks_topic):
        ends[message.partition()] = max(ends.get(message.partition(), 0), message.offset() + 1)
    run = start_run(settings, state, 1, recovery, env=env)
    wait_until(lambda: len(run.flow_pids()) == 1, run, 60, "the flow process started")
    # The source's position is snapshotted once the outputs of the epoch before are written: rows are
    # in ClickHouse from its second snapshot on. Kill at once, well before the end.
    wait_until(lambda: source_epoch(recovery, list(ends)) >= 2, run, 120, "two snapshots of the ticks")
    os.kill(run.flow_pids()[0], signal.SIGKILL)
    assert run.wait(60) != 0

    killed = tickwise(env, state, "verify")

    assert killed.returncode == 1, killed.stderr[-3000:]
    report = last_json(killed)
    assert report["ok"] is False
    partitions = report["partitions"]
    assert {int(p): part["end"] for p, part in partitions.items()} == ends and sum(ends.values()) == produced
    # Everything not yet written is one tail per partition, counted apart from the gaps below it.
    unprocessed = sum(part["unprocessed_range"][1] - part["unprocessed_range"][0]
                      for part in partitions.values() if part["unprocessed_range"])
    assert report["unprocessed_offsets"] == unprocessed > produced // 10
    for p, part in partitions.items():
        if part["unprocessed_range"]:
            tail_start, end = part["unprocessed_range"]
            assert end == part["end"] and (part["last"] is None or tail_start == part["last"] + 1)
            assert all(high <= tail_start for _, high in part["missing_ranges"])
            assert f"partition {p}: unprocessed tail [{tail_start}, {end})" in killed.stderr
    assert report["missing_offsets"] < report["unprocessed_offsets"]
    print(f"after kill -9: {report['unprocessed_offsets']:,} of {produced:,} offsets unprocessed, "
          f"{report['missing_offsets']} in gaps")

    run_to_end(settings, state, 1, recovery)
    resumed = tickwise(env, state, "verify")

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    report = last_json(resumed)
    assert (report["ok"], report["missing_offsets"], report["unprocessed_offsets"]) == (True, 0, 0)
