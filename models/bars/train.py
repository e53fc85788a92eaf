"""Train the long-horizon bar models on 23 years of bars, select by walk-forward, score held-out once.

For each task (volatility, trend over 1 and 5 sessions, regime):

1. the feature frame comes from driving :class:`~operators.features.long_horizon.LongHorizonFeatures`
   over the bar CSV, bar by bar (:mod:`~models.bars.history`);
2. **selection** inside the development rows only: every candidate is fitted on expanding
   walk-forward folds (one test year each, from ``first_test_year`` to the last development
   year, 14-day embargo) and the one with the best mean fold score on the task's selection
   metric wins;
3. the winner is refitted on all development rows and saved as JSON;
4. **held out** (rows from ``held_out_from`` on, never seen before this step): the model and its
   baselines (fitted on the same development rows) are scored once, one
   :class:`~models.skill.SkillRow` per symbol and for ``ALL``, with a paired bootstrap over
   calendar-month blocks: volatility clusters over weeks, and labels up to 5 sessions long
   overlap, so a month is the smallest block that keeps dependent rows together.

The development rows are cut by ``label_day`` (:func:`~models.bars.splits.development_mask`),
and :func:`development_rows` checks it again before anything is fitted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models import skill
from models.bars.history import feature_frame
from models.bars.regime import RegimeTask
from models.bars.splits import EMBARGO_DAYS, development_mask, held_out_mask, month_blocks, year_folds
from models.bars.tasks import BarTask, Scored
from models.bars.trend import TrendTask
from models.bars.volatility import VolatilityTask
from operators.features.long_horizon import FEATURE_NAMES

FIRST_TEST_YEAR = 2008
ALL_SYMBOLS = "ALL"


def default_tasks() -> tuple[BarTask, ...]:
    return (VolatilityTask(), TrendTask(1), TrendTask(5), RegimeTask())


def parse_day(text: str) -> int:
    """``YYYY-MM-DD`` as a date ordinal, or a one-sentence ``ValueError``."""
    try:
        return dt.date.fromisoformat(text).toordinal()
    except (TypeError, ValueError):
        raise ValueError(f"held_out_from must be a date YYYY-MM-DD, got {text!r}") from None


def development_rows(rows: pd.DataFrame, held_out_from: int) -> pd.DataFrame:
    """The rows a model may be fitted or selected on; refuses any whose label reaches the embargo."""
    development = rows[development_mask(rows, held_out_from)].reset_index(drop=True)
    if len(development) and int(development["label_day"].max()) >= held_out_from - EMBARGO_DAYS:
        raise AssertionError("a development row's label reaches into the embargo before the held-out period")
    return development


def select(task: BarTask, development: pd.DataFrame, first_test_year: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The candidate with the best mean walk-forward score, and every candidate's scores."""
    folds = year_folds(development, np.ones(len(development), dtype=bool), first_test_year)
    function, lower = skill.METRICS[task.selection_metric]
    results = []
    for candidate in task.candidates:
        scores, baseline_scores = [], []
        for fold in folds:
            train, test = development.iloc[fold.train], development.iloc[fold.test]
            scored = task.score(task.fit(train, candidate), train, test)[task.selection_metric]
            scores.append(function(scored.actual, scored.model))
            baseline_scores.append({name: function(scored.actual, value) for name, value in scored.baselines.items()})
        baselines = {name: float(np.mean([b[name] for b in baseline_scores])) for name in baseline_scores[0]}
        results.append({"candidate": candidate, "mean": float(np.mean(scores)), "baselines": baselines,
                        "folds": [f.year for f in folds]})
    best = (min if lower else max)(results, key=lambda r: r["mean"])
    return best["candidate"], results


def skill_rows(name: str, scored: dict[str, Scored], test: pd.DataFrame, samples: int) -> list[skill.SkillRow]:
    """One row per metric and symbol, then ``ALL``; blocks are calendar months."""
    blocks = month_blocks(test)
    symbols = test["symbol"].to_numpy()
    out = []
    for metric, inputs in scored.items():
        for symbol in [*sorted(set(symbols.tolist())), ALL_SYMBOLS]:
            rows = np.ones(len(test), dtype=bool) if symbol == ALL_SYMBOLS else symbols == symbol
            out.append(skill.skill_row(name, symbol, metric, inputs.actual[rows], inputs.model[rows],
                                       {b: v[rows] for b, v in inputs.baselines.items()}, blocks[rows], samples=samples))
    return out


def train_bar_models(hourly_path: str | Path, daily_path: str | Path, out_dir: str | Path, *,
                     held_out_from: str = "2019-01-01", progress: Callable[[str], None] | None = None,
                     first_test_year: int = FIRST_TEST_YEAR, samples: int = skill.BOOTSTRAP_SAMPLES) -> dict[str, Any]:
    """Train, select and score every bar model; write ``bars_<name>.json`` under ``out_dir`` and
    return the manifest section (JSON-able)."""
    start = parse_day(held_out_from)
    say = progress or (lambda message: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = {"hour": feature_frame(Path(hourly_path), "hour", progress),
              "day": feature_frame(Path(daily_path), "day", progress)}
    models, rows_section, skill_section = {}, {}, []
    for task in default_tasks():
        rows = task.rows(frames[task.source])
        development = development_rows(rows, start)
        held_out = rows[held_out_mask(rows, start)].reset_index(drop=True)
        say(f"{task.name}: selecting among {len(task.candidates)} candidates on {len(development):,} development rows")
        candidate, walk_forward = select(task, development, first_test_year)
        fitted = task.fit(development, candidate)
        file = f"bars_{task.name}.json"
        (out / file).write_text(json.dumps({"name": task.name, "target": task.target, "candidate": candidate,
                                            "model": fitted.to_json()}, indent=1) + "\n")
        say(f"{task.name}: chose {candidate}; scoring {len(held_out):,} held-out rows once")
        rows_for_task = skill_rows(task.name, task.score(fitted, development, held_out), held_out, samples)
        skill_section += [row.to_dict() for row in rows_for_task]
        models[task.name] = {"file": file, "target": task.target, "source": f"{task.source} bars",
                             "selection_metric": task.selection_metric, "selected": candidate,
                             "walk_forward": walk_forward, "embargo_days": EMBARGO_DAYS}
        rows_section[task.name] = {"development": len(development), "held_out": len(held_out),
                                   "symbols": sorted(set(rows["symbol"].tolist()))}
    return {"feature_names": list(FEATURE_NAMES), "models": models, "skill": skill_section, "rows": rows_section,
            "held_out_from": held_out_from, "first_test_year": first_test_year,
            "bootstrap": {"samples": samples, "blocks": "calendar months of the held-out period"}}
