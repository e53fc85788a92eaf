"""Insert throughput of the ClickHouse writer: chDB in this process vs the stack's HTTP service over chDB.

    .venv/bin/python -m bench.clickhouse_http                    # 100,000 ticks, batches of 10,000, 3 rounds
    .venv/bin/python -m bench.clickhouse_http --rows 200000 --batch-rows 2000 --rounds 5

The same ``ValidTick`` records go through ``ClickHouseWriter.write`` (the sink's path: column-oriented
Native inserts by clickhouse-connect) into the ``ticks`` table of two fresh chDB directories: one
opened in this process (``chdb://``), one served by ``python -m sinks.clickhouse.service`` in its own
process (``http://127.0.0.1:PORT``, lz4 request bodies as clickhouse-connect sends by default). Each
round writes every row once; the table shows rows/s per round and the median. Figures, never
assertions: bench/ prints, tests do not time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from dataflows.stack import free_port
from operators.messages import Trade, ValidTick
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter, count_rows
from sinks.metrics import MetricsRegistry

TS = 1_700_000_000_000_000_000


def tick_records(rows: int, round_index: int) -> list[ValidTick]:
    """Distinct ticks per round (offsets differ), so no round's rows replace another's."""
    return [ValidTick(Trade(f"S{i % 50}", TS + i, 100.0 + (i % 997) / 8, 10.0 + i % 13, "buy" if i % 2 else "sell"),
                      "ticks", round_index, i) for i in range(rows)]


def timed_rounds(url: str, rows: int, batch_rows: int, rounds: int) -> list[float]:
    writer = ClickHouseWriter(ClickHouseSettings(url, batch_rows=batch_rows), MetricsRegistry())
    writer.connect()
    writer.ensure_schema()
    rates = []
    for round_index in range(rounds):
        records = tick_records(rows, round_index)
        started = time.perf_counter()
        writer.write(records)
        rates.append(rows / (time.perf_counter() - started))
    assert count_rows(writer.client, "ticks") == rows * rounds, "not every row arrived"
    writer.close()
    return rates


def start_service(path: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "sinks.clickhouse.service", "--path", str(path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the service did not answer on port {port} within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tickwise-bench-ch-") as work:
        port = free_port()
        service = start_service(Path(work) / "served", port)
        try:
            http = timed_rounds(f"http://127.0.0.1:{port}", args.rows, args.batch_rows, args.rounds)
        finally:
            service.terminate()
            service.wait(timeout=30)
        embedded = timed_rounds(f"chdb://{Path(work) / 'embedded'}", args.rows, args.batch_rows, args.rounds)
    print(f"ticks inserts, {args.rows:,} rows per round in batches of {args.batch_rows:,}")
    print(f"{'path':<22}{'rows/s per round':<44}median")
    for name, rates in (("in-process chDB", embedded), ("HTTP service (chDB)", http)):
        shown = ", ".join(f"{rate:,.0f}" for rate in rates)
        print(f"{name:<22}{shown:<44}{statistics.median(rates):,.0f}")
    print(f"HTTP / in-process: {statistics.median(http) / statistics.median(embedded):.2f}")


if __name__ == "__main__":
    main()
