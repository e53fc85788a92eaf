"""Step outputs as plain values that compare equal exactly when the outputs are equal, NaN included."""

from __future__ import annotations

import math
from collections.abc import Iterable

import msgspec


def without_nan(value: object) -> object:
    """``value`` with every NaN replaced by None (inside tuples, lists and dicts too): NaN != NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple)):
        return tuple(without_nan(part) for part in value)
    if isinstance(value, dict):
        return {key: without_nan(part) for key, part in value.items()}
    return value


def comparable(items: Iterable[object]) -> list[object]:
    """Outputs (msgspec structs) as (type name, fields) with NaN replaced by None, so equal outputs compare equal."""
    return [(type(item).__name__, without_nan(msgspec.structs.asdict(item))) for item in items]  # type: ignore[arg-type]
