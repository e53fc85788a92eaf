"""Specifications of the embedded stack's bookkeeping (the stack.json record), without starting one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from dataflows.stack import StackInfo, free_port, read_stack, stack_file, stop_stack


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def info(state_dir: Path, kafka_pid: int, redis_pid: int) -> StackInfo:
    return StackInfo(kafka_bootstrap="127.0.0.1:19092", redis_url="redis://127.0.0.1:16379/0",
                     clickhouse_url=f"chdb://{state_dir / 'chdb'}", kafka_pid=kafka_pid, redis_pid=redis_pid,
                     state_dir=str(state_dir))


def test_read_stack_when_no_record_then_none(tmp_path: Path) -> None:
    assert read_stack(tmp_path) is None


def test_read_stack_when_recorded_processes_alive_then_returns_the_record(tmp_path: Path) -> None:
    alive = info(tmp_path, kafka_pid=os.getpid(), redis_pid=os.getpid())
    stack_file(tmp_path).write_text(json.dumps(asdict(alive)))

    assert read_stack(tmp_path) == alive


def test_read_stack_when_a_recorded_process_died_then_none(tmp_path: Path) -> None:
    stack_file(tmp_path).write_text(json.dumps(asdict(info(tmp_path, kafka_pid=os.getpid(), redis_pid=dead_pid()))))

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
        stack_file(tmp_path).write_text(json.dumps(asdict(info(tmp_path, child.pid, dead_pid()))))

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
