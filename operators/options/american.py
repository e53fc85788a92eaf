"""American exercise: a Cox-Ross-Rubinstein tree and de-Americanization.

US equity options are American. A call on a stock that pays nothing before expiry is never
exercised early, so its price is the European one; a put (and a call when the underlying pays a
dividend yield) carries an early-exercise premium that Black-Scholes does not know. Quoting its
Black implied volatility would overstate the volatility of every put. Instead each American
price is *de-Americanized* (Burkovska, Gass, Glau, Mahlstedt, Mair, Wohlmuth):

1. ``sigma_0`` = Black implied volatility of the American price itself (an upper bound);
2. on one CRR tree with ``sigma_k``, price the contract American and European; their difference
   is the early-exercise premium ``e_k``;
3. ``sigma_(k+1)`` = Black implied volatility of ``American price - e_k``;

until ``sigma`` moves by less than 1e-7 (two or three trees: the premium barely depends on
sigma). The European-equivalent price ``American - e`` is then an ordinary Black price, so its
implied volatility, greeks and put-call parity are European. The tree's own discretisation
error cancels in the difference ``American - European`` taken on the same tree. The
underlying pays a continuous dividend yield ``q`` (zero unless configured).
"""

from __future__ import annotations

import numpy as np

from operators.options.black import implied_vol

SIGMA_TOLERANCE = 1e-7
MAX_ROUNDS = 6


def crr_prices(spot: np.ndarray, strike: np.ndarray, years: np.ndarray, rate: np.ndarray, dividend_yield: np.ndarray,
               vol: np.ndarray, is_call: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """American and European prices of each contract on its own ``steps``-step CRR tree.

    >>> american, european = crr_prices(np.array([100.0]), np.array([100.0]), np.array([1.0]),
    ...     np.array([0.05]), np.array([0.0]), np.array([0.2]), np.array([False]), 500)
    >>> round(float(american[0]), 2), round(float(european[0]), 2)
    (6.09, 5.57)
    """
    # nodes run along axis 0 and contracts along axis 1, so every slice below is whole rows
    dt = years / steps
    up = np.exp(vol * np.sqrt(dt))
    p_up = (np.exp((rate - dividend_yield) * dt) - 1 / up) / (up - 1 / up)
    discount = np.exp(-rate * dt)
    weight_up, weight_down = discount * p_up, discount * (1 - p_up)
    theta = np.where(is_call, 1.0, -1.0)
    # payoff at every price the tree visits, S u^m for m = -steps..steps; level i uses every
    # other one of m = -i..i, so no exponential is taken inside the backward loop
    grid = spot * np.exp(np.arange(-steps, steps + 1, dtype=float)[:, None] * np.log(up))
    payoff = np.maximum(theta * (grid - strike), 0.0)
    american = payoff[::2]
    european = american
    for level in range(steps - 1, -1, -1):
        european = weight_up * european[1:] + weight_down * european[:-1]
        continuation = weight_up * american[1:] + weight_down * american[:-1]
        american = np.maximum(continuation, payoff[steps - level: steps + level + 1: 2])
    return american[0], european[0]


def european_equivalent(price: np.ndarray, spot: np.ndarray, strike: np.ndarray, years: np.ndarray,
                        rate: np.ndarray, dividend_yield: np.ndarray, is_call: np.ndarray,
                        steps: int) -> np.ndarray:
    """The European price equivalent to each American ``price`` (NaN where none exists).

    Calls with no dividend yield are returned unchanged (no early exercise). NaN where the
    Black implied volatility of the American price does not exist, where the price has no value
    above immediate exercise, and where the tree exercises at once at the volatility found (the
    price is all exercise value: no volatility explains it).
    """
    result = price.astype(float).copy()
    early = ~is_call | (dividend_yield > 0)
    if not early.any():
        return result
    index = np.flatnonzero(early)
    p, s, k, t, r, q, c = (a[index] for a in (price, spot, strike, years, rate, dividend_yield, is_call))
    forward, discount = s * np.exp((r - q) * t), np.exp(-r * t)
    vol, _ = implied_vol(p, forward, k, t, discount, c)
    equivalent = np.full(p.shape, np.nan)
    exercise_value = np.maximum(np.where(c, s - k, k - s), 0.0)
    todo = np.flatnonzero(np.isfinite(vol) & (p > exercise_value * (1 + 1e-12)))
    for _ in range(MAX_ROUNDS):
        if not todo.size:
            break
        american, european = crr_prices(s[todo], k[todo], t[todo], r[todo], q[todo], vol[todo], c[todo], steps)
        intrinsic = np.maximum(np.where(c[todo], s[todo] - k[todo], k[todo] - s[todo]), 0.0)
        exercised = american <= intrinsic * (1 + 1e-12)
        equivalent[todo] = np.where(exercised, np.nan, p[todo] - (american - european))
        new_vol, _ = implied_vol(equivalent[todo], forward[todo], k[todo], t[todo], discount[todo], c[todo])
        moved = ~(np.abs(new_vol - vol[todo]) < SIGMA_TOLERANCE)
        vol[todo] = new_vol
        todo = todo[moved & np.isfinite(new_vol)]
    result[index] = equivalent
    return result
