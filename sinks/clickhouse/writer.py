"""Column-oriented inserts of tickwise records into their tables (``tables.TABLE_DECLARATIONS``)."""

from __future__ import annotations

import atexit
import logging
import os
import tempfile
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from sinks.clickhouse.settings import ClickHouseSettings
from sinks.clickhouse.tables import TABLE_DECLARATIONS, TABLES, Record, group_by_table
from sinks.failure import describe_cause
from sinks.metrics import MetricsRegistry, default_metrics

logger = logging.getLogger(__name__)

SINK_NAME = "clickhouse"


class ClickHouseWriteError(RuntimeError):
    """An INSERT failed; the batch was not (fully) written."""


class ClickHouseWriter:
    """Column-oriented inserts of tickwise records, one INSERT per table per chunk."""

    def __init__(self, settings: ClickHouseSettings, metrics: MetricsRegistry | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self._client: Client | None = None
        self._column_types: dict[str, dict[str, str]] = {}

    @property
    def client(self) -> Client:
        if self._client is None:
            raise ClickHouseWriteError("clickhouse sink: connect() first (no client yet)")
        return self._client

    def connect(self) -> Client:
        """The client; a ClickHouse that cannot be reached or opened raises ``ClickHouseWriteError``
        naming the cause (chDB's own error hides it: its data directory is probed first)."""
        if self._client is None:
            logger.info("clickhouse sink: connecting to %s", self.settings.redacted_url())
            try:
                if self.settings.is_chdb:
                    _probe_writable(self.settings.chdb_path)
                self._client = clickhouse_connect.get_client(**self.settings.client_kwargs())
            except Exception as exc:
                raise ClickHouseWriteError(f"ClickHouse at {self.settings.redacted_url()} cannot be opened: "
                                           f"{describe_cause(exc)}") from exc
        return self._client

    def ensure_schema(self) -> None:
        """Create every table that is missing and add columns that newer versions introduced."""
        try:
            self._ensure_schema()
        except ClickHouseWriteError:
            raise
        except Exception as exc:
            raise ClickHouseWriteError(f"ClickHouse schema creation at {self.settings.redacted_url()} failed: "
                                       f"{describe_cause(exc)}") from exc

    def _ensure_schema(self) -> None:
        declarations = TABLE_DECLARATIONS.values()
        for declaration in declarations:
            self.client.command(declaration.ddl())
        for declaration in declarations:
            for migration in declaration.migrations():
                self.client.command(migration)
        # Known column types spare clickhouse-connect a DESCRIBE query before every INSERT.
        for table in TABLES:
            described = self.client.query(f"DESCRIBE TABLE {table}").result_rows
            self._column_types[table] = {row[0]: row[1] for row in described}

    def _type_names(self, table: str, names: Sequence[str]) -> list[str] | None:
        types = self._column_types.get(table)
        if types is None or any(name not in types for name in names):
            return None
        return [types[name] for name in names]

    def write(self, records: Iterable[Record]) -> dict[str, int]:
        """Insert the records, one column-oriented INSERT per table; rows written per table."""
        return self.write_groups(group_by_table(records))

    def write_groups(self, groups: dict[str, list[Any]]) -> dict[str, int]:
        """Insert records already grouped by table (``group_by_table``); rows written per table."""
        return {table: self.insert_rows(table, rows) for table, rows in groups.items() if rows}

    def insert_rows(self, table: str, rows: Sequence[Any]) -> int:
        """Insert records that all belong to ``table``, in chunks of ``batch_rows``."""
        declaration = TABLE_DECLARATIONS[table]
        metrics = self.metrics or default_metrics()
        step = self.settings.batch_rows
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            try:
                if declaration.arrow:
                    self.client.insert_arrow(table, declaration.arrow_table(chunk))
                else:
                    names, columns = declaration.columns_of(chunk)
                    self.client.insert(table, columns, column_names=names, column_oriented=True,
                                       column_type_names=self._type_names(table, names))
            except Exception as exc:
                metrics.count_sink_error(SINK_NAME)
                raise ClickHouseWriteError(
                    f"ClickHouse INSERT of {len(chunk)} rows into {table!r} failed: {describe_cause(exc)} "
                    f"at {self.settings.redacted_url()}") from exc
            metrics.count_sink_rows(SINK_NAME, table, len(chunk))
        return len(rows)

    def abandon(self) -> None:
        """Let go of the client without closing it (after a failure: a close could block or raise)."""
        self._client = None

    def close(self) -> None:
        """Close the client. A chDB client closed from a Bytewax worker thread of a process
        running several workers deadlocks inside chDB (seen with chdb 4.4, ``-w 2``), so off
        the main thread its close is deferred to interpreter exit (writes are already done:
        every INSERT is synchronous)."""
        client, self._client = self._client, None
        if client is None:
            return
        if self.settings.is_chdb and threading.current_thread() is not threading.main_thread():
            _close_at_exit(client)
        else:
            client.close()


def _probe_writable(path: str) -> None:
    """Raise the ``OSError`` (read-only file system, permission, disk full) that keeps chDB from writing
    to its data directory ``path``; chDB reports it only as "Error initializing EmbeddedServer"."""
    os.makedirs(path, exist_ok=True)
    with tempfile.TemporaryFile(dir=path, prefix=".tickwise-probe-") as probe:
        probe.write(b"\0")
        probe.flush()


_deferred_clients: list[Client] = []


def _close_deferred_clients() -> None:
    while _deferred_clients:
        _deferred_clients.pop().close()


def _close_at_exit(client: Client) -> None:
    if not _deferred_clients:
        atexit.register(_close_deferred_clients)
    _deferred_clients.append(client)


def count_rows(client: Client, table: str) -> int:
    """Rows of ``table`` after replacing duplicates (``SELECT count() FROM table FINAL``)."""
    if table not in TABLE_DECLARATIONS:
        raise ValueError(f"count_rows: expected one of {', '.join(TABLES)}, got {table!r}")
    return int(client.command(f"SELECT count() FROM {table} FINAL"))


def count_all(client: Client) -> dict[str, int]:
    """``count_rows`` of every tickwise table (for run summaries)."""
    return {table: count_rows(client, table) for table in TABLES}
