"""Event features on the bar history: joined as of each close without look-ahead; the comparison table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from operators.events import EventMessage


def _load_bench() -> ModuleType:
    """``bench/event_bars.py`` (``bench`` is a folder of scripts, not an installed package)."""
    spec = importlib.util.spec_from_file_location("bench.event_bars",
                                                  Path(__file__).resolve().parents[3] / "bench" / "event_bars.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


event_bars = _load_bench()

HOUR_NS = 3_600 * 10**9
CLOSE_NS = 1_548_795_600 * 10**9  # 2019-01-29 16:00 ET, Apple's Q1 2019 report
PUBLIC_NS = CLOSE_NS + HOUR_NS // 2  # on the wire at 16:30


def _report(public_ns: int = PUBLIC_NS) -> list[EventMessage]:
    """Apple's release: announced a week ahead, reported at ``public_ns``; and one estimate."""
    return [EventMessage("estimize", "eps_estimate", "AAPL", "e1", CLOSE_NS - 30 * 24 * HOUR_NS,
                         CLOSE_NS - 30 * 24 * HOUR_NS, 1, forecast=4.0, period="2019Q1", author="a1"),
            EventMessage("estimize", "earnings_release", "AAPL", "r1:schedule", CLOSE_NS - 7 * 24 * HOUR_NS,
                         CLOSE_NS, 3, period="2019Q1"),
            EventMessage("estimize", "earnings_release", "AAPL", "r1", public_ns, CLOSE_NS, 3, actual=4.18,
                         forecast=4.17, period="2019Q1")]


def _sessions(ends: list[int], symbol: str = "AAPL") -> pd.DataFrame:
    return pd.DataFrame({"symbol": symbol, "day": np.arange(len(ends), dtype=np.int64), "end_ns": ends})


def test_a_bar_closing_at_the_public_time_minus_1_ns_does_not_see_the_report_and_a_later_bar_does() -> None:
    frame = _sessions([PUBLIC_NS - 1, PUBLIC_NS + HOUR_NS])
    raw = event_bars.event_columns(frame, _report())
    assert np.isnan(raw["earnings_surprise"].iloc[0])
    assert raw["earnings_surprise"].iloc[1] == pytest.approx((4.18 - 4.0) / 4.0)


def test_a_market_event_reaches_every_symbol_only_from_its_public_time() -> None:
    decision = EventMessage("trading_economics", "fomc_economic_projections", "US", "f1", PUBLIC_NS, PUBLIC_NS, 3)
    frame = pd.concat([_sessions([PUBLIC_NS - 1, PUBLIC_NS + HOUR_NS], "AAPL"),
                       _sessions([PUBLIC_NS - 1, PUBLIC_NS + HOUR_NS], "SPY")], ignore_index=True)
    since = event_bars.event_columns(frame, [decision])["us_seconds_since_last_high_importance"].to_numpy()
    assert np.isnan(since[[0, 2]]).all()
    assert since[[1, 3]].tolist() == pytest.approx([(HOUR_NS - 1) / 1e9] * 2)


def test_a_report_at_the_close_flags_that_row_as_before_the_event_and_the_next_as_after_it() -> None:
    frame = _sessions([CLOSE_NS - 24 * HOUR_NS, CLOSE_NS, CLOSE_NS + 24 * HOUR_NS, CLOSE_NS + 48 * HOUR_NS])
    inputs = event_bars.event_inputs(frame, event_bars.event_columns(frame, _report()))
    assert inputs["own_event_next"].tolist() == [0.0, 1.0, 0.0, 0.0]
    assert inputs["own_event_last"].tolist() == [0.0, 0.0, 1.0, 0.0]
    assert inputs["earnings_surprise"].tolist()[1:3] == [0.0, pytest.approx(0.045)]
    assert list(inputs.columns) == list(event_bars.EVENT_INPUTS)
    assert np.isfinite(inputs.to_numpy()).all()


def test_the_point_in_time_check_passes_a_correct_join_and_refuses_one_that_knows_a_report_early() -> None:
    frame = _sessions([CLOSE_NS - 24 * HOUR_NS, CLOSE_NS, CLOSE_NS + 24 * HOUR_NS])
    events = _report()
    raw = event_bars.event_columns(frame, events)
    assert event_bars.check_point_in_time(frame, raw, events) == 2  # the closes either side of 16:30
    leaky = raw.copy()
    leaky.loc[1, "earnings_surprise"] = leaky.loc[2, "earnings_surprise"]
    with pytest.raises(AssertionError, match="earnings_surprise"):
        event_bars.check_point_in_time(frame, leaky, events)


def test_sign_test_is_the_exact_two_sided_binomial() -> None:
    assert event_bars.sign_test(9, 10) == pytest.approx(22 / 1024)
    assert event_bars.sign_test(5, 10) == 1.0
    assert event_bars.sign_test(0, 0) == 1.0


def test_small_mode_prints_one_line_per_task_symbol_and_metric_with_the_comparison_columns(
        market_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert event_bars.main(["--small"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| task"))
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "task", "symbol", "metric", "without events", "with events", "best baseline", "with - without [95% CI]",
        "folds better", "sign p", "beyond noise"]
    lines = [line for line in out.splitlines() if line.startswith("| volatility") or line.startswith("| trend")]
    assert len(lines) == (2 + 3 + 3) * 3  # metrics of volatility, trend_1d, trend_5d x AAPL, SPY, ALL
    assert "point-in-time check:" in out and "identical" in out
