"""The stack's ClickHouse service (chDB behind HTTP) in its lifecycle, on the real processes: ``stack up``
starts it and records it like the broker and Redis, restarts only it when it died (same port, data kept),
``stack down`` stops it, and a record written before the service existed is still read."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import clickhouse_connect
import pytest

from dataflows.stack import StackError, StackInfo, process_identity, read_stack, stack_file, start_stack, stop_stack


def gone(pid: int, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process_identity(pid) is None:
            return True
        time.sleep(0.05)
    return False


def client_of(info: StackInfo) -> clickhouse_connect.driver.client.Client:
    port = int(info.clickhouse_url.rpartition(":")[2])
    return clickhouse_connect.get_client(host="127.0.0.1", port=port)


def test_stack_up_when_started_then_clickhouse_is_served_over_http_and_recorded(own_stack: Path) -> None:
    info = read_stack(own_stack)

    assert info is not None
    assert info.clickhouse_url.startswith("http://127.0.0.1:") and info.clickhouse_identity
    assert info.to_env()["CLICKHOUSE_URL"] == info.clickhouse_url
    client = client_of(info)
    client.command("CREATE TABLE written (n UInt8) ENGINE = MergeTree ORDER BY n")
    client.insert("written", [[1], [2]])

    assert client.command("SELECT sum(n) FROM written") == 3
    assert oct((own_stack / "clickhouse.log").stat().st_mode & 0o777) == "0o600"
    open_to_others = [str(path) for path in (own_stack / "chdb").rglob("*") if path.stat().st_mode & 0o077]
    assert oct((own_stack / "chdb").stat().st_mode & 0o777) == "0o700" and open_to_others == []


def test_stack_up_when_only_the_service_died_then_restarts_it_on_its_port_with_its_data(own_stack: Path) -> None:
    before = read_stack(own_stack)
    assert before is not None
    client_of(before).command("CREATE TABLE kept (n UInt8) ENGINE = MergeTree ORDER BY n")
    os.kill(before.clickhouse_pid, signal.SIGKILL)
    assert gone(before.clickhouse_pid)
    assert read_stack(own_stack) is None  # a stack missing a server is not running

    after = start_stack(own_stack)

    assert (after.kafka_pid, after.redis_pid) == (before.kafka_pid, before.redis_pid)
    assert after.clickhouse_pid != before.clickhouse_pid and after.clickhouse_url == before.clickhouse_url
    assert client_of(after).command("EXISTS TABLE kept") == 1


def test_stack_down_when_running_then_the_service_stops_and_releases_chdb(own_stack: Path) -> None:
    info = read_stack(own_stack)
    assert info is not None

    assert stop_stack(own_stack) is True

    assert gone(info.clickhouse_pid)


def test_read_stack_when_record_predates_the_service_then_still_running_with_its_chdb_url(own_stack: Path) -> None:
    record = json.loads(stack_file(own_stack).read_text())
    os.kill(record["clickhouse_pid"], signal.SIGTERM)
    assert gone(record["clickhouse_pid"])
    legacy = {name: value for name, value in record.items() if not name.startswith("clickhouse_")}
    legacy["clickhouse_url"] = f"chdb://{own_stack / 'chdb'}"
    stack_file(own_stack).write_text(json.dumps(legacy))

    old = read_stack(own_stack)
    upgraded = start_stack(own_stack)

    assert old is not None and old.clickhouse_url.startswith("chdb://")
    assert upgraded.clickhouse_url.startswith("http://") and upgraded.kafka_pid == record["kafka_pid"]
    assert json.loads(stack_file(own_stack).read_text()) == asdict(upgraded)


HOLDER = """
import sys, time, chdb
connection = chdb.connect(sys.argv[1])  # held open, as a backtest writing to the directory holds it
connection.query("SELECT 1")
print("open", flush=True)
time.sleep(120)
"""


def test_stack_up_when_another_process_holds_the_chdb_directory_then_stack_error_saying_so(tmp_path: Path) -> None:
    state_dir = tmp_path / "stack"
    chdb_dir = state_dir / "chdb"
    chdb_dir.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(chdb_dir)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        with pytest.raises(StackError, match="does another process use it"):
            start_stack(state_dir)
    finally:
        holder.kill()
        holder.wait()
        stop_stack(state_dir)
