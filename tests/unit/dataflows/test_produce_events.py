"""``tickwise produce --file ... --events``: the alternative data merged into the ticks in event time, a
market's event fanned out to every symbol being produced, history before the first tick delivered at its
time, bad rows of the event files skipped and counted (``--strict``: exit 2). No test needs a broker."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dataflows.cli import app
from dataflows.cli.data import ALT_DEFAULT, read_events
from dataflows.config import environment_names
from dataflows.produce import merge_in_event_time, plan_event_ticks
from dataflows.tickfiles import TickFileError
from operators.events import EventMessage, EventTick
from operators.ingest.validation import ValidationLimits, decode_tick
from operators.messages import SourceRecord, ValidTick

REPO = Path(__file__).resolve().parents[3]
ALT = REPO / ALT_DEFAULT
SECOND = 1_000_000_000
FIRST, LAST = 1_381_152_600 * SECOND, 1_381_176_000 * SECOND  # 2013-10-07 13:30 .. 20:00 UTC


def tickwise(*args: str) -> Result:
    cleared: dict[str, str | None] = {name: None for name in environment_names()}
    return CliRunner().invoke(app, list(args), env=cleared)


def event(entity: str, public_ns: int, event_id: str = "1") -> EventMessage:
    return EventMessage("trading_economics", "fed_interest_rate_decision", entity, event_id, public_ns, public_ns, 3,
                        actual=0.25, forecast=0.25)


def test_the_plan_sends_history_at_the_first_tick_live_events_at_publication_and_nothing_after_the_ticks() -> None:
    events = [event("US", FIRST - 86_400 * SECOND, "old"), event("US", FIRST + 60 * SECOND, "live"),
              event("IBM", FIRST + 120 * SECOND, "own"), event("AAPL", FIRST, "elsewhere"),
              event("US", LAST + SECOND, "late")]

    plan = plan_event_ticks(events, ["SPY", "IBM"], ("US",), FIRST, LAST)

    delivered = [decode_tick(SourceRecord("ticks", 0, n, key, value), ValidationLimits())
                 for n, (_, key, value) in enumerate(plan.messages)]
    assert all(type(item) is ValidTick and type(item.tick) is EventTick for item in delivered)
    sent = [(item.tick.symbol, item.tick.ts_ns, item.tick.event.event_id) for item in delivered]  # type: ignore[union-attr]
    assert sent == [
        ("IBM", FIRST, "old"), ("SPY", FIRST, "old"), ("IBM", FIRST + 60 * SECOND, "live"),
        ("SPY", FIRST + 60 * SECOND, "live"), ("IBM", FIRST + 120 * SECOND, "own")]
    assert (plan.events, plan.after_ticks, plan.other_symbols) == (3, 1, 1)


def test_events_merge_into_the_ticks_in_event_time_before_the_ticks_of_their_instant() -> None:
    ticks = [(FIRST, b"SPY", b"t0"), (FIRST + SECOND, b"SPY", b"t1"), (FIRST + 3 * SECOND, b"SPY", b"t3")]
    events = [(FIRST, b"SPY", b"e0"), (FIRST + 2 * SECOND, b"SPY", b"e2"), (FIRST + 3 * SECOND, b"SPY", b"e3")]

    assert [value for _, value in merge_in_event_time(iter(ticks), events)] == [b"e0", b"t0", b"t1", b"e2", b"e3",
                                                                                b"t3"]


@pytest.mark.skipif(not ALT.exists(), reason="the shared alternative data is not on this machine")
def test_the_shared_files_read_with_their_vendor_stubs_skipped() -> None:
    events = read_events(ALT, strict=False)

    assert len(events) > 2_360  # the Fed calendar alone: an announcement and a decision per row
    assert {"US", "AAPL"} <= {item.entity for item in events}


def bad_calendar(root: Path) -> Path:
    """An alternative-data root whose calendar has a good row and, as record 2, a row without a Country."""
    row = {"CalendarId": "1", "Date": "2013-09-18T18:00:00", "Country": "United States", "Event": "Rate",
           "Importance": 3, "Actual": "0.25%", "Forecast": "0.25%", "Previous": "0.25%"}
    folder = root / "trading-economics"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "fdtr_calendar.zip", "w") as archive:
        archive.writestr("fdtr_calendar.json", json.dumps([row, {**row, "CalendarId": "2", "Country": None}]))
    return root


def test_a_bad_row_of_an_event_file_is_skipped_and_counted(tmp_path: Path) -> None:
    events = read_events(bad_calendar(tmp_path / "alt"), strict=False)

    assert [item.event_id for item in events] == ["1:schedule", "1"]


def test_produce_events_when_strict_and_a_row_bad_then_exits_2_naming_it_before_asking_for_kafka(
        tmp_path: Path) -> None:
    ticks = tmp_path / "trades.csv"
    ticks.write_text(f"ts_ns,symbol,price,size,side\n{FIRST},SPY,167.0,100,unknown\n")
    alt = bad_calendar(tmp_path / "alt")

    result = tickwise("produce", "--file", str(ticks), "--events", "--alt", str(alt), "--strict",
                      "--state-dir", str(tmp_path / "state"))

    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "fdtr_calendar.zip line 2: expected Country" in " ".join(result.output.split())


def test_produce_events_from_a_folder_without_event_files_says_so_and_exits_2(tmp_path: Path) -> None:
    ticks = tmp_path / "trades.csv"
    ticks.write_text(f"ts_ns,symbol,price,size,side\n{FIRST},SPY,167.0,100,unknown\n")

    result = tickwise("produce", "--file", str(ticks), "--events", "--alt", str(tmp_path / "none"),
                      "--state-dir", str(tmp_path / "state"))

    assert result.exit_code == 2 and "holds no event files" in " ".join(result.output.split())


def test_produce_events_with_an_options_day_says_they_do_not_go_together(tmp_path: Path) -> None:
    result = tickwise("produce", "--events", "--options-day", "GOOG:2015-12-24", "--state-dir", str(tmp_path / "s"))

    assert result.exit_code == 2 and "--events goes with --file" in " ".join(result.output.split())


def test_read_events_of_a_folder_without_event_files_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(TickFileError, match="holds no event files"):
        read_events(tmp_path, strict=False)
