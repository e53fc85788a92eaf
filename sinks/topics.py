"""The topics the signals flow publishes for the history flow, their encoding, and their sinks.

The live system is two flows (``dataflows/signals.py``, ``dataflows/history.py``). The signals flow
publishes what the history flow cannot recompute on its own, keyed by symbol (so one symbol's
messages stay in order on one partition):

- ``<ticks topic>.features``: one message per feature row, carrying the row and the prediction the
  model made from it. Rows and predictions are one to one (the scorer scores every row), so they
  travel together: a consumer never has to join two topics whose interleaving depends on timing.
- ``<ticks topic>.decisions``: every risk decision, accepted or denied.

Rejects go to ``ticks.dlq`` as before (the history flow recomputes them from their sources). The names derive from the ticks topic (``ticks.features``,
``ticks.decisions`` by default), like the dead-letter topic.

Encoding version 1: each value is one MessagePack array whose first element is the version (1),
then the fields in the order of ``FEATURE_FIELDS`` or ``DECISION_FIELDS``. A feature row's values
are little-endian float64 packed into one byte string and its quality flags one byte each; the
feature names are not sent: the decoder takes them from its own feature layout and refuses a row
of another feature set. Every message names its model version and its source tick (ticks
partition and offset), so ClickHouse ids stay the same on every replay and consumers can order by
event time (``ts_ns``). A field is never removed or reordered within a version; a new field means
version 2.

>>> from operators.messages import Decision
>>> decision = Decision("s1", "IBM", 5, 0, 7, "v1", 1, 10.0, 1850.0, 185.0, 0.6, "calm", True, "accepted",
...                     "ACTIVE", 10.0)
>>> decode_decision(encode_decision(decision)) == decision
True
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import msgspec

from operators.features.layout import depth_layout
from operators.messages import Decision, FeatureRow, Prediction, SourceRecord
from sinks.kafka import KafkaMessage, KafkaOutSink, KafkaSettings
from sinks.metrics import MetricsRegistry

ENCODING_VERSION = 1
FEATURES_SUFFIX = ".features"
DECISIONS_SUFFIX = ".decisions"

#: The fields of a features message after the version, in wire order.
FEATURE_FIELDS = ("symbol", "ts_ns", "partition", "offset", "price", "feature_set", "values", "quality",
                  "prediction_id", "model_version", "p_up", "direction", "confidence", "volatility", "regime",
                  "score", "specialists")
#: The fields of a decisions message after the version, in wire order (every field of ``Decision``).
DECISION_FIELDS = ("signal_id", "symbol", "ts_ns", "partition", "offset", "model_version", "direction", "size",
                   "notional", "price", "confidence", "regime", "accepted", "reason", "trading_state",
                   "position_after", "level", "detail", "risk_score", "var", "gross_exposure", "net_exposure")

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(list)


class TopicDecodeError(ValueError):
    """A message of a tickwise topic does not decode; the message is one sentence."""


class SplitTopics(NamedTuple):
    features: str
    decisions: str


def split_topics(ticks_topic: str) -> SplitTopics:
    """The topics the signals flow publishes for the history flow, named after the ticks topic.

    >>> split_topics("ticks")
    SplitTopics(features='ticks.features', decisions='ticks.decisions')
    """
    return SplitTopics(f"{ticks_topic}{FEATURES_SUFFIX}", f"{ticks_topic}{DECISIONS_SUFFIX}")


class Scored(NamedTuple):
    """A feature row and the prediction the model made from it (same symbol, time and source tick)."""

    row: FeatureRow
    prediction: Prediction

    @property
    def symbol(self) -> str:
        return self.row.symbol


def encode_scored(scored: Scored) -> bytes:
    row, prediction = scored
    values = row.values
    return _ENCODER.encode((
        ENCODING_VERSION, row.symbol, row.ts_ns, row.partition, row.offset, row.price, row.feature_set,
        struct.pack(f"<{len(values)}d", *values), bytes(row.quality),
        prediction.prediction_id, prediction.model_version, prediction.p_up, prediction.direction,
        prediction.confidence, prediction.volatility, prediction.regime, prediction.score, prediction.specialists,
    ))


def _fields(value: bytes | None, expected: int, what: str) -> list:
    try:
        fields = _DECODER.decode(value or b"")
    except msgspec.DecodeError as error:
        raise TopicDecodeError(f"a {what} message is not MessagePack ({error})") from None
    if not fields or fields[0] != ENCODING_VERSION:
        version = fields[0] if fields else "none"
        raise TopicDecodeError(f"a {what} message has encoding version {version!r}; this tickwise reads "
                               f"version {ENCODING_VERSION}")
    if len(fields) != expected + 1:
        raise TopicDecodeError(f"a {what} message of version {ENCODING_VERSION} has {len(fields) - 1} fields, "
                               f"expected {expected}")
    return fields


def decode_scored(value: bytes | None, names: tuple[str, ...], feature_set: str,
                  joined: tuple[tuple[str, ...], str] = ((), "")) -> Scored:
    """The row and prediction of a features message; ``names``/``feature_set``: the reader's feature layout,
    ``joined``: the names and feature-set extensions its joins append after it (and after a symbol's depth
    features), such as the event features and ``+events1``."""
    (_, symbol, ts_ns, partition, offset, price, row_set, packed, quality, prediction_id, model_version, p_up,
     direction, confidence, volatility, regime, score, specialists) = _fields(value, len(FEATURE_FIELDS), "features")
    join_names, join_set = joined
    if row_set == feature_set + join_set:
        names = names + join_names
    else:
        depth_names, depth_set = depth_layout(names, feature_set)  # a symbol with an order book adds depth features
        if row_set != depth_set + join_set:
            raise TopicDecodeError(f"a features message of {symbol} has feature set {row_set!r}, but this flow's is "
                                   f"{feature_set + join_set!r}; run both flows with the same feature settings")
        names = depth_names + join_names
    if len(packed) != 8 * len(names) or len(quality) not in (0, len(names)):
        raise TopicDecodeError(f"a features message of {symbol} holds {len(packed) // 8} values for "
                               f"{len(names)} feature names")
    row = FeatureRow(symbol=symbol, ts_ns=ts_ns, partition=partition, offset=offset, price=price, names=names,
                     values=struct.unpack(f"<{len(names)}d", packed), feature_set=row_set, quality=tuple(quality))
    prediction = Prediction(prediction_id=prediction_id, symbol=symbol, ts_ns=ts_ns, partition=partition,
                            offset=offset, price=price, model_version=model_version, p_up=p_up, direction=direction,
                            confidence=confidence, volatility=volatility, regime=regime, score=score,
                            specialists=specialists)
    return Scored(row, prediction)


def encode_decision(decision: Decision) -> bytes:
    return _ENCODER.encode((ENCODING_VERSION, *(getattr(decision, name) for name in DECISION_FIELDS)))


def decode_decision(value: bytes | None) -> Decision:
    fields = _fields(value, len(DECISION_FIELDS), "decisions")
    return Decision(**dict(zip(DECISION_FIELDS, fields[1:])))


def scored_message(scored: Scored) -> KafkaMessage:
    return KafkaMessage(scored.row.symbol.encode(), encode_scored(scored), [])


def decision_message(decision: Decision) -> KafkaMessage:
    return KafkaMessage(decision.symbol.encode(), encode_decision(decision), [])


def features_sink(settings: KafkaSettings, topic: str, metrics: MetricsRegistry | None = None) -> KafkaOutSink[Scored]:
    return KafkaOutSink(settings, topic, scored_message, metrics, sink_name="kafka_features")


def decisions_sink(settings: KafkaSettings, topic: str, metrics: MetricsRegistry | None = None
                   ) -> KafkaOutSink[Decision]:
    return KafkaOutSink(settings, topic, decision_message, metrics, sink_name="kafka_decisions")


def where(record: SourceRecord) -> str:
    """``topic[partition]@offset``, for errors about one message."""
    return f"{record.topic}[{record.partition}]@{record.offset}"


class FeaturesDecoder:
    """``flat_map_batch`` mapper of the history flow: features messages -> ``Scored`` (row + prediction).

    ``names`` and ``feature_set`` are the reader's own feature layout and ``joined`` what its joins append
    (``decode_scored``); a message that does not decode raises ``TopicDecodeError`` naming the message (the
    flow stops rather than writing a wrong row).
    """

    def __init__(self, names: tuple[str, ...], feature_set: str,
                 joined: tuple[tuple[str, ...], str] = ((), "")) -> None:
        self._names = names
        self._feature_set = feature_set
        self._joined = joined

    def __call__(self, records: list[SourceRecord]) -> list[Scored]:
        out = []
        for record in records:
            try:
                out.append(decode_scored(record.value, self._names, self._feature_set, self._joined))
            except TopicDecodeError as error:
                raise TopicDecodeError(f"{where(record)}: {error}") from None
        return out


def decode_decisions(records: list[SourceRecord]) -> list[Decision]:
    """``flat_map_batch`` mapper of the history flow: decisions messages -> ``Decision``."""
    out = []
    for record in records:
        try:
            out.append(decode_decision(record.value))
        except (TopicDecodeError, TypeError) as error:
            raise TopicDecodeError(f"{where(record)}: {error}") from None
    return out
