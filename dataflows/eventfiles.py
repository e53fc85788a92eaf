"""Read the shared alternative-data files into ``EventMessage`` lists, counting every bad row.

Four vendor formats (``../shared/data/alt/README.md``), each a JSON array, usually zipped:

- Trading Economics calendar (``fdtr_calendar.json``): ``Date`` is UTC. Checked against the
  Fed's 14:00 ET statement: 37 of the 47 rate decisions are at 14:00 ET exactly, 10 (summer
  meetings 2013-05-01 .. 2015-09-17) at 15:00 EDT, one hour late, none early; used as given,
  since late is safe and early would leak.
- Estimize releases: ``release_date`` carries an offset. Times other than 16:00 local are the
  vendor's stubs: 38 rows (1998-12 .. 2008-03) sit at the start of the first of a month, weeks
  before the real report and even before the quarter ends, so they are refused; 9 rows
  (2008-07 .. 2010-07) say 10:55 or 11:55 ET for reports Apple made after the close, so they are
  published at the end of that local day. A 16:00 release is public ``publication_delay_ns``
  later (30 min: Apple's Q1 2019 8-K was accepted by EDGAR at 16:30:18 ET, the press release
  crosses the wire at 16:30).
- Estimize estimates: public at ``created_at``; flagged estimates are skipped and counted.
- SEC EDGAR filings: ``MADE-AVAILABLE-AT`` is Eastern time (the AAPL Q1 2019 8-K at 16:30:03
  for a 16:30 press release); the text is the form's and its EX-99 press releases', HTML removed.

A calendar or release row also yields an announcement ``schedule_lead_ns`` (7 days) before its
scheduled time, with no actual: the files do not say when a date was first published, so the
lead is an assumption (FOMC dates are published a year ahead, Apple's about four weeks ahead).
A bad row becomes a ``BadRow`` (file, 1-based record number in the JSON array as its line, since
every file is one line, and one sentence) and never stops the read.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
import re
import zipfile

import msgspec
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dataflows.bad_rows import BadRow
from operators.events.message import EventMessage

__all__ = ["BadRow", "EventFile", "event_messages", "read_estimize_estimates", "read_estimize_releases", "read_event_file",
           "read_fed_calendar", "read_sec_filing", "to_ns"]

NEW_YORK = ZoneInfo("America/New_York")
DAY_NS = 86_400 * 10**9
SCHEDULE_LEAD_NS = 7 * DAY_NS
PUBLICATION_DELAY_NS = 30 * 60 * 10**9
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_COUNTRIES = {"United States": "US"}
_VALUE = re.compile(r"\s*\$?\s*(-?\d+(?:\.\d+)?)\s*(?:%|[KMBT])?\s*")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_RELEASE_TIME = time(16, 0)
EVENT_FILE = "event file"  # a bad row's kind of file
_ENCODER = msgspec.json.Encoder()


@dataclass(slots=True)
class EventFile:
    """The events read from one file, its bad rows and how many good rows were skipped on purpose."""

    events: list[EventMessage] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    skipped: int = 0


class _BadValue(ValueError):
    """One field of a row that cannot be read; its message is the bad row's reason."""


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of an aware ``moment``, exact to the microsecond."""
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def read_event_file(path: Path) -> EventFile:
    """Read any of the shared files, choosing the reader from its place under ``alt/lean``."""
    parts = path.parts
    if "trading-economics" in parts and "calendar" in path.name:
        return read_fed_calendar(path)
    if "estimize" in parts and "release" in parts:
        return read_estimize_releases(path)
    if "estimize" in parts and "estimate" in parts:
        return read_estimize_estimates(path)
    if "sec" in parts:
        return read_sec_filing(path)
    raise ValueError(f"expected a calendar, Estimize release or estimate, or SEC filing file, got {str(path)!r}")


def event_messages(paths: Iterable[Path]) -> tuple[list[tuple[bytes, bytes]], list[BadRow]]:
    """``(key, value)`` Kafka messages of the events of ``paths`` in publication order, and their bad rows.

    The key is the entity, so one entity's events keep their order on one partition; the value is
    the event's JSON (what ``operators.events.decode_event`` reads). ``tickwise produce`` sends them
    to the ``events`` topic and reports the bad rows.
    """
    events: list[EventMessage] = []
    bad_rows: list[BadRow] = []
    for path in paths:
        read = read_event_file(path)
        events += read.events
        bad_rows += read.bad_rows
    events.sort(key=_public_order)
    return [(event.entity.encode(), _ENCODER.encode(event)) for event in events], bad_rows


def read_fed_calendar(path: Path, schedule_lead_ns: int = SCHEDULE_LEAD_NS) -> EventFile:
    """Trading Economics calendar rows: an announcement and a release per row."""
    result = EventFile()
    for number, row in enumerate(_load_records(path), start=1):
        try:
            scheduled = to_ns(_parse_time(row, "Date", timezone.utc))
            entity = _COUNTRIES.get(row.get("Country"))
            if entity is None:
                raise _BadValue(f"expected Country in {sorted(_COUNTRIES)}, got {row.get('Country')!r}")
            importance = row.get("Importance")
            if type(importance) is not int or not 1 <= importance <= 3:
                raise _BadValue(f"expected Importance 1, 2 or 3, got {importance!r}")
            release = EventMessage(
                source="trading_economics", event_type=_slug(_text(row, "Event")), entity=entity,
                event_id=_text(row, "CalendarId"), public_ts_ns=scheduled, scheduled_ts_ns=scheduled,
                importance=importance, actual=_value(row, "Actual"), forecast=_value(row, "Forecast"),
                previous=_value(row, "Previous"), period=str(row.get("Reference") or ""))
        except _BadValue as error:
            result.bad_rows.append(BadRow(path, number, str(error), EVENT_FILE))
            continue
        result.events += [_announcement(release, schedule_lead_ns), release]
    result.events.sort(key=_public_order)
    return result


def read_estimize_releases(path: Path, symbol: str | None = None, schedule_lead_ns: int = SCHEDULE_LEAD_NS,
                           publication_delay_ns: int = PUBLICATION_DELAY_NS) -> EventFile:
    """Estimize quarterly releases: an announcement per row, and the report once ``eps`` is known."""
    entity = symbol or _symbol_of(path)
    result = EventFile()
    for number, row in enumerate(_load_records(path), start=1):
        try:
            scheduled_at = _parse_time(row, "release_date", None)
            if scheduled_at.day == 1 and scheduled_at.time() < time(6, 0):
                raise _BadValue(f"expected a release time, got the vendor's month stub {row['release_date']!r}, "
                                "weeks before the real report")
            scheduled = to_ns(scheduled_at)
            period = f"{_int(row, 'fiscal_year')}Q{_int(row, 'fiscal_quarter')}"
            event_id, eps = _text(row, "id"), _number(row, "eps")
            forecast = _number(row, "wallstreet_eps_estimate")
        except _BadValue as error:
            result.bad_rows.append(BadRow(path, number, str(error), EVENT_FILE))
            continue
        result.events.append(EventMessage(
            source="estimize", event_type="earnings_release", entity=entity, event_id=f"{event_id}:schedule",
            public_ts_ns=scheduled - schedule_lead_ns, scheduled_ts_ns=scheduled, importance=3, period=period))
        if eps is not None:
            result.events.append(EventMessage(
                source="estimize", event_type="earnings_release", entity=entity, event_id=event_id,
                public_ts_ns=_release_public_ns(scheduled_at, publication_delay_ns), scheduled_ts_ns=scheduled,
                importance=3, actual=eps, forecast=forecast, period=period))
    result.events.sort(key=_public_order)
    return result


def read_estimize_estimates(path: Path) -> EventFile:
    """Individual Estimize EPS estimates, public when created; flagged ones are skipped and counted."""
    result = EventFile()
    for number, row in enumerate(_load_records(path), start=1):
        if row.get("flagged") is True:
            result.skipped += 1
            continue
        try:
            created = to_ns(_parse_time(row, "created_at", None))
            eps = _number(row, "eps")
            if eps is None:
                raise _BadValue("expected an eps estimate, got null")
            result.events.append(EventMessage(
                source="estimize", event_type="eps_estimate", entity=_text(row, "ticker").upper(),
                event_id=_text(row, "id"), public_ts_ns=created, scheduled_ts_ns=created, importance=1,
                forecast=eps, period=f"{_int(row, 'fiscal_year')}Q{_int(row, 'fiscal_quarter')}",
                author=_text(row, "analyst_id")))
        except _BadValue as error:
            result.bad_rows.append(BadRow(path, number, str(error), EVENT_FILE))
    result.events.sort(key=_public_order)
    return result


def read_sec_filing(path: Path, symbol: str | None = None) -> EventFile:
    """An EDGAR filing (8-K, 10-Q ...): public when EDGAR made it available, with items and plain text."""
    entity = symbol or path.parent.name.upper()
    result = EventFile()
    for number, row in enumerate(_load_records(path), start=1):
        try:
            public = to_ns(_parse_time(row, "MADE-AVAILABLE-AT", NEW_YORK))
            form = _text(row, "TYPE")
            documents = row.get("DOCUMENT")
            if not isinstance(documents, list):
                raise _BadValue(f"expected DOCUMENT as a list, got {type(documents).__name__}")
            text = " ".join(_plain_text(document.get("TEXT", "")) for document in documents
                            if isinstance(document, dict) and _is_readable(document.get("TYPE"), form))
            items = row.get("ITEMS") or []
            result.events.append(EventMessage(
                source="sec_edgar", event_type=form, entity=entity, event_id=_text(row, "ACCESSION-NUMBER"),
                public_ts_ns=public, scheduled_ts_ns=public, importance=2, period=str(row.get("PERIOD", ""))[:8],
                items=tuple(str(item) for item in items), text=text.strip()))
        except _BadValue as error:
            result.bad_rows.append(BadRow(path, number, str(error), EVENT_FILE))
    return result


def _load_records(path: Path) -> list[Any]:
    """The JSON array of ``path`` (a ``.json`` file or a zip holding one)."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) != 1:
                raise ValueError(f"{path}: expected a zip holding one JSON file, got {len(names)} files")
            data = archive.read(names[0])
    else:
        data = path.read_bytes()
    records = json.loads(data)
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected a JSON array of records, got {type(records).__name__}")
    return records


def _announcement(release: EventMessage, lead_ns: int) -> EventMessage:
    return EventMessage(**{**_fields(release), "event_id": f"{release.event_id}:schedule", "actual": None,
                           "previous": None, "public_ts_ns": release.scheduled_ts_ns - lead_ns})


def _release_public_ns(scheduled_at: datetime, delay_ns: int) -> int:
    """A 16:00 local release is public ``delay_ns`` later; any other time, at the end of its local day."""
    if scheduled_at.time() == _RELEASE_TIME:
        return to_ns(scheduled_at) + delay_ns
    local_midnight = datetime.combine(scheduled_at.date() + timedelta(days=1), time(0), scheduled_at.tzinfo)
    return to_ns(local_midnight)


def _fields(event: EventMessage) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__struct_fields__}


def _public_order(event: EventMessage) -> tuple[int, str]:
    return event.public_ts_ns, event.event_id


def _parse_time(row: dict[str, Any], name: str, zone: Any) -> datetime:
    text = row.get(name)
    try:
        moment = datetime.fromisoformat(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _BadValue(f"expected an ISO time in {name}, got {text!r}") from None
    if moment.tzinfo is None:
        if zone is None:
            raise _BadValue(f"expected a UTC offset in {name}, got {text!r}")
        moment = moment.replace(tzinfo=zone)
    return moment


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value:
        raise _BadValue(f"expected a non-empty {name}, got {value!r}")
    return value


def _int(row: dict[str, Any], name: str) -> int:
    value = row.get(name)
    if type(value) is not int:
        raise _BadValue(f"expected an integer {name}, got {value!r}")
    return value


def _number(row: dict[str, Any], name: str) -> float | None:
    value = row.get(name)
    if value is None:
        return None
    if type(value) not in (int, float) or value != value or abs(value) == float("inf"):
        raise _BadValue(f"expected a finite number or null in {name}, got {value!r}")
    return float(value)


def _value(row: dict[str, Any], name: str) -> float | None:
    """A calendar value as the vendor writes it (``0.25%``, ``$25B``, empty) in the vendor's unit."""
    text = row.get(name) or ""
    if not isinstance(text, str):
        raise _BadValue(f"expected text in {name}, got {text!r}")
    if not text.strip():
        return None
    match = _VALUE.fullmatch(text)
    if match is None:
        raise _BadValue(f"expected a number such as 0.25% or $25B in {name}, got {text!r}")
    return float(match.group(1))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:64]


def _symbol_of(path: Path) -> str:
    return path.name.split(".")[0].upper()


def _is_readable(document_type: object, form: str) -> bool:
    return document_type == form or (isinstance(document_type, str) and document_type.startswith("EX-99"))


def _plain_text(markup: object) -> str:
    if not isinstance(markup, str):
        return ""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup)))
