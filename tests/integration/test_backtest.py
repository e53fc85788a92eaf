"""Backtests run the live flow unchanged: parity with the live flow, determinism, no look-ahead.

The held-out validation uses 2013-10-09 (the shipped model did not train on it), AIG and
IBM from 13:30 to 15:00 UTC (09:30-11:00 ET, the open: both symbols quote, and the runtime
stays around a minute for the three runs on a 2-core machine).

No look-ahead is checked two ways:

1. exactly: every paper fill happens at a tick strictly after its signal's event time;
2. statistically: the flow is re-run on a tape where every tick carries the prices of the
   tick before it (same symbol and type; ``dataflows.backtest.shift_prices``) while paper
   fills stay on the true tape. The shifted run sees strictly older information at every
   decision, so a causal pipeline cannot do systematically better; if it does, beyond three
   times the noise of the base run's total P&L (std of its one-minute P&L changes x
   sqrt(minutes)), the base run's edge does not come from what it knew when it decided
   (a misaligned timestamp or fill), and the check fails.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pandas as pd
import pytest

from dataflows.backtest import BacktestConfig, run_backtest, shift_prices
from dataflows.components import build_components
from dataflows.tickfiles import read_tick_frame
from sinks.metrics import MetricsRegistry
from tests.integration.flowkit import create_topics, produce_real_day, read_topic, topic_settings

pytestmark = pytest.mark.integration

SYMBOLS = ["AIG", "IBM"]
HELD_OUT_START = int(pd.Timestamp("2013-10-09 13:30", tz="UTC").value)
HELD_OUT_END = int(pd.Timestamp("2013-10-09 15:00", tz="UTC").value)
PARITY_START = int(pd.Timestamp("2013-10-08 14:00", tz="UTC").value)
PARITY_END = int(pd.Timestamp("2013-10-08 14:30", tz="UTC").value)
REPORT_FILES = ("summary.json", "signals.jsonl", "decisions.jsonl", "fills.jsonl", "equity.csv", "report.html",
                "equity.png", "drawdown.png", "exposure.png", "attribution.png", "calibration.png")


def _components(tmp_path: Path, **overrides: object):
    from dataflows.config import load_settings

    settings = load_settings(until_eof=True, metrics_port=0, control_topic="",
                             clickhouse_url=f"chdb://{tmp_path / 'chdb'}", risk_symbols=",".join(SYMBOLS), **overrides)
    return build_components(settings, registry=MetricsRegistry())


def _frame(market: Path, start: int, end: int) -> pd.DataFrame:
    return read_tick_frame([market / "trades.csv.gz", market / "quotes.csv.gz"], SYMBOLS, start, end)


@pytest.fixture(scope="module")
def held_out(market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("backtest")
    frame = _frame(market_data, HELD_OUT_START, HELD_OUT_END)
    components = _components(root)
    runs = {}
    for name, flow_frame in (("first", frame), ("second", frame), ("shifted", shift_prices(frame))):
        runs[name] = run_backtest(components, root / name, frame=flow_frame, execution_frame=frame,
                                  config=BacktestConfig(), meta={"source": "files", "period": "2013-10-09 held out"},
                                  render=name != "shifted").out_dir
    return runs


def test_two_backtests_of_the_same_ticks_give_identical_reports(held_out: dict[str, Path]) -> None:
    for name in REPORT_FILES:
        first, second = (held_out[run] / name for run in ("first", "second"))
        assert first.read_bytes() == second.read_bytes(), name


def test_report_renders_and_references_existing_plots(held_out: dict[str, Path]) -> None:
    out = held_out["first"]
    html = (out / "report.html").read_text()
    for plot in ("equity.png", "drawdown.png", "exposure.png", "attribution.png", "calibration.png"):
        assert f'src="{plot}"' in html
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = orjson.loads((out / "summary.json").read_bytes())
    for key in ("total_return", "annualized_return", "sharpe", "sortino", "max_drawdown", "hit_rate", "turnover",
                "exposure_mean_gross", "costs", "attribution", "calibration"):
        assert key in summary, key
    assert summary["predictions"] > 0 and summary["decisions"] == summary["predictions"]
    assert set(summary["attribution"]["symbol"]) <= set(SYMBOLS)


def test_every_fill_happens_strictly_after_its_signal(held_out: dict[str, Path]) -> None:
    signals = {row["signal_id"]: row for row in map(orjson.loads, (held_out["first"] / "signals.jsonl").read_bytes().splitlines())}
    fills = [orjson.loads(line) for line in (held_out["first"] / "fills.jsonl").read_bytes().splitlines()]
    for fill in fills:
        signal = signals[fill["signal_id"]]
        assert fill["ts_ns"] > signal["ts_ns"] == fill["signal_ts_ns"]
        assert fill["direction"] == signal["direction"] and fill["quantity"] == signal["size"]


def test_prices_shifted_one_step_do_not_improve_results_beyond_noise(held_out: dict[str, Path]) -> None:
    base = orjson.loads((held_out["first"] / "summary.json").read_bytes())
    shifted = orjson.loads((held_out["shifted"] / "summary.json").read_bytes())
    noise = max(base["pnl_noise"], shifted["pnl_noise"], 1.0)
    assert shifted["total_pnl"] - base["total_pnl"] <= 3.0 * noise, (base["total_pnl"], shifted["total_pnl"], noise)


def test_backtest_signals_equal_live_flow_signals_over_the_same_offsets(stack, market_data: Path,
                                                                         tmp_path: Path) -> None:
    """Live: real ticks produced to a one-partition uuid topic, the live wiring (Kafka source,
    control topic, ClickHouse/Redis/Kafka sinks) run to EOF. Backtest: the same messages, in
    the same order, from files. Same model version: same signal ids and fields."""
    from bytewax.testing import run_main

    from dataflows.signals import build_flow
    from sinks.kafka import KafkaSettings, ensure_topics

    prefix = f"parity{uuid.uuid4().hex[:8]}"
    settings = topic_settings(stack, prefix, f"chdb://{tmp_path / 'chdb'}", control_topic=f"{prefix}.control",
                              risk_symbols=",".join(SYMBOLS))
    create_topics(settings, partitions=1)  # one partition: Kafka offsets = the file source's positions
    ensure_topics(KafkaSettings(bootstrap=settings.kafka_bootstrap, idempotence=False), [settings.control_topic], 1)
    produced = produce_real_day(settings, market_data, SYMBOLS, PARITY_START, PARITY_END)
    live = build_components(settings, registry=MetricsRegistry())
    run_main(build_flow(live, live.kafka_source(), live.live_outputs(), control=live.control_source()))
    live_signals = {row["signal_id"]: row for row in
                    (orjson.loads(message.value()) for message in read_topic(settings.kafka_bootstrap,
                                                                             settings.signals_topic))}

    frame = _frame(market_data, PARITY_START, PARITY_END)
    assert len(frame) == produced
    result = run_backtest(_components(tmp_path / "bt"), tmp_path / "bt", frame=frame, render=False)
    backtest_signals = {row["signal_id"]: row for row in
                        map(orjson.loads, (result.out_dir / "signals.jsonl").read_bytes().splitlines())}
    assert len(backtest_signals) > 0
    assert set(live_signals) == set(backtest_signals)
    for signal_id, row in backtest_signals.items():
        other = live_signals[signal_id]
        for name in ("symbol", "ts_ns", "direction", "size", "notional", "price", "confidence", "regime",
                     "model_version", "reason", "trading_state", "position_after"):
            assert other[name] == row[name], (signal_id, name)
        assert (other["source_partition"], other["source_offset"]) == (row["partition"], row["offset"])
