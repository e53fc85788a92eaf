"""Option messages on the ticks topic: their JSON form and the checks a decoded one must pass.

On the wire a contract is its canonical OSI symbol (``"contract": "GOOG  160115C00750000"``),
with its exercise style and multiplier when they are not the US equity norm; everything else
is as in :mod:`operators.options.messages` (``type`` is ``option_quote``, ``option_trade`` or
``option_open_interest``). The Kafka key is the underlying (the OSI root), so a whole chain and
its underlying's own quotes and trades share one partition, in event-time order, and one worker.

:func:`to_message` turns a decoded wire message into the engine's message, or names the first
problem as ``(reason, detail)``: ``invalid_option_symbol`` (not OSI), ``strike_out_of_bounds``
(a zero strike), ``invalid_contract`` (a date, style or multiplier no listing has),
``key_mismatch``/``missing_key``, ``ts_out_of_bounds``, ``non_finite``, and the price and size
bounds of the other ticks (an option quote side with no order is price 0 and size 0; a crossed
option quote is kept: the chain counts it as a reason for no implied volatility).

>>> wire = OptionQuoteWire("GOOG  160115C00750000", 1_450_967_460_000_000_000, 12.5, 13.0, 5, 7)
>>> message = to_message(wire, b"GOOG", 1e-6, 1e7, 1e10, (0, 2**62))
>>> message.contract.strike, message.symbol
(750.0, 'GOOG')
>>> to_message(OptionQuoteWire("GOOG  160115C00000000", 1, 1.0, 2.0, 1, 1), b"GOOG", 1e-6, 1e7, 1e10, (0, 9))[0]
'strike_out_of_bounds'
"""

from __future__ import annotations

import math

import msgspec

from operators.options.contract import ContractError, parse_osi
from operators.options.messages import OptionOpenInterest, OptionQuote, OptionTrade

STAGE = "validate_option"
REJECT_REASONS = ("invalid_option_symbol", "invalid_contract", "strike_out_of_bounds", "open_interest_out_of_bounds")
Problem = tuple[str, str]


class OptionQuoteWire(msgspec.Struct, tag_field="type", tag="option_quote", frozen=True, forbid_unknown_fields=True):
    contract: str
    ts_ns: int
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    style: str = "american"
    multiplier: int = 100


class OptionTradeWire(msgspec.Struct, tag_field="type", tag="option_trade", frozen=True, forbid_unknown_fields=True):
    contract: str
    ts_ns: int
    price: float
    size: float
    style: str = "american"
    multiplier: int = 100


class OptionOpenInterestWire(msgspec.Struct, tag_field="type", tag="option_open_interest", frozen=True,
                             forbid_unknown_fields=True):
    contract: str
    ts_ns: int
    open_interest: float
    style: str = "american"
    multiplier: int = 100


OptionWire = OptionQuoteWire | OptionTradeWire | OptionOpenInterestWire
WIRE_TYPES = (OptionQuoteWire, OptionTradeWire, OptionOpenInterestWire)
_ENCODER = msgspec.json.Encoder()


def encode_option(message: OptionQuote | OptionTrade | OptionOpenInterest) -> tuple[bytes, bytes]:
    """``(key, value)`` of one option message: the underlying and the wire JSON."""
    option = message.contract
    extra = (option.style, option.multiplier)
    if type(message) is OptionQuote:
        wire: OptionWire = OptionQuoteWire(option.symbol, message.ts_ns, message.bid, message.ask, message.bid_size,
                                           message.ask_size, *extra)
    elif type(message) is OptionTrade:
        wire = OptionTradeWire(option.symbol, message.ts_ns, message.price, message.size, *extra)
    else:
        wire = OptionOpenInterestWire(option.symbol, message.ts_ns, message.open_interest, *extra)
    return option.underlying.encode(), _ENCODER.encode(wire)


def to_message(wire: OptionWire, key: bytes | None, min_price: float, max_price: float, max_size: float,
               ts_bounds: tuple[int, int]) -> OptionQuote | OptionTrade | OptionOpenInterest | Problem:
    """The engine's message for ``wire`` keyed by ``key``, or ``(reason, detail)`` of its first problem."""
    try:
        option = parse_osi(wire.contract, wire.style, wire.multiplier)
    except ContractError as error:
        return _contract_problem(wire.contract, str(error))
    if key is None:
        return "missing_key", f"expected the Kafka key {option.underlying!r} (the underlying), got none"
    if key != option.underlying.encode():
        return "key_mismatch", f"expected the Kafka key to equal the underlying {option.underlying!r}, got {key[:40]!r}"
    if not ts_bounds[0] <= wire.ts_ns <= ts_bounds[1]:
        return "ts_out_of_bounds", f"expected ts_ns in [{ts_bounds[0]}, {ts_bounds[1]}], got {wire.ts_ns}"
    if type(wire) is OptionQuoteWire:
        problem = (_bounded("bid", wire.bid, 0.0, max_price) or _bounded("ask", wire.ask, 0.0, max_price)
                   or _bounded("bid_size", wire.bid_size, 0.0, max_size)
                   or _bounded("ask_size", wire.ask_size, 0.0, max_size))
        return problem or OptionQuote(option, wire.ts_ns, wire.bid, wire.ask, wire.bid_size, wire.ask_size)
    if type(wire) is OptionTradeWire:
        problem = _bounded("price", wire.price, min_price, max_price) or _bounded("size", wire.size, 0.0, max_size)
        if problem is None and wire.size == 0:
            problem = "size_out_of_bounds", f"expected size in (0, {max_size!r}], got 0.0"
        return problem or OptionTrade(option, wire.ts_ns, wire.price, wire.size)
    problem = _bounded("open_interest", wire.open_interest, 0.0, max_size)
    return problem or OptionOpenInterest(option, wire.ts_ns, wire.open_interest)


def _contract_problem(symbol: str, detail: str) -> Problem:
    if "is not OSI" in detail or "spaces" in detail:
        return "invalid_option_symbol", detail
    if symbol[-8:] == "00000000":
        return "strike_out_of_bounds", f"expected a positive strike, got 0 in {symbol!r}"
    return "invalid_contract", detail


def _bounded(field: str, value: float, low: float, high: float) -> Problem | None:
    if not math.isfinite(value):
        return "non_finite", f"expected a finite {field}, got {value!r}"
    if not low <= value <= high:
        return f"{field}_out_of_bounds", f"expected {field} in [{low!r}, {high!r}], got {value!r}"
    return None
