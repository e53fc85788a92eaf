"""Execution risk: an order-rate throttle and duplicate-signal suppression, in event time.

>>> throttle = OrderThrottle(max_orders=2, window_ns=10)
>>> [throttle.allows("IBM", t) for t in (0, 1)], throttle.record("IBM", 0), throttle.record("IBM", 1)
([True, True], None, None)
>>> throttle.allows("IBM", 5), throttle.allows("IBM", 11)
(False, True)
>>> duplicates = DuplicateFilter(window_ns=5, memory=8)
>>> duplicates.is_duplicate("s1", "IBM", 1, 0), duplicates.record("s1", "IBM", 1, 0)
(None, None)
>>> duplicates.is_duplicate("s1", "IBM", 1, 100), duplicates.is_duplicate("s2", "IBM", 1, 3)
('signal id s1 was already decided', 'IBM: same direction 1 as the signal accepted 3 ns earlier (window 5 ns)')
"""

from __future__ import annotations

from collections import OrderedDict, deque

__all__ = ["DuplicateFilter", "OrderThrottle"]


class OrderThrottle:
    """At most ``max_orders`` accepted orders per symbol in any ``window_ns`` of event time."""

    __slots__ = ("_max", "_window", "_sent")

    def __init__(self, max_orders: int, window_ns: int) -> None:
        self._max = max_orders
        self._window = window_ns
        self._sent: dict[str, deque[int]] = {}

    def _recent(self, symbol: str, ts_ns: int) -> deque[int]:
        sent = self._sent.setdefault(symbol, deque(maxlen=self._max))
        while sent and sent[0] <= ts_ns - self._window:
            sent.popleft()
        return sent

    def allows(self, symbol: str, ts_ns: int) -> bool:
        return len(self._recent(symbol, ts_ns)) < self._max

    def count(self, symbol: str, ts_ns: int) -> int:
        return len(self._recent(symbol, ts_ns))

    def record(self, symbol: str, ts_ns: int) -> None:
        self._recent(symbol, ts_ns).append(ts_ns)


class DuplicateFilter:
    """Denies a signal id seen before, or a repeat of a symbol's last accepted direction
    within ``window_ns``. Remembers the last ``memory`` ids (O(memory) state)."""

    __slots__ = ("_window", "_memory", "_ids", "_last")

    def __init__(self, window_ns: int, memory: int) -> None:
        self._window = window_ns
        self._memory = memory
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._last: dict[str, tuple[int, int]] = {}

    def seen(self, signal_id: str) -> bool:
        return signal_id in self._ids

    def remember(self, signal_id: str) -> None:
        self._ids[signal_id] = None
        if len(self._ids) > self._memory:
            self._ids.popitem(last=False)

    def is_duplicate(self, signal_id: str, symbol: str, direction: int, ts_ns: int) -> str | None:
        """A sentence saying why the signal is a duplicate, or None."""
        if signal_id in self._ids:
            return f"signal id {signal_id} was already decided"
        last = self._last.get(symbol)
        if last is not None and last[0] == direction and ts_ns - last[1] < self._window:
            return (f"{symbol}: same direction {direction} as the signal accepted {ts_ns - last[1]} ns earlier "
                    f"(window {self._window} ns)")
        return None

    def record(self, signal_id: str, symbol: str, direction: int, ts_ns: int) -> None:
        self.remember(signal_id)
        self._last[symbol] = (direction, ts_ns)
