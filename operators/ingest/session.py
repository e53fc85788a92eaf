"""Trading sessions: whether a tick's event time falls in its symbol's trading hours.

An equity desk trades the regular session; pre-market and after-hours quotes are thin and wide
(IBM at 04:00 ET quotes spreads of $5), so features and signals computed on them are noise a
risk check would have to undo. Crypto venues never close. A ``SessionConfig`` names a session per
symbol: ``default`` for every symbol, ``by_prefix`` overrides for the symbols starting with a
prefix (the longest matching prefix wins, as for the quote lag). The sessions are

- ``regular``: 09:30 to 16:00 America/New_York, Monday to Friday (US equities);
- ``extended``: 04:00 to 20:00 America/New_York, Monday to Friday (pre-market and after hours);
- ``all``: every tick, every day (crypto venues).

Windows are half-open, ``[opens, closes)``: a closing-cross print stamped 16:00:00.5 is outside the
regular session. Daylight saving time comes from ``zoneinfo``, so 09:30 New York is 13:30 UTC in
summer and 14:30 UTC in winter. Exchange holidays are not known (no ticks arrive on them anyway).
The decision depends on the tick's event time only, so replays decide exactly as live runs.

>>> config = SessionConfig(default="regular", by_prefix=(("BTC", "all"),))
>>> ibm, btc = config.session_for("IBM"), config.session_for("BTC-USD")
>>> open_ns = 1_381_325_400 * 1_000_000_000  # 2013-10-09 13:30 UTC = 09:30 New York (summer time)
>>> ibm.contains(open_ns - 1), ibm.contains(open_ns), btc is None
(False, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["SESSION_HOURS", "SESSION_NAMES", "SessionConfig", "SessionHours", "TradingSession"]

_NANOSECONDS = 1_000_000_000


@dataclass(frozen=True)
class SessionHours:
    """A session's daily window ``[opens, closes)`` in ``zone``, on ``weekdays`` (0 is Monday)."""

    opens: time
    closes: time
    zone: str = "America/New_York"
    weekdays: frozenset[int] = frozenset(range(5))

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError(f"SessionHours: expected opens before closes on the same day, got {self.opens} "
                             f"to {self.closes}")
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"SessionHours.zone: expected an IANA time zone such as America/New_York, "
                             f"got {self.zone!r}") from None
        if not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"SessionHours.weekdays: expected days 0 (Monday) to 6, got {sorted(self.weekdays)}")


#: The named sessions; ``all`` has no hours (always open).
SESSION_HOURS: dict[str, SessionHours | None] = {
    "regular": SessionHours(time(9, 30), time(16, 0)),
    "extended": SessionHours(time(4, 0), time(20, 0)),
    "all": None,
}
SESSION_NAMES: tuple[str, ...] = tuple(SESSION_HOURS)


def _epoch_ns(moment: datetime) -> int:
    return round(moment.timestamp()) * _NANOSECONDS


class TradingSession:
    """Decides ``contains(ts_ns)`` for one ``SessionHours``.

    It remembers the bounds of the last local day it saw (four integers), so a day's ticks cost two
    comparisons each; a tick of another day computes that day's bounds.
    """

    def __init__(self, hours: SessionHours) -> None:
        self.hours = hours
        self._zone = ZoneInfo(hours.zone)
        self._day = (0, 0, 0, 0)  # local day start, next day start, opens, closes (epoch ns); empty at first

    def _bounds(self, ts_ns: int) -> tuple[int, int, int, int]:
        hours, zone = self.hours, self._zone
        day = datetime.fromtimestamp(ts_ns // _NANOSECONDS, zone).date()
        start = _epoch_ns(datetime.combine(day, time(0), zone))
        end = _epoch_ns(datetime.combine(day + timedelta(days=1), time(0), zone))
        if day.weekday() not in hours.weekdays:
            return start, end, start, start
        return (start, end, _epoch_ns(datetime.combine(day, hours.opens, zone)),
                _epoch_ns(datetime.combine(day, hours.closes, zone)))

    def contains(self, ts_ns: int) -> bool:
        day = self._day
        if not day[0] <= ts_ns < day[1]:
            day = self._day = self._bounds(ts_ns)
        return day[2] <= ts_ns < day[3]


@dataclass(frozen=True)
class SessionConfig:
    """The session of every symbol: ``default``, overridden per prefix (the longest matching one wins)."""

    default: str = "regular"
    by_prefix: tuple[tuple[str, str], ...] = ()
    _sessions: dict[str, TradingSession | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for prefix, name in (("", self.default), *self.by_prefix):
            if name not in SESSION_HOURS:
                where = f"for prefix {prefix!r}" if prefix else "as the default"
                raise ValueError(f"SessionConfig: expected a session {', '.join(SESSION_NAMES)} {where}, "
                                 f"got {name!r}")
        prefixes = [prefix for prefix, _ in self.by_prefix]
        if any(not prefix for prefix in prefixes) or len(set(prefixes)) != len(prefixes):
            raise ValueError(f"SessionConfig.by_prefix: expected distinct non-empty prefixes, got {prefixes}")
        sessions = {name: TradingSession(hours) if hours is not None else None
                    for name, hours in SESSION_HOURS.items()}
        object.__setattr__(self, "_sessions", sessions)

    def session_name(self, symbol: str) -> str:
        """The session ``symbol`` trades in.

        >>> SessionConfig("regular", (("BTC", "all"), ("BTCX", "extended"))).session_name("BTCXYZ")
        'extended'
        """
        found, length = self.default, -1
        for prefix, name in self.by_prefix:
            if len(prefix) > length and symbol.startswith(prefix):
                found, length = name, len(prefix)
        return found

    def session_for(self, symbol: str) -> TradingSession | None:
        """The ``TradingSession`` of ``symbol``; None when it is always open."""
        return self._sessions[self.session_name(symbol)]
