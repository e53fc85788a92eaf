"""Validation shared by the oscillators that take one of TA-Lib's moving-average types.

>>> require_moving_average_type("slowk_matype", 9)
Traceback (most recent call last):
...
ValueError: slowk_matype must be a TA-Lib moving-average type 0..8, got 9
"""

from __future__ import annotations

from operators.ta.indicators.overlap import MOVING_AVERAGE_TYPES


def require_moving_average_type(name: str, matype: object) -> None:
    """Raise ``ValueError`` naming ``name`` and the bad value unless it is a TA-Lib MA code."""
    if isinstance(matype, bool) or not isinstance(matype, int) or matype not in MOVING_AVERAGE_TYPES:
        raise ValueError(f"{name} must be a TA-Lib moving-average type 0..8, got {matype!r}")
