"""What rebuilding order books and their depth features costs: ``python -m bench.book``.

Replays each shared Binance/Hyperliquid capture (``../shared/data/l2/``, days that continue a
previous file read after it) through :class:`operators.book.book.OrderBook` and
:class:`operators.book.features.DepthFeatures`, and prints, best of ``--repeat`` runs of CPU time:

* us per depth event (book update + feature update) and per changed level (the levels the
  event names);
* us per ``values`` call (the depth walks, once per feature row; timed every 100th event, or
  more often on a short capture);
* the per-symbol state: pickled bytes of book + features at the end, with the default bound
  (1,000 levels a side) and with 25 levels a side;
* the share of the venue's comparable best quotes the rebuilt book matches (``book check``);
* **through the feature step** (``dataflows.symbol_step.SymbolLogic``: duplicate filter, event-time
  guard, session, ``SymbolFeatures`` with the symbol's ``BookTracker`` and its feature rows, one
  ``TickBatch`` per ``STEP_BATCH`` messages as the flow moves them): us per message of the whole
  capture, and us per depth event, the CPU time the depth messages add (the run minus the same run
  without them, divided by the depth events); the symbol's whole state as the step snapshots it, and
  the ``BookTracker``'s share of it at the flow's bound (1,000 levels a side) and at 25 levels a side.
  The step runs on the first ``--step-messages`` messages of each capture.

Figures are printed and written to ``--out`` (JSON), never asserted.
"""

from __future__ import annotations

import argparse
import pickle
import time
from pathlib import Path

import orjson

from bench.machine import machine_facts
from dataflows.depthfiles import read_capture
from operators.book.book import BookConfig, OrderBook
from operators.book.check import check_books
from operators.book.features import DepthFeatures
from operators.book.tracker import FLOW_BOOK_CONFIG, BookTracker
from dataflows.symbol_step import SymbolLogicBuilder
from operators.features.config import FeatureConfig
from operators.ingest.clock import EventTimeConfig
from operators.messages import BookDelta, BookSnapshot, TickBatch, Trade, ValidTick

L2 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "l2"
CAPTURES = {
    "Binance spot BTCUSDT 08-08/09": ("examples_spot_btcusdt_20240808.gz", "examples_spot_btcusdt_20240809.gz"),
    "Binance USD-M BTCUSDT 07-18/19": ("examples_usdm_btcusdt_20240718.gz", "examples_usdm_btcusdt_20240719.gz"),
    "Binance COIN-M BTCUSD_PERP 08-08": ("examples_cm_btcusd_perp_20240808.gz",),
    "Hyperliquid BTC 2025-01-26": ("examples_hyperliquid_btcusd_20250126.gz",),
}
VALUES_EVERY = 100
STEP_BATCH = 500


def run_once(messages: list, config: BookConfig) -> dict[str, float]:
    book, features = OrderBook(messages[0].symbol, config), DepthFeatures()
    clock = time.process_time
    update = values = 0.0
    events = levels = calls = 0
    every = max(1, min(VALUES_EVERY, len(messages) // 1_000))
    for message in messages:
        kind = type(message)
        if kind is BookDelta or kind is BookSnapshot:
            started = clock()
            book.apply(message)
            features.on_book(book, message.ts_ns, kind is BookDelta)
            update += clock() - started
            events += 1
            levels += len(message.bids) + len(message.asks)
            if events % every == 0:
                started = clock()
                features.values(book, message.ts_ns)
                values += clock() - started
                calls += 1
        elif kind is Trade:
            started = clock()
            features.on_trade(message.ts_ns, message.size)
            update += clock() - started
    return {"events": events, "levels": levels, "us_per_event": update / events * 1e6,
            "us_per_level": update / levels * 1e6, "us_per_values": values / max(calls, 1) * 1e6,
            "state_bytes": len(pickle.dumps((book, features), protocol=5)),
            "levels_kept": len(book.bids) + len(book.asks)}


def step_once(ticks: list[ValidTick]) -> tuple[float, bytes]:
    """CPU seconds of ``ticks`` through a fresh per-symbol feature step, and its snapshot at the end."""
    logic = SymbolLogicBuilder(EventTimeConfig(), FeatureConfig())(None)
    symbol = ticks[0].tick.symbol
    batches = [TickBatch(symbol, ticks[i:i + STEP_BATCH]) for i in range(0, len(ticks), STEP_BATCH)]
    started = time.process_time()
    for batch in batches:
        logic.on_item(batch)
    logic.on_eof()
    return time.process_time() - started, logic.snapshot()


def run_step(messages: list, repeat: int) -> dict[str, float]:
    """The feature step's cost per message and per depth event, and the symbol's state (module docstring)."""
    symbol = messages[0].symbol
    ticks = [ValidTick(message, "ticks", 0, offset) for offset, message in enumerate(messages)
             if message.symbol == symbol]
    without = [tick for tick in ticks if type(tick.tick) not in (BookDelta, BookSnapshot)]
    depth_events = len(ticks) - len(without)
    full = min(step_once(ticks)[0] for _ in range(repeat))
    bare = min(step_once(without)[0] for _ in range(repeat)) if without else 0.0
    state = step_once(ticks)[1]
    trackers = {}
    for levels, config in (("flow", FLOW_BOOK_CONFIG), ("25", BookConfig(max_levels=25, pending_limit=100))):
        tracker = BookTracker(symbol, config)
        for tick in ticks:
            if type(tick.tick) is Trade:
                tracker.on_trade(tick.tick.ts_ns, tick.tick.size)
            elif type(tick.tick) in (BookDelta, BookSnapshot):
                tracker.apply(tick.tick)
        trackers[levels] = len(pickle.dumps(tracker, protocol=5))
    return {"step_messages": len(ticks), "step_depth_events": depth_events,
            "step_us_per_message": full / len(ticks) * 1e6,
            "step_us_per_depth_event": (full - bare) / depth_events * 1e6 if depth_events else float("nan"),
            "step_state_bytes": len(state), "tracker_state_bytes": trackers["flow"],
            "tracker_state_bytes_25": trackers["25"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/book.json"))
    parser.add_argument("--step-messages", type=int, default=100_000)
    args = parser.parse_args()
    results = []
    print("| capture | depth events | changed levels | us/event | us/changed level | us/values | "
          "state KB (1,000 levels) | state KB (25 levels) | best quotes matched |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, files in CAPTURES.items():
        messages = [item.message for item in read_capture([L2 / f for f in files]).items]
        best = min((run_once(messages, BookConfig()) for _ in range(args.repeat)), key=lambda r: r["us_per_event"])
        small = run_once(messages, BookConfig(max_levels=25))
        [check] = [s for s in check_books(messages) if s["symbol"] == messages[0].symbol]
        matched = f"{check['matched']:,} / {check['compared']:,}" if check["compared"] else "no best-quote ids"
        step = run_step(messages[:args.step_messages], args.repeat)
        results.append({"capture": name, **best, "state_bytes_25": small["state_bytes"], "check": check, **step})
        print(f"| {name} | {best['events']:,} | {best['levels']:,} | {best['us_per_event']:.1f} | "
              f"{best['us_per_level']:.2f} | {best['us_per_values']:.0f} | {best['state_bytes'] / 1024:.1f} | "
              f"{small['state_bytes'] / 1024:.1f} | {matched} |")
    print("\nthrough the feature step (dataflows.symbol_step.SymbolLogic)\n")
    print("| capture | messages | depth events | us/message | us/depth event | symbol state KB | "
          "book state KB (1,000 levels) | book state KB (25 levels) |")
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        print(f"| {result['capture']} | {result['step_messages']:,} | {result['step_depth_events']:,} | "
              f"{result['step_us_per_message']:.1f} | {result['step_us_per_depth_event']:.1f} | "
              f"{result['step_state_bytes'] / 1024:.1f} | {result['tracker_state_bytes'] / 1024:.1f} | "
              f"{result['tracker_state_bytes_25'] / 1024:.1f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps({"machine": machine_facts(), "results": results}, option=orjson.OPT_INDENT_2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
