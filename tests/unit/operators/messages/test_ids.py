"""Specifications of the deterministic ids in ``operators.messages.ids``."""

from __future__ import annotations

from hashlib import blake2b

from hypothesis import given
from hypothesis import strategies as st

from operators.messages.ids import stable_id, stable_uint64

parts_strategy = st.lists(st.one_of(st.text(), st.integers(), st.floats(allow_nan=False)), max_size=5)


def test_stable_id_when_given_parts_then_hashes_them_joined_by_pipe() -> None:
    expected = blake2b(b"IBM|0|17|v3", digest_size=16).hexdigest()
    assert stable_id("IBM", 0, 17, "v3") == expected


def test_stable_id_when_parts_differ_only_in_type_then_ids_agree() -> None:
    assert stable_id("IBM", 0, 17) == stable_id("IBM", "0", "17")


def test_stable_id_when_order_changes_then_id_changes() -> None:
    assert stable_id("IBM", 0, 17) != stable_id("IBM", 17, 0)


def test_stable_uint64_when_given_parts_then_reads_8_byte_digest_big_endian() -> None:
    digest = blake2b(b"SPY|3|42", digest_size=8).digest()
    assert stable_uint64("SPY", 3, 42) == int.from_bytes(digest, "big")


@given(parts_strategy)
def test_stable_id_is_32_lowercase_hex_and_repeatable(parts: list[object]) -> None:
    first = stable_id(*parts)
    assert first == stable_id(*parts)
    assert len(first) == 32
    assert set(first) <= set("0123456789abcdef")


@given(parts_strategy)
def test_stable_uint64_fits_clickhouse_uint64(parts: list[object]) -> None:
    value = stable_uint64(*parts)
    assert 0 <= value < 2**64
    assert value == stable_uint64(*parts)


def test_stable_id_when_text_has_lone_surrogate_then_still_hashes() -> None:
    assert len(stable_id("\ud800")) == 32
