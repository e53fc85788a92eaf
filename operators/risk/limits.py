"""The limits and settings of the portfolio risk engine, validated on construction.

Every limit must be a finite number inside its bounds (``lo <= x <= hi``), so NaN and inf
are refused with a message naming the field.

>>> RiskLimits(max_gross_exposure=float("nan"))
Traceback (most recent call last):
...
ValueError: RiskLimits.max_gross_exposure must be a finite number in (0, inf), got nan
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from operators.messages import TradingState

__all__ = ["RiskLimits"]

SECOND_NS = 1_000_000_000
_STATES = ("ACTIVE", "REDUCING", "HALTED")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Limits of the four risk levels plus sizing and ordering settings.

    Sizing: dollar risk = equity x ``risk_per_trade`` x edge x (1 - portfolio risk score),
    where edge = 2 x confidence - 1 = |2 p_up - 1|; shares = dollar risk / (price x
    max(volatility, ``volatility_floor``)), then cut to every quantity, notional, position and
    exposure limit. The portfolio risk score is min(1, current VaR / ``max_var``).

    ``min_confidence`` is on the scale of ``Prediction.confidence``, the probability of the
    predicted class, max(p_up, 1 - p_up) in [0.5, 1]. The default 0.525 is an edge
    |2 p_up - 1| of 0.05: it drops coin flips (a model within 2.5 points of 50/50) and leaves
    whether a signal is worth trading to the cost policy (``operators.risk.costs``), which
    weighs the edge against the spread, fee and impact of the order.

    Cost policy (``operators.risk.costs``): an order is accepted only when its expected move
    is at least ``cost_multiple`` x (half spread + ``fee_bps`` + impact), with impact
    ``impact_bps`` x sqrt(notional / $1M); ``cost_multiple`` 0 turns the policy off.
    """

    # sizing
    account_equity: float = 1_000_000.0
    risk_per_trade: float = 0.02
    volatility_floor: float = 1e-4
    # model risk
    known_model_versions: frozenset[str] = frozenset()  # empty: any version is known
    unhealthy_model_versions: frozenset[str] = frozenset()  # open model_review / retrain events
    min_confidence: float = 0.525
    max_prediction_age_ns: int = 5 * SECOND_NS
    # instrument risk
    universe: tuple[str, ...] = ("AIG", "BAC", "IBM", "SPY")
    restricted_symbols: frozenset[str] = frozenset()
    max_data_age_ns: int = 120 * SECOND_NS
    price_collar_bps: float = 100.0
    max_order_quantity: float = 5_000.0
    max_order_notional: float = 250_000.0
    max_position_shares: float = 10_000.0
    max_position_notional: float = 1_000_000.0
    # portfolio risk
    max_gross_exposure: float = 2_500_000.0
    max_net_exposure: float = 1_500_000.0
    max_var: float = 10_000.0
    var_confidence: float = 0.99
    var_interval_ns: int = 60 * SECOND_NS
    ewma_lambda: float = 0.94
    var_window: int = 250
    var_min_observations: int = 20
    var_prior_volatility: float = 0.002
    reduce_drawdown: float = 0.02
    halt_drawdown: float = 0.04
    # the drawdown's cost model (the paper book's): each accepted order is booked at the
    # quote it crosses (mid +/- half the spread; without a quote the last trade +/- this
    # half-spread) and pays ``fee_bps`` of its notional
    fee_bps: float = 0.5
    trade_half_spread_bps: float = 1.0
    # the cost policy: impact in bps of a $1M order (square-root law) and the multiple of the
    # expected cost an order's expected move must reach
    impact_bps: float = 2.0
    cost_multiple: float = 1.0
    # execution risk
    max_orders_per_window: int = 10
    throttle_window_ns: int = 60 * SECOND_NS
    duplicate_window_ns: int = 5 * SECOND_NS
    duplicate_memory: int = 4096
    # state
    trading_state: TradingState = "ACTIVE"

    def __post_init__(self) -> None:
        positive = ("account_equity", "volatility_floor", "price_collar_bps", "max_order_quantity",
                    "max_order_notional", "max_position_shares", "max_position_notional", "max_gross_exposure",
                    "max_net_exposure", "max_var", "var_prior_volatility")
        for name in positive:
            _check_float(name, getattr(self, name), 0.0, math.inf, open_low=True)
        for name in ("risk_per_trade", "reduce_drawdown", "halt_drawdown"):
            _check_float(name, getattr(self, name), 0.0, 1.0, open_low=True)
        _check_float("min_confidence", self.min_confidence, 0.5, 1.0)
        _check_float("cost_multiple", self.cost_multiple, 0.0, 100.0)
        for name in ("fee_bps", "trade_half_spread_bps", "impact_bps"):
            _check_float(name, getattr(self, name), 0.0, 10_000.0)
        _check_float("var_confidence", self.var_confidence, 0.5, 0.9999)
        _check_float("ewma_lambda", self.ewma_lambda, 0.0, 0.9999, open_low=True)
        for name in ("max_prediction_age_ns", "max_data_age_ns", "var_interval_ns", "throttle_window_ns",
                     "duplicate_window_ns"):
            _check_int(name, getattr(self, name), 1)
        for name in ("var_window", "var_min_observations", "max_orders_per_window", "duplicate_memory"):
            _check_int(name, getattr(self, name), 1)
        if self.var_min_observations > self.var_window:
            raise ValueError(f"RiskLimits.var_min_observations ({self.var_min_observations}) must be <= "
                             f"var_window ({self.var_window})")
        if self.halt_drawdown < self.reduce_drawdown:
            raise ValueError(f"RiskLimits.halt_drawdown ({self.halt_drawdown}) must be >= reduce_drawdown "
                             f"({self.reduce_drawdown})")
        if self.trading_state not in _STATES:
            raise ValueError(f"RiskLimits.trading_state must be one of {_STATES}, got {self.trading_state!r}")
        if not self.universe or len(set(self.universe)) != len(self.universe):
            raise ValueError(f"RiskLimits.universe must name distinct symbols, got {self.universe!r}")
        for name in ("known_model_versions", "unhealthy_model_versions", "restricted_symbols"):
            if not isinstance(getattr(self, name), frozenset):
                raise ValueError(f"RiskLimits.{name} must be a frozenset, got {type(getattr(self, name)).__name__}")


def _check_float(name: str, value: object, low: float, high: float, *, open_low: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low < value if open_low else low <= value) and value <= high  # type: ignore[operator]
    if not ok:
        bracket = "(" if open_low else "["
        raise ValueError(f"RiskLimits.{name} must be a finite number in {bracket}{low:g}, {high:g}"
                         f"{')' if high == math.inf else ']'}, got {value!r}")


def _check_int(name: str, value: object, minimum: int) -> None:
    if type(value) is not int or value < minimum:
        raise ValueError(f"RiskLimits.{name} must be an int >= {minimum}, got {value!r}")
