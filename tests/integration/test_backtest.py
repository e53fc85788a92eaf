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


def _components(tmp_path: Path):
    from dataflows.config import load_settings

    settings = load_settings(run={"until_eof": True}, metrics={"port": 0}, kafka={"control_topic": ""},
                             clickhouse={"url": f"chdb://{tmp_path / 'chdb'}"}, risk={"symbols": SYMBOLS})
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
    settings = topic_settings(stack, prefix, f"chdb://{tmp_path / 'chdb'}", kafka={"control_topic": f"{prefix}.control"},
                              risk={"symbols": SYMBOLS})
    create_topics(settings, partitions=1)  # one partition: Kafka offsets = the file source's positions
    ensure_topics(KafkaSettings(bootstrap=settings.kafka.bootstrap, idempotence=False), [settings.kafka.control_topic], 1)
    produced = produce_real_day(settings, market_data, SYMBOLS, PARITY_START, PARITY_END)
    live = build_components(settings, registry=MetricsRegistry())
    run_main(build_flow(live, live.kafka_source(), live.live_outputs(), control=live.control_source()))
    live_signals = {row["signal_id"]: row for row in
                    (orjson.loads(message.value()) for message in read_topic(settings.kafka.bootstrap,
                                                                             settings.kafka.signals_topic))}

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


# -- walk-forward ------------------------------------------------------------------------------------

WALK_FORWARD_DAYS = (int(pd.Timestamp("2013-10-07", tz="UTC").value), int(pd.Timestamp("2013-10-09", tz="UTC").value))


@pytest.fixture(scope="module")
def walk_forward(market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """IBM, 2013-10-07..08 regular session (13:30-20:00 UTC) in 3.25-hour periods, 20-tree models:
    three retrain-and-test rounds, run twice for the determinism check (about a minute each)."""
    from dataflows.config import load_settings
    from dataflows.walk_forward import WalkForwardConfig, parse_periods, parse_session, run_walk_forward, \
        small_train_config

    root = tmp_path_factory.mktemp("walk_forward")
    frame = read_tick_frame([market_data / "trades.csv.gz", market_data / "quotes.csv.gz"], ["IBM"],
                            *WALK_FORWARD_DAYS)
    settings = load_settings(run={"until_eof": True}, metrics={"port": 0}, kafka={"control_topic": ""},
                             risk={"symbols": "IBM"}, clickhouse={"url": f"chdb://{root / 'chdb'}"})
    config = WalkForwardConfig(period_ns=parse_periods("3.25h"), session=parse_session("13:30-20:00"), train_min=1,
                               train=small_train_config(20))
    return {name: run_walk_forward(settings, frame, root / name, config, render=name == "first").out_dir
            for name in ("first", "second")}


def test_walk_forward_retrains_on_an_expanding_window_and_tests_the_next_period(
        walk_forward: dict[str, Path]) -> None:
    document = orjson.loads((walk_forward["first"] / "walk_forward.json").read_bytes())
    periods = document["periods"]
    assert [row["period"] for row in periods] == [1, 2, 3]
    assert [row["test_start"] for row in periods] == ["2013-10-07 16:45", "2013-10-08 13:30", "2013-10-08 16:45"]
    for row in periods:
        assert row["train_start"] == "2013-10-07 13:30" and row["train_end"] <= row["test_start"]
        assert row["model_version"].startswith("tw-") and row["predictions"] > 0
        for key in ("pnl", "sharpe", "hit_rate", "max_drawdown", "costs", "signals"):
            assert row[key] is not None, key
        summary = orjson.loads((walk_forward["first"] / "periods" / f"{row['period']:02d}" / "summary.json")
                               .read_bytes())
        assert summary["model_versions_seen"] == [row["model_version"]], "each period is scored by its own model"
    assert len({row["model_version"] for row in periods}) == 3, "every period retrains"
    assert document["combined"]["total_pnl"] == pytest.approx(sum(row["pnl"] for row in periods), abs=0.01)


def test_walk_forward_is_deterministic_and_its_report_renders(walk_forward: dict[str, Path]) -> None:
    first, second = (walk_forward[name] for name in ("first", "second"))
    for name in ("walk_forward.json", "periods.csv", "equity.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    html = (first / "report.html").read_text()
    assert "Per period" in html and "tw-" in html
    for plot in ("walk_forward_equity.png", "walk_forward_pnl.png"):
        assert f'src="{plot}"' in html
        assert (first / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
