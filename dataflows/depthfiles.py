"""Raw depth captures as tickwise messages, in arrival order.

A capture holds one WebSocket message per line, ``<receive_ts_ns> <json>``, gzip or plain, as the
shared Binance and Hyperliquid files do (``../shared/data/l2/``). :func:`read_capture` maps every
line to :mod:`operators.messages` types:

==========================================  =====================================================
Binance ``depthUpdate`` (spot, USD-M,       ``BookDelta``: ``U`` / ``u`` / ``pu`` become
COIN-M)                                     ``first_id`` / ``last_id`` / ``prev_id``
Binance REST snapshot (``lastUpdateId``)    ``BookSnapshot`` with ``update_id = lastUpdateId``
Binance ``bookTicker``                      ``Quote`` with ``book_id = u``
Binance ``trade``                           ``Trade``; ``m`` (buyer is maker) means a sell
                                            aggressor; ``seq`` is the trade id
Hyperliquid ``l2Book``                      ``BookSnapshot`` (every message is the whole book)
                                            with ``update_id = time``
Hyperliquid ``trades``                      one ``Trade`` per element; side ``B`` buy, ``A`` sell
==========================================  =====================================================

**Symbols** carry the venue, since the same pair trades on several: ``BINANCE:BTCUSDT`` (spot),
``BINANCE-USDM:BTCUSDT``, ``BINANCE-COINM:BTCUSD_PERP``, ``HYPERLIQUID:BTC``. The venue is told
apart by the file's own messages: Hyperliquid has ``channel``; Binance futures diffs carry ``pu``
(COIN-M also ``ps``), spot diffs do not. A REST snapshot names no symbol: it takes the file's
(the first symbol seen in the file).

**Event time** is the venue's own where the message has one (``E`` of a diff or a futures book
ticker, ``T`` of a trade, ``time`` on Hyperliquid), in nanoseconds. Spot book tickers and spot
REST snapshots carry none: they get the receive time plus the latest offset (venue time minus
receive time, about +1.27 s on the August files) seen earlier in the same file, so they land
within milliseconds of the messages around them, deterministically.

A line that is not ``<integer> <JSON object>`` or a JSON message of an unknown kind is skipped and
reported as a :class:`~dataflows.bad_rows.BadRow` with its line number; nothing is dropped silently.

**On the wire** (``tickwise produce --file``): :func:`is_capture` tells a capture from a tick CSV by
its first line, and :func:`encode_messages` gives each message as the ``ticks`` topic carries it:
key = symbol, value = the message's JSON with its ``type`` tag (``trade``, ``quote``,
``book_snapshot``, ``book_delta``), in arrival order, as ``operators.ingest.validation`` decodes it.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import orjson

from dataflows.bad_rows import BadRow
from operators.messages import BookDelta, BookSnapshot, Level, Quote, Trade

MS_NS = 1_000_000
SCAN_LINES = 5_000
PREFIXES = {"spot": "BINANCE", "usdm": "BINANCE-USDM", "coinm": "BINANCE-COINM", "hyperliquid": "HYPERLIQUID"}

Message = BookDelta | BookSnapshot | Quote | Trade


@dataclass(frozen=True)
class CaptureItem:
    """One message of a capture with where it came from: ``receive_ts_ns`` and the line number."""

    message: Message
    receive_ts_ns: int
    line: int


def is_capture(path: Path) -> bool:
    """True when the first non-blank line of ``path`` (gzip or plain) is ``<integer> <JSON object>``; False
    for anything else, unreadable files included (the tick-file reader names their problem)."""
    try:
        for raw in _open(path):
            if raw.strip():
                stamp, _, body = raw.partition(b" ")
                return stamp.isdigit() and body.lstrip().startswith(b"{")
    except (OSError, EOFError, zlib.error):
        return False
    return False


def encode_messages(items: Iterable[CaptureItem]) -> Iterator[tuple[bytes, bytes]]:
    """``(key, value)`` per message: the symbol and the message's JSON, in the order given."""
    encode = msgspec.json.Encoder().encode
    for item in items:
        message = item.message
        yield message.symbol.encode(), encode(message)


def _open(path: Path) -> Iterator[bytes]:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gzipped else path.open("rb")) as lines:
        yield from lines


def _levels(raw: Iterable[list[str]]) -> tuple[Level, ...]:
    return tuple((float(price), float(size)) for price, size in raw)


def _hyperliquid_levels(raw: Iterable[dict]) -> tuple[Level, ...]:
    return tuple((float(level["px"]), float(level["sz"])) for level in raw)


def _split(raw: bytes) -> tuple[int, dict]:
    stamp, _, body = raw.partition(b" ")
    receive = int(stamp)
    value = orjson.loads(body)
    if not isinstance(value, dict):
        raise ValueError("the JSON is not an object")
    return receive, value


def detect_venue(path: Path) -> tuple[str, str]:
    """``(venue, symbol)`` of a capture from its first lines; ``ValueError`` when they tell neither."""
    venue = symbol = None
    for number, raw in enumerate(_open(path), start=1):
        if number > SCAN_LINES or (venue and symbol):
            break
        try:
            _, value = _split(raw)
        except ValueError:
            continue
        if "channel" in value:
            data = value.get("data")
            coin = data.get("coin") if isinstance(data, dict) else (data[0].get("coin") if data else None)
            venue, symbol = "hyperliquid", symbol or coin
            continue
        data = value.get("data")
        if not isinstance(data, dict):
            continue
        symbol = symbol or data.get("s")
        if data.get("e") == "depthUpdate":
            venue = "spot" if "pu" not in data else ("coinm" if "ps" in data else "usdm")
    if venue is None or symbol is None:
        raise ValueError(f"{path} is not a Binance or Hyperliquid depth capture (no depth message or symbol "
                         f"in its first {SCAN_LINES:,} lines)")
    return venue, f"{PREFIXES[venue]}:{symbol}"


class _Mapper:
    """Maps the JSON messages of one capture, keeping the receive-to-venue clock offset."""

    def __init__(self, venue: str, symbol: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self.prefix = PREFIXES[venue]
        self.offset_ns = 0

    def _venue_time(self, receive: int, venue_ms: object) -> int:
        if isinstance(venue_ms, int):
            ts = venue_ms * MS_NS
            self.offset_ns = ts - receive
            return ts
        return receive + self.offset_ns

    def _symbol(self, raw: object) -> str:
        return f"{self.prefix}:{raw}" if isinstance(raw, str) else self.symbol

    def map(self, receive: int, value: dict) -> list[Message]:
        if self.venue == "hyperliquid":
            return self._hyperliquid(receive, value)
        if "lastUpdateId" in value:
            return [BookSnapshot(self.symbol, self._venue_time(receive, value.get("E")), int(value["lastUpdateId"]),
                                 _levels(value["bids"]), _levels(value["asks"]))]
        data = value["data"]
        kind = data.get("e", "bookTicker" if "u" in data and "b" in data else None)
        if kind == "depthUpdate":
            previous = data.get("pu")
            return [BookDelta(self._symbol(data["s"]), self._venue_time(receive, data["E"]), int(data["U"]),
                              int(data["u"]), _levels(data["b"]), _levels(data["a"]),
                              None if previous is None else int(previous))]
        if kind == "bookTicker":
            return [Quote(self._symbol(data["s"]), self._venue_time(receive, data.get("E")), float(data["b"]),
                          float(data["a"]), float(data["B"]), float(data["A"]), book_id=int(data["u"]))]
        if kind == "trade":
            return [Trade(self._symbol(data["s"]), self._venue_time(receive, data["T"]), float(data["p"]),
                          float(data["q"]), "sell" if data["m"] else "buy", seq=int(data["t"]))]
        raise ValueError(f"unknown Binance message kind {kind!r}")

    def _hyperliquid(self, receive: int, value: dict) -> list[Message]:
        channel, data = value["channel"], value["data"]
        if channel == "l2Book":
            bids, asks = data["levels"]
            time = int(data["time"])
            return [BookSnapshot(self._symbol(data["coin"]), self._venue_time(receive, time), time,
                                 _hyperliquid_levels(bids), _hyperliquid_levels(asks))]
        if channel == "trades":
            return [Trade(self._symbol(t["coin"]), self._venue_time(receive, int(t["time"])), float(t["px"]),
                          float(t["sz"]), "buy" if t["side"] == "B" else "sell", seq=int(t["tid"]))
                    for t in data]
        raise ValueError(f"unknown Hyperliquid channel {channel!r}")


@dataclass
class Capture:
    """The messages of one or more capture files read in order, and the lines that gave none."""

    items: list[CaptureItem]
    problems: list[BadRow]


def read_capture(paths: Iterable[str | Path]) -> Capture:
    """Every message of ``paths``, file after file, in arrival order (a day that continues the
    previous day's file must follow it)."""
    items: list[CaptureItem] = []
    problems: list[BadRow] = []
    for path in map(Path, paths):
        mapper = _Mapper(*detect_venue(path))
        for number, raw in enumerate(_open(path), start=1):
            if not raw.strip():
                continue
            try:
                receive, value = _split(raw)
                messages = mapper.map(receive, value)
            except (ValueError, KeyError, TypeError, IndexError, orjson.JSONDecodeError) as error:
                problems.append(BadRow(path, number, _reason(error), "depth capture"))
                continue
            items += [CaptureItem(message, receive, number) for message in messages]
    return Capture(items, problems)


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"the message lacks field {error.args[0]!r}"
    return str(error).split("\n")[0] or type(error).__name__
