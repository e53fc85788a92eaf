"""The bar models' view of every symbol as of each completed session: a point-in-time table the live flow joins.

The long-horizon models (:mod:`models.bars`) forecast the next sessions from day-level features,
so their view of a symbol changes once per session, when it closes. :func:`build_context` drives
the live operator over the bar files (:func:`~models.bars.history.feature_frame`), scores every
completed session with the trained bar models, and keeps one row per symbol and session:

=====================  ===========================================================================
``as_of_ns``           when the session's features exist: the later of its last hour bar's end and
                       its day bar's end (16:00 New York). Nothing earlier may see the row
``bar_volatility_1d``  forecast standard deviation of the next session's regular-hours log return
                       (the square root of the HAR-style variance forecast)
``bar_trend_1d_up``    P(the adjusted close is higher 1 session on)
``bar_trend_5d_up``    P(... 5 sessions on)
``bar_regime_5d_*``    P(calm / normal / turbulent realized variance 5 sessions on)
``bar_in_sample``      1.0 when the session lies before the bar models' held-out period: their
                       training saw its labels, so its forecasts are not out-of-sample (the 2013
                       tick days are such sessions)
=====================  ===========================================================================

:class:`BarContext` answers, for any rows ``(symbol, ts_ns)``, the row of the latest session with
``as_of_ns <= ts_ns``: a tick during a session sees the previous close, never its own session.
``bar_as_of_ns`` in the answer says which session that was. A symbol without bar history, or a
time before its first complete session, gets NaN.

The table is written next to the bar models (``bars/context.parquet``) with the ensemble version
it was scored by in its metadata; it is data refreshed after each close (rebuild it with
``python -m models.bars.context``), so it is not part of the version hash.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from models.bars.history import feature_frame
from models.bars.predictor import BarModels
from models.bars.regime import REGIME_NAMES
from operators.features.long_horizon import FEATURE_NAMES

CONTEXT_FILE = "context.parquet"
VERSION_KEY = b"tickwise.model_version"
OUTPUTS = ("bar_volatility_1d", "bar_trend_1d_up", "bar_trend_5d_up",
           *(f"bar_regime_5d_{name}" for name in REGIME_NAMES), "bar_in_sample")
ANSWER = (*OUTPUTS, "bar_as_of_ns")


def _scored(frame: pd.DataFrame, models: BarModels) -> pd.DataFrame:
    predicted = models.predict(frame[list(FEATURE_NAMES)].to_numpy(np.float64), frame["symbol"].tolist())
    out = frame[["symbol", "day", "end_ns"]].copy()
    out["bar_volatility_1d"] = np.sqrt(predicted["volatility_variance"])
    for name in ("trend_1d_up", "trend_5d_up"):
        out[f"bar_{name}"] = predicted[name]
    for index, name in enumerate(REGIME_NAMES):
        out[f"bar_regime_5d_{name}"] = predicted["regime_5d"][:, index]
    return out


def build_context(hourly: str | Path, daily: str | Path, model_dir: str | Path, manifest: dict[str, Any],
                  symbols: frozenset[str] | None = None) -> pd.DataFrame:
    """One row per symbol and completed session (columns ``symbol``, ``day``, ``as_of_ns``,
    ``OUTPUTS``), sorted by symbol then ``as_of_ns``. The volatility and regime forecasts come from
    hour bars, the trend forecasts from day bars, as in training."""
    section = manifest["bars"]
    models = BarModels.load(Path(model_dir) / section["dir"], section)
    hour = _scored(feature_frame(Path(hourly), "hour", symbols=symbols), models)
    day = _scored(feature_frame(Path(daily), "day", symbols=symbols), models)
    keys = ["symbol", "day"]
    hour_part = hour[[*keys, "end_ns", "bar_volatility_1d", *(f"bar_regime_5d_{n}" for n in REGIME_NAMES)]]
    day_part = day[[*keys, "end_ns", "bar_trend_1d_up", "bar_trend_5d_up"]]
    merged = hour_part.merge(day_part, on=keys, how="outer", suffixes=("_hour", "_day"))
    merged["as_of_ns"] = merged[["end_ns_hour", "end_ns_day"]].max(axis=1).astype(np.int64)
    held_out_from = dt.date.fromisoformat(section["held_out_from"]).toordinal()
    merged["bar_in_sample"] = (merged["day"] < held_out_from).astype(np.float64)
    table = merged[["symbol", "day", "as_of_ns", *OUTPUTS]]
    return table.sort_values(["symbol", "as_of_ns"], kind="stable").reset_index(drop=True)


def write_context(table: pd.DataFrame, path: str | Path, model_version: str) -> None:
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), VERSION_KEY: model_version.encode()})
    pq.write_table(arrow, Path(path), compression="zstd")


@dataclass(frozen=True)
class BarContext:
    """Per symbol, ``as_of_ns`` (sorted) and the ``OUTPUTS`` matrix; read-only, shared by all rows."""

    model_version: str
    as_of: dict[str, np.ndarray]
    values: dict[str, np.ndarray]

    @classmethod
    def from_table(cls, table: pd.DataFrame, model_version: str) -> BarContext:
        as_of, values = {}, {}
        for symbol, rows in table.groupby("symbol", sort=True):
            rows = rows.sort_values("as_of_ns", kind="stable")
            as_of[str(symbol)] = rows["as_of_ns"].to_numpy(np.int64)
            values[str(symbol)] = rows[list(OUTPUTS)].to_numpy(np.float64)
        return cls(model_version, as_of, values)

    @classmethod
    def load(cls, path: str | Path) -> BarContext:
        arrow = pq.read_table(Path(path))
        version = (arrow.schema.metadata or {}).get(VERSION_KEY, b"").decode()
        return cls.from_table(arrow.to_pandas(), version)

    def lookup(self, symbols: Sequence[str], ts_ns: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """``ANSWER`` columns for each row: the latest session with ``as_of_ns <= ts_ns`` (NaN if none)."""
        ts = np.asarray(ts_ns, dtype=np.int64)
        out = np.full((len(ts), len(ANSWER)), np.nan)
        if len(ts) == 0:
            return {name: out[:, index] for index, name in enumerate(ANSWER)}
        unique, group = np.unique(np.asarray(symbols, dtype=str), return_inverse=True)
        order = np.argsort(group, kind="stable")
        starts = np.searchsorted(group[order], np.arange(len(unique) + 1))
        for index, symbol in enumerate(unique.tolist()):
            as_of = self.as_of.get(symbol)
            if as_of is None:
                continue
            rows = order[starts[index]:starts[index + 1]]
            position = np.searchsorted(as_of, ts[rows], side="right") - 1
            known = position >= 0
            out[rows[known], :len(OUTPUTS)] = self.values[symbol][position[known]]
            out[rows[known], len(OUTPUTS)] = as_of[position[known]].astype(np.float64)
        return {name: out[:, index] for index, name in enumerate(ANSWER)}


def refresh(model_dir: Path, hourly: Path, daily: Path) -> Path:
    """Rebuild ``<model_dir>/bars/context.parquet`` from the bar files; returns its path."""
    from models.manifest import read_manifest

    manifest = read_manifest(model_dir)
    if "bars" not in manifest:
        raise ValueError(f"model {manifest['version']} in {model_dir} has no bar models")
    table = build_context(hourly, daily, model_dir, manifest)
    path = model_dir / manifest["bars"]["dir"] / CONTEXT_FILE
    write_context(table, path, manifest["version"])
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.bars.context", description=refresh.__doc__)
    parser.add_argument("--model", type=Path, required=True, help="model directory (manifest.json with a bars part)")
    parser.add_argument("--bars-hourly", type=Path, required=True)
    parser.add_argument("--bars-daily", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in (args.bars_hourly, args.bars_daily):
        if not path.is_file():
            print(f"error: bar file {path} does not exist", file=sys.stderr)
            return 2
    try:
        path = refresh(args.model, args.bars_hourly, args.bars_daily)
    except (ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    table = pq.read_table(path)
    print(f"wrote {path}: {table.num_rows:,} sessions of {len(set(table.column('symbol').to_pylist()))} symbols")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
