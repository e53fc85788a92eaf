"""The backtest report: PNG plots and one ``report.html`` that references them.

The page opens with the strategy next to doing nothing (gross and net P&L, costs, turnover),
then the headline figures, costs and risk decisions. Plots: equity curve, drawdown, exposure
(gross and net), P&L attribution (symbol, model, regime) and calibration (predicted p_up
against the observed frequency of an up move).
PNGs are written without a software/date tag so two runs give identical files.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

PLOTS = ("equity.png", "drawdown.png", "exposure.png", "attribution.png", "calibration.png")
_PNG_METADATA = {"Software": None}


def _minutes(curves: pd.DataFrame) -> np.ndarray:
    buckets = curves["bucket"].to_numpy()
    return (buckets - buckets[0]) if len(buckets) else buckets


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata=_PNG_METADATA)
    plt.close(fig)


def render_report(out_dir: Path, summary: dict[str, Any], curves: pd.DataFrame, config: Any) -> Path:
    x = _minutes(curves)
    equity = curves["equity"].to_numpy()
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(x, equity, color="tab:blue")
    ax.set(title="Equity (paper, marked to mid)", xlabel="minutes from start", ylabel="USD")
    _save(fig, out_dir / "equity.png")

    peaks = np.maximum.accumulate(equity) if len(equity) else equity
    fig, ax = plt.subplots(figsize=(8, 2.5))
    ax.fill_between(x, -(peaks - equity) / np.where(peaks > 0, peaks, 1.0) * 100.0, 0.0, color="tab:red", alpha=0.5)
    ax.set(title="Drawdown", xlabel="minutes from start", ylabel="%")
    _save(fig, out_dir / "drawdown.png")

    fig, ax = plt.subplots(figsize=(8, 2.5))
    ax.plot(x, curves["gross"].to_numpy(), label="gross")
    ax.plot(x, curves["net"].to_numpy(), label="net")
    ax.set(title="Exposure", xlabel="minutes from start", ylabel="USD")
    ax.legend(loc="upper left")
    _save(fig, out_dir / "exposure.png")

    attribution = summary["attribution"]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3))
    for ax, name in zip(axes, ("symbol", "model", "regime")):
        items = sorted(attribution.get(name, {}).items())
        labels = [label[:12] for label, _ in items]
        values = [value for _, value in items]
        ax.bar(range(len(values)), values, color=["tab:green" if v >= 0 else "tab:red" for v in values])
        ax.set_xticks(range(len(values)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(f"P&L by {name}")
    _save(fig, out_dir / "attribution.png")

    table = summary["calibration"]
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    if table:
        ax.plot([row["predicted"] for row in table], [row["observed"] for row in table], marker="o")
    ax.set(title="Calibration", xlabel="predicted p_up", ylabel="observed up frequency", xlim=(0, 1), ylim=(0, 1))
    _save(fig, out_dir / "calibration.png")

    path = out_dir / "report.html"
    path.write_text(_html(summary), encoding="utf-8")
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def _table(rows: dict[str, Any]) -> str:
    return "<table>" + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_fmt(v)}</td></tr>"
                               for k, v in rows.items()) + "</table>"


def _baseline_table(baseline: dict[str, dict[str, Any]]) -> str:
    """One row per figure, one column per policy (the strategy, doing nothing)."""
    policies = list(baseline)
    header = "<tr><th></th>" + "".join(f"<th>{html.escape(name.replace('_', ' '))}</th>" for name in policies) + "</tr>"
    rows = "".join(f"<tr><th>{html.escape(figure)}</th>" + "".join(f"<td>{_fmt(baseline[name][figure])}</td>"
                                                                   for name in policies) + "</tr>"
                   for figure in baseline[policies[0]])
    return f"<table>{header}{rows}</table>"


def _html(summary: dict[str, Any]) -> str:
    headline = {key: summary.get(key) for key in (
        "model_version", "ticks", "predictions", "signals", "fills", "gross_pnl", "net_pnl", "total_return",
        "annualized_return", "sharpe", "sortino", "max_drawdown", "hit_rate", "closing_trades", "turnover",
        "turnover_per_day", "trading_days", "exposure_mean_gross", "exposure_max_gross", "time_in_market")}
    sections = [
        "<h2>Strategy against doing nothing</h2>", _baseline_table(summary["baseline"]),
        "<h2>Summary</h2>", _table(headline),
        "<h2>Costs</h2>", _table(summary["costs"]),
        "<h2>Risk decisions by reason</h2>", _table(summary["decisions_by_reason"]),
    ]
    for name in ("symbol", "model", "regime"):
        sections += [f"<h3>P&amp;L by {name}</h3>", _table(summary["attribution"].get(name, {}))]
    images = "".join(f'<figure><img src="{name}" alt="{name[:-4]}"><figcaption>{name[:-4]}</figcaption></figure>'
                     for name in PLOTS)
    notes = ("<p>Signals come from the live flow (<code>dataflows.signals:build_flow</code>) over the same ticks; "
             "accepted signals fill at the next quote after the signal (ask for buys, bid for sells; symbols "
             "without quotes at the next trade +/- the configured half-spread) plus the fee, and each fill pays "
             "square-root market impact (impact_bps x sqrt(notional / $1M)). Gross P&amp;L is before spread, fee "
             "and impact, net P&amp;L after them; equity, returns and ratios are net. Turnover is traded notional "
             "over capital. Equity is sampled "
             "every minute of event time; Sharpe and Sortino are annualized with 252 x 390 one-minute periods; "
             "model and regime attribution assigns each minute's P&amp;L change of a symbol to its latest fill.</p>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>tickwise backtest</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}</style></head><body>"
            "<h1>tickwise backtest</h1>" + notes + "".join(sections) + "<h2>Plots</h2>" + images
            + "</body></html>\n")


# -- walk-forward --------------------------------------------------------------------------------

WALK_FORWARD_PLOTS = ("walk_forward_equity.png", "walk_forward_pnl.png")
_PERIOD_COLUMNS = ("period", "train_start", "train_end", "test_start", "test_end", "model_version", "predictions",
                   "signals", "fills", "pnl", "sharpe", "hit_rate", "max_drawdown", "costs")


def render_walk_forward_report(out_dir: Path, document: dict[str, Any], curve: pd.DataFrame) -> Path:
    """The per-period table, the combined statistics and the combined equity curve (periods chained)."""
    periods = document["periods"]
    fig, ax = plt.subplots(figsize=(8, 3))
    step = np.arange(len(curve))
    equity = curve["equity"].to_numpy()
    if len(curve):
        for period in sorted(set(curve["period"])):
            mask = curve["period"].to_numpy() == period
            ax.plot(step[mask], equity[mask], label=f"period {int(period)}")
        ax.legend(loc="upper left", fontsize=7)
    ax.set(title="Walk-forward equity (periods chained, paper, marked to mid)", xlabel="minutes tested",
           ylabel="USD")
    _save(fig, out_dir / WALK_FORWARD_PLOTS[0])

    fig, ax = plt.subplots(figsize=(8, 2.5))
    values = [row["pnl"] or 0.0 for row in periods]
    ax.bar(range(len(values)), values, color=["tab:green" if v >= 0 else "tab:red" for v in values])
    ax.set_xticks(range(len(values)), [str(row["period"]) for row in periods])
    ax.set(title="P&L per test period", xlabel="period", ylabel="USD")
    _save(fig, out_dir / WALK_FORWARD_PLOTS[1])

    header = "".join(f"<th>{html.escape(name)}</th>" for name in _PERIOD_COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td>{_fmt(row.get(name))}</td>" for name in _PERIOD_COLUMNS) + "</tr>"
                   for row in periods)
    images = "".join(f'<figure><img src="{name}" alt="{name[:-4]}"><figcaption>{name[:-4]}</figcaption></figure>'
                     for name in WALK_FORWARD_PLOTS)
    links = "".join(f'<li><a href="periods/{row["period"]:02d}/summary.json">period {row["period"]}</a></li>'
                    for row in periods)
    notes = ("<p>Each test period is backtested through the live flow (<code>dataflows.signals:build_flow</code>, "
             "fresh state at the period start) with a model trained by <code>models.train.train_ensemble</code> on "
             "the live feature stage's rows of every earlier period (expanding window; labels from that window "
             "only). Costs are the paper fees plus the half-spread paid; Sharpe is annualized from one-minute "
             "equity changes of the period.</p>")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>tickwise walk-forward backtest</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}</style></head><body>"
            "<h1>tickwise walk-forward backtest</h1>" + notes
            + f"<h2>Per period</h2><table><tr>{header}</tr>{rows}</table>"
            + "<h2>Combined</h2>" + _table(document["combined"])
            + "<h2>Plots</h2>" + images + f"<h2>Period summaries</h2><ul>{links}</ul></body></html>\n")
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
