"""MAMA: Ehlers' MESA adaptive moving average and its follower, FAMA."""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.base import Number
from operators.ta.indicators.cycle.hilbert_transform import RADIANS_TO_DEGREES, HilbertIndicator, HilbertTransform


class MesaAdaptiveMovingAverage(HilbertIndicator):
    """MAMA: an EMA whose speed follows the rate of change of the Hilbert phase; FAMA follows it.

    ``value`` is MAMA; ``values`` is ``(mama, fama)``.

    >>> mama = MesaAdaptiveMovingAverage()
    >>> for bar in range(33):
    ...     mama.update(100.0 + bar % 9)
    >>> [round(line, 4) for line in mama.values]
    [103.6602, 97.0997]
    """

    __slots__ = ("fastlimit", "slowlimit", "_mama", "_fama", "_previous_phase")
    outputs: ClassVar[tuple[str, ...]] = ("mama", "fama")
    parameters = (Number("fastlimit", 0.5, low=0.01, high=0.99), Number("slowlimit", 0.05, low=0.01, high=0.99))

    def _reset(self) -> None:
        super()._reset()
        self._mama = 0.0
        self._fama = 0.0
        self._previous_phase = 0.0

    def _advance(self, core: HilbertTransform, close: float) -> None:
        phase = math.atan(core.quadrature / core.in_phase) * RADIANS_TO_DEGREES if core.in_phase != 0.0 else 0.0
        delta_phase = self._previous_phase - phase
        self._previous_phase = phase
        if delta_phase < 1.0:
            delta_phase = 1.0
        if delta_phase > 1.0:
            alpha = self.fastlimit / delta_phase
            if alpha < self.slowlimit:
                alpha = self.slowlimit
        else:
            alpha = self.fastlimit
        self._mama = alpha * close + (1 - alpha) * self._mama
        alpha *= 0.5
        self._fama = alpha * self._mama + (1 - alpha) * self._fama

    def _outputs(self, core: HilbertTransform) -> tuple[float, ...]:
        return (self._mama, self._fama)
