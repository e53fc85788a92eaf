"""The flow's event join: a symbol's feature rows gain the event features known at their time.

Keyed by symbol, the step receives two kinds of items: ``EventMessage`` (the symbol's own events
and, fanned out by ``market_fan_out``, its market's) and ``FeatureRow`` (from the feature step). An
event only enters the state; a feature row leaves with ``EVENT_FEATURES`` of the symbol and
``<market>_<feature>`` of each market appended, as known at the row's ``ts_ns``. Because
``EventFeatures`` waits for each message's public time, an event that arrives early (an
announcement, a replay) never shows in a row stamped before its publication. Event features that
are NaN (no event announced yet) are real values, so their quality flags are 0. A row stamped
before an earlier row of the symbol (a late tick the clock guard let through) cannot be answered
without rewinding the state, so it gets NaN event features flagged 1 (missing input) rather than
features that might include later news.

>>> from operators.messages import FeatureRow
>>> config = EventJoinConfig()
>>> row = FeatureRow("AAPL", 2_000, 0, 7, 150.0, ("ret",), (0.01,))
>>> event = EventMessage("estimize", "earnings_release", "AAPL", "1", 1_000, 1_000, 3, actual=4.18, forecast=4.0)
>>> state, _ = join_step(None, event, config)
>>> state, rows = join_step(state, row, config)
>>> round(rows[0].get("earnings_surprise"), 3), rows[0].feature_set
(0.045, '+events1')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from operators.events.features import EVENT_FEATURES, EventFeatureConfig, EventFeatures
from operators.events.message import EventMessage
from operators.messages import FeatureRow

__all__ = ["EVENT_FEATURE_SET", "EventJoinConfig", "EventJoinState", "join_step", "market_fan_out"]

#: Appended to a row's ``feature_set`` when the event features join it (bump when they change).
EVENT_FEATURE_SET = "+events1"


@dataclass(frozen=True, slots=True)
class EventJoinConfig:
    """Which entities are markets (their events reach every symbol) and the feature settings.

    >>> EventJoinConfig(markets=("us",))
    Traceback (most recent call last):
    ...
    ValueError: EventJoinConfig.markets must be upper-case market codes, got ('us',)
    """

    markets: tuple[str, ...] = ("US",)
    features: EventFeatureConfig = field(default_factory=EventFeatureConfig)

    def __post_init__(self) -> None:
        if not all(isinstance(market, str) and market.isalpha() and market.isupper() for market in self.markets):
            raise ValueError(f"EventJoinConfig.markets must be upper-case market codes, got {self.markets!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """The appended feature names, in order."""
        return EVENT_FEATURES + tuple(f"{market.lower()}_{name}" for market in self.markets for name in EVENT_FEATURES)


@dataclass(slots=True)
class EventJoinState:
    """One symbol's event features and one set per market."""

    own: EventFeatures
    markets: dict[str, EventFeatures]


def market_fan_out(event: EventMessage, markets: tuple[str, ...], symbols: Iterable[str]) -> list[tuple[str, EventMessage]]:
    """``(key, event)`` pairs: a market's event goes to every symbol, a symbol's to that symbol."""
    if event.entity in markets:
        return [(symbol, event) for symbol in symbols]
    return [(event.entity, event)]


def join_step(state: EventJoinState | None, item: EventMessage | FeatureRow,
              config: EventJoinConfig) -> tuple[EventJoinState, list[FeatureRow]]:
    """Keep an event; return a feature row with the event features as of its time appended."""
    if state is None:
        state = EventJoinState(EventFeatures(config.features),
                               {market: EventFeatures(config.features) for market in config.markets})
    if isinstance(item, EventMessage):
        state.markets.get(item.entity, state.own).update(item)
        return state, []
    features = [state.own, *(state.markets[market] for market in config.markets)]
    if any(feature.as_of_ns is not None and item.ts_ns < feature.as_of_ns for feature in features):
        values, flag = (float("nan"),) * len(config.names), 1
    else:
        values, flag = tuple(value for feature in features for value in feature.values(item.ts_ns).values()), 0
    quality = item.quality + (flag,) * len(values) if item.quality else ()
    row = msgspec.structs.replace(item, names=item.names + config.names, values=item.values + values,
                                  feature_set=item.feature_set + EVENT_FEATURE_SET, quality=quality)
    return state, [row]
