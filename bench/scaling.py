"""Multi-process scaling of the signals flow, for a machine with cores to spare.

``tickwise run --role signals --until-eof --processes N`` for each N of ``--processes`` over the
same real ticks, each after a run on an empty topic (its fixed start-up cost), with a Tansu broker
and a Redis of its own and no ClickHouse (the signals flow writes none). Prints, per N: ticks/s,
start-up-corrected ticks/s, the speed-up over the first N, worker CPU µs per tick and its ratio
to the first N (what the exchange between processes costs).

The feature step is keyed by symbol, so processes beyond the number of busy symbols have nothing
to do: the recorded day has four symbols. ``--copies K`` replays each symbol's ticks as K
symbols (``IBM``, ``IBM_1``, ... ``IBM_{K-1}``, identical ticks, merged in time order) on
``--partitions`` partitions, so 8 processes get keys of their own; the work per tick is that of
the real day.

    python -m bench.scaling --processes 1,2,4,8 --copies 4 --partitions 16 --limit 400000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import orjson
import pandas as pd

from bench.flow_runs import flow_run
from bench.machine import REPO_ROOT, loadavg, machine_facts

MARKET = REPO_ROOT.parent / "shared" / "data" / "market"


def log(message: str) -> None:
    print(f"[scaling {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def copied_messages(market: Path, day: str, limit: int | None, copies: int) -> list[tuple[bytes, bytes]]:
    """The day's first ``limit`` ticks (08:00 UTC on), each symbol's also as ``copies - 1`` renamed symbols."""
    from bench.flow_throughput import session_bounds
    from dataflows.tickfiles import encode_ticks, read_tick_frame

    start, end = session_bounds(day)
    frame = read_tick_frame([market / "trades.csv.gz", market / "quotes.csv.gz"], None, start, end)
    frame = frame[(frame["ts_ns"] >= start) & (frame["ts_ns"] < end)]
    if limit is not None:
        frame = frame.head(limit)
    frames = [frame] + [frame.assign(symbol=frame["symbol"] + f"_{copy}") for copy in range(1, copies)]
    merged = pd.concat(frames, ignore_index=True).sort_values("ts_ns", kind="stable").reset_index(drop=True)
    return list(encode_ticks(merged))


def scaling_rows(runs: list[dict[str, object]]) -> list[dict[str, object]]:
    """Per run: rates, speed-up and CPU per tick against the first run."""
    first = runs[0]
    rows = []
    for run in runs:
        corrected, base = run["corrected_ticks_per_s"], first["corrected_ticks_per_s"]
        rows.append({
            "processes": run["processes"], "ticks": run["ticks"], "wall_s": run["cli_wall_s"],
            "startup_s": run["startup_s"], "ticks_per_s": run["ticks_per_s"], "corrected_ticks_per_s": corrected,
            "speedup": round(corrected / base, 2) if corrected and base else None,
            "cpu_us_per_tick": run["cpu_us_per_tick_workers"],
            "cpu_ratio": (round(run["cpu_us_per_tick_workers"] / first["cpu_us_per_tick_workers"], 2)
                          if first["cpu_us_per_tick_workers"] else None),
            "peak_rss_mb_workers": run["peak_rss_mb_workers"],
        })
    return rows


def format_rows(rows: list[dict[str, object]]) -> str:
    head = (f"{'processes':>9} {'ticks':>10} {'wall s':>8} {'start-up s':>10} {'ticks/s':>10} "
            f"{'corrected/s':>12} {'speed-up':>8} {'CPU us/tick':>11} {'CPU ratio':>9}")
    lines = [head]
    for row in rows:
        lines.append(f"{row['processes']:>9} {row['ticks']:>10,} {row['wall_s']:>8.2f} {row['startup_s']:>10.2f} "
                     f"{row['ticks_per_s']:>10,.0f} {row['corrected_ticks_per_s'] or 0:>12,.0f} "
                     f"{row['speedup'] or 0:>8.2f} {row['cpu_us_per_tick'] or 0:>11.1f} {row['cpu_ratio'] or 0:>9.2f}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", default="1,2,4,8", help="comma-separated process counts")
    parser.add_argument("--day", default="2013-10-09", help="recorded day (08:00-24:00 UTC)")
    parser.add_argument("--market", type=Path, default=MARKET, help="folder with trades/quotes.csv.gz")
    parser.add_argument("--limit", type=int, default=None, help="only the day's first N ticks (before copying)")
    parser.add_argument("--copies", type=int, default=1, help="each symbol's ticks as this many symbols")
    parser.add_argument("--partitions", type=int, default=4, help="partitions of the ticks topic")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "scaling.json")
    args = parser.parse_args(argv)
    try:
        args.processes = [int(part) for part in args.processes.split(",") if part.strip()]
    except ValueError:
        parser.error(f"--processes: expected comma-separated integers such as 1,2,4,8, got {args.processes!r}")
    if not args.processes or min(args.processes) < 1 or args.copies < 1 or args.partitions < 1:
        parser.error("--processes, --copies and --partitions must be positive")
    return args


def main(argv: list[str] | None = None) -> dict[str, object]:
    from dataflows.stack import free_port, start_broker, start_redis

    args = parse_args(argv)
    facts = machine_facts()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items() if k != "versions"), flush=True)
    started = time.perf_counter()
    messages = copied_messages(args.market, args.day, args.limit, args.copies)
    log(f"{len(messages):,} ticks ({args.copies} copies of {args.day}) encoded in {time.perf_counter() - started:.1f} s")
    result: dict[str, object] = {"timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                                 "machine": facts, "args": {**vars(args), "market": str(args.market),
                                                            "out": str(args.out)},
                                 "ticks": len(messages), "produce": []}
    with tempfile.TemporaryDirectory(prefix="tickwise-scaling-") as tmp:
        work = Path(tmp)
        broker_port, redis_port = free_port(), free_port()
        servers = [start_broker(broker_port, work / "tansu.log"), start_redis(redis_port, work / "redis.log")]
        env = {"KAFKA_BOOTSTRAP": f"127.0.0.1:{broker_port}", "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
        try:
            runs = [flow_run(env, messages, "signals", processes, work, result, args.partitions)
                    for processes in args.processes]
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=10)
    result["machine"]["loadavg_at_end"] = loadavg()
    result["runs"] = runs
    result["rows"] = scaling_rows(runs)
    symbols = len({key for key, _ in messages})
    print(f"\nsignals flow scaling: {len(messages):,} ticks ({args.copies} x {len(messages) // args.copies:,} of "
          f"{args.day}, {symbols} symbols), {args.partitions} partitions; {facts['cores']} cores "
          f"({facts['cpu_model']}), load average {facts['loadavg_at_start']} at start, "
          f"{result['machine']['loadavg_at_end']} at end; git {facts['git']['commit']}")
    print(format_rows(result["rows"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
