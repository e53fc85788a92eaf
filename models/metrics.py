"""Held-out metrics in plain numpy (scikit-learn is not a dependency).

>>> round(roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])), 2)
0.75
"""

from __future__ import annotations

import numpy as np

_PROBABILITY_CLIP = 1e-15


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); NaN if one class."""
    y = np.asarray(y, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    _, inverse, counts = np.unique(np.asarray(score, dtype=np.float64), return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1  # 1-based rank of the first of each tied group
    average_rank = (first_rank + (counts - 1) / 2.0)[inverse]
    u = average_rank[y].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(np.asarray(p, dtype=np.float64), _PROBABILITY_CLIP, 1 - _PROBABILITY_CLIP)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)) ** 2))


def accuracy(y: np.ndarray, predicted_class: np.ndarray) -> float:
    return float(np.mean(np.asarray(y, dtype=np.float64) == np.asarray(predicted_class, dtype=np.float64)))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def classifier_metrics(
    y: np.ndarray,
    p: np.ndarray,
    train_base_rate: float,
    past_return: np.ndarray | None = None,
) -> dict[str, float | int]:
    """AUC, log loss, Brier and accuracy of ``p``, next to naive baselines on the same rows.

    Baselines: always predict 1 (``always_positive``), a constant at the training base rate
    (its log loss and Brier), and, for direction-like labels, the sign of the past return over
    the same horizon (``past_return_sign``: momentum).
    """
    y = np.asarray(y, dtype=np.float64)
    constant = np.full(len(y), train_base_rate)
    metrics: dict[str, float | int] = {
        "rows": len(y),
        "positive_rate": float(y.mean()) if len(y) else float("nan"),
        "auc": roc_auc(y, p),
        "log_loss": log_loss(y, p),
        "brier": brier(y, p),
        "accuracy": accuracy(y, p > 0.5),
        "baseline_always_positive_accuracy": accuracy(y, np.ones(len(y))),
        "baseline_base_rate_log_loss": log_loss(y, constant),
        "baseline_base_rate_brier": brier(y, constant),
    }
    if past_return is not None:
        past_return = np.asarray(past_return, dtype=np.float64)
        has_sign = np.isfinite(past_return) & (past_return != 0)
        metrics["baseline_past_return_sign_accuracy"] = accuracy(y[has_sign], past_return[has_sign] > 0)
        metrics["baseline_past_return_sign_rows"] = int(has_sign.sum())
    return metrics


def volatility_metrics(actual: np.ndarray, predicted: np.ndarray, historical: np.ndarray) -> dict[str, float | int]:
    """MAE and Pearson correlation in log volatility, for the model and for the historical
    baseline (realised volatility over the same length of the past), on rows where both exist."""
    ok = np.isfinite(historical) & (historical > 0)
    log_actual, log_predicted, log_historical = np.log(actual[ok]), np.log(predicted[ok]), np.log(historical[ok])
    return {
        "rows": int(ok.sum()),
        "mae_log": float(np.mean(np.abs(log_predicted - log_actual))),
        "pearson_log": pearson(log_predicted, log_actual),
        "mae": float(np.mean(np.abs(predicted[ok] - actual[ok]))),
        "baseline_historical_mae_log": float(np.mean(np.abs(log_historical - log_actual))),
        "baseline_historical_pearson_log": pearson(log_historical, log_actual),
        "baseline_historical_mae": float(np.mean(np.abs(historical[ok] - actual[ok]))),
    }
