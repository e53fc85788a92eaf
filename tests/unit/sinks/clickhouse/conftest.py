"""Fixtures of the ClickHouse sink's unit tests: a fake client that records what it is sent,
records of every type, and writers and partitions over the fake client."""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from operators.messages import Decision, DriftEvent, FeatureRow, Prediction, Quote, Reject, Trade, ValidTick
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter
from sinks.metrics import MetricsRegistry

TS = 1_700_000_000_000_000_000


class FakeClient:
    """Records commands, queries and column-oriented inserts; fails inserts into ``fail_on``."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.commands: list[str] = []
        self.queries: list[str] = []
        self.inserts: list[tuple[str, list[list[Any]], tuple[str, ...]]] = []
        self.fail_on = fail_on
        self.closed = False

    def command(self, sql: str) -> int:
        self.commands.append(sql)
        return 0

    def query(self, sql: str) -> SimpleNamespace:
        self.queries.append(sql)
        return SimpleNamespace(result_rows=[])  # DESCRIBE: no known types, so none are passed

    def insert_arrow(self, table: str, arrow_table: Any) -> None:
        self.insert(table, [column.to_pylist() for column in arrow_table.columns], tuple(arrow_table.column_names),
                    column_oriented=True)

    def insert(self, table: str, data: list[list[Any]], column_names: tuple[str, ...],
               column_oriented: bool, column_type_names: list[str] | None = None) -> None:
        assert column_oriented
        assert len(data) == len(column_names)
        assert len({len(column) for column in data}) == 1
        if table == self.fail_on:
            raise RuntimeError("Code: 60. Table default.x does not exist")
        self.inserts.append((table, data, column_names))

    def close(self) -> None:
        self.closed = True


def a_decision(signal_id: str, accepted: bool) -> Decision:
    return Decision(signal_id, "IBM", TS, 0, 5, "v1", 1, 10.0, 1_500.0, 150.0, 0.3, "calm", accepted,
                    "ok" if accepted else "max_position", "ACTIVE", 10.0)


def some_ticks(count: int, first_offset: int = 0) -> list[ValidTick]:
    return [ValidTick(Trade("IBM", TS + i, 150.0 + i, 10.0, "buy"), "ticks", 0, first_offset + i)
            for i in range(count)]


@pytest.fixture()
def decision() -> Callable[[str, bool], Decision]:
    """``decision(signal_id, accepted)``: a risk decision on IBM."""
    return a_decision


@pytest.fixture()
def ticks() -> Callable[..., list[ValidTick]]:
    """``ticks(count, first_offset=0)``: consecutive IBM trades of partition 0."""
    return some_ticks


@pytest.fixture()
def one_of_each() -> list[Any]:
    """Two ticks (a trade, a quote), then a record of each other common type; one decision is denied."""
    return [
        ValidTick(Trade("IBM", TS, 150.0, 10.0, "buy"), "ticks", 0, 1),
        ValidTick(Quote("IBM", TS + 1, 149.9, 150.1, 3.0, 4.0), "ticks", 0, 2),
        FeatureRow("IBM", TS, 0, 1, 150.0, ("spread", "rsi"), (0.2, math.nan)),
        Prediction("p1", "IBM", TS, 0, 1, 150.0, "v1", 0.6, 1, 0.2, 0.01, "calm", 0.3, {"trend": 0.7}),
        a_decision("s1", accepted=True),
        a_decision("s2", accepted=False),
        Reject("invalid_json", "decode: expected JSON", "decode", "ticks", 0, 3, b"{", None, None),
        DriftEvent("e1", "IBM", TS, "spread", "adwin", 0.5),
    ]


@pytest.fixture()
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture()
def new_client() -> Callable[..., FakeClient]:
    """``new_client(fail_on=None)``: another fake client; its inserts into table ``fail_on`` fail."""
    return FakeClient


@pytest.fixture()
def writer_over() -> Callable[..., ClickHouseWriter]:
    """``writer_over(client, batch_rows=10_000, flush_interval_s=0.5, metrics=None)``: a connected writer."""

    def build(client: FakeClient, batch_rows: int = 10_000, flush_interval_s: float = 0.5,
              metrics: MetricsRegistry | None = None) -> ClickHouseWriter:
        settings = ClickHouseSettings("chdb:///tmp/unused", batch_rows=batch_rows, flush_interval_s=flush_interval_s)
        writer = ClickHouseWriter(settings, metrics or MetricsRegistry())
        writer._client = client  # type: ignore[assignment]
        return writer

    return build
