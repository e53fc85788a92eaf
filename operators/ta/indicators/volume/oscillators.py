"""Volume oscillators and ratios: EFI, PVO, RVOL and MARKETFI.

>>> relative = RelativeVolume(timeperiod=2)
>>> for volume in [10.0, 30.0, 40.0]:
...     relative.update(volume)
>>> relative.value
2.0
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from operators.ta.base import NAN, Indicator, MovingAverageType, Period
from operators.ta.indicators.overlap import moving_average
from operators.ta.indicators.window_averages import ieee_divide

MAXIMUM_PERIOD = 100_000
EXPONENTIAL = 1  # TA-Lib's matype of the EMA


class ElderForceIndex(Indicator):
    """EFI: EMA (seeded with a simple average) of ``(close - previous close) * volume``.

    ``timeperiod=1`` gives the raw force, as TA-Lib does.

    >>> force = ElderForceIndex(timeperiod=2)
    >>> for close, volume in [(10.0, 1.0), (11.0, 2.0), (10.0, 4.0), (10.5, 2.0)]:
    ...     force.update(close, volume)
    >>> round(force.value, 6)
    0.333333
    """

    inputs: ClassVar[tuple[str, ...]] = ("close", "volume")
    parameters = (Period("timeperiod", 13, minimum=1, maximum=MAXIMUM_PERIOD),)
    __slots__ = ("timeperiod", "_previous_close", "_average")

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = NAN
        self._average = moving_average(EXPONENTIAL, self.timeperiod)

    def update(self, close: float, volume: float) -> None:
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close != previous_close:
            return
        force = (close - previous_close) * volume
        if self.timeperiod == 1:
            self._value = force
            return
        average = self._average
        average.update(force)
        if average.ready:
            self._value = average.value


class PercentageVolumeOscillator(Indicator):
    """PVO: ``100 * (fast MA - slow MA) / slow MA`` of the volume (0 where the slow MA is 0).

    Both averages run from the first bar with TA-Lib's moving average ``matype``; the periods
    are swapped if ``slowperiod < fastperiod``, as TA-Lib does.

    >>> oscillator = PercentageVolumeOscillator(fastperiod=2, slowperiod=3, matype=0)
    >>> for volume in [10.0, 20.0, 60.0]:
    ...     oscillator.update(volume)
    >>> oscillator.value
    33.33333333333333
    """

    inputs: ClassVar[tuple[str, ...]] = ("volume",)
    parameters = (Period("fastperiod", 12, minimum=2, maximum=MAXIMUM_PERIOD),
                  Period("slowperiod", 26, minimum=2, maximum=MAXIMUM_PERIOD),
                  MovingAverageType("matype", EXPONENTIAL))
    __slots__ = ("fastperiod", "slowperiod", "matype", "_fast", "_slow")

    def _reset(self) -> None:
        super()._reset()
        self._fast = moving_average(self.matype, min(self.fastperiod, self.slowperiod))
        self._slow = moving_average(self.matype, max(self.fastperiod, self.slowperiod))

    def update(self, volume: float) -> None:
        fast = self._fast
        slow = self._slow
        fast.update(volume)
        slow.update(volume)
        if fast.ready and slow.ready:
            slow_value = slow.value
            self._value = (fast.value - slow_value) / slow_value * 100.0 if slow_value != 0.0 else 0.0


class RelativeVolume(Indicator):
    """RVOL: this bar's volume over the mean volume of the ``timeperiod`` bars before it.

    A zero baseline gives what C's division gives: an infinity, or NaN for ``0 / 0``; ``ready``
    is True from the first bar with a full baseline even where the value is NaN.

    >>> relative = RelativeVolume(timeperiod=2)
    >>> for volume in [0.0, 0.0, 0.0]:
    ...     relative.update(volume)
    >>> relative.ready, relative.value
    (True, nan)
    """

    inputs: ClassVar[tuple[str, ...]] = ("volume",)
    parameters = (Period("timeperiod", 20, minimum=1, maximum=MAXIMUM_PERIOD),)
    __slots__ = ("timeperiod", "_volumes", "_total", "_zero_run", "_warm")

    def _reset(self) -> None:
        super()._reset()
        self._volumes: deque[float] = deque(maxlen=self.timeperiod)
        self._total = 0.0
        self._zero_run = 0
        self._warm = False

    @property
    def ready(self) -> bool:
        return self._warm

    def update(self, volume: float) -> None:
        volumes = self._volumes
        period = self.timeperiod
        full = len(volumes) == period
        if full:
            baseline = self._total / period
            self._total -= volumes[0]
        volumes.append(volume)
        self._total += volume
        self._zero_run = self._zero_run + 1 if volume == 0.0 else 0
        if full:
            self._warm = True
            if self._zero_run >= period:
                self._zero_run = period
                self._total = 0.0
            self._value = ieee_divide(volume, baseline)


class MarketFacilitationIndex(Indicator):
    """MARKETFI: ``(high - low) / volume``, and 0 for a bar with exactly zero volume.

    >>> index = MarketFacilitationIndex()
    >>> index.update(11.0, 10.0, 4.0); index.value
    0.25
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "volume")
    __slots__ = ()

    def update(self, high: float, low: float, volume: float) -> None:
        self._value = (high - low) / volume if volume != 0.0 else 0.0
