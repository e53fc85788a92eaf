"""Settings of the event features: whether the live flow joins events to the feature rows, and which markets.

A section of ``dataflows.config.Settings`` (``settings.events``); it reads ``TICKWISE_EVENTS``:
empty or ``0`` (the default) leaves the feature rows and their feature-set hash exactly as without
events (an event message on the ticks topic is then admitted and changes nothing); ``1`` joins the
event features with the market ``US``; a comma list of market codes (``US,EU``) names the markets,
whose events reach every symbol. With events on, each feature row ends with the symbol's own event
features and ``<market>_<feature>`` per market (``operators.events.join``), under the feature set
``<hash>+events1``; a model selects its features by name, so one trained without them still scores.

>>> EventsSection(markets="1").markets, EventsSection(markets="eu, US").join_config().names[-1]
(('US',), 'us_filing_uncertainty')
>>> EventsSection().join_config() is None
True
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated

from operators.events import EventJoinConfig, EventLimits

__all__ = ["EventsSection"]

_OFF = ("", "0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")
_DEFAULT_MARKETS = ("US",)


class EventsSection(BaseSettings):
    """The markets whose events join the feature rows (empty: event features off)."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    markets: Annotated[tuple[str, ...], NoDecode] = Field((), alias="TICKWISE_EVENTS")

    @field_validator("markets", mode="before")
    @classmethod
    def _market_list(cls, value: object) -> object:
        if isinstance(value, bool):
            return _DEFAULT_MARKETS if value else ()
        if not isinstance(value, str):
            return value
        text = value.strip().lower()
        if text in _OFF:
            return ()
        if text in _ON:
            return _DEFAULT_MARKETS
        markets = sorted({piece.strip().upper() for piece in value.split(",") if piece.strip()})
        bad = [market for market in markets if not market.isalpha()]
        if bad:
            raise ValueError(f"expected 0, 1 or a comma list of market codes such as US,EU, got {value!r}")
        return tuple(markets)

    def join_config(self) -> EventJoinConfig | None:
        """The per-symbol step's event join, None when event features are off."""
        return EventJoinConfig(markets=self.markets) if self.markets else None

    def limits(self) -> EventLimits:
        """What validation allows of an event on the ticks topic (the markets it may be about)."""
        return EventLimits(markets=self.markets or _DEFAULT_MARKETS)
