"""``tickwise report``: the key monitoring panels from ClickHouse as one HTML page with PNG plots.

For people who do not run Grafana: P&L curve, drawdown, calibration, accuracy over time,
monitor (drift) events and latency, read from the tables the live flow writes (``pnl``,
``outcomes``, ``monitor_events``, ``ticks``/``risk_decisions``) and drawn with matplotlib's
Agg backend (no display needed). Latency is the tick-to-decision storage latency: the time
between the ClickHouse insert of a tick and the insert of the risk decision it led to (the
``inserted_at`` columns), which covers features, scoring, risk and the sink batching.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import pandas as pd  # noqa: E402

PAGE = "report.html"

_QUERIES = {
    "pnl": "SELECT ts_ns, symbol, model_version, total_pnl, drawdown FROM pnl FINAL ORDER BY ts_ns",
    "outcomes": "SELECT ts_ns, symbol, model_version, p_up, realized_up, correct, rolling_accuracy "
                "FROM outcomes FINAL ORDER BY ts_ns",
    "events": "SELECT ts_ns, kind, detector, symbol, feature, statistic FROM monitor_events FINAL ORDER BY ts_ns",
    "latency": "SELECT dateDiff('millisecond', t.inserted_at, d.inserted_at) AS latency_ms "
               "FROM (SELECT partition, offset, max(inserted_at) AS inserted_at FROM risk_decisions "
               "GROUP BY partition, offset) AS d "
               "INNER JOIN (SELECT partition, offset, min(inserted_at) AS inserted_at FROM ticks "
               "GROUP BY partition, offset) AS t ON d.partition = t.partition AND d.offset = t.offset",
}


def _frame(client: Any, sql: str) -> pd.DataFrame:
    result = client.query(sql)
    return pd.DataFrame(result.result_rows, columns=list(result.column_names))


def _time(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["ts_ns"], unit="ns", utc=True)


def _no_data(axes: Any, what: str) -> None:
    axes.text(0.5, 0.5, f"no {what} yet", ha="center", va="center", transform=axes.transAxes)


def _per_symbol_and_model(axes: Any, frame: pd.DataFrame, missing: str, ylabel: str,
                          draw: Callable[[Any, pd.DataFrame, str], None], retrain_below: float | None = None) -> None:
    """One series per symbol and model version of ``frame`` (drawn by ``draw``), or a note that there is none."""
    if frame.empty:
        return _no_data(axes, missing)
    for (symbol, version), part in frame.groupby(["symbol", "model_version"]):
        draw(axes, part, f"{symbol} {version}")
    if retrain_below is not None:
        axes.axhline(retrain_below, color="red", linestyle="--", label=f"retrain below {retrain_below}")
    axes.set_ylabel(ylabel)
    axes.legend(fontsize="small")


def _pnl_line(axes: Any, part: pd.DataFrame, label: str) -> None:
    axes.plot(_time(part), part["total_pnl"], label=label)


def _drawdown_area(axes: Any, part: pd.DataFrame, label: str) -> None:
    axes.fill_between(_time(part), -part["drawdown"], 0.0, step="post", alpha=0.4, label=label)


def _accuracy_line(axes: Any, part: pd.DataFrame, label: str) -> None:
    axes.plot(_time(part), part["rolling_accuracy"], label=label)


def _plot_pnl(axes: Any, data: dict[str, pd.DataFrame]) -> None:
    _per_symbol_and_model(axes, data["pnl"], "paper fills", "total P&L (USD)", _pnl_line)


def _plot_drawdown(axes: Any, data: dict[str, pd.DataFrame]) -> None:
    _per_symbol_and_model(axes, data["pnl"], "paper fills", "drawdown (USD)", _drawdown_area)


def _plot_calibration(axes: Any, data: dict[str, pd.DataFrame]) -> None:
    frame = data["outcomes"]
    if frame.empty:
        return _no_data(axes, "resolved predictions")
    frame = frame.assign(bucket=(frame["p_up"].astype(float) * 10).clip(0, 9.999).astype(int))
    for version, part in frame.groupby("model_version"):
        table = part.groupby("bucket").agg(p_up=("p_up", "mean"), up_rate=("realized_up", "mean"),
                                           count=("p_up", "size"))
        axes.plot(table["p_up"], table["up_rate"], marker="o", label=f"{version}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    axes.set_xlabel("predicted p_up (bucket mean)")
    axes.set_ylabel("realized up-rate")
    axes.legend(fontsize="small")


def _plot_accuracy(axes: Any, data: dict[str, pd.DataFrame]) -> None:
    _per_symbol_and_model(axes, data["outcomes"], "resolved predictions", "rolling accuracy", _accuracy_line,
                          retrain_below=0.55)


def _plot_events(axes: Any, data: dict[str, pd.DataFrame]) -> None:
    frame = data["events"]
    if frame.empty:
        return _no_data(axes, "monitor events")
    kinds = sorted(frame["kind"].unique())
    for row, kind in enumerate(kinds):
        part = frame[frame["kind"] == kind]
        axes.scatter(_time(part), [row] * len(part), s=12, label=f"{kind} ({len(part)})")
    axes.set_yticks(range(len(kinds)), kinds)
    axes.legend(fontsize="small")


def _plot_latency(axes: Any, data: dict[str, pd.DataFrame]) -> None:
    frame = data["latency"]
    if frame.empty:
        return _no_data(axes, "decisions")
    values = frame["latency_ms"].astype(float)
    axes.hist(values, bins=50)
    for quantile in (0.5, 0.99):
        axes.axvline(values.quantile(quantile), color="red", linestyle="--")
    axes.set_xlabel(f"tick-to-decision storage latency (ms), p50 {values.quantile(0.5):.0f}, "
                    f"p99 {values.quantile(0.99):.0f}")
    axes.set_ylabel("decisions")


PLOTS: tuple[tuple[str, str, Callable[[Any, dict[str, pd.DataFrame]], None]], ...] = (
    ("pnl_curve", "Paper P&L curve", _plot_pnl),
    ("drawdown", "Drawdown", _plot_drawdown),
    ("calibration", "Calibration", _plot_calibration),
    ("accuracy", "Accuracy over time", _plot_accuracy),
    ("drift_events", "Drift and monitor events", _plot_events),
    ("latency", "Latency", _plot_latency),
)


def _summary(data: dict[str, pd.DataFrame]) -> list[tuple[str, str]]:
    rows = []
    outcomes, pnl, events = data["outcomes"], data["pnl"], data["events"]
    if not outcomes.empty:
        rows.append(("resolved predictions", f"{len(outcomes):,}"))
        rows.append(("accuracy (all)", f"{outcomes['correct'].astype(float).mean():.3f}"))
    if not pnl.empty:
        last = pnl.groupby(["symbol", "model_version"]).tail(1)
        rows.append(("paper P&L (USD)", f"{last['total_pnl'].sum():,.2f}"))
        rows.append(("max drawdown (USD)", f"{pnl['drawdown'].max():,.2f}"))
    rows.append(("monitor events", ", ".join(f"{kind}: {count}" for kind, count in
                                             events["kind"].value_counts().items()) or "none"))
    return rows


def render_report(client: Any, out_dir: Path) -> Path:
    """Query ClickHouse, write one PNG per plot and ``report.html`` into ``out_dir``; return the page."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {name: _frame(client, sql) for name, sql in _QUERIES.items()}
    sections = []
    for name, title, plot in PLOTS:
        figure, axes = plt.subplots(figsize=(10, 4))
        plot(axes, data)
        axes.set_title(title)
        figure.autofmt_xdate()
        figure.tight_layout()
        figure.savefig(out_dir / f"{name}.png", dpi=100)
        plt.close(figure)
        sections.append(f'<h2>{html.escape(title)}</h2>\n<img src="{name}.png" alt="{html.escape(title)}">')
    summary = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _summary(data))
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = out_dir / PAGE
    page.write_text(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>tickwise report</title>
<style>body{{font-family:sans-serif;max-width:1040px;margin:auto}}img{{max-width:100%}}
th{{text-align:left;padding-right:2em}}</style></head>
<body><h1>tickwise report</h1><p>Generated {generated} from ClickHouse.</p>
<table>{summary}</table>
{chr(10).join(sections)}
</body></html>
""")
    return page

