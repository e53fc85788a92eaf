"""Paper trading: the book that fills accepted signals at the next quote, the per-symbol trader,
and performance statistics (drawdown, equity statistics, calibration).
"""

from operators.paper.book import PaperBook, PendingOrder
from operators.paper.trader import PaperTrader, PaperTradingConfig
from operators.paper.performance import calibration_table, equity_statistics, max_drawdown

__all__ = ["PaperBook", "PaperTrader", "PaperTradingConfig", "PendingOrder", "calibration_table", "equity_statistics", "max_drawdown"]
