"""The options step of the history half: one underlying's chain priced each minute, in event time.

Option messages travel on the ticks topic keyed by their underlying, so the decode step puts them
in the underlying's own ``TickBatch``, in source order with its quotes and trades. Two things
happen to such a batch (``dataflows.signals.feature_stage``):

* :func:`without_options` takes the option messages out before the per-symbol feature step, so
  the underlying's feature rows are those of its own ticks, with or without a chain;
* :class:`ChainStep` (``monitoring_stage``, keyed by underlying) feeds every tick of the batch,
  options and underlying alike, to :class:`~operators.options.minute.MinuteChainLogic` and emits
  a :class:`~operators.options.minute.ChainMinute` (the ``option_analytics`` and ``vol_surface``
  rows) for each minute that closes. A symbol gets chain state only once an option message of
  it arrives; the ticks of a symbol without options pass through and leave nothing behind.

Each minute's features (front ATM IV, skew, term slope, ...) go to ClickHouse ``option_features``
and, as :func:`chain_feature_row`, to the online store under the underlying's options key
(``sinks.redis_store.OPTION_KEY_SUFFIX``), when the minute closes in event time.

Each tick is taken once: a tick at or before the last source offset taken (a duplicate or a
replayed message; all of an underlying's messages share one partition) is skipped. The end of a
bounded input closes the minute still open. The step's state (the offset and the chain) goes
through the recovery snapshot (``dataflows.snapshots``), so a resumed flow prices the same
minutes as one that never stopped.

Rates: the curve of ``TICKWISE_OPTIONS_RATES_FILE`` (``dataflows.config_options``; LEAN's
``interest-rate.csv`` next to the option files by default), read once, when
the first chain is built.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from bytewax.operators import StatefulBatchLogic

from dataflows.config_options import DEFAULT_RATES_FILE, OptionsSection
from dataflows.optionfiles import OptionFileError, read_interest_rates
from dataflows.snapshots import dump_state, load_state
from operators.messages import FeatureRow, TickBatch
from operators.options.chain import ChainConfig
from operators.options.messages import OPTION_TYPES
from operators.options.minute import ChainMinute, MinuteChainLogic

STEP_ID = "option_chains"


def has_options(batch: TickBatch) -> bool:
    return any(type(tick.tick) in OPTION_TYPES for tick in batch.ticks)


def without_options(batch: TickBatch) -> TickBatch | None:
    """The batch with its option messages taken out (None when nothing else is left)."""
    if not has_options(batch):
        return batch
    ticks = [tick for tick in batch.ticks if type(tick.tick) not in OPTION_TYPES]
    return TickBatch(batch.symbol, ticks) if ticks else None


def only_options(batch: TickBatch) -> TickBatch | None:
    """The batch's option messages (None when it has none): stored in ``option_messages`` and
    counted as admitted, so every offset of the topic is accounted for."""
    if not has_options(batch):
        return None
    return TickBatch(batch.symbol, [tick for tick in batch.ticks if type(tick.tick) in OPTION_TYPES])


def chain_feature_row(minute: ChainMinute) -> FeatureRow:
    """A chain's minute as the online store takes it: the underlying's option features as of the minute
    boundary, priced at the spot the chain used (NaN in a minute without a quoted contract).

    No single message makes a minute: partition and offset are 0, so a minute written again (a replay)
    replaces itself with the same values, and the minute boundary orders the writes.

    >>> row = chain_feature_row(ChainMinute("GOOG", 120, [{"spot": 750.5}], [], {"atm_iv": 0.25}, {}))
    >>> row.symbol, row.ts_ns, row.offset, row.price, row.names, row.values
    ('GOOG', 120, 0, 750.5, ('atm_iv',), (0.25,))
    """
    spot = float(minute.contracts[0]["spot"]) if minute.contracts else math.nan
    return FeatureRow(minute.underlying, minute.ts_ns, 0, 0, spot, tuple(minute.features),
                      tuple(float(value) for value in minute.features.values()))


class ChainStep(StatefulBatchLogic[TickBatch, ChainMinute, bytes]):
    """One underlying's ``MinuteChainLogic`` behind an offset filter; none until its first option message."""

    def __init__(self, config: ChainConfigSource, logic: MinuteChainLogic | None = None, last_offset: int = -1) -> None:
        self._config = config
        self.logic = logic
        self.last_offset = last_offset

    def on_batch(self, values: list[TickBatch]) -> tuple[Iterable[ChainMinute], bool]:
        out: list[ChainMinute] = []
        for batch in values:
            if self.logic is None:
                if not has_options(batch):
                    continue
                self.logic = MinuteChainLogic(batch.symbol, self._config())
            for tick in batch.ticks:
                if tick.offset <= self.last_offset:
                    continue
                self.last_offset = tick.offset
                out.extend(self.logic.on_message(tick.tick))
        return out, StatefulBatchLogic.RETAIN if self.logic is not None else StatefulBatchLogic.DISCARD

    def on_eof(self) -> tuple[Iterable[ChainMinute], bool]:
        if self.logic is None:
            return [], StatefulBatchLogic.DISCARD
        return self.logic.flush(), StatefulBatchLogic.RETAIN

    def snapshot(self) -> bytes:
        return dump_state((self.last_offset, self.logic))


class ChainConfigSource:
    """The chain settings, with the rate curve read from ``rates_path`` the first time they are asked for."""

    def __init__(self, rates_path: Path = DEFAULT_RATES_FILE, dividend_yield: float = 0.0) -> None:
        self.rates_path = rates_path
        self.dividend_yield = dividend_yield
        self._config: ChainConfig | None = None

    @classmethod
    def of(cls, section: OptionsSection) -> ChainConfigSource:
        return cls(section.rates_file, section.dividend_yield)

    def __call__(self) -> ChainConfig:
        if self._config is None:
            try:
                rates = read_interest_rates(self.rates_path)
            except OptionFileError as error:
                raise OptionFileError(f"options step: {error}; set TICKWISE_OPTIONS_RATES_FILE to price option "
                                      "chains") from None
            self._config = ChainConfig(rates, self.dividend_yield)
        return self._config


class ChainStepBuilder:
    """Builds (or restores from our own recovery store) the options step of one underlying."""

    def __init__(self, config: ChainConfigSource | None = None) -> None:
        self._config = config or ChainConfigSource()

    def __call__(self, resume_state: bytes | None) -> ChainStep:
        if resume_state is None:
            return ChainStep(self._config)
        last_offset, logic = load_state(resume_state, STEP_ID)
        return ChainStep(self._config, logic, last_offset)
