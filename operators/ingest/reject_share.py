"""One symbol's reject share over its last ``window`` judged ticks, and when it crosses a threshold.

The per-symbol step judges every tick of a symbol (duplicate filter, event-time guard) and
records each outcome here, admitted or rejected, in the order it decided them. The share is the
rejected part of the last ``window`` outcomes; it is judged only once ``window`` outcomes exist,
so a symbol that sent three ticks, one of them bad, is not "33 % rejected". The window counts
ticks, not seconds, so the same offsets give the same crossings in a replay and live.

A crossing is reported once: ``record`` returns ``+1`` when the share first exceeds
``threshold`` and ``-1`` when it falls back to ``threshold / 2`` or below (the gap keeps a
share that hovers at the threshold from reporting a crossing per tick). Whether the symbol is
over after each outcome depends on the outcomes only; ``record`` of several outcomes reports the
change between the start and the end of the call. State is bounded:
``window`` bytes and four integers per symbol.

>>> share = RejectShare(RejectShareConfig(threshold=0.5, window=4))
>>> [share.record(rejected) for rejected in (True, True, True, False)]
[None, None, None, 1]
>>> share.over, share.share
(True, 0.75)
>>> [share.record(False) for _ in range(3)]
[None, -1, None]
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RejectShare", "RejectShareConfig"]


@dataclass(frozen=True, slots=True)
class RejectShareConfig:
    """``threshold``: the share of rejected ticks (0 < threshold <= 1) above which a symbol is reported;
    ``window``: how many of the symbol's latest judged ticks the share is taken over.

    >>> RejectShareConfig(threshold=1.5)
    Traceback (most recent call last):
    ...
    ValueError: RejectShareConfig.threshold must be a number in (0, 1], got 1.5
    """

    threshold: float = 0.5
    window: int = 200

    def __post_init__(self) -> None:
        if type(self.threshold) not in (int, float) or not 0 < self.threshold <= 1:
            raise ValueError(f"RejectShareConfig.threshold must be a number in (0, 1], got {self.threshold!r}")
        if type(self.window) is not int or not 1 <= self.window <= 1_000_000:
            raise ValueError(f"RejectShareConfig.window must be an int in [1, 1000000], got {self.window!r}")


class RejectShare:
    """The outcomes of a symbol's last ``window`` ticks (a ring of 0/1 bytes) and whether it is over."""

    __slots__ = ("_config", "_outcomes", "_position", "_seen", "_rejected", "_over")

    def __init__(self, config: RejectShareConfig) -> None:
        if not isinstance(config, RejectShareConfig):
            raise TypeError(f"RejectShare needs a RejectShareConfig, got {type(config).__name__}")
        self._config = config
        self._outcomes = bytearray(config.window)
        self._position = 0
        self._seen = 0  # outcomes recorded, capped at the window
        self._rejected = 0  # rejected outcomes inside the window
        self._over = False

    @property
    def over(self) -> bool:
        """Whether the share passed the threshold (and has not yet fallen to half of it)."""
        return self._over

    @property
    def share(self) -> float:
        """The rejected part of the outcomes in the window (0.0 before any)."""
        return self._rejected / self._seen if self._seen else 0.0

    def record(self, rejected: bool, count: int = 1) -> int | None:
        """Record ``count`` outcomes alike; ``+1``/``-1`` when this call left the symbol over/under the
        threshold where it found it, else None (so a batch reports what holds at its end)."""
        window = self._config.window
        outcomes = self._outcomes
        value = 1 if rejected else 0
        was_over = self._over
        steps = count
        if self._seen >= window and count > window:
            # More than ``window`` outcomes alike leave a full window uniform whatever their number: write
            # the last ``window`` of them, from where the ring would be after the others.
            self._position = (self._position + count - window) % window
            steps = window
        for _ in range(steps):
            position = self._position
            if self._seen >= window:
                self._rejected -= outcomes[position]
            else:
                self._seen += 1
            outcomes[position] = value
            self._rejected += value
            self._position = position + 1 if position + 1 < window else 0
            if self._seen >= window:
                self._judge()
        if self._over == was_over:
            return None
        return 1 if self._over else -1

    def _judge(self) -> None:
        threshold = self._config.threshold
        share = self._rejected / self._config.window
        if not self._over and share > threshold:
            self._over = True
        elif self._over and share <= threshold / 2:
            self._over = False

    def __getstate__(self) -> tuple[RejectShareConfig, bytes, int, int, int, bool]:
        return (self._config, bytes(self._outcomes), self._position, self._seen, self._rejected, self._over)

    def __setstate__(self, state: tuple[RejectShareConfig, bytes, int, int, int, bool]) -> None:
        config, outcomes, self._position, self._seen, self._rejected, self._over = state
        self._config = config
        self._outcomes = bytearray(outcomes)

    def __repr__(self) -> str:
        return f"RejectShare(share={self.share:.3f}, seen={self._seen}, over={self._over})"
