"""Shared fixtures: the real embedded stack (Tansu, Redis/Valkey, chDB) for integration tests.

One broker and one Redis server per test session; every test gets uuid-named topics, its
own Redis database keys prefix and a fresh chDB directory, so tests never see each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataflows.stack import StackInfo, start_stack, stop_stack

REPO_ROOT = Path(__file__).resolve().parents[1]
MARKET_DATA = (REPO_ROOT.parent / "shared" / "data" / "market").resolve()


@pytest.fixture(scope="session")
def market_data() -> Path:
    if not (MARKET_DATA / "trades.csv.gz").exists():
        pytest.fail(f"real market data not found at {MARKET_DATA}; tests need ../shared/data/market/")
    return MARKET_DATA


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackInfo]:
    state_dir = tmp_path_factory.mktemp("stack")
    info = start_stack(state_dir)
    yield info
    stop_stack(state_dir)


@pytest.fixture()
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture()
def chdb_url(tmp_path: Path) -> str:
    return f"chdb://{tmp_path / 'chdb'}"
