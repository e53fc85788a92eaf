"""Specifications of the report pages' panels (``dataflows.report``, ``dataflows.backtest_report``),
drawn from tables and files built in the test."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import orjson
import pandas as pd
import pytest

from dataflows import report
from dataflows.backtest import BacktestConfig
from dataflows.backtest_report import render_report, render_walk_forward_report
from dataflows.report_panels import NEW_YORK, clock_axis, clock_times

S = 1_000_000_000
OPEN = pd.Timestamp("2013-10-09 13:30", tz="UTC").value  # 09:30 in New York


class Tables:
    """A stand-in ClickHouse client: each query answers the rows given for the table it reads."""

    def __init__(self, **rows: list[tuple]) -> None:
        self._rows = rows

    def query(self, sql: str) -> SimpleNamespace:
        table = re.search(r"FROM (\w+) FINAL", sql)
        name = "latency" if "dateDiff" in sql else table.group(1) if table else ""
        return SimpleNamespace(result_rows=self._rows.get(name, []))


def drawn(name: str, tables: Tables) -> plt.Axes:
    data = {key: report._frame(tables, *query) for key, query in report._QUERIES.items()}
    plot = {entry[0]: entry[2] for entry in report.PLOTS}[name]
    figure, axes = plt.subplots()
    plot(axes, data, NEW_YORK)
    figure.canvas.draw()
    return axes


def legend_of(axes: plt.Axes) -> list[str]:
    return [text.get_text() for text in axes.get_legend().get_texts()]


def words_on(axes: plt.Axes) -> str:
    return " ".join(text.get_text() for text in axes.texts)


def test_clock_axis_when_event_times_in_utc_then_new_york_hours_and_the_zone_named() -> None:
    figure, axes = plt.subplots()
    axes.plot(clock_times([OPEN, OPEN + int(6.5 * 3600 * S)], NEW_YORK), [1.0, 2.0])
    clock_axis(axes, NEW_YORK)
    figure.canvas.draw()

    labels = [label.get_text() for label in axes.get_xticklabels()]
    assert "16:00" in labels and "20:00" not in labels  # the close, not its UTC hour
    assert "New York" in axes.get_xlabel()


def test_every_live_panel_when_its_tables_are_empty_then_says_so_in_words() -> None:
    for name, _title, _plot, _note in report.PLOTS:
        assert len(words_on(drawn(name, Tables())).split()) >= 4, name


def test_pnl_panel_when_no_fill_then_names_the_risk_decisions_that_denied() -> None:
    axes = drawn("pnl_curve", Tables(risk_decisions=[("no_direction", 12_695)]))

    assert "no paper fill" in words_on(axes) and "no_direction 12,695" in words_on(axes)


def pnl_row(seconds: int, position: float, mid: float, total: float, reason: str) -> tuple:
    return (OPEN + seconds * S, "IBM", "v1", position, mid, total, 0.0, reason)


def test_pnl_panel_when_filled_then_buys_and_sells_marked_beside_buy_and_hold_and_doing_nothing() -> None:
    rows = [pnl_row(10, 100.0, 180.0, -1.0, "fill"), pnl_row(60, 100.0, 180.5, 49.0, "mark"),
            pnl_row(90, 0.0, 181.0, 98.0, "fill")]

    labels = legend_of(drawn("pnl_curve", Tables(pnl=rows)))

    assert labels == ["IBM v1", "IBM buy and hold 100", "buy (1)", "sell (1)", "do nothing"]


def test_drift_panel_when_thousands_of_alarms_then_one_stacked_bar_per_bucket_and_feature_group() -> None:
    events = [(OPEN + i * S, "feature_investigation", "ewma_z", "IBM", f"{group}/x") for i in range(3_000)
              for group in ("liquidity", "order_flow")]
    events.append((OPEN + 100 * S, "retrain", "threshold", "IBM", "accuracy"))
    events.append((OPEN + 200 * S, "feature_investigation", "psi", "IBM", "spread_bps"))  # PSI names it bare

    axes = drawn("drift_events", Tables(monitor_events=events))

    assert len(axes.patches) == 3 * 10  # 3,000 s is ten 5-minute buckets, three groups each
    assert legend_of(axes) == ["retrain (1)", "liquidity (3000)", "order_flow (3000)", "quotes_and_trades (1)"]
    assert axes.get_ylabel() == "alarms opened per 5 min"


def test_latency_panel_says_the_tables_have_no_processing_time() -> None:
    note = {entry[0]: entry[3] for entry in report.PLOTS}["latency"]
    axes = drawn("latency", Tables(latency=[(120,), (80,)]))

    assert "no processing time" in note and "inserted_at" in axes.get_xlabel()


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))


def backtest_summary() -> dict:
    strategy = {"gross_pnl": 3.0, "net_pnl": 1.0, "costs": 2.0, "fills": 2, "turnover": 0.2, "turnover_per_day": 0.2}
    return {"baseline": {"strategy": strategy, "do_nothing": dict.fromkeys(strategy, 0)}, "fee_bps": 0.0,
            "trading_days": 1, "signals": 2, "decisions": 3, "symbols": ["IBM"], "costs": {"total": 2.0},
            "decisions_by_reason": {"accepted": 2, "low_confidence": 1}, "attribution": {"symbol": {"IBM": 1.0}},
            "calibration": []}


def test_backtest_report_when_prices_rise_then_buy_and_hold_beside_the_strategy(tmp_path: Path) -> None:
    config = BacktestConfig(capital=1_000.0, fee_bps=0.0)
    write_jsonl(tmp_path / "decisions.jsonl", [{"ts_ns": OPEN + m * 60 * S, "symbol": "IBM", "price": p}
                                               for m, p in enumerate((100.0, 101.0, 110.0))])
    write_jsonl(tmp_path / "fills.jsonl", [{"ts_ns": OPEN + 61 * S, "symbol": "IBM", "direction": 1, "price": 101.0}])
    curves = pd.DataFrame({"bucket": [OPEN // (60 * S) + m for m in range(3)], "equity": [1_000.0, 1_000.0, 1_001.0],
                           "gross": [0.0, 10.0, 10.0], "net": [0.0, 10.0, 10.0]})

    page = render_report(tmp_path, backtest_summary(), curves, config).read_text()

    header = re.search(r"<tr><th></th>(.*?)</tr>", page).group(1)
    assert header == "<th>strategy</th><th>do nothing</th><th>buy and hold</th>"
    assert "<th>net_pnl</th><td>1.0000</td><td>0</td><td>100.0000</td>" in page  # 10 shares, $100 to $110
    assert all(f'src="{name}.png"' in page for name in ("prices", "equity", "drawdown", "exposure"))


def test_backtest_report_when_nothing_was_filled_then_the_empty_tables_say_so(tmp_path: Path) -> None:
    summary = backtest_summary() | {"attribution": {}, "decisions_by_reason": {}, "signals": 0}
    curves = pd.DataFrame({"bucket": [], "equity": [], "gross": [], "net": []})

    page = render_report(tmp_path, summary, curves, BacktestConfig()).read_text()

    assert "No paper fill: 0 of 3 risk decisions were accepted as signals." in page
    assert "no risk decisions: the flow made no prediction" in page and "no P&amp;L by regime" in page


def test_walk_forward_table_when_rendered_then_times_to_the_minute_in_cells_that_wrap(tmp_path: Path) -> None:
    period = {"period": 1, "train_start": "2013-10-07T13:30:00+00:00", "test_start": "2013-10-09T13:30:00+00:00",
              "model_version": "tw-1", "pnl": 12.5}
    curve = pd.DataFrame({"bucket": [0, 1], "equity": [1_000_000.0, 1_000_012.5], "period": [1, 1]})

    page = render_walk_forward_report(tmp_path, {"periods": [period], "combined": {"total_pnl": 12.5}},
                                      curve).read_text()

    assert "<td>2013-10-07 13:30</td>" in page and "+00:00" not in page.split("Per period")[1]
    assert re.search(r'data-panel="periods"><h2>Per period</h2><div class="wide"><table class="wrap"><tr><th>period'
                     r'</th><th>train start</th>', page)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def smile_row(expiry: str, days: float, strike: float, right: str, iv: float) -> tuple:
    return ("GOOG", OPEN + 3600 * S, expiry, days / 365, 100.0, strike, right, iv)


def test_smile_panel_draws_the_out_of_the_money_smile_of_the_nearest_expiries_against_log_moneyness() -> None:
    strikes = (80.0, 90.0, 95.0, 100.0, 105.0, 110.0)
    rows = [smile_row(f"2016-01-{day:02d}", day - 9.0, strike, right, 0.2 + 0.001 * day)
            for day in (15, 10, 11, 12, 13, 14, 16) for strike in strikes for right in ("C", "P")]
    rows += [smile_row("2016-01-09", 0.5, strike, "C", 0.5) for strike in (100.0, 105.0)]  # two points: left out
    smile = report._frame(Tables(option_analytics=rows), *report._QUERIES["smile"])
    figure, axes = plt.subplots()

    report._plot_smile(axes, smile, NEW_YORK)
    figure.canvas.draw()

    assert legend_of(axes) == [f"GOOG 2016-01-{day} ({day - 9}.0 d)" for day in range(10, 16)]  # nearest six
    k = axes.get_lines()[0].get_xdata()
    assert list(k) == sorted(k) and len(k) == len(strikes)  # puts below the forward, calls at or above it
    assert k[0] == pytest.approx(math.log(0.8)) and axes.get_xlabel() == "log-moneyness ln(K / F)"
    assert "10:30" in axes.get_title() and "New York" in axes.get_title()


def test_live_report_without_option_rows_says_so_instead_of_a_smile(tmp_path: Path) -> None:
    page = report.render_report(Tables(), tmp_path).read_text()

    smile = page[page.index('data-panel="smile"'):]
    assert "No volatility smile" in smile and "<img" not in smile.split("</section>")[0]
    assert not (tmp_path / "smile.png").exists()


def test_live_report_with_option_rows_shows_the_smile_picture(tmp_path: Path) -> None:
    rows = [smile_row("2016-01-15", 22.0, strike, right, 0.25) for strike in (80.0, 90.0, 100.0, 110.0, 120.0)
            for right in ("C", "P")]
    page = report.render_report(Tables(option_analytics=rows), tmp_path).read_text()

    assert '<img src="smile.png"' in page and (tmp_path / "smile.png").stat().st_size > 0
