"""Ehlers' Hilbert-transform cycle indicators, computed one bar at a time as TA-Lib does.

One :class:`HilbertTransform` core carries what every function shares: the 4-bar weighted
average of price, the detrender / Q1 / jI / jQ filters (each with separate odd-bar and
even-bar three-slot buffers, ``a = 0.0962``, ``b = 0.5769``, scaled by the adjusted previous
period), the I2/Q2/Re/Im smoothing and the bounded, smoothed period. TA-Lib starts that
recursion a fixed number of bars into the series: at bar 12 for the functions whose lookback
is 32 (HT_DCPERIOD, HT_PHASOR, MAMA) and at bar 37 for those whose lookback is 63
(HT_DCPHASE, HT_SINE, HT_TRENDLINE, HT_TRENDMODE); the price smoother runs from bar 0 in
both. Fed from the same first bar, the results match ``talib`` within ~1e-13 (TA-Lib 0.8
fuses some multiply-adds, which Python 3.11 cannot; HT_TRENDLINE and HT_TRENDMODE come out
bit-identical on real data).

Cost per update is O(1); the dominant-cycle phase and the trendline average over the
current dominant cycle, which is capped at 50 bars, so they cost at most 50 steps a bar.

HT_TRENDMODE is an integer output: TA-Lib writes 0 (not NaN) during its warm-up, and so do
we (``ready`` stays False until the first real value).

>>> mama = MesaAdaptiveMovingAverage(fastlimit=0.5, slowlimit=0.05)
>>> for bar in range(40):
...     mama.update(100.0 + bar % 7)
>>> mama.ready, round(mama.value, 4)
(True, 102.9013)
"""

from __future__ import annotations

import math
from collections import deque
from itertools import islice
from typing import ClassVar

__all__ = [
    "HilbertDominantCyclePeriod",
    "HilbertDominantCyclePhase",
    "HilbertPhasor",
    "HilbertSine",
    "HilbertTransform",
    "HilbertTrendMode",
    "HilbertTrendline",
    "MesaAdaptiveMovingAverage",
    "TALIB_FUNCTIONS",
]

RADIANS_TO_DEGREES = 45.0 / math.atan(1.0)
DEGREES_TO_RADIANS = 1.0 / RADIANS_TO_DEGREES
FULL_TURN = math.atan(1.0) * 8.0
LONGEST_CYCLE = 50
SHORT_LOOKBACK = 32  # HT_DCPERIOD, HT_PHASOR, MAMA: the recursion starts at bar 12
SHORT_FIRST_BAR = 12
LONG_LOOKBACK = 63  # HT_DCPHASE, HT_SINE, HT_TRENDLINE, HT_TRENDMODE: it starts at bar 37
LONG_FIRST_BAR = 37
HILBERT_A = 0.0962
HILBERT_B = 0.5769

# sin/cos of i * 2*pi / n for every cycle length n TA-Lib can use, computed as TA-Lib does.
_CYCLE_TABLES: tuple[tuple[tuple[float, float], ...], ...] = tuple(
    tuple((math.sin(i * FULL_TURN / n), math.cos(i * FULL_TURN / n)) for i in range(n)) if n else ()
    for n in range(LONGEST_CYCLE + 1)
)


class _QuadratureFilter:
    """One of Ehlers' Hilbert FIR filters, with a separate 3-slot buffer for odd and even bars."""

    __slots__ = ("_buffers", "_previous", "_previous_input")

    def __init__(self) -> None:
        self._buffers = ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])  # [even, odd]
        self._previous = [0.0, 0.0]
        self._previous_input = [0.0, 0.0]

    def step(self, value: float, parity: int, slot: int, adjustment: float) -> float:
        scaled = HILBERT_A * value
        buffer = self._buffers[parity]
        output = 0.0 - buffer[slot]
        buffer[slot] = scaled
        output += scaled
        output -= self._previous[parity]
        self._previous[parity] = HILBERT_B * self._previous_input[parity]
        output += self._previous[parity]
        self._previous_input[parity] = value
        return output * adjustment


class HilbertTransform:
    """The shared core: smoothed price, in-phase / quadrature parts and the dominant cycle period.

    ``first_bar`` is the bar at which the Hilbert recursion starts (12 or 37, as in TA-Lib).
    After each ``update``, ``active`` says whether the recursion ran on that bar.

    >>> core = HilbertTransform(first_bar=12)
    >>> for bar in range(13):
    ...     core.update(10.0 + bar)
    >>> core.active, round(core.smoothed_price, 2), round(core.smooth_period, 3)
    (True, 21.0, 0.396)
    """

    __slots__ = (
        "first_bar", "bars", "active", "prices", "smoothed_price", "in_phase", "quadrature",
        "period", "smooth_period", "_weighted_sum", "_plain_sum", "_slot", "_detrender",
        "_quadrature_filter", "_in_phase_filter", "_shifted_quadrature_filter",
        "_previous_q2", "_previous_i2", "_real", "_imaginary", "_odd_delays", "_even_delays",
    )

    def __init__(self, first_bar: int) -> None:
        if isinstance(first_bar, bool) or not isinstance(first_bar, int) or first_bar < 3:
            raise ValueError(f"first_bar must be an integer >= 3, got {first_bar!r}")
        self.first_bar = first_bar
        self._reset()

    def _reset(self) -> None:
        self.bars = 0
        self.active = False
        self.prices: deque[float] = deque(maxlen=LONGEST_CYCLE)
        self.smoothed_price = math.nan
        self.in_phase = 0.0
        self.quadrature = 0.0
        self.period = 0.0
        self.smooth_period = 0.0
        self._weighted_sum = 0.0
        self._plain_sum = 0.0
        self._slot = 0
        self._detrender = _QuadratureFilter()
        self._quadrature_filter = _QuadratureFilter()
        self._in_phase_filter = _QuadratureFilter()
        self._shifted_quadrature_filter = _QuadratureFilter()
        self._previous_q2 = 0.0
        self._previous_i2 = 0.0
        self._real = 0.0
        self._imaginary = 0.0
        # The in-phase part is the detrender three bars back, kept per bar parity: [prev2, prev3].
        self._odd_delays = [0.0, 0.0]
        self._even_delays = [0.0, 0.0]

    def reset(self) -> None:
        self._reset()

    def update(self, price: float) -> None:
        bar = self.bars
        self.bars = bar + 1
        prices = self.prices
        if bar < 3:
            self._plain_sum += price
            self._weighted_sum += price * (bar + 1)
            prices.append(price)
            return
        trailing = prices[-4] if bar >= 4 else 0.0
        prices.append(price)
        self._plain_sum += price
        self._plain_sum -= trailing
        self._weighted_sum += price * 4.0
        smoothed = self._weighted_sum * 0.1
        self._weighted_sum -= self._plain_sum
        self.smoothed_price = smoothed
        self.active = bar >= self.first_bar
        if self.active:
            self._transform(smoothed, bar % 2)

    def _transform(self, smoothed: float, parity: int) -> None:
        adjustment = 0.075 * self.period + 0.54
        slot = self._slot
        detrender = self._detrender.step(smoothed, parity, slot, adjustment)
        quadrature = self._quadrature_filter.step(detrender, parity, slot, adjustment)
        delays = self._odd_delays if parity else self._even_delays
        in_phase = delays[1]
        shifted_in_phase = self._in_phase_filter.step(in_phase, parity, slot, adjustment)
        shifted_quadrature = self._shifted_quadrature_filter.step(quadrature, parity, slot, adjustment)
        if parity == 0:
            self._slot = 0 if slot == 2 else slot + 1
        q2 = 0.2 * (quadrature + shifted_in_phase) + 0.8 * self._previous_q2
        i2 = 0.2 * (in_phase - shifted_quadrature) + 0.8 * self._previous_i2
        other = self._even_delays if parity else self._odd_delays
        other[1] = other[0]
        other[0] = detrender
        self.in_phase = in_phase
        self.quadrature = quadrature

        previous_i2, previous_q2 = self._previous_i2, self._previous_q2
        self._real = 0.2 * (i2 * previous_i2 + q2 * previous_q2) + 0.8 * self._real
        self._imaginary = 0.2 * (i2 * previous_q2 - q2 * previous_i2) + 0.8 * self._imaginary
        self._previous_q2 = q2
        self._previous_i2 = i2
        previous_period = self.period
        period = previous_period
        if self._imaginary != 0.0 and self._real != 0.0:
            period = 360.0 / (math.atan(self._imaginary / self._real) * RADIANS_TO_DEGREES)
        ceiling = 1.5 * previous_period
        if period > ceiling:
            period = ceiling
        floor = 0.67 * previous_period
        if period < floor:
            period = floor
        if period < 6:
            period = 6.0
        elif period > 50:
            period = 50.0
        self.period = 0.2 * period + 0.8 * previous_period
        self.smooth_period = 0.33 * self.period + 0.67 * self.smooth_period


class _DominantCyclePhase:
    """Phase of the dominant cycle: a DFT of the smoothed price over the last cycle (<= 50 bars)."""

    __slots__ = ("phase", "_smoothed", "_index")

    def __init__(self) -> None:
        self.phase = 0.0
        self._smoothed = [0.0] * LONGEST_CYCLE
        self._index = 0

    def update(self, smoothed_price: float, smooth_period: float) -> float:
        ring = self._smoothed
        index = self._index
        ring[index] = smoothed_price
        length = int(smooth_period + 0.5)
        real_part = 0.0
        imaginary_part = 0.0
        for sine, cosine in _CYCLE_TABLES[length]:
            value = ring[index]
            real_part += sine * value
            imaginary_part += cosine * value
            index = LONGEST_CYCLE - 1 if index == 0 else index - 1
        phase = self.phase
        magnitude = abs(imaginary_part)
        if magnitude > 0.0:
            phase = math.atan(real_part / imaginary_part) * RADIANS_TO_DEGREES
        elif magnitude <= 0.01:
            if real_part < 0.0:
                phase -= 90.0
            elif real_part > 0.0:
                phase += 90.0
        phase += 90.0
        phase += 360.0 / smooth_period  # compensates the one-bar lag of the price smoother
        if imaginary_part < 0.0:
            phase += 180.0
        if phase > 315.0:
            phase -= 360.0
        self.phase = phase
        self._index = 0 if self._index == LONGEST_CYCLE - 1 else self._index + 1
        return phase


class _InstantaneousTrendline:
    """Raw price averaged over the dominant cycle, then a 4-3-2-1 weighted average of those."""

    __slots__ = ("trendline", "_recent")

    def __init__(self) -> None:
        self.trendline = 0.0
        self._recent = [0.0, 0.0, 0.0]  # last three cycle averages, newest first

    def update(self, prices: deque[float], smooth_period: float) -> float:
        length = int(smooth_period + 0.5)
        average = 0.0
        for price in islice(reversed(prices), length):
            average += price
        if length > 0:
            average = average / length
        first, second, third = self._recent
        self.trendline = (4.0 * average + 3.0 * first + 2.0 * second + third) / 10.0
        self._recent = [average, first, second]
        return self.trendline


def _require_limit(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.01 <= value <= 0.99:
        raise ValueError(f"{name} must be a number in [0.01, 0.99], got {value!r}")
    return float(value)


class _HilbertIndicator:
    """What every HT_* class shares: one close in, a core, readiness at TA-Lib's lookback."""

    __slots__ = ("_core",)
    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)
    lookback: ClassVar[int] = SHORT_LOOKBACK
    first_bar: ClassVar[int] = SHORT_FIRST_BAR

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._core = HilbertTransform(first_bar=self.first_bar)

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._core.bars > self.lookback

    @property
    def values(self) -> tuple[float, ...]:
        raise NotImplementedError

    @property
    def value(self) -> float:
        return self.values[0]


class HilbertDominantCyclePeriod(_HilbertIndicator):
    """HT_DCPERIOD: the smoothed dominant cycle period, in bars.

    >>> indicator = HilbertDominantCyclePeriod()
    >>> for bar in range(33):
    ...     indicator.update(100.0 + bar % 9)
    >>> indicator.ready, round(indicator.value, 4)
    (True, 15.6467)
    """

    __slots__ = ()

    def update(self, close: float) -> None:
        self._core.update(close)

    @property
    def values(self) -> tuple[float, ...]:
        return (self._core.smooth_period if self.ready else math.nan,)


class HilbertPhasor(_HilbertIndicator):
    """HT_PHASOR: the in-phase and quadrature components of the detrended, smoothed price.

    >>> indicator = HilbertPhasor()
    >>> for bar in range(33):
    ...     indicator.update(100.0 + bar % 9)
    >>> [round(part, 4) for part in indicator.values]
    [-1.6758, -6.783]
    """

    __slots__ = ()
    outputs: ClassVar[tuple[str, ...]] = ("inphase", "quadrature")

    def update(self, close: float) -> None:
        self._core.update(close)

    @property
    def values(self) -> tuple[float, ...]:
        if not self.ready:
            return (math.nan, math.nan)
        return (self._core.in_phase, self._core.quadrature)


class MesaAdaptiveMovingAverage(_HilbertIndicator):
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

    def __init__(self, fastlimit: float = 0.5, slowlimit: float = 0.05) -> None:
        self.fastlimit = _require_limit("fastlimit", fastlimit)
        self.slowlimit = _require_limit("slowlimit", slowlimit)
        super().__init__()

    def _reset(self) -> None:
        super()._reset()
        self._mama = 0.0
        self._fama = 0.0
        self._previous_phase = 0.0

    def update(self, close: float) -> None:
        core = self._core
        core.update(close)
        if not core.active:
            return
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

    @property
    def values(self) -> tuple[float, ...]:
        if not self.ready:
            return (math.nan, math.nan)
        return (self._mama, self._fama)


class HilbertDominantCyclePhase(_HilbertIndicator):
    """HT_DCPHASE: the phase of the dominant cycle, in degrees (-45 to 315).

    >>> indicator = HilbertDominantCyclePhase()
    >>> for bar in range(64):
    ...     indicator.update(100.0 + bar % 9)
    >>> indicator.ready, round(indicator.value, 4)
    (True, 88.2586)
    """

    __slots__ = ("_phase",)
    lookback: ClassVar[int] = LONG_LOOKBACK
    first_bar: ClassVar[int] = LONG_FIRST_BAR

    def _reset(self) -> None:
        super()._reset()
        self._phase = _DominantCyclePhase()

    def update(self, close: float) -> None:
        core = self._core
        core.update(close)
        if core.active:
            self._phase.update(core.smoothed_price, core.smooth_period)

    @property
    def values(self) -> tuple[float, ...]:
        return (self._phase.phase if self.ready else math.nan,)


class HilbertSine(_HilbertIndicator):
    """HT_SINE: the sine of the dominant cycle phase and of the phase 45 degrees ahead.

    >>> indicator = HilbertSine()
    >>> for bar in range(64):
    ...     indicator.update(100.0 + bar % 9)
    >>> [round(line, 4) for line in indicator.values]
    [0.9995, 0.7283]
    """

    __slots__ = ("_phase",)
    outputs: ClassVar[tuple[str, ...]] = ("sine", "leadsine")
    lookback: ClassVar[int] = LONG_LOOKBACK
    first_bar: ClassVar[int] = LONG_FIRST_BAR

    def _reset(self) -> None:
        super()._reset()
        self._phase = _DominantCyclePhase()

    def update(self, close: float) -> None:
        core = self._core
        core.update(close)
        if core.active:
            self._phase.update(core.smoothed_price, core.smooth_period)

    @property
    def values(self) -> tuple[float, ...]:
        if not self.ready:
            return (math.nan, math.nan)
        phase = self._phase.phase
        return (math.sin(phase * DEGREES_TO_RADIANS), math.sin((phase + 45) * DEGREES_TO_RADIANS))


class HilbertTrendline(_HilbertIndicator):
    """HT_TRENDLINE: Ehlers' instantaneous trendline (price averaged over the dominant cycle).

    >>> indicator = HilbertTrendline()
    >>> for bar in range(64):
    ...     indicator.update(100.0 + bar % 9)
    >>> indicator.ready, round(indicator.value, 4)
    (True, 104.3)
    """

    __slots__ = ("_trendline",)
    lookback: ClassVar[int] = LONG_LOOKBACK
    first_bar: ClassVar[int] = LONG_FIRST_BAR

    def _reset(self) -> None:
        super()._reset()
        self._trendline = _InstantaneousTrendline()

    def update(self, close: float) -> None:
        core = self._core
        core.update(close)
        if core.active:
            self._trendline.update(core.prices, core.smooth_period)

    @property
    def values(self) -> tuple[float, ...]:
        return (self._trendline.trendline if self.ready else math.nan,)


class HilbertTrendMode(_HilbertIndicator):
    """HT_TRENDMODE: 1 while price trends, 0 while it cycles (0 also during the warm-up, as TA-Lib).

    >>> indicator = HilbertTrendMode()
    >>> for bar in range(64):
    ...     indicator.update(100.0 + bar % 9)
    >>> indicator.ready, indicator.value
    (True, 0.0)
    """

    __slots__ = ("_phase", "_trendline", "_sine", "_lead_sine", "_days_in_trend", "_trend")
    outputs: ClassVar[tuple[str, ...]] = ("integer",)
    lookback: ClassVar[int] = LONG_LOOKBACK
    first_bar: ClassVar[int] = LONG_FIRST_BAR

    def _reset(self) -> None:
        super()._reset()
        self._phase = _DominantCyclePhase()
        self._trendline = _InstantaneousTrendline()
        self._sine = 0.0
        self._lead_sine = 0.0
        self._days_in_trend = 0
        self._trend = 0

    def update(self, close: float) -> None:
        core = self._core
        core.update(close)
        if not core.active:
            return
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

    @property
    def values(self) -> tuple[float, ...]:
        return (float(self._trend) if self.ready else 0.0,)


TALIB_FUNCTIONS: dict[str, type] = {
    "HT_DCPERIOD": HilbertDominantCyclePeriod,
    "HT_DCPHASE": HilbertDominantCyclePhase,
    "HT_PHASOR": HilbertPhasor,
    "HT_SINE": HilbertSine,
    "HT_TRENDMODE": HilbertTrendMode,
    "HT_TRENDLINE": HilbertTrendline,
    "MAMA": MesaAdaptiveMovingAverage,
}
