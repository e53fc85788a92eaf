"""A candle pattern's recent candles in one flat ``array('d')``: a ring buffer with a head index.

A pattern reads the last few candles (up to a dozen, for the averages that judge a body or a
shadow). A ``deque`` of :class:`Candle` named tuples holds a tuple and four floats per candle
(about 170 bytes) and a snapshot rebuilds each named tuple through ``copyreg``; the ring holds
four doubles per candle, is written by a snapshot as one ``bytes``, and builds a :class:`Candle`
when one is read. The prices are the same doubles, so patterns give the same integers.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

from operators.ta.candles.candle import Candle
class CandleRing:
    """The last ``maxlen`` candles appended, oldest first, as open, high, low, close doubles.

    >>> window = CandleRing(2)
    >>> for price in [1.0, 2.0, 3.0]:
    ...     window.append(price, price + 1.0, price - 1.0, price + 0.5)
    >>> len(window), window[-1], window[0].open
    (2, Candle(open=3.0, high=4.0, low=2.0, close=3.5), 2.0)
    """

    __slots__ = ("maxlen", "_prices", "_head", "_count")

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen
        self._prices = array("d", bytes(32 * maxlen))
        self._head = 0  # the candle the next append writes
        self._count = 0

    def __reduce_ex__(self, protocol: int) -> object:
        return _restore_candle_ring, (self.maxlen, self._prices.tobytes(), self._head, self._count)

    def __len__(self) -> int:
        return self._count

    def append(self, open: float, high: float, low: float, close: float) -> None:
        head = self._head
        prices = self._prices
        start = 4 * head
        prices[start] = open
        prices[start + 1] = high
        prices[start + 2] = low
        prices[start + 3] = close
        head += 1
        self._head = 0 if head == self.maxlen else head
        if self._count < self.maxlen:
            self._count += 1

    def __getitem__(self, index: int) -> Candle:
        count = self._count
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError("CandleRing index out of range")
        position = self._head - count + index
        if position < 0:
            position += self.maxlen
        start = 4 * position
        return Candle._make(self._prices[start:start + 4])

    def __iter__(self) -> Iterator[Candle]:
        for index in range(self._count):
            yield self[index]


def _restore_candle_ring(maxlen: int, prices: bytes, head: int, count: int) -> CandleRing:
    """The ring that ``CandleRing.__reduce_ex__`` described."""
    ring = CandleRing.__new__(CandleRing)
    ring.maxlen, ring._prices, ring._head, ring._count = maxlen, array("d", prices), head, count
    return ring
