"""The quote-time dataset of the microstructure model, built by the live flow's own feature groups.

The quote and trade files are read in chunks and merged in event-time order (a quote before a
trade with the same timestamp, each file's own order kept otherwise), then every tick of a
symbol is fed to that symbol's :class:`QuotesAndTrades` and :class:`OrderFlowFeatures`, exactly
as :class:`operators.features.symbol.SymbolFeatures` feeds them live: a trade gets its side from
``QuotesAndTrades.classify`` against the latest quote, then both groups see it. So a model
trained here reads the same numbers, under the same names, as the live row.

A **row** is taken at a valid quote (bid > 0, ask >= bid: locked quotes count, crossed ones do
not), after that quote has been applied; the features read only ticks up to and including it.
``row_stride`` keeps every n-th valid quote of each symbol as a row (deterministic thinning:
consecutive quotes are near-duplicates, and fewer rows make training and the bootstrap fast);
every tick still updates the features, and every valid quote's mid is kept (``MidSeries``) so
the labels see each mid move, whichever rows are kept. Memory: one chunk of each file, the
float32 rows and 16 bytes per valid quote.

>>> FEATURE_NAMES[:3]
('quote_imbalance', 'spread_bps', 'microprice_deviation_bps')
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from operators.features.config import FeatureConfig
from operators.features.groups.order_flow import OrderFlowFeatures
from operators.features.groups.quotes_and_trades import QuotesAndTrades

#: The quote-and-trade features the model reads (the quote age is 0 at quote time, prices are levels).
QUOTE_FEATURES = ("quote_imbalance", "spread_bps", "microprice_deviation_bps", "signed_volume_imbalance",
                  "last_trade_age_seconds")
FEATURE_NAMES: tuple[str, ...] = QUOTE_FEATURES + OrderFlowFeatures.names
_QUOTE_INDEX = tuple(QuotesAndTrades.names.index(name) for name in QUOTE_FEATURES)
QUOTED_SYMBOLS = ("AIG", "BAC", "IBM")
CHUNK_ROWS = 250_000
_QUOTE, _TRADE = 0, 1
NEW_YORK = "America/New_York"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MidSeries:
    """Every valid quote of one symbol: event time, New York session day and mid (for labels)."""

    ts_ns: np.ndarray  # int64
    day: np.ndarray  # datetime64[D]
    mid: np.ndarray  # float64


@dataclass(frozen=True)
class QuoteRows:
    """Rows at quote time: event time, symbol, session day, position in the symbol's mid series, features."""

    ts_ns: np.ndarray  # int64
    symbol: np.ndarray  # object (str)
    day: np.ndarray  # datetime64[D], New York date
    position: np.ndarray  # int64, index of the row's quote in mids[symbol]
    features: np.ndarray  # float32, (rows, len(FEATURE_NAMES))
    mids: dict[str, MidSeries]
    order_flow_us_per_tick: float  # mean cost of OrderFlowFeatures (update, and values at rows)

    def __len__(self) -> int:
        return len(self.ts_ns)


TimeRanges = tuple[tuple[int, int], ...]


def _chunks(path: Path, columns: list[str], symbols: tuple[str, ...], chunk_rows: int,
            ts_ranges: TimeRanges | None) -> Iterator[pd.DataFrame]:
    for chunk in pd.read_csv(path, usecols=columns, chunksize=chunk_rows):
        chunk = chunk[chunk["symbol"].isin(symbols)]
        if ts_ranges is not None and len(chunk):
            if chunk["ts_ns"].iloc[0] >= max(end for _, end in ts_ranges):
                return  # the files are sorted by time: nothing later is in range
            ts_ns = chunk["ts_ns"].to_numpy()
            chunk = chunk[np.any([(ts_ns >= start) & (ts_ns < end) for start, end in ts_ranges], axis=0)]
        if len(chunk):
            yield chunk


def _as_events(frame: pd.DataFrame, kind: int) -> pd.DataFrame:
    """One table shape for both files: ts, kind, symbol, then four numbers (NaN where unused)."""
    if kind == _QUOTE:
        values = frame[["bid", "ask", "bid_size", "ask_size"]].to_numpy(np.float64)
    else:
        values = np.column_stack([frame["price"].to_numpy(np.float64), frame["size"].to_numpy(np.float64),
                                  np.full((len(frame), 2), np.nan)])
    return pd.DataFrame({"ts_ns": frame["ts_ns"].to_numpy(np.int64), "kind": kind,
                         "symbol": frame["symbol"].to_numpy(object), "a": values[:, 0], "b": values[:, 1],
                         "c": values[:, 2], "d": values[:, 3]})


def merged_events(quotes: Iterator[pd.DataFrame], trades: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Merge two time-sorted chunk streams into time-sorted event tables (quotes first on ties).

    Only events strictly before the earlier of the two buffers' last timestamps are released, so
    a later chunk can never hold an event that belongs before one already released.
    """
    sources = [quotes, trades]
    buffers = [_as_events(pd.DataFrame(columns=["ts_ns", "symbol", "bid", "ask", "bid_size", "ask_size"]), _QUOTE),
               _as_events(pd.DataFrame(columns=["ts_ns", "symbol", "price", "size"]), _TRADE)]
    done = [False, False]

    def end(k: int) -> float:
        """Up to when buffer ``k`` is complete: its last time (-inf if empty), +inf once its file is read."""
        return np.inf if done[k] else buffers[k]["ts_ns"].iloc[-1] if len(buffers[k]) else -np.inf

    while not all(done):
        k = 0 if end(0) <= end(1) else 1
        chunk = next(sources[k], None)
        if chunk is None:
            done[k] = True
        else:
            buffers[k] = pd.concat([buffers[k], _as_events(chunk, k)], ignore_index=True)
        cutoff = min(end(0), end(1))
        released = []
        for k in (0, 1):
            early = (buffers[k]["ts_ns"] < cutoff).to_numpy()
            released.append(buffers[k][early])
            buffers[k] = buffers[k][~early].reset_index(drop=True)
        yield _time_order(released)
    yield _time_order(buffers)


def _time_order(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(parts, ignore_index=True)
    order = np.lexsort((frame["kind"].to_numpy(), frame["ts_ns"].to_numpy()))  # stable: file order on ties
    return frame.iloc[order].reset_index(drop=True)


class _SymbolState:
    """The two feature groups of one symbol, driven like ``SymbolFeatures`` drives them."""

    __slots__ = ("quotes", "order_flow", "ts_ns", "mids")

    def __init__(self, symbol: str, config: FeatureConfig) -> None:
        self.quotes = QuotesAndTrades(config.flow_window_ns, config.quote_lag_ns_for(symbol))
        self.order_flow = OrderFlowFeatures()
        self.ts_ns = array("q")
        self.mids = array("d")

    def series(self) -> MidSeries:
        ts_ns = np.frombuffer(self.ts_ns, np.int64).copy()
        return MidSeries(ts_ns, new_york_day(ts_ns), np.frombuffer(self.mids, np.float64).copy())


class _RowBuffer:
    """Rows appended one at a time: features into float32 blocks, (ts, symbol, position) into a list."""

    def __init__(self, block_rows: int = 200_000) -> None:
        self.block_rows = block_rows
        self.blocks: list[np.ndarray] = []
        self.meta: list[tuple[int, str, int]] = []
        self._block = np.empty((block_rows, len(FEATURE_NAMES)), np.float32)
        self._used = 0

    def append(self, ts_ns: int, symbol: str, position: int, values: list[float]) -> None:
        if self._used == self.block_rows:
            self.blocks.append(self._block)
            self._block = np.empty((self.block_rows, len(FEATURE_NAMES)), np.float32)
            self._used = 0
        self._block[self._used] = values
        self._used += 1
        self.meta.append((ts_ns, symbol, position))

    def finish(self, mids: dict[str, MidSeries], order_flow_us: float) -> QuoteRows:
        features = np.concatenate(self.blocks + [self._block[:self._used]])
        ts_ns = np.fromiter((m[0] for m in self.meta), np.int64, len(self.meta))
        symbol = np.array([m[1] for m in self.meta], dtype=object)
        position = np.fromiter((m[2] for m in self.meta), np.int64, len(self.meta))
        return QuoteRows(ts_ns, symbol, new_york_day(ts_ns), position, features, mids, order_flow_us)


def new_york_day(ts_ns: np.ndarray) -> np.ndarray:
    """The New York calendar date of each UTC epoch-nanosecond time (the session day)."""
    local = pd.DatetimeIndex(pd.to_datetime(np.asarray(ts_ns, np.int64), utc=True)).tz_convert(NEW_YORK)
    return local.tz_localize(None).to_numpy().astype("datetime64[D]")


def build_rows(quotes_path: Path, trades_path: Path, *, symbols: tuple[str, ...] = QUOTED_SYMBOLS,
               row_stride: int = 1, ts_ranges: TimeRanges | None = None, config: FeatureConfig | None = None,
               progress: Progress | None = None, chunk_rows: int = CHUNK_ROWS) -> QuoteRows:
    """Drive the feature groups over the files and take a row at every ``row_stride``-th valid quote.

    ``ts_ranges`` (``[start, end)`` pairs in ns) restrict the ticks read, for small test runs.
    """
    if isinstance(row_stride, bool) or not isinstance(row_stride, int) or row_stride < 1:
        raise ValueError(f"row_stride must be an integer >= 1, got {row_stride!r}")
    config = config or FeatureConfig()
    states = {symbol: _SymbolState(symbol, config) for symbol in symbols}
    rows = _RowBuffer()
    order_flow_seconds, ticks = 0.0, 0
    quotes = _chunks(Path(quotes_path), ["ts_ns", "symbol", "bid", "ask", "bid_size", "ask_size"], symbols,
                     chunk_rows, ts_ranges)
    trades = _chunks(Path(trades_path), ["ts_ns", "symbol", "price", "size"], symbols, chunk_rows, ts_ranges)
    clock = time.perf_counter
    for events in merged_events(quotes, trades):
        for ts_ns, kind, symbol, a, b, c, d in events.itertuples(index=False, name=None):
            state = states[symbol]
            ticks += 1
            if kind == _TRADE:
                side = state.quotes.classify(ts_ns, a)
                state.quotes.on_trade(ts_ns, a, b, side)
                started = clock()
                state.order_flow.on_trade(ts_ns, a, b, side)
                order_flow_seconds += clock() - started
                continue
            state.quotes.on_quote(ts_ns, a, b, c, d)
            started = clock()
            state.order_flow.on_quote(ts_ns, a, b, c, d)
            order_flow_seconds += clock() - started
            if not (a > 0.0 and b >= a):
                continue
            position = len(state.ts_ns)
            state.ts_ns.append(ts_ns)
            state.mids.append(0.5 * (a + b))
            if position % row_stride:
                continue
            started = clock()
            flow = state.order_flow.values(ts_ns)
            order_flow_seconds += clock() - started
            quote_values = state.quotes.values(ts_ns)
            rows.append(ts_ns, symbol, position, [quote_values[i] for i in _QUOTE_INDEX] + list(flow))
        if progress is not None and len(events):
            progress(f"features: {ticks:,} ticks, {len(rows.meta):,} rows")
    mids = {symbol: state.series() for symbol, state in states.items()}
    return rows.finish(mids, order_flow_seconds / ticks * 1e6 if ticks else float("nan"))
