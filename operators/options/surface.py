"""Per-expiry smile figures and the underlying's option features, from a priced chain.

For each expiry of :class:`~operators.options.chain.ChainAnalytics` (contracts with an implied
volatility only), using the out-of-the-money side of the smile (puts below the forward, calls
at or above it) against log-moneyness ``k = ln(K / F)``:

* ``atm_iv``: implied volatility at ``k = 0``, linear between the two nearest strikes;
* ``rr25`` = IV(25-delta call) - IV(25-delta put) and ``bf25`` = their mean - ``atm_iv``, the
  25-delta points interpolated linearly in Black-Scholes delta;
* an SVI fit (:mod:`operators.options.svi`) with its RMSE in volatility and ``min_g``;
* call and put volume (contracts traded today) and open interest.

Features of the underlying (:func:`chain_features`, from a chain priced with every contract read as
European: ``OptionChain.analytics(ts_ns, american=False)``, cheap enough for the signal path, the
same numbers wherever they are stored or joined): the front expiry's (the first at least ``min_front_days`` out)
``atm_iv``, ``rr25`` and ``bf25``; ``term_slope``, the change of ``atm_iv`` per year from the
front expiry to the next; put/call ratios of volume and of open interest; ``gamma_exposure``,
the dollar change of dealers' delta for a 1% move if they are long the calls and short the puts
held by the public: sum(gamma * OI * multiplier * S^2 * 0.01 * (+1 call, -1 put)).

:class:`VolSurface` (the per-expiry rows, with the de-Americanized chain) keeps only the last SVI
parameters per live expiry (warm starts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from operators.options.chain import ChainAnalytics
from operators.options.svi import fit_svi

FEATURES = ("atm_iv", "rr25", "bf25", "term_slope", "put_call_volume_ratio", "put_call_oi_ratio", "gamma_exposure")


@dataclass(frozen=True)
class ExpirySurface:
    """One expiry's smile at ``ts_ns`` (NaN where the chain cannot tell)."""

    underlying: str
    ts_ns: int
    expiry: dt.date
    years: float
    forward: float
    points: int
    atm_iv: float
    rr25: float
    bf25: float
    svi: tuple[float, float, float, float, float] | None
    svi_rmse_vol: float
    svi_min_g: float
    call_volume: float
    put_volume: float
    call_open_interest: float
    put_open_interest: float


class VolSurface:
    """Smile per expiry, each minute; warm-starts SVI from the last fit."""

    def __init__(self) -> None:
        self.last_svi: dict[dt.date, tuple] = {}

    def update(self, chain: ChainAnalytics) -> list[ExpirySurface]:
        """The chain's expiries, nearest first, each with its SVI fit."""
        rows = _expiry_rows(chain, self.last_svi)
        self.last_svi = {row.expiry: row.svi for row in rows if row.svi is not None}
        return rows


def chain_features(chain: ChainAnalytics, min_front_days: float = 7.0) -> dict[str, float]:
    """The underlying's ``FEATURES`` from its priced chain (no SVI fit: only the smiles' points)."""
    rows = _expiry_rows(chain, None)
    columns = chain.columns
    live = [row for row in rows if row.years * 365 >= min_front_days and np.isfinite(row.atm_iv)]
    front = live[0] if live else None
    slope = ((live[1].atm_iv - live[0].atm_iv) / (live[1].years - live[0].years)) if len(live) > 1 else np.nan
    sign = np.where(columns["is_call"], 1.0, -1.0)
    multiplier = np.array([c.multiplier for c in chain.contracts], dtype=float)
    exposure = columns["gamma"] * columns["open_interest"] * multiplier * chain.spot**2 * 0.01 * sign
    known = np.isfinite(exposure)
    return {
        "atm_iv": front.atm_iv if front else np.nan,
        "rr25": front.rr25 if front else np.nan,
        "bf25": front.bf25 if front else np.nan,
        "term_slope": float(slope),
        "put_call_volume_ratio": _ratio([r.put_volume for r in rows], [r.call_volume for r in rows]),
        "put_call_oi_ratio": _ratio([r.put_open_interest for r in rows], [r.call_open_interest for r in rows]),
        "gamma_exposure": float(exposure[known].sum()) if known.any() else np.nan,
    }


def _expiry_rows(chain: ChainAnalytics, svi_starts: dict[dt.date, tuple] | None) -> list[ExpirySurface]:
    """One row per expiry, nearest first; fitted (warm-started from ``svi_starts``) unless that is None."""
    expiries = np.array([c.expiry for c in chain.contracts])
    return [_expiry(chain, expiry, expiries == expiry, svi_starts) for expiry in sorted(set(expiries.tolist()))]


def _expiry(chain: ChainAnalytics, expiry: dt.date, mask: np.ndarray,
            svi_starts: dict[dt.date, tuple] | None) -> ExpirySurface:
    c = {name: values[mask] for name, values in chain.columns.items()}
    years = float(c["years"][0])
    forward = chain.spot * float(np.exp(c["rate"][0] * years))
    k = np.log(c["strike"] / forward)
    out_of_money = np.isfinite(c["iv"]) & np.where(c["is_call"], k >= 0, k < 0)
    order = np.argsort(k[out_of_money])
    smile_k, smile_iv = k[out_of_money][order], c["iv"][out_of_money][order]
    atm = _interpolate(0.0, smile_k, smile_iv)
    call_25 = _at_delta(0.25, c, out_of_money & c["is_call"])
    put_25 = _at_delta(-0.25, c, out_of_money & ~c["is_call"])
    fit = fit_svi(smile_k, smile_iv, years, svi_starts.get(expiry)) if svi_starts is not None and years > 0 else None
    calls, puts = c["is_call"], ~c["is_call"]
    return ExpirySurface(
        chain.underlying, chain.ts_ns, expiry, years, forward, int(smile_k.size), atm, call_25 - put_25,
        (call_25 + put_25) / 2 - atm, fit.params if fit else None, fit.rmse_vol if fit else np.nan,
        fit.min_g if fit else np.nan, float(c["volume"][calls].sum()), float(c["volume"][puts].sum()),
        _total(c["open_interest"][calls]), _total(c["open_interest"][puts]))


def _interpolate(at: float, x: np.ndarray, y: np.ndarray) -> float:
    """``y`` at ``at`` linearly between the neighbouring points; NaN outside their range."""
    if x.size < 2 or not x[0] <= at <= x[-1]:
        return np.nan
    return float(np.interp(at, x, y))


def _at_delta(delta: float, columns: dict, mask: np.ndarray) -> float:
    deltas, vols = columns["delta"][mask], columns["iv"][mask]
    order = np.argsort(deltas)
    return _interpolate(delta, deltas[order], vols[order])


def _total(values: np.ndarray) -> float:
    known = values[np.isfinite(values)]
    return float(known.sum()) if known.size else np.nan


def _ratio(numerators: list[float], denominators: list[float]) -> float:
    """Sum of the known numerators over the sum of the known denominators; NaN when that is 0 or unknown."""
    top, bottom = float(np.nansum(numerators)), float(np.nansum(denominators))
    return top / bottom if bottom > 0 else np.nan
