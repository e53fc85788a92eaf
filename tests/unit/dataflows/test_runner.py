"""Specifications of the cluster commands, checked with ``bytewax.run``'s own argument parser."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from dataflows.runner import FLOW_IMPORT, cluster_commands, run_cluster


@pytest.fixture()
def parse_bytewax(monkeypatch: pytest.MonkeyPatch):
    """Parse one command the way ``python -m bytewax.run`` will (its environment fallbacks cleared)."""
    from bytewax.run import _parse_args

    for name in ("BYTEWAX_RECOVERY_DIRECTORY", "BYTEWAX_SNAPSHOT_INTERVAL", "BYTEWAX_RECOVERY_BACKUP_INTERVAL",
                 "BYTEWAX_WORKERS_PER_PROCESS", "BYTEWAX_PROCESS_ID", "BYTEWAX_ADDRESSES", "BYTEWAX_POD_NAME",
                 "BYTEWAX_STATEFULSET_NAME", "BYTEWAX_HOSTFILE_PATH"):
        monkeypatch.delenv(name, raising=False)

    def parse(command: list[str]) -> argparse.Namespace:
        assert command[:3] == [sys.executable, "-m", "bytewax.run"]
        monkeypatch.setattr(sys, "argv", ["bytewax.run", *command[3:]])
        return _parse_args()

    return parse


@pytest.fixture()
def addresses_file(tmp_path: Path) -> Path:
    path = tmp_path / "addresses.txt"
    path.write_text("127.0.0.1:40001\n127.0.0.1:40002\n")
    return path


def test_cluster_commands_when_one_process_then_one_command_with_workers_and_no_addresses(parse_bytewax) -> None:
    commands = cluster_commands(1, 3, None, None, None)

    assert len(commands) == 1
    args = parse_bytewax(commands[0])
    assert args.import_str == FLOW_IMPORT
    assert args.workers_per_process == 3
    assert (args.process_id, args.addresses, args.recovery_directory) == (None, None, None)


def test_cluster_commands_when_two_processes_then_one_command_per_process_with_all_addresses(
        parse_bytewax, addresses_file: Path) -> None:
    commands = cluster_commands(2, 2, addresses_file, None, None)

    parsed = [parse_bytewax(command) for command in commands]
    assert [args.process_id for args in parsed] == [0, 1]
    assert {args.addresses for args in parsed} == {";".join(addresses_file.read_text().split())}
    assert parsed[0].addresses.split(";") == ["127.0.0.1:40001", "127.0.0.1:40002"]
    assert {args.workers_per_process for args in parsed} == {2}
    assert {args.import_str for args in parsed} == {FLOW_IMPORT}


def test_cluster_commands_when_recovery_dir_then_every_process_gets_recovery_flags(
        parse_bytewax, addresses_file: Path, tmp_path: Path) -> None:
    recovery = tmp_path / "recovery"

    commands = cluster_commands(2, 1, addresses_file, recovery, 7)

    for args in map(parse_bytewax, commands):
        assert args.recovery_directory == recovery
        assert args.snapshot_interval == timedelta(seconds=7)
        assert args.backup_interval == timedelta(0)


@pytest.mark.parametrize(("interval", "seconds"), [(None, 10), (0.2, 1), (2.6, 3), (30, 30)])
def test_cluster_commands_when_snapshot_interval_given_then_whole_seconds_at_least_one(
        parse_bytewax, tmp_path: Path, interval: float | None, seconds: int) -> None:
    [command] = cluster_commands(1, 1, None, tmp_path / "recovery", interval)

    assert parse_bytewax(command).snapshot_interval == timedelta(seconds=seconds)


def test_cluster_commands_when_no_recovery_then_no_recovery_flags() -> None:
    [command] = cluster_commands(1, 1, None, None, 5)

    assert not {"-r", "-s", "-b"} & set(command)


def test_cluster_commands_when_flow_import_given_then_every_command_runs_it(addresses_file: Path) -> None:
    commands = cluster_commands(2, 1, addresses_file, None, None, flow_import="tests.flows:tiny()")

    assert [command[3] for command in commands] == ["tests.flows:tiny()"] * 2


@pytest.mark.parametrize(("processes", "workers"), [(0, 1), (1, 0)])
def test_run_cluster_when_processes_or_workers_below_one_then_value_error(
        tmp_path: Path, processes: int, workers: int) -> None:
    with pytest.raises(ValueError, match=f"got {processes} and {workers}"):
        run_cluster({}, processes, workers, work_dir=tmp_path)
