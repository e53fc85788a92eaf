"""Read LEAN's US option and equity minute files of one underlying-day as one event-time stream.

LEAN (QuantConnect, data from AlgoSeek) keeps, per underlying and day:

* ``option/usa/minute/<sym>/<YYYYMMDD>_{quote,trade,openinterest}_american.zip``: one CSV per
  contract, the contract in the entry name
  (``20151224_goog_minute_quote_american_call_7500000_20160115.csv``: style, right, strike in
  deci-cents, expiry);
* ``equity/usa/minute/<sym>/<YYYYMMDD>_{quote,trade}.zip``: the underlying's minute bars.

Rows are ``time,...`` with time in milliseconds after midnight New York and prices in deci-cents
(1/10,000 dollar). A minute bar is stamped with its start; it becomes an event at its end
(start + 60 s), when its close was known, so nothing downstream sees a price before it existed.
Open interest rows are events at their own time. Everything becomes the engine's messages
(:class:`operators.messages.Quote`/``Trade`` for the underlying,
:mod:`operators.options.messages` for contracts), merged by ``ts_ns`` (UTC nanoseconds); ties
keep the order underlying quote, underlying trade, open interest, option quote, option trade.

A quote side with no order has empty prices and size 0 in LEAN: it becomes price 0, size 0. A row
or entry that cannot be read (wrong field count, a non-integer, a time outside the day, a
negative price, an entry name that names no contract) is a :class:`BadRow` naming the zip, the
entry, the line and why; the rest of the day is read. Missing files are an
:class:`OptionFileError` with one sentence.

``tickwise produce --options-day GOOG:2015-12-24`` sends a day with :func:`encode_option_day`:
the underlying's quotes and trades as the other ticks, the option messages in their wire form
(:mod:`operators.options.wire`), all keyed by the underlying, in the event-time order above.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import numpy as np

from dataflows.bad_rows import BadRow
from operators.messages import Quote, Trade
from operators.options.contract import ContractError, OptionContract, contract
from operators.options.messages import OptionOpenInterest, OptionQuote, OptionTrade
from operators.options.wire import encode_option
from operators.options.rates import RateCurve

NEW_YORK = ZoneInfo("America/New_York")
DECI_CENTS = 10_000.0
BAR_NS = 60 * 1_000_000_000
DAY_MS = 86_400_000
LEAN_FILE = "LEAN file"  # a bad row's kind of file
FIELDS = {"quote": 11, "trade": 6, "openinterest": 2}
PRICE_FIELDS = {"quote": (1, 2, 3, 4, 6, 7, 8, 9), "trade": (1, 2, 3, 4), "openinterest": ()}
TIE_ORDER = {Quote: 0, Trade: 1, OptionOpenInterest: 2, OptionQuote: 3, OptionTrade: 4}
_ENTRY = re.compile(r"(?P<day>\d{8})_(?P<root>[a-z0-9.]+)_minute_(?P<kind>quote|trade|openinterest)_"
                    r"(?P<style>american|european)_(?P<right>call|put)_(?P<strike>\d+)_(?P<expiry>\d{8})\.csv")


class OptionFileError(ValueError):
    """A LEAN file of the requested day is missing or is not a zip."""


@dataclass(frozen=True)
class OptionDay:
    """One underlying-day: its messages in event time and the rows that could not be read."""

    underlying: str
    day: dt.date
    messages: list
    bad_rows: list[BadRow]


def midnight_ns(day: dt.date) -> int:
    """UTC nanoseconds of midnight New York on ``day`` (the offset of that day's session)."""
    noon = dt.datetime.combine(day, dt.time(12), NEW_YORK)
    offset = noon.utcoffset()
    assert offset is not None
    midnight_utc = dt.datetime.combine(day, dt.time(0), dt.timezone.utc) - offset
    return int(midnight_utc.timestamp()) * 1_000_000_000


def read_option_day(lean: Path, underlying: str, day: dt.date) -> OptionDay:
    """Every message of ``underlying`` on ``day`` under the LEAN data root ``lean``, in event time."""
    sym, stamp = underlying.lower(), f"{day:%Y%m%d}"
    base = midnight_ns(day)
    bad: list[BadRow] = []
    messages: list = []
    equity = lean / "equity" / "usa" / "minute" / sym
    for kind in ("quote", "trade"):
        path = equity / f"{stamp}_{kind}.zip"
        for label, text in _entries(path, kind, required=True):
            messages.extend(_underlying_messages(underlying.upper(), kind, _rows(label, text, kind, bad), base))
    options = lean / "option" / "usa" / "minute" / sym
    for kind in ("openinterest", "quote", "trade"):
        for path in sorted(options.glob(f"{stamp}_{kind}_*.zip")):
            for label, text in _entries(path, kind, required=False):
                option = _entry_contract(label, bad)
                if option is not None:
                    messages.extend(_option_messages(option, kind, _rows(label, text, kind, bad), base))
    if not any(isinstance(message, OptionQuote) for message in messages):
        raise OptionFileError(f"no option quotes for {underlying} on {day} under {options}")
    messages.sort(key=lambda message: (message.ts_ns, TIE_ORDER[type(message)]))
    return OptionDay(underlying.upper(), day, messages, bad)


def parse_day_spec(spec: str) -> tuple[str, dt.date]:
    """``UNDERLYING:YYYY-MM-DD`` as ``(underlying, day)``.

    >>> parse_day_spec("goog:2015-12-24")
    ('GOOG', datetime.date(2015, 12, 24))
    """
    underlying, _, day = spec.partition(":")
    try:
        return underlying.strip().upper(), dt.date.fromisoformat(day.strip())
    except ValueError:
        raise OptionFileError(f"option day {spec!r} is not UNDERLYING:YYYY-MM-DD (say GOOG:2015-12-24)") from None


def encode_option_day(messages: list, until_ns: int | None = None) -> list[tuple[bytes, bytes]]:
    """``(key, value)`` of every message (before ``until_ns``, when given), in order, keyed by the underlying."""
    encode = msgspec.json.Encoder().encode
    kept = messages if until_ns is None else [message for message in messages if message.ts_ns < until_ns]
    return [(message.symbol.encode(), encode(message)) if type(message) in (Quote, Trade) else encode_option(message)
            for message in kept]


def read_interest_rates(path: Path) -> RateCurve:
    """LEAN's ``interest-rate.csv`` (``DATE,PCREDIT8``, percent) as a :class:`RateCurve`."""
    try:
        lines = path.read_text().splitlines()[1:]
        points = [(dt.date.fromisoformat(day), float(percent)) for day, percent in
                  (line.split(",") for line in lines if line.strip())]
    except FileNotFoundError:
        raise OptionFileError(f"interest-rate file {path} does not exist") from None
    except ValueError as error:
        raise OptionFileError(f"interest-rate file {path} is not DATE,PERCENT rows ({error})") from None
    return RateCurve(points)


def _entries(path: Path, kind: str, required: bool) -> Iterator[tuple[str, str]]:
    """Each entry of a zip as ``(zip:entry, text)``; a quote side with no order reads as price 0."""
    if not path.exists():
        if required:
            raise OptionFileError(f"LEAN file {path} does not exist")
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise OptionFileError(f"LEAN file {path} is not a zip archive") from None
    with archive:
        for name in archive.namelist():
            label = f"{path}:{name}"
            text = archive.read(name).decode("ascii", errors="replace")
            if kind == "quote":  # a side with no quote has empty prices (and size 0): price 0
                text = text.replace(",,", ",0,").replace(",,", ",0,")
            yield label, text


def _rows(label: str, text: str, kind: str, bad: list[BadRow]) -> np.ndarray:
    """The entry's good rows as int64; fast path when every line is clean, else line by line."""
    width, prices = FIELDS[kind], PRICE_FIELDS[kind]
    lines = text.splitlines()
    try:
        rows = np.array([line.split(",") for line in lines], dtype=np.int64).reshape(len(lines), width)
        if _clean(rows).all():
            return rows
    except ValueError:
        pass
    good = []
    for number, line in enumerate(lines, start=1):
        reason = _row_problem(line, width, prices)
        if reason:
            bad.append(BadRow(Path(label), number, reason, LEAN_FILE))
        else:
            good.append([int(field) for field in line.split(",")])
    return np.array(good, dtype=np.int64).reshape(len(good), width)


def _clean(rows: np.ndarray) -> np.ndarray:
    """Rows whose time is within the day and whose prices and sizes are not negative."""
    return (rows[:, 0] >= 0) & (rows[:, 0] < DAY_MS) & (rows[:, 1:] >= 0).all(axis=1)


def _row_problem(line: str, width: int, prices: tuple[int, ...]) -> str:
    fields = line.split(",")
    if len(fields) != width:
        return f"expected {width} comma-separated fields, found {len(fields)}"
    try:
        values = [int(field) for field in fields]
    except ValueError:
        return f"expected whole numbers, found {line.strip()[:60]!r}"
    if not 0 <= values[0] < DAY_MS:
        return f"time {values[0]} ms is not within the day (0 to {DAY_MS})"
    if any(value < 0 for value in values[1:]):
        kind = "price" if any(values[i] < 0 for i in prices) else "size"
        return f"a negative {kind} in {line.strip()[:60]!r}"
    return ""


def _entry_contract(label: str, bad: list[BadRow]) -> OptionContract | None:
    name = label.rsplit(":", 1)[1]
    match = _ENTRY.fullmatch(name)
    if match is None:
        bad.append(BadRow(Path(label), 0, "entry name does not name a contract "
                                    "(day_root_minute_kind_style_right_strike_expiry.csv)", LEAN_FILE))
        return None
    try:
        expiry = dt.datetime.strptime(match["expiry"], "%Y%m%d").date()
        return contract(match["root"], expiry, int(match["strike"]) / DECI_CENTS, match["right"][0].upper(),
                        match["style"])
    except (ValueError, ContractError) as error:
        bad.append(BadRow(Path(label), 0, str(error), LEAN_FILE))
        return None


def _underlying_messages(symbol: str, kind: str, rows: np.ndarray, base: int) -> list:
    ts = (base + rows[:, 0] * 1_000_000 + BAR_NS).tolist()
    if kind == "trade":
        return [Trade(symbol, t, p, s) for t, p, s in zip(ts, (rows[:, 4] / DECI_CENTS).tolist(), rows[:, 5].tolist())]
    bid, ask = (rows[:, 4] / DECI_CENTS).tolist(), (rows[:, 9] / DECI_CENTS).tolist()
    return [Quote(symbol, t, b, a, float(bs), float(as_)) for t, b, a, bs, as_ in
            zip(ts, bid, ask, rows[:, 5].tolist(), rows[:, 10].tolist())]


def _option_messages(option: OptionContract, kind: str, rows: np.ndarray, base: int) -> list:
    if kind == "openinterest":
        ts = (base + rows[:, 0] * 1_000_000).tolist()
        return [OptionOpenInterest(option, t, float(oi)) for t, oi in zip(ts, rows[:, 1].tolist())]
    ts = (base + rows[:, 0] * 1_000_000 + BAR_NS).tolist()
    if kind == "trade":
        return [OptionTrade(option, t, p, float(s)) for t, p, s in
                zip(ts, (rows[:, 4] / DECI_CENTS).tolist(), rows[:, 5].tolist())]
    bid, ask = (rows[:, 4] / DECI_CENTS).tolist(), (rows[:, 9] / DECI_CENTS).tolist()
    return [OptionQuote(option, t, b, a, float(bs), float(as_)) for t, b, a, bs, as_ in
            zip(ts, bid, ask, rows[:, 5].tolist(), rows[:, 10].tolist())]
