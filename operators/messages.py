"""Message types that flow between the steps of every tickwise dataflow.

Ticks arrive as JSON on Kafka (see DESIGN.md section 4) and are decoded into
``Trade`` or ``Quote``. Everything downstream is a small frozen ``msgspec.Struct``
so it pickles compactly for Bytewax recovery and encodes fast for the sinks.

Every record that leaves the engine carries the Kafka partition and offset of the
tick that produced it, so ids derived from them are deterministic on replay.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Side = Literal["buy", "sell", "unknown"]
Direction = Literal[1, 0, -1]
TradingState = Literal["ACTIVE", "REDUCING", "HALTED"]


class Trade(msgspec.Struct, tag_field="type", tag="trade", frozen=True, forbid_unknown_fields=True):
    """One print on the tape."""

    symbol: str
    ts_ns: int
    price: float
    size: float
    side: Side = "unknown"


class Quote(msgspec.Struct, tag_field="type", tag="quote", frozen=True, forbid_unknown_fields=True):
    """Best bid and offer."""

    symbol: str
    ts_ns: int
    bid: float
    ask: float
    bid_size: float
    ask_size: float


Tick = Trade | Quote


class SourceRecord(msgspec.Struct, frozen=True):
    """A raw message as it came off Kafka, before any decoding."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class ValidTick(msgspec.Struct, frozen=True):
    """A decoded tick that passed the stateless checks, with its source position."""

    tick: Trade | Quote
    topic: str
    partition: int
    offset: int


class Reject(msgspec.Struct, frozen=True):
    """A message refused by a step; goes to ``ticks.dlq`` and the ``rejects`` table.

    ``reason`` is a short machine-readable code (``invalid_json``, ``price_out_of_bounds``,
    ``ts_ahead`` ...); ``detail`` is one human sentence naming the step, what was expected
    and what arrived.
    """

    reason: str
    detail: str
    stage: str
    topic: str
    partition: int
    offset: int
    raw: bytes
    symbol: str | None = None
    ts_ns: int | None = None


class FeatureRow(msgspec.Struct, frozen=True):
    """The feature vector of one symbol at one event time.

    ``values`` is aligned with ``names`` (the operator's ordered feature names); a value
    that is not ready yet (indicator warm-up) is NaN. ``price`` is the reference price
    (last trade, else mid) and ``partition``/``offset`` point at the tick that produced
    the row. ``feature_set`` is the feature-set version (which definitions and parameters
    produced the values) and ``quality`` holds per-feature flags (``operators.feature_set``:
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
    """A drift detector fired on one feature (or on a model's error) of one symbol."""

    event_id: str
    symbol: str
    ts_ns: int
    feature: str
    detector: str
    statistic: float
    kind: str = "feature_drift"


class Prediction(msgspec.Struct, frozen=True):
    """The ensemble's view of one feature row.

    ``p_up`` is the meta model's probability that the price rises over its horizon,
    ``direction`` is +1/-1/0, ``confidence`` in [0, 1] is ``|2 p_up - 1|``, ``volatility``
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
