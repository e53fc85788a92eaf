"""Specifications of the embedded stack: its record (stack.json), its lifecycle on the real broker and Redis
binaries (``stack up`` restarts only what died, ``stack down`` signals only its own processes), and the
rule that no command silently falls back to a default Kafka address."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from dataflows.cli import common
from dataflows.config import environment_names
from dataflows.stack import (StackInfo, free_port, process_identity, read_stack, stack_file, start_stack,
                             stop_stack)
from tests.unit.dataflows.processes import running

REPO_ROOT = Path(__file__).resolve().parents[3]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def info(state_dir: Path, kafka_pid: int, redis_pid: int, identified: bool = False) -> StackInfo:
    """A record naming ``kafka_pid`` and ``redis_pid``; ``identified``: with their identities, as ours."""
    return StackInfo(kafka_bootstrap="127.0.0.1:19092", redis_url="redis://127.0.0.1:16379/0",
                     clickhouse_url=f"chdb://{state_dir / 'chdb'}", kafka_pid=kafka_pid, redis_pid=redis_pid,
                     state_dir=str(state_dir),
                     kafka_identity=(process_identity(kafka_pid) or "") if identified else "",
                     redis_identity=(process_identity(redis_pid) or "") if identified else "")


def test_read_stack_when_no_record_then_none(tmp_path: Path) -> None:
    assert read_stack(tmp_path) is None


def test_read_stack_when_recorded_processes_alive_then_returns_the_record(tmp_path: Path) -> None:
    alive = info(tmp_path, kafka_pid=os.getpid(), redis_pid=os.getpid(), identified=True)
    stack_file(tmp_path).write_text(json.dumps(asdict(alive)))

    assert read_stack(tmp_path) == alive


def test_read_stack_when_a_recorded_process_died_then_none(tmp_path: Path) -> None:
    stack_file(tmp_path).write_text(json.dumps(asdict(info(tmp_path, os.getpid(), dead_pid(), identified=True))))

    assert read_stack(tmp_path) is None


def test_stop_stack_when_nothing_recorded_then_false(tmp_path: Path) -> None:
    assert stop_stack(tmp_path) is False


def test_stop_stack_when_recorded_processes_dead_then_false_and_record_removed(tmp_path: Path) -> None:
    stack_file(tmp_path).write_text(json.dumps(asdict(info(tmp_path, dead_pid(), dead_pid()))))

    assert stop_stack(tmp_path) is False
    assert not stack_file(tmp_path).exists()


def test_stop_stack_when_recorded_process_alive_then_terminates_it(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stack_file(tmp_path).write_text(json.dumps(asdict(info(tmp_path, child.pid, dead_pid(), identified=True))))

        assert stop_stack(tmp_path) is True
        with pytest.raises(ProcessLookupError):
            os.kill(child.pid, 0)  # gone (stop_stack reaps its own children)
        assert not stack_file(tmp_path).exists()
    finally:
        if child.poll() is None:
            child.kill()


def test_to_env_when_stack_then_the_three_connection_variables(tmp_path: Path) -> None:
    recorded = info(tmp_path, 1, 2)

    assert recorded.to_env() == {"KAFKA_BOOTSTRAP": recorded.kafka_bootstrap, "REDIS_URL": recorded.redis_url,
                                 "CLICKHOUSE_URL": recorded.clickhouse_url}


def test_free_port_when_returned_then_bindable_on_loopback() -> None:
    port = free_port()

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        assert sock.getsockname()[1] == port


# -- lifecycle on the real broker and Redis binaries -------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def redis_answers(redis_url: str) -> bool:
    host, _, port = redis_url.removeprefix("redis://").split("/")[0].rpartition(":")
    with socket.create_connection((host, int(port)), timeout=2) as connection:
        connection.sendall(b"PING\r\n")
        return connection.recv(64).startswith(b"+PONG")


def tickwise(*args: str, state_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it, with no Kafka/Redis/ClickHouse settings in the environment but ``env``."""
    clean = {name: value for name, value in os.environ.items() if name not in environment_names()}
    return subprocess.run([sys.executable, "-m", "dataflows.cli", *args, "--state-dir", str(state_dir)],
                          cwd=REPO_ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60)


@pytest.fixture()
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A harmless process that is not part of any stack."""
    child = subprocess.Popen(["sleep", "60"])
    yield child
    child.kill()
    child.wait()


def test_stack_up_when_redis_died_then_restarts_only_redis_and_keeps_the_broker_with_its_topics(
        own_stack: Path) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    before = read_stack(own_stack)
    assert before is not None
    admin = AdminClient({"bootstrap.servers": before.kafka_bootstrap})
    admin.create_topics([NewTopic("kept-topic", 1, 1)])["kept-topic"].result(timeout=10)
    os.kill(before.redis_pid, signal.SIGKILL)
    assert wait_until(lambda: not running(before.redis_pid))

    result = tickwise("stack", "up", state_dir=own_stack)

    after = read_stack(own_stack)
    assert result.returncode == 0, result.stderr
    assert after is not None
    assert after.kafka_pid == before.kafka_pid and after.kafka_bootstrap == before.kafka_bootstrap
    assert after.redis_pid != before.redis_pid and redis_answers(after.redis_url)
    assert after.redis_url == before.redis_url  # same address: exported REDIS_URL values keep working
    assert "kept-topic" in admin.list_topics(timeout=10).topics


def test_stack_up_when_broker_died_then_restarts_it_and_keeps_redis(own_stack: Path) -> None:
    before = read_stack(own_stack)
    assert before is not None
    os.kill(before.kafka_pid, signal.SIGKILL)
    assert wait_until(lambda: not running(before.kafka_pid))

    after = start_stack(own_stack)

    assert after.redis_pid == before.redis_pid
    assert after.kafka_pid != before.kafka_pid and running(after.kafka_pid)
    socket.create_connection(after.kafka_bootstrap.split(":"), timeout=2).close()  # type: ignore[arg-type]


def test_stop_stack_when_a_recorded_pid_belongs_to_another_process_then_leaves_it_alone(
        tmp_path: Path, sleeper: subprocess.Popen[bytes], caplog: pytest.LogCaptureFixture) -> None:
    stack_file(tmp_path).write_text(json.dumps(asdict(info(tmp_path, sleeper.pid, dead_pid()))))

    with caplog.at_level(logging.WARNING, logger="dataflows.stack"):
        stopped = stop_stack(tmp_path)

    assert sleeper.poll() is None  # still running: it was never ours
    assert stopped is False
    assert f"pid {sleeper.pid}" in caplog.text and "left it alone" in caplog.text
    assert not stack_file(tmp_path).exists()


def test_stack_down_when_recorded_pid_was_reused_by_another_process_then_does_not_signal_it(
        own_stack: Path, sleeper: subprocess.Popen[bytes]) -> None:
    record = json.loads(stack_file(own_stack).read_text())
    stop_stack(own_stack)
    record["kafka_pid"] = sleeper.pid  # the broker's PID now names the sleeper (its start time differs)
    stack_file(own_stack).write_text(json.dumps(record))

    result = tickwise("stack", "down", state_dir=own_stack)

    assert result.returncode == 0, result.stderr
    assert sleeper.poll() is None
    assert f"pid {sleeper.pid}" in " ".join(result.stderr.split())


def test_read_stack_when_a_recorded_pid_belongs_to_another_process_then_none(
        tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    stack_file(tmp_path).write_text(json.dumps(asdict(info(tmp_path, sleeper.pid, sleeper.pid))))

    assert read_stack(tmp_path) is None


# -- no silent default address -----------------------------------------------------------------------


def test_produce_when_no_bootstrap_and_no_stack_then_exits_2_naming_both_fixes(tmp_path: Path) -> None:
    trades = tmp_path / "trades.csv"
    trades.write_text("ts_ns,symbol,price,size,side\n1381329000000000000,IBM,180.0,100,B\n")
    state_dir = tmp_path / "state"

    result = tickwise("produce", "--file", str(trades), state_dir=state_dir)

    message = " ".join(result.stderr.split())
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "KAFKA_BOOTSTRAP" in message and f"tickwise stack up --state-dir {state_dir}" in message
    assert "127.0.0.1:9092" not in message  # no default address was tried


def test_require_kafka_when_no_bootstrap_and_the_recorded_stack_is_dead_then_user_error_naming_both_fixes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP", raising=False)
    stack_file(tmp_path).write_text(json.dumps(asdict(info(tmp_path, dead_pid(), dead_pid()))))

    with pytest.raises(common.UserError) as refused:
        common.require_kafka(common.command_settings(tmp_path))

    assert "KAFKA_BOOTSTRAP" in str(refused.value)
    assert f"tickwise stack up --state-dir {tmp_path}" in str(refused.value)


def test_require_kafka_when_bootstrap_set_explicitly_to_the_default_then_accepted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "127.0.0.1:9092")

    settings = common.command_settings(tmp_path)

    common.require_kafka(settings)  # raises UserError when no address was given
    assert settings.kafka.bootstrap == "127.0.0.1:9092"
