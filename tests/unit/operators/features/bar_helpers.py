"""Bars from real trades two ways, for the bar and feature tests: our builder, and a pandas grouping."""

from __future__ import annotations

import pickle

import pandas as pd

from operators.features.bars import Bar, TimeBarBuilder


def time_bars(trades: pd.DataFrame, interval_ns: int, pickle_after: int | None = None,
              flush: bool = False) -> list[Bar]:
    """Completed bars of ``trades`` (columns ts_ns, price, size) from ``TimeBarBuilder``; with
    ``pickle_after`` the builder is pickled and restored once that many bars are out; with
    ``flush`` the last, open bar too."""
    builder = TimeBarBuilder(interval_ns)
    bars = []
    for ts_ns, price, size in zip(trades["ts_ns"], trades["price"], trades["size"]):
        bar = builder.update(int(ts_ns), float(price), float(size), "unknown")
        if bar is not None:
            bars.append(bar)
            if len(bars) == pickle_after:  # pickle mid-stream: the copy carries on identically
                builder = pickle.loads(pickle.dumps(builder))
    last = builder.flush() if flush else None
    return bars if last is None else [*bars, last]


def pandas_bars(trades: pd.DataFrame, interval_ns: int) -> pd.DataFrame:
    """The same bars by pandas: OHLC, volume, VWAP and trade count per interval, indexed by start."""
    start = trades["ts_ns"] // interval_ns * interval_ns
    grouped = trades.assign(notional=trades["price"] * trades["size"]).groupby(start)
    return pd.DataFrame(
        {
            "open": grouped["price"].first(),
            "high": grouped["price"].max(),
            "low": grouped["price"].min(),
            "close": grouped["price"].last(),
            "volume": grouped["size"].sum(),
            "vwap": grouped["notional"].sum() / grouped["size"].sum(),
            "trade_count": grouped["price"].size(),
        }
    )
