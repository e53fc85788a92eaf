"""Event features of one entity, as of any event time, never before an event's publication.

``EventFeatures`` is the per-entity logic: ``update(event)`` hands it a message (in any order),
``values(as_of_ns)`` returns the features as known at ``as_of_ns``. A message waits in a pending
queue until a query's time reaches its ``public_ts_ns``, so no feature can move before
publication, whatever order the stream delivers in. Queries must not go back in time (a
streaming join only moves forward; a research join sorts its rows first).

Features (``EVENT_FEATURES``; NaN while unknown):

- ``seconds_to_next_high_importance``: until the next scheduled event of importance >=
  ``high_importance`` announced by then; ``seconds_since_last_high_importance``: since the
  scheduled time of the last one reported.
- ``last_surprise_z``: the last reported actual - forecast, standardised by the mean and standard
  deviation of that event type's earlier surprises (needs ``min_history`` of them; 0 when they
  never varied and this one equals them).
- ``earnings_surprise``: (reported EPS - consensus) / |consensus|, the consensus being the mean of
  each analyst's latest estimate for the period made before the report (the release's own forecast
  when there is none); ``estimate_dispersion``: their standard deviation / |consensus|;
  ``estimate_count``: how many analysts.
- ``filing_net_negative`` and ``filing_uncertainty``: the Loughran-McDonald tone of the last
  filing's text (``operators.events.tone``).

State is O(announced events + open periods x analysts): past announcements are dropped when their
time passes, an estimate period when it is reported, and at most ``max_open_periods`` are kept.

>>> from operators.events.message import EventMessage
>>> features = EventFeatures(EventFeatureConfig())
>>> features.update(EventMessage("estimize", "earnings_release", "AAPL", "1:schedule", 0, 3_600 * 10**9, 3))
>>> features.values(1_800 * 10**9)["seconds_to_next_high_importance"]
1800.0
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from operators.events.message import EventMessage, is_announcement
from operators.events.tone import filing_tone

__all__ = ["EVENT_FEATURES", "EventFeatureConfig", "EventFeatures"]

EVENT_FEATURES: tuple[str, ...] = (
    "seconds_to_next_high_importance", "seconds_since_last_high_importance", "last_surprise_z",
    "earnings_surprise", "estimate_dispersion", "estimate_count", "filing_net_negative", "filing_uncertainty",
)
_NAN = float("nan")
_NS = 1e9
_EARNINGS = "earnings_release"
_ESTIMATE = "eps_estimate"


@dataclass(frozen=True, slots=True)
class EventFeatureConfig:
    """Settings of the event features, validated on construction.

    >>> EventFeatureConfig(high_importance=4)
    Traceback (most recent call last):
    ...
    ValueError: EventFeatureConfig.high_importance must be 1, 2 or 3, got 4
    """

    high_importance: int = 3
    min_history: int = 2
    max_open_periods: int = 8
    filing_types: frozenset[str] = frozenset({"8-K", "10-Q", "10-K"})

    def __post_init__(self) -> None:
        if type(self.high_importance) is not int or not 1 <= self.high_importance <= 3:
            raise ValueError(f"EventFeatureConfig.high_importance must be 1, 2 or 3, got {self.high_importance!r}")
        for name in ("min_history", "max_open_periods"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"EventFeatureConfig.{name} must be a positive int, got {value!r}")


@dataclass(slots=True)
class _Moments:
    """Count, mean and sum of squared deviations of a series (Welford), O(1) memory."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, value: float) -> None:
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (value - self.mean)

    def standardise(self, value: float, min_count: int) -> float:
        if self.count < min_count:
            return _NAN
        deviation = math.sqrt(self.m2 / (self.count - 1))
        if deviation == 0.0:
            return 0.0 if value == self.mean else _NAN
        return (value - self.mean) / deviation


@dataclass(slots=True)
class _State:
    pending: list[tuple[int, int, EventMessage]] = field(default_factory=list)
    arrivals: int = 0
    as_of_ns: int | None = None
    upcoming: dict[str, int] = field(default_factory=dict)
    last_high_ns: int | None = None
    surprises: dict[str, _Moments] = field(default_factory=dict)
    estimates: dict[str, dict[str, float]] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)


class EventFeatures:
    """The event features of one entity; see the module docstring."""

    names = EVENT_FEATURES

    def __init__(self, config: EventFeatureConfig) -> None:
        self.config = config
        self._reset()

    def _reset(self) -> None:
        self._state = _State(values={name: _NAN for name in EVENT_FEATURES})

    def reset(self) -> None:
        self._reset()

    @property
    def as_of_ns(self) -> int | None:
        """The time of the last query (None before the first): earlier queries are refused."""
        return self._state.as_of_ns

    def update(self, event: EventMessage) -> None:
        """Queue ``event``; it counts from its ``public_ts_ns`` on."""
        state = self._state
        heapq.heappush(state.pending, (event.public_ts_ns, state.arrivals, event))
        state.arrivals += 1

    def values(self, as_of_ns: int) -> dict[str, float]:
        """The features as known at ``as_of_ns`` (events public at or before it)."""
        state = self._state
        if state.as_of_ns is not None and as_of_ns < state.as_of_ns:
            raise ValueError(f"EventFeatures.values: expected as_of_ns >= {state.as_of_ns} (the last query), "
                             f"got {as_of_ns}")
        state.as_of_ns = as_of_ns
        while state.pending and state.pending[0][0] <= as_of_ns:
            self._apply(heapq.heappop(state.pending)[2])
        values = dict(state.values)
        values["seconds_to_next_high_importance"] = self._seconds_to_next(as_of_ns)
        if state.last_high_ns is not None:
            values["seconds_since_last_high_importance"] = (as_of_ns - state.last_high_ns) / _NS
        return values

    def _seconds_to_next(self, as_of_ns: int) -> float:
        upcoming = self._state.upcoming
        for key in [key for key, ts in upcoming.items() if ts <= as_of_ns]:
            del upcoming[key]
        return (min(upcoming.values()) - as_of_ns) / _NS if upcoming else _NAN

    def _apply(self, event: EventMessage) -> None:
        state, config = self._state, self.config
        high = event.importance >= config.high_importance
        if event.event_type == _ESTIMATE:
            self._add_estimate(event)
        elif is_announcement(event):
            if high:
                state.upcoming[_base_id(event.event_id)] = event.scheduled_ts_ns
        else:
            if high:
                state.upcoming.pop(_base_id(event.event_id), None)
                state.last_high_ns = max(event.scheduled_ts_ns, state.last_high_ns or event.scheduled_ts_ns)
            self._report(event)

    def _report(self, event: EventMessage) -> None:
        state = self._state
        if event.actual is not None and event.forecast is not None:
            surprise = event.actual - event.forecast
            moments = state.surprises.setdefault(event.event_type, _Moments())
            state.values["last_surprise_z"] = moments.standardise(surprise, self.config.min_history)
            moments.add(surprise)
        if event.event_type == _EARNINGS and event.actual is not None:
            self._earnings(event)
        if event.event_type in self.config.filing_types and event.text:
            tone = filing_tone(event.text)
            state.values["filing_net_negative"] = tone.net_negative
            state.values["filing_uncertainty"] = tone.uncertainty_share

    def _add_estimate(self, event: EventMessage) -> None:
        if event.forecast is None:
            return
        estimates = self._state.estimates
        estimates.setdefault(event.period, {})[event.author] = event.forecast
        while len(estimates) > self.config.max_open_periods:
            del estimates[min(estimates)]

    def _earnings(self, event: EventMessage) -> None:
        values = self._state.values
        by_analyst = self._state.estimates.pop(event.period, {})
        count = len(by_analyst)
        consensus = sum(by_analyst.values()) / count if count else event.forecast
        values["estimate_count"] = float(count)
        if consensus is None or consensus == 0.0:
            values["earnings_surprise"] = values["estimate_dispersion"] = _NAN
            return
        values["earnings_surprise"] = (event.actual - consensus) / abs(consensus)  # type: ignore[operator]
        if count >= 2:
            spread = math.sqrt(sum((x - consensus) ** 2 for x in by_analyst.values()) / (count - 1))
            values["estimate_dispersion"] = spread / abs(consensus)
        else:
            values["estimate_dispersion"] = _NAN


def _base_id(event_id: str) -> str:
    """The id shared by an announcement (``<id>:schedule``) and its report (``<id>``)."""
    return event_id.removesuffix(":schedule")
