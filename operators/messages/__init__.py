"""Message types that flow between the steps of every tickwise dataflow, and their ids.

Everything that moves between steps is a small frozen ``msgspec.Struct``, so it pickles
compactly for Bytewax recovery and encodes fast for the sinks. The types live by kind —
``ticks`` (market input, source positions, rejects), ``signals`` (features, drift,
predictions, decisions, outcomes), ``paper`` (fills and marked books) — and ``ids`` makes
the deterministic record ids; import them all from here: ``from operators.messages import Trade``.

The structs keep ``operators.messages`` as their module, the name they have always been
pickled under, so recovery snapshots name the same classes whichever module defines them:

>>> Trade.__module__, Trade.__qualname__
('operators.messages', 'Trade')
"""

from __future__ import annotations

from operators.messages.ids import stable_id, stable_uint64
from operators.messages.paper import Fill, PnlRow, PnlSnapshot
from operators.messages.signals import (
    BarReturn,
    ControlCommand,
    CrossAssetRow,
    Decision,
    Direction,
    DriftEvent,
    FeatureRow,
    MarketContext,
    Outcome,
    Prediction,
    TradingState,
)
from operators.messages.ticks import (
    BookDelta,
    BookEvent,
    BookMessage,
    BookSnapshot,
    Level,
    Quote,
    Reject,
    Side,
    SourceRecord,
    Tick,
    TickBatch,
    Trade,
    ValidTick,
    reject,
)

__all__ = [
    "BarReturn", "BookDelta", "BookEvent", "BookMessage", "BookSnapshot", "ControlCommand", "CrossAssetRow",
    "Decision", "Direction", "DriftEvent", "FeatureRow", "Fill", "Level", "MarketContext", "Outcome", "PnlRow",
    "PnlSnapshot", "Prediction", "Quote", "Reject", "Side", "SourceRecord", "Tick", "TickBatch", "Trade",
    "TradingState", "ValidTick", "reject", "stable_id", "stable_uint64",
]

for _struct in (BarReturn, BookDelta, BookEvent, BookSnapshot, ControlCommand, CrossAssetRow, Decision, DriftEvent,
                FeatureRow, Fill, MarketContext, Outcome, PnlRow, PnlSnapshot, Prediction, Quote, Reject, SourceRecord,
                TickBatch, Trade, ValidTick):
    _struct.__module__ = __name__
del _struct
