"""Option contract identity and its canonical OCC/OSI symbol.

A listed US equity option is named by its underlying, expiry, strike and right; the Options
Clearing Corporation's symbology (OSI) spells that as 21 characters: the root padded with spaces
to 6, the expiry as ``YYMMDD``, ``C`` or ``P``, and the strike in thousandths of a dollar on 8
digits (``GOOG  160115C00750000`` is the GOOG 2016-01-15 750 call). The symbol is the contract's
key everywhere downstream (state, ClickHouse rows, the online store), so formatting and parsing
are exact inverses and every field is checked once, here, with a one-sentence error.

Exercise style and multiplier are not in the OSI string (they are properties of the listing);
they travel on the contract and default to the US equity norm (American, 100 shares).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

import msgspec

Right = Literal["C", "P"]
Style = Literal["american", "european"]

_ROOT = re.compile(r"[A-Z0-9.]{1,6}")
_OSI = re.compile(r"(?P<root>[A-Z0-9. ]{6})(?P<expiry>\d{6})(?P<right>[CP])(?P<strike>\d{8})")
_MAX_STRIKE_MILLIS = 99_999_999


class ContractError(ValueError):
    """A contract field or an OSI symbol that cannot name a listed option."""


class OptionContract(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One listed option: build it with :func:`contract`, which validates every field.

    >>> contract("GOOG", dt.date(2016, 1, 15), 750.0, "C").symbol
    'GOOG  160115C00750000'
    >>> parse_osi("GOOG  160115C00750000").strike
    750.0
    """

    underlying: str
    expiry: dt.date
    strike: float
    right: Right
    style: Style = "american"
    multiplier: int = 100

    @property
    def symbol(self) -> str:
        """The canonical OSI symbol (21 characters)."""
        return format_osi(self)

    @property
    def is_call(self) -> bool:
        return self.right == "C"


def contract(underlying: str, expiry: dt.date, strike: float, right: str, style: str = "american",
             multiplier: int = 100) -> OptionContract:
    """A validated contract; a bad field raises :class:`ContractError` naming it."""
    root = underlying.upper()
    if not _ROOT.fullmatch(root):
        raise ContractError(f"option underlying {underlying!r} is not 1 to 6 letters, digits or dots")
    if not isinstance(expiry, dt.date):
        raise ContractError(f"option expiry {expiry!r} is not a date")
    if not 2000 <= expiry.year <= 2099:
        raise ContractError(f"option expiry {expiry} is outside 2000-2099, which OSI's two-digit year cannot name")
    millis = round(strike * 1000)
    if not (strike > 0 and millis <= _MAX_STRIKE_MILLIS and abs(millis - strike * 1000) < 1e-6 * max(strike, 1)):
        raise ContractError(f"option strike {strike!r} is not a positive price of at most 99,999.999 in thousandths")
    if right not in ("C", "P"):
        raise ContractError(f"option right {right!r} is neither 'C' (call) nor 'P' (put)")
    if style not in ("american", "european"):
        raise ContractError(f"option style {style!r} is neither 'american' nor 'european'")
    if isinstance(multiplier, bool) or not isinstance(multiplier, int) or multiplier <= 0:
        raise ContractError(f"option multiplier {multiplier!r} is not a positive whole number of shares")
    return OptionContract(root, expiry, millis / 1000, right, style, multiplier)  # type: ignore[arg-type]


def format_osi(option: OptionContract) -> str:
    """``ROOT__YYMMDD{C|P}SSSSSSSS``: root left-aligned in 6, strike in thousandths on 8 digits."""
    return f"{option.underlying:<6}{option.expiry:%y%m%d}{option.right}{round(option.strike * 1000):08d}"


def parse_osi(symbol: str, style: str = "american", multiplier: int = 100) -> OptionContract:
    """The contract an OSI symbol names; the inverse of :func:`format_osi`.

    >>> parse_osi("SPY   230803P00450500").strike
    450.5
    """
    match = _OSI.fullmatch(symbol)
    if match is None:
        raise ContractError(f"option symbol {symbol!r} is not OSI (6-character root, YYMMDD, C or P, 8-digit strike)")
    root = match["root"]
    if " " in root.rstrip() or not root.strip():
        raise ContractError(f"option symbol {symbol!r} has spaces inside or before its root")
    try:
        digits = match["expiry"]
        expiry = dt.date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    except ValueError:
        raise ContractError(f"option symbol {symbol!r} has no such expiry date {match['expiry']}") from None
    return contract(root.rstrip(), expiry, int(match["strike"]) / 1000, match["right"], style, multiplier)
