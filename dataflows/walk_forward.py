"""Walk-forward backtest: retrain on an expanding window, backtest the next period with that model.

What a user runs before trusting a model: the ticks are cut into periods (whole UTC days, or
chunks of N hours of each day's session), and for every period ``k >= train_min``:

1. train: the feature rows of periods ``[0, k)`` (the live feature stage run once over the
   whole range by ``dataflows.backfill.backfill_flow``; features are causal, so a row never
   saw a later tick) go to ``models.train.train_ensemble``. Labels are made from that slice
   only, so no label reaches into the test period;
2. test: ``dataflows.backtest.run_backtest`` runs the live ``build_flow`` over period ``k``'s
   ticks (fresh state, as a flow started at the period's start) with that period's model,
   and fills the accepted signals on paper.

The report (``render_walk_forward_report``) has the per-period table (train range, test
range, model version, P&L, Sharpe, hit rate, max drawdown, costs, signals) and the combined
equity curve: each period's paper P&L chained onto the previous periods' total. Every step is
seeded and single-threaded, so the same ticks and settings give the same table, byte for byte
(``walk_forward.json`` holds no wall-clock values).

Cost: every period trains one ensemble. With the default ``TrainConfig`` (100 trees, 4 folds,
leakage controls) a full-day period of all four shipped symbols costs about 1-2 minutes of
backfill per day (peaking at several GB for two days) plus a few minutes of training per
period on a 2-core machine, so ``--periods day`` over the three shipped days takes on the order
of 10-15 minutes. Hours-long periods of one symbol with a small ``n_estimators`` (the CI test:
IBM, 2013-10-07..08 regular session, 3.25-hour periods, 20 trees) run in about two minutes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from dataflows.backtest import BacktestConfig, rounded, run_backtest
from models.train import TrainConfig

__all__ = ["WalkForwardConfig", "WalkForwardResult", "parse_periods", "parse_session", "run_walk_forward",
           "small_train_config", "split_periods", "train_period"]

DAY_NS = 86_400 * 1_000_000_000
HOUR_NS = 3_600 * 1_000_000_000


@dataclass(frozen=True)
class WalkForwardConfig:
    """``period_ns`` None: one period per UTC day; else chunks of that length within each day.

    ``session`` (start, end) in ns after midnight UTC keeps only the ticks of that time of day
    (None: the whole day). ``train_min`` is the number of periods the first model trains on.
    """

    period_ns: int | None = None
    train_min: int = 1
    session: tuple[int, int] | None = None
    train: TrainConfig = field(default_factory=lambda: TrainConfig(write_report=False))
    backtest: BacktestConfig = field(default_factory=BacktestConfig)

    def __post_init__(self) -> None:
        if self.period_ns is not None and not (type(self.period_ns) is int and 0 < self.period_ns <= DAY_NS):
            raise ValueError(f"WalkForwardConfig.period_ns must be None (a day) or an int in (0, 1 day], "
                             f"got {self.period_ns!r}")
        if type(self.train_min) is not int or self.train_min < 1:
            raise ValueError(f"WalkForwardConfig.train_min must be an int >= 1, got {self.train_min!r}")
        if self.session is not None:
            start, end = self.session
            if not 0 <= start < end <= DAY_NS:
                raise ValueError(f"WalkForwardConfig.session must be (start, end) ns after midnight with "
                                 f"0 <= start < end <= 1 day, got {self.session!r}")


def parse_periods(text: str) -> int | None:
    """``"day"`` -> None; ``"3h"``, ``"3.25h"`` or ``"3"`` (hours) -> nanoseconds.

    >>> parse_periods("day"), parse_periods("3.25h") / HOUR_NS
    (None, 3.25)
    """
    cleaned = text.strip().lower()
    if cleaned in ("day", "1d", "d"):
        return None
    try:
        hours = float(cleaned.removesuffix("h"))
    except ValueError:
        raise ValueError(f"--periods expects 'day' or hours such as '3h', got {text!r}") from None
    if not 0.0 < hours <= 24.0:
        raise ValueError(f"--periods hours must lie in (0, 24], got {text!r}")
    return int(round(hours * HOUR_NS))


def parse_session(text: str) -> tuple[int, int]:
    """``"13:30-20:00"`` (UTC) -> (start, end) ns after midnight.

    >>> [bound / HOUR_NS for bound in parse_session("13:30-20:00")]
    [13.5, 20.0]
    """
    try:
        first, second = (pd.Timedelta(f"{part.strip()}:00") for part in text.split("-"))
    except ValueError:
        raise ValueError(f"--session expects HH:MM-HH:MM (UTC), got {text!r}") from None
    return int(first.value), int(second.value)


def in_session(frame: pd.DataFrame, session: tuple[int, int] | None) -> pd.DataFrame:
    if session is None:
        return frame
    time_of_day = frame["ts_ns"].to_numpy() % DAY_NS
    keep = (time_of_day >= session[0]) & (time_of_day < session[1])
    return frame[keep].reset_index(drop=True)


def split_periods(stamps: np.ndarray, period_ns: int | None) -> list[tuple[int, int]]:
    """[start, end) of each non-empty period: per UTC day, from its first tick, ``period_ns`` long.

    >>> stamps = (np.array([0.1, 0.4, 0.7, 24.05]) * HOUR_NS).astype(np.int64)  # hours; the last: next day
    >>> [(start / HOUR_NS, end / HOUR_NS) for start, end in split_periods(stamps, HOUR_NS // 2)]
    [(0.1, 0.6), (0.6, 1.1), (24.05, 24.55)]
    """
    if stamps.size == 0:
        return []
    periods = []
    for day in np.unique(stamps // DAY_NS):
        in_day = stamps[(stamps >= day * DAY_NS) & (stamps < (day + 1) * DAY_NS)]
        if period_ns is None:
            periods.append((int(day * DAY_NS), int((day + 1) * DAY_NS)))
            continue
        first, last = int(in_day.min()), int(in_day.max())
        start = first
        while start <= last:
            end = min(start + period_ns, int((day + 1) * DAY_NS))
            if np.any((in_day >= start) & (in_day < end)):
                periods.append((start, end))
            start = end
    return periods


# -- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalkForwardResult:
    out_dir: Path
    table: list[dict[str, Any]]
    combined: dict[str, Any]


def _iso(ts_ns: int) -> str:
    return pd.Timestamp(ts_ns, tz="UTC").strftime("%Y-%m-%d %H:%M")


def _feature_rows(settings: Any, frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The live feature stage over all the ticks, once: (features table, feature-set hash)."""
    from bytewax.testing import run_main

    from dataflows.backfill import CollectRows, FileTickSource, _NoModel, backfill_flow, feature_set_of, rows_to_frame
    from dataflows.components import build_components
    from dataflows.tickfiles import encode_ticks
    from sinks.metrics import MetricsRegistry

    components = build_components(settings, ensemble=_NoModel(), registry=MetricsRegistry())  # type: ignore[arg-type]
    collect = CollectRows()
    run_main(backfill_flow(components, FileTickSource(encode_ticks(frame), topic="walk_forward"), collect))
    return rows_to_frame(collect.rows).drop(columns=["offset"]), feature_set_of(collect.rows)


def train_period(features: pd.DataFrame, feature_set: str, start_ns: int, end_ns: int, model_dir: Path,
                 config: TrainConfig) -> str:
    """Train on the feature rows in [start_ns, end_ns); returns the model version."""
    from dataflows.backfill import record_feature_set
    from models.train import train_ensemble

    stamps = features["ts_ns"].to_numpy()
    window = features[(stamps >= start_ns) & (stamps < end_ns)].reset_index(drop=True)
    if window.empty:
        raise ValueError(f"no feature rows to train on in {_iso(start_ns)} .. {_iso(end_ns)}")
    train_ensemble(window, model_dir, config)
    return str(record_feature_set(model_dir, feature_set)["version"])


def run_walk_forward(settings: Any, frame: pd.DataFrame, out_dir: Path, config: WalkForwardConfig,
                     meta: dict[str, Any] | None = None, render: bool = True) -> WalkForwardResult:
    """Expanding-window retrain + next-period backtest over ``frame`` (ticks, time order)."""
    from dataflows.components import build_components
    from models.ensemble import Ensemble
    from operators.paper.performance import equity_statistics
    from sinks.metrics import MetricsRegistry

    frame = in_session(frame, config.session)
    periods = split_periods(frame["ts_ns"].to_numpy(), config.period_ns)
    if len(periods) <= config.train_min:
        raise ValueError(f"walk-forward needs more than train_min={config.train_min} periods, the ticks give "
                         f"{len(periods)} ({[(_iso(a), _iso(b)) for a, b in periods]})")
    out_dir.mkdir(parents=True, exist_ok=True)
    features, feature_set = _feature_rows(settings, frame)
    stamps = frame["ts_ns"].to_numpy()
    table: list[dict[str, Any]] = []
    curves: list[pd.DataFrame] = []
    offset = 0.0
    train_start = periods[0][0]
    for index in range(config.train_min, len(periods)):
        test_start, test_end = periods[index]
        period_dir = out_dir / "periods" / f"{index:02d}"
        version = train_period(features, feature_set, train_start, test_start, period_dir / "model", config.train)
        components = build_components(settings, ensemble=Ensemble.load(period_dir / "model"),
                                      registry=MetricsRegistry())
        test = frame[(stamps >= test_start) & (stamps < test_end)].reset_index(drop=True)
        result = run_backtest(components, period_dir, frame=test, config=config.backtest, render=False,
                              meta={"walk_forward_period": index, **(meta or {})})
        summary = result.summary
        table.append({
            "period": index,
            "train_start": _iso(train_start), "train_end": _iso(periods[index - 1][1]),
            "test_start": _iso(test_start), "test_end": _iso(test_end),
            "model_version": version, "ticks": len(test), "predictions": summary["predictions"],
            "signals": summary["signals"], "fills": summary["fills"], "pnl": summary["total_pnl"],
            "sharpe": summary["sharpe"], "hit_rate": summary["hit_rate"],
            "max_drawdown": summary["max_drawdown"], "costs": summary["costs"]["total"],
        })
        curve = pd.read_csv(period_dir / "equity.csv")
        if len(curve):
            capital = config.backtest.capital
            curve = curve.assign(period=index, equity=curve["equity"] + offset)
            offset = float(curve["equity"].iloc[-1] - capital)
            curves.append(curve)
    combined_curve = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
        {"bucket": [], "equity": [], "gross": [], "net": [], "period": []})
    combined = {
        "periods_tested": len(table),
        "total_pnl": offset,
        "signals": sum(row["signals"] for row in table),
        "costs": sum(row["costs"] for row in table),
        **equity_statistics(combined_curve["equity"].to_numpy(), config.backtest.period_ns),
    }
    document = rounded({**(meta or {}), "period_ns": config.period_ns, "train_min": config.train_min,
                         "session": list(config.session) if config.session else None,
                         "train_config": _train_settings(config.train), "periods": table, "combined": combined})
    (out_dir / "walk_forward.json").write_bytes(orjson.dumps(document, option=orjson.OPT_SORT_KEYS
                                                             | orjson.OPT_INDENT_2) + b"\n")
    pd.DataFrame(document["periods"]).to_csv(out_dir / "periods.csv", index=False)
    combined_curve.to_csv(out_dir / "equity.csv", index=False, float_format="%.6f")
    if render:
        from dataflows.backtest_report import render_walk_forward_report

        render_walk_forward_report(out_dir, document, combined_curve)
    return WalkForwardResult(out_dir, document["periods"], document["combined"])


def _train_settings(config: TrainConfig) -> dict[str, Any]:
    return {"n_estimators": config.n_estimators, "max_depth": config.max_depth, "seed": config.seed,
            "n_folds": config.walk_forward.n_folds}


def small_train_config(n_estimators: int, base: TrainConfig | None = None) -> TrainConfig:
    """``base`` (default ``TrainConfig``) with fewer trees and no HTML report: quick per-period models."""
    base = base or TrainConfig()
    return dataclasses.replace(base, n_estimators=n_estimators, write_report=False)
