"""How the trade-side classifier behaves as the quote lag grows, on the recorded US equity ticks.

The quote rule calls a trade a buy when it prints above the mid of the quote in effect and a
sell below it; at the mid it falls back to the tick rule (the sign of the last price change),
as ``operators.features.microstructure.TradeSideClassifier`` does. "In effect" is the latest
quote stamped at or before ``trade time - lag`` (``TICKWISE_QUOTE_LAG_MS``,
``operators.features.liquidity.LaggedMid``). On venues that publish the quote a trade caused
before the trade itself, lag 0 compares a trade with the quote it already moved.

The recorded ticks carry **no aggressor flag** (``side`` is ``unknown`` for every trade), so
the share classified correctly cannot be measured here. What can be measured, per lag:

- ``at mid``: trades at the mid of the quote in effect (the quote rule cannot decide);
- ``at bid/ask``: trades exactly at the bid or the ask (the quote rule is unambiguous), against
  ``inside`` (strictly between, off the mid) and ``outside`` (beyond the quote: the quote in
  effect is not the one the trade met);
- ``agree``: among trades the quote rule decides and the tick rule has a side, the share on
  which the two rules agree, the usual proxy when true sides are missing (Lee & Ready 1991;
  Ellis, Michaely & O'Hara 2000 report both rules near 75-80% correct on NASDAQ).

Timestamps are whole milliseconds, so lag 0 counts the quotes of the trade's own millisecond as
in effect, and any lag of 1 ms or more excludes them. Quotes exist for AIG, BAC and IBM (no SPY).
The vectorised rules are checked against the flow's own ``QuotesAndTrades.classify`` on one
symbol before the table is printed.

    .venv/bin/python -m bench.quote_lag --lags 0,1,2,5,10,20,50,100,250,500,1000 --session regular
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from operators.features.groups.quotes_and_trades import QuotesAndTrades

MARKET = Path(__file__).resolve().parents[2] / "shared" / "data" / "market"
MS = 1_000_000
SESSIONS = {"regular": (13 * 60 + 30, 20 * 60), "all": (0, 24 * 60)}  # minutes of the UTC day (October: EDT)
CHECK_SYMBOL = "IBM"
CHECK_LAGS_MS = (5, 50)


def read_ticks(market: Path, session: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    trades = pd.read_csv(market / "trades.csv.gz", usecols=["ts_ns", "symbol", "price"])
    quotes = pd.read_csv(market / "quotes.csv.gz", usecols=["ts_ns", "symbol", "bid", "ask"])
    trades = trades[trades["symbol"].isin(quotes["symbol"].unique())]
    start, end = SESSIONS[session]
    minute = (trades["ts_ns"] // (60 * 10**9)) % (24 * 60)
    return trades[(minute >= start) & (minute < end)].reset_index(drop=True), quotes


def tick_rule(prices: np.ndarray) -> np.ndarray:
    """+1/-1 from the last price change before and at each trade, 0 before the first change."""
    change = np.sign(np.diff(prices, prepend=np.nan))
    change[~np.isfinite(change) | (change == 0)] = np.nan
    return pd.Series(change).ffill().fillna(0.0).to_numpy()


def classify(trades: pd.DataFrame, quotes: pd.DataFrame, lag_ns: int) -> dict[str, np.ndarray]:
    """Per trade of one symbol: the lagged quote's position and both rules' sides."""
    stamps = quotes["ts_ns"].to_numpy()
    index = np.searchsorted(stamps, trades["ts_ns"].to_numpy() - lag_ns, side="right") - 1
    quoted = index >= 0
    bid = np.where(quoted, quotes["bid"].to_numpy()[np.maximum(index, 0)], np.nan)
    ask = np.where(quoted, quotes["ask"].to_numpy()[np.maximum(index, 0)], np.nan)
    price = trades["price"].to_numpy()
    mid = 0.5 * (bid + ask)
    tick = tick_rule(price)
    quote_side = np.sign(price - mid)
    side = np.where(np.isfinite(quote_side) & (quote_side != 0), quote_side, tick)
    return {"quoted": quoted, "at_mid": quoted & (price == mid), "at_quote": quoted & ((price == bid) | (price == ask)),
            "outside": quoted & ((price > np.maximum(bid, ask)) | (price < np.minimum(bid, ask))),
            "quote_side": np.nan_to_num(quote_side), "tick": tick, "side": side}


def flow_sides(trades: pd.DataFrame, quotes: pd.DataFrame, lag_ns: int) -> np.ndarray:
    """The sides the flow's quote-and-trade group gives the same trades (quotes first on a tie)."""
    group = QuotesAndTrades(flow_window_ns=10**10, quote_lag_ns=lag_ns)
    events = pd.concat([quotes.assign(kind=0), trades.assign(kind=1)]).sort_values(["ts_ns", "kind"], kind="stable")
    sides = []
    for ts_ns, kind, price, bid, ask in events[["ts_ns", "kind", "price", "bid", "ask"]].itertuples(index=False):
        if kind == 0:
            group.on_quote(int(ts_ns), bid, ask, 1.0, 1.0)
        else:
            sides.append({"buy": 1.0, "sell": -1.0}.get(group.classify(int(ts_ns), price), 0.0))
    return np.asarray(sides)


def check_against_flow(trades: pd.DataFrame, quotes: pd.DataFrame) -> str:
    """Agreement of the vectorised rules with the flow's classifier on ``CHECK_SYMBOL``."""
    mine, theirs = trades[trades["symbol"] == CHECK_SYMBOL], quotes[quotes["symbol"] == CHECK_SYMBOL]
    same = [float(np.mean(classify(mine, theirs, lag * MS)["side"] == flow_sides(mine, theirs, lag * MS)))
            for lag in CHECK_LAGS_MS]
    return ", ".join(f"{lag} ms {100 * share:.2f}%" for lag, share in zip(CHECK_LAGS_MS, same))


def row(parts: list[dict[str, np.ndarray]]) -> dict[str, float]:
    joined = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    quoted = joined["quoted"]
    decided = (joined["quote_side"] != 0) & (joined["tick"] != 0)
    off_mid = quoted & ~joined["at_mid"]
    return {"trades": float(quoted.size), "quoted": quoted.mean(), "at_mid": joined["at_mid"][quoted].mean(),
            "at_quote": joined["at_quote"][quoted].mean(),
            "inside": (off_mid & ~joined["at_quote"] & ~joined["outside"])[quoted].mean(),
            "outside": joined["outside"][quoted].mean(),
            "agree": (joined["quote_side"] == joined["tick"])[decided].mean(), "decided": float(decided.sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lags", default="0,1,2,5,10,20,50,100,250,500,1000", help="quote lags in milliseconds")
    parser.add_argument("--session", choices=sorted(SESSIONS), default="regular")
    parser.add_argument("--market", type=Path, default=MARKET)
    args = parser.parse_args()
    lags = [int(piece) for piece in args.lags.split(",")]
    trades, quotes = read_ticks(args.market, args.session)
    symbols = sorted(trades["symbol"].unique())
    by_symbol = {s: (trades[trades["symbol"] == s], quotes[quotes["symbol"] == s]) for s in symbols}
    print(f"flow classifier vs these rules on {CHECK_SYMBOL}: {check_against_flow(trades, quotes)} identical sides")
    print(f"{args.session} session, {len(trades):,} trades of {', '.join(symbols)}; shares of quoted trades")
    print(f"{'lag ms':>7} {'quoted':>7} {'at mid':>7} {'bid/ask':>8} {'inside':>7} {'outside':>8} {'agree':>7} "
          + " ".join(f"{s + ' agree':>10}" for s in symbols))
    for lag in lags:
        parts = {s: classify(t, q, lag * MS) for s, (t, q) in by_symbol.items()}
        total = row(list(parts.values()))
        per_symbol = " ".join(f"{100 * row([parts[s]])['agree']:>9.1f}%" for s in symbols)
        print(f"{lag:>7} {100 * total['quoted']:>6.1f}% {100 * total['at_mid']:>6.1f}% "
              f"{100 * total['at_quote']:>7.1f}% {100 * total['inside']:>6.1f}% {100 * total['outside']:>7.1f}% "
              f"{100 * total['agree']:>6.1f}% " + per_symbol)


if __name__ == "__main__":
    main()
