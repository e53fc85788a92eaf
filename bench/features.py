"""Feature-library benchmark: per-indicator update cost and the full feature set per tick.

Run with ``make bench-features`` or ``python -m bench.features``. Prints two tables and writes
``bench/results/features.json``:

1. every streaming TA-Lib function of the catalogue, default parameters, µs per update over
   real daily bars (IBM 1998-2021, 5,849 bars), best of ``--repeat`` runs;
2. the live per-symbol feature step (``SymbolFeatures`` with the default feature set) over
   real ticks of one symbol-day, µs per tick (CPU time of this process), rows emitted, and
   the pickled state per symbol (what a recovery snapshot stores).

Figures are measured and printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.machine import cpu_model
from dataflows.snapshots import dump_state
from dataflows.tickfiles import read_tick_frame
from operators.features.symbol import FeatureConfig, SymbolFeatures, feature_layout
from operators.ta.indicators.catalogue import talib_catalogue
from operators.messages import Quote, Trade, ValidTick

MARKET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"


def _bars() -> dict[str, np.ndarray]:
    frame = pd.read_csv(MARKET / "bars" / "bars_daily_us_equities_1998_2021.csv.gz")
    frame = frame[frame["symbol"] == "IBM"]
    bars = {name: frame[name].to_numpy(float) for name in ("open", "high", "low", "close", "volume")}
    bars["periods"] = (2 + (np.arange(len(frame)) * 7) % 29).astype(float)
    return bars


def indicator_costs(repeat: int) -> list[tuple[str, float]]:
    bars = _bars()
    costs = []
    for name, indicator_class in sorted(talib_catalogue().items()):
        columns = [bars[column].tolist() for column in indicator_class.inputs]
        rows = list(zip(*columns))
        best = float("inf")
        for _ in range(repeat):
            indicator = indicator_class()
            update = indicator.update
            started = time.perf_counter()
            for row in rows:
                update(*row)
            best = min(best, time.perf_counter() - started)
        costs.append((name, best / len(rows) * 1e6))
    return costs


def _ticks(symbol: str, day: str) -> list[ValidTick]:
    start = pd.Timestamp(f"{day} 08:00", tz="UTC").value
    end = start + 16 * 3600 * 1_000_000_000
    frame = read_tick_frame([MARKET / "trades.csv.gz", MARKET / "quotes.csv.gz"], [symbol], start, end)
    ticks = []
    for offset, row in enumerate(frame.itertuples(index=False)):
        if row.type == "trade":
            tick = Trade(symbol, int(row.ts_ns), float(row.price), float(row.size))
        else:
            tick = Quote(symbol, int(row.ts_ns), float(row.bid), float(row.ask), float(row.bid_size),
                         float(row.ask_size))
        ticks.append(ValidTick(tick, "ticks", 0, offset))
    return ticks


def feature_step_cost(symbol: str, day: str, repeat: int) -> dict[str, object]:
    ticks = _ticks(symbol, day)
    config = FeatureConfig()
    best = float("inf")
    rows = 0
    state_bytes = 0
    for _ in range(repeat):
        features = SymbolFeatures(symbol, config)
        update = features.update
        drain = features.drain_returns  # the live step drains bar returns after every tick
        started = time.process_time()
        emitted = 0
        for tick in ticks:
            emitted += len(update(tick))
            drain()
        best = min(best, time.process_time() - started)
        rows = emitted
        state_bytes = len(dump_state(features))  # as a recovery snapshot stores it (LZ4-compressed)
    return {"symbol": symbol, "day": day, "ticks": len(ticks), "rows": rows,
            "features": len(feature_layout(config).names), "us_per_tick": best / len(ticks) * 1e6,
            "state_bytes_per_symbol": state_bytes, "feature_set": feature_layout(config).version}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--symbols", default="IBM,SPY")
    parser.add_argument("--day", default="2013-10-09")
    parser.add_argument("--out", type=Path, default=Path("bench/results/features.json"))
    args = parser.parse_args()
    machine = {"cpus": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version()}
    print(f"machine: {machine['cpus']} cores, {machine['cpu']}, Python {machine['python']}")

    costs = indicator_costs(args.repeat)
    print(f"\n{'function':<22}{'us/update':>10}    (IBM daily bars, default parameters, best of {args.repeat})")
    for name, cost in costs:
        print(f"{name:<22}{cost:>10.2f}")
    values = np.array([cost for _, cost in costs])
    print(f"{len(costs)} functions: median {np.median(values):.2f} us, p90 {np.percentile(values, 90):.2f} us, "
          f"max {values.max():.2f} us ({costs[int(values.argmax())][0]})")

    steps = [feature_step_cost(symbol, args.day, args.repeat) for symbol in args.symbols.split(",")]
    print(f"\n{'symbol':<8}{'ticks':>10}{'rows':>9}{'features':>10}{'us/tick':>10}{'state KB':>10}")
    for step in steps:
        print(f"{step['symbol']:<8}{step['ticks']:>10,}{step['rows']:>9,}{step['features']:>10}"
              f"{step['us_per_tick']:>10.2f}{step['state_bytes_per_symbol'] / 1024:>10.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "indicators_us_per_update": dict(costs),
                                    "feature_step": steps}, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
