"""Ehlers' instantaneous trendline and trend-versus-cycle mode: HT_TRENDLINE, HT_TRENDMODE."""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.indicators.cycle.hilbert_transform import (
    DEGREES_TO_RADIANS,
    DominantCyclePhase,
    HilbertTransform,
    InstantaneousTrendline,
    LongLookbackIndicator,
)


class HilbertTrendline(LongLookbackIndicator):
    """HT_TRENDLINE: Ehlers' instantaneous trendline (price averaged over the dominant cycle).

    >>> indicator = HilbertTrendline()
    >>> for bar in range(64):
    ...     indicator.update(100.0 + bar % 9)
    >>> indicator.ready, round(indicator.value, 4)
    (True, 104.3)
    """

    __slots__ = ("_trendline",)

    def _reset(self) -> None:
        super()._reset()
        self._trendline = InstantaneousTrendline()

    def _advance(self, core: HilbertTransform, close: float) -> None:
        self._trendline.update(core.prices, core.smooth_period)

    def _outputs(self, core: HilbertTransform) -> tuple[float, ...]:
        return (self._trendline.trendline,)


class HilbertTrendMode(LongLookbackIndicator):
    """HT_TRENDMODE: 1 while price trends, 0 while it cycles.

    An integer output: TA-Lib writes 0 (not NaN) during its warm-up, and so does this class
    (``ready`` stays False until the first real value).

    >>> indicator = HilbertTrendMode()
    >>> for bar in range(64):
    ...     indicator.update(100.0 + bar % 9)
    >>> indicator.ready, indicator.value
    (True, 0.0)
    """

    __slots__ = ("_phase", "_trendline", "_sine", "_lead_sine", "_days_in_trend", "_trend")
    outputs: ClassVar[tuple[str, ...]] = ("integer",)

    def _reset(self) -> None:
        super()._reset()
        self._values = (0.0,)
        self._phase = DominantCyclePhase()
        self._trendline = InstantaneousTrendline()
        self._sine = 0.0
        self._lead_sine = 0.0
        self._days_in_trend = 0
        self._trend = 0

    def _advance(self, core: HilbertTransform, close: float) -> None:
        smooth_period = core.smooth_period
        previous_phase = self._phase.phase
        phase = self._phase.update(core.smoothed_price, smooth_period)
        previous_sine, previous_lead_sine = self._sine, self._lead_sine
        sine = self._sine = math.sin(phase * DEGREES_TO_RADIANS)
        lead_sine = self._lead_sine = math.sin((phase + 45) * DEGREES_TO_RADIANS)
        trendline = self._trendline.update(core.prices, smooth_period)
        trend = 1
        if (sine > lead_sine and previous_sine <= previous_lead_sine) or (
                sine < lead_sine and previous_sine >= previous_lead_sine):
            self._days_in_trend = 0
            trend = 0
        self._days_in_trend += 1
        if self._days_in_trend < 0.5 * smooth_period:
            trend = 0
        phase_change = phase - previous_phase
        if smooth_period != 0.0 and 0.67 * 360.0 / smooth_period < phase_change < 1.5 * 360.0 / smooth_period:
            trend = 0
        if trendline != 0.0 and abs((core.smoothed_price - trendline) / trendline) >= 0.015:
            trend = 1
        self._trend = trend

    def _outputs(self, core: HilbertTransform) -> tuple[float, ...]:
        return (float(self._trend),)
