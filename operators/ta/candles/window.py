"""A candle pattern's recent candles in one flat ``array('d')``: a ring buffer with a head index.

A pattern reads the last few candles (up to a dozen, for the averages that judge a body or a
shadow). A ``deque`` of :class:`Candle` named tuples holds a tuple and four floats per candle
(about 170 bytes) and a snapshot rebuilds each named tuple through ``copyreg``; the ring holds
four doubles per candle, is written by a snapshot as one ``bytes``, and builds a :class:`Candle`
when one is read. The prices are the same doubles, so patterns give the same integers.
"""

from __future__ import annotations

from collections.abc import Iterator

from operators.ta.candles.candle import Candle
from operators.ta.ring import Ring


class CandleRing(Ring):
    """The last ``maxlen`` candles appended, oldest first, as open, high, low, close doubles.

    >>> window = CandleRing(2)
    >>> for price in [1.0, 2.0, 3.0]:
    ...     window.append(price, price + 1.0, price - 1.0, price + 0.5)
    >>> len(window), window[-1], window[0].open
    (2, Candle(open=3.0, high=4.0, low=2.0, close=3.5), 2.0)
    """

    __slots__ = ()
    width = 4  # open, high, low, close

    def __reduce_ex__(self, protocol: int) -> object:
        return _restore_candle_ring, self._snapshot()

    def append(self, open: float, high: float, low: float, close: float) -> None:
        prices = self._values
        start = 4 * self._head
        prices[start] = open
        prices[start + 1] = high
        prices[start + 2] = low
        prices[start + 3] = close
        self._advance()

    def __getitem__(self, index: int) -> Candle:
        position = self._position(index)
        if position < 0:
            position += self.maxlen
        start = 4 * position
        return Candle._make(self._values[start:start + 4])

    def __iter__(self) -> Iterator[Candle]:
        for index in range(self._count):
            yield self[index]


def _restore_candle_ring(maxlen: int, prices: bytes, head: int, count: int) -> CandleRing:
    """The ring that ``CandleRing.__reduce_ex__`` described."""
    return CandleRing._restored(maxlen, prices, head, count)
