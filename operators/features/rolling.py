"""Rolling sums in O(1) per update: over the last ``window`` observations, or over an event-time window.

- ``RollingSums``: a ring buffer of rows and their running column sums. To keep float drift
  bounded the sums are recomputed exactly from the buffer every ``window`` updates (O(window)
  once per window, so O(1) amortised).
  (``operators.features.estimators.RollingEstimator`` builds the windowed statistics on it.)
- ``EventTimeSums``: two running sums over ``(now - window_ns, now]`` (order-flow and signed
  volume imbalance); ``EventTimeSum``: one (trade sizes); ``EventTimeWindows``: two over several
  windows of one event stream (the order-flow imbalance at 1, 10 and 60 s and the quoted depth
  over 60 s), on one set of buffers.

They keep their windows in flat ``array`` buffers (one ``'d'`` or ``'q'`` array per column,
never a Python object per value), so a symbol's state is a few buffers: it costs little memory
at run time, and a recovery snapshot is a few ``bytes`` copied in C and restored exactly (the
same doubles, so a restored window continues bit-identically).

>>> sums = RollingSums(window=3, columns=2)
>>> for pair in [(1.0, 2.0), (3.0, 4.0), (5.0, 6.0), (7.0, 8.0)]:
...     sums.update(*pair)
>>> sums.count, sums.total(0), sums.total(1)
(3, 15.0, 18.0)
"""

from __future__ import annotations

from array import array
from typing import ClassVar

#: Room for this many events at least beyond the live ones when an event buffer is (re)allocated.
_SPARE_EVENTS = 16
#: The expiry of an empty or just restored window: before every event time, so the next advance looks.
_CHECK = -(2**63)


class RollingSums:
    """Column sums of the last ``window`` rows of ``columns`` floats.

    The rows live in one flat ``array('d')`` of ``window * columns`` doubles, row ``i`` at
    ``[i * columns, (i + 1) * columns)``; ``_position`` is the row the next update overwrites.
    """

    __slots__ = ("window", "columns", "_buffer", "_position", "_count", "_sums", "_since_resync")

    def __init__(self, window: int, columns: int) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an integer >= 1, got {window!r}")
        if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
            raise ValueError(f"columns must be an integer >= 1, got {columns!r}")
        self.window = window
        self.columns = columns
        self._reset()

    def _reset(self) -> None:
        self._buffer = array("d", bytes(8 * self.window * self.columns))
        self._position = 0
        self._count = 0
        self._sums = [0.0] * self.columns
        self._since_resync = 0

    def reset(self) -> None:
        self._reset()

    def __getstate__(self) -> tuple[int, int, bytes, int, int, tuple[float, ...], int]:
        return (self.window, self.columns, self._buffer.tobytes(), self._position, self._count, tuple(self._sums),
                self._since_resync)

    def __setstate__(self, state: tuple[int, int, bytes, int, int, tuple[float, ...], int]) -> None:
        self.window, self.columns, buffer, self._position, self._count, sums, self._since_resync = state
        self._buffer = array("d", buffer)
        self._sums = list(sums)

    @property
    def count(self) -> int:
        return self._count

    @property
    def ready(self) -> bool:
        return self._count >= self.window

    def total(self, column: int) -> float:
        return self._sums[column]

    def update(self, *values: float) -> None:
        columns = self.columns
        if len(values) != columns:
            raise ValueError(f"expected {columns} values, got {len(values)}")
        buffer = self._buffer
        sums = self._sums
        position = self._position
        window = self.window
        index = start = position * columns
        if self._count == window:
            for old in buffer[start:start + columns]:
                sums[index - start] -= old
                index += 1
        else:
            self._count += 1
        index = start
        for value in values:
            sums[index - start] += value
            buffer[index] = value
            index += 1
        self._position = position + 1 if position + 1 < window else 0
        self._since_resync += 1
        if self._since_resync >= window:
            self._resync()

    def _resync(self) -> None:
        """The sums again from the rows held, in buffer order (the rows written so far)."""
        columns = self.columns
        held = self._buffer[:self._count * columns]
        sums = []
        for index in range(columns):
            total = 0.0
            for value in held[index::columns]:
                total += value
            sums.append(total)
        self._sums = sums
        self._since_resync = 0


class _EventBuffer:
    """Events (an ``int`` time and one or two ``float`` values) in preallocated flat arrays.

    C doubles and int64s, no Python object per value (indexed directly: a ``memoryview`` over each
    would be no faster per tick and cost about 250 bytes more per column). The subclass names its
    columns in ``_columns``, the times first. Events are appended at ``_tail``; the
    subclass keeps where its live events start. When the buffer is full, the live events move
    to its front if they fill at most half of it (a copy in C), else to fresh arrays half as
    large again as they are; either is O(1) amortised. The arrays hold at most half as much again
    as the longest burst the window has seen, or 16 events more (a restore sizes them to the live
    events again: a quarter instead made the order-flow updates about 5% slower).
    """

    __slots__ = ("_times", "_firsts", "_tail")
    _columns: ClassVar[tuple[str, ...]] = ("_times", "_firsts")

    def _fill(self, *columns: bytes) -> None:
        """Fresh arrays holding ``columns`` (the raw bytes of each column; none: no events) and room to spare."""
        count = len(columns[0]) // 8 if columns else 0
        spare = bytes(8 * max(_SPARE_EVENTS, count // 2))
        for index, name in enumerate(self._columns):
            held = columns[index] if columns else b""
            setattr(self, name, array("d" if index else "q", held + spare))
        self._tail = count

    def _make_room(self, start: int) -> None:
        """Room after ``_tail`` for one more event, keeping the events from ``start`` (moved to index 0)."""
        tail = self._tail
        live = tail - start
        if 2 * live <= len(self._times):
            for name in self._columns:
                column = getattr(self, name)
                column[:live] = column[start:tail]
            self._tail = live
        else:
            self._fill(*self._live(start))

    def _live(self, start: int) -> tuple[bytes, ...]:
        """The events from ``start`` on, as the raw bytes of their columns."""
        tail = self._tail
        return tuple(getattr(self, name)[start:tail].tobytes() for name in self._columns)


class _EventWindow(_EventBuffer):
    """One rolling event-time window ``(now - window_ns, now]`` over an event buffer: its events are
    ``[_head, _tail)``, and ``_expires_ns`` is when the oldest of them leaves (``_CHECK`` when not
    known: the window was empty, or has just been restored). The subclass keeps the running sums."""

    __slots__ = ("window_ns", "_head", "_expires_ns")

    def __init__(self, window_ns: int) -> None:
        if isinstance(window_ns, bool) or not isinstance(window_ns, int) or window_ns <= 0:
            raise ValueError(f"window_ns must be a positive integer number of nanoseconds, got {window_ns!r}")
        self.window_ns = window_ns
        self._reset()

    def _reset(self) -> None:
        self._fill()
        self._head = 0
        self._expires_ns = _CHECK

    def reset(self) -> None:
        self._reset()

    def __len__(self) -> int:
        return self._tail - self._head

    @property
    def times(self) -> list[int]:
        """The event times in the window, oldest first (a copy)."""
        return self._times[self._head:self._tail].tolist()


class EventTimeSum(_EventWindow):
    """A running sum over the events of a rolling event-time window ``(now - window_ns, now]``.

    :class:`EventTimeSums` with one value per event instead of two, for a stream that needs one
    sum besides the count (trade sizes) or the count alone: a third less state than carrying a
    column of ones. The same ``advance``, the same exact zeros when the window empties, and a
    snapshot of the live events as two ``bytes``. (One class for any number of columns would
    loop over them and double the cost of an ``add``.)

    >>> sizes = EventTimeSum(window_ns=10)
    >>> sizes.add(1, 3.0); sizes.add(5, 4.0)
    >>> sizes.advance(11)  # the event at 1 leaves the window (1 <= 11 - 10)
    >>> len(sizes), sizes.total
    (1, 4.0)
    """

    __slots__ = ("total",)

    def _reset(self) -> None:
        super()._reset()
        self.total = 0.0

    def __getstate__(self) -> tuple[int, bytes, bytes, float]:
        return (self.window_ns, *self._live(self._head), self.total)

    def __setstate__(self, state: tuple[int, bytes, bytes, float]) -> None:
        self.window_ns, times, values, self.total = state
        self._fill(times, values)
        self._head = 0
        self._expires_ns = _CHECK

    def add(self, ts_ns: int, value: float) -> None:
        tail = self._tail
        try:
            self._times[tail] = ts_ns
        except IndexError:  # full
            self._make_room(self._head)
            self._head = 0
            tail = self._tail
            self._times[tail] = ts_ns
        self._firsts[tail] = value
        self._tail = tail + 1
        self.total += value

    def advance(self, ts_ns: int) -> None:
        """Drop the events at or before ``ts_ns - window_ns``."""
        if ts_ns < self._expires_ns:  # the oldest event is still in the window
            return
        head, tail = self._head, self._tail
        if head == tail:
            return
        times, values = self._times, self._firsts
        window_ns = self.window_ns
        horizon = ts_ns - window_ns
        total = self.total
        oldest = times[head]
        while oldest <= horizon:
            total -= values[head]
            head += 1
            if head == tail:  # emptied: an exact zero again, and the buffer is reused from its start
                self._head = self._tail = 0
                self._expires_ns = _CHECK
                self.total = 0.0
                return
            oldest = times[head]
        self._head = head
        self._expires_ns = oldest + window_ns
        self.total = total


class EventTimeSums(_EventWindow):
    """Two running sums over the events of a rolling event-time window ``(now - window_ns, now]``.

    ``advance`` costs one comparison while the oldest event has not expired. A snapshot holds the
    live events only, as three ``bytes``. An emptied window starts again from exact zeros, so
    no float drift survives it.

    >>> sums = EventTimeSums(window_ns=10)
    >>> sums.add(1, 3.0, 1.0); sums.add(5, 4.0, 1.0)
    >>> sums.advance(11)  # the event at 1 leaves the window (1 <= 11 - 10)
    >>> len(sums), sums.first, sums.second
    (1, 4.0, 1.0)
    """

    __slots__ = ("_seconds", "first", "second")
    _columns = ("_times", "_firsts", "_seconds")

    def _reset(self) -> None:
        super()._reset()
        self.first = 0.0
        self.second = 0.0

    def __getstate__(self) -> tuple[int, bytes, bytes, bytes, float, float]:
        return (self.window_ns, *self._live(self._head), self.first, self.second)

    def __setstate__(self, state: tuple[int, bytes, bytes, bytes, float, float]) -> None:
        self.window_ns, times, firsts, seconds, self.first, self.second = state
        self._fill(times, firsts, seconds)
        self._head = 0
        self._expires_ns = _CHECK

    def add(self, ts_ns: int, first: float, second: float) -> None:
        tail = self._tail
        try:
            self._times[tail] = ts_ns
        except IndexError:  # full
            self._make_room(self._head)
            self._head = 0
            tail = self._tail
            self._times[tail] = ts_ns
        self._firsts[tail] = first
        self._seconds[tail] = second
        self._tail = tail + 1
        self.first += first
        self.second += second

    def advance(self, ts_ns: int) -> None:
        """Drop the events at or before ``ts_ns - window_ns``."""
        if ts_ns < self._expires_ns:  # the oldest event is still in the window
            return
        head, tail = self._head, self._tail
        if head == tail:
            return
        times, firsts, seconds = self._times, self._firsts, self._seconds
        window_ns = self.window_ns
        horizon = ts_ns - window_ns
        first, second = self.first, self.second
        oldest = times[head]
        while oldest <= horizon:
            first -= firsts[head]
            second -= seconds[head]
            head += 1
            if head == tail:  # emptied: exact zeros again, and the buffer is reused from its start
                self._head = self._tail = 0
                self._expires_ns = _CHECK
                self.first = self.second = 0.0
                return
            oldest = times[head]
        self._head = head
        self._expires_ns = oldest + window_ns
        self.first, self.second = first, second


class EventTimeWindows(_EventBuffer):
    """Two running sums over several event-time windows ``(now - window_ns, now]`` of one event stream.

    The windows share one buffer (the events of the longest window): each keeps its own head
    (its oldest event), expiry and sums, which see exactly the additions and removals of an
    :class:`EventTimeSums` of that length advanced at the same times, so the figures are the same
    to the last bit. ``advance`` moves every window; a window that empties starts again from
    exact zeros. Advancing again to the same time with no event added since returns at once
    (``_advanced_ns``): the features of one row each advance to the row's time, and while a
    window is empty its expiry is unknown, which would otherwise look at every window each time.

    >>> windows = EventTimeWindows((10, 100))
    >>> windows.add(1, 3.0, 1.0); windows.add(5, 4.0, 1.0)
    >>> windows.advance(11)  # the event at 1 leaves the 10 ns window only
    >>> [(windows.count(i), windows.first(i)) for i in range(2)]
    [(1, 4.0), (2, 7.0)]
    """

    __slots__ = ("_seconds", "windows_ns", "_heads", "_expires_ns", "_next_expiry_ns", "_advanced_ns", "_first_sums",
                 "_second_sums")
    _columns = ("_times", "_firsts", "_seconds")

    def __init__(self, windows_ns: tuple[int, ...]) -> None:
        if not windows_ns or any(isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in windows_ns):
            raise ValueError(f"windows_ns must be positive integer numbers of nanoseconds, got {windows_ns!r}")
        self.windows_ns = tuple(windows_ns)
        self._reset()

    def _reset(self) -> None:
        count = len(self.windows_ns)
        self._fill()
        self._heads = [0] * count
        self._expires_ns = [_CHECK] * count
        self._next_expiry_ns = self._advanced_ns = _CHECK
        self._first_sums = [0.0] * count
        self._second_sums = [0.0] * count

    def reset(self) -> None:
        self._reset()

    def __getstate__(self) -> tuple[tuple[int, ...], bytes, bytes, bytes, tuple[int, ...], tuple[float, ...],
                                    tuple[float, ...]]:
        start = min(self._heads)
        return (self.windows_ns, *self._live(start), tuple(head - start for head in self._heads),
                tuple(self._first_sums), tuple(self._second_sums))

    def __setstate__(self, state: tuple[tuple[int, ...], bytes, bytes, bytes, tuple[int, ...], tuple[float, ...],
                                        tuple[float, ...]]) -> None:
        self.windows_ns, times, firsts, seconds, heads, first_sums, second_sums = state
        self._fill(times, firsts, seconds)
        self._heads = list(heads)
        self._first_sums = list(first_sums)
        self._second_sums = list(second_sums)
        self._expires_ns = [_CHECK] * len(heads)
        self._next_expiry_ns = self._advanced_ns = _CHECK

    def count(self, window: int) -> int:
        """Events in window number ``window`` (by position in ``windows_ns``)."""
        return self._tail - self._heads[window]

    def times(self, window: int) -> list[int]:
        """The event times in window number ``window``, oldest first (a copy)."""
        return self._times[self._heads[window]:self._tail].tolist()

    def first(self, window: int) -> float:
        return self._first_sums[window]

    def second(self, window: int) -> float:
        return self._second_sums[window]

    def leave_out_newest(self, window: int) -> None:
        """Leave the newest event out of window number ``window``, which holds no other event.

        That window starts after it, from exact zeros, while the other windows keep it: so one buffer
        serves streams that differ by their first event (every quote's depth, and the order-flow
        events, which begin with the second quote).
        """
        if self.count(window) != 1:
            raise ValueError(f"window {window} holds {self.count(window)} events; only a window whose one event "
                             "is the newest can leave it out")
        self._heads[window] = self._tail
        self._first_sums[window] = self._second_sums[window] = 0.0
        self._expires_ns[window] = self._next_expiry_ns = self._advanced_ns = _CHECK

    def add(self, ts_ns: int, first: float, second: float) -> None:
        tail = self._tail
        if tail == len(self._times):
            start = min(self._heads)
            self._make_room(start)
            self._heads = [head - start for head in self._heads]
            tail = self._tail
        self._times[tail] = ts_ns
        self._firsts[tail] = first
        self._seconds[tail] = second
        self._tail = tail + 1
        self._advanced_ns = _CHECK
        first_sums, second_sums = self._first_sums, self._second_sums
        for index in range(len(first_sums)):
            first_sums[index] += first
            second_sums[index] += second

    def advance(self, ts_ns: int) -> None:
        """Drop from every window the events at or before ``ts_ns - window_ns``."""
        if ts_ns < self._next_expiry_ns or ts_ns == self._advanced_ns:
            return
        self._advanced_ns = ts_ns
        times, firsts, seconds = self._times, self._firsts, self._seconds
        heads, expires = self._heads, self._expires_ns
        tail = self._tail
        for index, window_ns in enumerate(self.windows_ns):
            if ts_ns < expires[index]:
                continue
            head = heads[index]
            if head == tail:  # empty: its expiry stays unknown until an event arrives
                continue
            horizon = ts_ns - window_ns
            first, second = self._first_sums[index], self._second_sums[index]
            while head < tail and times[head] <= horizon:
                first -= firsts[head]
                second -= seconds[head]
                head += 1
            if head == tail:  # emptied: exact zeros again
                first = second = 0.0
                expires[index] = _CHECK
            else:
                expires[index] = times[head] + window_ns
            self._first_sums[index], self._second_sums[index] = first, second
            heads[index] = head
        self._next_expiry_ns = min(expires)
        if min(heads) == tail:  # every window emptied: the buffer is reused from its start
            self._heads = [0] * len(heads)
            self._tail = 0
