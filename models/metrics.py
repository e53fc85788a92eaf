"""Out-of-sample metrics in plain numpy (one definition, used by training, validation and the report).

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
        "calibration_error": expected_calibration_error(calibration_curve(y, p)),
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


def calibrated_classifier_metrics(
    y: np.ndarray, p: np.ndarray, train_base_rate: float, past_return: np.ndarray | None = None
) -> dict[str, object]:
    """``classifier_metrics`` plus the 10-bin ``calibration`` curve (a list: kept out of flat tables)."""
    out: dict[str, object] = dict(classifier_metrics(y, p, train_base_rate, past_return))
    out["calibration"] = calibration_curve(np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64))
    return out


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


def calibration_curve(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float | int]]:
    """Reliability diagram on ``bins`` equal-width probability bins: per non-empty bin, its edges,
    the mean predicted probability, the observed positive rate and the row count.

    >>> calibration_curve(np.array([0, 1, 1, 1]), np.array([0.05, 0.05, 0.95, 0.95]), bins=2)[1]["observed"]
    1.0
    """
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    curve: list[dict[str, float | int]] = []
    for b in range(bins):
        rows = which == b
        if rows.any():
            curve.append({"lo": b / bins, "hi": (b + 1) / bins, "predicted": float(p[rows].mean()),
                          "observed": float(y[rows].mean()), "rows": int(rows.sum())})
    return curve


def expected_calibration_error(curve: list[dict[str, float | int]]) -> float:
    """Row-weighted mean |observed - predicted| over the bins of a ``calibration_curve``."""
    total = sum(int(b["rows"]) for b in curve)
    if total == 0:
        return float("nan")
    return float(sum(abs(float(b["observed"]) - float(b["predicted"])) * int(b["rows"]) for b in curve) / total)


def null_auc_bound(positives: int, negatives: int, z: float = 4.0) -> float:
    """Half-width of the band around 0.5 that an AUC of scores independent of the labels stays in
    (``z`` standard errors of the Mann-Whitney statistic under the null, no ties):
    ``z * sqrt((n1 + n0 + 1) / (12 n1 n0))``. With shuffled labels the test labels are
    exchangeable, so this holds however autocorrelated the features are.

    >>> round(null_auc_bound(5000, 5000), 4)
    0.0231
    """
    if positives <= 0 or negatives <= 0:
        return float("nan")
    return float(z * np.sqrt((positives + negatives + 1) / (12.0 * positives * negatives)))


def regime_metrics(actual: np.ndarray, probabilities: np.ndarray, train_majority: int) -> dict[str, float | int]:
    """Accuracy and multi-class log loss of the regime classifier, next to always predicting the
    training set's most common regime."""
    actual = np.asarray(actual, dtype=np.int64)
    probabilities = np.clip(np.asarray(probabilities, dtype=np.float64), _PROBABILITY_CLIP, 1.0)
    picked = probabilities[np.arange(len(actual)), actual]
    return {
        "rows": int(len(actual)),
        "accuracy": accuracy(actual, probabilities.argmax(axis=1)),
        "log_loss": float(-np.mean(np.log(picked))) if len(actual) else float("nan"),
        "baseline_majority_accuracy": accuracy(actual, np.full(len(actual), train_majority)),
    }
