"""Specifications of the trading sessions: New York hours in UTC across daylight saving time, weekends,
per-prefix sessions, and a per-day memo that decides exactly as a fresh computation."""

from __future__ import annotations

import random
from datetime import datetime, time, timezone

import pytest

from operators.ingest.session import SESSION_HOURS, SessionConfig, SessionHours, TradingSession

SECOND = 1_000_000_000


def utc_ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()) * SECOND


def regular() -> TradingSession:
    session = SESSION_HOURS["regular"]
    assert session is not None
    return TradingSession(session)


@pytest.mark.parametrize(("day", "opens_utc", "closes_utc"), [
    ("2013-10-09", "13:30", "20:00"),  # summer time: New York is UTC-4
    ("2013-12-09", "14:30", "21:00"),  # winter time: UTC-5
    ("2013-03-11", "13:30", "20:00"),  # the Monday after clocks went forward (2013-03-10)
    ("2013-11-04", "14:30", "21:00"),  # the Monday after clocks went back (2013-11-03)
])
def test_regular_session_when_dst_changes_then_opens_at_0930_new_york_in_utc(day: str, opens_utc: str,
                                                                            closes_utc: str) -> None:
    session = regular()
    opens, closes = utc_ns(f"{day} {opens_utc}"), utc_ns(f"{day} {closes_utc}")

    assert [session.contains(ts) for ts in (opens - 1, opens, closes - 1, closes)] == [False, True, True, False]


def test_regular_session_when_ticks_jump_across_days_then_each_day_uses_its_own_hours() -> None:
    session = regular()
    friday_open, monday_0830_est = utc_ns("2013-11-01 13:30"), utc_ns("2013-11-04 13:30")

    monday_0930_est = monday_0830_est + 3600 * SECOND
    decided = [session.contains(ts) for ts in (friday_open, monday_0830_est, friday_open, monday_0930_est)]

    assert decided == [True, False, True, True]


def test_regular_session_when_weekend_then_closed_all_day() -> None:
    session = regular()
    saturday = [utc_ns("2013-10-12 00:00") + hour * 3600 * SECOND for hour in range(48)]

    assert not any(session.contains(ts) for ts in saturday)


def test_extended_session_covers_pre_market_and_after_hours_but_not_the_night() -> None:
    hours = SESSION_HOURS["extended"]
    assert hours is not None
    session = TradingSession(hours)

    decided = [session.contains(utc_ns(f"2013-10-09 {clock}")) for clock in ("07:59", "08:00", "23:59", "00:00")]

    assert decided == [False, True, True, False]


def test_trading_session_memo_when_random_ticks_then_decides_as_a_fresh_session_each_time() -> None:
    rng = random.Random(20131009)
    start, span = utc_ns("2013-01-01 00:00"), 400 * 86_400 * SECOND
    ticks = sorted(start + rng.randrange(span) for _ in range(2_000))
    ticks += [ts + rng.randrange(-3 * 86_400, 3 * 86_400) * SECOND for ts in ticks[:500]]  # out of order too
    memo = regular()

    assert [memo.contains(ts) for ts in ticks] == [regular().contains(ts) for ts in ticks]
    assert 0 < sum(memo.contains(ts) for ts in ticks) < len(ticks)


def test_session_config_when_prefixes_overlap_then_the_longest_matching_prefix_wins() -> None:
    config = SessionConfig("regular", (("ETH", "all"), ("ETHE", "regular"), ("BTC", "extended")))

    names = [config.session_name(symbol) for symbol in ("ETH-USD", "ETHE", "BTCUSDT", "IBM")]

    assert names == ["all", "regular", "extended", "regular"]
    assert config.session_for("ETH-USD") is None
    assert config.session_for("IBM") is config.session_for("ETHE")


@pytest.mark.parametrize(("default", "by_prefix", "message"), [
    ("overnight", (), "as the default, got 'overnight'"),
    ("regular", (("BTC", "weekend"),), "for prefix 'BTC', got 'weekend'"),
    ("regular", (("BTC", "all"), ("BTC", "all")), "distinct non-empty prefixes"),
    ("regular", (("", "all"),), "distinct non-empty prefixes"),
])
def test_session_config_when_invalid_then_value_error_names_the_bad_value(default: str, by_prefix: tuple,
                                                                        message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SessionConfig(default, by_prefix)


def test_session_hours_when_closing_before_opening_or_unknown_zone_then_value_error() -> None:
    with pytest.raises(ValueError, match="opens before closes"):
        SessionHours(time(16, 0), time(9, 30))
    with pytest.raises(ValueError, match="got 'Mars/Olympus'"):
        SessionHours(time(9, 30), time(16, 0), zone="Mars/Olympus")
