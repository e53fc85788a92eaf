"""Feature drift a desk can act on: standardised features against a slow reference, one alarm per group.

Raw features are not stationary within a day (volume, trade counts and volatilities follow the
session's U shape, oscillators wander by design), so a change detector on their raw values
fires all day. What is stationary under normal conditions is a feature *measured against its
own recent past*, in units of how much it usually moves against it. Per feature:

1. ``z = (x - m) / s``, where ``m`` and ``s`` are an exponentially weighted mean and standard
   deviation over a long reference (half-life ``reference_half_life_s``, 30 minutes); ``z`` is
   clipped at ``clip`` (20: a unit error still stands out, one bad print moves the current
   window by at most 20 x 1.2%) and the value that enters the reference is the clipped one (a
   unit error cannot blow up the reference's scale);
2. the *current window* is an EWMA of ``z`` with a short half-life (``current_half_life_s``, 1
   minute): near 0 while the feature behaves like its last half hour;
3. the statistic is the current window divided by its own typical size (root mean square over
   ``scale_half_life_s``, 30 minutes). Features differ wildly in how smooth they are (a
   one-second return is noise, a 14-bar RSI wanders for minutes), so a fixed level on step 2
   alarms all day on the smooth ones; after step 3 every feature is on the same scale and one
   level (``open_level``, 8) serves them all. The levels are the ones ``bench/drift_eval.py``
   supports on real held-out days (``docs/monitoring.md``).

Features are aggregated per feature group (``operators.features.groups``): the group's
statistic is the largest ``|current|`` of its features, and one alarm per symbol and group
opens when it reaches ``open_level`` and closes once it has stayed at or below ``close_level``
for ``close_after_s`` (hysteresis). A group re-opens no sooner than ``min_gap_s`` after it last
opened (rate limit). Alarms are only raised in the regular session, after ``warmup_s`` of it
(the reference is learned afresh each session: the open is not compared with the pre-market).

Price-level features (a price, a vwap, the MACD in dollars) and discrete event codes (candle
patterns, the last trade's sign) are not watched (``UNWATCHED``): the first trend with the
market, the second by construction. The monitor samples one row per ``sample_ns`` of event
time, so its figures do not depend on the tick rate, and its state is a few floats per
feature: replays and recoveries give the same events with the same ``event_id``.

Every event carries its evidence in the existing ``DriftEvent`` fields: ``feature`` is
``group/feature`` (the feature that moved most), ``statistic`` that feature's statistic
(signed; at a close, the one that moved most then), ``detector`` names the reference and
current windows (``ewma_z(ref=1800s,cur=60s)``). ``kind`` is ``feature_investigation`` when the alarm opens and
``feature_investigation_closed`` when it closes.

>>> from operators.messages import FeatureRow
>>> monitor = StandardisedDriftMonitor(StandardisedDriftConfig(warmup_s=600))
>>> opened = 1_381_325_400_000_000_000  # 2013-10-09 09:30 New York
>>> events = []
>>> for second in range(3600):
...     spread = 1.0 + 0.1 * ((second * 7919) % 13 - 6) / 6 + (1.0 if second >= 1800 else 0.0)
...     events += monitor.update(FeatureRow("IBM", opened + second * 10**9, 0, second, 185.0,
...                                         ("spread_bps",), (spread,)))
>>> [(e.kind, e.feature, (e.ts_ns - opened) // 10**9, round(e.statistic, 1)) for e in events]
[('feature_investigation', 'quotes_and_trades/spread_bps', 1802, 8.0), ('feature_investigation_closed', 'quotes_and_trades/spread_bps', 2311, 1.4)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from operators.ids import stable_id
from operators.messages import DriftEvent, FeatureRow
from operators.monitoring.sessions import regular_session
from operators.monitoring.feature_groups import UNWATCHED, group_of

__all__ = ["CLOSED", "OPENED", "STANDARDISED", "StandardisedDriftConfig", "StandardisedDriftMonitor"]

STANDARDISED = "standardised"
OPENED = "feature_investigation"
CLOSED = "feature_investigation_closed"


@dataclass(frozen=True, slots=True)
class StandardisedDriftConfig:
    """Settings of the standardised feature monitor (see the module docstring for each one's role).

    >>> StandardisedDriftConfig(close_level=9.0)
    Traceback (most recent call last):
    ...
    ValueError: StandardisedDriftConfig.close_level must be in (0, open_level 8.0], got 9.0
    """

    reference_half_life_s: float = 1800.0
    current_half_life_s: float = 60.0
    scale_half_life_s: float = 1800.0
    clip: float = 20.0
    open_level: float = 8.0
    close_level: float = 3.0
    close_after_s: float = 300.0
    warmup_s: float = 1800.0
    min_gap_s: float = 3600.0
    sample_ns: int = 1_000_000_000
    unwatched: tuple[str, ...] = UNWATCHED

    def __post_init__(self) -> None:
        for name in ("reference_half_life_s", "current_half_life_s", "scale_half_life_s", "clip", "open_level"):
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

    @property
    def detector(self) -> str:
        return f"ewma_z(ref={self.reference_half_life_s:g}s,cur={self.current_half_life_s:g}s)"


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


class StandardisedDriftMonitor:
    """Per-symbol state: reference and current window of each watched feature, one alarm per group."""

    __slots__ = ("_config", "_session", "_last_ts", "_mean", "_var", "_current", "_seen", "_window", "_spread", "_alarms", "_plan")

    def __init__(self, config: StandardisedDriftConfig) -> None:
        if not isinstance(config, StandardisedDriftConfig):
            raise TypeError(f"StandardisedDriftMonitor needs a StandardisedDriftConfig, got {type(config).__name__}")
        self._config = config
        self._plan: tuple[tuple[str, ...], list[tuple[int, str, str]]] | None = None
        self._reset()

    def _reset(self) -> None:
        self._session: tuple[int, int] | None = None
        self._last_ts = -1
        self._mean: dict[str, float] = {}
        self._var: dict[str, float] = {}
        self._current: dict[str, float] = {}
        self._seen: dict[str, int] = {}
        self._window: dict[str, float] = {}
        self._spread: dict[str, float] = {}
        self._alarms: dict[str, _GroupAlarm] = {}

    def reset(self) -> None:
        """Forget every reference and alarm (for example after a feature-set change)."""
        self._reset()

    def current(self, feature: str) -> float:
        """The feature's current shift in reference standard deviations (0 before it is seen)."""
        return self._current.get(feature, 0.0)

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
        clip = config.clip
        mean, var, current, seen = self._mean, self._var, self._current, self._seen
        current_window, spread = self._window, self._spread
        values = row.values
        for index, name, _ in self._watched(row.names):
            value = values[index]
            if not -math.inf < value < math.inf:
                continue
            if name not in seen:
                mean[name], var[name], current[name], seen[name] = value, 0.0, 0.0, 1
                current_window[name], spread[name] = 0.0, 0.0
                continue
            centre = mean[name]
            scale = math.sqrt(var[name])
            if scale > 1e-12 * max(1.0, abs(centre)):
                z = max(-clip, min(clip, (value - centre) / scale))
                value = centre + z * scale
            else:
                z = 0.0 if value == centre else math.copysign(clip, value - centre)
            count = seen[name] + 1
            seen[name] = count
            rate = max(reference_rate, 1.0 / count)  # a plain average until the window has filled
            window = current_window[name] = current_window[name] + current_rate * (z - current_window[name])
            typical = spread[name]
            current[name] = window / math.sqrt(typical) if typical > 0 else 0.0
            spread[name] = typical + max(scale_rate, 1.0 / count) * (min(window * window, 100.0) - typical)
            step = value - centre
            mean[name] = centre + rate * step
            var[name] = (1.0 - rate) * (var[name] + rate * step * step)

    def _alarm(self, row: FeatureRow) -> list[DriftEvent]:
        strongest: dict[str, tuple[float, str]] = {}
        current = self._current
        for _, name, group in self._watched(row.names):
            shift = current.get(name, 0.0)
            best = strongest.get(group)
            if best is None or abs(shift) > abs(best[0]):
                strongest[group] = (shift, name)
        events = []
        config = self._config
        ts = row.ts_ns
        for group, (shift, name) in strongest.items():
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
                    events.append(self._event(row, CLOSED, group, name, shift))
            elif size >= config.open_level and (
                    alarm.last_opened < 0 or (ts - alarm.last_opened) / 1e9 >= config.min_gap_s):
                alarm.open, alarm.quiet_since, alarm.last_opened = True, -1, ts
                events.append(self._event(row, OPENED, group, name, shift))
        return events

    def _end_session(self, row: FeatureRow) -> list[DriftEvent]:
        """Close the alarms still open when their session ended (stamped with the first later row)."""
        events = [self._event(row, CLOSED, group, "session_end", 0.0)
                  for group, alarm in sorted(self._alarms.items()) if alarm.open]
        self._reset()
        return events

    def _event(self, row: FeatureRow, kind: str, group: str, feature: str, shift: float) -> DriftEvent:
        detector = self._config.detector
        return DriftEvent(event_id=stable_id(row.symbol, group, kind, detector, row.ts_ns), symbol=row.symbol,
                          ts_ns=row.ts_ns, feature=f"{group}/{feature}", detector=detector,
                          statistic=float(shift), kind=kind)

    def __getstate__(self) -> dict[str, object]:
        return {"config": self._config, "session": self._session, "last_ts": self._last_ts, "mean": self._mean,
                "var": self._var, "current": self._current, "seen": self._seen, "window": self._window, "spread": self._spread, "alarms": self._alarms}

    def __setstate__(self, state: dict[str, object]) -> None:
        for key in ("config", "session", "last_ts", "mean", "var", "current", "seen", "window", "spread", "alarms"):
            setattr(self, "_" + key, state[key])
        self._plan = None

    def __repr__(self) -> str:
        return f"StandardisedDriftMonitor(features={len(self._seen)}, config={self._config!r})"
