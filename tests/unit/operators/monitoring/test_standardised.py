"""The standardised feature monitor: one alarm per group with hysteresis, rate limit, replay."""

from __future__ import annotations

import math
import pickle

import pytest

from operators.messages import FeatureRow
from operators.monitoring.standardised import (CLOSED, OPENED, StandardisedDriftConfig,
                                               StandardisedDriftMonitor)

OPEN_NS = 1_381_325_400_000_000_000  # 2013-10-09 09:30 New York
SECOND = 1_000_000_000
NAMES = ("spread_bps", "quote_imbalance", "rsi_1m", "mid")


def noise(second: int, feature: int) -> float:
    """Deterministic pseudo-noise in [-1, 1]."""
    return ((second * 7919 + feature * 104_729) % 2_003) / 1_001.5 - 1.0


def rows(seconds: int, shift_from: int | None = None, shift: float = 0.0, start: int = OPEN_NS) -> list[FeatureRow]:
    out = []
    for second in range(seconds):
        moved = shift if shift_from is not None and second >= shift_from else 0.0
        values = (1.0 + 0.1 * noise(second, 0) + moved, 0.2 * noise(second, 1), 50 + 5 * noise(second, 2),
                  185.0 + second * 0.01)
        out.append(FeatureRow("IBM", start + second * SECOND, 0, second, values[3], NAMES, values))
    return out


def feed(monitor: StandardisedDriftMonitor, stream: list[FeatureRow]) -> list:
    return [event for row in stream for event in monitor.update(row)]


def test_a_steady_session_raises_no_alarm() -> None:
    assert feed(StandardisedDriftMonitor(StandardisedDriftConfig()), rows(4 * 3600)) == []


def test_a_shift_opens_one_alarm_for_its_group_then_closes_it_once_absorbed() -> None:
    events = feed(StandardisedDriftMonitor(StandardisedDriftConfig()), rows(3 * 3600, shift_from=3600, shift=0.3))
    assert [(e.kind, e.feature) for e in events] == [(OPENED, "quotes_and_trades/spread_bps"),
                                                     (CLOSED, "quotes_and_trades/spread_bps")]
    opened, closed = events
    assert 0 < (opened.ts_ns - OPEN_NS) / SECOND - 3600 < 60
    # A jump first shows as distance from the reference (|z|), before the signed window catches up.
    assert opened.statistic >= 8.0 and opened.detector == "ewma_abs_z(ref=1800s,cur=180s)"
    assert closed.ts_ns - opened.ts_ns >= 300 * SECOND


def test_a_group_reopens_no_sooner_than_the_minimum_gap() -> None:
    stream = [row if row.offset < 8400 else FeatureRow(row.symbol, row.ts_ns, 0, row.offset, row.price, NAMES,
                                                         (row.values[0], row.values[1] + 1.0, *row.values[2:]))
              for row in rows(3 * 3600, shift_from=3600, shift=0.3)]  # then quote_imbalance, same group, moves
    short = [e for e in feed(StandardisedDriftMonitor(StandardisedDriftConfig(min_gap_s=600)), stream)
             if e.kind == OPENED]
    long = [e for e in feed(StandardisedDriftMonitor(StandardisedDriftConfig(min_gap_s=3 * 3600)), stream)
            if e.kind == OPENED]
    assert [e.feature for e in short] == ["quotes_and_trades/spread_bps", "quotes_and_trades/quote_imbalance"]
    assert [e.feature for e in long] == ["quotes_and_trades/spread_bps"]


def test_price_levels_are_not_watched_however_they_trend() -> None:
    monitor = StandardisedDriftMonitor(StandardisedDriftConfig())
    feed(monitor, rows(3600))
    assert monitor.current("mid") == 0.0 and monitor.current("spread_bps") != 0.0


def test_no_alarm_before_the_warm_up_nor_outside_the_regular_session() -> None:
    config = StandardisedDriftConfig()
    early = feed(StandardisedDriftMonitor(config), rows(1700, shift_from=1000, shift=0.5))
    pre_market = feed(StandardisedDriftMonitor(config), rows(3 * 3600, shift_from=5000, shift=0.5,
                                                             start=OPEN_NS - 4 * 3600 * SECOND))
    assert early == [] and pre_market == []


def test_an_alarm_still_open_at_the_close_is_closed_by_the_next_session_row() -> None:
    stream = rows(6 * 3600 + 1800, shift_from=6 * 3600 + 1700, shift=0.5)
    next_day = rows(1, start=OPEN_NS + 86_400 * SECOND)
    events = feed(StandardisedDriftMonitor(StandardisedDriftConfig()), stream + next_day)
    assert [e.kind for e in events] == [OPENED, CLOSED]
    assert events[1].feature == "quotes_and_trades/session_end" and events[1].ts_ns == next_day[0].ts_ns


def test_rows_closer_than_the_sample_interval_are_skipped() -> None:
    monitor = StandardisedDriftMonitor(StandardisedDriftConfig())
    feed(monitor, rows(600))
    before = monitor.current("spread_bps")
    last = rows(600)[-1]
    monitor.update(FeatureRow("IBM", last.ts_ns + SECOND // 2, 0, 0, 185.0, NAMES, (50.0, 0.0, 50.0, 185.0)))
    assert monitor.current("spread_bps") == before


def test_replay_and_pickle_round_trip_give_identical_events() -> None:
    stream = rows(3 * 3600, shift_from=3600, shift=0.3)
    config = StandardisedDriftConfig()
    first = feed(StandardisedDriftMonitor(config), stream)
    second = feed(StandardisedDriftMonitor(config), stream)
    resumed = StandardisedDriftMonitor(config)
    events = feed(resumed, stream[:3650])
    resumed = pickle.loads(pickle.dumps(resumed))
    events += feed(resumed, stream[3650:])
    assert first and first == second == events


def test_non_finite_values_are_skipped() -> None:
    monitor = StandardisedDriftMonitor(StandardisedDriftConfig())
    stream = [FeatureRow(r.symbol, r.ts_ns, 0, 0, r.price, r.names, (math.nan, math.inf, *r.values[2:]))
              for r in rows(600)]
    assert feed(monitor, stream) == [] and monitor.current("spread_bps") == 0.0


@pytest.mark.parametrize("overrides", [{"open_level": 0.0}, {"close_level": 9.0}, {"current_half_life_s": 3600.0},
                                       {"warmup_s": -1.0}, {"sample_ns": 0.5}, {"clip": math.inf}])
def test_bad_settings_name_the_field(overrides: dict) -> None:
    with pytest.raises(ValueError, match="StandardisedDriftConfig"):
        StandardisedDriftConfig(**overrides)


def test_a_feature_that_starts_moving_more_opens_a_dispersion_alarm() -> None:
    stream = [row if row.offset < 3600 else FeatureRow(row.symbol, row.ts_ns, 0, row.offset, row.price, NAMES,
                                                         (row.values[0], 4 * row.values[1], *row.values[2:]))
              for row in rows(2 * 3600)]  # quote_imbalance's noise x4 from the first hour on
    opened = [e for e in feed(StandardisedDriftMonitor(StandardisedDriftConfig()), stream) if e.kind == OPENED]
    assert [(e.feature, e.detector) for e in opened] == [("quotes_and_trades/quote_imbalance",
                                                          "ewma_abs_z(ref=1800s,cur=180s)")]
    assert opened[0].statistic > 0 and (opened[0].ts_ns - OPEN_NS) / SECOND - 3600 < 600


def test_while_a_feature_stands_out_its_reference_learns_slowly_so_the_shift_is_not_absorbed_at_once() -> None:
    def open_seconds(hold: float) -> float:
        events = feed(StandardisedDriftMonitor(StandardisedDriftConfig(hold=hold)),
                      rows(3 * 3600, shift_from=3600, shift=0.3))
        opened = next(e.ts_ns for e in events if e.kind == OPENED)
        closed = next((e.ts_ns for e in events if e.kind == CLOSED), OPEN_NS + 3 * 3600 * SECOND)
        return (closed - opened) / SECOND

    assert open_seconds(0.1) > 1.5 * open_seconds(1.0)
