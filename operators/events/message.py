"""The event message: one piece of scheduled or unscheduled news about a symbol or a market.

Economic calendars, earnings releases, analyst estimates and regulatory filings share one shape
so one topic (``events``, key = ``entity``) carries them all and one feature step reads them.
Two times matter and are never confused:

- ``public_ts_ns``: when the message's content became public (a release's publication, an
  estimate's creation, EDGAR's acceptance). Nothing may use the message before this instant.
- ``scheduled_ts_ns``: when the event it is about takes (or took) place.

A message public *before* its scheduled time announces a coming event (it may carry a forecast,
never an actual); one public at or after it reports what happened. Values are floats in the
vendor's unit (``0.25`` for 0.25 %, ``25`` for $25B) or None when the vendor has none.
"""

from __future__ import annotations

import msgspec

__all__ = ["EventMessage", "is_announcement"]


class EventMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One event as it travels on the ``events`` topic (JSON, Kafka key = ``entity``).

    ``source`` names the vendor (``trading_economics``, ``estimize``, ``sec_edgar``) and
    ``event_type`` what happened (``fed_interest_rate_decision``, ``earnings_release``,
    ``eps_estimate``, ``8-K``); ``event_id`` is the vendor's id, unique per source and message.
    ``entity`` is a symbol (``AAPL``) or a market (``US``). ``importance`` runs from 1 (low) to
    3 (high). ``period`` is the fiscal or reference period a value is for (``2019Q1``), ``author``
    who published it (an analyst id for an estimate), ``items`` a filing's item codes and ``text``
    its plain text.
    """

    source: str
    event_type: str
    entity: str
    event_id: str
    public_ts_ns: int
    scheduled_ts_ns: int
    importance: int
    actual: float | None = None
    forecast: float | None = None
    previous: float | None = None
    period: str = ""
    author: str = ""
    items: tuple[str, ...] = ()
    text: str = ""


def is_announcement(event: EventMessage) -> bool:
    """True when ``event`` was published ahead of the event it is about (a schedule, an estimate)."""
    return event.public_ts_ns < event.scheduled_ts_ns
