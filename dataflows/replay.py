"""Replay a Kafka offset range through the live flow into files, and compare two replays.

A replay runs ``dataflows.signals.build_flow`` (the very flow ``tickwise run`` runs) in this
process with fresh state, one pinned model version and file outputs instead of the live
sinks. Its ends come from ``--to-offsets`` or from the fetch reaching the end of each
partition, never from broker metadata. Every output file is sorted by
``(ts_ns, symbol, partition, offset)`` (then by the encoded row), and the manifest holds no
wall-clock value, so two replays of the same range with the same model are byte-identical.

Files written under the output directory: ``features.jsonl``, ``predictions.jsonl``,
``decisions.jsonl`` (every risk decision), ``signals.jsonl`` (accepted decisions),
``rejects.jsonl``, ``monitor_events.jsonl``, ``cross_asset.jsonl`` and ``manifest.json``. The
manifest's ``ticks`` counts every offset read: ``valid`` (admitted trades, quotes and order-book
messages, option messages, events; ``depth_messages``, ``option_messages`` and ``event_messages`` say
how many of them were order-book snapshots and deltas, option quotes, trades and open interest, and
events) plus ``rejected``.

>>> sort_key(Reject("invalid_json", "d", "decode", "t", 1, 7, b"x"))[:4]
(-1, '', 1, 7)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec
import orjson
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from dataflows.collecting import collect_history
from dataflows.sources import KafkaSourceSettings, KafkaTickSource
from operators.messages import (BookDelta, BookSnapshot, CrossAssetRow, Decision, DriftEvent, FeatureRow, Outcome,
                                PnlRow, Prediction, Reject, SourceRecord, TickBatch, ValidTick)
from operators.events import EventTick
from operators.options.messages import OPTION_TYPES

OUTPUT_FILES: tuple[str, ...] = ("features", "predictions", "decisions", "signals", "rejects", "monitor_events",
                                 "cross_asset", "outcomes")
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_FILE_OF: dict[type, str] = {FeatureRow: "features", Prediction: "predictions", Decision: "decisions",
                             Reject: "rejects", DriftEvent: "monitor_events", CrossAssetRow: "cross_asset",
                             Outcome: "outcomes"}
# The live paper P&L fills decisions against the ticks that have arrived by then, so its rows
# depend on arrival order across partitions; a replay leaves it out (byte-identical outputs),
# and `tickwise backtest` computes P&L deterministically, strictly in event order.
_NOT_REPLAYED: tuple[type, ...] = (PnlRow,)
_BOOK_TYPES = (BookSnapshot, BookDelta)


class ReplayError(ValueError):
    """The replay range or directory is not usable; the message says why."""


@dataclass(frozen=True)
class ReplayRange:
    """Offsets to replay: ``start`` (empty = every partition from its beginning) to ``end`` (exclusive)."""

    start: Mapping[int, int] = field(default_factory=dict)
    end: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.start:
            unknown = sorted(set(self.end) - set(self.start))
            if unknown:
                raise ReplayError(f"--to-offsets names partition(s) {unknown} that --from-offsets does not")
        for partition, end in self.end.items():
            if end < self.start.get(partition, 0):
                raise ReplayError(f"partition {partition}: --to-offsets {end} is before --from-offsets "
                                  f"{self.start[partition]}")

    def partitions(self, available: list[int]) -> list[int]:
        """The partitions to read: all of them from the start, else the ones named."""
        if not self.start:
            return available
        missing = sorted(set(self.start) - set(available))
        if missing:
            raise ReplayError(f"partition(s) {missing} do not exist (the topic has {available})")
        return sorted(self.start)


# -- the source: the live Kafka source, restricted to the replayed partitions, recording coverage --


@dataclass
class Coverage:
    """What the source read of one partition: first offset, next offset after the last, count."""

    first: int | None = None
    next: int | None = None
    records: int = 0


class _RecordingPartition(StatefulSourcePartition[SourceRecord, int]):
    def __init__(self, inner: StatefulSourcePartition[SourceRecord, int], coverage: Coverage) -> None:
        self._inner = inner
        self._coverage = coverage

    def next_batch(self) -> Iterable[SourceRecord]:
        batch = list(self._inner.next_batch())
        if batch:
            coverage = self._coverage
            if coverage.first is None:
                coverage.first = batch[0].offset
            coverage.next = batch[-1].offset + 1
            coverage.records += len(batch)
        return batch

    def snapshot(self) -> int:
        return self._inner.snapshot()

    def close(self) -> None:
        self._inner.close()


class ReplaySource(FixedPartitionedSource[SourceRecord, int]):
    """``KafkaTickSource`` over the replayed partitions only; records what each one read."""

    def __init__(self, settings: KafkaSourceSettings, replay_range: ReplayRange) -> None:
        self._inner = KafkaTickSource(settings)
        self._range = replay_range
        self.coverage: dict[int, Coverage] = {}

    def list_parts(self) -> list[str]:
        available = [int(part) for part in self._inner.list_parts()]
        return [str(partition) for partition in self._range.partitions(available)]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _RecordingPartition:
        coverage = self.coverage.setdefault(int(for_part), Coverage())
        return _RecordingPartition(self._inner.build_part(step_id, for_part, resume_state), coverage)


# -- the sink: every history record, collected in memory as encoded lines with their sort key --

SortKey = tuple[int, str, int, int, bytes]


def sort_key(record: Any, line: bytes = b"") -> SortKey:
    """``(ts_ns, symbol, partition, offset, line)``; absent fields sort first."""
    ts_ns = getattr(record, "ts_ns", None)
    return (-1 if ts_ns is None else ts_ns, getattr(record, "symbol", None) or "",
            getattr(record, "partition", -1), getattr(record, "offset", -1), line)


@dataclass
class Collected:
    lines: dict[str, list[SortKey]] = field(default_factory=lambda: {name: [] for name in OUTPUT_FILES})
    valid_ticks: int = 0  # admitted trades, quotes, depth and option messages, events
    depth_messages: int = 0  # of which order-book snapshots and deltas
    option_messages: int = 0  # of which option quotes, trades and open interest
    event_messages: int = 0  # of which events
    feature_sets: set[str] = field(default_factory=set)
    model_versions: set[str] = field(default_factory=set)

    def add(self, record: Any) -> None:
        if isinstance(record, TickBatch):
            self._count(record.ticks)
            return
        if isinstance(record, ValidTick):
            self._count([record])
            return
        name = _FILE_OF.get(type(record))
        if name is None and isinstance(record, _NOT_REPLAYED):
            return
        if name is None:
            raise TypeError(f"replay sink: expected a history record, got {type(record).__name__}")
        line = msgspec.json.encode(record)
        key = sort_key(record, line)
        self.lines[name].append(key)
        if isinstance(record, FeatureRow):
            self.feature_sets.add(record.feature_set)
        elif isinstance(record, Decision):
            self.model_versions.add(record.model_version)
            if record.accepted:
                self.lines["signals"].append(key)
        elif isinstance(record, Prediction):
            self.model_versions.add(record.model_version)


    def _count(self, ticks: list[ValidTick]) -> None:
        self.valid_ticks += len(ticks)
        self.depth_messages += sum(type(tick.tick) in _BOOK_TYPES for tick in ticks)
        self.option_messages += sum(type(tick.tick) in OPTION_TYPES for tick in ticks)
        self.event_messages += sum(type(tick.tick) is EventTick for tick in ticks)


# -- running and writing --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayResult:
    out_dir: Path
    manifest: dict[str, Any]


def prepare_out_dir(out_dir: Path) -> None:
    """An empty or absent directory, or a previous replay (its files are replaced)."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ReplayError(f"--out {out_dir} exists and is not a directory")
        foreign = [p.name for p in out_dir.iterdir()
                   if p.name != MANIFEST and p.name.removesuffix(".jsonl") not in OUTPUT_FILES]
        if foreign or (any(out_dir.iterdir()) and not (out_dir / MANIFEST).exists()):
            raise ReplayError(f"--out {out_dir} holds other files; give an empty or new directory")
    out_dir.mkdir(parents=True, exist_ok=True)


def write_replay(out_dir: Path, collected: Collected, manifest: dict[str, Any]) -> dict[str, Any]:
    counts = {}
    for name in OUTPUT_FILES:
        keyed = sorted(collected.lines[name])
        counts[name] = len(keyed)
        with open(out_dir / f"{name}.jsonl", "wb") as handle:
            for key in keyed:
                handle.write(key[-1])
                handle.write(b"\n")
    manifest = {**manifest, "counts": counts}
    (out_dir / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
                                     + b"\n")
    return manifest


def run_replay(components: Any, source_settings: KafkaSourceSettings, replay_range: ReplayRange,
               out_dir: Path) -> ReplayResult:
    """Replay ``replay_range`` through ``build_flow`` with ``components`` (fresh state) into ``out_dir``."""
    prepare_out_dir(out_dir)
    source_settings = replace(source_settings, until_eof=True, start_offsets=dict(replay_range.start),
                              end_offsets=dict(replay_range.end))
    source = ReplaySource(source_settings, replay_range)
    collected = Collected()
    collect_history(components, source, collected, flow_id="tickwise_replay")
    rejected = len(collected.lines["rejects"])
    partitions = {}
    for partition, coverage in sorted(source.coverage.items()):
        partitions[str(partition)] = {"from": coverage.first, "to": coverage.next, "records": coverage.records}
    manifest = {
        "format": FORMAT_VERSION,
        "flow": "dataflows.signals:build_flow",
        "topic": source_settings.topic,
        "requested": {"from": {str(p): o for p, o in sorted(replay_range.start.items())} or "start",
                      "to": {str(p): o for p, o in sorted(replay_range.end.items())} or "end"},
        "partitions": partitions,
        "model_version": components.ensemble.version,
        "feature_sets": sorted(collected.feature_sets),
        "ticks": {"read": sum(c.records for c in source.coverage.values()), "valid": collected.valid_ticks,
                  "rejected": rejected, "depth_messages": collected.depth_messages,
                  "option_messages": collected.option_messages, "event_messages": collected.event_messages},
    }
    if collected.model_versions - {components.ensemble.version}:
        raise ReplayError(f"outputs carry model versions {sorted(collected.model_versions)}, "
                          f"expected only {components.ensemble.version}")
    return ReplayResult(out_dir, write_replay(out_dir, collected, manifest))


# -- comparing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileDiff:
    name: str
    left_lines: int | None
    right_lines: int | None
    first_difference: int | None = None  # 1-based line number
    left: str | None = None
    right: str | None = None

    @property
    def same(self) -> bool:
        return self.first_difference is None and self.left_lines == self.right_lines


def _lines(path: Path) -> list[bytes] | None:
    return path.read_bytes().splitlines() if path.exists() else None


def _shorten(line: bytes | None, width: int = 400) -> str | None:
    if line is None:
        return None
    text = line.decode("utf-8", "replace")
    return text if len(text) <= width else text[:width] + "..."


def compare_replays(left_dir: Path, right_dir: Path) -> list[FileDiff]:
    """Per output file: line counts and the first differing line of two replay directories."""
    for directory in (left_dir, right_dir):
        if not (directory / MANIFEST).is_file():
            raise ReplayError(f"{directory} is not a replay directory (no {MANIFEST})")
    names = sorted({p.name for d in (left_dir, right_dir) for p in d.iterdir()
                    if p.name == MANIFEST or p.suffix == ".jsonl"})
    diffs = []
    for name in names:
        left, right = _lines(left_dir / name), _lines(right_dir / name)
        first = None
        if left is None or right is None:
            first = 1
        else:
            first = next((i + 1 for i, (a, b) in enumerate(zip(left, right)) if a != b), None)
            if first is None and len(left) != len(right):
                first = min(len(left), len(right)) + 1
        pick = (lambda lines: None if lines is None or first is None or first > len(lines) else lines[first - 1])
        diffs.append(FileDiff(name, None if left is None else len(left), None if right is None else len(right),
                              first, _shorten(pick(left)), _shorten(pick(right))))
    return diffs
