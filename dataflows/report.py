"""``tickwise report``: the monitoring panels a desk reads, from ClickHouse, as one HTML page with PNG plots.

For people who do not run Grafana. Read from the tables the live flow writes (``docs/tables.md``)
and drawn with matplotlib's Agg backend (no display needed), on clock-time axes in the market's
zone (``dataflows.report_panels``):

- price and trades: each symbol's reference price (``features``, so only session hours), the
  accepted signals and the paper fills (``pnl`` rows with ``reason = 'fill'``, stamped with the
  event time of the tick that filled them);
- paper P&L beside doing nothing (zero) and buying and holding the book's largest position from
  its first row, then drawdown;
- calibration and rolling accuracy (``outcomes``);
- drift: alarms opened per feature group (the part of the feature name before ``/``) counted per
  5 or 15 minutes and stacked, with retrain and model-review events as vertical lines;
- latency: the tables keep event times and insert times only, no processing time, so the panel
  shows the time from a tick's ClickHouse insert to the insert of the decision it led to
  (``inserted_at``), which includes the sinks' batching, and says so;
- volatility smile: at each underlying's latest minute in ``vol_surface``, the implied volatility of
  its out-of-the-money contracts (``option_analytics``) against log-moneyness ``ln(K / F)``, one line
  per expiry (the nearest ``SMILE_EXPIRIES``); a run without options gets a sentence instead.

A table with no rows gives a panel that says so in words.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from dataflows.report_panels import (Panel, clock_axis, clock_times, clock_zone, image_panel, page,
                                     plain_numbers, save_png, say_empty, table_panel, trade_markers, zone_name)
from operators.monitoring.feature_groups import group_of

PAGE = "report.html"
MINUTE_NS = 60_000_000_000
RETRAIN_BELOW = 0.55
_OPENING_KINDS = ("feature_drift", "feature_investigation")
SMILE_EXPIRIES = 6  # the nearest expiries drawn in the smile panel
SMILE_MIN_POINTS = 5  # out-of-the-money implied volatilities an expiry needs to be drawn
_LATEST_SURFACE = "(underlying, ts_ns) IN (SELECT underlying, max(ts_ns) FROM vol_surface GROUP BY underlying)"
_MODEL_KINDS = {"retrain": "tab:red", "model_review": "tab:purple"}

_QUERIES: dict[str, tuple[tuple[str, ...], str]] = {  # name: (the columns it returns, the query)
    "prices": (("symbol", "ts_ns", "price"),
               f"SELECT symbol, intDiv(ts_ns, {MINUTE_NS}) * {MINUTE_NS} AS minute, argMax(price, ts_ns) "
               "FROM features FINAL GROUP BY symbol, minute ORDER BY symbol, minute"),
    "signals": (("ts_ns", "symbol", "direction", "price"),
                "SELECT ts_ns, symbol, direction, price FROM signals FINAL ORDER BY ts_ns"),
    "reasons": (("reason", "decisions"),
                "SELECT reason, count() AS n FROM risk_decisions FINAL GROUP BY reason ORDER BY n DESC, reason"),
    "pnl": (("ts_ns", "symbol", "model_version", "position", "mid", "total_pnl", "drawdown", "reason"),
            "SELECT ts_ns, symbol, model_version, position, mid, total_pnl, drawdown, reason "
            "FROM pnl FINAL ORDER BY symbol, model_version, ts_ns"),
    "outcomes": (("ts_ns", "symbol", "model_version", "p_up", "realized_up", "correct", "rolling_accuracy"),
                 "SELECT ts_ns, symbol, model_version, p_up, realized_up, correct, rolling_accuracy "
                 "FROM outcomes FINAL ORDER BY ts_ns"),
    "events": (("ts_ns", "kind", "detector", "symbol", "feature"),
               "SELECT ts_ns, kind, detector, symbol, feature FROM monitor_events FINAL ORDER BY ts_ns"),
    "latency": (("latency_ms",),
                "SELECT dateDiff('millisecond', t.inserted_at, d.inserted_at) "
                "FROM (SELECT partition, offset, max(inserted_at) AS inserted_at FROM risk_decisions "
                "GROUP BY partition, offset) AS d "
                "INNER JOIN (SELECT partition, offset, min(inserted_at) AS inserted_at FROM ticks "
                "GROUP BY partition, offset) AS t ON d.partition = t.partition AND d.offset = t.offset"),
    # Each underlying's latest minute with a surface: its contracts with an implied volatility, and each
    # expiry's forward from vol_surface.
    "smile": (("underlying", "ts_ns", "expiry", "years", "forward", "strike", "right", "iv"),
              "SELECT underlying, ts_ns, expiry, years, forward, strike, `right`, iv "
              "FROM (SELECT underlying, ts_ns, expiry, strike, `right`, iv FROM option_analytics FINAL "
              f"WHERE reason = 'ok' AND {_LATEST_SURFACE}) AS contracts "
              "INNER JOIN (SELECT underlying, ts_ns, expiry, years, forward FROM vol_surface FINAL "
              f"WHERE {_LATEST_SURFACE}) AS expiries USING (underlying, ts_ns, expiry) "
              "ORDER BY underlying, expiry, strike"),
}

Data = dict[str, pd.DataFrame]


def _frame(client: Any, columns: tuple[str, ...], sql: str) -> pd.DataFrame:
    """The query's rows under ``columns`` (an empty result still has them)."""
    return pd.DataFrame(client.query(sql).result_rows, columns=list(columns))


def _fills(pnl: pd.DataFrame) -> pd.DataFrame:
    """The fill rows of ``pnl`` with the direction each traded (the sign of the position change)."""
    if pnl.empty:
        return pnl.assign(direction=pd.Series(dtype=int))
    change = pnl.groupby(["symbol", "model_version"])["position"].diff().fillna(pnl["position"])
    return pnl.assign(direction=np.sign(change).astype(int))[pnl["reason"] == "fill"]


def _no_fill_sentence(data: Data) -> str:
    reasons = data["reasons"]
    if reasons.empty:
        return "no paper fill: the flow made no risk decision yet"
    total = int(reasons["decisions"].sum())
    top = ", ".join(f"{row.reason} {int(row.decisions):,}" for row in reasons.head(3).itertuples())
    return f"no paper fill: the pnl table has no rows ({total:,} risk decisions: {top})"


def _plot_prices(axes: Any, data: Data, zone: str) -> None:
    prices = data["prices"]
    if prices.empty:
        return say_empty(axes, "no prices: the features table has no rows (no tick inside a trading session yet)")
    fills = _fills(data["pnl"])
    signals = data["signals"]
    for symbol, part in prices.groupby("symbol"):
        axes.plot(clock_times(part["ts_ns"], zone), part["price"], linewidth=1, label=f"{symbol} (last per minute)")
        mine = signals[signals["symbol"] == symbol]
        if len(mine):
            axes.scatter(clock_times(mine["ts_ns"], zone), mine["price"], s=10, color="grey", label="signal")
        filled = fills[fills["symbol"] == symbol]
        trade_markers(axes, clock_times(filled["ts_ns"], zone), filled["mid"].to_numpy(),
                      filled["direction"].to_numpy())
    _finish_clock_axes(axes, zone, "reference price")


def _finish_clock_axes(axes: Any, zone: str, ylabel: str, dollars: bool = False) -> None:
    """An event-time panel's x axis (clock time in ``zone``), its y label and legend; ``dollars``
    writes the y figures as plain numbers with thousands separators."""
    clock_axis(axes, zone)
    if dollars:
        plain_numbers(axes)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize="small")


def _plot_pnl(axes: Any, data: Data, zone: str) -> None:
    pnl = data["pnl"]
    if pnl.empty:
        return say_empty(axes, _no_fill_sentence(data))
    fills = _fills(pnl)
    for (symbol, version), part in pnl.groupby(["symbol", "model_version"]):
        times = clock_times(part["ts_ns"], zone)
        axes.plot(times, part["total_pnl"], label=f"{symbol} {version}")
        held = float(part["position"].abs().max())
        axes.plot(times, held * (part["mid"] - part["mid"].iloc[0]), linewidth=1, linestyle=":",
                  label=f"{symbol} buy and hold {held:,.0f}")
        mine = fills[(fills["symbol"] == symbol) & (fills["model_version"] == version)]
        trade_markers(axes, clock_times(mine["ts_ns"], zone), mine["total_pnl"].to_numpy(),
                      mine["direction"].to_numpy())
    axes.axhline(0.0, color="grey", linestyle="--", linewidth=1, label="do nothing")
    _finish_clock_axes(axes, zone, "total P&L (USD)", dollars=True)


def _plot_drawdown(axes: Any, data: Data, zone: str) -> None:
    pnl = data["pnl"]
    if pnl.empty:
        return say_empty(axes, _no_fill_sentence(data))
    for (symbol, version), part in pnl.groupby(["symbol", "model_version"]):
        axes.fill_between(clock_times(part["ts_ns"], zone), -part["drawdown"], 0.0, step="post", alpha=0.4,
                          label=f"{symbol} {version}")
    axes.set_ylim(top=max(0.01, axes.get_ylim()[1]))
    _finish_clock_axes(axes, zone, "drawdown (USD)", dollars=True)


def _plot_calibration(axes: Any, data: Data, zone: str) -> None:
    frame = data["outcomes"]
    if frame.empty:
        return say_empty(axes, "no resolved prediction: the outcomes table has no rows")
    frame = frame.assign(bucket=(frame["p_up"].astype(float) * 10).clip(0, 9.999).astype(int))
    for version, part in frame.groupby("model_version"):
        table = part.groupby("bucket").agg(p_up=("p_up", "mean"), up_rate=("realized_up", "mean"),
                                           count=("p_up", "size"))
        axes.plot(table["p_up"], table["up_rate"], marker="o", label=f"{version} ({len(part):,} outcomes)")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    axes.set(xlim=(0, 1), ylim=(0, 1), xlabel="predicted p_up (bucket mean)", ylabel="realized up-rate")
    axes.legend(fontsize="small")


def _plot_accuracy(axes: Any, data: Data, zone: str) -> None:
    frame = data["outcomes"]
    if frame.empty:
        return say_empty(axes, "no resolved prediction: the outcomes table has no rows")
    for (symbol, version), part in frame.groupby(["symbol", "model_version"]):
        axes.plot(clock_times(part["ts_ns"], zone), part["rolling_accuracy"], label=f"{symbol} {version}")
    axes.axhline(RETRAIN_BELOW, color="red", linestyle="--", label=f"retrain below {RETRAIN_BELOW}")
    _finish_clock_axes(axes, zone, "rolling accuracy")


def drift_counts(events: pd.DataFrame, bucket_ns: int) -> pd.DataFrame:
    """Alarms opened per time bucket (rows, event time ns) and feature group (columns).

    The standardised monitor names a feature ``group/name``; PSI names it bare, and its group is
    looked up (``operators.monitoring.feature_groups``).

    >>> events = pd.DataFrame({"ts_ns": [0, 10, 900], "kind": ["feature_investigation"] * 3,
    ...                        "feature": ["liquidity/spread", "spread_bps", "liquidity/depth"]})
    >>> drift_counts(events, 600).to_dict()
    {'liquidity': {0: 1, 600: 1}, 'quotes_and_trades': {0: 1, 600: 0}}
    """
    opened = events[events["kind"].isin(_OPENING_KINDS)]
    group = opened["feature"].map(lambda feature: feature.partition("/")[0] if "/" in feature else group_of(feature))
    bucket = opened["ts_ns"] // bucket_ns * bucket_ns
    return pd.crosstab(bucket.rename("bucket"), group.rename("group")).rename_axis(index=None, columns=None)


def _plot_drift(axes: Any, data: Data, zone: str) -> None:
    events = data["events"]
    if events.empty:
        return say_empty(axes, "no monitor events: the monitor_events table has no rows")
    span = int(events["ts_ns"].max() - events["ts_ns"].min())
    minutes = 5 if span <= 2 * 3600 * 10**9 else 15
    counts = drift_counts(events, minutes * MINUTE_NS)
    if not counts.empty:
        times = clock_times(counts.index, zone)
        width = minutes / (24 * 60)  # in days, matplotlib's date unit
        bottom = np.zeros(len(counts))
        for group in counts.columns:
            axes.bar(times + pd.Timedelta(minutes=minutes / 2), counts[group], width=width * 0.9, bottom=bottom,
                     label=f"{group} ({int(counts[group].sum())})")
            bottom += counts[group].to_numpy()
    closed = int((events["kind"] == "feature_investigation_closed").sum())
    for kind, color in _MODEL_KINDS.items():
        stamps = events.loc[events["kind"] == kind, "ts_ns"]
        for i, when in enumerate(clock_times(stamps, zone)):
            axes.axvline(when, color=color, linestyle="--", linewidth=1,
                         label=f"{kind.replace('_', ' ')} ({len(stamps)})" if i == 0 else None)
    if counts.empty:
        axes.set_yticks([])
        axes.text(0.5, 0.9, "no drift alarm opened", ha="center", transform=axes.transAxes)
    clock_axis(axes, zone)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(f"alarms opened per {minutes} min")
    axes.set_title(f"Drift alarms by feature group ({closed} investigations closed)", fontsize="small")
    axes.legend(fontsize="x-small", ncol=2, loc="upper right")


def _plot_latency(axes: Any, data: Data, zone: str) -> None:
    frame = data["latency"]
    if frame.empty:
        return say_empty(axes, "no latency: no tick has a risk decision stored yet (risk_decisions has no rows)")
    values = frame["latency_ms"].astype(float)
    axes.hist(values, bins=50)
    for quantile in (0.5, 0.99):
        axes.axvline(values.quantile(quantile), color="red", linestyle="--")
    axes.set_xlabel(f"ms from a tick's insert to its decision's insert (inserted_at), "
                    f"p50 {values.quantile(0.5):,.0f}, p99 {values.quantile(0.99):,.0f}")
    axes.set_ylabel("decisions")


def smile_points(smile: pd.DataFrame) -> pd.DataFrame:
    """The out-of-the-money contracts of ``smile`` (calls at or above the forward, puts below: the side
    whose price carries the volatility) with their log-moneyness ``k = ln(strike / forward)``, in ``k``
    order, for the nearest ``SMILE_EXPIRIES`` expiries of each underlying with ``SMILE_MIN_POINTS`` of them.

    >>> smile = pd.DataFrame({"underlying": "GOOG", "ts_ns": 0, "expiry": "2016-01-15", "years": 0.06,
    ...                       "forward": 100.0, "strike": [90.0, 95.0, 100.0, 105.0, 110.0, 120.0, 95.0],
    ...                       "right": ["P", "P", "C", "C", "C", "C", "C"], "iv": 0.3})
    >>> smile_points(smile)["strike"].tolist()
    [90.0, 95.0, 100.0, 105.0, 110.0, 120.0]
    """
    k = np.log(smile["strike"].astype(float) / smile["forward"].astype(float))
    points = smile.assign(k=k)[(smile["right"] == "C") == (k >= 0)]
    counts = points.groupby(["underlying", "expiry"])["k"].transform("size")
    points = points[counts >= SMILE_MIN_POINTS]
    nearest = points.drop_duplicates(["underlying", "expiry"]).sort_values("years").groupby("underlying").head(
        SMILE_EXPIRIES)[["underlying", "expiry"]]
    return points.merge(nearest, on=["underlying", "expiry"]).sort_values(["underlying", "expiry", "k"])


def _plot_smile(axes: Any, smile: pd.DataFrame, zone: str) -> None:
    points = smile_points(smile)
    if points.empty:
        return say_empty(axes, f"no expiry has {SMILE_MIN_POINTS} out-of-the-money implied volatilities at its "
                               "latest minute")
    for (underlying, expiry), part in points.groupby(["underlying", "expiry"], sort=False):
        days = float(part["years"].iloc[0]) * 365
        axes.plot(part["k"], part["iv"], marker=".", linewidth=1, label=f"{underlying} {expiry} ({days:,.1f} d)")
    axes.axvline(0.0, color="grey", linestyle="--", linewidth=1)
    minutes = ", ".join(f"{underlying} {clock_times([ts_ns], zone)[0]:%Y-%m-%d %H:%M}" for underlying, ts_ns in
                        points[["underlying", "ts_ns"]].drop_duplicates().itertuples(index=False))
    axes.set(xlabel="log-moneyness ln(K / F)", ylabel="implied volatility")
    axes.set_title(f"Volatility smile per expiry at {minutes}, {zone_name(zone)}", fontsize="small")
    axes.legend(fontsize="small")


def _smile_panel(data: Data, zone: str, out_dir: Path) -> Panel:
    """The smile panel: a plot of the latest minute's smiles, or a sentence when no option was priced."""
    title = "Volatility smile"
    if data["smile"].empty:
        return table_panel("smile", title, (), [], "No volatility smile: option_analytics has no contract with "
                                                   "an implied volatility at a minute of vol_surface (no options "
                                                   "on the ticks topic).")
    figure, axes = plt.subplots(figsize=(10, 4))
    _plot_smile(axes, data["smile"], zone)
    save_png(figure, out_dir / "smile.png")
    return image_panel("smile", title, _SMILE_NOTE)


_SMILE_NOTE = ("Each underlying's latest minute in <code>vol_surface</code>: the implied volatility of every "
               "out-of-the-money contract in <code>option_analytics</code> (calls at or above the forward, puts "
               f"below) against ln(strike / forward), one line per expiry (the nearest {SMILE_EXPIRIES} with at "
               f"least {SMILE_MIN_POINTS} points; days to expiry in the legend).")

_LATENCY_NOTE = ("The tables record event time (<code>ts_ns</code>) and insert time (<code>inserted_at</code>) "
                 "only, no processing time, so this is storage latency: a tick's ClickHouse insert to the insert "
                 "of the risk decision it led to. It includes the sinks' batching, not only the tick-to-signal "
                 "compute; on a replay (the demo) event time says nothing about processing time.")
PLOTS: tuple[tuple[str, str, Callable[[Any, Data, str], None], str], ...] = (
    ("prices", "Price, signals and paper fills", _plot_prices, ""),
    ("pnl_curve", "Paper P&L against buy and hold and doing nothing", _plot_pnl,
     "Buy and hold: the book's largest position, bought at the mid of its first row and held."),
    ("drawdown", "Drawdown", _plot_drawdown, ""),
    ("calibration", "Calibration", _plot_calibration, ""),
    ("accuracy", "Accuracy over time", _plot_accuracy, ""),
    ("drift_events", "Drift and monitor events", _plot_drift,
     "Stacked: alarms opened (feature_drift, feature_investigation) per feature group; dashed lines: retrain and "
     "model review events."),
    ("latency", "Latency (storage, tick insert to decision insert)", _plot_latency, _LATENCY_NOTE),
)


def _summary(data: Data) -> list[tuple[str, str]]:
    rows = []
    outcomes, pnl, events, reasons = data["outcomes"], data["pnl"], data["events"], data["reasons"]
    rows.append(("risk decisions", ", ".join(f"{row.reason}: {int(row.decisions):,}"
                                             for row in reasons.itertuples()) or "none"))
    if not outcomes.empty:
        rows.append(("resolved predictions", f"{len(outcomes):,}"))
        rows.append(("accuracy (all)", f"{outcomes['correct'].astype(float).mean():.3f}"))
    if not pnl.empty:
        last = pnl.groupby(["symbol", "model_version"]).tail(1)
        rows.append(("paper fills", f"{int((pnl['reason'] == 'fill').sum()):,}"))
        rows.append(("paper P&L (USD)", f"{last['total_pnl'].sum():,.2f}"))
        rows.append(("max drawdown (USD)", f"{pnl['drawdown'].max():,.2f}"))
    rows.append(("monitor events", ", ".join(f"{kind}: {count}" for kind, count in
                                             events["kind"].value_counts().items()) or "none"))
    return rows


def render_report(client: Any, out_dir: Path) -> Path:
    """Query ClickHouse, write one PNG per plot and ``report.html`` into ``out_dir``; return the page."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {name: _frame(client, *query) for name, query in _QUERIES.items()}
    zone = clock_zone(sorted(set(data["prices"]["symbol"]) | set(data["pnl"]["symbol"])))
    panels: list[Panel] = [table_panel("summary", "Summary", (), _summary(data), "no rows in any table")]
    for name, title, plot, note in PLOTS:
        figure, axes = plt.subplots(figsize=(10, 4))
        plot(axes, data, zone)
        if not axes.get_title():
            axes.set_title(title)
        save_png(figure, out_dir / f"{name}.png")
        panels.append(image_panel(name, title, note))
    panels.append(_smile_panel(data, zone, out_dir))
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    intro = f"<p>Generated {html.escape(generated)} from ClickHouse. Times are event times in {zone_name(zone)}.</p>"
    path = out_dir / PAGE
    path.write_text(page("tickwise report", intro, panels), encoding="utf-8")
    return path
