"""Level 2: order books rebuilt from venue snapshots and depth deltas, their check against the
venue's own best quotes, and incremental depth features."""

from operators.book.book import BookConfig, OrderBook, level_problem

__all__ = ["BookConfig", "OrderBook", "level_problem"]
