"""Targets of the microstructure model: where the **mid** goes next, read strictly after each row.

Labels use the mid ``(bid + ask) / 2`` of the valid quotes only, never trade prices, so the
bid-ask bounce of trades cannot create a move. Mids are compared in half cents (``round((bid +
ask) * 100)``), so float noise is never a move. All labels are per symbol and per session (New
York date): a label never reads the next day.

- ``next``: 1 if the first mid after the row that differs from the row's mid is higher, 0 if
  lower; NaN when the mid does not move again before the session ends.
- ``1s``, ``10s``, ``60s``: the sign of ``mid(t + h) - mid(t)``, ``mid(t + h)`` the mid of the
  last quote stamped at or before ``t + h`` (later quotes of the same nanosecond included, as
  they come after the row). A flat mid gives NaN (no label: it says nothing about the
  direction and is common at 1 s), and so does a horizon that ends after the session's last
  quote. The model is therefore the probability of up *given that the mid moved*.

The row's own mid is the only non-future value a label reads (its anchor).

>>> ts = np.array([0, 1, 2, 3, 4]) * SECOND_NS
>>> mids = np.array([10.0, 10.0, 10.01, 10.0, 10.0])
>>> day = np.zeros(5, dtype="datetime64[D]")
>>> next_move(mids, day).tolist()
[1.0, 1.0, 0.0, nan, nan]
>>> horizon_move(ts, mids, day, SECOND_NS).tolist()
[nan, 1.0, 0.0, nan, nan]
"""

from __future__ import annotations

import numpy as np

SECOND_NS = 1_000_000_000
#: Label name -> horizon in ns (None: the next mid move, whenever it comes).
HORIZONS: dict[str, int | None] = {"next": None, "1s": SECOND_NS, "10s": 10 * SECOND_NS, "60s": 60 * SECOND_NS}


def half_cents(mids: np.ndarray) -> np.ndarray:
    """Mids as integer half cents (``bid + ask`` in cents)."""
    return np.rint(np.asarray(mids, np.float64) * 200.0).astype(np.int64)


def _sign_label(difference: np.ndarray, valid: np.ndarray) -> np.ndarray:
    label = np.where(difference > 0, 1.0, 0.0)
    return np.where(valid & (difference != 0), label, np.nan)


def next_move(mids: np.ndarray, day: np.ndarray) -> np.ndarray:
    """1 / 0 for the direction of the next change of the mid within the session, else NaN."""
    price = half_cents(mids)
    n = len(price)
    changes = np.flatnonzero(price[1:] != price[:-1]) + 1
    position = np.searchsorted(changes, np.arange(n), side="right")
    has_next = position < len(changes)
    following = changes[np.minimum(position, max(len(changes) - 1, 0))] if len(changes) else np.zeros(n, np.int64)
    valid = has_next & (day[following] == day) if n else has_next
    return _sign_label(price[following] - price if len(changes) else np.zeros(n, np.int64), valid)


def horizon_move(ts_ns: np.ndarray, mids: np.ndarray, day: np.ndarray, horizon_ns: int) -> np.ndarray:
    """1 / 0 for the sign of the mid change over ``horizon_ns``; NaN when flat or past the session."""
    price = half_cents(mids)
    ts_ns = np.asarray(ts_ns, np.int64)
    target = ts_ns + horizon_ns
    end = np.searchsorted(ts_ns, target, side="right") - 1
    last_of_day = _last_ts_of_day(ts_ns, day)
    return _sign_label(price[end] - price, target <= last_of_day)


def _last_ts_of_day(ts_ns: np.ndarray, day: np.ndarray) -> np.ndarray:
    """For each row, the time of the last row of its day (rows sorted by time)."""
    if not len(ts_ns):
        return ts_ns
    boundaries = np.flatnonzero(day[1:] != day[:-1])
    last_index = np.r_[boundaries, len(ts_ns) - 1]
    run = np.searchsorted(boundaries, np.arange(len(ts_ns)), side="left")
    return ts_ns[last_index[run]]


def make_labels(ts_ns: np.ndarray, mids: np.ndarray, day: np.ndarray) -> dict[str, np.ndarray]:
    """Every label of one symbol's rows (sorted by time), by name of ``HORIZONS``."""
    return {name: next_move(mids, day) if horizon is None else horizon_move(ts_ns, mids, day, horizon)
            for name, horizon in HORIZONS.items()}
