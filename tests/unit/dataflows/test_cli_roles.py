"""``tickwise run --role``: the choices, and what is refused before any broker is used (exit 2, one sentence)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.dataflows.test_cli import assert_user_error, tickwise


def test_run_when_role_unknown_then_exits_2_naming_the_choices(tmp_path: Path) -> None:
    result = tickwise("run", "--role", "analytics", state_dir=tmp_path / "state")

    assert_user_error(result, "--role must be one of both, signals, history, combined", "'analytics'")


def test_run_history_on_chdb_with_two_processes_then_exits_2_saying_it_is_one_process(tmp_path: Path) -> None:
    result = tickwise("run", "--role", "history", "--processes", "2", state_dir=tmp_path / "state",
                      CLICKHOUSE_URL=f"chdb://{tmp_path / 'chdb'}")

    assert_user_error(result, "the history flow runs as one process with one worker")


def test_role_recovery_dirs_signals_keeps_the_run_dir_and_history_its_own_beside_it(tmp_path: Path) -> None:
    from dataflows.recovery import role_recovery_dir

    base = tmp_path / "recovery"
    assert role_recovery_dir(base, "signals") == role_recovery_dir(base, "combined") == base
    assert role_recovery_dir(base, "history") == tmp_path / "recovery-history"


def test_history_group_is_the_signals_group_renamed() -> None:
    from dataflows.components import history_group_id

    assert history_group_id("tickwise-signals") == "tickwise-history"
    assert history_group_id("desk") == "desk-history"
