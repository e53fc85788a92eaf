"""The features topic between the signals and history flows carries rows of symbols with order books
(the flow's feature set with the depth suffix of ``operators.features.layout.depth_layout``), and rows
with the features of the joins that are on appended after them (``+events1``, ``+options1``)."""

from __future__ import annotations

import msgspec
import pytest

from operators.book.tracker import DEPTH_FEATURES
from operators.features.layout import depth_layout
from operators.messages import FeatureRow, Prediction
from sinks.topics import Scored, TopicDecodeError, decode_scored, encode_scored

NAMES = ("ret_1", "spread")
JOINED = (("us_last_surprise_z", "opt_atm_iv"), "+events1+options1")


def scored_with_depth(feature_set: str, joined: tuple[str, ...] = ()) -> Scored:
    names = depth_layout(NAMES, "fs1")[0] + joined
    values = tuple(float(i) for i in range(len(names)))
    row = FeatureRow("BINANCE:BTCUSDT", 1_723_161_255_000_000_000, 1, 9, 61_837.6, names, values, feature_set,
                     (0,) * len(names))
    prediction = Prediction("p1", row.symbol, row.ts_ns, 1, 9, row.price, "v7", 0.5, 0, 0.5, 0.001, "calm", 0.0, {})
    return Scored(row, prediction)


def test_row_with_depth_features_decodes_with_the_depth_names_of_the_readers_feature_set() -> None:
    original = scored_with_depth(depth_layout(NAMES, "fs1")[1])

    decoded = decode_scored(encode_scored(original), NAMES, "fs1")

    assert decoded.row.names == NAMES + DEPTH_FEATURES and decoded.row.values == original.row.values
    assert decoded.row.feature_set == original.row.feature_set


def test_row_with_depth_features_of_another_feature_set_is_refused() -> None:
    with pytest.raises(TopicDecodeError, match="run both flows with the same feature settings"):
        decode_scored(encode_scored(scored_with_depth(depth_layout(NAMES, "fs0")[1])), NAMES, "fs1")


@pytest.mark.parametrize("depth", [False, True])
def test_row_with_the_joins_features_decodes_with_the_names_the_readers_joins_append(depth: bool) -> None:
    names, feature_set = depth_layout(NAMES, "fs1") if depth else (NAMES, "fs1")
    original = scored_with_depth(feature_set + JOINED[1], JOINED[0])
    original = Scored(msgspec.structs.replace(original.row, names=names + JOINED[0],
                                              values=original.row.values[:len(names) + len(JOINED[0])],
                                              quality=original.row.quality[:len(names) + len(JOINED[0])]),
                      original.prediction)

    decoded = decode_scored(encode_scored(original), NAMES, "fs1", JOINED)

    assert decoded.row == original.row


def test_row_with_a_joins_features_is_refused_by_a_reader_without_that_join() -> None:
    row = scored_with_depth(depth_layout(NAMES, "fs1")[1] + JOINED[1], JOINED[0])

    with pytest.raises(TopicDecodeError, match=r"'fs1\+events1'; run both flows with the same feature settings"):
        decode_scored(encode_scored(row), NAMES, "fs1", (("us_last_surprise_z",), "+events1"))
