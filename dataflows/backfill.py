"""Backfill: history files -> the live flow's own feature stage -> offline features -> training.

``tickwise train`` runs this flow in-process over tick files, writes every feature row to
the ClickHouse ``features`` table (the offline store) and hands the same rows to
``models.train``. Because the feature stage is the live one, training features equal the
features the live flow computes for the same ticks.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main

from dataflows.components import Components
from dataflows.signals import feature_stage
from dataflows.produce import EventPlan, ticks_with_events
from dataflows.tickfiles import iter_tick_messages, read_tick_frame
from operators.events import EventMessage
from operators.features.layout import depth_layout
from operators.messages import FeatureRow, SourceRecord

#: What a feature-set version carries after its base when its rows hold order-book features.
_, DEPTH_SUFFIX = depth_layout((), "")


def parse_day(text: str) -> int:
    """``"2013-10-08"`` -> epoch ns at 00:00 UTC, or a one-sentence error."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ValueError(f"expected a day as YYYY-MM-DD, got {text!r}") from None
    return int(day.timestamp()) * 1_000_000_000


class _FilePartition(StatefulSourcePartition[SourceRecord, int]):
    """Batches of a list of messages, or of an iterator consumed as it goes (``resume`` skips)."""

    def __init__(self, source: FileTickSource, resume: int | None) -> None:
        self._source = source
        self._next = resume or 0
        if source.iterator is not None and self._next:
            for _ in itertools.islice(source.iterator, self._next):
                pass

    def next_batch(self) -> list[SourceRecord]:
        source = self._source
        start = self._next
        if source.messages is not None:
            chunk = source.messages[start:start + source.batch_size]
        else:
            chunk = list(itertools.islice(source.iterator, source.batch_size))  # type: ignore[arg-type]
        if not chunk:
            raise StopIteration()
        topic = source.topic
        batch = [SourceRecord(topic, 0, offset, key, value) for offset, (key, value) in enumerate(chunk, start=start)]
        self._next = start + len(chunk)
        source.consumed = max(source.consumed, self._next)
        if source.progress is not None and self._next // PROGRESS_EVERY != start // PROGRESS_EVERY:
            source.progress(self._next)
        return batch

    def snapshot(self) -> int:
        return self._next


PROGRESS_EVERY = 500_000


class FileTickSource(FixedPartitionedSource[SourceRecord, int]):
    """The messages of tick files, in time order, as if read from one Kafka partition.

    A list is held and can be replayed; any other iterable (``iter_tick_messages``) is consumed
    lazily, so a backfill never holds millions of encoded messages at once. ``progress(n)`` is
    called every ``PROGRESS_EVERY`` messages.
    """

    def __init__(self, messages: Iterable[tuple[bytes, bytes]], topic: str = "file", batch_size: int = 10_000,
                 progress: Callable[[int], None] | None = None) -> None:
        self.messages = messages if isinstance(messages, list) else None
        self.iterator: Iterator[tuple[bytes, bytes]] | None = None if self.messages is not None else iter(messages)
        self.topic = topic
        self.batch_size = batch_size
        self.progress = progress
        self.consumed = 0

    def __len__(self) -> int:
        """The messages: all of a list; of an iterator, those read so far."""
        return len(self.messages) if self.messages is not None else self.consumed

    def list_parts(self) -> list[str]:
        return ["0"]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _FilePartition:
        return _FilePartition(self, resume_state)


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
    ticks: int  # messages read: ticks, and events with ``events``
    events: EventPlan | None = None  # the events merged in, and those left out


def run_backfill(components: Components, files: Sequence[Path], start_ns: int | None = None,
                 end_ns: int | None = None, symbols: Sequence[str] | None = None,
                 clickhouse_sink: object | None = None, progress: Callable[[int], None] | None = None,
                 events: Sequence[EventMessage] | None = None) -> Backfill:
    """The live feature stage over the tick files; with ``events``, the events that reach their symbols
    merged in event time, exactly as ``produce --events`` sends them (``dataflows.produce``)."""
    plan = None
    if events is None:
        messages: Iterable[tuple[bytes, bytes]] = iter_tick_messages(files, symbols, start_ns, end_ns)
    else:
        messages, plan = ticks_with_events(read_tick_frame(files, symbols, start_ns, end_ns), events,
                                        components.settings.events.limits().markets)
    source = FileTickSource(messages, progress=progress)
    collect = CollectRows()
    run_main(backfill_flow(components, source, collect, clickhouse_sink))
    return Backfill(rows=collect.rows, ticks=len(source), events=plan)


def common_features(rows: Sequence[FeatureRow]) -> Sequence[FeatureRow]:
    """``rows`` on one feature set. Rows of symbols with order books carry the depth features after
    the layout's (feature set ``<base>+l2.<hash>``, then the extensions of the joins that are on, such as
    ``+events1``); mixed with rows of symbols without books (``<base>`` and the same extensions), they keep
    only the features the others have, by name, so the model trains on what every symbol has and is one
    the live flow accepts (``check_feature_set``: the base hash and the joins' extensions). Rows of one
    feature set are returned as they are.

    >>> book = FeatureRow("B", 1, 0, 1, 9.0, ("mid", "depth_imbalance_l1", "us_x"), (9.0, 0.5, 1.0),
    ...                   "v1" + DEPTH_SUFFIX + "+events1", (0, 0, 0))
    >>> common_features([book, FeatureRow("T", 1, 0, 2, 5.0, ("mid", "us_x"), (5.0, 1.0), "v1+events1", (0, 0))])[0]
    FeatureRow(symbol='B', ts_ns=1, partition=0, offset=1, price=9.0, names=('mid', 'us_x'), values=(9.0, 1.0), feature_set='v1+events1', quality=(0, 0))
    """
    versions = {row.feature_set for row in rows}
    if len(versions) <= 1:
        return rows
    mixed = ValueError(f"the backfill produced rows of {len(versions)} feature sets ({sorted(versions)}); expected "
                       f"one, or one and its order-book extension ({DEPTH_SUFFIX} after the base hash)")
    commons = {version.replace(DEPTH_SUFFIX, "", 1) for version in versions}
    common = commons.pop()
    names = next((row.names for row in rows if row.feature_set == common), ())
    if commons or not names:
        raise mixed
    positions: dict[tuple[str, ...], list[int]] = {}  # per layout of the book rows: where each common name is
    out = []
    for row in rows:
        if row.feature_set == common:
            out.append(row)
            continue
        index = positions.get(row.names)
        if index is None:
            where = {name: i for i, name in enumerate(row.names)}
            if any(name not in where for name in names):
                raise mixed
            index = positions[row.names] = [where[name] for name in names]
        out.append(msgspec.structs.replace(row, names=names, values=tuple(row.values[i] for i in index),
                                           feature_set=common,
                                           quality=tuple(row.quality[i] for i in index) if row.quality else ()))
    return out


def book_symbols(rows: Sequence[FeatureRow]) -> list[str]:
    """The symbols whose rows carry order-book features."""
    return sorted({row.symbol for row in rows if DEPTH_SUFFIX in row.feature_set})


def rows_to_frame(rows: Sequence[FeatureRow]) -> pd.DataFrame:
    """Feature rows as a frame: ``symbol, ts_ns, offset, price`` + one column per feature (those every
    row has, ``common_features``)."""
    if not rows:
        raise ValueError("the backfill produced no feature rows; check the files and the date range")
    rows = common_features(rows)
    names = list(rows[0].names)
    frame = pd.DataFrame(np.array([row.values for row in rows], dtype=np.float64), columns=names)
    frame.insert(0, "price", [row.price for row in rows])
    frame.insert(0, "offset", np.array([row.offset for row in rows], dtype=np.int64))
    frame.insert(0, "ts_ns", np.array([row.ts_ns for row in rows], dtype=np.int64))
    frame.insert(0, "symbol", [row.symbol for row in rows])
    return frame.sort_values(["symbol", "ts_ns", "offset"], kind="stable").reset_index(drop=True)


def latest_per_time(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per symbol and ``ts_ns`` (``frame`` sorted by symbol, time and offset), the later one.

    Two rows of a symbol can share a ``ts_ns``: the end of the input emits the state after the last
    tick (``flush``), which may carry the time of the row emitted a few ticks before it. At that time
    both ticks had happened, so the later row is what was known; labels need one row per time.

    >>> frame = pd.DataFrame({"symbol": ["X", "X", "X"], "ts_ns": [5, 5, 6], "offset": [1, 2, 3], "f": [1.0, 2.0, 3.0]})
    >>> latest_per_time(frame)["f"].tolist()
    [2.0, 3.0]
    """
    return frame.drop_duplicates(["symbol", "ts_ns"], keep="last").reset_index(drop=True)


def backfill_and_train(files: Sequence[Path], out_dir: Path, state_dir: Path, start_ns: int | None,
                       end_ns: int | None, symbols: Sequence[str] | None, console: object,
                       register: bool = True, held_out_from_ns: int | None = None,
                       bars: tuple[Path, Path] | None = None, events: Sequence[EventMessage] | None = None) -> object:
    """``tickwise train``: backfill the offline store with the live operators, train, then log the
    run and register the ensemble in the MLflow registry (``register=False`` skips that)."""
    from dataflows.components import build_components, registry_config
    from dataflows.config import load_settings
    from models.train import TrainConfig, train_ensemble
    from sinks.clickhouse import ClickHouseSettings, ClickHouseSink

    state_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(clickhouse={"url": f"chdb://{(state_dir / 'chdb').resolve()}"}, run={"state_dir": state_dir})
    components = build_components(settings, ensemble=_NoModel())
    sink = ClickHouseSink(ClickHouseSettings(url=settings.clickhouse.url.get_secret_value()))
    console.print(f"backfilling features from {len(files)} file(s) with the live feature stage")  # type: ignore[attr-defined]
    result = run_backfill(components, files, start_ns, end_ns, symbols, sink,
                          progress=lambda n: console.print(f"  {n:,} ticks"), events=events)  # type: ignore[attr-defined]
    # Source positions identify rows; they are not features.
    frame = latest_per_time(rows_to_frame(result.rows)).drop(columns=["offset"])
    if result.events is not None:
        console.print(result.events.describe(len(events or ())))  # type: ignore[attr-defined]
    console.print(f"{result.ticks:,} ticks -> {len(frame):,} feature rows; training")  # type: ignore[attr-defined]
    books = book_symbols(result.rows)
    if books and len(books) < len(set(frame["symbol"])):
        console.print(f"  {len(books)} symbol(s) with order books ({', '.join(books)}) train with the others on "  # type: ignore[attr-defined]
                      "the features every symbol has, without their depth features")
    def say(line: str) -> None:
        console.print(f"  {line}")  # type: ignore[attr-defined]

    parts = train_parts(files, out_dir, held_out_from_ns, bars, say)
    manifest = train_ensemble(frame, out_dir, TrainConfig(held_out_from_ns=held_out_from_ns), progress=say,
                              parts=parts)
    manifest = record_feature_set(out_dir, feature_set_of(result.rows))
    write_feature_profile(out_dir, frame)
    if bars is not None:
        from models.bars.context import refresh

        say(f"bar context as of every session: {refresh(out_dir, bars[0], bars[1])}")
    if register:
        from models.mlflow_registry import log_training_run

        config = registry_config(settings)
        info = log_training_run(config, out_dir, data_sha256=frame_sha256(frame))
        manifest["registry"] = {"name": info.name, "version": info.version, "run_id": info.run_id}
        console.print(f"logged run {info.run_id} and registered {info.name} version {info.version}; "  # type: ignore[attr-defined]
                      f"promote it with `tickwise models promote {info.version}`")
    return manifest


def train_parts(files: Sequence[Path], out_dir: Path, held_out_from_ns: int | None,
                bars: tuple[Path, Path] | None, say: Callable[[str], None]) -> dict[str, dict]:
    """The models beside the tick ensemble: the microstructure specialist (when the files hold one
    quotes file and one trades file, and a held-out day is given) and the long-history bar models
    (when ``bars`` names the hourly and daily bar files). Each is written under its own folder of
    ``out_dir`` and returns its manifest section."""
    from dataflows.tickfiles import check_tick_files

    parts: dict[str, dict] = {}
    layouts = dict(zip(check_tick_files(files), files))
    if held_out_from_ns is not None and set(layouts) == {"quote", "trade"} and len(files) == 2:
        from models.micro.train import train_micro

        day = datetime.fromtimestamp(held_out_from_ns / 1e9, tz=timezone.utc).strftime("%Y-%m-%d")
        say(f"microstructure specialist, held out {day}")
        parts["micro"] = {**train_micro(layouts["quote"], layouts["trade"], out_dir / "micro", held_out_day=day,
                                        progress=say), "dir": "micro"}
    else:
        say("no microstructure specialist: it needs one quotes file, one trades file and --held-out-from")
    if bars is not None:
        from models.bars.train import train_bar_models

        say("long-history bar models")
        parts["bars"] = {**train_bar_models(bars[0], bars[1], out_dir / "bars", progress=say), "dir": "bars"}
    return parts


def write_feature_profile(model_dir: Path, frame: pd.DataFrame) -> Path:
    """The training distribution of every feature (deciles) as ``feature_profile.json`` next to the
    model: the live flow's PSI reference. A separate file, so the model version does not change."""
    from operators.monitoring.psi import profile_from_columns

    features = [name for name in frame.columns if name not in ("symbol", "ts_ns", "offset", "price")]
    return profile_from_columns({name: frame[name].to_numpy(dtype=np.float64) for name in features}).save(model_dir)


def feature_set_of(rows: Sequence[FeatureRow]) -> str:
    """The one feature-set hash of the rows a model trains on (``common_features``: rows of symbols with
    and without order books train on the features they share)."""
    versions = {row.feature_set for row in common_features(rows)}
    if len(versions) != 1:
        raise ValueError(f"the backfill produced rows of {len(versions)} feature sets ({sorted(versions)}); expected one")
    return versions.pop()


def record_feature_set(model_dir: Path, feature_set: str) -> dict:
    """Write the feature-set hash into ``manifest.json`` so the flow can refuse a mismatched model.

    The field is not part of the content-addressed version (``models.manifest``): it names the
    feature definitions the columns came from, not anything that changes a prediction.
    """
    from models.manifest import read_manifest, write_manifest

    manifest = read_manifest(model_dir)
    manifest["feature_set"] = feature_set
    write_manifest(model_dir, manifest)
    return read_manifest(model_dir)


def frame_sha256(frame: pd.DataFrame) -> str:
    """A hash of the training table's content (values and column names, row order included)."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


class _NoModel:
    """Stands in for the ensemble when only the feature stage runs (backfill needs no model)."""

    version = "none"
    feature_names: tuple[str, ...] = ()

    def predict(self, features: object) -> object:  # pragma: no cover - never called by the backfill
        raise RuntimeError("the backfill flow does not score")
