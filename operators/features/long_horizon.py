"""Day-level features for the long-horizon models (volatility, trend, regime), one bar at a time.

One :class:`LongHorizonFeatures` per symbol takes completed :class:`~operators.features.bars.Bar`
objects of one interval, whether they were built from the tick stream or read from history:

* ``interval="day"``: every bar is a whole session; its features come out at once.
* ``interval="hour"`` (any intraday interval): bars are grouped into sessions by their start's
  local date in ``timezone``. A session completes when a bar of a later date arrives, or on
  ``flush()`` (end of input, or a live session-close timer). Its OHLCV becomes the day's bar, and
  its intraday returns give the realized variance.

Prices must be adjusted for splits and dividends (history: raw x adj_factor), so that a split is
not read as a crash. A bar without positive prices is skipped and counted in ``rejected_bars``.

The features of a session (``FEATURE_NAMES``), NaN while their window is warming up:

=======================  ========================================================================
log_return_{k}d          ln(C_t / C_{t-k}) of the day closes, k = 1, 5, 22, 66, 252
overnight_return         ln(O_t / C_{t-1}): the gap from the previous close to today's open
rsi_14, adx_14           TA-Lib's RSI and ADX over day bars (``operators.ta``)
atr_14_bps               TA-Lib's ATR over day bars, in basis points of the close
log_parkinson_{5,22}     log of the Parkinson range variance over 5 / 22 days (``RealizedVariance``)
log_garman_klass_22      log of the Garman-Klass variance over 22 days
volume_zscore_22         z-score of ln(volume) against the last 22 days (today included, ddof 1)
log_rv_d                 log of today's realized variance: the sum of squared intraday log returns,
                         the first bar's close over its open and then close over previous close. The
                         overnight gap is left out (it is ``overnight_return``), so this is the
                         variance of the regular session; a half day simply has fewer returns
log_rv_w, log_rv_m       log of the mean realized variance of the last 5 / 22 sessions (Corsi's HAR)
downside_share_d         share of today's realized variance from negative returns (semivariance)
log_overnight_var_w      log of the mean squared overnight return of the last 5 sessions
session_bars             intraday bars in the session (7 on a full US day of hourly bars, 4 on a half day)
=======================  ========================================================================

The intraday features (``log_rv_*`` to ``session_bars``) stay NaN with day bars. Logs take
``max(x, VARIANCE_FLOOR)``, so a session without a price change gives a finite value. State is a
few fixed windows (the longest: 253 closes): O(1) per bar, bounded, picklable.

>>> features = LongHorizonFeatures(interval="day")
>>> day = 86_400 * 10**9
>>> rows = [features.update(Bar(k * day, (k + 1) * day, 100.0, 101.0 + k, 99.0, 100.0 + k, 1e6, NAN, 0, 0.0, 0.0))
...         for k in range(3)]
>>> round(rows[-1].value("log_return_1d"), 6), rows[0].value("log_return_1d")
(0.009852, nan)
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from operators.features.bars import Bar
from operators.features.realized_variance import RealizedVariance
from operators.features.rolling import RollingSums
from operators.ta.indicators.catalogue import indicator_class

NAN = math.nan
VARIANCE_FLOOR = 1e-10
RETURN_DAYS = (1, 5, 22, 66, 252)
INTERVALS = ("hour", "day")
DAY_FEATURES = (*(f"log_return_{k}d" for k in RETURN_DAYS), "overnight_return", "rsi_14", "adx_14", "atr_14_bps",
                "log_parkinson_5", "log_parkinson_22", "log_garman_klass_22", "volume_zscore_22")
INTRADAY_FEATURES = ("log_rv_d", "log_rv_w", "log_rv_m", "downside_share_d", "log_overnight_var_w", "session_bars")
FEATURE_NAMES = DAY_FEATURES + INTRADAY_FEATURES
_INDEX = {name: index for index, name in enumerate(FEATURE_NAMES)}


class LongHorizonRow(msgspec.Struct, frozen=True):
    """The features of one completed session; ``day`` is its local date as a proleptic ordinal
    (``date.fromordinal``), ``start_ns``/``end_ns`` span the bars it came from."""

    day: int
    start_ns: int
    end_ns: int
    values: tuple[float, ...]

    def value(self, name: str) -> float:
        return self.values[_INDEX[name]]


def _log_variance(variance: float) -> float:
    return math.log(max(variance, VARIANCE_FLOOR)) if variance == variance else NAN


def _valid(bar: Bar) -> bool:
    return 0.0 < bar.low <= bar.high and bar.open > 0.0 and bar.close > 0.0


class _Session:
    """The session in progress: its OHLCV and the sums of its intraday squared returns."""

    __slots__ = ("day", "start_ns", "end_ns", "open", "high", "low", "close", "volume", "variance",
                 "downside", "bars")

    def __init__(self, day: int, bar: Bar) -> None:
        self.day, self.start_ns, self.open, self.high, self.low = day, bar.start_ns, bar.open, bar.high, bar.low
        self.volume = self.variance = self.downside = 0.0
        self.bars = 0
        self.close = bar.open  # the first return is close over open
        self.add(bar)

    def add(self, bar: Bar) -> None:
        change = math.log(bar.close / self.close)
        self.variance += change * change
        if change < 0.0:
            self.downside += change * change
        self.high, self.low = max(self.high, bar.high), min(self.low, bar.low)
        self.close, self.volume, self.end_ns = bar.close, self.volume + bar.volume, bar.end_ns
        self.bars += 1

    def bar(self) -> Bar:
        return Bar(self.start_ns, self.end_ns, self.open, self.high, self.low, self.close, self.volume, NAN, 0, 0.0, 0.0)


class LongHorizonFeatures:
    """Per-symbol day features from day bars or intraday bars; ``update`` returns a completed
    session's :class:`LongHorizonRow` (or None)."""

    __slots__ = ("interval", "timezone", "_zone", "rejected_bars", "_session", "_log_closes", "_rsi", "_adx", "_atr",
                 "_range_5", "_range_22", "_volume", "_rv_w", "_rv_m", "_overnight_w")

    def __init__(self, interval: str = "hour", timezone: str = "America/New_York") -> None:
        if interval not in INTERVALS:
            raise ValueError(f"LongHorizonFeatures interval must be one of {INTERVALS}, got {interval!r}")
        try:
            zone = ZoneInfo(timezone)
        except (KeyError, ValueError):
            raise ValueError(f"LongHorizonFeatures timezone must be an IANA time zone, got {timezone!r}") from None
        self.interval = interval
        self.timezone = timezone
        self._zone = zone
        self._reset()

    def _reset(self) -> None:
        self.rejected_bars = 0
        self._session: _Session | None = None
        self._log_closes: deque[float] = deque(maxlen=RETURN_DAYS[-1] + 1)
        self._rsi = indicator_class("RSI")(timeperiod=14)
        self._adx = indicator_class("ADX")(timeperiod=14)
        self._atr = indicator_class("ATR")(timeperiod=14)
        self._range_5 = RealizedVariance(window=5)
        self._range_22 = RealizedVariance(window=22)
        self._volume = RollingSums(22, 2)
        self._rv_w = RollingSums(5, 1)
        self._rv_m = RollingSums(22, 1)
        self._overnight_w = RollingSums(5, 1)

    def reset(self) -> None:
        self._reset()

    def __getstate__(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__ if name != "_zone"}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._zone = ZoneInfo(self.timezone)

    def update(self, bar: Bar) -> LongHorizonRow | None:
        """Add one completed bar; return the session it completes, if any."""
        if not _valid(bar):
            self.rejected_bars += 1
            return None
        day = datetime.fromtimestamp(bar.start_ns // 1_000_000_000, self._zone).date().toordinal()
        if self.interval == "day":
            return self._complete(day, bar, None)
        session = self._session
        if session is not None and day <= session.day:
            session.add(bar)
            return None
        completed = self.flush()
        self._session = _Session(day, bar)
        return completed

    def flush(self) -> LongHorizonRow | None:
        """Complete the session in progress (intraday bars), if any."""
        session = self._session
        if session is None:
            return None
        self._session = None
        return self._complete(session.day, session.bar(), session)

    def _complete(self, day: int, bar: Bar, session: _Session | None) -> LongHorizonRow:
        closes = self._log_closes
        previous_close = math.exp(closes[-1]) if closes else NAN
        closes.append(math.log(bar.close))
        overnight = math.log(bar.open / previous_close) if previous_close == previous_close else NAN
        values = self._day_values(bar, overnight)
        values += self._intraday_values(session, overnight) if session is not None else (NAN,) * len(INTRADAY_FEATURES)
        return LongHorizonRow(day, bar.start_ns, bar.end_ns, values)

    def _day_values(self, bar: Bar, overnight: float) -> tuple[float, ...]:
        closes = self._log_closes
        returns = tuple(closes[-1] - closes[-1 - k] if len(closes) > k else NAN for k in RETURN_DAYS)
        self._rsi.update(bar.close)
        self._adx.update(bar.high, bar.low, bar.close)
        self._atr.update(bar.high, bar.low, bar.close)
        for estimator in (self._range_5, self._range_22):
            estimator.update(bar.open, bar.high, bar.low, bar.close)
        return (*returns, overnight, self._rsi.value, self._adx.value, 1e4 * self._atr.value / bar.close,
                _log_variance(self._range_5.parkinson), _log_variance(self._range_22.parkinson),
                _log_variance(self._range_22.garman_klass), self._volume_zscore(bar.volume))

    def _volume_zscore(self, volume: float) -> float:
        if not volume > 0.0:
            return NAN
        log_volume = math.log(volume)
        sums = self._volume
        sums.update(log_volume, log_volume * log_volume)
        if not sums.ready:
            return NAN
        n = sums.count
        mean = sums.total(0) / n
        variance = (sums.total(1) - n * mean * mean) / (n - 1)
        return (log_volume - mean) / math.sqrt(variance) if variance > 0.0 else 0.0

    def _intraday_values(self, session: _Session, overnight: float) -> tuple[float, ...]:
        variance = session.variance
        self._rv_w.update(variance)
        self._rv_m.update(variance)
        overnight_w = NAN
        if overnight == overnight:
            self._overnight_w.update(overnight * overnight)
            overnight_w = self._mean(self._overnight_w)
        return (_log_variance(variance), _log_variance(self._mean(self._rv_w)), _log_variance(self._mean(self._rv_m)),
                session.downside / variance if variance > 0.0 else NAN, _log_variance(overnight_w), float(session.bars))

    @staticmethod
    def _mean(sums: RollingSums) -> float:
        return sums.total(0) / sums.count if sums.ready else NAN
