"""Feature drift a desk can act on: standardised features against a slow reference, one alarm per group.

Raw features are not stationary within a day (volume, trade counts and volatilities follow the
session's U shape, oscillators wander by design), so a change detector on their raw values
fires all day. What is stationary under normal conditions is a feature *measured against its
own recent past*, in units of how much it usually moves against it. Per feature:

1. ``z = (x - m) / s``, where ``m`` and ``s`` are an exponentially weighted mean and standard
   deviation over a long reference (half-life ``reference_half_life_s``, 30 minutes); ``z`` is
   clipped at ``clip`` (4: one bad print moves the current window by a bounded step, a unit
   error still saturates it) and the value that enters the reference is the clipped one;
2. two *current windows* with a short half-life (``current_half_life_s``, 3 minutes): the
   **level**, an EWMA of ``z`` (the feature moved one way), and the **dispersion**, an EWMA of
   ``|z|`` minus its own reference mean (the feature is further from its reference than usual:
   a jump, wider swings, or, when negative, a feature that stopped moving);
3. each statistic is its window divided by the window's own typical size (root mean square over
   ``scale_half_life_s``, 30 minutes). Features differ wildly in how smooth they are (a
   one-second return is noise, a 14-bar RSI wanders for minutes), so a fixed level on step 2
   alarms all day on the smooth ones; after step 3 every feature is on the same scale and one
   level (``open_level``, 8) serves them all. The typical size learns at most ``scale_growth``
   squared times itself per step, so a sustained shift is not learned as the new normal within
   a minute;
4. while a feature stands out (``|statistic| >= hold_level``, 6) its reference and typical sizes
   learn at ``hold`` (a tenth) of their rate: a shift is measured against what came before it
   instead of being absorbed by the reference it is measured against.

The levels are the ones ``bench/drift_eval.py`` supports on real held-out days
(``docs/monitoring.md``): about 1.5 false alarms per symbol-day. A shift of one standard
deviation of the feature is mostly *not* detectable within minutes at that rate: the harness
measures that a 10-minute mean of a watched feature moves that much against the previous 30
minutes on its own on most days.

Features are aggregated per feature group (``operators.features.groups``): the group's
statistic is the largest ``|statistic|`` of its features' two channels, and one alarm per symbol
and group opens when it reaches ``open_level`` and closes once it has stayed at or below
``close_level`` for ``close_after_s`` (hysteresis). A group re-opens no sooner than
``min_gap_s`` after it last opened (rate limit). Alarms are only raised in the regular session,
after ``warmup_s`` of it (the reference is learned afresh each session: the open is not compared
with the pre-market).

Price-level features (a price, a vwap, the MACD in dollars) and discrete event codes (candle
patterns, the last trade's sign) are not watched (``UNWATCHED``): the first trend with the
market, the second by construction. The monitor samples one row per ``sample_ns`` of event
time, so its figures do not depend on the tick rate, and its state is ten floats per feature
in one list: replays and recoveries give the same events with the same ``event_id``.

Every event carries its evidence in the existing ``DriftEvent`` fields: ``feature`` is
``group/feature`` (the feature that moved most), ``statistic`` that feature's statistic
(signed; at a close, the one that moved most then), ``detector`` names the channel and the
reference and current windows (``ewma_z(ref=1800s,cur=180s)`` for the level,
``ewma_abs_z(...)`` for the dispersion). ``kind`` is ``feature_investigation`` when the alarm
opens and ``feature_investigation_closed`` when it closes.

>>> from operators.messages import FeatureRow
>>> monitor = StandardisedDriftMonitor(StandardisedDriftConfig(warmup_s=600))
>>> opened = 1_381_325_400_000_000_000  # 2013-10-09 09:30 New York
>>> events = []
>>> for second in range(3 * 3600):
...     spread = 1.0 + 0.1 * ((second * 7919) % 13 - 6) / 6 + (1.0 if second >= 1800 else 0.0)
...     events += monitor.update(FeatureRow("IBM", opened + second * 10**9, 0, second, 185.0,
...                                         ("spread_bps",), (spread,)))
>>> [(e.kind, e.feature, (e.ts_ns - opened) // 10**9, round(e.statistic, 1)) for e in events]
[('feature_investigation', 'quotes_and_trades/spread_bps', 1811, 8.1), ('feature_investigation_closed', 'quotes_and_trades/spread_bps', 3923, 2.0)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from operators.messages.ids import stable_id
from operators.messages import DriftEvent, FeatureRow
from operators.monitoring.sessions import regular_session
from operators.monitoring.feature_groups import UNWATCHED, group_of

__all__ = ["CLOSED", "OPENED", "STANDARDISED", "StandardisedDriftConfig", "StandardisedDriftMonitor"]

STANDARDISED = "standardised"
OPENED = "feature_investigation"
CLOSED = "feature_investigation_closed"
LEVEL = "level"
DISPERSION = "dispersion"


@dataclass(frozen=True, slots=True)
class StandardisedDriftConfig:
    """Settings of the standardised feature monitor (see the module docstring for each one's role).

    >>> StandardisedDriftConfig(close_level=9.0)
    Traceback (most recent call last):
    ...
    ValueError: StandardisedDriftConfig.close_level must be in (0, open_level 8.0], got 9.0
    """

    reference_half_life_s: float = 1800.0
    current_half_life_s: float = 180.0
    scale_half_life_s: float = 1800.0
    scale_growth: float = 3.0
    hold_level: float = 6.0
    hold: float = 0.1
    clip: float = 4.0
    open_level: float = 8.0
    close_level: float = 3.0
    close_after_s: float = 300.0
    warmup_s: float = 1800.0
    min_gap_s: float = 3600.0
    sample_ns: int = 1_000_000_000
    unwatched: tuple[str, ...] = UNWATCHED

    def __post_init__(self) -> None:
        for name in ("reference_half_life_s", "current_half_life_s", "scale_half_life_s", "clip", "open_level",
                     "scale_growth", "hold_level", "hold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise ValueError(f"StandardisedDriftConfig.{name} must be a number > 0, got {value!r}")
        if not self.current_half_life_s < self.reference_half_life_s:
            raise ValueError("StandardisedDriftConfig.current_half_life_s must be shorter than the reference's "
                             f"{self.reference_half_life_s}, got {self.current_half_life_s}")
        if not 0 < self.close_level <= self.open_level:
            raise ValueError(f"StandardisedDriftConfig.close_level must be in (0, open_level {self.open_level}], "
                             f"got {self.close_level!r}")
        for name in ("close_after_s", "warmup_s", "min_gap_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise ValueError(f"StandardisedDriftConfig.{name} must be a number >= 0, got {value!r}")
        if type(self.sample_ns) is not int or self.sample_ns < 0:
            raise ValueError(f"StandardisedDriftConfig.sample_ns must be an int >= 0, got {self.sample_ns!r}")

    def detector(self, channel: str = "level") -> str:
        """The name events carry: the channel (``ewma_z`` level, ``ewma_abs_z`` dispersion) and both windows."""
        statistic = "ewma_z" if channel == LEVEL else "ewma_abs_z"
        return f"{statistic}(ref={self.reference_half_life_s:g}s,cur={self.current_half_life_s:g}s)"


def _scaled(window: float, typical: float, rate: float, growth: float) -> tuple[float, float]:
    """``window`` in units of its typical size, and the typical mean square after learning ``window``.

    The mean square learns at most ``growth`` times itself per step: a sustained shift raises
    the statistic at once, while the scale it is measured against follows only slowly (a plain
    EWMA of ``window**2`` would learn the shift itself within a minute and hide it).
    """
    square = window * window
    statistic = window / math.sqrt(typical) if typical > 0 else 0.0
    if typical > 0:
        square = min(square, growth * typical)
    return statistic, typical + rate * (min(square, 100.0) - typical)


class _GroupAlarm:
    """One group's alarm: open or not, since when it has been quiet, when it last opened."""

    __slots__ = ("open", "quiet_since", "last_opened")

    def __init__(self) -> None:
        self.open = False
        self.quiet_since = -1
        self.last_opened = -1

    def __getstate__(self) -> tuple[bool, int, int]:
        return self.open, self.quiet_since, self.last_opened

    def __setstate__(self, state: tuple[bool, int, int]) -> None:
        self.open, self.quiet_since, self.last_opened = state


# Per-feature state, one flat list each (a snapshot copies a few floats per feature, not dicts of dicts):
_MEAN, _VAR, _COUNT, _LEVEL, _LEVEL_SCALE, _ABS_MEAN, _SPREAD, _SPREAD_SCALE, _LEVEL_STAT, _SPREAD_STAT = range(10)


class StandardisedDriftMonitor:
    """Per-symbol state: reference and current windows of each watched feature, one alarm per group."""

    __slots__ = ("_config", "_session", "_last_ts", "_state", "_alarms", "_plan")

    def __init__(self, config: StandardisedDriftConfig) -> None:
        if not isinstance(config, StandardisedDriftConfig):
            raise TypeError(f"StandardisedDriftMonitor needs a StandardisedDriftConfig, got {type(config).__name__}")
        self._config = config
        self._plan: tuple[tuple[str, ...], list[tuple[int, str, str]]] | None = None
        self._reset()

    def _reset(self) -> None:
        self._session: tuple[int, int] | None = None
        self._last_ts = -1
        self._state: dict[str, list[float]] = {}
        self._alarms: dict[str, _GroupAlarm] = {}

    def reset(self) -> None:
        """Forget every reference and alarm (for example after a feature-set change)."""
        self._reset()

    def current(self, feature: str) -> float:
        """The feature's level statistic: its current shift against the reference, in typical sizes (0 before it is seen)."""
        state = self._state.get(feature)
        return state[_LEVEL_STAT] if state is not None else 0.0

    def dispersion(self, feature: str) -> float:
        """The feature's dispersion statistic: how much more (+) or less (-) it moves than the reference, in typical sizes."""
        state = self._state.get(feature)
        return state[_SPREAD_STAT] if state is not None else 0.0

    def update(self, row: FeatureRow) -> list[DriftEvent]:
        """Feed one feature row; return the alarms it opened or closed."""
        ts = row.ts_ns
        config = self._config
        if self._last_ts >= 0 and ts < self._last_ts + config.sample_ns:
            return []
        session = self._session
        if session is None or not session[0] <= ts < session[1]:
            events = self._end_session(row) if session is not None else []
            session = regular_session(ts)
            if session is None:
                return events
            self._reset()
            self._session = session
            self._learn(row, 0.0)
            return events
        self._learn(row, (ts - self._last_ts) / 1e9)
        return self._alarm(row) if (ts - session[0]) / 1e9 >= config.warmup_s else []

    def _watched(self, names: tuple[str, ...]) -> list[tuple[int, str, str]]:
        plan = self._plan
        if plan is None or plan[0] is not names:
            unwatched = frozenset(self._config.unwatched)
            plan = self._plan = (names, [(i, name, group_of(name)) for i, name in enumerate(names)
                                         if name not in unwatched])
        return plan[1]

    def _learn(self, row: FeatureRow, elapsed_s: float) -> None:
        """Score each finite value against the reference, then let the reference learn it."""
        config = self._config
        self._last_ts = row.ts_ns
        reference_rate = -math.expm1(-elapsed_s * math.log(2) / config.reference_half_life_s)
        current_rate = -math.expm1(-elapsed_s * math.log(2) / config.current_half_life_s)
        scale_rate = -math.expm1(-elapsed_s * math.log(2) / config.scale_half_life_s)
        clip, growth = config.clip, config.scale_growth ** 2
        hold, hold_level = config.hold, config.hold_level
        states = self._state
        values = row.values
        for index, name, _ in self._watched(row.names):
            value = values[index]
            if not -math.inf < value < math.inf:
                continue
            state = states.get(name)
            if state is None:
                states[name] = [value, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
                continue
            centre = state[_MEAN]
            scale = math.sqrt(state[_VAR])
            if scale > 1e-12 * max(1.0, abs(centre)):
                z = max(-clip, min(clip, (value - centre) / scale))
                value = centre + z * scale
            else:
                z = 0.0 if value == centre else math.copysign(clip, value - centre)
            count = state[_COUNT] + 1.0
            state[_COUNT] = count
            fill = 1.0 / count  # plain averages until each window has filled
            # While the feature stands out, its reference and scales learn slowly: a shift is
            # measured against what came before it instead of being absorbed within minutes.
            slow = hold if max(abs(state[_LEVEL_STAT]), abs(state[_SPREAD_STAT])) >= hold_level else 1.0
            rate, scale_learn = max(reference_rate * slow, fill), max(scale_rate * slow, fill)
            level = state[_LEVEL] = state[_LEVEL] + current_rate * (z - state[_LEVEL])
            state[_LEVEL_STAT], state[_LEVEL_SCALE] = _scaled(level, state[_LEVEL_SCALE], scale_learn, growth)
            size = abs(z)
            spread = state[_SPREAD] = state[_SPREAD] + current_rate * (size - state[_ABS_MEAN] - state[_SPREAD])
            state[_ABS_MEAN] += rate * (size - state[_ABS_MEAN])
            state[_SPREAD_STAT], state[_SPREAD_SCALE] = _scaled(spread, state[_SPREAD_SCALE], scale_learn, growth)
            step = value - centre
            state[_MEAN] = centre + rate * step
            state[_VAR] = (1.0 - rate) * (state[_VAR] + rate * step * step)

    def _alarm(self, row: FeatureRow) -> list[DriftEvent]:
        strongest: dict[str, tuple[float, str, str]] = {}
        states = self._state
        for _, name, group in self._watched(row.names):
            state = states.get(name)
            if state is None:
                continue
            level, spread = state[_LEVEL_STAT], state[_SPREAD_STAT]
            shift, channel = (level, LEVEL) if abs(level) >= abs(spread) else (spread, DISPERSION)
            best = strongest.get(group)
            if best is None or abs(shift) > abs(best[0]):
                strongest[group] = (shift, name, channel)
        events = []
        config = self._config
        ts = row.ts_ns
        for group, (shift, name, channel) in strongest.items():
            alarm = self._alarms.get(group)
            if alarm is None:
                alarm = self._alarms[group] = _GroupAlarm()
            size = abs(shift)
            if alarm.open:
                if size > config.close_level:
                    alarm.quiet_since = -1
                elif alarm.quiet_since < 0:
                    alarm.quiet_since = ts
                elif (ts - alarm.quiet_since) / 1e9 >= config.close_after_s:
                    alarm.open = False
                    events.append(self._event(row, CLOSED, group, name, shift, channel))
            elif size >= config.open_level and (
                    alarm.last_opened < 0 or (ts - alarm.last_opened) / 1e9 >= config.min_gap_s):
                alarm.open, alarm.quiet_since, alarm.last_opened = True, -1, ts
                events.append(self._event(row, OPENED, group, name, shift, channel))
        return events

    def _end_session(self, row: FeatureRow) -> list[DriftEvent]:
        """Close the alarms still open when their session ended (stamped with the first later row)."""
        events = [self._event(row, CLOSED, group, "session_end", 0.0, LEVEL)
                  for group, alarm in sorted(self._alarms.items()) if alarm.open]
        self._reset()
        return events

    def _event(self, row: FeatureRow, kind: str, group: str, feature: str, shift: float, channel: str) -> DriftEvent:
        detector = self._config.detector(channel)
        return DriftEvent(event_id=stable_id(row.symbol, group, kind, detector, row.ts_ns), symbol=row.symbol,
                          ts_ns=row.ts_ns, feature=f"{group}/{feature}", detector=detector,
                          statistic=float(shift), kind=kind)

    def __getstate__(self) -> dict[str, object]:
        return {"config": self._config, "session": self._session, "last_ts": self._last_ts, "state": self._state,
                "alarms": self._alarms}

    def __setstate__(self, state: dict[str, object]) -> None:
        for key in ("config", "session", "last_ts", "state", "alarms"):
            setattr(self, "_" + key, state[key])
        self._plan = None

    def __repr__(self) -> str:
        return f"StandardisedDriftMonitor(features={len(self._state)}, config={self._config!r})"
