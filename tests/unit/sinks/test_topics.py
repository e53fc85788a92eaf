"""The encoding of the topics the signals flow publishes for the history flow (``sinks.topics``)."""

from __future__ import annotations

import math

import msgspec
import pytest

from operators.messages import Decision, FeatureRow, Prediction, SourceRecord
from sinks.topics import (DECISION_FIELDS, ENCODING_VERSION, FeaturesDecoder, Scored, TopicDecodeError,
                          decision_message, decode_decision, decode_decisions, decode_scored, encode_decision,
                          encode_scored, scored_message, split_topics)

NAMES = ("ret_1", "spread", "vwap_gap")


def scored(values: tuple[float, ...] = (0.5, math.nan, -1e-9), feature_set: str = "fs1") -> Scored:
    row = FeatureRow("IBM", 1_381_239_000_000_000_000, 3, 41, 185.25, NAMES, values, feature_set, (0, 2, 4))
    prediction = Prediction("p1", "IBM", row.ts_ns, 3, 41, 185.25, "v7", 0.61, 1, 0.22, 0.003, "calm", 0.4,
                            {"gbm": 0.6, "linear": 0.55})
    return Scored(row, prediction)


def decision(**changes: object) -> Decision:
    fields = dict(signal_id="s1", symbol="IBM", ts_ns=5, partition=0, offset=7, model_version="v7", direction=-1,
                  size=10.0, notional=1850.0, price=185.0, confidence=0.6, regime="calm", accepted=False,
                  reason="stale_prediction", trading_state="ACTIVE", position_after=0.0, level="model",
                  detail="prediction is 3 s older than the portfolio clock", risk_score=0.25, var=12.5,
                  gross_exposure=1850.0, net_exposure=-1850.0)
    return Decision(**{**fields, **changes})


def test_scored_row_round_trips_with_nan_and_its_source_position() -> None:
    original = scored()
    decoded = decode_scored(encode_scored(original), NAMES, "fs1")

    assert decoded.prediction == original.prediction
    assert decoded.row.values[0] == 0.5 and math.isnan(decoded.row.values[1]) and decoded.row.values[2] == -1e-9
    assert decoded.row.names == NAMES and decoded.row.quality == (0, 2, 4)
    assert (decoded.row.partition, decoded.row.offset, decoded.row.ts_ns) == (3, 41, original.row.ts_ns)


def test_scored_message_is_keyed_by_symbol_and_smaller_than_json_of_the_same_fields() -> None:
    message = scored_message(scored())
    as_json = msgspec.json.encode({**msgspec.structs.asdict(scored().row), **msgspec.structs.asdict(
        scored().prediction)}).replace(b"NaN", b"null")

    assert message.key == b"IBM"
    assert len(message.value) < len(as_json) / 2


def test_decision_round_trips_every_field_accepted_or_denied() -> None:
    for original in (decision(), decision(accepted=True, reason="accepted", level="", detail="")):
        assert decode_decision(encode_decision(original)) == original
    assert decision_message(decision()).key == b"IBM"


def test_decision_fields_are_every_field_of_the_decision_record_in_order() -> None:
    assert DECISION_FIELDS == Decision.__struct_fields__


def test_decode_when_the_version_is_not_ours_then_says_which_it_reads() -> None:
    value = msgspec.msgpack.encode([ENCODING_VERSION + 1, *msgspec.structs.astuple(decision())])
    with pytest.raises(TopicDecodeError, match="encoding version 2; this tickwise reads version 1"):
        decode_decision(value)


def test_decode_when_the_feature_set_differs_then_refuses_the_row() -> None:
    with pytest.raises(TopicDecodeError, match="feature set 'fs1', but this flow's is 'fs2'"):
        decode_scored(encode_scored(scored()), NAMES, "fs2")


def test_decode_when_the_names_do_not_match_the_values_then_refuses_the_row() -> None:
    with pytest.raises(TopicDecodeError, match="3 values for 2 feature names"):
        decode_scored(encode_scored(scored()), NAMES[:2], "fs1")


def test_batch_decoders_name_the_message_that_does_not_decode() -> None:
    good = SourceRecord("ticks.features", 1, 9, b"IBM", encode_scored(scored()))
    bad = SourceRecord("ticks.features", 1, 10, b"IBM", b"{not msgpack")
    assert FeaturesDecoder(NAMES, "fs1")([good])[0].prediction.prediction_id == "p1"
    with pytest.raises(TopicDecodeError, match=r"ticks\.features\[1\]@10: a features message is not MessagePack"):
        FeaturesDecoder(NAMES, "fs1")([good, bad])
    with pytest.raises(TopicDecodeError, match=r"ticks\.decisions\[0\]@3: a decisions message"):
        decode_decisions([SourceRecord("ticks.decisions", 0, 3, None, msgspec.msgpack.encode([1, "x"]))])


def test_split_topics_are_named_after_the_ticks_topic() -> None:
    assert split_topics("desk.ticks") == ("desk.ticks.features", "desk.ticks.decisions")
