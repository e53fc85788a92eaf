"""Cross-asset statistics: rolling correlation and beta between two symbols' bar returns.

State lives per *pair*, not per symbol: the flow sends each symbol's bar returns to every pair
it belongs to (``pair_keys``), keyed by the pair, so pairs spread over workers like symbols do.

Determinism without a global clock: the two legs of a pair arrive interleaved in an order that
changes from run to run, but each leg arrives in its own event-time order. ``PairCorrelation``
matches returns covering the same interval ``[previous_end_ns, end_ns)``: the matched set is the
intersection of the two legs' intervals and the statistics advance in interval order, whatever
the interleaving. A return that cannot match any more (the other leg has moved past it) is
dropped, so state stays bounded by the lag between the legs.

>>> pair = PairCorrelation("IBM", "SPY", window=3)
>>> out = [pair.update(BarReturn(symbol, 60, start, start + 60, value))
...        for symbol, start, value in [("IBM", 0, 0.01), ("SPY", 0, 0.02), ("SPY", 60, -0.01),
...                                     ("IBM", 60, -0.02), ("IBM", 120, 0.03), ("SPY", 120, 0.01)]]
>>> [round(row.beta, 6) for row in out if row is not None]
[nan, nan, 1.214286]
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from operators.messages import BarReturn, CrossAssetRow
from operators.features.rolling import RollingSums

NAN = math.nan


@dataclass(frozen=True, slots=True)
class CrossAssetConfig:
    """Which pairs to watch: every symbol against ``reference`` plus explicit ``pairs``."""

    reference: str | None = "SPY"
    pairs: tuple[tuple[str, str], ...] = ()
    window: int = 30

    def __post_init__(self) -> None:
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 3:
            raise ValueError(f"CrossAssetConfig.window must be an integer >= 3, got {self.window!r}")
        for pair in self.pairs:
            if len(pair) != 2 or pair[0] == pair[1] or not all(isinstance(leg, str) and leg for leg in pair):
                raise ValueError(f"CrossAssetConfig.pairs must hold pairs of two different symbols, got {pair!r}")


def pair_name(symbol: str, reference: str) -> str:
    return f"{symbol}/{reference}"


def pair_keys(symbol: str, config: CrossAssetConfig, universe_hint: tuple[str, ...] = ()) -> list[str]:
    """The pairs a symbol's returns go to.

    The reference symbol's own returns go to ``symbol/reference`` for every symbol in the
    explicit pairs and ``universe_hint``; other symbols' returns go to their pair with the
    reference and to the explicit pairs they belong to.
    """
    keys: list[str] = []
    reference = config.reference
    if reference is not None:
        if symbol == reference:
            keys.extend(pair_name(other, reference) for other in universe_hint if other != reference)
        else:
            keys.append(pair_name(symbol, reference))
    for left, right in config.pairs:
        if symbol in (left, right):
            name = pair_name(left, right)
            if name not in keys:
                keys.append(name)
    return keys


class PairCorrelation:
    """Rolling Pearson correlation and OLS beta of ``symbol`` on ``reference`` over ``window`` returns."""

    __slots__ = ("symbol", "reference", "window", "_pending", "_sums")

    def __init__(self, symbol: str, reference: str, window: int = 30) -> None:
        if symbol == reference:
            raise ValueError(f"a pair needs two different symbols, got {symbol!r} twice")
        if isinstance(window, bool) or not isinstance(window, int) or window < 3:
            raise ValueError(f"window must be an integer >= 3, got {window!r}")
        self.symbol = symbol
        self.reference = reference
        self.window = window
        self._reset()

    def _reset(self) -> None:
        self._pending: dict[str, deque[BarReturn]] = {self.symbol: deque(), self.reference: deque()}
        self._sums = RollingSums(self.window, 5)  # x (symbol), y (reference), xx, yy, xy

    def reset(self) -> None:
        self._reset()

    @property
    def ready(self) -> bool:
        return self._sums.ready

    def update(self, item: BarReturn) -> CrossAssetRow | None:
        if item.symbol not in self._pending:
            raise ValueError(f"pair {self.symbol}/{self.reference} got a return of {item.symbol!r}")
        other = self.reference if item.symbol == self.symbol else self.symbol
        waiting = self._pending[other]
        interval = (item.previous_end_ns, item.end_ns)
        # The other leg's returns that end before this one can never match: drop them.
        while waiting and waiting[0].end_ns < item.end_ns:
            waiting.popleft()
        if waiting and (waiting[0].previous_end_ns, waiting[0].end_ns) == interval:
            match = waiting.popleft()
            mine, theirs = (item, match) if item.symbol == self.symbol else (match, item)
            return self._add(mine, theirs)
        if waiting and waiting[0].end_ns == item.end_ns:
            waiting.popleft()  # same end, different span: never comparable
            return None
        if waiting:
            return None  # the other leg is already past this interval
        self._pending[item.symbol].append(item)
        return None

    def _add(self, mine: BarReturn, theirs: BarReturn) -> CrossAssetRow:
        x, y = mine.log_return, theirs.log_return
        sums = self._sums
        sums.update(x, y, x * x, y * y, x * y)
        correlation = beta = NAN
        if sums.ready:
            n = sums.count
            mean_x, mean_y = sums.total(0) / n, sums.total(1) / n
            var_x = sums.total(2) / n - mean_x * mean_x
            var_y = sums.total(3) / n - mean_y * mean_y
            covariance = sums.total(4) / n - mean_x * mean_y
            if var_y > 1e-18:
                beta = covariance / var_y
                if var_x > 1e-18:
                    correlation = max(-1.0, min(1.0, covariance / math.sqrt(var_x * var_y)))
        return CrossAssetRow(pair=pair_name(self.symbol, self.reference), symbol=self.symbol,
                             reference=self.reference, ts_ns=mine.end_ns, interval_ns=mine.interval_ns,
                             correlation=correlation, beta=beta, observations=sums.count)
