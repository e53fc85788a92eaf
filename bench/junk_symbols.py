"""Memory per symbol under a junk-symbol stream, with and without the release of silent symbols.

A stream of ``--symbols`` keyed junk symbols, one trade each, goes through the per-symbol step
(``dataflows.symbol_step``: duplicate filter, event-time guard, features) inside a real Bytewax
dataflow (``bytewax.testing.run_main``, one worker). The source then stays silent for
``--silence`` seconds before its end, as a live feed would between junk bursts. Python heap
(``tracemalloc``) is read before the stream and at the end of the silence:

- **kept**: ``release_after_s=None`` (before this change, and bounded runs now): every junk
  symbol keeps its state;
- **released**: ``release_after_s=--release`` (live runs, ``TICKWISE_SYMBOL_IDLE_S``): the step
  asks Bytewax to wake it after that much silence and discards the state.

For scale it also reports a real symbol's state after ``--real-ticks`` real IBM ticks (features
warm). Figures, never assertions.

    python -m bench.junk_symbols --symbols 20000
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
from pathlib import Path

from bytewax import operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import DynamicSource, StatelessSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from bytewax.testing import run_main

from dataflows.components import clock_config, feature_config
from dataflows.config import load_settings
from dataflows.symbol_step import SymbolLogicBuilder, SymbolRules
from operators.messages import TickBatch, Trade, ValidTick

SECOND = 1_000_000_000
T0 = 1_381_329_000 * SECOND
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


class _JunkPartition(StatelessSourcePartition[TickBatch]):
    def __init__(self, symbols: int, silence_s: float, readings: dict[str, int]) -> None:
        self._next = 0
        self._symbols = symbols
        self._silence_s = silence_s
        self._silent_since: float | None = None
        self._readings = readings

    def next_batch(self) -> list[TickBatch]:
        if self._next < self._symbols:
            end = min(self._symbols, self._next + 1_000)
            batch = [TickBatch(f"J{i:06d}", [ValidTick(Trade(f"J{i:06d}", T0 + i, 10.0, 1.0), "ticks", 0, i)])
                     for i in range(self._next, end)]
            self._next = end
            return batch
        if self._silent_since is None:
            self._silent_since = time.monotonic()
            gc.collect()
            self._readings["after_stream"] = tracemalloc.get_traced_memory()[0]
        if time.monotonic() - self._silent_since < self._silence_s:
            time.sleep(0.05)
            return []
        gc.collect()
        self._readings["after_silence"] = tracemalloc.get_traced_memory()[0]
        raise StopIteration()


class _JunkSource(DynamicSource[TickBatch]):
    def __init__(self, symbols: int, silence_s: float, readings: dict[str, int]) -> None:
        self._args = (symbols, silence_s, readings)

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _JunkPartition:
        return _JunkPartition(*self._args)


class _CountingPartition(StatelessSinkPartition[object]):
    """Counts the outputs by reason and keeps none of them (so only the states are measured)."""

    def __init__(self, counts: dict[str, int]) -> None:
        self._counts = counts

    def write_batch(self, items: list[object]) -> None:
        for _, item in items:  # type: ignore[misc]
            reason = getattr(item, "reason", None) or type(item).__name__
            self._counts[reason] = self._counts.get(reason, 0) + 1


class _CountingSink(DynamicSink[object]):
    def __init__(self, counts: dict[str, int]) -> None:
        self._counts = counts

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _CountingPartition:
        return _CountingPartition(self._counts)


def _symbol_key(batch: TickBatch) -> str:
    return batch.symbol


def measure(symbols: int, silence_s: float, release_after_s: float | None) -> dict[str, float]:
    settings = load_settings()
    builder = SymbolLogicBuilder(clock_config(settings), feature_config(settings),
                                 rules=SymbolRules(release_after_s=release_after_s))
    readings: dict[str, int] = {}
    flow = Dataflow("junk_symbols")
    keyed = op.key_on("key", op.input("in", flow, _JunkSource(symbols, silence_s, readings)), _symbol_key)
    counts: dict[str, int] = {}
    op.output("out", op.stateful("features", keyed, builder), _CountingSink(counts))
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    run_main(flow)
    seconds = time.perf_counter() - started
    tracemalloc.stop()
    idle_rejects = counts.get("symbol_idle", 0)
    return {"symbols": symbols, "release_after_s": release_after_s, "seconds": round(seconds, 2),
            "bytes_per_symbol_after_stream": round((readings["after_stream"] - baseline) / symbols, 1),
            "bytes_per_symbol_after_silence": round((readings["after_silence"] - baseline) / symbols, 1),
            "symbol_idle_rejects": idle_rejects}


def real_symbol_bytes(ticks: int) -> float:
    """Pickled and heap bytes of one real symbol's state after ``ticks`` real IBM ticks."""
    from dataflows.tickfiles import encode_ticks, read_tick_frame
    from operators.ingest.validation import ValidationLimits, decode_tick
    from operators.messages import SourceRecord

    frame = read_tick_frame([SAMPLE / "ibm_2013-10-09_trades.csv.gz", SAMPLE / "ibm_2013-10-09_quotes.csv.gz"])
    limits = ValidationLimits()
    decoded = [decode_tick(SourceRecord("ticks", 0, offset, key, value), limits)
               for offset, (key, value) in enumerate(encode_ticks(frame))]
    real = [item for item in decoded if isinstance(item, ValidTick)][:ticks]
    settings = load_settings()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    logic = SymbolLogicBuilder(clock_config(settings), feature_config(settings))(None)
    for tick in real:
        logic.on_item(tick)
    gc.collect()
    heap = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return float(heap)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=20_000)
    parser.add_argument("--silence", type=float, default=3.0, help="seconds the source stays silent before its end")
    parser.add_argument("--release", type=float, default=1.0, help="release_after_s of the released run")
    parser.add_argument("--real-ticks", type=int, default=5_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = {"kept": measure(args.symbols, args.silence, None),
              "released": measure(args.symbols, args.silence, args.release),
              "real_symbol_heap_bytes": real_symbol_bytes(args.real_ticks)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
