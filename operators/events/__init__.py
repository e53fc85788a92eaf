"""Event data: the ``EventMessage`` of the ``events`` topic, its validation and the event features.

Calendars, earnings releases, analyst estimates and filings (``dataflows.eventfiles`` reads the
shared files) become ``EventMessage`` values, validated by ``decode_event`` like ticks, and feed
``EventFeatures``, which answers as of any event time and never before a message's publication;
``join_step`` appends them to the flow's feature rows. On the ticks topic an event travels as an
``EventTick`` (``operators.events.wire``), validated by ``operators.ingest.validation.decode_tick``.
"""

# operators.ingest first: its validation reads this package's EventTick and event checks, which
# in turn need operators.ingest.symbols; importing it here keeps that order whichever is imported first.
import operators.ingest  # noqa: F401
from operators.events.features import EVENT_FEATURES, EventFeatureConfig, EventFeatures
from operators.events.join import EVENT_FEATURE_SET, EventJoinConfig, EventJoinState, join_step, market_fan_out
from operators.events.message import EventMessage, is_announcement
from operators.events.tone import FilingTone, filing_tone
from operators.events.validation import EVENT_REJECT_REASONS, EventLimits, decode_event, event_problem
from operators.events.wire import EventTick, encode_event_tick

__all__ = ["EVENT_FEATURES", "EVENT_FEATURE_SET", "EVENT_REJECT_REASONS", "EventFeatureConfig", "EventFeatures",
           "EventJoinConfig", "EventJoinState", "EventLimits", "EventMessage", "EventTick", "FilingTone",
           "decode_event", "encode_event_tick", "event_problem", "filing_tone", "is_announcement", "join_step", "market_fan_out"]
