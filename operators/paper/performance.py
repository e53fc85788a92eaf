"""Backtest performance statistics from an equity curve sampled on a fixed event-time grid.

All inputs are plain arrays; nothing reads a clock. Conventions (stated in the report):

- ``equity`` is sampled every ``period_ns`` (one minute by default); period returns are
  ``equity[k] / equity[k-1] - 1``;
- annualization uses ``periods_per_year`` = 252 trading days x the periods of a 6.5 h
  regular session (390 one-minute periods), so Sharpe = mean / std x sqrt(periods_per_year)
  and Sortino = mean / downside deviation x sqrt(periods_per_year) (risk-free rate 0);
- total return = last / first - 1; annualized return = (1 + total) ^ (252 / days) - 1 with
  ``days`` = sampled periods / 390;
- max drawdown = the largest fall from a running peak, as a fraction of the peak.

>>> stats = equity_statistics([100.0, 101.0, 100.5, 102.0], period_ns=60 * 10**9)
>>> round(stats["total_return"], 4), round(stats["max_drawdown"], 5)
(0.02, 0.00495)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["calibration_table", "equity_statistics", "max_drawdown"]

SESSION_PERIODS = 390
TRADING_DAYS = 252


def max_drawdown(equity: Sequence[float]) -> float:
    values = np.asarray(equity, dtype=np.float64)
    if values.size == 0:
        return 0.0
    peaks = np.maximum.accumulate(values)
    return float(np.max((peaks - values) / peaks))


def equity_statistics(equity: Sequence[float], period_ns: int) -> dict[str, float]:
    values = np.asarray(equity, dtype=np.float64)
    minute_scale = (60 * 10**9) / period_ns
    periods_per_year = TRADING_DAYS * SESSION_PERIODS * minute_scale
    if values.size < 2:
        return {"total_return": 0.0, "annualized_return": 0.0, "sharpe": 0.0, "sortino": 0.0,
                "max_drawdown": 0.0, "volatility_annualized": 0.0, "periods": int(values.size)}
    returns = values[1:] / values[:-1] - 1.0
    total = float(values[-1] / values[0] - 1.0)
    days = returns.size / (SESSION_PERIODS * minute_scale)
    annualized = float((1.0 + total) ** (TRADING_DAYS / days) - 1.0) if total > -1.0 else -1.0
    std = float(returns.std(ddof=1)) if returns.size > 1 else 0.0
    downside = returns[returns < 0.0]
    downside_dev = float(math.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))) if downside.size else 0.0
    mean = float(returns.mean())
    scale = math.sqrt(periods_per_year)
    return {
        "total_return": total,
        "annualized_return": annualized,
        "sharpe": mean / std * scale if std > 0.0 else 0.0,
        "sortino": mean / downside_dev * scale if downside_dev > 0.0 else 0.0,
        "max_drawdown": max_drawdown(values),
        "volatility_annualized": std * scale,
        "periods": int(values.size),
    }


def calibration_table(p_up: Sequence[float], went_up: Sequence[bool], bins: int = 10) -> list[dict[str, float]]:
    """Per probability bin: mean predicted p_up, observed frequency of an up move, count."""
    probabilities = np.asarray(p_up, dtype=np.float64)
    outcomes = np.asarray(went_up, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        if count:
            table.append({"bin_low": float(edges[b]), "bin_high": float(edges[b + 1]),
                          "predicted": float(probabilities[mask].mean()), "observed": float(outcomes[mask].mean()),
                          "count": count})
    return table
