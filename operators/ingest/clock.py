"""Event-time guard: keep one symbol's clock honest without losing real session gaps.

One ``EventTimeGuard`` per symbol owns that symbol's event time (the latest released
``ts_ns``). Each tick is judged against it:

- the first tick sets the clock and is released;
- a tick more than ``late_tolerance_ns`` behind the clock is rejected as ``ts_late``;
- a tick no more than ``ahead_tolerance_ns`` ahead is released and the clock moves to
  ``max(clock, ts_ns)``;
- a tick further ahead is held as *pending*. Real sessions have overnight and weekend
  gaps of 8 to 64 hours, while a single tick stamped an hour in the future must not
  poison the clock, so the next tick decides: if it lies within ``[pending - late,
  pending + ahead]`` the gap is confirmed and the pending tick, then the new tick, are
  released (the clock jumps); otherwise the pending tick is rejected as ``ts_ahead`` and
  the new tick is judged against the old clock (so it may become the new pending tick).

At most one tick is pending. ``flush()`` (end of input) releases a pending tick: nothing
contradicts it, and dropping the last tick of a replay would be data loss.

Rejects have stage ``"clock"``; their ``raw`` is the tick re-encoded as JSON, because
the original bytes are not carried past validation. Outputs come in a fixed order
(pending tick before the tick that confirmed it), so replays give identical streams.

>>> from operators.messages import Trade, ValidTick
>>> def at(ts_ns: int, offset: int) -> ValidTick:
...     return ValidTick(Trade("IBM", ts_ns, 185.0, 100.0), "ticks", 0, offset)
>>> guard = EventTimeGuard(EventTimeConfig())
>>> hour = 3_600_000_000_000
>>> start = 1_381_239_000_000_000_000
>>> [len(part) for part in guard.admit(at(start, 0))]
[1, 0]
>>> guard.admit(at(start + 2 * hour, 1))  # far ahead: held until the next tick decides
([], [])
>>> released, rejected = guard.admit(at(start + 1_000, 2))
>>> [t.offset for t in released], [(r.reason, r.offset) for r in rejected]
([2], [('ts_ahead', 1)])
"""

from __future__ import annotations

from dataclasses import dataclass


from operators.messages import Reject, ValidTick, reject

__all__ = ["STAGE", "EventTimeConfig", "EventTimeGuard"]

STAGE = "clock"
_NANOSECONDS_PER_SECOND = 1_000_000_000



@dataclass(frozen=True, slots=True)
class EventTimeConfig:
    """Tolerances of the event-time guard, in nanoseconds.

    >>> EventTimeConfig(late_tolerance_ns=-1)
    Traceback (most recent call last):
    ...
    ValueError: EventTimeConfig.late_tolerance_ns must be an int >= 0 (nanoseconds), got -1
    """

    ahead_tolerance_ns: int = 3_600 * _NANOSECONDS_PER_SECOND
    late_tolerance_ns: int = 2 * _NANOSECONDS_PER_SECOND

    def __post_init__(self) -> None:
        if type(self.ahead_tolerance_ns) is not int or self.ahead_tolerance_ns <= 0:
            raise ValueError(
                f"EventTimeConfig.ahead_tolerance_ns must be an int > 0 (nanoseconds), got {self.ahead_tolerance_ns!r}"
            )
        if type(self.late_tolerance_ns) is not int or self.late_tolerance_ns < 0:
            raise ValueError(
                f"EventTimeConfig.late_tolerance_ns must be an int >= 0 (nanoseconds), got {self.late_tolerance_ns!r}"
            )


class EventTimeGuard:
    """One symbol's event-time clock plus at most one far-ahead tick awaiting confirmation."""

    __slots__ = ("_config", "_clock_ns", "_pending")

    def __init__(self, config: EventTimeConfig) -> None:
        if not isinstance(config, EventTimeConfig):
            raise TypeError(f"EventTimeGuard needs an EventTimeConfig, got {type(config).__name__}")
        self._config = config
        self._clock_ns: int | None = None
        self._pending: ValidTick | None = None

    @property
    def clock_ns(self) -> int | None:
        """The symbol's event time: the largest released ``ts_ns`` (``None`` before any tick)."""
        return self._clock_ns

    @property
    def pending(self) -> ValidTick | None:
        """The far-ahead tick waiting for the next tick to confirm or refute it."""
        return self._pending

    def admit(self, tick: ValidTick) -> tuple[list[ValidTick], list[Reject]]:
        """Judge one tick; return the ticks released now (in order) and the ticks rejected."""
        released: list[ValidTick] = []
        rejected: list[Reject] = []
        pending = self._pending
        if pending is not None:
            self._pending = None
            ts_ns = tick.tick.ts_ns
            pending_ts_ns = pending.tick.ts_ns
            earliest_ns = pending_ts_ns - self._config.late_tolerance_ns
            if earliest_ns <= ts_ns <= pending_ts_ns + self._config.ahead_tolerance_ns:
                self._clock_ns = pending_ts_ns
                released.append(pending)
            else:
                rejected.append(self._reject_ahead(pending, tick))
        self._judge(tick, released, rejected)
        return released, rejected

    def flush(self) -> tuple[list[ValidTick], list[Reject]]:
        """End of input: release the pending tick, if any (no later tick contradicts it)."""
        pending = self._pending
        if pending is None:
            return [], []
        self._pending = None
        self._clock_ns = pending.tick.ts_ns
        return [pending], []

    def _judge(self, tick: ValidTick, released: list[ValidTick], rejected: list[Reject]) -> None:
        ts_ns = tick.tick.ts_ns
        clock_ns = self._clock_ns
        if clock_ns is None:
            self._clock_ns = ts_ns
            released.append(tick)
        elif ts_ns < clock_ns - self._config.late_tolerance_ns:
            rejected.append(self._reject_late(tick, clock_ns))
        elif ts_ns <= clock_ns + self._config.ahead_tolerance_ns:
            if ts_ns > clock_ns:
                self._clock_ns = ts_ns
            released.append(tick)
        else:
            self._pending = tick

    def _reject_late(self, tick: ValidTick, clock_ns: int) -> Reject:
        ts_ns = tick.tick.ts_ns
        detail = (
            f"expected ts_ns >= {clock_ns - self._config.late_tolerance_ns} (event time {clock_ns} minus "
            f"{self._config.late_tolerance_ns} ns late tolerance), got {ts_ns}, {clock_ns - ts_ns} ns behind"
        )
        return reject(STAGE, tick, "ts_late", detail)

    def _reject_ahead(self, pending: ValidTick, refuting: ValidTick) -> Reject:
        clock_ns = self._clock_ns
        detail = (
            f"expected ts_ns within {self._config.ahead_tolerance_ns} ns of event time {clock_ns} or confirmed by "
            f"the next tick, got {pending.tick.ts_ns} and a next tick at {refuting.tick.ts_ns} (offset "
            f"{refuting.offset}) that does not confirm it"
        )
        return reject(STAGE, pending, "ts_ahead", detail)

    def __getstate__(self) -> tuple[EventTimeConfig, int | None, ValidTick | None]:
        return self._config, self._clock_ns, self._pending

    def __setstate__(self, state: tuple[EventTimeConfig, int | None, ValidTick | None]) -> None:
        self._config, self._clock_ns, self._pending = state

    def __repr__(self) -> str:
        return f"EventTimeGuard(clock_ns={self._clock_ns!r}, pending_offset={getattr(self._pending, 'offset', None)!r})"

