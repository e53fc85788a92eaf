"""Event data: the ``EventMessage`` of the ``events`` topic, its validation and the event features.

Calendars, earnings releases, analyst estimates and filings (``dataflows.eventfiles`` reads the
shared files) become ``EventMessage`` values, validated by ``decode_event`` like ticks, and feed
``EventFeatures``, which answers as of any event time and never before a message's publication.
"""

from operators.events.features import EVENT_FEATURES, EventFeatureConfig, EventFeatures
from operators.events.message import EventMessage, is_announcement
from operators.events.tone import FilingTone, filing_tone
from operators.events.validation import EVENT_REJECT_REASONS, EventLimits, decode_event

__all__ = ["EVENT_FEATURES", "EVENT_REJECT_REASONS", "EventFeatureConfig", "EventFeatures", "EventLimits",
           "EventMessage", "FilingTone", "decode_event", "filing_tone", "is_announcement"]
