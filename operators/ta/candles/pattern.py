"""The shared machinery of every candlestick pattern: recent candles plus trailing averages.

A pattern declares what it judges: ``rules`` (one candle's range compared with a setting's
threshold for that candle, e.g. "the body two bars back is longer than BodyLong") and
``averages`` (further settings its ``_detect`` reads, each paired with the candle it judges,
``offset`` bars back from the newest). Its TA-Lib lookback follows from them: the longest
average period plus the candles before the newest one. ``_detect`` runs only where every rule
holds and says the rest.

For each (setting, offset) pair the base keeps a rolling total of that setting's range over
the ``average_period`` candles just before the judged candle, built exactly as TA-Lib builds
it: summed one candle at a time over the first window, then moved by ``total += new - old``
after every evaluated bar. Because floating-point rounding depends on where a total started,
each pair keeps its own total and starts it at the bar TA-Lib starts it at; that keeps every
comparison bit-for-bit equal to TA-Lib's.

TA-Lib's integer output is 0 (not NaN) before the lookback, so ``value`` is 0.0 until
``ready`` and never NaN. Every update is O(number of averages); memory is the last
``lookback + 2`` candles at most.

>>> from operators.ta.candles.single import Doji
>>> doji = Doji()
>>> for open, close in [(10.0, 11.0)] * 10 + [(10.0, 10.05)]:
...     doji.update(open, 11.5, 9.5, close)
>>> doji.ready, doji.value, Doji.lookback
(True, 100.0, 10)
>>> from operators.ta.candles.stars import MorningStar
>>> MorningStar(penetration=-1.0)
Traceback (most recent call last):
...
ValueError: MorningStar penetration must be a number in [0, 3e+37], got -1.0
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import ClassVar, NamedTuple

from operators.ta.base import Indicator, Number
from operators.ta.candles.candle import Candle
from operators.ta.candles.settings import CandleSetting
from operators.ta.candles.window import CandleRing

LARGEST_PENETRATION = 3e37
"""TA-Lib's upper bound for ``penetration`` (its ``TA_REAL_MAX``)."""

Judged = tuple[CandleSetting, int]
"""A setting and the offset of the candle it judges (0: the newest)."""
AveragePlan = tuple[Callable[[Candle], float], int, float, float, int, int]
"""(range measure, average period, factor, divisor, offset of the judged candle, bar the total starts on)."""


class Rule(NamedTuple):
    """``compare(measure(candle offset bars back), threshold of setting for that candle)`` must hold."""

    measure: Callable[[Candle], float]
    compare: Callable[[float, float], bool]
    setting: CandleSetting
    offset: int = 0


def longer(measure: Callable[[Candle], float], setting: CandleSetting, offset: int = 0) -> Rule:
    """The candle's ``measure`` is strictly above the setting's threshold."""
    return Rule(measure, operator.gt, setting, offset)


def shorter(measure: Callable[[Candle], float], setting: CandleSetting, offset: int = 0) -> Rule:
    """The candle's ``measure`` is strictly below the setting's threshold."""
    return Rule(measure, operator.lt, setting, offset)


def at_most(measure: Callable[[Candle], float], setting: CandleSetting, offset: int = 0) -> Rule:
    """The candle's ``measure`` is at or below the setting's threshold."""
    return Rule(measure, operator.le, setting, offset)


def penetration(default: float) -> Number:
    """TA-Lib's ``penetration``: how far, as a fraction of a body, a later candle must close into it."""
    return Number("penetration", default, low=0.0, high=LARGEST_PENETRATION)


class CandlePattern(Indicator):
    """Base of the pattern classes; subclasses declare ``rules`` / ``averages`` and ``_detect``."""

    inputs: ClassVar[tuple[str, ...]] = ("open", "high", "low", "close")
    outputs: ClassVar[tuple[str, ...]] = ("integer",)
    candles: ClassVar[int] = 1
    """How many recent candles ``_detect`` reads."""
    rules: ClassVar[tuple[Rule, ...]] = ()
    """Requirements checked before ``_detect``; a pattern with state of its own must declare none."""
    averages: ClassVar[tuple[Judged, ...]] = ()
    """Further (setting, offset) pairs; ``thresholds`` holds their values first, in this order."""
    lookback: ClassVar[int] = 0
    """Bars TA-Lib needs before its first output; derived from the settings unless declared."""
    first_evaluated: ClassVar[int | None] = None
    """First bar ``_detect`` runs on (default: ``lookback``); earlier only for stateful patterns."""
    _plan: ClassVar[tuple[AveragePlan, ...]] = ()
    _rolling: ClassVar[tuple[tuple[int, AveragePlan], ...]] = ()
    _checks: ClassVar[tuple[tuple[Callable[[Candle], float], Callable[[float, float], bool], int, int], ...]] = ()
    _depth: ClassVar[int] = 1
    _start: ClassVar[int] = 0

    __slots__ = ("_candles", "_count", "_totals")

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        judged = list(dict.fromkeys([*cls.averages, *((rule.setting, rule.offset) for rule in cls.rules)]))
        if "lookback" not in cls.__dict__:
            cls.lookback = max((setting.average_period for setting, _ in judged), default=0) + cls.candles - 1
        start = cls.lookback if cls.first_evaluated is None else cls.first_evaluated
        cls._start = start
        cls._plan = tuple(
            (setting.measure, setting.average_period, setting.factor, setting.divisor, offset,
             start - offset - setting.average_period)
            for setting, offset in judged)
        cls._rolling = tuple((slot, plan) for slot, plan in enumerate(cls._plan) if plan[1])
        cls._checks = tuple((rule.measure, rule.compare, judged.index((rule.setting, rule.offset)), rule.offset)
                            for rule in cls.rules)
        cls._depth = max([cls.candles] + [offset + setting.average_period + 2 for setting, offset in judged])

    def _reset(self) -> None:
        self._candles = CandleRing(self._depth)
        self._count = 0
        self._totals = [0.0] * len(self._plan)
        self._value = 0.0

    @property
    def ready(self) -> bool:
        return self._count > self.lookback

    def update(self, open: float, high: float, low: float, close: float) -> None:
        candles = self._candles
        candles.append(open, high, low, close)
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
        signal = 0
        if all(compare(measure(candles[-1 - offset]), thresholds[slot])
               for measure, compare, slot, offset in self._checks):
            signal = self._detect(candles, thresholds, index)
        if index >= self.lookback:
            self._value = float(signal)

    def _detect(self, candles: CandleRing, thresholds: list[float], index: int) -> int:
        """The pattern's integer at the newest candle (``candles[-1]``), bar number ``index``, once
        every rule holds; by default 100."""
        return 100
