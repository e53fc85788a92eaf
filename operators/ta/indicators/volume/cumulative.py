"""Volume indicators that run from the first bar fed: NVI, PVI, OBV, PVT and VWAP.

TA-Lib's start at the first bar of the array, so ours start at the first bar fed.

>>> balance = OnBalanceVolume()
>>> for close, volume in [(10.0, 5.0), (11.0, 1.0), (10.5, 3.0)]:
...     balance.update(close, volume)
>>> balance.value
3.0
"""

from __future__ import annotations

import math
from typing import ClassVar

from operators.ta.base import NAN, Indicator

CLOSE_AND_VOLUME = ("close", "volume")


class VolumeIndex(Indicator):
    """NVI and PVI: an index from 1000 that compounds the close's change on selected bars."""

    inputs: ClassVar[tuple[str, ...]] = CLOSE_AND_VOLUME
    __slots__ = ("_previous_close", "_previous_volume", "_index")

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = NAN
        self._previous_volume = NAN
        self._index = 1000.0

    def _counts(self, volume: float, previous_volume: float) -> bool:
        """Whether this bar's change compounds into the index."""
        raise NotImplementedError

    def update(self, close: float, volume: float) -> None:
        previous_close = self._previous_close
        if previous_close == previous_close and previous_close != 0.0 and self._counts(volume, self._previous_volume):
            index = self._index
            index += (close - previous_close) / previous_close * index
            if math.isfinite(index):
                self._index = index
        self._previous_close = close
        self._previous_volume = volume
        self._value = self._index


class NegativeVolumeIndex(VolumeIndex):
    """NVI: compounds the close's percent change on bars whose volume fell.

    >>> index = NegativeVolumeIndex()
    >>> for close, volume in [(10.0, 5.0), (11.0, 4.0), (12.0, 9.0)]:
    ...     index.update(close, volume)
    >>> index.value
    1100.0
    """

    __slots__ = ()

    def _counts(self, volume: float, previous_volume: float) -> bool:
        return volume < previous_volume


class PositiveVolumeIndex(VolumeIndex):
    """PVI: compounds the close's percent change on bars whose volume rose.

    >>> index = PositiveVolumeIndex()
    >>> for close, volume in [(10.0, 5.0), (11.0, 4.0), (12.1, 9.0)]:
    ...     index.update(close, volume)
    >>> round(index.value, 9)
    1100.0
    """

    __slots__ = ()

    def _counts(self, volume: float, previous_volume: float) -> bool:
        return volume > previous_volume


class OnBalanceVolume(Indicator):
    """OBV: starts at the first bar's volume, then adds (subtracts) volume on up (down) closes.

    >>> balance = OnBalanceVolume()
    >>> balance.update(10.0, 5.0); balance.value
    5.0
    """

    inputs: ClassVar[tuple[str, ...]] = CLOSE_AND_VOLUME
    __slots__ = ("_previous_close",)

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = NAN

    def update(self, close: float, volume: float) -> None:
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close != previous_close:
            self._value = volume
        elif close > previous_close:
            self._value += volume
        elif close < previous_close:
            self._value -= volume


class PriceVolumeTrend(Indicator):
    """PVT: the running sum of ``volume * (close - previous close) / previous close``, from 0.

    >>> trend = PriceVolumeTrend()
    >>> for close, volume in [(10.0, 5.0), (11.0, 20.0)]:
    ...     trend.update(close, volume)
    >>> trend.value
    2.0
    """

    inputs: ClassVar[tuple[str, ...]] = CLOSE_AND_VOLUME
    __slots__ = ("_previous_close", "_trend")

    def _reset(self) -> None:
        super()._reset()
        self._previous_close = NAN
        self._trend = 0.0

    def update(self, close: float, volume: float) -> None:
        previous_close = self._previous_close
        self._previous_close = close
        if previous_close == previous_close and previous_close != 0.0:
            self._trend += (close - previous_close) / previous_close * volume
        self._value = self._trend


class VolumeWeightedAveragePrice(Indicator):
    """VWAP: sum of typical price times volume over the sum of volume, from the first bar.

    Until some volume has traded (the volume sum is positive) the value is 0, then the last
    average is carried; bars with a non-finite price or volume are skipped, as TA-Lib does.

    >>> average = VolumeWeightedAveragePrice()
    >>> for bar in [(12.0, 9.0, 9.0, 1.0), (15.0, 12.0, 15.0, 1.0)]:
    ...     average.update(*bar)
    >>> average.value
    12.0
    """

    inputs: ClassVar[tuple[str, ...]] = ("high", "low", "close", "volume")
    __slots__ = ("_price_volume", "_volume")

    def _reset(self) -> None:
        super()._reset()
        self._price_volume = 0.0
        self._volume = 0.0

    def update(self, high: float, low: float, close: float, volume: float) -> None:
        typical_price = (high + low + close) / 3.0
        if math.isfinite(typical_price) and math.isfinite(volume):
            self._price_volume += typical_price * volume
            self._volume += volume
        if self._volume > 0.0:
            self._value = self._price_volume / self._volume
        elif self._value != self._value:
            self._value = 0.0
