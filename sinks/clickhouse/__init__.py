"""History for research, backtests and dashboards: one ClickHouse table per record type.

Every table is declared once (``tables``, with the ``schema.Table`` contract): its DDL, its
migrations and its row builder come from that declaration. Every table is a
``ReplacingMergeTree`` whose ORDER BY ends with a deterministic id, so a batch written twice
(Bytewax recovery gives at-least-once output) collapses to one row per id at merge time;
read with ``FINAL`` (``count_rows`` does) or ``argMax``.

- ``settings``: ``ClickHouseSettings`` (chDB or a server, batching).
- ``schema``: ``Column`` and ``Table``, which generate DDL, migrations and columns of records.
- ``tables``: the declarations, ``group_by_table`` and ``OFFSET_TABLES`` (the tables whose rows
  account for every offset of the ticks topic: ``ticks``, ``book_messages``, ``option_messages``,
  ``event_messages``, ``rejects``).
- ``writer``: ``ClickHouseWriter`` (schema creation, chunked inserts), ``count_rows``.
- ``sink``: ``ClickHouseSink``, the Bytewax sink that collects rows per table.
- ``engine`` and ``service``: one chDB directory served over ClickHouse's HTTP interface
  (``python -m sinks.clickhouse.service``), the embedded stack's ClickHouse.
"""

from sinks.clickhouse.schema import Column, Columns, Table
from sinks.clickhouse.settings import ClickHouseSettings
from sinks.clickhouse.sink import ClickHouseSink
from sinks.clickhouse.tables import (ADDED_COLUMNS, OFFSET_TABLES, TABLE_DDL, TABLE_DECLARATIONS, TABLES, Record,
                                     group_by_table, tick_id)
from sinks.clickhouse.writer import SINK_NAME, ClickHouseWriteError, ClickHouseWriter, count_all, count_rows

__all__ = [
    "ADDED_COLUMNS", "OFFSET_TABLES", "SINK_NAME", "TABLES", "TABLE_DDL", "TABLE_DECLARATIONS", "ClickHouseSettings", "ClickHouseSink",
    "ClickHouseWriteError", "ClickHouseWriter", "Column", "Columns", "Record", "Table",
    "count_all", "count_rows", "group_by_table", "tick_id",
]
