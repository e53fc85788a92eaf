"""Position sizing and the largest order each limit allows.

``order_room`` returns, for one order direction at one price, the most shares each limit
allows (``math.inf`` where a limit does not bind). An order that brings |position|,
gross or |net| exposure down is always allowed, even while a limit is already exceeded
(prices moved); an order that raises them may only go up to the cap.

>>> room = order_room(position=100.0, direction=1, price=10.0, gross=1_000.0, net=1_000.0,
...                   max_shares=300.0, max_notional=2_500.0, max_gross=1_500.0, max_net=5_000.0)
>>> room
{'max_position': 150.0, 'gross_exposure': 50.0, 'net_exposure': 400.0}
"""

from __future__ import annotations

import math

__all__ = ["order_room", "risk_sized_shares"]


def risk_sized_shares(equity: float, risk_per_trade: float, edge: float, risk_score: float, price: float,
                      volatility: float, volatility_floor: float) -> float:
    """Risk-based size: equity x risk per trade x edge x (1 - risk score) / (price x vol), where
    edge = |2 p_up - 1| in [0, 1] (a coin flip risks nothing)."""
    dollar_risk = equity * risk_per_trade * max(edge, 0.0) * (1.0 - min(max(risk_score, 0.0), 1.0))
    per_share = price * max(volatility, volatility_floor)
    return dollar_risk / per_share if per_share > 0.0 else math.inf


def order_room(*, position: float, direction: int, price: float, gross: float, net: float, max_shares: float,
               max_notional: float, max_gross: float, max_net: float) -> dict[str, float]:
    """Most shares allowed by position, gross and net limits for an order of ``direction``."""
    along = direction * position  # > 0: the order adds to the position; < 0: it reduces it first
    held = abs(position)
    limit = min(max_shares, max_notional / price)
    position_room = limit - along if along >= 0.0 else held + max(held, limit)
    if along >= 0.0:
        gross_room = (max_gross - gross) / price
    else:
        gross_room = held + max(0.0, held + (max_gross - gross) / price)
    net_along = direction * net
    held_net = abs(net)
    if net_along >= 0.0:
        net_room = (max_net - held_net) / price
    else:
        net_room = (held_net + max(max_net, held_net)) / price
    return {"max_position": max(0.0, position_room), "gross_exposure": max(0.0, gross_room),
            "net_exposure": max(0.0, net_room)}
