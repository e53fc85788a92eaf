"""Training labels: what the market did after each feature row, per symbol.

A label at row ``t`` is anchored at that row's own ``price`` (the price known when the
features were computed) and otherwise reads only rows of the same symbol strictly after
``t``; the "past" columns (used by the mean-reversion label and by the naive baselines)
read only rows at or before ``t``. Features never enter a label, so a label can never leak
into a model input.

* ``future_return_<h>``: ``log(p_end / p_t)`` where ``p_end`` is the price of the first row
  with ``ts >= t + h`` (``merge_asof`` forward, per symbol). NaN when no such row lies within
  ``h + tolerance_ns`` or when the symbol has a session gap (two consecutive rows more than
  ``max_gap_ns`` apart) between ``t`` and that row.
* ``future_volatility``: realised volatility over ``volatility_ns``: the population standard
  deviation of 1-second log returns on a forward-filled 1 s grid (a second without a row
  has a zero return; a return over a longer gap counts as one second), so its square times
  the window length is the realised variance of the window.
* ``direction`` / ``trend``: 1 if the short / long future return is > 0, 0 if < 0, and NaN
  when it is exactly 0 or missing: a flat price says nothing about the direction and a
  coarse tick size (BAC at $14, 1 cent) makes flat windows common.
* ``mean_reversion``: 1 if the short future return has the opposite sign of the past return
  over the same horizon (``log(p_t / p_past)``, ``p_past`` the last row with
  ``ts <= t - h``), 0 if the same sign, NaN if either is zero or missing.

All horizons are integer nanoseconds. A model drops the rows where its own label is NaN.

>>> frame = pd.DataFrame({"symbol": "IBM", "ts_ns": [0, 1, 2, 3], "price": [100.0, 101.0, 99.0, 99.0]})
>>> make_labels(frame, Horizons(short_ns=1, long_ns=2, volatility_ns=1, tolerance_ns=0, max_gap_ns=5))["direction"].tolist()
[1.0, 0.0, nan, nan]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SECOND_NS = 1_000_000_000
MINUTE_NS = 60 * SECOND_NS

LABEL_COLUMNS = (
    "future_return_short",
    "future_return_long",
    "past_return_short",
    "past_return_long",
    "future_volatility",
    "past_volatility",
    "direction",
    "trend",
    "mean_reversion",
)


@dataclass(frozen=True)
class Horizons:
    """Label horizons in nanoseconds.

    short_ns: direction (meta model) and mean-reversion horizon, default 5 min.
    long_ns: trend horizon, default 15 min.
    volatility_ns: realised-volatility window, default 5 min.
    tolerance_ns: how far past ``t + h`` the first row may lie and still close the window.
    max_gap_ns: two consecutive rows of a symbol further apart than this are a session
        gap (overnight, halt); no label spans one.
    """

    short_ns: int = 5 * MINUTE_NS
    long_ns: int = 15 * MINUTE_NS
    volatility_ns: int = 5 * MINUTE_NS
    tolerance_ns: int = 10 * SECOND_NS
    max_gap_ns: int = 2 * MINUTE_NS

    def __post_init__(self) -> None:
        for name in ("short_ns", "long_ns", "volatility_ns", "max_gap_ns"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Horizons.{name} must be a positive int of nanoseconds, got {value!r}")
        if not isinstance(self.tolerance_ns, int) or self.tolerance_ns < 0:
            raise ValueError(f"Horizons.tolerance_ns must be a non-negative int, got {self.tolerance_ns!r}")

    @property
    def longest_ns(self) -> int:
        """How far after ``t`` any label may read: the minimum safe train/test embargo."""
        return max(self.short_ns, self.long_ns, self.volatility_ns) + self.tolerance_ns


def make_labels(frame: pd.DataFrame, horizons: Horizons = Horizons()) -> pd.DataFrame:
    """Return the ``LABEL_COLUMNS`` for every row of ``frame`` (same index, float64, NaN = no label).

    ``frame`` needs ``symbol``, ``ts_ns`` (int ns) and ``price`` (> 0); other columns are ignored.
    """
    missing = [c for c in ("symbol", "ts_ns", "price") if c not in frame.columns]
    if missing:
        raise ValueError(f"make_labels needs columns symbol, ts_ns and price; missing {missing}")
    symbol_codes, _ = pd.factorize(frame["symbol"], sort=True)
    ts = frame["ts_ns"].to_numpy(dtype=np.int64)
    price = frame["price"].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(price) & (price > 0)):
        bad = int(np.count_nonzero(~(np.isfinite(price) & (price > 0))))
        raise ValueError(f"make_labels needs a finite positive price on every row; {bad} rows have none")

    order = np.lexsort((ts, symbol_codes))  # sorted by symbol, then time
    sym, t, log_price = symbol_codes[order], ts[order], np.log(price[order])
    same_symbol = np.r_[False, sym[1:] == sym[:-1]]
    step = np.r_[0, np.diff(t)]
    if np.any(same_symbol & (step == 0)):
        raise ValueError("make_labels got two rows with the same symbol and ts_ns; deduplicate first (read with FINAL)")
    continues = same_symbol & (step <= horizons.max_gap_ns)
    segment = np.cumsum(~continues)  # one id per uninterrupted run of one symbol
    one_second_return = np.where(continues, np.r_[0.0, np.diff(log_price)], 0.0)
    cumulative_square = np.cumsum(one_second_return**2)

    def match(offset_ns: int, direction: str) -> np.ndarray:
        """Sorted position of the row closing a window ``offset_ns`` from each row, -1 if none."""
        return _asof_positions(sym, t, segment, offset_ns, direction, horizons.tolerance_ns)

    def log_return(start: np.ndarray, end: np.ndarray) -> np.ndarray:
        ok = (start >= 0) & (end >= 0)
        return np.where(ok, log_price[np.maximum(end, 0)] - log_price[np.maximum(start, 0)], np.nan)

    def realised_volatility(start: np.ndarray, end: np.ndarray) -> np.ndarray:
        ok = (start >= 0) & (end >= 0)
        s, e = np.maximum(start, 0), np.maximum(end, 0)
        seconds = np.maximum((t[e] - t[s]) / SECOND_NS, 1.0)
        mean = (log_price[e] - log_price[s]) / seconds
        variance = (cumulative_square[e] - cumulative_square[s]) / seconds - mean**2
        return np.where(ok, np.sqrt(np.maximum(variance, 0.0)), np.nan)

    here = np.arange(len(t))
    future_short = log_return(here, match(horizons.short_ns, "forward"))
    past_short = log_return(match(horizons.short_ns, "backward"), here)
    labels = {
        "future_return_short": future_short,
        "future_return_long": log_return(here, match(horizons.long_ns, "forward")),
        "past_return_short": past_short,
        "past_return_long": log_return(match(horizons.long_ns, "backward"), here),
        "future_volatility": realised_volatility(here, match(horizons.volatility_ns, "forward")),
        "past_volatility": realised_volatility(match(horizons.volatility_ns, "backward"), here),
    }
    labels["direction"] = _up_or_down(future_short)
    labels["trend"] = _up_or_down(labels["future_return_long"])
    opposite = np.sign(future_short) * np.sign(past_short)
    labels["mean_reversion"] = np.where(opposite < 0, 1.0, np.where(opposite > 0, 0.0, np.nan))

    result = np.empty((len(t), len(LABEL_COLUMNS)))
    result[order] = np.column_stack([labels[c] for c in LABEL_COLUMNS])
    return pd.DataFrame(result, index=frame.index, columns=list(LABEL_COLUMNS))


def _up_or_down(log_return: np.ndarray) -> np.ndarray:
    return np.where(log_return > 0, 1.0, np.where(log_return < 0, 0.0, np.nan))


def _asof_positions(
    sym: np.ndarray,
    t: np.ndarray,
    segment: np.ndarray,
    offset_ns: int,
    direction: str,
    tolerance_ns: int,
) -> np.ndarray:
    """For each sorted row, the sorted position of the first row with ``ts >= t + offset``
    (forward) or the last with ``ts <= t - offset`` (backward), within ``tolerance_ns`` and
    in the same segment; -1 where there is none."""
    sign = 1 if direction == "forward" else -1
    rows = pd.DataFrame({"symbol": sym, "target": t + sign * offset_ns, "row": np.arange(len(t))})
    candidates = pd.DataFrame({"symbol": sym, "ts_ns": t, "position": np.arange(len(t))})
    matched = pd.merge_asof(
        rows.sort_values("target", kind="stable"),
        candidates.sort_values("ts_ns", kind="stable"),
        left_on="target",
        right_on="ts_ns",
        by="symbol",
        direction=direction,
        tolerance=tolerance_ns,
        allow_exact_matches=True,
    )
    position = np.full(len(t), -1, dtype=np.int64)
    found = matched["position"].notna().to_numpy()
    position[matched["row"].to_numpy()[found]] = matched["position"].to_numpy()[found].astype(np.int64)
    crosses_gap = (position >= 0) & (segment[np.maximum(position, 0)] != segment)
    position[crosses_gap] = -1
    return position
