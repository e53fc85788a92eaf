"""Events on the ticks topic: the ``EventTick`` that carries one ``EventMessage`` to one symbol.

The live flow reads one topic, keyed by symbol, so that a symbol's events and ticks share a
partition and reach its per-symbol step in event-time order (``dataflows.symbol_step``). On the
wire an event is ``{"type": "event", "symbol": ..., "ts_ns": ..., "event": {...}}``: ``symbol`` is
the Kafka key and the symbol whose features the event reaches (a market's event, entity ``US``, is
sent once per symbol by the producer: ``operators.events.market_fan_out``), ``ts_ns`` the moment
the stream delivers it, which the event-time guard judges like a tick's time, and ``event`` the
message itself as on the ``events`` topic.

``ts_ns`` is never before ``event.public_ts_ns`` in what ``tickwise produce`` sends, except for
history: events public before the first tick of a run are delivered at that tick's time, in
publication order, so a day of ticks starts with the calendar and estimates known by then instead
of a stream of sparse old times the guard would refuse. Which time is given does not matter for
look-ahead: the features wait for ``public_ts_ns`` (``operators.events.features``).

>>> event = EventMessage("trading_economics", "fed_interest_rate_decision", "US", "17459",
...                      1_379_530_800_000_000_000, 1_379_530_800_000_000_000, 2, actual=0.25, forecast=0.25)
>>> key, value = encode_event_tick("SPY", 1_381_152_600_000_000_000, event)
>>> key, value[:58]
(b'SPY', b'{"type":"event","symbol":"SPY","ts_ns":1381152600000000000')
"""

from __future__ import annotations

import msgspec

from operators.events.message import EventMessage

__all__ = ["EventTick", "encode_event_tick"]

_ENCODER = msgspec.json.Encoder()


class EventTick(msgspec.Struct, tag_field="type", tag="event", frozen=True, forbid_unknown_fields=True):
    """One event delivered to ``symbol`` at ``ts_ns`` (see the module docstring)."""

    symbol: str
    ts_ns: int
    event: EventMessage


def encode_event_tick(symbol: str, ts_ns: int, event: EventMessage) -> tuple[bytes, bytes]:
    """``(key, value)`` of ``event`` delivered to ``symbol`` at ``ts_ns`` on the ticks topic."""
    return symbol.encode(), _ENCODER.encode(EventTick(symbol, ts_ns, event))
