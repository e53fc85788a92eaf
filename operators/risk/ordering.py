"""Order items from many workers by event time before the portfolio state sees them.

Portfolio risk combines symbols, and Bytewax delivers items from all workers in an order
that differs from run to run and with the number of processes. ``EventOrderBuffer`` holds
items in a heap keyed by ``(ts_ns, symbol, partition, offset, kind)`` and releases them in
that order once they are below the watermark:

    watermark = min over the universe and the kinds of each (symbol, kind)'s latest event time

Each symbol's items of one kind (one input stream: market contexts, predictions) arrive in
event-time order (one symbol lives on one worker and Bytewax keeps the order of a stream
between two workers; two merged streams may interleave, hence one mark per kind), so once
every (symbol, kind) of the universe has passed ``t``, no item older than ``t`` can still
come: items strictly below the watermark are final. A (symbol, kind) not seen yet holds
the watermark at -inf.

- ``max_lateness_ns`` (live, unbounded runs): the watermark is also pushed to
  ``max(latest) - max_lateness_ns``, so a silent symbol cannot stall the rest. An item that
  then arrives below the released point is released at once, out of order; the engine's
  prediction-age check denies it when it is older than the allowed age. This is the one
  place where arrival can matter, and only when a symbol lags by more than the lateness.
- ``None`` (bounded runs: backtest, replay, ``--until-eof``): no lateness; ``flush()`` at
  end of input releases the rest. The released order is then exactly the sorted order of
  all items, whatever the arrival order: decisions do not depend on the process count.

>>> buffer = EventOrderBuffer(("A", "B"))
>>> buffer.push(("A", 10, 0, 1, 0, "a10"))
[]
>>> buffer.push(("B", 20, 0, 2, 0, "b20"))
[]
>>> [item[-1] for item in buffer.push(("A", 30, 0, 3, 0, "a30"))]
['a10']
>>> [item[-1] for item in buffer.flush()]
['b20', 'a30']
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Generic, TypeVar

__all__ = ["EventOrderBuffer", "OrderedItem"]

T = TypeVar("T")
# (symbol, ts_ns, partition, offset, kind, payload): kind orders items of one row (context before prediction).
OrderedItem = tuple[str, int, int, int, int, T]


class EventOrderBuffer(Generic[T]):
    """Releases ``(symbol, ts_ns, partition, offset, kind, payload)`` items in event-time order."""

    __slots__ = ("_universe", "_kinds", "_lateness", "_heap", "_latest", "released_ns", "late")

    def __init__(self, universe: Sequence[str], max_lateness_ns: int | None = None,
                 kinds: Sequence[int] = (0,)) -> None:
        if not universe:
            raise ValueError("EventOrderBuffer needs a non-empty universe of symbols")
        if max_lateness_ns is not None and (type(max_lateness_ns) is not int or max_lateness_ns < 0):
            raise ValueError(f"EventOrderBuffer.max_lateness_ns must be None or an int >= 0, got {max_lateness_ns!r}")
        self._universe = frozenset(universe)
        self._kinds = tuple(kinds)
        self._lateness = max_lateness_ns
        self._heap: list[tuple[int, str, int, int, int, T]] = []
        self._latest: dict[tuple[str, int], int] = {}
        self.released_ns: int | None = None
        self.late = 0

    def __len__(self) -> int:
        return len(self._heap)

    def watermark(self) -> int | None:
        """Items strictly below this event time are final (None: nothing is final yet)."""
        latest = self._latest
        marks = [latest.get((symbol, kind)) for symbol in self._universe for kind in self._kinds]
        watermark = None if any(mark is None for mark in marks) else min(marks)  # type: ignore[type-var]
        if self._lateness is not None and latest:
            pushed = max(latest.values()) - self._lateness
            watermark = pushed if watermark is None else max(watermark, pushed)
        return watermark

    def push(self, item: OrderedItem[T]) -> list[OrderedItem[T]]:
        symbol, ts_ns, partition, offset, kind, payload = item
        if symbol in self._universe and kind in self._kinds and ts_ns > self._latest.get((symbol, kind), ts_ns - 1):
            self._latest[(symbol, kind)] = ts_ns
        if self.released_ns is not None and ts_ns < self.released_ns:
            self.late += 1
        heapq.heappush(self._heap, (ts_ns, symbol, partition, offset, kind, payload))
        return self._release(self.watermark())

    def flush(self) -> list[OrderedItem[T]]:
        """End of input: everything, in order."""
        return self._release(None, everything=True)

    def _release(self, watermark: int | None, everything: bool = False) -> list[OrderedItem[T]]:
        heap = self._heap
        out: list[OrderedItem[T]] = []
        late_floor = self.released_ns
        while heap and (everything or (watermark is not None and heap[0][0] < watermark)
                        or (late_floor is not None and heap[0][0] < late_floor)):
            ts_ns, symbol, partition, offset, kind, payload = heapq.heappop(heap)
            out.append((symbol, ts_ns, partition, offset, kind, payload))
            if self.released_ns is None or ts_ns > self.released_ns:
                self.released_ns = ts_ns
        return out
