"""The dominant cycle's period, phasor, phase and sine: HT_DCPERIOD, HT_PHASOR, HT_DCPHASE, HT_SINE."""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.indicators.cycle.hilbert_transform import (
    DEGREES_TO_RADIANS,
    DominantCyclePhase,
    HilbertIndicator,
    HilbertTransform,
    LongLookbackIndicator,
)


class HilbertDominantCyclePeriod(HilbertIndicator):
    """HT_DCPERIOD: the smoothed dominant cycle period, in bars.

    >>> indicator = HilbertDominantCyclePeriod()
    >>> for bar in range(33):
    ...     indicator.update(100.0 + bar % 9)
    >>> indicator.ready, round(indicator.value, 4)
    (True, 15.6467)
    """

    __slots__ = ()

    def _outputs(self, core: HilbertTransform) -> tuple[float, ...]:
        return (core.smooth_period,)


class HilbertPhasor(HilbertIndicator):
    """HT_PHASOR: the in-phase and quadrature components of the detrended, smoothed price.

    >>> indicator = HilbertPhasor()
    >>> for bar in range(33):
    ...     indicator.update(100.0 + bar % 9)
    >>> [round(part, 4) for part in indicator.values]
    [-1.6758, -6.783]
    """

    __slots__ = ()
    outputs: ClassVar[tuple[str, ...]] = ("inphase", "quadrature")

    def _outputs(self, core: HilbertTransform) -> tuple[float, ...]:
        return (core.in_phase, core.quadrature)


class _PhaseIndicator(LongLookbackIndicator):
    """HT_DCPHASE and HT_SINE: functions of the dominant cycle's phase."""

    __slots__ = ("_phase",)

    def _reset(self) -> None:
        super()._reset()
        self._phase = DominantCyclePhase()

    def _advance(self, core: HilbertTransform, close: float) -> None:
        self._phase.update(core.smoothed_price, core.smooth_period)


class HilbertDominantCyclePhase(_PhaseIndicator):
    """HT_DCPHASE: the phase of the dominant cycle, in degrees (-45 to 315).

    >>> indicator = HilbertDominantCyclePhase()
    >>> for bar in range(64):
    ...     indicator.update(100.0 + bar % 9)
    >>> indicator.ready, round(indicator.value, 4)
    (True, 88.2586)
    """

    __slots__ = ()

    def _outputs(self, core: HilbertTransform) -> tuple[float, ...]:
        return (self._phase.phase,)


class HilbertSine(_PhaseIndicator):
    """HT_SINE: the sine of the dominant cycle phase and of the phase 45 degrees ahead.

    >>> indicator = HilbertSine()
    >>> for bar in range(64):
    ...     indicator.update(100.0 + bar % 9)
    >>> [round(line, 4) for line in indicator.values]
    [0.9995, 0.7283]
    """

    __slots__ = ()
    outputs: ClassVar[tuple[str, ...]] = ("sine", "leadsine")

    def _outputs(self, core: HilbertTransform) -> tuple[float, ...]:
        phase = self._phase.phase
        return (math.sin(phase * DEGREES_TO_RADIANS), math.sin((phase + 45) * DEGREES_TO_RADIANS))
