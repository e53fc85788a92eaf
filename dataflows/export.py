"""The research archive: ``tickwise export`` copies a run's features, predictions and decisions out of
ClickHouse, one UTC day at a time, to a Delta Lake table or to partitioned Parquet.

ClickHouse is the run's working history; research (notebooks, backtests, training on months of
rows) wants files that any engine reads without a server. Each exported table is a directory under
``--out`` (``features``, ``predictions``, ``decisions``) partitioned by ``day=YYYY-MM-DD``:

- ``delta``: a Delta Lake table (the ``deltalake`` package), written with ``mode="overwrite"`` and the
  predicate ``day = '...'``, so a transaction replaces exactly that day's partition;
- ``parquet``: Hive-style ``day=YYYY-MM-DD/part-0.parquet``, written beside the old partition and then
  swapped in by a rename.

Either way re-exporting a day replaces it, never duplicates it (a day that now has no rows is
removed). Rows are read with ``FINAL`` (a row a recovery wrote twice counts once) and carry their
lineage: ``partition`` and ``offset`` of the tick behind them, ``model_version`` (predictions,
decisions), ``feature_set`` (the feature-set version; joined from the feature row of the same tick
for predictions and decisions), ``inserted_at`` and ``exported_at``. ClickHouse reads them back
with ``deltaLakeLocal('<out>/features')`` (chDB; ``deltaLake`` on a server's object store) or
``file('<out>/features/day=*/*.parquet', Parquet)``; pandas with ``pd.read_parquet`` or
``deltalake.DeltaTable(...).to_pandas()``.

Delta Lake has no unsigned integers and stores times in microseconds, so ``quality`` flags become
int16, ``inserted_at`` a microsecond timestamp, and the features' uint64 ``id`` (a hash of symbol,
ts_ns, partition and offset, which the archive keeps themselves) is left out; event times stay
exact in ``ts_ns``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["EXPORT_FORMATS", "EXPORT_TABLES", "ExportedDay", "export_day", "parse_days", "parse_tables"]

#: Archive name -> ClickHouse table.
EXPORT_TABLES = {"features": "features", "predictions": "predictions", "decisions": "risk_decisions"}
EXPORT_FORMATS = ("delta", "parquet")
DAY_NS = 86_400 * 1_000_000_000
#: Written columns left out: the uint64 row hash (Delta Lake has no unsigned integers; symbol, ts_ns, partition
#: and offset make it). Of the computed ones only ``inserted_at`` is kept (``ts`` is ``ts_ns`` in nanoseconds,
#: which Delta Lake cannot hold).
_LEFT_OUT = frozenset({"id"})
#: Columns whose ClickHouse type Delta Lake lacks (unsigned integers), read as one it has.
_CASTS = {"quality": "CAST(t.quality, 'Array(Int16)')", "inserted_at": "toDateTime64(t.inserted_at, 6, 'UTC')"}


@dataclass(frozen=True)
class ExportedDay:
    """One table's day in the archive: how many rows it now holds there, and where."""

    table: str
    day: date
    rows: int
    path: Path


def parse_days(specs: Sequence[str]) -> list[date]:
    """``YYYY-MM-DD`` days and ``YYYY-MM-DD..YYYY-MM-DD`` ranges (both ends included), sorted, once each.

    >>> [str(day) for day in parse_days(["2013-10-10", "2013-10-08..2013-10-09"])]
    ['2013-10-08', '2013-10-09', '2013-10-10']
    """
    days: set[date] = set()
    for spec in specs:
        first, _, last = spec.partition("..")
        start, end = _day(first, spec), _day(last or first, spec)
        if end < start:
            raise ValueError(f"--day: expected a range whose first day is not after its last, got {spec!r}")
        days.update(start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return sorted(days)


def _day(text: str, spec: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--day: expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, got {spec!r}") from None


def parse_tables(spec: str) -> list[str]:
    """``features,predictions,decisions`` (any of them) as archive names, in the order given."""
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in EXPORT_TABLES]
    if unknown or not names:
        raise ValueError(f"--tables: expected a comma-separated list of {', '.join(EXPORT_TABLES)}, got {spec!r}")
    return list(dict.fromkeys(names))


def export_day(client: Any, name: str, day: date, out: Path, fmt: str, exported_at: datetime) -> ExportedDay:
    """Replace ``day``'s partition of archive table ``name`` under ``out`` with ClickHouse's rows of that day."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"--format: expected one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    rows = day_rows(client, name, day, exported_at)
    path = out / name
    if fmt == "delta":
        _write_delta(rows, path, day)
    else:
        _write_parquet(rows, path, day)
    return ExportedDay(name, day, rows.num_rows, path)


def day_rows(client: Any, name: str, day: date, exported_at: datetime) -> pa.Table:
    """Archive table ``name``'s rows of ``day`` (UTC, by event time) as Arrow, lineage columns included."""
    from sinks.clickhouse import TABLE_DECLARATIONS

    table = EXPORT_TABLES[name]
    start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) * 1_000_000_000
    names = [*(column for column in TABLE_DECLARATIONS[table].column_names if column not in _LEFT_OUT), "inserted_at"]
    columns = [f"{_CASTS.get(column, f't.`{column}`')} AS `{column}`" for column in names]
    lineage = "" if table == "features" else (
        "LEFT JOIN (SELECT symbol, partition, offset, any(feature_set) AS feature_set FROM features FINAL "
        "WHERE ts_ns >= %(start)s AND ts_ns < %(end)s GROUP BY symbol, partition, offset) AS f "
        "ON t.symbol = f.symbol AND t.partition = f.partition AND t.offset = f.offset ")
    feature_set = [] if table == "features" else ["f.feature_set AS feature_set"]
    sql = (f"SELECT {', '.join([*columns, *feature_set])} FROM {table} AS t FINAL {lineage}"
           "WHERE t.ts_ns >= %(start)s AND t.ts_ns < %(end)s "
           "ORDER BY t.symbol, t.ts_ns SETTINGS join_use_nulls = 1")
    rows = _plain(client.query_arrow(sql, parameters={"start": start, "end": start + DAY_NS}))
    stamp = pa.array([exported_at] * rows.num_rows, pa.timestamp("us", "UTC"))
    return rows.append_column("exported_at", stamp).append_column("day", pa.array([day.isoformat()] * rows.num_rows))


def _plain(table: pa.Table) -> pa.Table:
    """Arrow columns every reader takes: dictionaries (LowCardinality) decoded, strings as ``string``, times
    in microseconds."""
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_large_string(kind):
            kind = pa.string()
        if pa.types.is_timestamp(kind):
            kind = pa.timestamp("us", "UTC")
        fields.append(pa.field(field.name, kind))
    return table.cast(pa.schema(fields))


def _write_delta(rows: pa.Table, path: Path, day: date) -> None:
    from deltalake import DeltaTable, write_deltalake

    predicate = f"day = '{day.isoformat()}'"
    if rows.num_rows:
        # merge: a column a newer version added to the ClickHouse table is added to the archive (null before)
        write_deltalake(str(path), rows, mode="overwrite", predicate=predicate, partition_by=["day"],
                        schema_mode="merge")
    elif DeltaTable.is_deltatable(str(path)):
        DeltaTable(str(path)).delete(predicate)


def _write_parquet(rows: pa.Table, path: Path, day: date) -> None:
    partition = path / f"day={day.isoformat()}"
    staged = path / f".day={day.isoformat()}.staged"
    shutil.rmtree(staged, ignore_errors=True)
    if rows.num_rows:
        staged.mkdir(parents=True)
        pq.write_table(rows.drop_columns(["day"]), staged / "part-0.parquet")
    retired = path / f".day={day.isoformat()}.retired"
    if partition.exists():
        partition.rename(retired)
    if rows.num_rows:
        staged.rename(partition)
    shutil.rmtree(retired, ignore_errors=True)
