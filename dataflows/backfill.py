"""Backfill: history files -> the live flow's own feature stage -> offline features -> training.

``tickwise train`` runs this flow in-process over tick files, writes every feature row to
the ClickHouse ``features`` table (the offline store) and hands the same rows to
``models.train``. Because the feature stage is the live one, training features equal the
features the live flow computes for the same ticks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main

from dataflows.components import Components
from dataflows.signals import feature_stage
from dataflows.tickfiles import iter_tick_messages
from operators.messages import FeatureRow, SourceRecord


def parse_day(text: str) -> int:
    """``"2013-10-08"`` -> epoch ns at 00:00 UTC, or a one-sentence error."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ValueError(f"expected a day as YYYY-MM-DD, got {text!r}") from None
    return int(day.timestamp()) * 1_000_000_000


class _FilePartition(StatefulSourcePartition[SourceRecord, int]):
    def __init__(self, messages: list[tuple[bytes, bytes]], topic: str, resume: int | None, batch: int) -> None:
        self._messages = messages
        self._topic = topic
        self._next = resume or 0
        self._batch = batch

    def next_batch(self) -> list[SourceRecord]:
        if self._next >= len(self._messages):
            raise StopIteration()
        end = min(self._next + self._batch, len(self._messages))
        topic = self._topic
        batch = [SourceRecord(topic, 0, offset, key, value)
                 for offset, (key, value) in enumerate(self._messages[self._next:end], start=self._next)]
        self._next = end
        return batch

    def snapshot(self) -> int:
        return self._next


class FileTickSource(FixedPartitionedSource[SourceRecord, int]):
    """The messages of tick files, in time order, as if read from one Kafka partition."""

    def __init__(self, messages: Iterable[tuple[bytes, bytes]], topic: str = "file", batch_size: int = 10_000) -> None:
        self._messages = list(messages)
        self._topic = topic
        self._batch_size = batch_size

    def __len__(self) -> int:
        return len(self._messages)

    def list_parts(self) -> list[str]:
        return ["0"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _FilePartition:
        return _FilePartition(self._messages, self._topic, resume_state, self._batch_size)


class _CollectPartition(StatelessSinkPartition[FeatureRow]):
    def __init__(self, rows: list[FeatureRow]) -> None:
        self._rows = rows

    def write_batch(self, items: list[FeatureRow]) -> None:
        self._rows.extend(items)


class CollectRows(DynamicSink[FeatureRow]):
    """In-process sink for the backfill run (single process, so a list is safe)."""

    def __init__(self) -> None:
        self.rows: list[FeatureRow] = []

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _CollectPartition:
        return _CollectPartition(self.rows)


def backfill_flow(components: Components, source: FileTickSource, rows_sink: DynamicSink[FeatureRow],
                  clickhouse_sink: object | None = None) -> Dataflow:
    flow = Dataflow("tickwise_backfill")
    streams = feature_stage(components, op.input("ticks_in", flow, source))
    op.output("rows_out", streams.rows, rows_sink)
    if clickhouse_sink is not None:
        history = op.merge("history", streams.rows, streams.rejects)
        op.output("clickhouse_out", op.map("key_history", history, _history_key), clickhouse_sink)
    return flow


def _history_key(record: object) -> tuple[str, object]:
    return (getattr(record, "symbol", None) or "_unknown", record)


@dataclass(frozen=True)
class Backfill:
    rows: list[FeatureRow]
    ticks: int


def run_backfill(components: Components, files: Sequence[Path], start_ns: int | None = None,
                 end_ns: int | None = None, symbols: Sequence[str] | None = None,
                 clickhouse_sink: object | None = None) -> Backfill:
    source = FileTickSource(iter_tick_messages(files, symbols, start_ns, end_ns))
    collect = CollectRows()
    run_main(backfill_flow(components, source, collect, clickhouse_sink))
    return Backfill(rows=collect.rows, ticks=len(source))


def rows_to_frame(rows: Sequence[FeatureRow]) -> pd.DataFrame:
    """Feature rows as a frame: ``symbol, ts_ns, offset, price`` + one column per feature."""
    if not rows:
        raise ValueError("the backfill produced no feature rows; check the files and the date range")
    names = list(rows[0].names)
    frame = pd.DataFrame(np.array([row.values for row in rows], dtype=np.float64), columns=names)
    frame.insert(0, "price", [row.price for row in rows])
    frame.insert(0, "offset", np.array([row.offset for row in rows], dtype=np.int64))
    frame.insert(0, "ts_ns", np.array([row.ts_ns for row in rows], dtype=np.int64))
    frame.insert(0, "symbol", [row.symbol for row in rows])
    return frame.sort_values(["symbol", "ts_ns", "offset"], kind="stable").reset_index(drop=True)


def backfill_and_train(files: Sequence[Path], out_dir: Path, state_dir: Path, start_ns: int | None,
                       end_ns: int | None, symbols: Sequence[str] | None, console: object) -> object:
    """``tickwise train``: backfill the offline store with the live operators, then train."""
    from dataflows.components import build_components
    from dataflows.config import load_settings
    from models.train import TrainConfig, train_ensemble
    from sinks.clickhouse import ClickHouseSettings, ClickHouseSink

    state_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(clickhouse_url=f"chdb://{(state_dir / 'chdb').resolve()}", state_dir=state_dir)
    components = build_components(settings, ensemble=_NoModel())
    sink = ClickHouseSink(ClickHouseSettings(url=settings.clickhouse_url.get_secret_value()))
    console.print(f"backfilling features from {len(files)} file(s) with the live feature stage")  # type: ignore[attr-defined]
    result = run_backfill(components, files, start_ns, end_ns, symbols, sink)
    # Source positions identify rows; they are not features.
    frame = rows_to_frame(result.rows).drop(columns=["offset"])
    console.print(f"{result.ticks:,} ticks -> {len(frame):,} feature rows; training")  # type: ignore[attr-defined]
    return train_ensemble(frame, out_dir, TrainConfig())


class _NoModel:
    """Stands in for the ensemble when only the feature stage runs (backfill needs no model)."""

    version = "none"
    feature_names: tuple[str, ...] = ()

    def predict(self, features: object) -> object:  # pragma: no cover - never called by the backfill
        raise RuntimeError("the backfill flow does not score")
