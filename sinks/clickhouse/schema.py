"""A ClickHouse table declared once: its DDL, its migrations and its row builder come from it.

A ``Table`` names the record type it stores, its ``Column``s in order and its ORDER BY.
Every table is a ``ReplacingMergeTree`` whose ORDER BY ends with a deterministic id, so rows
written twice collapse at merge time. A column says how a record gives its value (an
attribute, a dotted path or a function: ids are computed from the record), or that the
server computes it (``computed``: ``MATERIALIZED ...`` / ``DEFAULT ...``; never written).
A column added after its table's first release is marked ``added`` and reaches tables
created by an older tickwise through ``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``.

>>> from operators.messages import CrossAssetRow
>>> table = Table("pairs", CrossAssetRow, (uint64_id("pair", "ts_ns"), Column("pair", "String"),
...               Column("beta", "Float64", added=True, added_default="0")), order_by=("pair", "id"))
>>> print(table.ddl())
<BLANKLINE>
CREATE TABLE IF NOT EXISTS pairs (
    id UInt64 COMMENT 'stable_uint64(pair, ts_ns)',
    pair String,
    beta Float64
) ENGINE = ReplacingMergeTree ORDER BY (pair, id)
>>> table.migrations()
('ALTER TABLE pairs ADD COLUMN IF NOT EXISTS beta Float64 DEFAULT 0',)
>>> table.columns_of([CrossAssetRow("IBM/SPY", "IBM", "SPY", 5, 1, 0.5, 1.2, 30)])[0]
('id', 'pair', 'beta')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import pyarrow as pa

from operators.messages.ids import stable_uint64

#: Column names and one list of values per column, as ``client.insert(column_oriented=True)`` takes them.
Columns = tuple[tuple[str, ...], list[list[Any]]]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "String": pa.string(), "Bool": pa.bool_(), "Float64": pa.float64(), "Int8": pa.int8(), "Int32": pa.int32(),
    "Int64": pa.int64(), "UInt8": pa.uint8(), "UInt32": pa.uint32(), "UInt64": pa.uint64(),
}
_WRAPPERS = ("LowCardinality(", "Nullable(")


def arrow_type(clickhouse_type: str) -> pa.DataType:
    """The Arrow type that inserts into a scalar ClickHouse column (wrappers that change only
    storage or nullability, ``LowCardinality`` and ``Nullable``, are looked through).

    >>> arrow_type("LowCardinality(Nullable(String))")
    DataType(string)
    """
    inner = clickhouse_type
    while inner.startswith(_WRAPPERS) and inner.endswith(")"):
        inner = inner[inner.index("(") + 1:-1]
    found = _ARROW_TYPES.get(inner)
    if found is None:
        raise ValueError(f"arrow_type: expected a scalar ClickHouse type ({', '.join(_ARROW_TYPES)}), "
                         f"got {clickhouse_type!r}")
    return found


@dataclass(frozen=True)
class Column:
    """One column: ``name type [computed] [COMMENT 'comment']``.

    ``value`` gives the column's value of a record: a function of the record, or the name of
    an attribute (dots follow nested attributes); by default the attribute named like the
    column. A ``computed`` column (the server fills it) is never written. ``added`` marks a
    column that tables created before it existed receive by migration, with ``added_default``
    (an expression) as the value of their existing rows.
    """

    name: str
    type: str
    comment: str = ""
    value: Callable[[Any], object] | str | None = None
    computed: str = ""
    added: bool = False
    added_default: str = ""

    def __post_init__(self) -> None:
        if self.added_default and not self.added:
            raise ValueError(f"column {self.name!r}: added_default is the value of rows that existed before the "
                             f"column was added, so it needs added=True, got added=False")
        if self.computed and self.value is not None:
            raise ValueError(f"column {self.name!r}: the server computes it ({self.computed}), so it takes no value")

    @property
    def written(self) -> bool:
        return not self.computed

    def definition(self) -> str:
        text = f"{self.name} {self.type}"
        if self.computed:
            text += f" {self.computed}"
        if self.comment:
            escaped = self.comment.replace("\\", "\\\\").replace("'", "\\'")
            text += f" COMMENT '{escaped}'"
        return text

    def migration(self) -> str:
        text = f"{self.name} {self.type}"
        return f"{text} DEFAULT {self.added_default}" if self.added_default else text

    def getter(self) -> Callable[[Any], object]:
        if callable(self.value):
            return self.value
        return attrgetter(self.value or self.name)


def uint64_id(*parts: str) -> Column:
    """The ``id UInt64`` column: ``stable_uint64`` of the record's attributes ``parts``."""
    get_parts = attrgetter(*parts)
    return Column("id", "UInt64", comment=f"stable_uint64({', '.join(parts)})",
                  value=lambda record: stable_uint64(*get_parts(record)))


@dataclass(frozen=True)
class Table:
    """A ``ReplacingMergeTree`` table of ``record`` instances.

    ``order_by`` ends with the deterministic id of a row. ``keeps`` selects the records of
    ``record`` that belong here (None: all of them). ``arrow`` inserts through Arrow, about
    half the cost per row of the native insert for a table that gets a row per tick; it
    needs scalar column types.
    """

    name: str
    record: type
    columns: tuple[Column, ...]
    order_by: tuple[str, ...]
    keeps: Callable[[Any], bool] | None = None
    arrow: bool = False
    _written: tuple[Column, ...] = field(init=False, repr=False, compare=False)
    _getters: tuple[Callable[[Any], object], ...] = field(init=False, repr=False, compare=False)
    _arrow_types: tuple[pa.DataType, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name!r}: column names must be unique, got {names}")
        unknown = [name for name in self.order_by if name not in names]
        if unknown or not self.order_by:
            raise ValueError(f"table {self.name!r}: ORDER BY must name its columns, got {self.order_by}")
        written = tuple(column for column in self.columns if column.written)
        object.__setattr__(self, "_written", written)
        object.__setattr__(self, "_getters", tuple(column.getter() for column in written))
        object.__setattr__(self, "_arrow_types",
                           tuple(arrow_type(column.type) for column in written) if self.arrow else ())

    @property
    def written_columns(self) -> tuple[Column, ...]:
        """The columns a row builder fills: all but the ``computed`` ones."""
        return self._written

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self._written)

    @property
    def id_column(self) -> str:
        """The deterministic id of a row: the last column of the ORDER BY."""
        return self.order_by[-1]

    def ddl(self) -> str:
        definitions = ",\n".join(f"    {column.definition()}" for column in self.columns)
        return (f"\nCREATE TABLE IF NOT EXISTS {self.name} (\n{definitions}\n) "
                f"ENGINE = ReplacingMergeTree ORDER BY ({', '.join(self.order_by)})")

    def migrations(self) -> tuple[str, ...]:
        return tuple(f"ALTER TABLE {self.name} ADD COLUMN IF NOT EXISTS {column.migration()}"
                     for column in self.columns if column.added)

    def columns_of(self, records: Sequence[Any]) -> Columns:
        """The written columns of ``records`` (all of this table), column-oriented."""
        return self.column_names, [list(map(getter, records)) for getter in self._getters]

    def arrow_table(self, records: Sequence[Any]) -> pa.Table:
        """The written columns of ``records`` as an Arrow table (an ``arrow`` table only)."""
        if not self.arrow:
            raise ValueError(f"table {self.name!r} is not declared arrow=True")
        names, columns = self.columns_of(records)
        return pa.table({name: pa.array(values, type=kind)
                         for name, values, kind in zip(names, columns, self._arrow_types, strict=True)})
