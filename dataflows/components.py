"""Turn the one ``Settings`` object into the parts a flow is wired from.

Each part gets only its own frozen configuration; clients are not created here (sinks
build them in ``build()`` on the worker that uses them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataflows.config import Settings
from dataflows.instrument import FlowMetrics
from dataflows.sources import KafkaSourceSettings, KafkaTickSource
from dataflows.steps import BatchScorer, CrossAssetStep, DriftStep, PairRouter, RiskStep, SymbolLogicBuilder
from models.ensemble import Ensemble
from models.registry import resolve_model_dir
from operators.clock import EventTimeConfig
from operators.cross_asset import CrossAssetConfig
from operators.drift import DriftConfig
from operators.features import FeatureConfig
from operators.risk import RiskCheck, RiskConfig
from operators.validation import ValidationLimits
from sinks.clickhouse import ClickHouseSettings, ClickHouseSink
from sinks.kafka import KafkaSettings, dead_letter_sink, model_event_sink, signal_sink
from sinks.metrics import MetricsRegistry, default_metrics
from sinks.redis_store import RedisFeatureSink, RedisSettings

NANOSECONDS = 1_000_000_000


def risk_config(settings: Settings) -> RiskConfig:
    return RiskConfig(
        account_equity=settings.risk_account_equity,
        risk_per_trade=settings.risk_per_trade,
        portfolio_risk=settings.risk_portfolio_risk,
        min_confidence=settings.risk_min_confidence,
        max_position_shares=settings.risk_max_position_shares,
        max_position_notional=settings.risk_max_position_notional,
        max_order_notional=settings.risk_max_order_notional,
        trading_state=settings.risk_trading_state,
    )


def clock_config(settings: Settings) -> EventTimeConfig:
    return EventTimeConfig(
        ahead_tolerance_ns=int(settings.ahead_tolerance_s * NANOSECONDS),
        late_tolerance_ns=int(settings.late_tolerance_s * NANOSECONDS),
    )


def feature_config(settings: Settings) -> FeatureConfig:
    return FeatureConfig(emit_interval_ns=int(settings.feature_interval_s * NANOSECONDS))


def cross_asset_config(settings: Settings) -> CrossAssetConfig:
    return CrossAssetConfig(reference=settings.cross_asset_reference or None, pairs=settings.cross_asset_pairs_list(),
                            window=settings.cross_asset_window)


def kafka_settings(settings: Settings) -> KafkaSettings:
    return KafkaSettings(bootstrap=settings.kafka_bootstrap, extra=settings.kafka_options(), idempotence=True)


@dataclass(frozen=True)
class Components:
    settings: Settings
    limits: ValidationLimits
    ensemble: Ensemble
    metrics: FlowMetrics
    symbol_logic: SymbolLogicBuilder
    drift_step: DriftStep
    scorer: BatchScorer
    risk_step: RiskStep
    pair_router: PairRouter
    cross_asset_step: CrossAssetStep

    def kafka_source(self, start_offsets: dict[int, int] | None = None,
                     end_offsets: dict[int, int] | None = None) -> KafkaTickSource:
        settings = self.settings
        return KafkaTickSource(KafkaSourceSettings(
            bootstrap=settings.kafka_bootstrap, topic=settings.ticks_topic, batch_size=settings.source_batch_size,
            until_eof=settings.until_eof, start_offsets=start_offsets or {}, end_offsets=end_offsets or {},
            extra=settings.kafka_options(),
        ))

    def live_outputs(self):  # -> dataflows.signals.Outputs (import cycle avoided)
        from dataflows.signals import Outputs

        settings = self.settings
        registry = self.metrics.registry
        kafka = kafka_settings(settings)
        return Outputs(
            clickhouse=ClickHouseSink(ClickHouseSettings(url=settings.clickhouse_url.get_secret_value()),
                                      metrics=registry),
            redis=RedisFeatureSink(RedisSettings(url=settings.redis_url.get_secret_value(),
                                                 key_prefix=settings.redis_key_prefix), metrics=registry),
            signals=signal_sink(kafka, settings.signals_topic, registry),
            dead_letters=dead_letter_sink(kafka, settings.dlq_topic, registry),
            model_events=model_event_sink(kafka, settings.model_events_topic, registry),
        )


def load_ensemble(spec: str) -> Ensemble:
    return Ensemble.load(resolve_model_dir(spec))


def build_components(settings: Settings, ensemble: Ensemble | None = None,
                     registry: MetricsRegistry | None = None) -> Components:
    ensemble = ensemble or load_ensemble(settings.model)
    registry = registry or default_metrics()
    registry.set_model_version(ensemble.version)
    cross_asset = cross_asset_config(settings)
    return Components(
        settings=settings,
        limits=ValidationLimits(),
        ensemble=ensemble,
        metrics=FlowMetrics(registry),
        symbol_logic=SymbolLogicBuilder(clock_config(settings), feature_config(settings)),
        drift_step=DriftStep(DriftConfig()),
        scorer=BatchScorer(ensemble),
        risk_step=RiskStep(RiskCheck(risk_config(settings))),
        pair_router=PairRouter(cross_asset, settings.cross_asset_universe()),
        cross_asset_step=CrossAssetStep(cross_asset),
    )


def model_dir_for(spec: str) -> Path:
    return resolve_model_dir(spec)
