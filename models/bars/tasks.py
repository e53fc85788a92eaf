"""What a bar-level task is: its rows, candidates, fit and held-out scoring, shared by every model.

A task (:mod:`~models.bars.volatility`, :mod:`~models.bars.trend`, :mod:`~models.bars.regime`)
turns the feature frame into labelled rows (``rows``), fits one candidate on training rows
(``fit``), and scores a fitted model and its baselines on test rows (``score``): one
:class:`Scored` per metric, the baselines fitted on the same training rows. The driver in
:mod:`~models.bars.train` runs the walk-forward selection and the held-out scoring with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Scored:
    """One metric's inputs on the test rows: the actual values, the model's and each baseline's."""

    actual: np.ndarray
    model: np.ndarray
    baselines: dict[str, np.ndarray]


class Fitted(Protocol):
    def to_json(self) -> dict[str, Any]: ...


class BarTask(Protocol):
    name: ClassVar[str]
    source: ClassVar[str]  # "hour" or "day": which feature frame the task reads
    target: ClassVar[str]  # what it forecasts, in words
    selection_metric: ClassVar[str]  # a key of models.skill.METRICS, averaged over walk-forward folds
    metrics: ClassVar[tuple[str, ...]]
    candidates: ClassVar[tuple[dict[str, Any], ...]]

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame: ...

    def fit(self, train: pd.DataFrame, candidate: dict[str, Any]) -> Fitted: ...

    def score(self, fitted: Any, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Scored]: ...


def complete_rows(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The rows where every column in ``columns`` is finite (warm-up and label ends dropped)."""
    values = frame[list(columns)].to_numpy(np.float64)
    return frame[np.all(np.isfinite(values), axis=1)].reset_index(drop=True)


def matrix(frame: pd.DataFrame, features: tuple[str, ...] | list[str]) -> np.ndarray:
    return frame[list(features)].to_numpy(np.float64)
