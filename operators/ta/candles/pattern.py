"""The shared machinery of every candlestick pattern: recent candles plus trailing averages.

A pattern declares ``averages``: the candle settings it judges with, each paired with the
candle it judges (``offset`` bars back from the newest). For each pair it keeps a rolling
total of that setting's range over the ``average_period`` candles just before the judged
candle, built exactly as TA-Lib builds it: summed one candle at a time over the first window,
then moved by ``total += new - old`` after every evaluated bar. Because floating-point
rounding depends on where a total started, each pair keeps its own total and starts it at the
bar TA-Lib starts it at; that keeps every comparison bit-for-bit equal to TA-Lib's.

TA-Lib's integer output is 0 (not NaN) before the lookback, so ``value`` is 0.0 until
``ready`` and never NaN. Every update is O(number of averages); memory is the last
``lookback + 2`` candles at most.

>>> from operators.ta.candles.single import Doji
>>> doji = Doji()
>>> for open, close in [(10.0, 11.0)] * 10 + [(10.0, 10.05)]:
...     doji.update(open, 11.5, 9.5, close)
>>> doji.ready, doji.value
(True, 100.0)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import ClassVar

from operators.ta.candles.candle import Candle
from operators.ta.candles.settings import CandleSetting

AveragePlan = tuple[Callable[[Candle], float], int, float, float, int, int]
"""(range measure, average period, factor, divisor, offset of the judged candle, bar the total starts on)."""


def require_penetration(penetration: object) -> None:
    """Raise ``ValueError`` naming the bad value unless ``penetration`` is a finite number >= 0."""
    if isinstance(penetration, bool) or not isinstance(penetration, int | float) or not (
            math.isfinite(penetration) and penetration >= 0.0):
        raise ValueError(f"penetration must be a finite number >= 0, got {penetration!r}")


class CandlePattern:
    """Base of the pattern classes; subclasses set the class attributes and ``_detect``."""

    inputs: ClassVar[tuple[str, ...]] = ("open", "high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("integer",)
    lookback: ClassVar[int] = 0
    """Bars TA-Lib needs before its first output (``abstract.Function(name).lookback``)."""
    averages: ClassVar[tuple[tuple[CandleSetting, int], ...]] = ()
    """(setting, offset of the judged candle); ``_detect`` receives their values in this order."""
    first_evaluated: ClassVar[int | None] = None
    """First bar ``_detect`` runs on (default: ``lookback``); earlier only for stateful patterns."""
    candles: ClassVar[int] = 1
    """How many recent candles ``_detect`` reads."""
    _plan: ClassVar[tuple[AveragePlan, ...]] = ()
    _rolling: ClassVar[tuple[tuple[int, AveragePlan], ...]] = ()
    _depth: ClassVar[int] = 1
    _start: ClassVar[int] = 0

    __slots__ = ("_candles", "_count", "_totals", "_value")

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        start = cls.lookback if cls.first_evaluated is None else cls.first_evaluated
        cls._start = start
        cls._plan = tuple(
            (setting.measure, setting.average_period, setting.factor, setting.divisor, offset,
             start - offset - setting.average_period)
            for setting, offset in cls.averages)
        cls._rolling = tuple((slot, plan) for slot, plan in enumerate(cls._plan) if plan[1])
        cls._depth = max([cls.candles] + [offset + setting.average_period + 2 for setting, offset in cls.averages])

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._candles: deque[Candle] = deque(maxlen=self._depth)
        self._count = 0
        self._totals = [0.0] * len(self._plan)
        self._value = 0.0

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._count > self.lookback

    @property
    def value(self) -> float:
        """The pattern's integer (0, ±80, ±100, ±200) as a float; 0.0 before ``ready``."""
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        return (self._value,)

    def update(self, open: float, high: float, low: float, close: float) -> None:
        candles = self._candles
        candles.append(Candle(open, high, low, close))
        index = self._count
        self._count = index + 1
        start = self._start
        totals = self._totals
        for slot, (measure, period, _factor, _divisor, offset, first) in self._rolling:
            if index > start:  # the window moves one candle after each evaluated bar
                totals[slot] += measure(candles[-2 - offset]) - measure(candles[-2 - offset - period])
            elif first <= index < first + period:
                totals[slot] += measure(candles[-1])
        if index < start:
            return
        thresholds = [
            factor * (totals[slot] / period if period else measure(candles[-1 - offset])) / divisor
            for slot, (measure, period, factor, divisor, offset, _first) in enumerate(self._plan)]
        signal = self._detect(candles, thresholds, index)
        if index >= self.lookback:
            self._value = float(signal)

    def _detect(self, candles: deque[Candle], thresholds: list[float], index: int) -> int:
        """The pattern's integer at the newest candle (``candles[-1]``), bar number ``index``."""
        raise NotImplementedError
