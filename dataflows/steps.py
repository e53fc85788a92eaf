"""Adapters between Bytewax's operator interfaces and our pure operators and models.

No math lives here: the per-symbol logic delegates to ``operators``, the scorer to
``models``; these classes only move items in and out and snapshot state.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterable, Sequence

import numpy as np
from bytewax.operators import StatefulLogic

from models.ensemble import Ensemble
from operators.clock import EventTimeConfig, EventTimeGuard
from operators.drift import DriftConfig, FeatureDriftMonitor
from operators.features import FeatureConfig, SymbolFeatures
from operators.cross_asset import CrossAssetConfig, PairCorrelation, pair_keys
from operators.ids import stable_id
from operators.messages import (BarReturn, CrossAssetRow, Decision, DriftEvent, FeatureRow, Prediction, Reject,
                                ValidTick)
from operators.risk import RiskCheck, RiskState


class SymbolLogic(StatefulLogic[ValidTick, "ValidTick | FeatureRow | Reject", bytes]):
    """Per-symbol step: event-time guard, then features. End of input flushes both."""

    def __init__(self, guard: EventTimeGuard, features: SymbolFeatures | None, config: FeatureConfig) -> None:
        self._guard = guard
        self._features = features
        self._config = config

    def _apply(self, ticks: list[ValidTick], out: list[ValidTick | FeatureRow | Reject]) -> None:
        for tick in ticks:
            if self._features is None:
                self._features = SymbolFeatures(tick.tick.symbol, self._config)
            out.append(tick)
            out.extend(self._features.update(tick))
            out.extend(self._features.drain_returns())

    def on_item(self, value: ValidTick) -> tuple[Iterable[ValidTick | FeatureRow | Reject], bool]:
        admitted, rejected = self._guard.admit(value)
        out: list[ValidTick | FeatureRow | Reject] = list(rejected)
        self._apply(admitted, out)
        return out, StatefulLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[ValidTick | FeatureRow | Reject], bool]:
        admitted, rejected = self._guard.flush()
        out: list[ValidTick | FeatureRow | Reject] = list(rejected)
        self._apply(admitted, out)
        if self._features is not None:
            out.extend(self._features.flush())
            out.extend(self._features.drain_returns())
        return out, StatefulLogic.RETAIN

    def snapshot(self) -> bytes:
        # Bytes are immutable, so later updates can never leak into a stored snapshot.
        return pickle.dumps((self._guard, self._features), protocol=pickle.HIGHEST_PROTOCOL)


class SymbolLogicBuilder:
    """Builds (or restores from our own recovery store) the per-symbol logic."""

    def __init__(self, clock: EventTimeConfig, features: FeatureConfig) -> None:
        self._clock = clock
        self._features = features

    def __call__(self, resume_state: bytes | None) -> SymbolLogic:
        if resume_state is not None:
            guard, features = pickle.loads(resume_state)  # noqa: S301 - our own recovery snapshots only
            return SymbolLogic(guard, features, self._features)
        return SymbolLogic(EventTimeGuard(self._clock), None, self._features)


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


class DriftStep:
    """``stateful_flat_map`` mapper: one ``FeatureDriftMonitor`` per symbol."""

    def __init__(self, config: DriftConfig) -> None:
        self._config = config

    def __call__(self, monitor: FeatureDriftMonitor | None, row: FeatureRow
                 ) -> tuple[FeatureDriftMonitor, list[DriftEvent]]:
        if monitor is None:
            monitor = FeatureDriftMonitor(self._config)
        return monitor, monitor.update(row)


class RiskStep:
    """``stateful_map`` mapper: the per-symbol risk check."""

    def __init__(self, check: RiskCheck) -> None:
        self._check = check

    def __call__(self, state: RiskState | None, prediction: Prediction) -> tuple[RiskState, Decision]:
        return self._check.decide(state, prediction)


class BatchScorer:
    """``flat_map_batch`` mapper: one ensemble call for a batch of rows of any symbols."""

    def __init__(self, ensemble: Ensemble) -> None:
        self._ensemble = ensemble
        self._columns: dict[tuple[str, ...], np.ndarray] = {}

    def _column_index(self, names: tuple[str, ...]) -> np.ndarray:
        index = self._columns.get(names)
        if index is None:
            position = {name: i for i, name in enumerate(names)}
            # -1 marks a model feature the stream does not produce: it is scored as missing.
            index = np.array([position.get(name, -1) for name in self._ensemble.feature_names], dtype=np.int64)
            self._columns[names] = index
        return index

    def __call__(self, rows: Sequence[FeatureRow]) -> list[Prediction]:
        if not rows:
            return []
        width = len(rows[0].values)
        matrix = np.empty((len(rows), width + 1), dtype=np.float64)
        matrix[:, :width] = [row.values for row in rows]
        matrix[:, width] = math.nan
        features = matrix[:, self._column_index(rows[0].names)]
        out = self._ensemble.predict(features)
        version = self._ensemble.version
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
