"""The backtest report: ``report.html`` and the PNG plots it shows, in the ``--out`` folder.

The page opens with the strategy next to its two baselines, doing nothing (no trade) and buying
and holding (the capital split equally across the symbols, bought at the first reference price
the flow saw and held to the end), then price with every paper fill, equity against both
baselines with the fills marked, drawdown, exposure, P&L attribution and calibration. Time axes
are clock time in the market's zone (``dataflows.report_panels``); fills are placed at the event
time of the tick that filled them (``fills.jsonl``), prices come from ``decisions.jsonl`` (every
prediction's reference price). PNGs carry no software/date tag, so two runs give identical files.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import orjson
import pandas as pd

from dataflows.report_panels import (BUY_COLOR, SELL_COLOR, Panel, clock_axis, clock_times, clock_zone,
                                     image_panel, page, plain_numbers, save_png, say_empty, table_panel,
                                     trade_markers)

PLOTS = ("prices.png", "equity.png", "drawdown.png", "exposure.png", "attribution.png", "calibration.png")


def _jsonl(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """The ``columns`` of a JSON-lines file the backtest wrote (no rows when it is missing)."""
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.is_file() else []
    return pd.DataFrame([[row[column] for column in columns] for row in rows], columns=list(columns))


def _prices(decisions: pd.DataFrame, buckets: np.ndarray, period_ns: int) -> pd.DataFrame:
    """Each symbol's last reference price per period, carried forward (NaN before its first)."""
    priced = decisions[decisions["price"] > 0].assign(bucket=lambda frame: frame["ts_ns"] // period_ns)
    last = priced.groupby(["bucket", "symbol"])["price"].last().unstack("symbol")
    return last.reindex(buckets).ffill()


def buy_and_hold(prices: pd.DataFrame, capital: float, fee_bps: float) -> np.ndarray:
    """Equity of the capital split equally across the symbols, bought at the first price (one fee).

    >>> prices = pd.DataFrame({"A": [10.0, 11.0], "B": [20.0, 18.0]})
    >>> buy_and_hold(prices, 1000.0, 0.0).tolist()
    [1000.0, 1000.0]
    """
    if prices.empty:
        return np.zeros(0)
    prices = prices.bfill()  # held from each symbol's first price: flat before it
    shares = capital / prices.shape[1] / prices.iloc[0]
    return capital * (1.0 - fee_bps * 1e-4) + ((prices - prices.iloc[0]) * shares).sum(axis=1).to_numpy()


def _baselines(summary: dict[str, Any], hold: np.ndarray, symbols: int, capital: float) -> dict[str, dict]:
    """The summary's strategy and do-nothing figures, with buy and hold's beside them."""
    baseline = dict(summary["baseline"])
    if len(hold):
        gross = float(hold[-1] - capital + capital * summary["fee_bps"] * 1e-4)
        days = max(1, int(summary.get("trading_days") or 1))
        baseline["buy_and_hold"] = {"gross_pnl": gross, "net_pnl": float(hold[-1] - capital),
                                    "costs": capital * summary["fee_bps"] * 1e-4, "fills": symbols,
                                    "turnover": 1.0, "turnover_per_day": 1.0 / days}
    return baseline


def _plot_prices(path: Path, prices: pd.DataFrame, times: pd.DatetimeIndex, fills: pd.DataFrame, zone: str) -> None:
    fig, ax = plt.subplots(figsize=(9, 3.2))
    if prices.empty:
        say_empty(ax, "no prices: the flow made no prediction, so decisions.jsonl has no rows")
    else:
        relative = prices.shape[1] > 1
        for symbol in prices.columns:
            series = prices[symbol].to_numpy()
            first = prices[symbol].dropna().iloc[0]
            ax.plot(times, series / first * 100.0 - 100.0 if relative else series, linewidth=1, label=symbol)
            mine = fills[fills["symbol"] == symbol]
            if len(mine):
                values = mine["price"].to_numpy() / first * 100.0 - 100.0 if relative else mine["price"].to_numpy()
                trade_markers(ax, clock_times(mine["ts_ns"], zone), values, mine["direction"].to_numpy())
        clock_axis(ax, zone)
        ax.set_ylabel("% from first price" if relative else "price")
        ax.legend(loc="best", fontsize=7)
    ax.set_title("Reference price and paper fills (at the time they filled)")
    save_png(fig, path)


def _plot_equity(path: Path, times: pd.DatetimeIndex, equity: np.ndarray, hold: np.ndarray, capital: float,
                 fills: pd.DataFrame, zone: str) -> None:
    fig, ax = plt.subplots(figsize=(9, 3.2))
    if not len(equity):
        say_empty(ax, "no equity: the tape had no tick to mark the book at")
    else:
        ax.plot(times, equity, color="tab:blue", label="strategy (net)")
        if len(hold):
            ax.plot(times, hold, color="tab:orange", linewidth=1, label="buy and hold")
        ax.axhline(capital, color="grey", linestyle="--", linewidth=1, label="do nothing")
        if len(fills):
            at = np.clip(np.searchsorted(times.asi8, clock_times(fills["ts_ns"], zone).asi8, side="right") - 1,
                         0, len(equity) - 1)
            trade_markers(ax, clock_times(fills["ts_ns"], zone), equity[at], fills["direction"].to_numpy())
        clock_axis(ax, zone)
        plain_numbers(ax)
        ax.set_ylabel("USD")
        ax.legend(loc="best", fontsize=7)
    ax.set_title("Equity (paper, marked to mid) against buy and hold and doing nothing")
    save_png(fig, path)


def _plot_drawdown(path: Path, times: pd.DatetimeIndex, equity: np.ndarray, zone: str) -> None:
    fig, ax = plt.subplots(figsize=(9, 2.5))
    if not len(equity):
        say_empty(ax, "no drawdown: the tape had no tick to mark the book at")
    else:
        peaks = np.maximum.accumulate(equity)
        ax.fill_between(times, -(peaks - equity) / np.where(peaks > 0, peaks, 1.0) * 100.0, 0.0,
                        color=SELL_COLOR, alpha=0.5, step="post")
        ax.set_ylim(top=max(0.01, ax.get_ylim()[1]))
        clock_axis(ax, zone)
        ax.set_ylabel("% below peak")
    ax.set_title("Drawdown")
    save_png(fig, path)


def _plot_exposure(path: Path, times: pd.DatetimeIndex, curves: pd.DataFrame, zone: str) -> None:
    fig, ax = plt.subplots(figsize=(9, 2.5))
    if curves.empty:
        say_empty(ax, "no exposure: the tape had no tick to mark the book at")
    else:
        ax.plot(times, curves["gross"].to_numpy(), label="gross")
        ax.plot(times, curves["net"].to_numpy(), label="net")
        clock_axis(ax, zone)
        plain_numbers(ax)
        ax.set_ylabel("USD")
        ax.legend(loc="upper left", fontsize=7)
    ax.set_title("Exposure")
    save_png(fig, path)


def _plot_attribution(path: Path, attribution: dict[str, dict[str, float]]) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(10, 3))
    for ax, name in zip(axes, ("symbol", "model", "regime")):
        items = sorted(attribution.get(name, {}).items())
        if not items:
            say_empty(ax, f"no P&L by {name}")
        else:
            values = [value for _, value in items]
            ax.bar(range(len(values)), values, color=[BUY_COLOR if v >= 0 else SELL_COLOR for v in values])
            ax.set_xticks(range(len(values)), [label[:12] for label, _ in items], rotation=30, ha="right", fontsize=7)
            ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_title(f"P&L by {name}")
    save_png(fig, path)


def _plot_calibration(path: Path, table: list[dict[str, float]]) -> None:
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    if table:
        ax.plot([row["predicted"] for row in table], [row["observed"] for row in table], marker="o", label="model")
        ax.legend(loc="upper left", fontsize=7)
    else:
        ax.text(0.5, 0.25, "no resolved prediction\n(no later price differed)", ha="center", fontsize=9)
    ax.set(title="Calibration", xlabel="predicted p_up", ylabel="observed up frequency", xlim=(0, 1), ylim=(0, 1))
    save_png(fig, path)


def render_report(out_dir: Path, summary: dict[str, Any], curves: pd.DataFrame, config: Any) -> Path:
    """Write the plots and ``report.html`` into ``out_dir`` (next to the backtest's files); return the page."""
    decisions = _jsonl(out_dir / "decisions.jsonl", ("ts_ns", "symbol", "price"))
    fills = _jsonl(out_dir / "fills.jsonl", ("ts_ns", "symbol", "direction", "price"))
    zone = clock_zone(summary.get("symbols") or decisions["symbol"].unique())
    buckets = curves["bucket"].to_numpy(dtype=np.int64)
    times = clock_times(buckets * config.period_ns, zone)
    equity = curves["equity"].to_numpy(dtype=float)
    prices = _prices(decisions, buckets, config.period_ns) if len(decisions) and len(buckets) else pd.DataFrame()
    hold = buy_and_hold(prices, config.capital, config.fee_bps)
    _plot_prices(out_dir / "prices.png", prices, times, fills, zone)
    _plot_equity(out_dir / "equity.png", times, equity, hold, config.capital, fills, zone)
    _plot_drawdown(out_dir / "drawdown.png", times, equity, zone)
    _plot_exposure(out_dir / "exposure.png", times, curves, zone)
    _plot_attribution(out_dir / "attribution.png", summary["attribution"])
    _plot_calibration(out_dir / "calibration.png", summary["calibration"])
    path = out_dir / "report.html"
    path.write_text(_html(summary, _baselines(summary, hold, prices.shape[1], config.capital), len(fills)),
                    encoding="utf-8")
    return path


def _pairs(name: str, title: str, rows: dict[str, Any], empty: str) -> Panel:
    return table_panel(name, title, (), list(rows.items()), empty)


def _baseline_panel(baseline: dict[str, dict[str, Any]]) -> Panel:
    """One row per figure, one column per policy (the strategy, doing nothing, buying and holding)."""
    policies = list(baseline)
    rows = [[figure, *(baseline[name][figure] for name in policies)] for figure in baseline[policies[0]]]
    return table_panel("baselines", "Strategy against doing nothing and buying and holding",
                       ["", *(name.replace("_", " ") for name in policies)], rows, "no figures",
                       note="Buy and hold: the capital split equally across the symbols, bought at the first "
                            "reference price (the mid) the flow saw, held to the end; one fee on the entry, "
                            "no spread.")


_HEADLINE = ("model_version", "ticks", "predictions", "signals", "fills", "gross_pnl", "net_pnl", "total_return",
             "annualized_return", "sharpe", "sortino", "max_drawdown", "hit_rate", "closing_trades", "turnover",
             "turnover_per_day", "trading_days", "exposure_mean_gross", "exposure_max_gross", "time_in_market")
_NOTES = ("<p>Signals come from the live flow (<code>dataflows.signals:build_flow</code>) over the same ticks; "
          "accepted signals fill at the next quote after the signal (ask for buys, bid for sells; symbols "
          "without quotes at the next trade +/- the configured half-spread) plus the fee, and each fill pays "
          "square-root market impact (impact_bps x sqrt(notional / $1M)). Gross P&amp;L is before spread, fee "
          "and impact, net P&amp;L after them; equity, returns and ratios are net. Turnover is traded notional "
          "over capital. Equity is sampled every minute of event time; Sharpe and Sortino are annualized with "
          "252 x 390 one-minute periods; model and regime attribution assigns each minute's P&amp;L change of a "
          "symbol to its latest fill.</p>")


def _html(summary: dict[str, Any], baseline: dict[str, dict[str, Any]], fills: int) -> str:
    headline = {key: summary.get(key) for key in _HEADLINE}
    no_fill = (f"No paper fill: {summary.get('signals', 0):,} of {summary.get('decisions', 0):,} risk decisions "
               "were accepted as signals." if not fills else "")
    panels = [
        _baseline_panel(baseline),
        image_panel("prices", "Price and trades", note=no_fill),
        image_panel("equity", "Equity against the baselines", note=no_fill),
        image_panel("drawdown", "Drawdown"),
        image_panel("exposure", "Exposure"),
        _pairs("summary", "Summary", headline, "no figures"),
        _pairs("costs", "Costs", summary["costs"], "no costs"),
        _pairs("decisions", "Risk decisions by reason", summary["decisions_by_reason"],
               "no risk decisions: the flow made no prediction"),
        image_panel("attribution", "P&L attribution"),
        image_panel("calibration", "Calibration"),
    ]
    panels += [_pairs(f"attribution_{name}", f"P&L by {name}", summary["attribution"].get(name, {}),
                      f"no P&L by {name}: nothing was filled") for name in ("symbol", "model", "regime")]
    return page("tickwise backtest", _NOTES, panels)


# -- walk-forward --------------------------------------------------------------------------------

WALK_FORWARD_PLOTS = ("walk_forward_equity.png", "walk_forward_pnl.png")
_PERIOD_COLUMNS = ("period", "train_start", "train_end", "test_start", "test_end", "model_version", "predictions",
                   "signals", "fills", "pnl", "sharpe", "hit_rate", "max_drawdown", "costs")


def _short_time(value: Any) -> Any:
    """An ISO time to the minute without the UTC offset, date and time apart (the cell may wrap there),
    so the period table fits the page.

    >>> _short_time("2013-10-07T13:30:00+00:00"), _short_time(3)
    ('2013-10-07 13:30', 3)
    """
    if isinstance(value, str) and len(value) >= 16 and value[10] == "T":
        return value[:10] + " " + value[11:16]
    return value


def render_walk_forward_report(out_dir: Path, document: dict[str, Any], curve: pd.DataFrame) -> Path:
    """The per-period table, the combined statistics and the combined equity curve (periods chained)."""
    periods = document["periods"]
    fig, ax = plt.subplots(figsize=(9, 3))
    if len(curve):
        step = np.arange(len(curve))
        equity = curve["equity"].to_numpy()
        for period in sorted(set(curve["period"])):
            mask = curve["period"].to_numpy() == period
            start = next((row["test_start"] for row in periods if row["period"] == period), "")
            ax.plot(step[mask], equity[mask], label=f"period {int(period)} ({_short_time(start)} UTC)")
        ax.legend(loc="upper left", fontsize=7)
        plain_numbers(ax)
        ax.set(xlabel="minutes tested (the test periods, one after another)", ylabel="USD")
    else:
        say_empty(ax, "no equity: no test period had a tick")
    ax.set_title("Walk-forward equity (periods chained, paper, marked to mid)")
    save_png(fig, out_dir / WALK_FORWARD_PLOTS[0])

    fig, ax = plt.subplots(figsize=(9, 2.5))
    if periods:
        values = [row["pnl"] or 0.0 for row in periods]
        ax.bar(range(len(values)), values, color=[BUY_COLOR if v >= 0 else SELL_COLOR for v in values])
        ax.set_xticks(range(len(values)), [str(row["period"]) for row in periods])
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set(xlabel="period", ylabel="USD")
    else:
        say_empty(ax, "no test period")
    ax.set_title("P&L per test period")
    save_png(fig, out_dir / WALK_FORWARD_PLOTS[1])

    rows = [[_short_time(row.get(name)) for name in _PERIOD_COLUMNS] for row in periods]
    links = "".join(f'<li><a href="periods/{row["period"]:02d}/summary.json">period {row["period"]}</a></li>'
                    for row in periods)
    notes = ("<p>Each test period is backtested through the live flow (<code>dataflows.signals:build_flow</code>, "
             "fresh state at the period start) with a model trained by <code>models.train.train_ensemble</code> on "
             "the live feature stage's rows of every earlier period (expanding window; labels from that window "
             "only). Costs are the paper fees plus the half-spread paid; Sharpe is annualized from one-minute "
             "equity changes of the period. Times in the table are UTC.</p>")
    panels = [
        table_panel("periods", "Per period", [column.replace("_", " ") for column in _PERIOD_COLUMNS], rows,
                    "no test period", wrap=True),
        table_panel("combined", "Combined", (), list(document["combined"].items()), "no combined figures"),
        image_panel("walk_forward_equity", "Walk-forward equity"),
        image_panel("walk_forward_pnl", "P&L per test period"),
        Panel("period_summaries", "Period summaries", f"<ul>{links}</ul>" if links else
              f"<p class=\"empty\">{html.escape('no test period')}</p>"),
    ]
    path = out_dir / "report.html"
    path.write_text(page("tickwise walk-forward backtest", notes, panels), encoding="utf-8")
    return path
