"""Batched scoring of the full ensemble on real feature rows: microseconds per row by batch size.

    .venv/bin/python -m bench.scoring                       # default model, 2013-10-09 13:30-14:30 UTC, all symbols
    .venv/bin/python -m bench.scoring --model /tmp/m --batch-sizes 1,64,512,1024 --seconds 1.0

The feature rows come from the live feature stage (``dataflows.backfill.run_backfill``) over a
slice of the real ticks in ``--market``; the model is loaded as the flow loads it
(``Ensemble.load``, nthread=1). For each batch size the rows are cut into consecutive batches
and ``Ensemble.predict`` is timed over them (all five ``inplace_predict`` calls, input checks
and the output arrays) for at least ``--seconds``, in ``--repeats`` rounds; the table shows the
median round. Figures, never assertions: bench/ prints, tests do not time.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from models.ensemble import Ensemble
from models.registry import resolve_model_dir

TARGET_US_PER_ROW_AT_512 = 25.0


def real_feature_rows(market: Path, start: str, minutes: int, symbols: list[str] | None) -> pd.DataFrame:
    from dataflows.backfill import _NoModel, rows_to_frame, run_backfill
    from dataflows.components import build_components
    from dataflows.config import load_settings
    from sinks.metrics import MetricsRegistry

    import tempfile

    with tempfile.TemporaryDirectory() as work:
        settings = load_settings(clickhouse={"url": f"chdb://{Path(work) / 'chdb'}"}, run={"state_dir": Path(work)})
        components = build_components(settings, ensemble=_NoModel(), registry=MetricsRegistry())  # type: ignore[arg-type]
        begin = int(pd.Timestamp(start, tz="UTC").value)
        end = begin + minutes * 60 * 1_000_000_000
        files = [market / "trades.csv.gz", market / "quotes.csv.gz"]
        rows = run_backfill(components, files, begin, end, symbols=symbols).rows
    return rows_to_frame(rows)


def time_batches(ensemble: Ensemble, features: np.ndarray, batch_size: int, seconds: float) -> float:
    """Microseconds per row of ``ensemble.predict`` over consecutive batches, for >= ``seconds``."""
    starts = list(range(0, len(features) - batch_size + 1, batch_size))
    batches = [np.ascontiguousarray(features[s : s + batch_size]) for s in starts]
    ensemble.predict(batches[0])  # warm-up
    rows, elapsed, i = 0, 0.0, 0
    while elapsed < seconds:
        batch = batches[i % len(batches)]
        begin = time.perf_counter()
        ensemble.predict(batch)
        elapsed += time.perf_counter() - begin
        rows += len(batch)
        i += 1
    return elapsed / rows * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--market", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/market")
    parser.add_argument("--start", default="2013-10-09 13:30")
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--symbols", default="")
    parser.add_argument("--batch-sizes", default="1,64,512,1024")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    model_dir = resolve_model_dir(args.model)
    ensemble = Ensemble.load(model_dir, nthread=1)
    frame = real_feature_rows(args.market, args.start, args.minutes, args.symbols.split(",") if args.symbols else None)
    features = frame[list(ensemble.feature_names)].to_numpy(dtype=np.float64)
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    if len(features) < max(sizes):
        raise SystemExit(f"only {len(features)} feature rows in the slice; need {max(sizes)} for the largest batch")
    trees = {name: booster.num_boosted_rounds() for name, booster in ensemble._boosters.items()}

    print(f"model {ensemble.version} ({model_dir}); trees per model {trees}")
    print(f"{len(features):,} real feature rows: {args.start} UTC + {args.minutes} min, "
          f"symbols {sorted(frame['symbol'].unique())}; {len(ensemble.feature_names)} features")
    print(f"xgboost {xgb.__version__}, python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} at start; {args.repeats} rounds of >= {args.seconds} s, median")
    print(f"{'batch':>6} {'us/row':>9} {'us/batch':>10} {'rows/s':>11} {'min us/row':>11} {'max us/row':>11}")
    for size in sizes:
        rounds = [time_batches(ensemble, features, size, args.seconds) for _ in range(args.repeats)]
        median = float(np.median(rounds))
        print(f"{size:>6} {median:>9.2f} {median * size:>10.1f} {1e6 / median:>11,.0f} "
              f"{min(rounds):>11.2f} {max(rounds):>11.2f}")
        if size == 512:
            verdict = "meets" if median < TARGET_US_PER_ROW_AT_512 else "MISSES"
            print(f"       ^ {verdict} the target of < {TARGET_US_PER_ROW_AT_512:.0f} us/row at 512")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
