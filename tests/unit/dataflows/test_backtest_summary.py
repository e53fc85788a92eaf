"""The backtest's figures: gross and net P&L, costs with impact, turnover per day, the do-nothing baseline."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dataflows.backtest import BacktestConfig, Collected, execute, fill_impact, summarize
from dataflows.backtest_report import render_report
from operators.messages import Decision, Quote

S = 1_000_000_000
T0 = 1_381_276_800 * S + 14 * 3600 * S  # 2013-10-09 14:00 UTC


def decision(ts_ns: int, direction: int, size: float) -> Decision:
    return Decision(f"s{ts_ns}", "IBM", ts_ns, 0, ts_ns // S, "v1", direction, size, size * 100.0, 100.0, 0.8, "calm",
                    True, "accepted", "ACTIVE", direction * size)


def quotes(*mids: float) -> list[Quote]:
    return [Quote("IBM", T0 + i * 60 * S, mid - 0.01, mid + 0.01, 100.0, 100.0) for i, mid in enumerate(mids)]


def run(decisions: list[Decision], ticks: list[Quote], config: BacktestConfig) -> dict:
    execution = execute(decisions, {"IBM": ticks}, config)
    summary, _curves = summarize(Collected(decisions=decisions), execution, config, {"model_version": "v1"})
    return summary


def test_net_pnl_is_gross_less_spread_fees_and_impact() -> None:
    config = BacktestConfig(capital=1_000_000.0, fee_bps=0.5, impact_bps=2.0)
    summary = run([decision(T0 + 30 * S, 1, 1000.0), decision(T0 + 150 * S, -1, 1000.0)],
                  quotes(100.0, 100.0, 100.5, 100.5), config)

    costs = summary["costs"]
    # each order fills at the next quote: bought at 100.01, sold at 100.49; the impact of a
    # $100,010 order is 2 bps x sqrt(0.10001) of its notional
    assert costs["spread"] == pytest.approx(20.0)
    assert costs["fees"] == pytest.approx((100_010.0 + 100_490.0) * 0.5e-4)
    assert costs["impact"] == pytest.approx(sum(n * 2e-4 * math.sqrt(n / 1e6) for n in (100_010.0, 100_490.0)))
    assert summary["gross_pnl"] == pytest.approx(500.0)  # 1000 shares x the mid's 0.50 move
    assert summary["net_pnl"] == pytest.approx(500.0 - costs["total"])
    assert summary["total_pnl"] == summary["net_pnl"]


def test_turnover_is_traded_notional_over_capital_per_utc_day_next_to_doing_nothing() -> None:
    config = BacktestConfig(capital=100_000.0, impact_bps=0.0)
    summary = run([decision(T0 + 30 * S, 1, 1000.0)], quotes(100.0, 100.0), config)

    assert summary["trading_days"] == 1
    assert summary["turnover"] == summary["turnover_per_day"] == pytest.approx(100_010.0 / 100_000.0)
    strategy, nothing = summary["baseline"]["strategy"], summary["baseline"]["do_nothing"]
    assert strategy["turnover_per_day"] == summary["turnover_per_day"] and strategy["fills"] == 1
    assert set(nothing) == set(strategy) and not any(nothing.values())


def test_fill_impact_grows_with_the_square_root_of_notional() -> None:
    small, large = (fill_impact(fill, 2.0) for fill in execute(
        [decision(T0, 1, 100.0), decision(T0 + 61 * S, 1, 10_000.0)], {"IBM": quotes(100.0, 100.0, 100.0)},
        BacktestConfig()).fills)
    assert large / small == pytest.approx(100.0 * math.sqrt(100.0), rel=1e-3)


def test_report_shows_the_strategy_against_doing_nothing(tmp_path: Path) -> None:
    config = BacktestConfig()
    decisions = [decision(T0 + 30 * S, 1, 1000.0)]
    execution = execute(decisions, {"IBM": quotes(100.0, 100.2)}, config)
    summary, curves = summarize(Collected(decisions=decisions), execution, config, {"model_version": "v1"})

    page = render_report(tmp_path, summary, curves, config).read_text()

    assert "Strategy against doing nothing" in page and "do nothing" in page
    assert "gross_pnl" in page and "net_pnl" in page and "impact" in page
