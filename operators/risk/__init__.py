"""Portfolio risk in event-time order: the engine, its checks, limits, verdicts, sizing, the
cost policy, execution checks, VaR, input ordering and the kill-switch control topic. Every prediction gets a
decision with a reason; nothing raises.
"""

from operators.risk.costs import check_expected_cost, expected_cost_bps, expected_move_bps
from operators.risk.engine import PortfolioRiskEngine
from operators.risk.limits import RiskLimits
from operators.risk.verdict import Verdict, deny
from operators.risk.sizing import order_room, risk_sized_shares
from operators.risk.execution import DuplicateFilter, OrderThrottle
from operators.risk.var import ReturnModel
from operators.risk.ordering import EventOrderBuffer
from operators.risk.control import decode_control

__all__ = ["DuplicateFilter", "EventOrderBuffer", "OrderThrottle", "PortfolioRiskEngine", "ReturnModel", "RiskLimits",
           "Verdict", "check_expected_cost", "decode_control", "deny", "expected_cost_bps", "expected_move_bps",
           "order_room", "risk_sized_shares"]
