"""The contract every incremental indicator shares.

An indicator is fed one bar value at a time through ``update(...)`` (the arguments depend on
the indicator: a close, or high/low/close), costs O(1) per update, and exposes:

- ``value``: the current output, NaN until ``ready``;
- ``ready``: True once the warm-up is over (exactly where TA-Lib starts giving numbers);
- ``reset()``: forget everything learned, keep the settings.

Settings are stored unchanged in ``__init__`` and validated there; learned state is created
in one ``_reset()``.

>>> from operators.ta.indicators.catalogue import indicator_class
>>> isinstance(indicator_class("EMA")(timeperiod=3), Indicator)
True
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Indicator(Protocol):
    """What the feature step relies on; ``update`` differs per indicator."""

    @property
    def value(self) -> float: ...

    @property
    def ready(self) -> bool: ...

    def reset(self) -> None: ...


def require_period(name: str, period: object, minimum: int = 1) -> None:
    """Raise ``ValueError`` naming ``name`` and the bad value unless ``period`` is an int >= minimum."""
    if isinstance(period, bool) or not isinstance(period, int) or period < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {period!r}")


def is_zero(value: float) -> bool:
    """TA-Lib's ``TA_IS_ZERO``: ``|value| < 1e-14``, used where TA-Lib guards a division."""
    return -1e-14 < value < 1e-14
