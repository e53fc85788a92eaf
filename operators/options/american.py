"""American exercise: a Cox-Ross-Rubinstein tree and de-Americanization.

US equity options are American. A call on a stock that pays nothing before expiry is never
exercised early, so its price is the European one; a put (and a call when the underlying pays a
dividend yield) carries an early-exercise premium that Black-Scholes does not know. Quoting its
Black implied volatility would overstate the volatility of every put. Instead each American
price is *de-Americanized* (Burkovska, Gass, Glau, Mahlstedt, Mair, Wohlmuth):

1. ``sigma_0`` = Black implied volatility of the American price itself (an upper bound);
2. on one CRR tree with ``sigma_k``, price the contract American and European; their difference
   is the early-exercise premium ``e_k``;
3. ``sigma_(k+1)`` = Black implied volatility of ``American price - e_k`` (from the third tree on,
   a secant step on ``sigma - IV(P - e(sigma))``, which converges faster where the premium is
   large);

until ``sigma`` moves by less than 1e-7 (two to four trees: the premium barely depends on sigma). The European-equivalent price ``American - e`` is then an ordinary Black price, so its
implied volatility, greeks and put-call parity are European. The tree's own discretisation
error cancels in the difference ``American - European`` taken on the same tree. The
underlying pays a continuous dividend yield ``q`` (zero unless configured).
"""

from __future__ import annotations

import numpy as np

from operators.options.black import implied_vol

SIGMA_TOLERANCE = 1e-7
MAX_ROUNDS = 8
EXERCISED, NOT_CONVERGED = 1, 2


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
                        steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The European price equivalent to each American ``price``, and a status per contract.

    Calls with no dividend yield are returned unchanged (no early exercise). Status
    :data:`EXERCISED` (price NaN): the Black implied volatility of the American price does not
    exist, the price has no value above immediate exercise, or the tree exercises at once at the
    volatility found (the price is all exercise value: no volatility explains it).
    :data:`NOT_CONVERGED` (price NaN): sigma still moved after :data:`MAX_ROUNDS` trees.
    """
    result = price.astype(float).copy()
    status = np.zeros(price.shape, dtype=np.int8)
    early = np.flatnonzero(~is_call | (dividend_yield > 0))
    if not early.size:
        return result, status
    p, s, k, t, r, q, c = (a[early] for a in (price, spot, strike, years, rate, dividend_yield, is_call))
    forward, discount = s * np.exp((r - q) * t), np.exp(-r * t)
    vol, _ = implied_vol(p, forward, k, t, discount, c)
    equivalent, codes = np.full(p.shape, np.nan), np.full(p.shape, EXERCISED, dtype=np.int8)
    exercise_value = np.maximum(np.where(c, s - k, k - s), 0.0)
    todo = np.flatnonzero(np.isfinite(vol) & (p > exercise_value * (1 + 1e-12)))
    previous_vol, previous_residual = np.full(p.shape, np.nan), np.full(p.shape, np.nan)
    for _ in range(MAX_ROUNDS):
        if not todo.size:
            break
        american, european = crr_prices(s[todo], k[todo], t[todo], r[todo], q[todo], vol[todo], c[todo], steps)
        exercised = american <= exercise_value[todo] * (1 + 1e-12)
        equivalent[todo] = np.where(exercised, np.nan, p[todo] - (american - european))
        implied, _ = implied_vol(equivalent[todo], forward[todo], k[todo], t[todo], discount[todo], c[todo])
        residual = implied - vol[todo]
        done = np.abs(residual) < SIGMA_TOLERANCE
        failed = ~np.isfinite(implied)
        codes[todo[done]] = 0
        # sigma = IV(P - premium(sigma)) by secant steps once two points exist, else a plain iteration
        secant = vol[todo] - residual * (vol[todo] - previous_vol[todo]) / (residual - previous_residual[todo])
        following = np.where(np.isfinite(secant) & (secant > 0), secant, implied)
        previous_vol[todo], previous_residual[todo] = vol[todo], residual
        vol[todo] = np.where(done, vol[todo], following)
        todo = todo[~done & ~failed]
    codes[todo] = NOT_CONVERGED
    equivalent[codes != 0] = np.nan
    result[early], status[early] = equivalent, codes
    return result, status
