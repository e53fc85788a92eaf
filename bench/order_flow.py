"""What the order-flow feature group costs per tick: ``python -m bench.order_flow``.

Feeds one real symbol-day of quotes and trades (2013-10-07, merged in event time, quotes first
on ties) to :class:`operators.features.groups.order_flow.OrderFlowFeatures` and prints the CPU
time per update (``on_quote`` / ``on_trade``) and per ``values`` (computed after every quote, the
microstructure model's row rate), best of ``--repeat`` runs, plus the largest window seen.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from operators.features.groups.order_flow import DEPTH_WINDOW, OrderFlowFeatures
from operators.features.microstructure import TradeSideClassifier

MARKET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"
DAY_START_NS, DAY_END_NS = 1_381_132_800_000_000_000, 1_381_190_400_000_000_000  # 10-07 04:00-20:00 ET


def symbol_day(symbol: str) -> list[tuple]:
    frames = []
    for name, kind in (("quotes", 0), ("trades", 1)):
        chunks = pd.read_csv(MARKET / f"{name}.csv.gz", chunksize=500_000)
        frames.append(pd.concat(chunk[(chunk["symbol"] == symbol) & chunk["ts_ns"].between(DAY_START_NS, DAY_END_NS)]
                                for chunk in chunks).assign(kind=kind))
    merged = pd.concat(frames).sort_values(["ts_ns", "kind"], kind="stable")
    classifier, middle, events = TradeSideClassifier(), float("nan"), []
    for row in merged.itertuples(index=False):
        if row.kind == 0:
            middle = 0.5 * (row.bid + row.ask)
            events.append((0, int(row.ts_ns), float(row.bid), float(row.ask), float(row.bid_size), float(row.ask_size)))
        else:
            events.append((1, int(row.ts_ns), float(row.price), float(row.size),
                           classifier.update(float(row.price), middle)))
    return events


def run_once(events: list[tuple]) -> tuple[float, float, int, int]:
    """CPU seconds in updates, CPU seconds in ``values``, values calls, largest 60 s window."""
    group = OrderFlowFeatures()
    clock = time.process_time
    update_seconds = values_seconds = 0.0
    calls = largest = 0
    for event in events:
        started = clock()
        if event[0] == 0:
            group.on_quote(*event[1:])
            update_seconds += clock() - started
            started = clock()
            group.values(event[1])
            values_seconds += clock() - started
            calls += 1
            largest = max(largest, group._quote_windows.count(DEPTH_WINDOW))
        else:
            group.on_trade(event[1], *event[2:])
            update_seconds += clock() - started
    return update_seconds, values_seconds, calls, largest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", default="IBM,BAC,AIG")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| symbol | ticks | update us/tick | values us/call | total us/tick | largest 60 s window |")
    print("|---|---|---|---|---|---|")
    for symbol in args.symbols.split(","):
        events = symbol_day(symbol)
        update, values, calls, largest = min((run_once(events) for _ in range(args.repeat)), key=lambda r: r[0] + r[1])
        print(f"| {symbol} | {len(events):,} | {update / len(events) * 1e6:.2f} | {values / calls * 1e6:.2f} "
              f"| {(update + values) / len(events) * 1e6:.2f} | {largest:,} |")


if __name__ == "__main__":
    main()
