"""The regular US equity session of an event time, so monitors compare a session with its own kind.

Pre-market and after-hours prints are sparse and behave differently from the regular session;
a reference learned on them would make every open look like a drift. ``regular_session`` gives
the bounds (UTC nanoseconds) of the New York 09:30-16:00 session of an event time's local day,
or None outside it; the bounds of a day are computed once (daylight saving time included) and
cached, so a lookup is one dictionary read. Weekends and holidays are not special-cased: a
monitor simply sees no rows then.

>>> regular_session(1_381_325_400_000_000_000)  # 2013-10-09 13:30 UTC = 09:30 New York
(1381325400000000000, 1381348800000000000)
>>> regular_session(1_381_325_399_000_000_000) is None  # one second before the open
True

``session_segment`` names the part of the session: the first 30 minutes (``open``), the last 30
(``close``) and the rest (``midday``), so the open and the close are compared with their own kind.

>>> [session_segment(1_381_325_400_000_000_000 + minutes * 60 * 10**9) for minutes in (0, 30, 360, 390)]
['open', 'midday', 'close', None]
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["NEW_YORK", "SEGMENTS", "regular_session", "session_segment"]

NEW_YORK = ZoneInfo("America/New_York")
DAY_NS = 86_400 * 1_000_000_000
SEGMENT_NS = 30 * 60 * 1_000_000_000
SEGMENTS = ("open", "midday", "close")


@lru_cache(maxsize=64)
def _bounds(utc_day: int) -> tuple[int, int, int, int]:
    """The regular sessions that can overlap the UTC day ``utc_day`` (days since the epoch)."""
    bounds = []
    for local_day in (utc_day - 1, utc_day):
        date = datetime.fromtimestamp(local_day * 86_400 + 43_200, tz=timezone.utc).astimezone(NEW_YORK).date()
        opens = datetime(date.year, date.month, date.day, 9, 30, tzinfo=NEW_YORK)
        closes = datetime(date.year, date.month, date.day, 16, 0, tzinfo=NEW_YORK)
        bounds += [int(opens.timestamp()) * 1_000_000_000, int(closes.timestamp()) * 1_000_000_000]
    return bounds[0], bounds[1], bounds[2], bounds[3]


def regular_session(ts_ns: int) -> tuple[int, int] | None:
    """``(open_ns, close_ns)`` of the regular session holding ``ts_ns``, or None outside one."""
    first_open, first_close, second_open, second_close = _bounds(ts_ns // DAY_NS)
    if first_open <= ts_ns < first_close:
        return first_open, first_close
    if second_open <= ts_ns < second_close:
        return second_open, second_close
    return None


def session_segment(ts_ns: int) -> str | None:
    """``open``, ``midday`` or ``close`` of the regular session holding ``ts_ns``; None outside one."""
    session = regular_session(ts_ns)
    if session is None:
        return None
    if ts_ns < session[0] + SEGMENT_NS:
        return "open"
    return "close" if ts_ns >= session[1] - SEGMENT_NS else "midday"
