"""What enters the flow: the symbol grammar, typed decoding and validation of raw ticks, the
per-symbol event-time guard and the duplicate filter. Each turns a bad message into a ``Reject``
with a reason. The trading session decides which admitted ticks reach the features (not a reject).
"""

from operators.ingest.symbols import normalise_symbol, symbol_problem
from operators.ingest.validation import ValidationLimits, decode_tick
from operators.ingest.clock import EventTimeConfig, EventTimeGuard
from operators.ingest.dedupe import DedupeConfig, Deduplicator
from operators.ingest.session import SessionConfig, TradingSession

__all__ = ["DedupeConfig", "Deduplicator", "EventTimeConfig", "EventTimeGuard", "SessionConfig", "TradingSession",
           "ValidationLimits", "decode_tick", "normalise_symbol", "symbol_problem"]
