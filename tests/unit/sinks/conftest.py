"""Every sink unit test starts with no failure reported in the process (``sinks.failure``)."""

from __future__ import annotations

import pytest

import sinks.failure


@pytest.fixture(autouse=True)
def no_failure_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinks.failure, "_failures", [])
    monkeypatch.setattr(sinks.failure, "_open_partitions", [0])
