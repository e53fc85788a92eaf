"""Event-time guard: keep one symbol's clock honest without losing real session gaps.

One ``EventTimeGuard`` per symbol owns that symbol's event time (the latest released
``ts_ns``). No single message can move it far, and a clock that went wrong anyway heals:

- **The first ticks are evidence, not truth.** Until ``confirmations`` ticks from distinct
  source positions agree with each other (each within ``[max - late, max + ahead]`` of the
  ones before it), the symbol has no clock: its ticks are held. A tick that contradicts the
  held ones refutes them (each is rejected as ``ts_ahead``) and starts the evidence anew; a
  tick far ahead of them is held apart as a possible jump (below). So a first tick stamped
  2099 followed by the real ticks costs that one tick, not the symbol.
- A tick more than ``late_tolerance_ns`` behind the clock is rejected as ``ts_late``; a tick
  no more than ``ahead_tolerance_ns`` ahead is released and the clock moves to
  ``max(clock, ts_ns)``.
- **A jump needs independent evidence.** A tick further ahead is held. Real sessions have
  overnight and weekend gaps of 8 to 64 hours, so ``confirmations`` held ticks from distinct
  source positions that agree with each other confirm the jump: they are released in order and
  the clock moves to the latest of them. Any tick that does not agree with the held ones
  refutes them first (each rejected as ``ts_ahead``), so two ticks stamped two hours ahead
  among real ticks are two rejects.
- **A captured clock heals.** If ``reset_after`` consecutive ticks are late, and agree with
  each other, the feed says the clock is wrong: the last of them is rejected as
  ``clock_reset`` (the counted trace of the reset; the others were rejected as ``ts_late``)
  and the clock re-anchors to the latest of them, so the symbol rejoins after at most
  ``reset_after`` ticks. Whoever keeps state derived from the old clock (the features) must
  start it again.

Everything is decided from event time and arrival order within the symbol (one partition),
never from the wall clock, so the same offsets give the same decisions. State is bounded:
at most ``confirmations - 1`` held ticks of each kind, and two integers for the late streak.
``flush()`` (end of input) releases what is held: nothing contradicts it, and dropping the
last ticks of a replay would be data loss.

Rejects have stage ``"clock"``; their ``raw`` is the tick re-encoded as JSON, because
the original bytes are not carried past validation. Outputs come in a fixed order
(held ticks before the tick that confirmed them), so replays give identical streams.

>>> from operators.messages import Trade, ValidTick
>>> def at(ts_ns: int, offset: int) -> ValidTick:
...     return ValidTick(Trade("IBM", ts_ns, 185.0, 100.0), "ticks", 0, offset)
>>> guard = EventTimeGuard(EventTimeConfig(confirmations=2))
>>> hour = 3_600_000_000_000
>>> start = 1_381_239_000_000_000_000
>>> guard.admit(at(start, 0))  # the first tick waits for a second opinion
([], [])
>>> [t.offset for t in guard.admit(at(start + 1_000, 1))[0]]
[0, 1]
>>> guard.admit(at(start + 2 * hour, 2))  # far ahead: held until enough ticks agree
([], [])
>>> released, rejected = guard.admit(at(start + 2_000, 3))
>>> [t.offset for t in released], [(r.reason, r.offset) for r in rejected]
([3], [('ts_ahead', 2)])
"""

from __future__ import annotations

from dataclasses import dataclass

from operators.messages import Reject, ValidTick, reject

__all__ = ["CLOCK_RESET", "STAGE", "SYMBOL_IDLE", "EventTimeConfig", "EventTimeGuard"]

STAGE = "clock"
CLOCK_RESET = "clock_reset"
SYMBOL_IDLE = "symbol_idle"
_NANOSECONDS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class EventTimeConfig:
    """Tolerances of the event-time guard, in nanoseconds, and how much evidence moves the clock.

    ``confirmations``: distinct source positions that must agree before a symbol's first clock
    is set or a jump beyond ``ahead_tolerance_ns`` is taken (1 trusts a single tick).
    ``reset_after``: consecutive late ticks, agreeing with each other, that re-anchor the clock.

    >>> EventTimeConfig(late_tolerance_ns=-1)
    Traceback (most recent call last):
    ...
    ValueError: EventTimeConfig.late_tolerance_ns must be an int >= 0 (nanoseconds), got -1
    """

    ahead_tolerance_ns: int = 3_600 * _NANOSECONDS_PER_SECOND
    late_tolerance_ns: int = 2 * _NANOSECONDS_PER_SECOND
    confirmations: int = 3
    reset_after: int = 20

    def __post_init__(self) -> None:
        if type(self.ahead_tolerance_ns) is not int or self.ahead_tolerance_ns <= 0:
            raise ValueError(
                f"EventTimeConfig.ahead_tolerance_ns must be an int > 0 (nanoseconds), got {self.ahead_tolerance_ns!r}"
            )
        if type(self.late_tolerance_ns) is not int or self.late_tolerance_ns < 0:
            raise ValueError(
                f"EventTimeConfig.late_tolerance_ns must be an int >= 0 (nanoseconds), got {self.late_tolerance_ns!r}"
            )
        if type(self.confirmations) is not int or not 1 <= self.confirmations <= 100:
            raise ValueError(f"EventTimeConfig.confirmations must be an int in [1, 100], got {self.confirmations!r}")
        if type(self.reset_after) is not int or not 2 <= self.reset_after <= 1_000_000:
            raise ValueError(f"EventTimeConfig.reset_after must be an int in [2, 1000000], got {self.reset_after!r}")


def _latest(group: list[ValidTick]) -> int:
    return max(item.tick.ts_ns for item in group)


class EventTimeGuard:
    """One symbol's event-time clock, the ticks held as evidence, and the current late streak."""

    __slots__ = ("_config", "_clock_ns", "_unconfirmed", "_ahead", "_late_count", "_late_clock_ns")

    def __init__(self, config: EventTimeConfig) -> None:
        if not isinstance(config, EventTimeConfig):
            raise TypeError(f"EventTimeGuard needs an EventTimeConfig, got {type(config).__name__}")
        self._config = config
        self._clock_ns: int | None = None
        self._unconfirmed: list[ValidTick] = []  # before the first clock: ticks that agree so far
        self._ahead: list[ValidTick] = []  # ticks far ahead of the clock that agree so far
        self._late_count = 0
        self._late_clock_ns = 0

    @property
    def clock_ns(self) -> int | None:
        """The symbol's event time: the largest released ``ts_ns`` (``None`` until confirmed)."""
        return self._clock_ns

    @property
    def held(self) -> tuple[ValidTick, ...]:
        """The ticks waiting for enough agreeing evidence, in arrival order."""
        return (*self._unconfirmed, *self._ahead)

    def admit(self, tick: ValidTick) -> tuple[list[ValidTick], list[Reject]]:
        """Judge one tick; return the ticks released now (in order) and the ticks rejected."""
        released: list[ValidTick] = []
        rejected: list[Reject] = []
        clock_ns = self._clock_ns
        ahead = self._ahead
        if ahead and self._agrees(ahead, tick):
            self._hold_ahead(tick, released, rejected)
        elif clock_ns is None:
            self._judge_unconfirmed(tick, released, rejected)
        elif tick.tick.ts_ns > clock_ns + self._config.ahead_tolerance_ns:
            self._hold_ahead(tick, released, rejected)
        else:
            if ahead:
                self._refute(ahead, tick, rejected)
            self._judge(tick, clock_ns, released, rejected)
        return released, rejected

    def _judge(self, tick: ValidTick, clock_ns: int, released: list[ValidTick], rejected: list[Reject]) -> None:
        ts_ns = tick.tick.ts_ns
        if ts_ns < clock_ns - self._config.late_tolerance_ns:
            rejected.append(self._late(tick, clock_ns))
            return
        self._late_count = 0
        if ts_ns > clock_ns:
            self._clock_ns = ts_ns
        released.append(tick)

    def flush(self) -> tuple[list[ValidTick], list[Reject]]:
        """End of input: release the held ticks (no later tick contradicts them)."""
        released = [*self._unconfirmed, *self._ahead]
        if released:
            latest = _latest(released)
            self._clock_ns = latest if self._clock_ns is None else max(self._clock_ns, latest)
        self._unconfirmed, self._ahead = [], []
        return released, []

    def abandon(self, silent_s: float) -> list[Reject]:
        """The symbol is released after ``silent_s`` seconds without a tick: reject what is held as
        ``symbol_idle`` (nothing confirmed it, and nothing will be kept to confirm it later)."""
        held = [*self._unconfirmed, *self._ahead]
        self._unconfirmed, self._ahead = [], []
        return [reject(STAGE, tick, SYMBOL_IDLE,
                       f"expected {self._config.confirmations} agreeing ticks from distinct source positions to "
                       f"confirm it, got {len(held)} before the symbol was silent for {silent_s:g} s and its state "
                       "was released") for tick in held]

    def _agrees(self, group: list[ValidTick], tick: ValidTick) -> bool:
        """``tick`` is further evidence for ``group``: close to its latest time, from a new position."""
        latest = _latest(group)
        ts_ns = tick.tick.ts_ns
        if not latest - self._config.late_tolerance_ns <= ts_ns <= latest + self._config.ahead_tolerance_ns:
            return False
        return all((held.topic, held.partition, held.offset) != (tick.topic, tick.partition, tick.offset)
                   for held in group)

    def _judge_unconfirmed(self, tick: ValidTick, released: list[ValidTick], rejected: list[Reject]) -> None:
        unconfirmed = self._unconfirmed
        if unconfirmed and tick.tick.ts_ns > _latest(unconfirmed) + self._config.ahead_tolerance_ns:
            self._hold_ahead(tick, released, rejected)
            return
        if self._ahead:
            self._refute(self._ahead, tick, rejected)
        if unconfirmed and not self._agrees(unconfirmed, tick):
            self._refute(unconfirmed, tick, rejected)
        unconfirmed.append(tick)
        if len(unconfirmed) >= self._config.confirmations:
            self._clock_ns = _latest(unconfirmed)
            released.extend(unconfirmed)
            unconfirmed.clear()

    def _hold_ahead(self, tick: ValidTick, released: list[ValidTick], rejected: list[Reject]) -> None:
        ahead = self._ahead
        if ahead and not self._agrees(ahead, tick):
            self._refute(ahead, tick, rejected)
        ahead.append(tick)
        if len(ahead) < self._config.confirmations:
            return
        # Enough agreeing ticks far ahead: a real gap (overnight, weekend). Earlier unconfirmed
        # ticks, if any, come first: they are older and nothing refuted them.
        released.extend(self._unconfirmed)
        released.extend(ahead)
        self._clock_ns = _latest(ahead)
        self._unconfirmed.clear()
        ahead.clear()
        self._late_count = 0

    def _refute(self, group: list[ValidTick], refuting: ValidTick, rejected: list[Reject]) -> None:
        """Reject every tick of ``group`` as ``ts_ahead``: ``refuting`` does not agree with them."""
        clock_ns = self._clock_ns
        expected = (f"ts_ns within {self._config.ahead_tolerance_ns} ns of event time {clock_ns}"
                    if clock_ns is not None else "a first event time")
        for held in group:
            detail = (f"expected {expected} confirmed by {self._config.confirmations} agreeing ticks from distinct "
                      f"source positions, got {held.tick.ts_ns} and then a tick at {refuting.tick.ts_ns} (offset "
                      f"{refuting.offset}) that does not agree with it")
            rejected.append(reject(STAGE, held, "ts_ahead", detail))
        group.clear()

    def _late(self, tick: ValidTick, clock_ns: int) -> Reject:
        ts_ns = tick.tick.ts_ns
        config = self._config
        if self._late_count and (self._late_clock_ns - config.late_tolerance_ns <= ts_ns
                                 <= self._late_clock_ns + config.ahead_tolerance_ns):
            self._late_count += 1
            self._late_clock_ns = max(self._late_clock_ns, ts_ns)
        else:
            self._late_count, self._late_clock_ns = 1, ts_ns
        if self._late_count >= config.reset_after:
            self._clock_ns = self._late_clock_ns
            self._late_count = 0
            detail = (f"expected ts_ns >= {clock_ns - config.late_tolerance_ns}, got {ts_ns}, the "
                      f"{config.reset_after}th consecutive late tick in agreement, so the event time is reset from "
                      f"{clock_ns} to {self._clock_ns}")
            return reject(STAGE, tick, CLOCK_RESET, detail)
        detail = (
            f"expected ts_ns >= {clock_ns - config.late_tolerance_ns} (event time {clock_ns} minus "
            f"{config.late_tolerance_ns} ns late tolerance), got {ts_ns}, {clock_ns - ts_ns} ns behind"
        )
        return reject(STAGE, tick, "ts_late", detail)

    def __getstate__(self) -> tuple[EventTimeConfig, int | None, list[ValidTick], list[ValidTick], int, int]:
        return (self._config, self._clock_ns, self._unconfirmed, self._ahead, self._late_count, self._late_clock_ns)

    def __setstate__(self, state: tuple[EventTimeConfig, int | None, list[ValidTick], list[ValidTick], int, int]
                     ) -> None:
        (self._config, self._clock_ns, self._unconfirmed, self._ahead, self._late_count,
         self._late_clock_ns) = state

    def __repr__(self) -> str:
        return (f"EventTimeGuard(clock_ns={self._clock_ns!r}, held_offsets={[t.offset for t in self.held]!r}, "
                f"late_streak={self._late_count})")
