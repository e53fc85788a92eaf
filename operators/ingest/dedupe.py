"""Duplicate filter for one symbol: drop redelivered messages and repeated sequence numbers.

Two kinds of duplicate are dropped, each as a ``Reject`` (stage ``"dedupe"``) so it reaches
``ticks.dlq`` and the reject counters like every other refused message:

- ``duplicate_offset``: a message whose source position was already seen. Per symbol the
  filter keeps the last offset of each ``(topic, partition)``; the source reads a partition in
  offset order and a symbol lives on one partition (key = symbol), so an offset at or below
  the last one is the same Kafka record delivered again (a source that rewound, an
  overlapping replay fed into live state). A producer retry is *not* caught here: Kafka
  stores the retried message at a new offset; only a sequence number identifies it.
- ``duplicate_sequence``: a tick whose ``seq`` (optional feed sequence number, see
  ``operators.messages.Trade``) was already seen for the symbol, within the last
  ``sequence_window`` sequence numbers.

Depth messages (``BookSnapshot``, ``BookDelta``) are checked by source position only: their
update ids are the book's to judge (``operators.book.book``: a repeated or older delta is
``stale``, counted and not applied; a later one that skips ids is a gap).

Identical payloads without a sequence number are **kept**. The real tape is full of them:
in the recorded trades of 2013-10-07..09 (AIG, BAC, IBM, SPY) 405,287 of 1,684,116 trades (24.1 %) repeat an
earlier trade field for field (same symbol, nanosecond, price, size and side), e.g. several
100-share SPY prints at one price in one millisecond; 311,750 of them are SPY, 10,311 IBM.
They are distinct executions, and dropping them would remove a quarter of the real volume.

State is bounded: one offset per (topic, partition) the symbol arrives on and at most
``sequence_window`` sequence numbers. It pickles with the rest of the symbol's state, so
after a Bytewax resume it is rolled back together with the source offsets and the replayed
ticks are not mistaken for duplicates.

>>> from operators.messages import Trade, ValidTick
>>> dedupe = Deduplicator(DedupeConfig())
>>> first = ValidTick(Trade("IBM", 1_381_239_000_000_000_000, 185.0, 100.0, seq=7), "ticks", 0, 41)
>>> dedupe.check(first) is None
True
>>> dedupe.check(first).reason  # the same record delivered again
'duplicate_offset'
>>> retry = ValidTick(Trade("IBM", 1_381_239_000_000_000_000, 185.0, 100.0, seq=7), "ticks", 0, 42)
>>> dedupe.check(retry).reason  # a producer retry: new offset, same sequence number
'duplicate_sequence'
>>> twin = ValidTick(Trade("IBM", 1_381_239_000_000_000_000, 185.0, 100.0), "ticks", 0, 43)
>>> dedupe.check(twin) is None  # an identical print without a sequence number is a real trade
True
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


from operators.messages import Reject, ValidTick, reject

__all__ = ["STAGE", "DedupeConfig", "Deduplicator"]

STAGE = "dedupe"



@dataclass(frozen=True, slots=True)
class DedupeConfig:
    """How many recent sequence numbers per symbol are remembered.

    >>> DedupeConfig(sequence_window=0)
    Traceback (most recent call last):
    ...
    ValueError: DedupeConfig.sequence_window must be an int >= 1, got 0
    """

    sequence_window: int = 4096

    def __post_init__(self) -> None:
        if type(self.sequence_window) is not int or self.sequence_window < 1:
            raise ValueError(f"DedupeConfig.sequence_window must be an int >= 1, got {self.sequence_window!r}")


class Deduplicator:
    """One symbol's duplicate filter: last offset per source partition, recent sequence numbers."""

    __slots__ = ("_config", "_last_offsets", "_recent_order", "_recent")

    def __init__(self, config: DedupeConfig) -> None:
        if not isinstance(config, DedupeConfig):
            raise TypeError(f"Deduplicator needs a DedupeConfig, got {type(config).__name__}")
        self._config = config
        self._last_offsets: dict[tuple[str, int], int] = {}
        self._recent_order: deque[int] = deque()
        self._recent: set[int] = set()

    @property
    def config(self) -> DedupeConfig:
        return self._config

    def check(self, tick: ValidTick, sequences: bool = True) -> Reject | None:
        """``None`` when ``tick`` is new (and remember it), else the duplicate's ``Reject``.

        ``sequences=False`` checks (and remembers) the source position only: for a tick that may
        open a new session, whose sequence numbers may start again (see ``dataflows.symbol_step``).
        """
        position = (tick.topic, tick.partition)
        last_offset = self._last_offsets.get(position)
        if last_offset is not None and tick.offset <= last_offset:
            return reject(STAGE, tick, "duplicate_offset",
                           f"expected an offset above {last_offset} (the last one seen for "
                           f"{tick.tick.symbol} on {tick.topic}[{tick.partition}]), got {tick.offset} again")
        seq = getattr(tick.tick, "seq", None) if sequences else None
        if seq is not None and seq in self._recent:
            # Remember the offset even so: this record is consumed, only its content repeats.
            self._last_offsets[position] = tick.offset
            return reject(STAGE, tick, "duplicate_sequence",
                           f"expected a new sequence number for {tick.tick.symbol}, got seq {seq} again")
        self._last_offsets[position] = tick.offset
        if seq is not None:
            self._remember(seq)
        return None

    def _remember(self, seq: int) -> None:
        self._recent.add(seq)
        self._recent_order.append(seq)
        if len(self._recent_order) > self._config.sequence_window:
            self._recent.discard(self._recent_order.popleft())

    def __getstate__(self) -> tuple[DedupeConfig, dict[tuple[str, int], int], list[int]]:
        return self._config, self._last_offsets, list(self._recent_order)

    def __setstate__(self, state: tuple[DedupeConfig, dict[tuple[str, int], int], list[int]]) -> None:
        self._config, self._last_offsets, recent = state
        self._recent_order = deque(recent)
        self._recent = set(recent)

    def __repr__(self) -> str:
        return f"Deduplicator(last_offsets={self._last_offsets!r}, recent_sequences={len(self._recent_order)})"

