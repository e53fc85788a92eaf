"""Point-in-time join cost: ``features_as_of`` at the issue's two scales, each engine in its own process.

- ``feast``: 17,000 entity rows x 1,000 features (Feast's ``get_historical_features`` took about
  30 minutes and 50 GB for it, feast#3003), features at 20,000 rows over 100 symbols.
- ``aim``: 1,000,000 entity rows x 60 features (issue 18 aims under 30 s), features at 1,000,000 rows
  over 500 symbols.

Each (scale, engine) runs in a fresh interpreter so its peak RSS is its own; frames are built with a
fixed seed before the clock starts, and the time covers ``features_as_of`` only. Figures are
printed, never asserted.

    .venv/bin/python -m bench.point_in_time                 # both scales, both engines
    .venv/bin/python -m bench.point_in_time --scales feast --engines pandas
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time

import numpy as np
import pandas as pd

from dataflows.point_in_time import ENGINES, features_as_of

#: scale -> (entity rows, features, feature rows, symbols)
SCALES: dict[str, tuple[int, int, int, int]] = {
    "feast": (17_000, 1_000, 20_000, 100),
    "aim": (1_000_000, 60, 1_000_000, 500),
}
_SPAN_NS = 365 * 86_400 * 10**9


def frames(entity_rows: int, feature_count: int, feature_rows: int, symbols: int,
           seed: int = 18) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random entity and feature frames: unsorted times over a year, symbols ``S0``..``S<n-1>``."""
    rng = np.random.default_rng(seed)
    names = np.array([f"S{index}" for index in range(symbols)])
    entities = pd.DataFrame({"symbol": names[rng.integers(0, symbols, entity_rows)],
                             "ts": rng.integers(0, _SPAN_NS, entity_rows), "label": rng.integers(0, 2, entity_rows)})
    values = rng.standard_normal((feature_rows, feature_count))
    features = pd.concat([pd.DataFrame({"symbol": names[rng.integers(0, symbols, feature_rows)],
                                        "ts": rng.integers(0, _SPAN_NS, feature_rows)}),
                          pd.DataFrame(values, columns=[f"f{index}" for index in range(feature_count)])], axis=1)
    return entities, features


def _measure(scale: str, engine: str, queue: multiprocessing.Queue) -> None:
    entity_rows, feature_count, feature_rows, symbols = SCALES[scale]
    entities, features = frames(entity_rows, feature_count, feature_rows, symbols)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = features_as_of(entities, features, engine=engine)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"scale": scale, "engine": engine, "entity_rows": entity_rows, "features": feature_count,
               "feature_rows": feature_rows, "symbols": symbols, "seconds": round(seconds, 2),
               "peak_rss_mib": round(rss_after / 1024), "peak_rss_growth_mib": round((rss_after - rss_before) / 1024),
               "matched_share": round(float(result["f0"].notna().mean()), 4)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default=",".join(SCALES), help="comma-separated: " + ", ".join(SCALES))
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: " + ", ".join(ENGINES))
    arguments = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    for scale in arguments.scales.split(","):
        for engine in arguments.engines.split(","):
            queue = context.Queue()
            process = context.Process(target=_measure, args=(scale, engine, queue))
            process.start()
            print(json.dumps(queue.get()), flush=True)
            process.join()


if __name__ == "__main__":
    main()
