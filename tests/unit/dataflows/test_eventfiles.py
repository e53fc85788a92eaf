"""The shared alternative-data files become events; bad rows are counted with file, record and reason."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

import msgspec
import pytest

from dataflows.eventfiles import (NEW_YORK, event_messages, read_estimize_estimates, read_estimize_releases, read_event_file,
                                  read_fed_calendar, read_sec_filing, to_ns)
from operators.events import EventFeatureConfig, EventFeatures, EventLimits, decode_event, is_announcement
from operators.messages import SourceRecord

LEAN = Path(__file__).resolve().parents[4] / "shared" / "data" / "alt" / "lean"
needs_data = pytest.mark.skipif(not LEAN.is_dir(), reason="the shared alt data is not on this machine")


def _write_zip(path: Path, records: list[dict]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(path.stem + ".json", json.dumps(records))
    return path


@needs_data
def test_fed_calendar_when_read_then_rate_decisions_are_at_or_after_14_00_eastern() -> None:
    calendar = read_fed_calendar(LEAN / "trading-economics" / "fdtr_calendar.zip")
    assert not calendar.bad_rows and len(calendar.events) == 2 * 1180
    decisions = [event for event in calendar.events
                 if event.event_type == "fed_interest_rate_decision" and not is_announcement(event)]
    hours = [datetime.fromtimestamp(event.public_ts_ns / 1e9, NEW_YORK).strftime("%H:%M") for event in decisions]
    assert (len(decisions), hours.count("14:00"), hours.count("15:00")) == (47, 37, 10)
    first = decisions[0]
    assert (first.entity, first.actual, first.forecast, first.previous) == ("US", 0.25, 0.25, 0.25)


@needs_data
def test_estimize_releases_refuse_month_stubs_and_publish_after_the_release_time() -> None:
    releases = read_estimize_releases(LEAN / "estimize" / "release" / "aapl.zip")
    assert len(releases.bad_rows) == 38 and "month stub" in releases.bad_rows[0].reason
    report = next(event for event in releases.events if event.period == "2019Q1" and event.actual is not None)
    assert report.actual == 4.18 and report.forecast == 4.17
    assert report.public_ts_ns == to_ns(datetime(2019, 1, 29, 16, 30, tzinfo=NEW_YORK))
    stub_time = next(event for event in releases.events if event.period == "2009Q1" and event.actual is not None)
    assert stub_time.public_ts_ns == to_ns(datetime(2009, 1, 22, 0, 0, tzinfo=NEW_YORK))


@needs_data
def test_sec_filing_when_read_then_public_at_edgar_time_with_items_and_text() -> None:
    filing = read_sec_filing(LEAN / "sec" / "aapl" / "20190129_8K.zip").events[0]
    assert (filing.entity, filing.event_type, filing.items) == ("AAPL", "8-K", ("2.02", "9.01"))
    assert filing.public_ts_ns == to_ns(datetime(2019, 1, 29, 16, 30, 18, tzinfo=NEW_YORK))
    assert "Apple Reports First Quarter Results" in filing.text and "<" not in filing.text


@needs_data
def test_every_shared_event_passes_validation() -> None:
    paths = [LEAN / "trading-economics" / "fdtr_calendar.zip", LEAN / "estimize" / "release" / "aapl.zip",
             *sorted((LEAN / "sec").glob("*/*.zip"))]
    for path in paths:
        for event in read_event_file(path).events:
            record = SourceRecord("events", 0, 0, event.entity.encode(), msgspec.json.encode(event))
            assert decode_event(record, EventLimits()) == event


@needs_data
def test_real_aapl_earnings_features_appear_only_at_publication() -> None:
    events = [*read_estimize_releases(LEAN / "estimize" / "release" / "aapl.zip").events,
              *read_estimize_estimates(LEAN / "estimize" / "estimate" / "aapl.zip").events]
    features = EventFeatures(EventFeatureConfig())
    for event in events:
        features.update(event)
    reports = sorted((event for event in events if event.event_type == "earnings_release" and event.actual is not None),
                     key=lambda event: event.public_ts_ns)
    previous = None
    for report in reports[-12:]:
        before = features.values(report.public_ts_ns - 1)["earnings_surprise"]
        assert previous is None or before == previous
        previous = features.values(report.public_ts_ns)["earnings_surprise"]
        assert previous != before


def test_bad_calendar_rows_are_counted_with_file_record_and_reason(tmp_path: Path) -> None:
    good = {"CalendarId": "1", "Date": "2019-06-19T18:00:00", "Country": "United States", "Importance": 3,
            "Event": "Fed Interest Rate Decision", "Actual": "2.5%", "Forecast": "2.5%", "Previous": "2.5%"}
    path = _write_zip(tmp_path / "fdtr_calendar.zip", [
        good, {**good, "Date": "19 June"}, {**good, "Country": "Narnia"}, {**good, "Actual": "high"},
        {**good, "Importance": 9}])
    calendar = read_fed_calendar(path)
    assert len(calendar.events) == 2
    assert [(row.line, row.reason.split(",")[0]) for row in calendar.bad_rows] == [
        (2, "expected an ISO time in Date"), (3, "expected Country in ['United States']"),
        (4, "expected a number such as 0.25% or $25B in Actual"), (5, "expected Importance 1")]
    assert all(row.path == path and row.kind == "event file" for row in calendar.bad_rows)


def test_estimates_skip_flagged_rows_and_count_bad_ones(tmp_path: Path) -> None:
    good = {"ticker": "aapl", "fiscal_year": 2019, "fiscal_quarter": 1, "eps": 4.2, "id": "e1",
            "created_at": "2019-01-02T12:00:00-05:00", "analyst_id": "a1", "flagged": False}
    path = tmp_path / "aapl.json"
    path.write_text(json.dumps([good, {**good, "flagged": True}, {**good, "eps": None},
                                {**good, "created_at": "2019-01-02T12:00:00"}]))
    estimates = read_estimize_estimates(path)
    assert (len(estimates.events), estimates.skipped, [row.line for row in estimates.bad_rows]) == (1, 1, [3, 4])
    assert estimates.events[0].entity == "AAPL" and estimates.events[0].author == "a1"


def test_read_event_file_when_unknown_place_then_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected a calendar, Estimize release or estimate, or SEC filing file"):
        read_event_file(tmp_path / "prices.zip")


def test_event_messages_are_keyed_by_entity_in_publication_order(tmp_path: Path) -> None:
    row = {"CalendarId": "1", "Date": "2019-06-19T18:00:00", "Country": "United States", "Importance": 3,
           "Event": "Fed Interest Rate Decision", "Actual": "2.5%", "Forecast": "2.5%", "Previous": "2.5%"}
    (tmp_path / "trading-economics").mkdir()
    path = _write_zip(tmp_path / "trading-economics" / "fdtr_calendar.zip", [row, {**row, "Date": "bad"}])
    messages, bad_rows = event_messages([path])
    decoded = [decode_event(SourceRecord("events", 0, 0, key, value), EventLimits()) for key, value in messages]
    assert [key for key, _ in messages] == [b"US", b"US"] and len(bad_rows) == 1
    assert [event.event_id for event in decoded] == ["1:schedule", "1"]
    assert decoded[0].public_ts_ns < decoded[1].public_ts_ns


def test_zip_without_exactly_one_json_file_is_refused_in_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "sec" / "aapl").mkdir(parents=True)
    path = tmp_path / "sec" / "aapl" / "20190102_8K.zip"
    zipfile.ZipFile(path, "w").close()
    with pytest.raises(ValueError, match="expected a zip holding one JSON file, got 0 files"):
        read_event_file(path)
