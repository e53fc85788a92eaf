"""Specifications of the run summary: counts read back from ClickHouse (chDB), duplicates counted once."""

from __future__ import annotations

import time
from collections import Counter

import orjson

from dataflows.summary import RunSummary, summarize
from operators.events import EventMessage, EventTick
from operators.messages import Decision, DriftEvent, FeatureRow, Prediction, Reject, Trade, ValidTick
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter
from sinks.metrics import MetricsRegistry

T0 = 1_381_329_000_000_000_000


def history() -> list[object]:
    """A small run's records: ticks and an admitted event, rejects of two reasons, rows, predictions, decisions,
    a drift event."""
    ticks = [ValidTick(Trade("IBM", T0 + i, 180.0 + i / 100, 100.0), "ticks", 0, i) for i in range(12)]
    ticks.append(ValidTick(EventTick("IBM", T0 + 12, EventMessage("trading_economics", "fomc_minutes", "US", "7",
                                                                  T0, T0, 3)), "ticks", 0, 12))
    rejects = [Reject(reason, f"validate: {reason}.", "validate", "ticks", 1, offset, b"{}")
               for offset, reason in enumerate(["invalid_json", "crossed_quote", "invalid_json"])]
    rows = [FeatureRow("IBM", T0 + i, 0, i, 180.0, ("last_price",), (180.0,)) for i in range(0, 12, 3)]
    predictions = [Prediction(f"p{i}", "IBM", T0 + i, 0, i, 180.0, "tw-test", 0.6, 1, 0.2, 0.01, "calm", 0.2,
                              {"trend": 0.6}) for i in range(0, 12, 3)]
    decisions = [Decision(f"s{i}", "IBM", T0 + i, 0, i, "tw-test", 1, 10.0, 1_800.0, 180.0, 0.2, "calm",
                          i % 2 == 0, "accepted" if i % 2 == 0 else "low_confidence", "ACTIVE", 10.0)
                 for i in range(0, 12, 3)]
    drift = [DriftEvent("d1", "IBM", T0 + 5, "spread", "adwin", 0.4)]
    return [*ticks, *rejects, *rows, *predictions, *decisions, *drift]


def write_twice(url: str, records: list[object]) -> None:
    """Write every record twice, as a replay after a resume does."""
    writer = ClickHouseWriter(ClickHouseSettings(url), MetricsRegistry())
    writer.connect()
    try:
        writer.ensure_schema()
        writer.write(records)
        writer.write(records)
    finally:
        writer.close()


def test_summarize_when_records_written_twice_then_each_counted_once(chdb_url: str) -> None:
    records = history()
    write_twice(chdb_url, records)
    kinds = Counter(type(record).__name__ for record in records)
    decisions = [record for record in records if isinstance(record, Decision)]

    summary = summarize(chdb_url, elapsed_s=2.0, processes=2, workers=3)

    assert summary.ticks_valid == kinds["ValidTick"]
    assert summary.ticks_rejected == kinds["Reject"]
    assert summary.ticks_in == kinds["ValidTick"] + kinds["Reject"]
    assert summary.features == kinds["FeatureRow"]
    assert summary.predictions == kinds["Prediction"]
    assert summary.signals_accepted == sum(d.accepted for d in decisions)
    assert summary.signals_denied == sum(not d.accepted for d in decisions)
    assert summary.drift_events == kinds["DriftEvent"]
    assert summary.rejects_by_reason == dict(Counter(r.reason for r in records if isinstance(r, Reject)))
    assert summary.model_version == "tw-test"
    assert (summary.processes, summary.workers) == (2, 3)
    assert summary.ticks_per_s == round(summary.ticks_in / 2.0, 1)


def test_summarize_when_rows_older_than_since_then_not_counted(chdb_url: str) -> None:
    write_twice(chdb_url, history())
    after_the_writes_ms = int(time.time() * 1000) + 3_600_000

    summary = summarize(chdb_url, elapsed_s=1.0, processes=1, workers=1, since_ms=after_the_writes_ms)

    assert (summary.ticks_in, summary.features, summary.predictions, summary.rejects_by_reason) == (0, 0, 0, {})


def test_summarize_when_database_empty_then_zero_counts_and_no_rate(chdb_url: str) -> None:
    summary = summarize(chdb_url, elapsed_s=0.0, processes=1, workers=1)

    assert (summary.ticks_in, summary.signals_accepted, summary.ticks_per_s, summary.model_version) == (0, 0, 0.0, "")


def test_json_line_when_summary_then_one_line_of_sorted_keys_that_round_trips() -> None:
    summary = RunSummary(ticks_in=5, ticks_valid=4, ticks_rejected=1, features=2, predictions=2,
                         signals_accepted=1, signals_denied=1, drift_events=0, elapsed_s=1.5, ticks_per_s=3.3,
                         processes=1, workers=2, model_version="tw-x", rejects_by_reason={"invalid_json": 1})

    line = summary.json_line()

    assert "\n" not in line
    decoded = orjson.loads(line)
    assert list(decoded) == sorted(decoded)
    assert RunSummary(**decoded) == summary
