"""Ehlers' Hilbert transform as TA-Lib computes it, one bar at a time, and what its functions share.

One :class:`HilbertTransform` core carries what every HT_* function and MAMA use: the 4-bar
weighted average of price, the detrender / Q1 / jI / jQ filters (each with separate odd-bar and
even-bar three-slot buffers, ``a = 0.0962``, ``b = 0.5769``, scaled by the adjusted previous
period), the I2/Q2/Re/Im smoothing and the bounded, smoothed period. TA-Lib starts that
recursion a fixed number of bars into the series: at bar 12 for the functions whose lookback
is 32 (HT_DCPERIOD, HT_PHASOR, MAMA) and at bar 37 for those whose lookback is 63
(HT_DCPHASE, HT_SINE, HT_TRENDLINE, HT_TRENDMODE); the price smoother runs from bar 0 in
both. :class:`DominantCyclePhase` and :class:`InstantaneousTrendline` average over the current
dominant cycle, which is capped at 50 bars, so they cost at most 50 steps a bar.
:class:`HilbertIndicator` is the base of the streaming functions built on the core.
"""

from __future__ import annotations

import math
from array import array
from itertools import islice
from typing import ClassVar

from operators.ta.base import MultiOutputIndicator, Period
from operators.ta.state import FlatState
from operators.ta.ring import FloatRing

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
FIRST_BAR = Period("first_bar", SHORT_FIRST_BAR, minimum=3)  # the price smoother needs three bars

# sin/cos of i * 2*pi / n for every cycle length n TA-Lib can use, computed as TA-Lib does.
_CYCLE_TABLES: tuple[tuple[tuple[float, float], ...], ...] = tuple(
    tuple((math.sin(i * FULL_TURN / n), math.cos(i * FULL_TURN / n)) for i in range(n)) if n else ()
    for n in range(LONGEST_CYCLE + 1)
)


class _QuadratureFilter(FlatState):
    """One of Ehlers' Hilbert FIR filters, with a separate 3-slot buffer for odd and even bars.

    Its ten doubles live in one array: the even and the odd buffer (``[0:3]``, ``[3:6]``), then
    per parity the previous output term (``[6:8]``) and the previous input (``[8:10]``).
    """

    __slots__ = ("_state",)

    def __init__(self) -> None:
        self._state = array("d", bytes(80))

    def step(self, value: float, parity: int, slot: int, adjustment: float) -> float:
        state = self._state
        scaled = HILBERT_A * value
        position = 3 * parity + slot
        output = 0.0 - state[position]
        state[position] = scaled
        output += scaled
        output -= state[6 + parity]
        previous = state[6 + parity] = HILBERT_B * state[8 + parity]
        output += previous
        state[8 + parity] = value
        return output * adjustment


class HilbertTransform(FlatState):
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
        self.first_bar = FIRST_BAR.check(type(self).__name__, first_bar)
        self._reset()

    def _reset(self) -> None:
        self.bars = 0
        self.active = False
        self.prices = FloatRing(LONGEST_CYCLE)
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


class DominantCyclePhase(FlatState):
    """Phase of the dominant cycle: a DFT of the smoothed price over the last cycle (<= 50 bars)."""

    __slots__ = ("phase", "_smoothed", "_index")

    def __init__(self) -> None:
        self.phase = 0.0
        self._smoothed = array("d", bytes(8 * LONGEST_CYCLE))
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


class InstantaneousTrendline(FlatState):
    """Raw price averaged over the dominant cycle, then a 4-3-2-1 weighted average of those."""

    __slots__ = ("trendline", "_recent")

    def __init__(self) -> None:
        self.trendline = 0.0
        self._recent = [0.0, 0.0, 0.0]  # last three cycle averages, newest first

    def update(self, prices: FloatRing, smooth_period: float) -> float:
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


class HilbertIndicator(MultiOutputIndicator):
    """What every streaming function on the core shares: one close in, readiness at TA-Lib's lookback.

    ``update`` runs the core; on the bars where its recursion runs, ``_advance`` moves the
    function's own state and, once ``ready``, ``_outputs`` gives the values.
    """

    __slots__ = ("_core",)
    lookback: ClassVar[int] = SHORT_LOOKBACK
    first_bar: ClassVar[int] = SHORT_FIRST_BAR

    def _reset(self) -> None:
        super()._reset()
        self._core = HilbertTransform(first_bar=self.first_bar)

    @property
    def ready(self) -> bool:
        return self._core.bars > self.lookback

    def update(self, close: float) -> None:
        core = self._core
        core.update(close)
        if core.active:
            self._advance(core, close)
            if core.bars > self.lookback:
                self._values = self._outputs(core)

    def _advance(self, core: HilbertTransform, close: float) -> None:
        """Move this function's own state by one bar of an active core."""

    def _outputs(self, core: HilbertTransform) -> tuple[float, ...]:
        raise NotImplementedError


class LongLookbackIndicator(HilbertIndicator):
    """The functions whose TA-Lib lookback is 63: the core starts at bar 37."""

    __slots__ = ()
    lookback: ClassVar[int] = LONG_LOOKBACK
    first_bar: ClassVar[int] = LONG_FIRST_BAR
