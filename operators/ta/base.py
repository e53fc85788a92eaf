"""The contract every incremental indicator shares, written once.

A concrete indicator declares its TA-Lib names (``inputs``, ``outputs``), its ``parameters``
(name, default and the rule a value must meet) and its update rule; the base class owns the
rest: keyword construction with TA-Lib's parameter names and defaults, one message format for a
bad parameter, ``value`` / ``values`` (NaN until ``ready``), ``ready`` and ``reset()``.

- ``update(*inputs)`` costs O(1) and sets ``self._value`` (one output) or ``self._values`` (a
  tuple, several outputs);
- ``_reset()`` creates the learned state; it runs at construction and on ``reset()``.

>>> class Doubler(Indicator):
...     parameters = (Period("timeperiod", 1),)
...     def update(self, close: float) -> None:
...         self._value = 2.0 * close
>>> doubler = Doubler()
>>> doubler.ready, doubler.update(1.5), doubler.value, doubler.values
(False, None, 3.0, (3.0,))
>>> Doubler(timeperiod=0)
Traceback (most recent call last):
...
ValueError: Doubler timeperiod must be an integer >= 1, got 0
"""

from __future__ import annotations

import inspect
import math
from typing import ClassVar

from operators.ta.state import FlatState

NAN = math.nan
MOVING_AVERAGE_TYPES = {0: "SMA", 1: "EMA", 2: "WMA", 3: "DEMA", 4: "TEMA", 5: "TRIMA", 6: "KAMA", 7: "MAMA", 8: "T3"}


class Parameter:
    """One setting of an indicator: its TA-Lib name, its default and what a value must be."""

    __slots__ = ("name", "default")
    requirement = "a value"

    def __init__(self, name: str, default: object) -> None:
        self.name = name
        self.default = default

    def accepts(self, value: object) -> bool:
        return True

    def check(self, owner: str, value: object) -> object:
        """``value`` unchanged, or ``ValueError`` naming the indicator, the parameter and the value."""
        if not self.accepts(value):
            raise ValueError(f"{owner} {self.name} must be {self.requirement}, got {value!r}")
        return value


class Period(Parameter):
    """An integer window length (TA-Lib's ``timeperiod``, ``fastperiod`` ...) of at least ``minimum``."""

    __slots__ = ("minimum", "maximum")

    def __init__(self, name: str, default: int, minimum: int = 1, maximum: int | None = None) -> None:
        super().__init__(name, default)
        self.minimum = minimum
        self.maximum = maximum

    @property
    def requirement(self) -> str:  # type: ignore[override]
        if self.maximum is None:
            return f"an integer >= {self.minimum}"
        return f"an integer in [{self.minimum}, {self.maximum}]"

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        return self.minimum <= value and (self.maximum is None or value <= self.maximum)


class Number(Parameter):
    """A real number in ``[low, high]`` (bounds checked as ``low <= x <= high``, so NaN fails)."""

    __slots__ = ("low", "high")

    def __init__(self, name: str, default: float, low: float = -math.inf, high: float = math.inf) -> None:
        super().__init__(name, default)
        self.low = low
        self.high = high

    @property
    def requirement(self) -> str:  # type: ignore[override]
        return f"a number in [{self.low:g}, {self.high:g}]"

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return self.low <= value <= self.high

    def check(self, owner: str, value: object) -> object:
        return float(super().check(owner, value))  # type: ignore[arg-type]


class MovingAverageType(Parameter):
    """One of TA-Lib's ``matype`` codes 0..8 (SMA, EMA, WMA, DEMA, TEMA, TRIMA, KAMA, MAMA, T3)."""

    __slots__ = ()
    requirement = "a TA-Lib moving-average type 0..8"

    def accepts(self, value: object) -> bool:
        return not isinstance(value, bool) and isinstance(value, int) and value in MOVING_AVERAGE_TYPES


class Indicator(FlatState):
    """Base of every streaming indicator: construction, checks, accessors, warm-up and reset."""

    __slots__ = ("_value",)
    inputs: ClassVar[tuple[str, ...]] = ("close",)
    outputs: ClassVar[tuple[str, ...]] = ("real",)
    parameters: ClassVar[tuple[Parameter, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            cls.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
                inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
                for p in cls.parameters])

    def __init__(self, **settings: object) -> None:
        owner = type(self).__name__
        unknown = set(settings) - {p.name for p in self.parameters}
        if unknown:
            raise ValueError(f"{owner} takes no parameter {sorted(unknown)[0]!r}; "
                             f"it takes {[p.name for p in self.parameters]}")
        for parameter in self.parameters:
            value = settings.get(parameter.name, parameter.default)
            setattr(self, parameter.name, parameter.check(owner, value))
        self._check()
        self._reset()

    def _check(self) -> None:
        """Checks that relate several parameters; raise ``ValueError`` in the same format."""

    def _reset(self) -> None:
        self._value = NAN

    def reset(self) -> None:
        """Forget everything learned; keep the settings."""
        self._reset()

    @property
    def value(self) -> float:
        """The (first) output; NaN until ``ready``."""
        return self._value

    @property
    def values(self) -> tuple[float, ...]:
        """Every output, in TA-Lib's order (``outputs``)."""
        return (self._value,)

    @property
    def ready(self) -> bool:
        """True once the warm-up is over: exactly where TA-Lib starts giving numbers."""
        return self._value == self._value

    def __repr__(self) -> str:
        settings = ", ".join(f"{p.name}={getattr(self, p.name)!r}" for p in self.parameters)
        return f"{type(self).__name__}({settings})"


class MultiOutputIndicator(Indicator):
    """An indicator with several outputs; ``update`` sets ``self._values`` (a tuple)."""

    __slots__ = ("_values",)

    def _reset(self) -> None:
        super()._reset()
        self._values = (NAN,) * len(self.outputs)

    @property
    def value(self) -> float:
        return self._values[0]

    @property
    def values(self) -> tuple[float, ...]:
        return self._values

    @property
    def ready(self) -> bool:
        first = self._values[0]
        return first == first


class SeededAverage:
    """Mixin: an average seeded with the plain mean of its first ``period`` inputs, then smoothed.

    TA-Lib seeds EMA, Wilder's smoothing and ADX this way. The class using it declares the slots
    ``_count`` (inputs seen, up to ``period``), ``_seed_sum`` and ``_value``.
    """

    __slots__ = ()
    _count: int
    _seed_sum: float
    _value: float

    def _seed(self, value: float, period: int) -> None:
        """One of the first ``period`` inputs; the average becomes their mean at the last one."""
        self._seed_sum += value
        self._count += 1
        if self._count == period:
            self._value = self._seed_sum / period

    def _exponential(self, value: float, period: int, smoothing: float) -> None:
        """Seed, then move by ``smoothing`` of the gap: ``(value - average) * smoothing + average``."""
        if self._count >= period:
            self._value = (value - self._value) * smoothing + self._value
        else:
            self._seed(value, period)

    def _wilder(self, value: float, period: int) -> None:
        """Seed, then Wilder's smoothing: ``(average * (period - 1) + value) / period``."""
        if self._count >= period:
            self._value = (self._value * (period - 1) + value) / period
        else:
            self._seed(value, period)


class Average(Indicator):
    """A moving average of one input over ``timeperiod`` values (default 30).

    With ``timeperiod=1`` TA-Lib copies the input, so ``update`` does; a longer period runs the
    average's own ``_advance(close)``.
    """

    __slots__ = ("timeperiod",)
    parameters: ClassVar[tuple[Parameter, ...]] = (Period("timeperiod", 30),)

    def update(self, close: float) -> None:
        if self.timeperiod == 1:
            self._value = close
        else:
            self._advance(close)

    def _advance(self, close: float) -> None:
        """One value into the average (``timeperiod`` >= 2); sets ``self._value`` once ready."""
        raise NotImplementedError


def is_zero(value: float) -> bool:
    """TA-Lib's ``TA_IS_ZERO``: ``|value| < 1e-14``, used where TA-Lib guards a division."""
    return -1e-14 < value < 1e-14
