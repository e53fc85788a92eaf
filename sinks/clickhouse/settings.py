"""Where the ClickHouse history goes: a chDB data directory or a ClickHouse server.

The URL picks the engine: ``chdb:///abs/path`` opens chDB in this process (one engine per
process, one process per data directory, so ``ClickHouseSink`` then has exactly one
partition), ``http(s)://user:password@host:port/database`` a ClickHouse server, or the
embedded stack's ``http://127.0.0.1:port``: chDB served by ``sinks.clickhouse.service``, which
every process reaches at once through the same client code as a server.

>>> ClickHouseSettings("https://reader:hunter2@ch.internal:8443/market").redacted_url()
'https://reader:***@ch.internal:8443/market'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from sinks.redaction import UnsafeUrl, parse_url, redact_url


@dataclass(frozen=True, repr=False)
class ClickHouseSettings:
    """Where the history goes, and how rows are batched on the way.

    The sink collects rows per table across Bytewax batches and inserts a table once it holds
    ``batch_rows`` rows or its oldest row is ``flush_interval_s`` old (one such table per
    batch), and everything at each epoch's snapshot and at close, so a recovery snapshot never
    covers a row that is not in ClickHouse yet.
    """

    #: ``chdb:///abs/path`` or ``http(s)://user:password@host:port/database``; the password is
    #: a secret (``repr`` and logs show ``redacted_url()``).
    url: str
    #: The most rows of one INSERT; a bigger write is split.
    batch_rows: int = 10_000
    #: How long a table's oldest collected row may wait (wall clock: delivery, not event time).
    flush_interval_s: float = 0.5
    #: Sink partitions (parallel writers) for a server; chDB always has exactly one.
    partitions: int = 1
    connect_timeout_s: float = 10.0
    send_receive_timeout_s: float = 300.0

    def __post_init__(self) -> None:
        try:
            scheme = parse_url(self.url, ("chdb", "http", "https")).scheme
        except UnsafeUrl as error:
            raise ValueError(f"ClickHouseSettings.url: {error}, got {self.redacted_url()!r}") from None
        if scheme == "chdb" and not self.chdb_path.startswith("/"):
            raise ValueError(f"ClickHouseSettings.url must be chdb:///absolute/path, got {self.redacted_url()!r}")
        if self.batch_rows < 1:
            raise ValueError(f"ClickHouseSettings.batch_rows must be >= 1, got {self.batch_rows}")
        if not self.flush_interval_s >= 0.0:
            raise ValueError(f"ClickHouseSettings.flush_interval_s must be >= 0, got {self.flush_interval_s}")
        if self.partitions < 1:
            raise ValueError(f"ClickHouseSettings.partitions must be >= 1, got {self.partitions}")

    @property
    def is_chdb(self) -> bool:
        return self.url.startswith("chdb:")

    @property
    def chdb_path(self) -> str:
        return self.url[len("chdb://"):]

    @property
    def partition_count(self) -> int:
        return 1 if self.is_chdb else self.partitions

    def redacted_url(self) -> str:
        return redact_url(self.url)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``clickhouse_connect.get_client`` (includes the password)."""
        if self.is_chdb:
            return {"dsn": self.url}
        parts = urlsplit(self.url)
        database = parts.path.strip("/") or "default"
        return {
            "interface": parts.scheme,
            "host": parts.hostname or "localhost",
            "port": parts.port or (8443 if parts.scheme == "https" else 8123),
            "username": unquote(parts.username) if parts.username else "default",
            "password": unquote(parts.password) if parts.password else "",
            "database": database,
            "connect_timeout": self.connect_timeout_s,
            "send_receive_timeout": self.send_receive_timeout_s,
        }

    def __repr__(self) -> str:
        return (f"ClickHouseSettings(url={self.redacted_url()!r}, batch_rows={self.batch_rows}, "
                f"flush_interval_s={self.flush_interval_s}, partitions={self.partitions})")
