"""The base of the estimators over the last ``window`` observations (realized variance, Kyle's
lambda, Roll's spread, Amihud's illiquidity), built on :class:`~operators.features.rolling.RollingSums`.
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.features.rolling import RollingSums

__all__ = ["RollingEstimator"]


class RollingEstimator:
    """Base of the estimators over the last ``window`` observations: the window check, reset,
    ``ready`` (the window is full) and the column means of their :class:`RollingSums`.

    A subclass says how many columns it sums (``columns``), its smallest sensible window
    (``minimum_window``) and its default one (``default_window``), and extends ``_reset`` with
    any other state; ``_previous`` holds the previous observation (a close, a price) for
    estimators of changes.
    """

    __slots__ = ("window", "_sums", "_previous")
    columns: ClassVar[int] = 1
    minimum_window: ClassVar[int] = 1
    default_window: ClassVar[int] = 30

    def __init__(self, window: int | None = None) -> None:
        if window is None:
            window = self.default_window
        if isinstance(window, bool) or not isinstance(window, int) or window < self.minimum_window:
            raise ValueError(f"window must be an integer >= {self.minimum_window}, got {window!r}")
        self.window = window
        self._reset()

    def _reset(self) -> None:
        self._sums = RollingSums(self.window, self.columns)
        self._previous = math.nan

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._sums.ready

    def _replace_previous(self, observation: float) -> float:
        """Remember ``observation``; return the one before it (NaN for the first)."""
        previous = self._previous
        self._previous = observation
        return previous

    def _mean(self, column: int) -> float:
        """Mean of ``column`` over the window; NaN until the window is full."""
        sums = self._sums
        return sums.total(column) / sums.count if sums.ready else math.nan
