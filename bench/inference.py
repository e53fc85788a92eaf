"""The model limit: batched scoring of the feature rows a day of real ticks produces.

Two stages, each in its own process (``bench.child``) so each peak RSS is its own:

* ``--stage features``: the live feature stage (``dataflows.signals.feature_stage``, via the
  backfill flow of ``dataflows.backfill``) runs in-process under ``run_main`` over exactly
  the tick messages the other runs produce to Kafka; it is timed (decode + validate +
  event-time guard + features, no Kafka, no sinks) and the rows are saved as a float64
  matrix in the shipped model's column order. It also times the flow's own scoring step
  (``BatchScorer``: matrix build + predict + ``Prediction`` objects) at the same batch size.
* ``--stage score``: the shipped ensemble (``models/default``, ``Ensemble.load``, nthread=1)
  scores that matrix in consecutive batches of ``--batch`` rows (five ``inplace_predict``
  calls per batch); the median of ``--rounds`` full passes is reported.

    python -m bench.inference --stage features --messages m.pkl --matrix rows.npy --out f.json
    python -m bench.inference --stage score --matrix rows.npy --ticks 1698829 --out s.json
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

from bench.child import read_messages, write_result
from bench.machine import own_memory_mb

BATCH = 1024


def load_default_ensemble() -> object:
    from models.ensemble import Ensemble
    from models.registry import resolve_model_dir

    return Ensemble.load(resolve_model_dir("default"), nthread=1)


def feature_rows(messages: list[tuple[bytes, bytes]]) -> tuple[list[object], float]:
    """Every feature row of ``messages`` from the live feature stage, and its wall time in seconds."""
    from bytewax.testing import run_main

    from dataflows.backfill import CollectRows, FileTickSource, _NoModel, backfill_flow
    from dataflows.components import build_components
    from dataflows.config import load_settings
    from sinks.metrics import MetricsRegistry

    with tempfile.TemporaryDirectory(prefix="tickwise-bench-features-") as work:
        settings = load_settings(clickhouse={"url": f"chdb://{Path(work) / 'chdb'}"}, run={"state_dir": Path(work)})
        components = build_components(settings, ensemble=_NoModel(), registry=MetricsRegistry())  # type: ignore[arg-type]
        collect = CollectRows()
        flow = backfill_flow(components, FileTickSource(messages), collect)
        started = time.perf_counter()
        run_main(flow)
        return collect.rows, time.perf_counter() - started


def model_matrix(rows: list[object], feature_names: tuple[str, ...]) -> np.ndarray:
    """Rows as float64 in model column order; a model feature the stream lacks is NaN (as ``BatchScorer``)."""
    if not rows:
        return np.empty((0, len(feature_names)))
    position = {name: i for i, name in enumerate(rows[0].names)}
    index = np.array([position.get(name, -1) for name in feature_names], dtype=np.int64)
    width = len(rows[0].values)
    matrix = np.empty((len(rows), width + 1), dtype=np.float64)
    matrix[:, :width] = [row.values for row in rows]
    matrix[:, width] = math.nan
    return np.ascontiguousarray(matrix[:, index])


def time_scorer_step(ensemble: object, rows: list[object], batch: int) -> float | None:
    """Seconds for the flow's ``BatchScorer`` over every row in batches of ``batch``."""
    from dataflows.steps import BatchScorer

    if not rows:
        return None
    scorer = BatchScorer(ensemble)  # type: ignore[arg-type]
    scorer(rows[:batch])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        scorer(rows[start:start + batch])
    return time.perf_counter() - started


def features_stage(messages_path: Path, matrix_path: Path, batch: int) -> dict[str, object]:
    messages = read_messages(messages_path)
    rows, elapsed = feature_rows(messages)
    ticks = len(messages)
    del messages
    ensemble = load_default_ensemble()
    np.save(matrix_path, model_matrix(rows, ensemble.feature_names))
    scorer_s = time_scorer_step(ensemble, rows, batch)
    return {"stage": "features", "ticks": ticks, "rows": len(rows), "elapsed_s": round(elapsed, 3),
            "ticks_per_s": round(ticks / elapsed, 1) if elapsed > 0 else None,
            "us_per_tick": round(elapsed / ticks * 1e6, 2) if ticks else None,
            "rows_per_tick": round(len(rows) / ticks, 4) if ticks else None,
            "scorer_step_s": round(scorer_s, 3) if scorer_s is not None else None,
            "scorer_step_us_per_row": round(scorer_s / len(rows) * 1e6, 2) if scorer_s and rows else None,
            "model_version": ensemble.version, **own_memory_mb()}


def score_stage(matrix_path: Path, ticks: int, batch: int, rounds: int) -> dict[str, object]:
    ensemble = load_default_ensemble()
    features = np.load(matrix_path)
    batches = [np.ascontiguousarray(features[s:s + batch]) for s in range(0, len(features), batch)]
    if batches:
        ensemble.predict(batches[0])  # warm-up
    passes = []
    for _ in range(rounds):
        started = time.perf_counter()
        for chunk in batches:
            ensemble.predict(chunk)
        passes.append(time.perf_counter() - started)
    elapsed = statistics.median(passes) if passes else 0.0
    rows = len(features)
    return {"stage": "score", "ticks": ticks, "rows": rows, "batch": batch, "batches": len(batches),
            "rounds_s": [round(p, 4) for p in passes], "elapsed_s": round(elapsed, 4),
            "ticks_per_s": round(ticks / elapsed, 1) if elapsed > 0 else None,
            "us_per_tick": round(elapsed / ticks * 1e6, 3) if ticks else None,
            "us_per_row": round(elapsed / rows * 1e6, 3) if rows else None,
            "model_version": ensemble.version,
            "trees": {name: booster.num_boosted_rounds() for name, booster in ensemble._boosters.items()},
            **own_memory_mb()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inference", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=("features", "score"), required=True)
    parser.add_argument("--messages", type=Path, help="pickled (key, value) tick messages (features stage)")
    parser.add_argument("--matrix", type=Path, required=True, help="the .npy feature matrix (written / read)")
    parser.add_argument("--ticks", type=int, default=0, help="ticks the rows came from (score stage)")
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.stage == "features":
        if args.messages is None:
            parser.error("--stage features needs --messages")
        result = features_stage(args.messages, args.matrix, args.batch)
    else:
        result = score_stage(args.matrix, args.ticks, args.batch, args.rounds)
    write_result(args.out, result)
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
