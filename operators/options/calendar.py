"""When a US listed option stops trading: the close of the last NYSE session on or before its expiry.

Time to expiry runs to that moment, not to 16:00 of the date in the contract symbol, because the
date is not always a trading day, nor a full one:

* before February 2015 the monthly contracts' official expiry was the **Saturday** after the third
  Friday (``TWX 140621``): they last traded on the Friday, a day earlier;
* a contract whose date is an exchange holiday (Good Friday) last trades the session before;
* on an **early-close** day (24 December, the day after Thanksgiving, 3 July) trading ends at
  13:00, three hours before 16:00: GOOG's weekly of 2015-12-24 priced at noon has one hour left, not
  four, and its implied volatility is twice what a 16:00 expiry would give.

Sessions and their closes come from ``exchange_calendars`` (the XNYS calendar), built once for a
fixed range so the answer never depends on the date a run happens on; a date outside that range
falls back to 16:00 New York on the weekday on or before it.

>>> import datetime as dt
>>> def ny(ns): return dt.datetime.fromtimestamp(ns / 1e9, NEW_YORK).strftime("%a %Y-%m-%d %H:%M")
>>> ny(last_trading_close_ns(dt.date(2014, 6, 21)))  # a Saturday expiry: Friday's close
'Fri 2014-06-20 16:00'
>>> ny(last_trading_close_ns(dt.date(2015, 12, 24)))  # Christmas Eve: early close
'Thu 2015-12-24 13:00'
>>> ny(last_trading_close_ns(dt.date(2016, 3, 25)))  # Good Friday: the Thursday before
'Thu 2016-03-24 16:00'
>>> ny(last_trading_close_ns(dt.date(2041, 1, 19)))  # past the calendar: 16:00 on a weekday
'Fri 2041-01-18 16:00'
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import warnings
from zoneinfo import ZoneInfo

__all__ = ["CALENDAR_END", "CALENDAR_START", "NEW_YORK", "last_trading_close_ns"]

NEW_YORK = ZoneInfo("America/New_York")
#: The range the XNYS sessions are built for (fixed: a run's answers never depend on today's date).
CALENDAR_START = dt.date(2000, 1, 3)
CALENDAR_END = dt.date(2035, 12, 31)


@functools.cache
def _sessions() -> tuple[list[dt.date], dict[dt.date, int]]:
    """The XNYS sessions of the fixed range, in order, and each one's close in UTC nanoseconds."""
    import exchange_calendars

    with warnings.catch_warnings():  # the library's own pandas deprecations, nothing about our dates
        warnings.simplefilter("ignore")
        calendar = exchange_calendars.get_calendar("XNYS", start=CALENDAR_START.isoformat(),
                                                   end=CALENDAR_END.isoformat())
        closes = calendar.schedule["close"]
    dates = [session.date() for session in closes.index]
    return dates, {date: int(close.value) for date, close in zip(dates, closes)}


@functools.cache
def last_trading_close_ns(expiry: dt.date) -> int:
    """UTC nanoseconds of the close of the last NYSE session on or before ``expiry``."""
    if CALENDAR_START <= expiry <= CALENDAR_END:
        dates, closes = _sessions()
        at = bisect.bisect_right(dates, expiry) - 1
        if at >= 0:
            return closes[dates[at]]
    day = expiry - dt.timedelta(days=max(0, expiry.weekday() - 4))
    return int(dt.datetime.combine(day, dt.time(16), NEW_YORK).timestamp()) * 1_000_000_000
