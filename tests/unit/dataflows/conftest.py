"""Fixtures shared by the dataflows unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dataflows.stack import start_stack, stop_stack


@pytest.fixture()
def own_stack(tmp_path: Path) -> Iterator[Path]:
    """The state dir of a stack of this test's own (killing its servers affects no other test)."""
    state_dir = tmp_path / "stack"
    start_stack(state_dir)
    yield state_dir
    stop_stack(state_dir)
