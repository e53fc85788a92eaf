"""Train the microstructure specialist and score it once on the held-out day, beside its baselines.

One XGBoost ``binary:logistic`` model per label (``models.micro.labels.HORIZONS``), pooled over
the quoted symbols, on the quote-time rows of :mod:`models.micro.dataset`.

Honest validation, by construction:

1. **Model selection on the development days only**: the first development day trains, the
   second validates; each candidate depth is fitted with early stopping on the validation log
   loss, and the best depth and its number of rounds are kept.
2. **Refit** with those settings on both development days; the baselines
   (:mod:`models.micro.baselines`) are fitted on the same rows.
3. **The held-out day is scored once**, after 1 and 2, with :func:`models.skill.skill_row`: one
   row per model, symbol (each and ``ALL``) and metric (log loss, AUC, accuracy), the interval
   from a paired block bootstrap over **10-minute blocks of event time**. Labels reach at most
   60 s ahead (the next move usually within seconds) and order flow clusters over minutes, so
   rows within a block are dependent but blocks 10 minutes apart are close to independent,
   while one day still gives about 96 blocks to resample.

``_development`` is the only door to the fitting code, and it refuses any held-out row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from models import skill
from models.micro.baselines import fit_baselines, predict_baselines
from models.micro.dataset import FEATURE_NAMES, QUOTED_SYMBOLS, QuoteRows, TimeRanges, build_rows
from models.micro.labels import HORIZONS, make_labels
from operators.features.config import FeatureConfig

BLOCK_NS = 10 * 60 * 1_000_000_000
DEPTHS = (3, 6)
MAX_ROUNDS = 400
EARLY_STOPPING_ROUNDS = 25
ROW_STRIDE = 4
SEED = 7
NTHREAD = 2
METRICS = ("log_loss", "auc", "accuracy")
Progress = Callable[[str], None]


def _params(depth: int) -> dict[str, Any]:
    return {"objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist", "max_depth": depth,
            "eta": 0.1, "min_child_weight": 50, "subsample": 0.8, "colsample_bytree": 0.8, "lambda": 10.0,
            "nthread": NTHREAD, "seed": SEED}


def label_rows(rows: QuoteRows) -> dict[str, np.ndarray]:
    """Each label for each row, from its symbol's full mid series (so thinning never hides a move)."""
    out = {name: np.full(len(rows), np.nan) for name in HORIZONS}
    for symbol, series in rows.mids.items():
        mask = rows.symbol == symbol
        for name, label in make_labels(series.ts_ns, series.mid, series.day).items():
            out[name][mask] = label[rows.position[mask]]
    return out


def _development(day: np.ndarray, held_out: np.datetime64, *days: np.datetime64) -> np.ndarray:
    """The mask of development rows on ``days``: raises if asked for the held-out day."""
    if held_out in days:
        raise ValueError(f"the held-out day {held_out} must never be used for fitting")
    return np.isin(day, np.array(days, dtype="datetime64[D]"))


def _select(x: np.ndarray, y: np.ndarray, train: np.ndarray, valid: np.ndarray) -> dict[str, Any]:
    """Best depth and rounds by validation log loss (train on ``train``, early-stop on ``valid``)."""
    dtrain = xgb.DMatrix(x[train], y[train], feature_names=list(FEATURE_NAMES))
    dvalid = xgb.DMatrix(x[valid], y[valid], feature_names=list(FEATURE_NAMES))
    best: dict[str, Any] = {}
    for depth in DEPTHS:
        booster = xgb.train(_params(depth), dtrain, MAX_ROUNDS, evals=[(dvalid, "valid")],
                            early_stopping_rounds=EARLY_STOPPING_ROUNDS, verbose_eval=False)
        score = float(booster.best_score)
        if not best or score < best["validation_log_loss"]:
            best = {"max_depth": depth, "rounds": int(booster.best_iteration) + 1, "validation_log_loss": score}
    return best


def _skill_rows(model: str, y: np.ndarray, p: np.ndarray, baselines: dict[str, np.ndarray], symbol: np.ndarray,
                blocks: np.ndarray) -> list[skill.SkillRow]:
    out = []
    for name in (*QUOTED_SYMBOLS, "ALL"):
        rows = np.ones(len(y), bool) if name == "ALL" else symbol == name
        if not rows.any():
            continue
        for metric in METRICS:
            out.append(skill.skill_row(model, name, metric, y[rows], p[rows],
                                       {base: value[rows] for base, value in baselines.items()}, blocks[rows]))
    return out


def _split_days(rows: QuoteRows, held_out: np.datetime64) -> tuple[np.datetime64, np.datetime64]:
    days = [day for day in np.unique(rows.day) if day != held_out]
    if len(days) != 2 or held_out not in rows.day:
        raise ValueError(f"expected two development days and the held-out day {held_out}, got days "
                         f"{[str(day) for day in np.unique(rows.day)]}")
    return days[0], days[1]


def train_micro(quotes_path: Path | str, trades_path: Path | str, out_dir: Path | str, *,
                held_out_day: str = "2013-10-09", symbols: tuple[str, ...] | None = None,
                progress: Progress | None = None, row_stride: int = ROW_STRIDE,
                ts_ranges: TimeRanges | None = None) -> dict[str, Any]:
    """Build the rows, select and fit one model per label, score the held-out day, write the models.

    ``ts_ranges`` restricts the ticks read (``[start, end)`` pairs in ns), for small runs. Returns
    the manifest section (JSON-able): feature names, per-label settings and files, the
    skill rows, row counts and the held-out day.
    """
    say = progress or (lambda message: None)
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = FeatureConfig()
    rows = build_rows(Path(quotes_path), Path(trades_path), symbols=tuple(symbols or QUOTED_SYMBOLS),
                      row_stride=row_stride, ts_ranges=ts_ranges, config=config, progress=say)
    say(f"rows: {len(rows):,} quote-time rows in {time.perf_counter() - started:.0f} s; order-flow features "
        f"{rows.order_flow_us_per_tick:.1f} us per tick")
    held_out = np.datetime64(held_out_day, "D")
    first, second = _split_days(rows, held_out)
    labels = label_rows(rows)
    x = rows.features
    last_move = x[:, FEATURE_NAMES.index("last_mid_move")].astype(np.float64)
    imbalance = x[:, FEATURE_NAMES.index("quote_imbalance")].astype(np.float64)
    blocks = rows.ts_ns // BLOCK_NS
    scored = rows.day == held_out
    horizons: dict[str, Any] = {}
    files: dict[str, str] = {}
    skill_rows: list[skill.SkillRow] = []
    counts: dict[str, Any] = {"quote_rows": len(rows)}
    for name, horizon_ns in HORIZONS.items():
        y = labels[name]
        labelled = np.isfinite(y)
        train = labelled & _development(rows.day, held_out, first)
        valid = labelled & _development(rows.day, held_out, second)
        development = labelled & _development(rows.day, held_out, first, second)
        say(f"{name}: selecting on {first} -> {second} ({train.sum():,} / {valid.sum():,} rows)")
        chosen = _select(x, y, train, valid)
        booster = xgb.train(_params(chosen["max_depth"]),
                            xgb.DMatrix(x[development], y[development], feature_names=list(FEATURE_NAMES)),
                            chosen["rounds"])
        fitted = fit_baselines(y[development], rows.symbol[development], last_move[development],
                               imbalance[development])
        test = labelled & scored
        baselines = predict_baselines(fitted, rows.symbol[test], last_move[test], imbalance[test])
        p = booster.inplace_predict(x[test])
        model = f"micro_{name}"
        skill_rows += _skill_rows(model, y[test], p, baselines, rows.symbol[test], blocks[test])
        files[name] = f"{model}.json"
        booster.save_model(str(out_dir / files[name]))
        horizons[name] = {"horizon_ns": horizon_ns, **chosen, "up_rate_development": float(y[development].mean())}
        counts[name] = {"development": int(development.sum()), "held_out": int(test.sum())}
        say(f"{name}: depth {chosen['max_depth']}, {chosen['rounds']} rounds; held-out log loss "
            f"{skill_rows[-3].value.value:.4f} vs {skill_rows[-3].best_baseline} "
            f"{skill_rows[-3].baselines[skill_rows[-3].best_baseline]:.4f} (ALL)")
    say(f"done in {time.perf_counter() - started:.0f} s")
    quote_lags = {symbol: config.quote_lag_ns_for(symbol) for symbol in rows.mids}
    return {"feature_names": list(FEATURE_NAMES), "horizons": horizons, "files": files,
            "skill": [row.to_dict() for row in skill_rows], "rows": counts, "held_out_day": held_out_day,
            "row_stride": row_stride, "flow_window_ns": config.flow_window_ns, "quote_lag_ns": quote_lags,
            "order_flow_us_per_tick": rows.order_flow_us_per_tick}
