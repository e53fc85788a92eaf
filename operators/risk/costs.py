"""The cost-aware signal policy: an order's expected move against its expected cost, in bps.

**Expected move.** The model gives ``p_up``, the probability that the mid-price log return r over
its horizon is positive, and ``volatility``, a forecast sigma of r's standard deviation. Take
r symmetric in size: |r| has the same distribution whether the move is up or down, and the
sign is up with probability ``p_up``. Then

    E[r] = p_up E|r| - (1 - p_up) E|r| = (2 p_up - 1) E|r|,   E|r| = sigma sqrt(2 / pi)

(the mean absolute value of a normal with standard deviation sigma and mean ~0, which a
horizon of minutes has). Both must describe the same horizon: the model manifest's direction
and volatility horizons (``short_ns`` and ``volatility_ns``, 5 minutes each in the shipped model). An order in direction d (+1 buy, -1 sell) expects to earn
d (2 p_up - 1) sigma sqrt(2/pi) x 1e4 bps; a prediction pointing against its own p_up expects a
loss.

**Expected cost** of the order itself (one way; closing the position later is another order
that is judged on its own):

- half the quoted spread in bps of the mid, from the symbol's latest quote as the risk engine
  sees it (``MarketContext``); a symbol without a quote pays ``trade_half_spread_bps``, as the
  paper book charges it;
- ``fee_bps`` of the notional (the paper book's fee, ``TICKWISE_PAPER_FEE_BPS``);
- market impact by the square-root law (Almgren, Thum, Hauptmann & Li 2005; Toth et al. 2011):
  impact = Y sigma_daily sqrt(Q / V_daily). The symbol's daily volatility and volume are
  folded into one constant, ``impact_bps``, the impact a $1,000,000 order pays:
  impact(N) = ``impact_bps`` x sqrt(N / $1M). The default 2 bps is Y = 1 with a 1% daily
  volatility and $250M of daily volume (IBM and BAC in 2013 traded $0.5-2B a day, SPY $20B,
  so it errs on the dear side for them): a $250,000 order pays 1 bp, a $10,000 order 0.2 bp.

The policy accepts an order only when the expected move is at least ``cost_multiple`` times
the expected cost (``cost_multiple`` 0 turns it off).

>>> round(expected_move_bps(p_up=0.6, volatility=0.002, direction=1), 3)
3.192
>>> impact_bps(2.0, 250_000.0), impact_bps(0.0, 250_000.0)
(1.0, 0.0)
"""

from __future__ import annotations

import math

from operators.messages import MarketContext
from operators.risk.limits import RiskLimits
from operators.risk.verdict import PASS, Verdict, deny

__all__ = ["check_expected_cost", "expected_cost_bps", "expected_move_bps", "half_spread_bps", "impact_bps"]

_MEAN_ABS_NORMAL = math.sqrt(2.0 / math.pi)
_MILLION = 1_000_000.0


def expected_move_bps(p_up: float, volatility: float, direction: int) -> float:
    """d (2 p_up - 1) sigma sqrt(2/pi), in basis points."""
    return direction * (2.0 * p_up - 1.0) * volatility * _MEAN_ABS_NORMAL * 1e4


def impact_bps(impact_bps_per_million: float, notional: float) -> float:
    """Square-root impact of an order of ``notional`` dollars."""
    return impact_bps_per_million * math.sqrt(max(notional, 0.0) / _MILLION)


def half_spread_bps(limits: RiskLimits, context: MarketContext | None) -> float:
    """Half the latest quoted spread in bps of its mid, else the limits' half-spread for trades."""
    if context is not None and 0.0 < context.mid < math.inf and 0.0 <= context.spread < math.inf:
        return 0.5 * context.spread / context.mid * 1e4
    return limits.trade_half_spread_bps


def expected_cost_bps(limits: RiskLimits, context: MarketContext | None, notional: float
                      ) -> tuple[float, float, float]:
    """(half spread, fee, impact) of one order, in bps of its notional."""
    return half_spread_bps(limits, context), limits.fee_bps, impact_bps(limits.impact_bps, notional)


def check_expected_cost(limits: RiskLimits, p_up: float, volatility: float, direction: int,
                        context: MarketContext | None, notional: float) -> Verdict:
    """Accept only when the expected move covers ``cost_multiple`` x the expected cost."""
    if limits.cost_multiple == 0.0:
        return PASS
    move = expected_move_bps(p_up, volatility, direction)
    spread, fee, impact = expected_cost_bps(limits, context, notional)
    cost = spread + fee + impact
    if move >= limits.cost_multiple * cost:
        return PASS
    return deny("model", "below_expected_cost",
                f"expected move {move:.2f} bps < {limits.cost_multiple:g} x expected cost {cost:.2f} bps "
                f"(half spread {spread:.2f} + fee {fee:.2f} + impact {impact:.2f})")
