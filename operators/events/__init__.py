"""Event data: the ``EventMessage`` of the ``events`` topic, its validation and the event features.

Calendars, earnings releases, analyst estimates and filings (``dataflows.eventfiles`` reads the
shared files) become ``EventMessage`` values, validated by ``decode_event`` like ticks, and feed
``EventFeatures``, which answers as of any event time and never before a message's publication;
``join_step`` appends them to the flow's feature rows.
"""

from operators.events.features import EVENT_FEATURES, EventFeatureConfig, EventFeatures
from operators.events.join import EVENT_FEATURE_SET, EventJoinConfig, EventJoinState, join_step, market_fan_out
from operators.events.message import EventMessage, is_announcement
from operators.events.tone import FilingTone, filing_tone
from operators.events.validation import EVENT_REJECT_REASONS, EventLimits, decode_event

__all__ = ["EVENT_FEATURES", "EVENT_FEATURE_SET", "EVENT_REJECT_REASONS", "EventFeatureConfig", "EventFeatures",
           "EventJoinConfig", "EventJoinState", "EventLimits", "EventMessage", "FilingTone", "decode_event",
           "filing_tone", "is_announcement", "join_step", "market_fan_out"]
