"""The symbol grammar: which instrument identifiers enter the flow, and how they are normalised.

A symbol becomes a Redis key (``{prefix}{symbol}``), a Prometheus label value, a ClickHouse
column and the Kafka key of its messages, so it must be safe in all four. A symbol is accepted
when it is 1 to ``max_length`` characters (32 by default) and

- every character is an ASCII letter (either case), a digit, a space or one of
  ``. _ - : / ^ = # @ $ &``;
- it starts with a letter, a digit or one of ``^ @ $ . _`` and does not end with a space;
- it holds no ``..`` and uses ``/`` only between two non-empty parts that are not ``.``, so no
  part of it reads as a path segment (no leading, trailing or doubled ``/``).

That admits the identifiers of real venues and vendors: ``IBM``, ``BRK.B``, ``BRK/B``,
``BRK B``, ``ibm``, ``ESc1`` and ``.SPX`` (Refinitiv), ``^GSPC``, ``ES=F``, ``EURUSD=X`` and
``M&M.NS`` (Yahoo), ``@ES#`` (IQFeed), ``$SPX``, ``BTC-USD``, ``XBT/USD``, ``SPX_W``,
``BTC-27DEC24-100000-C`` (Deribit), ``IBM US Equity`` (Bloomberg) and OCC option symbols,
whose root is padded with spaces to six characters (``AAPL  240119C00190000``, 21 characters).

Refused, each with a one-sentence reason: control characters (newline, tab, NUL), leading or
trailing whitespace, non-ASCII letters (``ІBM`` with a Cyrillic І looks like ``IBM``), Redis glob
and cluster hash-tag characters (``* ? [ ] { }``), quotes and the backslash (escaped in Prometheus
labels and SQL), the comma (the separator of every symbol list setting), ``; | < > ( ) % ! ~ +``
and path segments (``A/../../ETC``, ``/ES``, ``A//B``). Internal spaces are kept as they are:
collapsing them would merge distinct OCC symbols.

Normalisation is per feed (one flow reads one ticks topic): ``keep`` (the default) keeps the
symbol as sent, so ``ibm`` and ``IBM`` are two instruments, as they are for vendors where case
carries meaning (``ESc1``); ``upper`` folds it to upper case after the grammar check.

>>> symbol_problem("AAPL  240119C00190000", 32) is None
True
>>> symbol_problem("A/../../ETC", 32)
"expected a symbol without path segments ('..'), got 'A/../../ETC'"
>>> normalise_symbol("brk.b", "upper")
'BRK.B'
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

__all__ = ["SYMBOL_CASES", "SYMBOL_PATTERN", "SymbolCase", "normalise_symbol", "symbol_problem"]

SymbolCase = Literal["keep", "upper"]
SYMBOL_CASES: tuple[SymbolCase, ...] = ("keep", "upper")

_FIRST = "A-Za-z0-9^@$._"
_PUNCTUATION = "._:/^=#@$& -"
SYMBOL_PATTERN = re.compile(rf"[{_FIRST}][A-Za-z0-9{re.escape(_PUNCTUATION)}]*")
"""The characters of a symbol (matched in full); ``symbol_problem`` adds the path and space rules."""

_ALLOWED_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + _PUNCTUATION)
_PREVIEW_CHARACTERS = 40


@lru_cache(maxsize=65_536)
def symbol_problem(symbol: str, max_length: int) -> str | None:
    """Why ``symbol`` is refused (``expected ..., got ...``), or None when it is accepted.

    Pure and bounded: a feed repeats a few thousand symbols, so most ticks hit the cache.
    """
    if not symbol:
        return f"expected a symbol of 1 to {max_length} characters, got an empty symbol"
    if len(symbol) > max_length:
        return f"expected a symbol of at most {max_length} characters, got {len(symbol)} characters"
    for position, character in enumerate(symbol):
        if character not in _ALLOWED_CHARACTERS:
            return (f"expected a symbol of ASCII letters, digits, spaces and . _ - : / ^ = # @ $ &, "
                    f"got {character!r} at position {position} of {_preview(symbol)}")
    if symbol[0] == " " or symbol[-1] == " ":
        return f"expected a symbol without leading or trailing spaces, got {_preview(symbol)}"
    if SYMBOL_PATTERN.fullmatch(symbol) is None:
        return f"expected a symbol starting with a letter, a digit or one of ^@$._, got {_preview(symbol)}"
    if ".." in symbol:
        return f"expected a symbol without path segments ('..'), got {_preview(symbol)}"
    if "/" in symbol and any(part in ("", ".") for part in symbol.split("/")):
        return f"expected '/' only between two parts of a symbol (no '/.', '//' or trailing '/'), got {_preview(symbol)}"
    return None


def normalise_symbol(symbol: str, case: SymbolCase) -> str:
    """The symbol as the flow keys it: unchanged (``keep``) or in upper case (``upper``)."""
    return symbol.upper() if case == "upper" else symbol


def _preview(value: str) -> str:
    text = repr(value)
    return text[:_PREVIEW_CHARACTERS] + "..." if len(text) > _PREVIEW_CHARACTERS else text
