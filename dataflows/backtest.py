"""Backtest: the live ``build_flow`` over tick files (or a Kafka offset range), paper fills, a report.

Nothing here re-implements the flow: ``run_backtest`` builds ``dataflows.signals.build_flow``
with a file source (``FileTickSource``, event time only) or the replay source, collects the
predictions and risk decisions it emits, then executes the accepted signals on paper
(``operators.paper.book``: the next quote after the signal, half-spread and fee) against the same
ticks, charges each fill the market impact the risk policy expects (``operators.risk.costs``:
``impact_bps`` x sqrt(notional / $1M); the live paper book does not), samples the book on a
one-minute event-time grid and computes the statistics (``operators.paper.performance``).

P&L is reported gross (at the mid, before any cost) and net (after spread, fees and impact;
the equity curve, ``total_pnl`` and the ratios are net), with turnover (traded notional /
capital, in all and per UTC day of the tape) next to a do-nothing baseline (no trade: zero
P&L and zero turnover), the bar any strategy must clear after costs. Bounded input means the portfolio risk step waits for every
symbol before releasing (no lateness), so the same ticks and model give the same signals,
byte for byte.

Files written under ``--out``: ``summary.json`` (figures, no wall-clock values),
``signals.jsonl`` (accepted decisions), ``decisions.jsonl`` (every decision), ``fills.jsonl``,
``equity.csv`` and ``report.html`` with its PNG plots (``dataflows.backtest_report``).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import orjson
import pandas as pd
from dataflows.backfill import FileTickSource
from dataflows.collecting import collect_history
from dataflows.tickfiles import encode_ticks
from operators.messages import Decision, Fill, Prediction, Quote, Reject, TickBatch, Trade, ValidTick
from operators.paper.book import PaperBook
from operators.paper.performance import calibration_table, equity_statistics
from operators.risk.costs import impact_bps

MINUTE_NS = 60 * 1_000_000_000
DAY_NS = 86_400 * 1_000_000_000
CALIBRATION_HORIZON_NS = 60 * 1_000_000_000


@dataclass(frozen=True)
class BacktestConfig:
    """Paper execution and reporting settings (the risk limits come from ``Settings``)."""

    capital: float = 1_000_000.0
    fee_bps: float = 0.5
    trade_half_spread_bps: float = 1.0
    impact_bps: float = 2.0  # the impact of a $1M order, square-root law (operators.risk.costs)
    period_ns: int = MINUTE_NS
    calibration_horizon_ns: int = CALIBRATION_HORIZON_NS


# -- collecting the flow's outputs ------------------------------------------------------------


@dataclass
class Collected:
    predictions: list[Prediction] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    ticks: list[ValidTick] = field(default_factory=list)
    rejects: int = 0
    keep_ticks: bool = False

    def add(self, record: object) -> None:
        if isinstance(record, Decision):
            self.decisions.append(record)
        elif isinstance(record, Prediction):
            self.predictions.append(record)
        elif isinstance(record, TickBatch):
            if self.keep_ticks:
                self.ticks.extend(record.ticks)
        elif isinstance(record, ValidTick):
            if self.keep_ticks:
                self.ticks.append(record)
        elif isinstance(record, Reject):
            self.rejects += 1


def _decision_key(decision: Decision) -> tuple[int, str, int, int]:
    return (decision.ts_ns, decision.symbol, decision.partition, decision.offset)


def run_flow(components: Any, source: Any, keep_ticks: bool = False) -> Collected:
    """Run the live flow once over ``source`` (fresh state) and collect what it emits."""
    collected = Collected(keep_ticks=keep_ticks)
    collect_history(components, source, collected, flow_id="tickwise_backtest")
    collected.decisions.sort(key=_decision_key)
    collected.predictions.sort(key=lambda p: (p.ts_ns, p.symbol, p.partition, p.offset))
    return collected


def file_source(frame: pd.DataFrame) -> FileTickSource:
    """The frame's ticks as the messages production sees, in file (time) order."""
    return FileTickSource(encode_ticks(frame), topic="backtest")


def shift_prices(frame: pd.DataFrame, steps: int = 1) -> pd.DataFrame:
    """Every tick carries the prices of the tick ``steps`` before it (same symbol and type).

    Timestamps and order do not change; the first ``steps`` ticks of each (symbol, type)
    have no earlier price and are dropped. Used by the look-ahead check.
    """
    shifted = frame.copy()
    groups = shifted.groupby(["symbol", "type"], sort=False)
    for column in ("price", "bid", "ask"):
        if column in shifted:
            shifted[column] = groups[column].shift(steps)
    trade = shifted["type"] == "trade"
    keep = np.where(trade, shifted["price"].notna(), shifted["bid"].notna() & shifted["ask"].notna()) \
        if "bid" in shifted else shifted["price"].notna()
    return shifted[keep].reset_index(drop=True)


# -- paper execution ------------------------------------------------------------------------------


@dataclass
class Execution:
    fills: list[Fill]
    samples: dict[str, dict[int, tuple[float, float, float, str, str]]]  # symbol -> bucket -> sample
    books: dict[str, PaperBook]
    impact: float = 0.0  # dollars of market impact charged to the fills


def fill_impact(fill: Fill, impact_bps_per_million: float) -> float:
    """Dollars of square-root market impact one fill pays."""
    notional = fill.quantity * fill.price
    return notional * impact_bps(impact_bps_per_million, notional) * 1e-4


def _ticks_by_symbol(frame: pd.DataFrame | None, ticks: Sequence[ValidTick]) -> dict[str, list[Quote | Trade]]:
    out: dict[str, list[Quote | Trade]] = defaultdict(list)
    if frame is not None:
        types = frame["type"].to_numpy()
        symbols = frame["symbol"].to_numpy()
        stamps = frame["ts_ns"].to_numpy()
        price = frame["price"].to_numpy() if "price" in frame else np.full(len(frame), np.nan)
        bid = frame["bid"].to_numpy() if "bid" in frame else np.full(len(frame), np.nan)
        ask = frame["ask"].to_numpy() if "ask" in frame else np.full(len(frame), np.nan)
        for i in range(len(frame)):
            if types[i] == "trade":
                out[symbols[i]].append(Trade(symbols[i], int(stamps[i]), float(price[i]), 0.0))
            else:
                out[symbols[i]].append(Quote(symbols[i], int(stamps[i]), float(bid[i]), float(ask[i]), 0.0, 0.0))
    else:
        for tick in sorted(ticks, key=lambda t: (t.tick.ts_ns, t.partition, t.offset)):
            if type(tick.tick) in (Quote, Trade):  # depth messages carry no price to fill or mark at
                out[tick.tick.symbol].append(tick.tick)
    return out


def execute(decisions: Sequence[Decision], ticks: dict[str, list[Quote | Trade]], config: BacktestConfig) -> Execution:
    """Fill the accepted decisions on paper, symbol by symbol, in event time."""
    accepted: dict[str, list[Decision]] = defaultdict(list)
    for decision in decisions:
        if decision.accepted:
            accepted[decision.symbol].append(decision)
    fills: list[Fill] = []
    samples: dict[str, dict[int, tuple[float, float, float, str, str]]] = {}
    books: dict[str, PaperBook] = {}
    impact = 0.0
    for symbol in sorted(ticks):
        book = PaperBook(config.fee_bps, config.trade_half_spread_bps)
        books[symbol] = book
        pending = accepted.get(symbol, [])
        next_decision = 0
        owner = ("", "")
        series: dict[int, tuple[float, float, float, str, str]] = {}
        symbol_impact = 0.0
        for tick in ticks[symbol]:
            while next_decision < len(pending) and pending[next_decision].ts_ns <= tick.ts_ns:
                book.on_decision(pending[next_decision])
                next_decision += 1
            new = book.on_quote(tick) if isinstance(tick, Quote) else book.on_trade(tick)
            if new:
                fills.extend(new)
                owner = (new[-1].model_version, new[-1].regime)
                symbol_impact += sum(fill_impact(fill, config.impact_bps) for fill in new)
            snapshot = book.snapshot()
            series[tick.ts_ns // config.period_ns] = (snapshot.total_pnl - symbol_impact, snapshot.gross_exposure,
                                                      snapshot.position * snapshot.mid if snapshot.position else 0.0,
                                                      *owner)
        samples[symbol] = series
        impact += symbol_impact
    fills.sort(key=lambda f: (f.ts_ns, f.symbol, f.signal_id))
    return Execution(fills, samples, books, impact)


# -- statistics -------------------------------------------------------------------------------------


def _curves(samples: dict[str, dict[int, tuple]], capital: float) -> pd.DataFrame:
    buckets = sorted({bucket for series in samples.values() for bucket in series})
    if not buckets:
        return pd.DataFrame({"bucket": [], "equity": [], "gross": [], "net": []})
    full = range(buckets[0], buckets[-1] + 1)
    pnl = np.zeros(len(full))
    gross = np.zeros(len(full))
    net = np.zeros(len(full))
    for symbol in sorted(samples):
        series = samples[symbol]
        last = (0.0, 0.0, 0.0)
        for i, bucket in enumerate(full):
            if bucket in series:
                last = series[bucket][:3]
            pnl[i] += last[0]
            gross[i] += last[1]
            net[i] += last[2]
    return pd.DataFrame({"bucket": list(full), "equity": capital + pnl, "gross": gross, "net": net})


def _attribution(samples: dict[str, dict[int, tuple]]) -> dict[str, dict[str, float]]:
    """P&L per symbol (exact) and per model / regime: each interval's P&L change of a symbol
    goes to the model version and regime of the symbol's latest fill (the position's owner)."""
    by: dict[str, Counter] = {"symbol": Counter(), "model": Counter(), "regime": Counter()}
    for symbol in sorted(samples):
        previous = 0.0
        for bucket in sorted(samples[symbol]):
            pnl, _gross, _net, model, regime = samples[symbol][bucket]
            change = pnl - previous
            previous = pnl
            by["symbol"][symbol] += change
            if model or change:
                by["model"][model or "none"] += change
                by["regime"][regime or "none"] += change
    return {name: {key: round(value, 6) for key, value in sorted(counter.items())} for name, counter in by.items()}


def _calibration(predictions: Sequence[Prediction], horizon_ns: int) -> list[dict[str, float]]:
    """p_up against whether the symbol's price was higher ``horizon_ns`` later (ties skipped)."""
    by_symbol: dict[str, list[Prediction]] = defaultdict(list)
    for prediction in predictions:
        if math.isfinite(prediction.p_up) and prediction.price > 0.0:
            by_symbol[prediction.symbol].append(prediction)
    probabilities, outcomes = [], []
    for symbol in sorted(by_symbol):
        series = by_symbol[symbol]
        ahead = 0
        for prediction in series:
            ahead = max(ahead, 0)
            while ahead < len(series) and series[ahead].ts_ns < prediction.ts_ns + horizon_ns:
                ahead += 1
            if ahead >= len(series):
                break
            later = series[ahead].price
            if later != prediction.price:
                probabilities.append(prediction.p_up)
                outcomes.append(later > prediction.price)
    return calibration_table(probabilities, outcomes)


def summarize(collected: Collected, execution: Execution, config: BacktestConfig, meta: dict[str, Any]
              ) -> tuple[dict[str, Any], pd.DataFrame]:
    curves = _curves(execution.samples, config.capital)
    stats = equity_statistics(curves["equity"].to_numpy(), config.period_ns)
    fills = execution.fills
    snapshots = [book.snapshot() for _symbol, book in sorted(execution.books.items())]
    closing = sum(s.closing_trades for s in snapshots)
    wins = sum(s.wins for s in snapshots)
    traded = sum(s.traded_notional for s in snapshots)
    fees = sum(f.fee for f in fills)
    spread = sum(abs(f.price - f.mid) * f.quantity for f in fills)
    costs = {"fees": fees, "spread": spread, "impact": execution.impact, "total": fees + spread + execution.impact}
    minutes = len(curves)
    net = float(curves["equity"].iloc[-1] - config.capital) if minutes else 0.0
    days = _days(curves, config.period_ns)
    reasons = Counter(d.reason for d in collected.decisions)
    per_minute = np.diff(curves["equity"].to_numpy()) if minutes > 1 else np.zeros(0)
    strategy = {"gross_pnl": net + costs["total"], "net_pnl": net, "costs": costs["total"], "fills": len(fills),
                "turnover": traded / config.capital, "turnover_per_day": traded / config.capital / days}
    summary = {
        **meta,
        "capital": config.capital,
        "fee_bps": config.fee_bps,
        "trade_half_spread_bps": config.trade_half_spread_bps,
        "impact_bps": config.impact_bps,
        "predictions": len(collected.predictions),
        "decisions": len(collected.decisions),
        "signals": sum(1 for d in collected.decisions if d.accepted),
        "fills": len(fills),
        "rejected_ticks": collected.rejects,
        "decisions_by_reason": dict(sorted(reasons.items())),
        "total_pnl": net,
        "gross_pnl": strategy["gross_pnl"],
        "net_pnl": net,
        **stats,
        "hit_rate": wins / closing if closing else 0.0,
        "closing_trades": closing,
        "turnover": strategy["turnover"],
        "turnover_per_day": strategy["turnover_per_day"],
        "trading_days": days,
        "baseline": {"strategy": strategy, "do_nothing": dict.fromkeys(strategy, 0)},
        "exposure_mean_gross": float(curves["gross"].mean() / config.capital) if minutes else 0.0,
        "exposure_max_gross": float(curves["gross"].max() / config.capital) if minutes else 0.0,
        "time_in_market": float((curves["gross"] > 0).mean()) if minutes else 0.0,
        "costs": costs,
        "pnl_noise": float(per_minute.std(ddof=1) * math.sqrt(per_minute.size)) if per_minute.size > 1 else 0.0,
        "attribution": _attribution(execution.samples),
        "calibration": _calibration(collected.predictions, config.calibration_horizon_ns),
    }
    return rounded(summary), curves


def _days(curves: pd.DataFrame, period_ns: int) -> int:
    """UTC days of event time the tape's sampled periods fall on (at least 1)."""
    buckets = curves["bucket"].to_numpy(dtype=np.int64)
    return max(1, len(np.unique(buckets * period_ns // DAY_NS)))


def rounded(value: Any) -> Any:
    """Floats to 10 significant digits, so the JSON does not carry last-bit noise."""
    if isinstance(value, float):
        return float(f"{value:.10g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


# -- the whole backtest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestResult:
    out_dir: Path
    summary: dict[str, Any]


def _write_jsonl(path: Path, records: Sequence[object]) -> None:
    encoder = msgspec.json.Encoder()
    with open(path, "wb") as handle:
        for record in records:
            handle.write(encoder.encode(record))
            handle.write(b"\n")


def run_backtest(components: Any, out_dir: Path, *, frame: pd.DataFrame | None = None,
                 execution_frame: pd.DataFrame | None = None, source: Any | None = None,
                 config: BacktestConfig | None = None, meta: dict[str, Any] | None = None,
                 render: bool = True) -> BacktestResult:
    """Run the flow over ``frame`` (tick files) or ``source`` (a replay), fill on paper, report.

    ``execution_frame`` is the tape the paper fills use (default: ``frame``); the look-ahead
    check runs the flow on a shifted tape and fills on the true one.
    """
    config = config or BacktestConfig()
    if (frame is None) == (source is None):
        raise ValueError("run_backtest needs exactly one of frame (tick files) or source (offset replay)")
    out_dir.mkdir(parents=True, exist_ok=True)
    collected = run_flow(components, file_source(frame) if frame is not None else source,
                         keep_ticks=frame is None)
    tape = execution_frame if execution_frame is not None else frame
    execution = execute(collected.decisions, _ticks_by_symbol(tape, collected.ticks), config)
    versions = sorted({p.model_version for p in collected.predictions})
    info = {"flow": "dataflows.signals:build_flow", "model_version": components.ensemble.version,
            "model_versions_seen": versions, **(meta or {})}
    if frame is not None:
        info.update({"ticks": len(frame), "symbols": sorted(frame["symbol"].unique().tolist()),
                     "first_ts_ns": int(frame["ts_ns"].iloc[0]) if len(frame) else None,
                     "last_ts_ns": int(frame["ts_ns"].iloc[-1]) if len(frame) else None})
    summary, curves = summarize(collected, execution, config, info)
    _write_jsonl(out_dir / "decisions.jsonl", collected.decisions)
    _write_jsonl(out_dir / "signals.jsonl", [d for d in collected.decisions if d.accepted])
    _write_jsonl(out_dir / "fills.jsonl", execution.fills)
    curves.to_csv(out_dir / "equity.csv", index=False, float_format="%.6f")
    (out_dir / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
                                           + b"\n")
    if render:
        from dataflows.backtest_report import render_report

        render_report(out_dir, summary, curves, config)
    return BacktestResult(out_dir, summary)
