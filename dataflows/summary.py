"""The run summary: counts read back from ClickHouse (deduplicated with FINAL)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import orjson

from sinks.clickhouse import TABLES, ClickHouseSettings, ClickHouseWriter


@dataclass(frozen=True)
class RunSummary:
    ticks_in: int
    ticks_valid: int
    ticks_rejected: int
    features: int
    predictions: int
    signals_accepted: int
    signals_denied: int
    drift_events: int
    elapsed_s: float
    ticks_per_s: float
    processes: int
    workers: int
    model_version: str
    rejects_by_reason: dict[str, int]

    def json_line(self) -> str:
        return orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS).decode()


def summarize(clickhouse_url: str, elapsed_s: float, processes: int, workers: int,
              since_ms: int | None = None) -> RunSummary:
    """Counts of the rows this run wrote (``inserted_at >= since_ms``; all rows when None).

    Rows are read with FINAL, so a row written twice (a replay after a resume) counts once.
    """
    writer = ClickHouseWriter(ClickHouseSettings(url=clickhouse_url))
    client = writer.connect()
    where = "" if since_ms is None else f" WHERE inserted_at >= fromUnixTimestamp64Milli(toInt64({int(since_ms)}))"
    try:
        writer.ensure_schema()
        counts = {table: int(client.command(f"SELECT count() FROM {table} FINAL{where}")) for table in TABLES}
        reasons = dict(client.query(f"SELECT reason, count() FROM rejects FINAL{where} GROUP BY reason ORDER BY reason")
                       .result_rows)
        versions = [row[0] for row in client.query(
            f"SELECT DISTINCT model_version FROM predictions FINAL{where} ORDER BY model_version").result_rows]
    finally:
        writer.close()
    # depth messages, option messages and events are valid ticks too
    valid = counts["ticks"] + counts["book_messages"] + counts["option_messages"] + counts["event_messages"]
    rejected = counts["rejects"]
    ticks_in = valid + rejected
    return RunSummary(
        ticks_in=ticks_in, ticks_valid=valid, ticks_rejected=rejected, features=counts["features"],
        predictions=counts["predictions"], signals_accepted=counts["signals"],
        signals_denied=counts["risk_decisions"] - counts["signals"], drift_events=counts["monitor_events"],
        elapsed_s=round(elapsed_s, 3), ticks_per_s=round(ticks_in / elapsed_s, 1) if elapsed_s > 0 else 0.0,
        processes=processes, workers=workers, model_version=",".join(versions),
        rejects_by_reason={str(reason): int(count) for reason, count in reasons.items()},
    )
