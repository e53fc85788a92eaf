"""Messages of an options chain: quotes, trades and open interest of one contract.

Each names its contract in full (:class:`~operators.options.contract.OptionContract`), so a
consumer needs no reference data to price it; the key is the contract's OSI symbol. Prices are
dollars per share (not per contract); sizes and volumes are contracts. ``ts_ns`` is event time in
UTC nanoseconds: for minute bars, the end of the bar, when its close was known.

``symbol`` is the underlying: what an option message is keyed and routed by (the Kafka key and
the flow's per-symbol batches), so a chain travels with its underlying's own ticks, in order.
The contract's own symbol is ``contract.symbol`` (OSI).
"""

from __future__ import annotations

import msgspec

from operators.options.contract import OptionContract


class OptionQuote(msgspec.Struct, tag_field="type", tag="option_quote", frozen=True, forbid_unknown_fields=True):
    """Best bid and offer of one contract (a side with no quote is 0.0 with size 0)."""

    contract: OptionContract
    ts_ns: int
    bid: float
    ask: float
    bid_size: float
    ask_size: float

    @property
    def symbol(self) -> str:
        return self.contract.underlying


class OptionTrade(msgspec.Struct, tag_field="type", tag="option_trade", frozen=True, forbid_unknown_fields=True):
    """Contracts traded in one interval at ``price`` (a minute bar's close) and ``size`` in all."""

    contract: OptionContract
    ts_ns: int
    price: float
    size: float

    @property
    def symbol(self) -> str:
        return self.contract.underlying


class OptionOpenInterest(msgspec.Struct, tag_field="type", tag="option_open_interest", frozen=True,
                         forbid_unknown_fields=True):
    """Contracts outstanding, as published (once a day, before the open)."""

    contract: OptionContract
    ts_ns: int
    open_interest: float

    @property
    def symbol(self) -> str:
        return self.contract.underlying


OptionMessage = OptionQuote | OptionTrade | OptionOpenInterest
#: The option message types, for ``type(x) in OPTION_TYPES`` checks.
OPTION_TYPES = (OptionQuote, OptionTrade, OptionOpenInterest)
