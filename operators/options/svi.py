"""Gatheral's raw SVI smile, its least-squares fit and its butterfly-arbitrage check.

Total implied variance ``w(k) = sigma_imp(k)^2 T`` of log-moneyness ``k = ln(K / F)`` is fitted
per expiry with the five-parameter raw SVI::

    w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)),   b >= 0, |rho| < 1, sigma > 0

by least squares on total variance, quasi-explicitly (Zeliade, 2009): for fixed ``m`` and
``sigma`` the best ``a``, ``b rho`` and ``b`` solve a linear least-squares problem, so only the
two nonlinear parameters are searched (scipy's bounded least squares on ``m`` in [-2, 2] and
``ln sigma`` in [-9, 1.6]), started from the
previous minute's ``m`` and ``sigma`` when there are some. A smile is free of butterfly arbitrage when
the risk-neutral density it implies is non-negative, i.e. when (Gatheral and Jacquier, 2014)::

    g(k) = (1 - k w'/(2w))^2 - (w'^2 / 4)(1/w + 1/4) + w''/2 >= 0

which is checked on a grid spanning the quoted strikes; ``min_g < 0`` flags arbitrage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

MIN_POINTS = 5
MAX_EVALUATIONS = 100


@dataclass(frozen=True)
class SviFit:
    """Raw SVI parameters, the fit's RMSE in implied volatility and the butterfly check."""

    params: tuple[float, float, float, float, float]  # a, b, rho, m, sigma
    rmse_vol: float
    min_g: float

    @property
    def butterfly_arbitrage(self) -> bool:
        return self.min_g < 0


def total_variance(params: np.ndarray | tuple, k: np.ndarray) -> np.ndarray:
    a, b, rho, m, sigma = params
    return a + b * (rho * (k - m) + np.sqrt((k - m) ** 2 + sigma**2))


def butterfly_g(params: np.ndarray | tuple, k: np.ndarray) -> np.ndarray:
    """Gatheral's ``g(k)``: the risk-neutral density up to a positive factor (>= 0 when arbitrage-free;
    ``-inf`` where the total variance itself is not positive).

    >>> bool(butterfly_g((0.04, 0.1, -0.3, 0.0, 0.2), np.linspace(-1, 1, 5)).min() > 0)
    True
    """
    a, b, rho, m, sigma = params
    root = np.sqrt((k - m) ** 2 + sigma**2)
    w = total_variance(params, k)
    slope = b * (rho + (k - m) / root)
    curvature = b * sigma**2 / root**3
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (1 - k * slope / (2 * w)) ** 2 - slope**2 / 4 * (1 / w + 0.25) + curvature / 2
    return np.where(w > 0, g, -np.inf)  # a negative total variance is an arbitrage too


def fit_svi(k: np.ndarray, vol: np.ndarray, years: float, start: tuple | None = None) -> SviFit | None:
    """The raw SVI fit of one expiry's smile, or None with fewer than :data:`MIN_POINTS` points.

    >>> k = np.linspace(-0.3, 0.3, 9)
    >>> fit = fit_svi(k, np.sqrt(total_variance((0.01, 0.05, -0.4, 0.02, 0.1), k) / 0.25), 0.25)
    >>> round(fit.rmse_vol, 6), fit.butterfly_arbitrage  # 0.0002 vol points off the exact smile
    (2e-06, False)
    """
    if k.size < MIN_POINTS:
        return None
    w = vol**2 * years
    m0, sigma0 = (start[3], start[4]) if start is not None else (0.0, 0.1)
    outer = least_squares(lambda x: _inner(x, k, w)[1], np.clip([m0, np.log(sigma0)], [-2.0, -9.0], [2.0, 1.6]),
                          bounds=([-2.0, -9.0], [2.0, 1.6]), max_nfev=MAX_EVALUATIONS, xtol=1e-6, ftol=1e-8)
    params, _ = _inner(outer.x, k, w)
    fitted = np.sqrt(np.maximum(total_variance(params, k), 0.0) / years)
    grid = np.linspace(k.min(), k.max(), 101)
    return SviFit(params, float(np.sqrt(np.mean((fitted - vol) ** 2))), float(butterfly_g(params, grid).min()))


def _inner(x: np.ndarray, k: np.ndarray, w: np.ndarray) -> tuple[tuple[float, float, float, float, float], np.ndarray]:
    """Best ``a``, ``b``, ``rho`` for fixed ``m`` and ``sigma = exp(x[1])`` (linear least squares), and the residuals.

    With ``c = b rho`` and ``d = b``, ``w = a + c (k - m) + d sqrt((k - m)^2 + sigma^2)`` is linear;
    ``d >= 0`` and ``|c| <= 0.999 d`` are enforced by clipping, then ``a`` is refitted.
    """
    m, sigma = float(x[0]), float(np.exp(x[1]))
    shifted = k - m
    root = np.sqrt(shifted**2 + sigma**2)
    design = np.column_stack([np.ones_like(k), shifted, root])
    try:
        a, c, d = np.linalg.solve(design.T @ design, design.T @ w)
    except np.linalg.LinAlgError:  # columns dependent (every strike on one side of m, sigma ~ 0)
        (a, c, d), *_ = np.linalg.lstsq(design, w, rcond=None)
    d = max(float(d), 0.0)
    c = float(np.clip(c, -0.999 * d, 0.999 * d))
    a = float(np.mean(w - c * shifted - d * root))
    residual = a + c * shifted + d * root - w
    return (float(a), d, c / d if d > 0 else 0.0, m, sigma), residual
