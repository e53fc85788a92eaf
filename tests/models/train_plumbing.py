"""Train the plumbing test model (``tests/models/README.md``) from a features table.

    python tests/models/train_plumbing.py FEATURES.parquet

``FEATURES.parquet`` holds the rows `tickwise train` backfilled for models/default (symbol,
ts_ns, price and every feature); the feature set must be the shipped model's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from dataflows.backfill import record_feature_set, write_feature_profile
from models.train import TrainConfig, train_ensemble

OUT = Path(__file__).resolve().parent / "plumbing"
DEFAULT = Path(__file__).resolve().parents[2] / "models" / "default"


def main(features: str) -> None:
    frame = pd.read_parquet(features)
    mid = frame["mid"].to_numpy()  # the reference price: the mid while quoted, else the last trade
    frame["price"] = np.where((mid > 0) & np.isfinite(mid), mid, frame["price"].to_numpy())
    default = json.loads((DEFAULT / "manifest.json").read_text())
    config = TrainConfig(held_out_from_ns=default["config"]["held_out_from_ns"], require_skill=False,
                         write_report=False)
    train_ensemble(frame, OUT, config, progress=print)
    manifest = record_feature_set(OUT, default["feature_set"])
    write_feature_profile(OUT, frame)
    print(manifest["version"], manifest["calibration"]["source"])


if __name__ == "__main__":
    main(sys.argv[1])
