"""A window of the last ``maxlen`` floats in one flat ``array('d')``: a ring buffer with a head index.

It stands in for ``deque(maxlen=...)`` of floats in the indicators a feature set keeps per
symbol: a deque holds a Python float (24 bytes) per value in 64-slot blocks (a deque of 14
floats takes about 1 KB); a ring holds the doubles themselves (8 bytes each) and a snapshot
writes them as one ``bytes`` copied in C. The values are the same doubles, so an indicator on a
ring gives the same numbers to the last bit and a restored ring continues where it stopped.

It offers what those indicators use of a deque: ``append`` (dropping the oldest value once
full), ``len``, indexing from either end and iteration in both directions
(:class:`operators.ta.candles.window.CandleRing` is its counterpart for candles).

>>> window = FloatRing(3)
>>> for value in [1.0, 2.0, 3.0, 4.0]:
...     window.append(value)
>>> len(window), window[0], window[-1], list(window), list(reversed(window))
(3, 2.0, 4.0, [2.0, 3.0, 4.0], [4.0, 3.0, 2.0])
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import ClassVar, Self


class Ring:
    """A ring of ``maxlen`` items of ``width`` doubles each in one flat ``array('d')``: where the
    next item goes, how many are held, and the snapshot form both rings share.

    A subclass reads and writes the items and names its module-level restorer in ``__reduce_ex__``.
    """

    __slots__ = ("maxlen", "_values", "_head", "_count")
    width: ClassVar[int] = 1

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen
        self._values = array("d", bytes(8 * self.width * maxlen))
        self._head = 0  # the slot the next append writes: the oldest item's once the ring is full
        self._count = 0

    def _snapshot(self) -> tuple[int, bytes, int, int]:
        """``maxlen``, the doubles as ``bytes``, the head and the count: what a restorer takes."""
        return self.maxlen, self._values.tobytes(), self._head, self._count

    @classmethod
    def _restored(cls, maxlen: int, values: bytes, head: int, count: int) -> Self:
        """The ring that ``_snapshot`` described."""
        ring = cls.__new__(cls)
        ring.maxlen, ring._values, ring._head, ring._count = maxlen, array("d", values), head, count
        return ring

    def __len__(self) -> int:
        return self._count

    def _advance(self) -> None:
        """Count the item just written at ``_head`` and move on (dropping the oldest once full)."""
        head = self._head + 1
        self._head = 0 if head == self.maxlen else head
        if self._count < self.maxlen:
            self._count += 1

    def _position(self, index: int) -> int:
        """The slot of item ``index`` (negative from the newest), as ``head - count + index``:
        negative where it wraps, so it reads from the array's end."""
        count = self._count
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"{type(self).__name__} index out of range")
        return self._head - count + index


class FloatRing(Ring):
    """The last ``maxlen`` floats appended, oldest first."""

    __slots__ = ()

    def __reduce_ex__(self, protocol: int) -> object:
        return _restore_ring, self._snapshot()

    def append(self, value: float) -> None:
        self._values[self._head] = value
        self._advance()

    def __getitem__(self, index: int) -> float:
        return self._values[self._position(index)]

    def __iter__(self) -> Iterator[float]:
        values, start = self._values, self._head - self._count
        for position in range(start, self._head):
            yield values[position]

    def __reversed__(self) -> Iterator[float]:
        values, head = self._values, self._head
        for position in range(head - 1, head - 1 - self._count, -1):
            yield values[position]

    def __repr__(self) -> str:
        return f"FloatRing({list(self)!r}, maxlen={self.maxlen})"


def _restore_ring(maxlen: int, values: bytes, head: int, count: int) -> FloatRing:
    """The ring that ``FloatRing.__reduce_ex__`` described."""
    return FloatRing._restored(maxlen, values, head, count)
