"""Read tick CSV files (the layouts of the recorded US equity trades and NBBO quotes) and merge them in time order.

Trades: ``ts_ns,symbol,price,size,side``; quotes: ``ts_ns,symbol,bid,ask,bid_size,ask_size``;
gzip or plain. Each row becomes the JSON message the engine consumes from Kafka, so the
producer, the backfill and the tests all feed the flow exactly what production sees.

A row that cannot be a tick (a price such as ``abc``, an empty size, more fields than the
header) is a ``BadRow`` naming its file, line and what is wrong: the caller either collects the
bad rows and gets the rest (``skipped=[]``, what ``tickwise produce`` and ``backtest`` do by
default) or gets a ``TickFileError`` at the first one (``skipped=None``, their ``--strict``).
Values that parse but are implausible (a ``1e308`` price) are the flow's validation's to reject.
"""

from __future__ import annotations

import re
import warnings
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from dataflows.bad_rows import BadRow

TRADE_COLUMNS = ("ts_ns", "symbol", "price", "size", "side")
QUOTE_COLUMNS = ("ts_ns", "symbol", "bid", "ask", "bid_size", "ask_size")
NUMBER_COLUMNS = {"trade": ("ts_ns", "price", "size"), "quote": ("ts_ns", "bid", "ask", "bid_size", "ask_size")}
_SKIPPED_LINE = re.compile(r"Skipping line (\d+): (.+)")


class TickFileError(ValueError):
    """A tick file is missing, has a layout we do not know, or (when asked to stop there) a bad row."""


def _layout(path: Path) -> str:
    try:
        header = tuple(pd.read_csv(path, nrows=0).columns)
    except FileNotFoundError:
        raise TickFileError(f"tick file {path} does not exist") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, EOFError,
            zlib.error) as error:
        raise TickFileError(f"tick file {path} is not a readable CSV ({error})") from None
    if header == TRADE_COLUMNS:
        return "trade"
    if header == QUOTE_COLUMNS:
        return "quote"
    raise TickFileError(
        f"tick file {path} has columns {','.join(header)}; expected {','.join(TRADE_COLUMNS)} "
        f"(trades) or {','.join(QUOTE_COLUMNS)} (quotes)"
    )


def check_tick_files(paths: Sequence[Path]) -> list[str]:
    """The layout of each file (``trade`` or ``quote``), or a one-sentence ``TickFileError``."""
    if not paths:
        raise TickFileError("no tick files given")
    return [_layout(Path(path)) for path in paths]


def read_tick_frame(paths: Sequence[Path], symbols: Sequence[str] | None = None,
                    start_ns: int | None = None, end_ns: int | None = None,
                    skipped: list[BadRow] | None = None) -> pd.DataFrame:
    """All ticks of ``paths`` as one frame sorted by ``ts_ns`` (stable: file order breaks ties).

    Bad rows are appended to ``skipped`` and left out; with ``skipped=None`` the first one raises."""
    frames = []
    for order, path in enumerate(paths):
        kind = _layout(Path(path))
        frame, bad = _read_rows(Path(path), kind)
        if bad and skipped is None:
            raise TickFileError(str(bad[0]))
        if skipped is not None:
            skipped.extend(bad)
        if symbols:
            frame = frame[frame["symbol"].isin(symbols)]
        if start_ns is not None:
            frame = frame[frame["ts_ns"] >= start_ns]
        if end_ns is not None:
            frame = frame[frame["ts_ns"] < end_ns]
        frame = frame.assign(type=kind, file_order=order)
        frames.append(frame)
    if not frames:
        raise TickFileError("no tick files given")
    merged = pd.concat(frames, ignore_index=True, sort=False)
    merged["row"] = np.arange(len(merged))
    return merged.sort_values(["ts_ns", "file_order", "row"], kind="stable").reset_index(drop=True)


def _read_rows(path: Path, kind: str) -> tuple[pd.DataFrame, list[BadRow]]:
    """The file's good rows (numbers parsed) and its bad rows in line order."""
    try:
        with warnings.catch_warnings(record=True) as parser_warnings:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # keep_default_na=False: a symbol such as "NA" or "NULL" is a symbol, not a missing value.
            # Blank lines are kept (and dropped below) so that row positions map to line numbers.
            frame = pd.read_csv(path, dtype={"symbol": str, "side": str}, keep_default_na=False,
                                na_values={"side": [""]}, on_bad_lines="warn", skip_blank_lines=False)
    except (pd.errors.ParserError, ValueError, OSError, EOFError, zlib.error) as error:
        raise TickFileError(f"tick file {path} is not a readable CSV ({error})") from None
    ragged = [BadRow(path, int(match.group(1)), match.group(2).strip())
              for warning in parser_warnings for match in _SKIPPED_LINE.finditer(str(warning.message))]
    lines = _row_lines(len(frame), {row.line for row in ragged})
    blank = _blank_rows(frame)
    bad_values = np.zeros(len(frame), dtype=bool)
    reasons: dict[int, str] = {}
    for column in NUMBER_COLUMNS[kind]:
        if pd.api.types.is_numeric_dtype(frame[column]):
            continue
        raw = frame[column]
        wrong = (pd.to_numeric(raw, errors="coerce").isna() & ~blank).to_numpy()
        for index in np.flatnonzero(wrong & ~bad_values):
            value = str(raw.iloc[index]).strip()
            reasons[index] = f"{column} is {'not a number: ' + repr(value) if value else 'empty'}"
        bad_values |= wrong
    bad = ragged + [BadRow(path, int(lines[index]), reasons[index]) for index in np.flatnonzero(bad_values)]
    frame = frame[~(bad_values | blank)]
    # Parsed again without the bad rows, so that nanosecond stamps stay integers (never via float).
    numbers = {column: pd.to_numeric(frame[column]) for column in NUMBER_COLUMNS[kind]
               if not pd.api.types.is_numeric_dtype(frame[column])}
    return frame.assign(**numbers), sorted(bad, key=lambda row: row.line)


def _blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows of blank lines (every field empty). A file without any has numbers in ``ts_ns`` already."""
    if pd.api.types.is_numeric_dtype(frame["ts_ns"]):
        return np.zeros(len(frame), dtype=bool)
    empty = [frame[column].fillna("").astype(str).str.strip().eq("").to_numpy() for column in frame.columns]
    return np.logical_and.reduce(empty)


def _row_lines(rows: int, skipped_lines: set[int]) -> np.ndarray:
    """The file line of each parsed row: from line 2 on, every line the parser did not skip."""
    candidates = np.arange(2, 2 + rows + len(skipped_lines))
    return candidates[~np.isin(candidates, list(skipped_lines))][:rows]


def encode_ticks(frame: pd.DataFrame) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(key, value)`` per row: the symbol and the tick's JSON message."""
    dumps = orjson.dumps
    columns = {name: frame[name].to_numpy() if name in frame else None
               for name in ("type", "symbol", "ts_ns", "price", "size", "side", "bid", "ask", "bid_size", "ask_size")}
    kinds, symbols, stamps = columns["type"], columns["symbol"], columns["ts_ns"]
    for index in range(len(frame)):
        symbol = symbols[index]
        if kinds[index] == "trade":
            side = columns["side"][index]
            message = {"type": "trade", "symbol": symbol, "ts_ns": int(stamps[index]),
                       "price": float(columns["price"][index]), "size": float(columns["size"][index]),
                       "side": side if isinstance(side, str) else "unknown"}
        else:
            message = {"type": "quote", "symbol": symbol, "ts_ns": int(stamps[index]),
                       "bid": float(columns["bid"][index]), "ask": float(columns["ask"][index]),
                       "bid_size": float(columns["bid_size"][index]), "ask_size": float(columns["ask_size"][index])}
        # orjson's bytes keep a 4 KiB allocation each; an exact copy makes millions of held
        # messages cost ~150 bytes apiece instead of 4 KiB (a whole day went from 19 GB to ~1 GB).
        yield symbol.encode(), bytes(memoryview(dumps(message)))


def iter_tick_messages(paths: Sequence[Path], symbols: Sequence[str] | None = None,
                       start_ns: int | None = None, end_ns: int | None = None) -> Iterator[tuple[bytes, bytes]]:
    return encode_ticks(read_tick_frame(paths, symbols, start_ns, end_ns))
