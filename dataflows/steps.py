"""Adapters between Bytewax's operator interfaces and our pure operators and models.

No math lives here: the per-symbol logic delegates to ``operators``, the scorer to
``models``; these classes only move items in and out and snapshot state.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone

import numpy as np
from bytewax.operators import StatefulBatchLogic, StatefulLogic

from dataflows.model_watch import ModelWatcher
from dataflows.snapshots import dump_state, load_state
from models.ensemble import Ensemble
from operators.monitoring.drift import DriftConfig, FeatureDriftMonitor
from operators.monitoring.standardised import STANDARDISED, StandardisedDriftMonitor
from operators.monitoring.outcomes import OutcomeConfig, OutcomeTracker
from operators.paper.trader import PaperTrader, PaperTradingConfig
from operators.monitoring.psi import FeatureProfile, PsiConfig, PsiMonitor, PsiReading
from operators.features.cross_asset import CrossAssetConfig, PairCorrelation, pair_keys
from operators.messages.ids import stable_id
from operators.messages import (BarReturn, ControlCommand, CrossAssetRow, Decision, DriftEvent, FeatureRow,
                                MarketContext, Prediction, Reject, TickBatch, ValidTick)
from operators.risk.engine import PortfolioRiskEngine
from operators.risk.limits import RiskLimits
from operators.risk.ordering import EventOrderBuffer


class PairRouter:
    """``flat_map`` mapper: send a symbol's bar return to every pair it belongs to."""

    def __init__(self, config: CrossAssetConfig, universe: tuple[str, ...]) -> None:
        self._config = config
        self._universe = universe

    def __call__(self, item: BarReturn) -> list[tuple[str, tuple[str, str, BarReturn]]]:
        routed = []
        for key in pair_keys(item.symbol, self._config, self._universe):
            symbol, reference = key.split("/", 1)
            routed.append((key, (symbol, reference, item)))
        return routed


class CrossAssetStep:
    """``stateful_map`` mapper: one ``PairCorrelation`` per pair key."""

    def __init__(self, config: CrossAssetConfig) -> None:
        self._window = config.window

    def __call__(self, state: PairCorrelation | None, routed: tuple[str, str, BarReturn]
                 ) -> tuple[PairCorrelation, CrossAssetRow | None]:
        symbol, reference, item = routed
        if state is None:
            state = PairCorrelation(symbol, reference, self._window)
        return state, state.update(item)


class SymbolMonitors:
    """The drift stage's state of one symbol: its feature monitor, and PSI when a profile exists."""

    __slots__ = ("detectors", "psi")

    def __init__(self, detectors: StandardisedDriftMonitor | FeatureDriftMonitor, psi: PsiMonitor | None) -> None:
        self.detectors = detectors
        self.psi = psi

    def __getstate__(self) -> tuple[StandardisedDriftMonitor | FeatureDriftMonitor, PsiMonitor | None]:
        return self.detectors, self.psi

    def __setstate__(self, state: tuple[StandardisedDriftMonitor | FeatureDriftMonitor, PsiMonitor | None]) -> None:
        self.detectors, self.psi = state


class DriftStep:
    """``stateful_flat_map`` mapper: the configured feature monitor (standardised features per group
    by default, River detectors on raw values when ``config.detector`` names one) and, with a
    training profile, PSI per feature; emits drift events and PSI readings (for the gauges)."""

    def __init__(self, config: DriftConfig, profile: FeatureProfile | None = None,
                 psi: PsiConfig | None = None) -> None:
        self._config = config
        self._profile = profile
        self._psi = psi or PsiConfig()

    def _monitor(self) -> StandardisedDriftMonitor | FeatureDriftMonitor:
        if self._config.detector == STANDARDISED:
            return StandardisedDriftMonitor(self._config.standardised)
        return FeatureDriftMonitor(self._config)

    def __call__(self, state: SymbolMonitors | None, row: FeatureRow
                 ) -> tuple[SymbolMonitors, list[DriftEvent | PsiReading]]:
        if state is None:
            psi = PsiMonitor(self._profile, self._psi) if self._profile is not None and self._profile.bins else None
            state = SymbolMonitors(self._monitor(), psi)
        out: list[DriftEvent | PsiReading] = list(state.detectors.update(row))
        if state.psi is not None:
            events, readings = state.psi.update(row)
            out.extend(events)
            out.extend(readings)
        return state, out


PORTFOLIO_KEY = "portfolio"
_MARKET, _PREDICTION = 0, 1  # within one row, the market context is applied before the prediction


def market_context(row: FeatureRow) -> MarketContext:
    """The few fields of a feature row that the portfolio risk step needs (no math)."""
    return MarketContext(symbol=row.symbol, ts_ns=row.ts_ns, partition=row.partition, offset=row.offset,
                         price=row.price, mid=row.get("mid"), spread=row.get("spread"),
                         quote_age_s=row.get("quote_age_seconds"), trade_age_s=row.get("last_trade_age_seconds"))


def to_portfolio(item: object) -> tuple[str, object]:
    """Every risk input goes to the one portfolio key."""
    return (PORTFOLIO_KEY, item)


class PortfolioRiskLogic(StatefulLogic[object, Decision, bytes]):
    """The portfolio risk step: orders contexts and predictions by event time, then decides.

    Control commands (the kill switch) apply at once, so HALTED takes effect for every
    decision released after the batch that carried it. Symbols outside the universe are
    denied at once without touching the state. End of input releases everything in order.
    In live runs the buffer is told each item's arrival on a monotonic clock, and Bytewax's
    notification wakes the step when a symbol that never sent anything turns idle
    (``operators.risk.ordering``); the decisions themselves depend on event time only.
    """

    def __init__(self, engine: PortfolioRiskEngine, buffer: EventOrderBuffer,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._buffer = buffer
        self._clock = clock

    def _apply(self, released: list) -> list[Decision]:
        decisions = []
        engine = self._engine
        for *_, payload in released:
            if isinstance(payload, MarketContext):
                engine.on_market(payload)
            else:
                decisions.append(engine.decide(payload))
        return decisions

    def on_item(self, value: object) -> tuple[Iterable[Decision], bool]:
        engine = self._engine
        if isinstance(value, ControlCommand):
            engine.on_control(value)
            return [], StatefulLogic.RETAIN
        if value.symbol not in engine.limits.universe:  # type: ignore[attr-defined]
            return ([engine.decide(value)] if isinstance(value, Prediction) else []), StatefulLogic.RETAIN
        kind = _MARKET if isinstance(value, MarketContext) else _PREDICTION
        released = self._buffer.push((value.symbol, value.ts_ns, value.partition, value.offset, kind,  # type: ignore[attr-defined]
                                      value), self._clock())
        return self._apply(released), StatefulLogic.RETAIN

    def on_notify(self) -> tuple[Iterable[Decision], bool]:
        return self._apply(self._buffer.release_idle(self._clock())), StatefulLogic.RETAIN

    def notify_at(self) -> datetime | None:
        now = self._clock()
        due = self._buffer.idle_due_s(now)
        return None if due is None else datetime.now(timezone.utc) + timedelta(seconds=due - now)

    def on_eof(self) -> tuple[Iterable[Decision], bool]:
        return self._apply(self._buffer.flush()), StatefulLogic.RETAIN

    def snapshot(self) -> bytes:
        return dump_state((self._engine, self._buffer))


class PortfolioRiskBuilder:
    """Builds (or restores from our own recovery store) the portfolio risk logic.

    ``idle_after_s`` None: bounded runs wait for every symbol (exactly deterministic); a number:
    live runs stop waiting for a symbol silent that long in wall time (``operators.risk.ordering``).
    """

    def __init__(self, limits: RiskLimits, idle_after_s: float | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.idle_after_s = idle_after_s
        self.clock = clock

    def __call__(self, resume_state: bytes | None) -> PortfolioRiskLogic:
        if resume_state is not None:
            engine, buffer = load_state(resume_state, "portfolio_risk")
            buffer.set_idle_after(self.idle_after_s)
            return PortfolioRiskLogic(engine, buffer, self.clock)
        return PortfolioRiskLogic(PortfolioRiskEngine(self.limits),
                                  EventOrderBuffer(self.limits.universe, self.idle_after_s,
                                                   kinds=(_MARKET, _PREDICTION)), self.clock)


class BatchScorer:
    """``flat_map_batch`` mapper: one ensemble call for a batch of rows of any symbols.

    With a ``ModelWatcher`` it follows a registry alias: at the start of a batch (a batch
    boundary) it asks the watcher, which checks the registry at most every N seconds and
    returns a fully loaded, checked ensemble when the alias moved; the whole batch is then
    scored by the new one. Every prediction records the version that scored it.
    """

    def __init__(self, ensemble: Ensemble, watcher: ModelWatcher | None = None,
                 on_swap: Callable[[Ensemble], None] | None = None) -> None:
        self._ensemble = ensemble
        self._watcher = watcher
        self._on_swap = on_swap
        self._columns: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

    @property
    def ensemble(self) -> Ensemble:
        return self._ensemble

    def _maybe_swap(self) -> None:
        swap = self._watcher.poll() if self._watcher is not None else None
        if swap is not None:
            # One assignment: a batch scores with the old ensemble or the new one, never a mix.
            self._columns = {}
            self._ensemble = swap.ensemble
            if self._on_swap is not None:
                self._on_swap(swap.ensemble)

    def _column_index(self, ensemble: Ensemble, names: tuple[str, ...]) -> np.ndarray:
        key = (ensemble.version, names)
        index = self._columns.get(key)
        if index is None:
            position = {name: i for i, name in enumerate(names)}
            # -1 marks a model feature the stream does not produce: it is scored as missing.
            index = np.array([position.get(name, -1) for name in ensemble.feature_names], dtype=np.int64)
            self._columns[key] = index
        return index

    def __call__(self, rows: Sequence[FeatureRow]) -> list[Prediction]:
        self._maybe_swap()
        if not rows:
            return []
        names = rows[0].names
        if all(row.names is names or row.names == names for row in rows):
            return self._score(rows)
        # Rows of several layouts (symbols with order books add depth features): one call per layout,
        # the predictions back in row order.
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, row in enumerate(rows):
            groups.setdefault(row.names, []).append(i)
        predictions: list[Prediction | None] = [None] * len(rows)
        for indexes in groups.values():
            for i, prediction in zip(indexes, self._score([rows[i] for i in indexes])):
                predictions[i] = prediction
        return predictions  # type: ignore[return-value]

    def _score(self, rows: Sequence[FeatureRow]) -> list[Prediction]:
        """Predictions of rows that share one names tuple."""
        ensemble = self._ensemble
        columns = self._column_index(ensemble, rows[0].names)
        width = len(rows[0].values)
        matrix = np.empty((len(rows), width + 1), dtype=np.float64)
        matrix[:, :width] = [row.values for row in rows]
        matrix[:, width] = math.nan
        features = matrix[:, columns]
        out = ensemble.predict(features, [row.symbol for row in rows], [row.ts_ns for row in rows])
        version = ensemble.version
        names = tuple(out.specialists)
        specialist_columns = [out.specialists[name] for name in names]
        predictions = []
        for i, row in enumerate(rows):
            predictions.append(Prediction(
                prediction_id=stable_id(row.symbol, row.partition, row.offset, version),
                symbol=row.symbol, ts_ns=row.ts_ns, partition=row.partition, offset=row.offset,
                price=row.price, model_version=version,
                p_up=float(out.p_up[i]), direction=int(out.direction[i]), confidence=float(out.confidence[i]),
                volatility=float(out.volatility[i]), regime=str(out.regime[i]), score=float(out.score[i]),
                specialists={name: float(column[i]) for name, column in zip(names, specialist_columns)},
            ))
        return predictions


def decode_batch(decode: Callable[[object], ValidTick | Reject]) -> Callable[[Sequence[object]], list]:
    """``flat_map_batch`` mapper: decode a whole source batch in one call (timed once per batch).

    Returns the rejects one by one and the valid ticks as one ``TickBatch`` per symbol, each
    in arrival order, so everything downstream moves one item per symbol and batch.
    """

    def run(records: Sequence[object]) -> list[TickBatch | Reject]:
        out: list[TickBatch | Reject] = []
        groups: dict[str, list[ValidTick]] = {}
        for record in records:
            item = decode(record)
            if type(item) is ValidTick:
                symbol = item.tick.symbol
                group = groups.get(symbol)
                if group is None:
                    groups[symbol] = [item]
                else:
                    group.append(item)
            else:
                out.append(item)
        out.extend(TickBatch(symbol, ticks) for symbol, ticks in groups.items())
        return out

    return run


class OutcomeJoin:
    """One symbol's outcome state: its ``OutcomeTracker`` plus the merge of its two input streams.

    Rows and predictions reach the outcome step as two streams merged by Bytewax; within a source
    batch all of a batch's rows may come before its predictions, so an unordered tracker would prune
    the row that resolves a prediction before the prediction arrives (half the outcomes lost at the
    default batch size). Each stream is in event-time order per symbol, so items are held and fed to
    the tracker in ``(ts_ns, row before prediction)`` order once both streams have passed them: the
    outcomes are the same whatever the batch size or interleaving.
    """

    __slots__ = ("tracker", "_held", "_marks", "_arrived")

    def __init__(self, tracker: OutcomeTracker) -> None:
        self.tracker = tracker
        self._held: list[tuple[int, int, int, FeatureRow | Prediction]] = []
        self._marks: list[tuple[int, int] | None] = [None, None]  # latest (ts_ns, kind) of rows, predictions
        self._arrived = 0  # ties of one stream keep their arrival order

    def push(self, item: FeatureRow | Prediction) -> list:
        kind = 1 if isinstance(item, Prediction) else 0
        key = (item.ts_ns, kind)
        self._marks[kind] = key
        self._arrived += 1
        heapq.heappush(self._held, (item.ts_ns, kind, self._arrived, item))
        rows_mark, predictions_mark = self._marks
        if rows_mark is None or predictions_mark is None:
            return []
        final = min(rows_mark, predictions_mark)
        out: list = []
        tracker = self.tracker
        held = self._held
        while held and (held[0][0], held[0][1]) <= final:
            payload = heapq.heappop(held)[3]
            outcomes, events = (tracker.on_prediction(payload) if isinstance(payload, Prediction)
                                else tracker.on_row(payload))
            out.extend(outcomes)
            out.extend(events)
        return out


class OutcomeStep:
    """``stateful_flat_map`` mapper: one ``OutcomeJoin`` per symbol, fed feature rows and
    predictions in event-time order; emits ``Outcome``s and model monitor events."""

    def __init__(self, config: OutcomeConfig) -> None:
        self._config = config

    def __call__(self, state: OutcomeJoin | None, item: FeatureRow | Prediction) -> tuple[OutcomeJoin, list]:
        if state is None:
            state = OutcomeJoin(OutcomeTracker(self._config))
        return state, state.push(item)


class PaperLogic(StatefulBatchLogic[TickBatch | ValidTick | Decision, object, bytes]):
    """Per-symbol paper trading over a batch of ticks (``TickBatch``es or single ticks) and accepted
    decisions (``stateful_batch``)."""

    def __init__(self, trader: PaperTrader) -> None:
        self._trader = trader

    def on_batch(self, values: list[TickBatch | ValidTick | Decision]) -> tuple[Iterable[object], bool]:
        trader = self._trader
        out: list[object] = []
        for value in values:
            if type(value) is TickBatch:
                on_tick = trader.on_tick
                for tick in value.ticks:
                    filled = on_tick(tick)
                    if filled:
                        out.extend(filled)
            elif isinstance(value, Decision):
                out.extend(trader.on_decision(value))
            else:
                out.extend(trader.on_tick(value))
        return out, StatefulBatchLogic.RETAIN

    def snapshot(self) -> bytes:
        return dump_state(self._trader)


class PaperLogicBuilder:
    """Builds (or restores from our own recovery store) the per-symbol paper trader."""

    def __init__(self, config: PaperTradingConfig) -> None:
        self._config = config

    def __call__(self, resume_state: bytes | None) -> PaperLogic:
        if resume_state is not None:
            return PaperLogic(load_state(resume_state, "paper"))
        return PaperLogic(PaperTrader(self._config))
