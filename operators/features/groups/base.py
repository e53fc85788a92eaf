"""The contract of a feature group: each feature declared once, with its name, source and value.

A group owns the state behind a few features and is told about the inputs it needs (trades,
quotes, completed bars) by :class:`operators.features.symbol.SymbolFeatures`. Each feature is
one method decorated with :func:`feature`: the method's name is the feature's name, the
decorator's argument is the input it comes from (for the quality flags), the first docstring
line says what it is, and the body computes its value at event time ``now_ns``. The group's
``names``, ``sources`` and ``values`` follow from those declarations, in declaration order.

>>> class Clock(FeatureGroup):
...     @feature(TRADE)
...     def seconds(self, now_ns: int) -> float:
...         '''event time in seconds'''
...         return now_ns / 1e9
>>> Clock.names, Clock.sources, Clock().values(1_500_000_000)
(('seconds',), (1,), (1.5,))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

#: Where a feature's input comes from: the staleness and missing-input flags follow it.
QUOTE, TRADE, SECOND_BAR, MINUTE_BAR = 0, 1, 2, 3
SOURCE_NAMES = ("quote", "trade", "1s bar", "1m bar")

NAN = math.nan
SECOND_NS = 1_000_000_000
MINUTE_NS = 60 * SECOND_NS

Reader = Callable[..., float]


def feature(source: int) -> Callable[[Reader], Reader]:
    """Declare the decorated method as a feature named after it, fed by ``source``."""
    if source not in (QUOTE, TRADE, SECOND_BAR, MINUTE_BAR):
        raise ValueError(f"feature source must be QUOTE, TRADE, SECOND_BAR or MINUTE_BAR, got {source!r}")

    def declare(reader: Reader) -> Reader:
        reader.feature_source = source  # type: ignore[attr-defined]
        return reader

    return declare


def finite(value: float) -> float:
    """Map inf (and NaN) to NaN so rows never carry inf."""
    return value if -math.inf < value < math.inf else NAN


class FeatureGroup:
    """Base of a group of features: collects the declared features of each subclass in order."""

    __slots__ = ()
    names: ClassVar[tuple[str, ...]] = ()
    sources: ClassVar[tuple[int, ...]] = ()
    descriptions: ClassVar[tuple[str, ...]] = ()
    _readers: ClassVar[tuple[Reader, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        readers = tuple(member for member in vars(cls).values() if hasattr(member, "feature_source"))
        if not readers:
            return
        cls._readers = readers
        cls.names = tuple(reader.__name__ for reader in readers)
        cls.sources = tuple(reader.feature_source for reader in readers)  # type: ignore[attr-defined]
        cls.descriptions = tuple((reader.__doc__ or "").strip().splitlines()[0] if reader.__doc__ else ""
                                 for reader in readers)

    def values(self, now_ns: int) -> tuple[float, ...]:
        """Every declared feature's value at event time ``now_ns``, in declaration order."""
        return tuple([reader(self, now_ns) for reader in self._readers])
