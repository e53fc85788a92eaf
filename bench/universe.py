"""Scale in state: per-symbol state of a synthetic universe of N symbols, fed with real ticks.

Bytewax keeps one state object per key and, at every snapshot, calls the step's
``snapshot()`` for each key and stores the result. This measures what that costs for the
signal flow's per-symbol step (``dataflows.steps.SymbolLogic``: duplicate filter,
event-time guard and ``SymbolFeatures``) at a universe of ``--universe`` symbols:

1. **templates**: one state per real symbol, warmed on the real ticks in ``--messages``
   (a contiguous slice of the day, so the 1-minute bars, indicators and flow windows are
   full, as in a live session);
2. **synthetic symbols**: each starts from a template's snapshot (``SymbolLogicBuilder``
   with ``resume_state``: exactly a Bytewax resume) and is then fed its own block of
   ``--block`` real ticks of that template's symbol, drawn at a random position with
   replacement (a block bootstrap), re-stamped to continue after the template's last event
   time and renumbered to continue its offsets (the ticks keep the template's symbol, which
   the state checks; the Bytewax key is the synthetic name);
3. **snapshot**: ``snapshot()`` of every state (the pickled bytes Bytewax stores), timed,
   plus Bytewax's own pickling of those bytes; then every state is restored (a resume).

Reports pickled state bytes per symbol, snapshot time (and its share of the snapshot
interval), restore time, RSS before and after building the universe (per symbol) and the
Python objects a key's state holds (mean over ``OBJECT_SAMPLE`` keys, by type), against
the targets of a 10,000-symbol desk (``TARGETS``). With ``--baseline`` (an earlier result of
this bench, e.g. before a change) it prints each figure next to the baseline's. Figures, never
assertions.

    python -m bench.universe --messages slice.pkl --universe 10000 --out universe.json \
        --baseline universe_before.json
"""

from __future__ import annotations

import argparse
import gc
import pickle
import random
import time
from collections import Counter
from pathlib import Path

import msgspec
import numpy as np
import orjson

from bench.child import read_messages, write_result
from bench.machine import own_memory_mb

TARGET_BYTES_PER_SYMBOL = 16 * 1024
TARGET_SNAPSHOT_SHARE = 0.10
TARGET_RESTORE_S = 2.0
TARGET_RSS_KB_PER_SYMBOL = 40.0
SNAPSHOT_INTERVAL_S = 10.0  # `tickwise run --snapshot-interval` default
BLOCK = 100
OBJECT_SAMPLE = 50  # keys whose objects are counted


def _builder() -> object:
    from dataflows.components import clock_config, feature_config
    from dataflows.config import load_settings
    from dataflows.symbol_step import SymbolLogicBuilder

    settings = load_settings()
    return SymbolLogicBuilder(clock_config(settings), feature_config(settings))


def _decode(messages: list[tuple[bytes, bytes]]) -> dict[str, list[object]]:
    from operators.messages import SourceRecord, ValidTick
    from operators.ingest.validation import ValidationLimits, decode_tick

    limits = ValidationLimits()
    by_symbol: dict[str, list[object]] = {}
    for offset, (key, value) in enumerate(messages):
        item = decode_tick(SourceRecord("ticks", 0, offset, key, value), limits)
        if isinstance(item, ValidTick):
            by_symbol.setdefault(item.tick.symbol, []).append(item)
    return by_symbol


def objects_per_key(states: list[object]) -> dict[str, object]:
    """Python objects a key's state holds (every object reachable from it, floats and ints included,
    not the shared config, classes and functions), mean over ``states``, and the most common types."""
    shared = (type, type(_stats), type(len), type(gc))
    counts: Counter[str] = Counter()
    for state in states:
        seen: set[int] = set()
        stack = [state]
        while stack:
            item = stack.pop()
            if id(item) in seen or isinstance(item, shared) or type(item).__name__ in _SHARED_TYPES:
                continue
            seen.add(id(item))
            counts[type(item).__name__] += 1
            stack.extend(gc.get_referents(item))
    keys = max(1, len(states))
    return {"mean": round(sum(counts.values()) / keys, 1),
            "by_type": {name: round(count / keys, 1) for name, count in counts.most_common(8)}}


#: Types every key refers to but does not own (one object per flow, not per key).
_SHARED_TYPES = frozenset({"FeatureConfig", "FeatureLayout", "IndicatorFeature", "ClockConfig", "PackedState",
                           "method", "getset_descriptor", "member_descriptor", "NoneType", "bool"})


def _stats(sizes: list[int]) -> dict[str, float]:
    values = np.array(sizes, dtype=np.float64)
    return {"mean": round(float(values.mean()), 1), "p50": float(np.percentile(values, 50)),
            "p99": float(np.percentile(values, 99)), "max": float(values.max()), "min": float(values.min())}


def run(messages: list[tuple[bytes, bytes]], universe: int, block: int, seed: int,
        snapshot_interval_s: float) -> dict[str, object]:
    from operators.messages import ValidTick

    builder = _builder()
    by_symbol = _decode(messages)
    del messages
    symbols = sorted(by_symbol)

    # 1. Templates: one warm state per real symbol.
    templates: dict[str, tuple[bytes, int, int]] = {}
    warm_ticks = 0
    for symbol in symbols:
        logic = builder(None)
        for tick in by_symbol[symbol]:
            logic.on_item(tick)
        warm_ticks += len(by_symbol[symbol])
        last = by_symbol[symbol][-1]
        templates[symbol] = (logic.snapshot(), last.tick.ts_ns, last.offset)
    real_sizes = {symbol: len(snapshot) for symbol, (snapshot, _, _) in templates.items()}
    gc.collect()
    before = own_memory_mb()

    # 2. The synthetic universe.
    rng = random.Random(seed)
    states: dict[str, object] = {}
    fed = 0
    feed_s = 0.0
    for index in range(universe):
        template = symbols[index % len(symbols)]
        name = f"SYN{index:05d}"
        snapshot, last_ts, last_offset = templates[template]
        logic = builder(snapshot)
        ticks = by_symbol[template]
        start = rng.randrange(0, max(1, len(ticks) - block))
        chunk = ticks[start:start + block]
        shift = last_ts + 1_000_000 - chunk[0].tick.ts_ns
        renamed = [ValidTick(msgspec.structs.replace(tick.tick, ts_ns=tick.tick.ts_ns + shift),
                             tick.topic, tick.partition, last_offset + 1 + i) for i, tick in enumerate(chunk)]
        started = time.perf_counter()
        for tick in renamed:
            logic.on_item(tick)
        feed_s += time.perf_counter() - started
        fed += len(renamed)
        states[name] = logic
    del by_symbol
    gc.collect()
    after = own_memory_mb()
    objects = objects_per_key(list(states.values())[:OBJECT_SAMPLE])

    # 3. A snapshot of every key, as Bytewax takes it, then a resume of every key.
    started, started_cpu = time.perf_counter(), time.process_time()
    snapshots = {name: logic.snapshot() for name, logic in states.items()}
    snapshot_s, snapshot_cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
    started = time.perf_counter()
    stored = [pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL) for value in snapshots.values()]
    store_pickle_s = time.perf_counter() - started
    started, started_cpu = time.perf_counter(), time.process_time()
    for value in snapshots.values():
        builder(value)
    restore_s, restore_cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
    sizes = [len(value) for value in snapshots.values()]
    total_snapshot_s = snapshot_s + store_pickle_s
    rss_kb_per_symbol = (after["rss_mb"] - before["rss_mb"]) * 1024 / universe
    mean_bytes = float(np.mean(sizes))
    return {
        "universe": universe, "real_symbols": len(symbols), "warmup_ticks": warm_ticks, "block_ticks": block,
        "ticks_fed": fed, "feed_us_per_tick": round(feed_s / fed * 1e6, 2) if fed else None,
        "state_bytes_per_symbol": _stats(sizes),
        "state_kb_per_symbol_mean": round(mean_bytes / 1024, 2),
        "state_bytes_real_symbols": real_sizes,
        "snapshot_total_mb": round(sum(len(s) for s in stored) / 1e6, 1),
        "snapshot_s": round(snapshot_s, 3), "snapshot_store_pickle_s": round(store_pickle_s, 3),
        "snapshot_interval_s": snapshot_interval_s,
        "snapshot_share_of_interval": round(total_snapshot_s / snapshot_interval_s, 4),
        # The shortest --snapshot-interval at which snapshotting every key stays under the target.
        "snapshot_interval_for_target_s": round(total_snapshot_s / TARGET_SNAPSHOT_SHARE, 1),
        "snapshot_us_per_key": round(total_snapshot_s / universe * 1e6, 1),
        "restore_s": round(restore_s, 3),
        # CPU time of this process: on a shared machine, less at the mercy of other jobs than wall time.
        "snapshot_cpu_s": round(snapshot_cpu_s, 3), "restore_cpu_s": round(restore_cpu_s, 3),
        "rss_mb_before_universe": before["rss_mb"], "rss_mb_after_universe": after["rss_mb"],
        "rss_kb_per_symbol": round(rss_kb_per_symbol, 2),
        "objects_per_symbol": objects,
        "targets": {"state_bytes_per_symbol_lt": TARGET_BYTES_PER_SYMBOL,
                    "snapshot_share_of_interval_lt": TARGET_SNAPSHOT_SHARE,
                    "restore_s_lt": TARGET_RESTORE_S, "rss_kb_per_symbol_lt": TARGET_RSS_KB_PER_SYMBOL,
                    "state_met": mean_bytes < TARGET_BYTES_PER_SYMBOL and max(sizes) < TARGET_BYTES_PER_SYMBOL,
                    "snapshot_met": total_snapshot_s / snapshot_interval_s < TARGET_SNAPSHOT_SHARE,
                    "restore_met": restore_s < TARGET_RESTORE_S,
                    "rss_met": rss_kb_per_symbol < TARGET_RSS_KB_PER_SYMBOL},
        **own_memory_mb(),
    }


#: The figures compared with a baseline: (label, how to read it from a result, target).
COMPARED = (
    ("snapshot of all keys + store pickling, s", lambda r: r["snapshot_s"] + r["snapshot_store_pickle_s"],
     TARGET_SNAPSHOT_SHARE * SNAPSHOT_INTERVAL_S),
    ("snapshot of all keys, CPU s", lambda r: r.get("snapshot_cpu_s", float("nan")), None),
    ("restore of all keys, s", lambda r: r["restore_s"], TARGET_RESTORE_S),
    ("restore of all keys, CPU s", lambda r: r.get("restore_cpu_s", float("nan")), None),
    ("state per symbol (mean), KB", lambda r: r["state_kb_per_symbol_mean"], TARGET_BYTES_PER_SYMBOL / 1024),
    ("RSS growth per symbol, KB", lambda r: r["rss_kb_per_symbol"], TARGET_RSS_KB_PER_SYMBOL),
    ("feed, us per tick", lambda r: r["feed_us_per_tick"], None),
    ("Python objects per symbol", lambda r: r.get("objects_per_symbol", {}).get("mean", float("nan")), None),
)


BASELINE_KEYS = ("snapshot_s", "snapshot_store_pickle_s", "restore_s", "state_kb_per_symbol_mean", "rss_kb_per_symbol",
                 "feed_us_per_tick")


def comparison(result: dict[str, object], baseline: dict[str, object]) -> str:
    """A table of each figure: the baseline's, this run's and the target."""
    lines = [f"{'figure':<42}{'baseline':>10}{'now':>10}{'target':>10}"]
    for label, read, target in COMPARED:
        lines.append(f"{label:<42}{read(baseline):>10.2f}{read(result):>10.2f}"
                     f"{'< %g' % target if target is not None else '':>10}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.universe", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=Path, required=True, help="pickled (key, value) real ticks (a slice)")
    parser.add_argument("--universe", type=int, default=10_000)
    parser.add_argument("--block", type=int, default=BLOCK, help="real ticks fed to each synthetic symbol")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--snapshot-interval", type=float, default=SNAPSHOT_INTERVAL_S)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--baseline", type=Path, default=None, help="an earlier result of this bench to compare with")
    args = parser.parse_args(argv)
    if args.universe < 1 or args.block < 1:
        parser.error("--universe and --block must be >= 1")
    if not args.messages.is_file():
        parser.error(f"--messages {args.messages} is not a file")
    baseline = None
    if args.baseline is not None:
        try:
            baseline = orjson.loads(args.baseline.read_bytes())
        except (OSError, orjson.JSONDecodeError) as error:
            parser.error(f"--baseline {args.baseline} is not a readable result of this bench: {error}")
        if isinstance(baseline, dict) and isinstance(baseline.get("universe"), dict):
            baseline = baseline["universe"]  # a whole `make bench` result
        missing = [key for key in BASELINE_KEYS if not isinstance(baseline, dict) or key not in baseline]
        if missing:
            parser.error(f"--baseline {args.baseline} is not a result of this bench (no {missing[0]!r})")
    result = run(read_messages(args.messages), args.universe, args.block, args.seed, args.snapshot_interval)
    write_result(args.out, result)
    print(orjson.dumps({k: v for k, v in result.items() if k != "state_bytes_real_symbols"}).decode())
    if baseline is not None:
        print(comparison(result, baseline))


if __name__ == "__main__":
    main()
