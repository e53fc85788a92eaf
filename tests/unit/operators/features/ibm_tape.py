"""Real IBM quotes and trades of 2013-10-07 merged into one tape, for the feature tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from operators.messages import Quote, Trade, ValidTick

QUOTE, TRADE = 0, 1


def ibm_tape(market_data: Path, trade_rows: int, quote_rows: int) -> pd.DataFrame:
    """IBM's rows among the first ``trade_rows`` trades and ``quote_rows`` quotes of the sample
    files, up to the earlier of the two files' last times, in time order with quotes first on ties;
    ``kind`` is ``QUOTE`` or ``TRADE``."""
    trades = pd.read_csv(market_data / "trades.csv.gz", nrows=trade_rows)
    quotes = pd.read_csv(market_data / "quotes.csv.gz", nrows=quote_rows)
    trades = trades[trades["symbol"] == "IBM"].assign(kind=TRADE)
    quotes = quotes[quotes["symbol"] == "IBM"].assign(kind=QUOTE)
    end_ns = min(trades["ts_ns"].iloc[-1], quotes["ts_ns"].iloc[-1])
    merged = pd.concat([quotes, trades]).sort_values(["ts_ns", "kind"], kind="stable")
    return merged[merged["ts_ns"] <= end_ns]


def valid_ticks(tape: pd.DataFrame) -> list[ValidTick]:
    """The tape as validated ticks of topic ``ticks``, partition 0, offsets from 0."""
    ticks = []
    for offset, row in enumerate(tape.itertuples(index=False)):
        if row.kind == TRADE:
            item = Trade("IBM", int(row.ts_ns), float(row.price), float(row.size), row.side)
        else:
            item = Quote("IBM", int(row.ts_ns), float(row.bid), float(row.ask), float(row.bid_size),
                         float(row.ask_size))
        ticks.append(ValidTick(item, "ticks", 0, offset))
    return ticks
