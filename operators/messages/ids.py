"""Deterministic ids for records that must come out the same on every replay.

An id is a hash of the parts that identify a record (symbol, source partition and
offset, model version ...), so replaying the same Kafka offsets produces the same
ids and the idempotent sinks (ClickHouse ReplacingMergeTree, Kafka ``signal_id``)
can drop the duplicates that at-least-once delivery creates.

Parts are turned into text with ``str`` and joined with ``"|"`` before hashing with
BLAKE2b, so ``stable_id("IBM", 0, 17)`` and ``stable_id("IBM", "0", "17")`` agree.

>>> stable_id("IBM", 0, 17, "v3")
'b635d260c95d2cb083aeb699c18dccce'
>>> stable_uint64("IBM", 0, 17, "v3")
9666298124709355988
>>> len(stable_id()), 0 <= stable_uint64("SPY") < 2**64
(32, True)
"""

from __future__ import annotations

from hashlib import blake2b

__all__ = ["stable_id", "stable_uint64"]

_SEPARATOR = "|"


def _canonical_bytes(parts: tuple[object, ...]) -> bytes:
    return _SEPARATOR.join(map(str, parts)).encode("utf-8", "surrogatepass")


def stable_id(*parts: object) -> str:
    """Return a 32-character hex id: BLAKE2b (16-byte digest) of the parts joined by ``"|"``."""
    return blake2b(_canonical_bytes(parts), digest_size=16).hexdigest()


def stable_uint64(*parts: object) -> int:
    """Return an unsigned 64-bit id (for ClickHouse ``UInt64`` keys) of the parts joined by ``"|"``.

    The value is the 8-byte BLAKE2b digest read as a big-endian unsigned integer.
    """
    digest = blake2b(_canonical_bytes(parts), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=False)
