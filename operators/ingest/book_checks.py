"""Stateless checks of depth messages (``BookSnapshot``, ``BookDelta``) on the ``ticks`` topic.

``operators.ingest.validation.decode_tick`` decodes a depth message like a trade or a quote and then
asks :func:`book_problem` whether it can be applied at all. What it refuses goes to ``ticks.dlq``
with a reason, as every other bad tick does:

- ``book_id_out_of_bounds``: an update id outside ``[0, 2**63 - 1]``, or a delta whose
  ``first_id`` is above its ``last_id``;
- ``non_finite``: a level price or size that is NaN or infinite;
- ``level_price_out_of_bounds``: a level price outside ``[min_price, max_price]`` (the validation
  limits' bounds of every price);
- ``level_size_out_of_bounds``: a level size below 0 or above ``max_size`` (0 is valid: it deletes
  the level);
- ``crossed_book``: a snapshot whose best bid is at or above its best ask.

A delta cannot be judged crossed on its own: whether it crosses depends on the book it continues,
which ``operators.book.book.OrderBook`` checks (a ``book_crossed`` event). Missing ids
(``missing_field``) and wrong types are refused by the typed decoder before these checks.

>>> from operators.messages import BookSnapshot
>>> book_problem(BookSnapshot("X", 1, 7, ((100.0, 1.0),), ((99.0, 1.0),)), 1e-6, 1e7, 1e10)[0]
'crossed_book'
>>> book_problem(BookSnapshot("X", 1, 7, ((99.0, 1.0),), ((100.0, 0.0), (101.0, 2.0))), 1e-6, 1e7, 1e10) is None
True
"""

from __future__ import annotations

import math

from operators.messages import BookDelta, BookSnapshot, Level

__all__ = ["BOOK_REJECT_REASONS", "book_problem"]

MAX_ID = 2**63 - 1
BOOK_REJECT_REASONS = ("book_id_out_of_bounds", "level_price_out_of_bounds", "level_size_out_of_bounds",
                       "crossed_book")


def book_problem(message: BookSnapshot | BookDelta, min_price: float, max_price: float,
                 max_size: float) -> tuple[str, str] | None:
    """``(reason, detail)`` when ``message`` cannot be applied to any book, else None."""
    problem = _ids_problem(message)
    if problem is None:
        bounds = (min_price, max_price, max_size)
        problem = _levels_problem("bid", message.bids, *bounds) or _levels_problem("ask", message.asks, *bounds)
    if problem is None and type(message) is BookSnapshot:
        problem = _crossed(message)
    return problem


def _ids_problem(message: BookSnapshot | BookDelta) -> tuple[str, str] | None:
    if type(message) is BookSnapshot:
        ids = (("update_id", message.update_id),)
    else:
        ids = (("first_id", message.first_id), ("last_id", message.last_id), ("prev_id", message.prev_id))
    for name, value in ids:
        if value is not None and not 0 <= value <= MAX_ID:
            return "book_id_out_of_bounds", f"expected {name} in [0, {MAX_ID}], got {value}"
    if type(message) is BookDelta and message.first_id > message.last_id:
        return "book_id_out_of_bounds", (f"expected first_id <= last_id, got first_id {message.first_id} above "
                                         f"last_id {message.last_id}")
    return None


def _levels_problem(side: str, levels: tuple[Level, ...], min_price: float, max_price: float,
                    max_size: float) -> tuple[str, str] | None:
    for price, size in levels:
        if min_price <= price <= max_price and 0.0 <= size <= max_size:
            continue
        if not math.isfinite(price) or not math.isfinite(size):
            return "non_finite", f"expected a finite {side} level, got price {price!r} size {size!r}"
        if not min_price <= price <= max_price:
            return "level_price_out_of_bounds", (f"expected {side} level prices in [{min_price!r}, {max_price!r}], "
                                                 f"got {price!r}")
        return "level_size_out_of_bounds", (f"expected {side} level sizes in [0, {max_size!r}] (0 deletes), "
                                            f"got {size!r} at price {price!r}")
    return None


def _crossed(snapshot: BookSnapshot) -> tuple[str, str] | None:
    bid = max((price for price, size in snapshot.bids if size > 0.0), default=-math.inf)
    ask = min((price for price, size in snapshot.asks if size > 0.0), default=math.inf)
    if bid >= ask:
        return "crossed_book", f"expected a snapshot's best bid below its best ask, got bid {bid!r} and ask {ask!r}"
    return None
