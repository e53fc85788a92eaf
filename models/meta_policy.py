"""A meta model that cannot make things worse: skill gates on its inputs, a calibrated output,
and a fall-back to the base rate.

Two decisions are taken on out-of-fold data of the development range only, never on the
held-out slice:

1. **Which specialists get weight.** Each specialist's out-of-fold predictions are scored
   against its naive baselines (``models.skill``: paired block bootstrap over 10-minute blocks).
   A specialist whose interval does not clear its best baseline gets no weight: its meta inputs
   are replaced by a neutral constant (``NEUTRAL``) in training and in serving, so the meta
   model cannot split on them.
2. **What the ensemble's probability is.** The reference is 0.5, "no information". Candidates
   are the meta model's out-of-fold probability (from its own walk-forward folds) and the trend
   specialist's, each mapped to the direction label by Platt scaling (``sigmoid(a * logit(p) +
   b)``, two parameters fitted by Newton's method on the same out-of-fold rows), and the base
   rate, walked forward like a model (each meta fold's training base rate predicts its test
   block: a base rate measured on the rows it is scored on would be a free win, and two days of
   a falling market are not a forecast of the next). A candidate must beat 0.5 with its whole
   95% interval; among those that do, the lowest log loss wins. The chosen map is stored in the
   manifest and applied by ``Ensemble.predict``. When nothing wins, ``a`` and ``b`` are 0 and
   every prediction is 0.5: direction 0, confidence 0.5, no signal. A model without skill is
   said to have none.

Why 10-minute blocks: the 5- and 15-minute labels of rows seconds apart overlap, so single
rows are far from independent; blocks at least as long as the longest label keep the
bootstrap honest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from models import metrics
from models.skill import SkillRow, skill_row

BLOCK_NS = 10 * 60 * 1_000_000_000
# The neutral value of each meta input when its specialist has no weight (a constant column).
NEUTRAL = {"trend": (0.5, 0.0), "mean_reversion": (0.5, 0.0), "volatility": 0.0}
_CLIP = 1e-6


def time_blocks(ts_ns: np.ndarray, block_ns: int = BLOCK_NS) -> np.ndarray:
    return np.asarray(ts_ns, dtype=np.int64) // block_ns


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _CLIP, 1 - _CLIP)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def platt(y: np.ndarray, p: np.ndarray, iterations: int = 50, ridge: float = 1e-6) -> tuple[float, float]:
    """``(a, b)`` maximising the likelihood of ``y`` under ``sigmoid(a * logit(p) + b)``."""
    x = np.column_stack([logit(p), np.ones(len(p))])
    y = np.asarray(y, dtype=np.float64)
    w = np.array([1.0, 0.0])
    for _ in range(iterations):
        q = sigmoid(x @ w)
        gradient = x.T @ (q - y) + ridge * w
        hessian = (x * (q * (1 - q))[:, None]).T @ x + ridge * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(w[0]), float(w[1])


def apply_calibration(calibration: dict[str, Any], p: np.ndarray) -> np.ndarray:
    """The ensemble's probability from its source's: ``sigmoid(a * logit(p) + b)``."""
    return sigmoid(float(calibration["a"]) * logit(p) + float(calibration["b"]))


def momentum_probability(y_fit: np.ndarray, past_fit: np.ndarray, past: np.ndarray) -> np.ndarray:
    """Momentum as a probability: the training frequency of "up" after an up (down) past return."""
    ok = np.isfinite(y_fit) & np.isfinite(past_fit)
    rate = float(np.mean(y_fit[ok])) if ok.any() else 0.5
    up = y_fit[ok & (past_fit > 0)]
    down = y_fit[ok & (past_fit < 0)]
    return np.where(past > 0, up.mean() if len(up) else rate, np.where(past < 0, down.mean() if len(down) else rate,
                                                                         rate))


@dataclass(frozen=True)
class SpecialistGate:
    weighted: dict[str, bool]
    skill: list[SkillRow]


def gate_specialists(y: dict[str, np.ndarray], predicted: dict[str, np.ndarray], baselines: dict[str, dict[str, np.ndarray]],
                     ts_ns: np.ndarray, metric: dict[str, str]) -> SpecialistGate:
    """``y``/``predicted``/``baselines`` per specialist on its out-of-fold rows (finite labels only)."""
    weighted, rows = {}, []
    for name in predicted:
        ok = np.isfinite(y[name]) & np.isfinite(predicted[name])
        if ok.sum() < 100:
            weighted[name] = False
            continue
        row = skill_row(name, "ALL", metric[name], y[name][ok], predicted[name][ok],
                        {b: v[ok] for b, v in baselines[name].items()}, time_blocks(ts_ns[ok]))
        weighted[name] = row.beats
        rows.append(row)
    return SpecialistGate(weighted, rows)


def neutralise(inputs: np.ndarray, names: list[str], weighted: dict[str, bool]) -> np.ndarray:
    """``inputs`` (meta inputs, columns ``names``) with every unweighted specialist's columns set to
    its neutral constant; the raw feature and regime columns are left alone."""
    out = np.array(inputs, dtype=np.float64, copy=True)
    columns = {name: i for i, name in enumerate(names)}
    for specialist, keep in weighted.items():
        if keep or specialist not in NEUTRAL:
            continue
        if specialist == "volatility":
            out[:, columns["log_volatility_1s"]] = NEUTRAL["volatility"]
        else:
            p, confidence = NEUTRAL[specialist]
            out[:, columns[f"{specialist}_p"]] = p
            out[:, columns[f"{specialist}_confidence"]] = confidence
    return out


def choose_output(y: np.ndarray, candidates: dict[str, np.ndarray], walked_base_rate: np.ndarray, base_rate: float,
                  ts_ns: np.ndarray, *, require_skill: bool = True) -> dict[str, Any]:
    """The calibrated source of the ensemble's probability (see the module docstring).

    ``walked_base_rate`` is, per row, the base rate of the training rows of the fold that row was
    tested in; ``base_rate`` the one the shipped map uses. ``require_skill=False`` takes the
    meta model's own output (identity map) whatever its skill: only for plumbing tests that
    need predictions that vary (Platt scaling of a model without skill is nearly a constant)."""
    y = np.asarray(y, dtype=np.float64)
    blocks = time_blocks(ts_ns)
    coin = np.full(len(y), 0.5)
    chosen: dict[str, Any] = {"source": "none", "a": 0.0, "b": 0.0, "log_loss": metrics.log_loss(y, coin),
                              "require_skill": require_skill, "candidates": {}}
    fits = {name: platt(y, p) for name, p in candidates.items()}
    scored = {name: sigmoid(a * logit(candidates[name]) + b) for name, (a, b) in fits.items()}
    scored["base_rate"] = walked_base_rate
    fits["base_rate"] = (0.0, float(logit(np.array([base_rate]))[0]))
    for name, p in scored.items():
        row = skill_row(name if name == "base_rate" else f"{name} (Platt)", "ALL", "log_loss", y, p,
                        {"0.5 (no information)": coin}, blocks)
        chosen["candidates"][name] = {"a": fits[name][0], "b": fits[name][1], "skill": row.to_dict()}
        if row.beats and row.value.value < chosen["log_loss"]:
            chosen.update(source=name, a=fits[name][0], b=fits[name][1], log_loss=row.value.value)
    if not require_skill:
        chosen.update(source="meta", a=1.0, b=0.0)
    return chosen
