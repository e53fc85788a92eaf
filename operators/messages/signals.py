"""What the engine derives from ticks: feature rows, drift events, predictions, risk decisions,
outcomes and cross-asset statistics, plus the desk's control commands.

Every record that leaves the engine carries the Kafka partition and offset of the tick that
produced it, so ids derived from them are deterministic on replay.
"""

# Annotations are evaluated at class creation (no ``from __future__ import annotations``): the
# structs take the package's name as ``__module__`` (see ``__init__``), so msgspec must not have to
# look their annotation names up in that module.

from typing import Literal

import msgspec

Direction = Literal[1, 0, -1]
TradingState = Literal["ACTIVE", "REDUCING", "HALTED"]


class FeatureRow(msgspec.Struct, frozen=True):
    """The feature vector of one symbol at one event time.

    ``values`` is aligned with ``names`` (the operator's ordered feature names); a value
    that is not ready yet (indicator warm-up) is NaN. ``price`` is the reference price
    (the mid while the row has a valid quote, else the last trade: no bid-ask bounce in the
    labels, outcomes and decisions priced on it) and ``partition``/``offset`` point at the tick that produced
    the row. ``feature_set`` is the feature-set version (which definitions and parameters
    produced the values) and ``quality`` holds per-feature flags (``operators.features.feature_set``:
    1 missing input, 2 warming up, 4 stale input).
    """

    symbol: str
    ts_ns: int
    partition: int
    offset: int
    price: float
    names: tuple[str, ...]
    values: tuple[float, ...]
    feature_set: str = ""
    quality: tuple[int, ...] = ()

    @property
    def complete(self) -> bool:
        """Every feature present, warmed up and fresh (all quality flags 0)."""
        return bool(self.quality) and not any(self.quality)

    def get(self, name: str, default: float = float("nan")) -> float:
        try:
            return self.values[self.names.index(name)]
        except ValueError:
            return default


class DriftEvent(msgspec.Struct, frozen=True):
    """A monitor event of one symbol: a feature group's alarm opening or closing
    (``feature_investigation``/``feature_investigation_closed``, from the standardised monitor or
    PSI; ``feature_drift`` from a River detector), or a model's live accuracy or confidence
    falling (``retrain``, ``model_review``), or an order book becoming invalid (``book_gap``,
    ``book_crossed``: feature ``book_valid``, detector ``order_book``, statistic the count so far).
    ``model_version`` is set for events about a model."""

    event_id: str
    symbol: str
    ts_ns: int
    feature: str
    detector: str
    statistic: float
    kind: str = "feature_drift"
    model_version: str = ""


class Prediction(msgspec.Struct, frozen=True):
    """The ensemble's view of one feature row.

    ``p_up`` is the meta model's probability that the price rises over its horizon,
    ``direction`` is +1/-1/0, ``confidence`` in [0.5, 1] is ``max(p_up, 1 - p_up)`` (the probability of the predicted class), ``volatility``
    the volatility specialist's forecast (per-horizon return standard deviation) and
    ``specialists`` each specialist's raw output by name.
    """

    prediction_id: str
    symbol: str
    ts_ns: int
    partition: int
    offset: int
    price: float
    model_version: str
    p_up: float
    direction: int
    confidence: float
    volatility: float
    regime: str
    score: float
    specialists: dict[str, float]


class Decision(msgspec.Struct, frozen=True):
    """The risk step's verdict on one prediction: a signal if ``accepted``.

    Every prediction gets exactly one decision, accepted or denied, with a reason code.
    ``level`` is the risk level of the denying check (``model``, ``instrument``,
    ``portfolio``, ``execution``; empty when accepted) and ``detail`` one sentence on why.
    ``risk_score`` (portfolio VaR / max VaR, capped at 1, which scaled the size), ``var``
    (portfolio VaR after the decision) and the gross/net exposure after it are recorded too.
    """

    signal_id: str
    symbol: str
    ts_ns: int
    partition: int
    offset: int
    model_version: str
    direction: int
    size: float
    notional: float
    price: float
    confidence: float
    regime: str
    accepted: bool
    reason: str
    trading_state: str
    position_after: float
    level: str = ""
    detail: str = ""
    risk_score: float = 0.0
    var: float = 0.0
    gross_exposure: float = 0.0
    net_exposure: float = 0.0


class BarReturn(msgspec.Struct, frozen=True):
    """One completed time bar's log return, for cross-asset statistics.

    ``previous_end_ns`` is the end of the bar before it: the return covers exactly
    ``[previous_end_ns, end_ns)``, so two symbols' returns are comparable only when both
    bounds agree (a bar without trades makes the next return span two intervals).
    """

    symbol: str
    interval_ns: int
    previous_end_ns: int
    end_ns: int
    log_return: float


class CrossAssetRow(msgspec.Struct, frozen=True):
    """Rolling correlation and beta of ``symbol`` against ``reference`` at one bar end."""

    pair: str
    symbol: str
    reference: str
    ts_ns: int
    interval_ns: int
    correlation: float
    beta: float
    observations: int


class MarketContext(msgspec.Struct, frozen=True):
    """What the risk engine needs to know of one symbol's market at a feature row.

    Built from the ``FeatureRow`` that the prediction of the same (symbol, ts_ns, offset)
    was scored from: ``price`` (last trade, else mid), ``mid`` and ``spread`` of the latest
    quote (NaN without quotes) and the event-time ages of the latest quote and trade.
    """

    symbol: str
    ts_ns: int
    partition: int
    offset: int
    price: float
    mid: float = float("nan")
    spread: float = float("nan")
    quote_age_s: float = float("nan")
    trade_age_s: float = float("nan")


class ControlCommand(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A message on the Kafka ``control`` topic: the desk's kill switch.

    ``command`` is ``halt`` (HALTED: deny everything), ``reduce`` (REDUCING: only orders
    that shrink a position) or ``resume`` (back to ACTIVE, also clearing a drawdown trip).
    """

    command: Literal["halt", "reduce", "resume"]
    ts_ns: int = 0
    reason: str = ""
    issued_by: str = ""


class Outcome(msgspec.Struct, frozen=True):
    """A prediction joined with what the market did over its horizon (``operators.monitoring.outcomes``).

    ``realized_up`` is True when the first feature row of the symbol at or after
    ``ts_ns + horizon_ns`` (``resolved_ts_ns``) has a price above the prediction's; ``correct``
    compares it with ``p_up > 0.5``; ``log_loss`` and ``brier`` score ``p_up`` against it.
    The ``rolling_*`` fields are the model's live statistics for this symbol over the last
    ``window`` resolved predictions, this one included.
    """

    prediction_id: str
    symbol: str
    model_version: str
    ts_ns: int
    resolved_ts_ns: int
    horizon_ns: int
    price: float
    resolved_price: float
    p_up: float
    confidence: float
    direction: int
    realized_up: bool
    correct: bool
    log_loss: float
    brier: float
    window: int
    rolling_accuracy: float
    rolling_log_loss: float
    rolling_brier: float
    rolling_confidence: float
