"""Feature frames of the bar history, computed by driving the live operator bar by bar.

The CSVs of ``../shared/data/market/bars/`` are read in chunks with explicit columns and dtypes
(memory stays in the tens of MB), each row becomes a :class:`~operators.features.bars.Bar` with
adjusted prices (raw x ``adj_factor``; volume / ``adj_factor``, so a split changes neither
notional nor the volume z-score), and one :class:`LongHorizonFeatures` per symbol turns the bars
into one row per completed session: exactly what the operator would emit live.

* hourly file: ``ts_ns`` is the bar start; a bar lasts an hour (the 09:00 bar holds 09:30-10:00).
* daily file: ``date`` is the session; the bar spans 09:30-16:00 New York time of that date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from operators.features.bars import Bar
from operators.features.long_horizon import FEATURE_NAMES, LongHorizonFeatures, LongHorizonRow

HOUR_NS = 3_600 * 1_000_000_000
CHUNK_ROWS = 50_000
PRICE_COLUMNS = ("open", "high", "low", "close")
_DTYPES = {"symbol": "str", "open": "float64", "high": "float64", "low": "float64", "close": "float64",
           "volume": "float64", "adj_factor": "float64"}
SESSION_OPEN = pd.Timedelta(hours=9, minutes=30)
SESSION_CLOSE = pd.Timedelta(hours=16)
TIMEZONE = "America/New_York"

Progress = Callable[[str], None] | None


def _hourly_chunks(path: Path) -> Iterator[pd.DataFrame]:
    columns = ["ts_ns", *_DTYPES]
    for chunk in pd.read_csv(path, usecols=columns, dtype={"ts_ns": "int64", **_DTYPES}, chunksize=CHUNK_ROWS):
        chunk["start_ns"] = chunk["ts_ns"]
        chunk["end_ns"] = chunk["ts_ns"] + HOUR_NS
        yield chunk


def _daily_chunks(path: Path) -> Iterator[pd.DataFrame]:
    columns = ["date", *_DTYPES]
    for chunk in pd.read_csv(path, usecols=columns, dtype={"date": "str", **_DTYPES}, chunksize=CHUNK_ROWS):
        local = pd.to_datetime(chunk["date"], format="%Y-%m-%d").dt.tz_localize(TIMEZONE)
        chunk["start_ns"] = (local + SESSION_OPEN).dt.as_unit("ns").astype("int64").to_numpy()
        chunk["end_ns"] = (local + SESSION_CLOSE).dt.as_unit("ns").astype("int64").to_numpy()
        yield chunk


def adjusted_bars(chunk: pd.DataFrame) -> Iterator[tuple[str, Bar]]:
    """``(symbol, Bar)`` of every row of a chunk, prices adjusted, in file order."""
    factor = chunk["adj_factor"].to_numpy(np.float64)
    prices = [chunk[c].to_numpy(np.float64) * factor for c in PRICE_COLUMNS]
    volume = chunk["volume"].to_numpy(np.float64) / factor
    for symbol, start, end, o, h, low, c, v in zip(chunk["symbol"].tolist(), chunk["start_ns"].tolist(),
                                                   chunk["end_ns"].tolist(), *(p.tolist() for p in prices),
                                                   volume.tolist(), strict=True):
        yield symbol, Bar(start, end, o, h, low, c, v, float("nan"), 0, 0.0, 0.0)


def feature_frame(path: Path, interval: str, progress: Progress = None,
                  symbols: frozenset[str] | None = None) -> pd.DataFrame:
    """One row per symbol and completed session: ``symbol``, ``day`` (date ordinal), ``end_ns`` and
    ``FEATURE_NAMES``, sorted by symbol then day. ``symbols`` restricts the symbols read."""
    chunks = _hourly_chunks(Path(path)) if interval == "hour" else _daily_chunks(Path(path))
    operators: dict[str, LongHorizonFeatures] = {}
    rows: list[tuple[str, LongHorizonRow]] = []
    bars = 0
    for chunk in chunks:
        if symbols is not None:
            chunk = chunk[chunk["symbol"].isin(symbols)]
        for symbol, bar in adjusted_bars(chunk):
            operator = operators.get(symbol)
            if operator is None:
                operator = operators[symbol] = LongHorizonFeatures(interval=interval, timezone=TIMEZONE)
            row = operator.update(bar)
            if row is not None:
                rows.append((symbol, row))
        bars += len(chunk)
        if progress is not None:
            progress(f"{Path(path).name}: {bars:,} bars read, {len(rows):,} sessions")
    for symbol, operator in operators.items():
        last = operator.flush()
        if last is not None:
            rows.append((symbol, last))
    return _frame(rows)


def _frame(rows: list[tuple[str, LongHorizonRow]]) -> pd.DataFrame:
    values = np.array([row.values for _, row in rows], dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES))
    frame = pd.DataFrame(values, columns=list(FEATURE_NAMES))
    frame.insert(0, "symbol", [symbol for symbol, _ in rows])
    frame.insert(1, "day", np.array([row.day for _, row in rows], dtype=np.int64))
    frame.insert(2, "end_ns", np.array([row.end_ns for _, row in rows], dtype=np.int64))
    return frame.sort_values(["symbol", "day"], kind="stable").reset_index(drop=True)
