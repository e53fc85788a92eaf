"""Order items from many workers by event time before the portfolio state sees them.

Portfolio risk combines symbols, and Bytewax delivers items from all workers in an order
that differs from run to run, with the number of processes, the backlog and how fast each
partition is read. ``EventOrderBuffer`` holds items in a heap keyed by
``(ts_ns, symbol, partition, offset, kind)`` and releases them in that order once they are
below the watermark:

    watermark = min over the universe's symbols and the kinds of each (symbol, kind)'s latest event time

Each symbol's items of one kind (one input stream: market contexts, predictions) arrive in
event-time order (one symbol lives on one worker and Bytewax keeps the order of a stream
between two workers; two merged streams may interleave, hence one mark per kind), so once
every (symbol, kind) of the universe has passed ``t``, no item older than ``t`` can still
come: items strictly below the watermark are final, and the released order is exactly the
sorted order of all items, whatever the arrival order. A (symbol, kind) not seen yet holds
the watermark at -inf. No event-time allowance pushes the watermark: under a backlog one
stream (the market contexts) runs far ahead of another (the scored predictions), and any
push by event time would release the slow stream out of order.

- ``idle_after_s`` None (bounded runs: backtest, replay, ``--until-eof``): every symbol holds
  the watermark; ``flush()`` at end of input releases the rest.
- ``idle_after_s`` a number of seconds (live, unbounded runs): a symbol that is silent in wall
  time stops holding the watermark, as Flink's source idleness does, so a symbol that does not
  trade cannot stall the others. Wall time decides only *whether a silent symbol still holds
  the watermark*, never the order of what is released:

  * a symbol that has sent items in this process is idle once the step has gone on receiving
    other items for ``idle_after_s`` since its last one (a pause of the whole input, such as a
    stalled broker, makes nobody idle);
  * a symbol that has sent nothing in this process (absent from the input, or silent since a
    restart) is idle once ``idle_after_s`` have passed since this process's first item; the
    caller asks ``idle_due_s(now_s)`` when to call ``release_idle(now_s)`` for this, so that
    release needs no further item.

  An idle symbol holds the watermark again from its next item on. That item, and any other
  that arrives below the event time already released, is released at once, out of order
  (counted in ``late``); the engine's prediction-age check denies such a prediction when it is
  older than the allowed age. Under a backlog every symbol in the input keeps sending, so
  nothing is idle and a live run releases exactly what a bounded run of the same offsets does.

Wall time is passed in (``now_s``, seconds of a monotonic clock), never read here, and is not
part of the snapshot: a restored buffer counts idleness from its first item after the restore.

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
import math
from collections.abc import Sequence
from typing import Generic, TypeVar

__all__ = ["EventOrderBuffer", "OrderedItem"]

T = TypeVar("T")
# (symbol, ts_ns, partition, offset, kind, payload): kind orders items of one row (context before prediction).
OrderedItem = tuple[str, int, int, int, int, T]
_WALL_FIELDS = ("_arrived_s", "_first_s", "_last_s")  # wall time: never pickled


class EventOrderBuffer(Generic[T]):
    """Releases ``(symbol, ts_ns, partition, offset, kind, payload)`` items in event-time order."""

    __slots__ = ("_universe", "_kinds", "_idle_after_s", "_heap", "_latest", "released_ns", "late", *_WALL_FIELDS)

    def __init__(self, universe: Sequence[str], idle_after_s: float | None = None,
                 kinds: Sequence[int] = (0,)) -> None:
        if not universe:
            raise ValueError("EventOrderBuffer needs a non-empty universe of symbols")
        self._universe = tuple(sorted(set(universe)))
        self._kinds = tuple(kinds)
        self.set_idle_after(idle_after_s)
        self._heap: list[tuple[int, str, int, int, int, T]] = []
        self._latest: dict[tuple[str, int], int] = {}
        self.released_ns: int | None = None
        self.late = 0
        self._reset_wall_time()

    def set_idle_after(self, idle_after_s: float | None) -> None:
        """Bounded (None) or live with this idleness; a restored buffer takes the run's setting."""
        if idle_after_s is not None and (isinstance(idle_after_s, bool) or not isinstance(idle_after_s, int | float)
                                         or not math.isfinite(idle_after_s) or idle_after_s <= 0):
            raise ValueError(f"EventOrderBuffer.idle_after_s must be None or a finite number > 0, got {idle_after_s!r}")
        self._idle_after_s = idle_after_s

    def _reset_wall_time(self) -> None:
        self._arrived_s: dict[str, float] = {}  # symbol -> wall time of its latest item in this process
        self._first_s: float | None = None
        self._last_s: float | None = None

    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__ if name not in _WALL_FIELDS}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._reset_wall_time()

    def __len__(self) -> int:
        return len(self._heap)

    def idle(self, symbol: str, now_s: float) -> bool:
        """Whether ``symbol`` has stopped holding the watermark (never in bounded runs)."""
        if self._idle_after_s is None or self._first_s is None:
            return False
        arrived = self._arrived_s.get(symbol)
        if arrived is None:
            return now_s - self._first_s >= self._idle_after_s
        return self._last_s - arrived >= self._idle_after_s  # type: ignore[operator]

    def watermark(self, now_s: float | None = None) -> int | None:
        """Items strictly below this event time are final (None: nothing is final yet)."""
        latest = self._latest
        watermark = None
        for symbol in self._universe:
            if now_s is not None and self.idle(symbol, now_s):
                continue
            for kind in self._kinds:
                mark = latest.get((symbol, kind))
                if mark is None:
                    return None
                if watermark is None or mark < watermark:
                    watermark = mark
        return watermark

    def idle_due_s(self, now_s: float) -> float | None:
        """The wall time after ``now_s`` at which a symbol that has sent nothing in this process turns
        idle without a further item (None: no such time ahead)."""
        if self._idle_after_s is None or self._first_s is None:
            return None
        due = self._first_s + self._idle_after_s
        if due <= now_s or all(symbol in self._arrived_s for symbol in self._universe):
            return None
        return due

    def push(self, item: OrderedItem[T], now_s: float | None = None) -> list[OrderedItem[T]]:
        """Add one item (arrived at wall time ``now_s``; live runs only) and release what became final."""
        symbol, ts_ns, partition, offset, kind, payload = item
        if symbol in self._universe and kind in self._kinds and ts_ns > self._latest.get((symbol, kind), ts_ns - 1):
            self._latest[(symbol, kind)] = ts_ns
        if now_s is not None and symbol in self._universe:
            if self._first_s is None:
                self._first_s = now_s
            self._arrived_s[symbol] = now_s
            self._last_s = now_s
        if self.released_ns is not None and ts_ns < self.released_ns:
            self.late += 1
        heapq.heappush(self._heap, (ts_ns, symbol, partition, offset, kind, payload))
        return self._release(self.watermark(now_s))

    def release_idle(self, now_s: float) -> list[OrderedItem[T]]:
        """Release what became final because a silent symbol turned idle by wall time ``now_s``."""
        return self._release(self.watermark(now_s))

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
