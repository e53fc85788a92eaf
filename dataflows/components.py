"""Turn the one ``Settings`` object into the parts a flow is wired from.

Each part gets only its own frozen configuration; clients are not created here (sinks
build them in ``build()`` on the worker that uses them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataflows.config import Settings
from dataflows.instrument import FlowMetrics
from dataflows.outputs import Outputs
from dataflows.sources import KafkaSourceSettings, KafkaTickSource
from dataflows.steps import (BatchScorer, CrossAssetStep, DriftStep, OutcomeStep, PaperLogicBuilder, PairRouter,
                             PortfolioRiskBuilder, SymbolLogicBuilder)
from models.ensemble import Ensemble
from dataflows.model_watch import ModelWatcher, check_feature_set
from models.mlflow_registry import RegistryConfig, is_model_uri, parse_model_uri
from models.registry import resolve_model
from operators.ingest.clock import EventTimeConfig
from operators.features.cross_asset import CrossAssetConfig
from operators.monitoring.drift import DriftConfig
from operators.monitoring.thresholds import seed_thresholds
from operators.monitoring.outcomes import OutcomeConfig
from operators.paper.trader import PaperTradingConfig
from operators.monitoring.psi import FeatureProfile, PsiConfig
from operators.features.symbol import FeatureConfig, feature_layout
from operators.risk.limits import RiskLimits
from operators.ingest.validation import ValidationLimits
from sinks.clickhouse import ClickHouseSettings, ClickHouseSink
from sinks.kafka import KafkaSettings, dead_letter_sink, model_event_sink, signal_sink
from sinks.metrics import MetricsRegistry, default_metrics
from sinks.redis_store import RedisFeatureSink, RedisSettings

NANOSECONDS = 1_000_000_000


def _symbols(text: str) -> tuple[str, ...]:
    return tuple(sorted({piece.strip() for piece in text.split(",") if piece.strip()}))


def risk_limits(settings: Settings) -> RiskLimits:
    """The portfolio risk engine's limits (``TICKWISE_RISK_*``)."""
    return RiskLimits(
        account_equity=settings.risk_account_equity,
        risk_per_trade=settings.risk_per_trade,
        known_model_versions=frozenset(_symbols(settings.risk_known_model_versions)),
        unhealthy_model_versions=frozenset(_symbols(settings.risk_unhealthy_model_versions)),
        min_confidence=settings.risk_min_confidence,
        max_prediction_age_ns=int(settings.risk_max_prediction_age_s * NANOSECONDS),
        universe=_symbols(settings.risk_symbols),
        restricted_symbols=frozenset(_symbols(settings.risk_restricted_symbols)),
        max_data_age_ns=int(settings.risk_max_data_age_s * NANOSECONDS),
        price_collar_bps=settings.risk_price_collar_bps,
        max_order_quantity=settings.risk_max_order_quantity,
        max_order_notional=settings.risk_max_order_notional,
        max_position_shares=settings.risk_max_position_shares,
        max_position_notional=settings.risk_max_position_notional,
        max_gross_exposure=settings.risk_max_gross_exposure,
        max_net_exposure=settings.risk_max_net_exposure,
        max_var=settings.risk_max_var,
        reduce_drawdown=settings.risk_reduce_drawdown,
        halt_drawdown=settings.risk_halt_drawdown,
        max_orders_per_window=settings.risk_max_orders_per_minute,
        throttle_window_ns=60 * NANOSECONDS,
        trading_state=settings.risk_trading_state,
        fee_bps=settings.paper_fee_bps,  # the engine's drawdown counts the costs the paper book pays
    )


def portfolio_risk(settings: Settings) -> PortfolioRiskBuilder:
    """Bounded runs (``until_eof``) wait for every symbol, so decisions never depend on arrival."""
    lateness = None if settings.until_eof else int(settings.risk_max_lateness_s * NANOSECONDS)
    return PortfolioRiskBuilder(risk_limits(settings), lateness)


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
    pair_router: PairRouter
    cross_asset_step: CrossAssetStep
    portfolio_risk: PortfolioRiskBuilder
    outcome_step: OutcomeStep
    paper_logic: PaperLogicBuilder

    def control_source(self) -> KafkaTickSource | None:
        """The kill-switch input (``KAFKA_CONTROL_TOPIC``), read from its beginning: the last
        command wins, so a HALT stays in force across restarts until a resume."""
        settings = self.settings
        if not settings.control_topic:
            return None
        return KafkaTickSource(KafkaSourceSettings(
            bootstrap=settings.kafka_bootstrap, topic=settings.control_topic, batch_size=100,
            until_eof=settings.until_eof, extra=settings.kafka_options(),
        ))

    def kafka_source(self, start_offsets: dict[int, int] | None = None,
                     end_offsets: dict[int, int] | None = None) -> KafkaTickSource:
        settings = self.settings
        return KafkaTickSource(KafkaSourceSettings(
            bootstrap=settings.kafka_bootstrap, topic=settings.ticks_topic, batch_size=settings.source_batch_size,
            poll_timeout_s=settings.source_poll_ms / 1000.0, fetch_wait_ms=settings.source_fetch_wait_ms,
            until_eof=settings.until_eof, start_offsets=start_offsets or {}, end_offsets=end_offsets or {},
            extra=settings.kafka_options(),
        ), on_lag=self.metrics.registry.set_consumer_lag)

    def live_outputs(self) -> Outputs:
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


def registry_config(settings: Settings) -> RegistryConfig:
    """``MLFLOW_TRACKING_URI`` when set (a server), else the embedded SQLite store in ``mlflow_dir``."""
    if settings.mlflow_tracking_uri is not None:
        return RegistryConfig(tracking_uri=settings.mlflow_tracking_uri.get_secret_value(),
                              model_name=settings.model_name)
    return RegistryConfig.embedded(settings.mlflow_dir, settings.model_name)


def flow_feature_set(settings: Settings) -> str:
    """The feature-set hash every FeatureRow of this flow carries (``FeatureRow.feature_set``)."""
    return feature_layout(feature_config(settings)).version


def load_ensemble(spec: str, settings: Settings) -> Ensemble:
    return Ensemble.load(model_dir_for(spec, settings))


def build_scorer(settings: Settings, registry: MetricsRegistry) -> BatchScorer:
    """Load the configured model, refuse it if its feature set is not the flow's, and follow its
    alias when ``TICKWISE_MODEL`` is ``models:/NAME@ALIAS`` (live swap at batch boundaries)."""
    feature_set = flow_feature_set(settings)
    config = registry_config(settings) if is_model_uri(settings.model) else None
    resolved = resolve_model(settings.model, config, settings.model_cache_path())
    ensemble = Ensemble.load(resolved.path)
    where = f" ({resolved.registered.name} version {resolved.registered.version})" if resolved.registered else ""
    check_feature_set(ensemble, feature_set, where)
    watcher = None
    ref = parse_model_uri(settings.model) if config is not None else None
    if ref is not None and ref.alias and resolved.registered is not None and settings.model_poll_s > 0:
        watcher = ModelWatcher(config, ref, settings.model_cache_path(), resolved.registered, feature_set,
                               settings.model_poll_s)
    return BatchScorer(ensemble, watcher, on_swap=lambda new: registry.set_model_version(new.version))


def drift_config(settings: Settings) -> DriftConfig:
    return DriftConfig(detector=settings.drift_detector, sample_every=settings.drift_sample_every)


def psi_config(settings: Settings) -> PsiConfig:
    return PsiConfig(window=settings.psi_window, check_every=max(1, min(60, settings.psi_window // 10)),
                     threshold=settings.psi_threshold)


def outcome_config(settings: Settings, ensemble: object) -> OutcomeConfig:
    """Outcomes resolve after the model's own horizon (``manifest.horizon_ns``; 5 minutes if unknown)."""
    thresholds = seed_thresholds(accuracy=settings.retrain_accuracy, drift=settings.psi_threshold,
                                 confidence=settings.review_confidence, min_outcomes=settings.outcome_min_samples)
    horizon = int(getattr(ensemble, "horizon_ns", 0) or 300 * NANOSECONDS)
    return OutcomeConfig(horizon_ns=horizon, window=settings.outcome_window, retrain=thresholds["retrain"],
                         model_review=thresholds["model_review"])


def paper_trading_config(settings: Settings) -> PaperTradingConfig:
    return PaperTradingConfig(fee_bps=settings.paper_fee_bps,
                             mark_interval_ns=int(settings.paper_mark_interval_s * NANOSECONDS),
                             # Decisions arrive up to the risk step's lateness after their ticks.
                             fill_window_ns=int(max(120.0, 4 * settings.risk_max_lateness_s) * NANOSECONDS))


def _model_profile(settings: Settings, ensemble: object, loaded_from_settings: bool) -> FeatureProfile | None:
    """The training profile (``feature_profile.json``) next to the configured model; None turns PSI off."""
    if not loaded_from_settings:
        return None
    try:
        return FeatureProfile.load(model_dir_for(settings.model, settings))
    except (FileNotFoundError, ValueError):
        return None


def build_components(settings: Settings, ensemble: Ensemble | None = None,
                     registry: MetricsRegistry | None = None, profile: FeatureProfile | None = None) -> Components:
    """``profile``: the PSI reference; by default the one next to the configured model (if any)."""
    registry = registry or default_metrics()
    loaded_from_settings = ensemble is None
    if ensemble is None:
        scorer = build_scorer(settings, registry)
        ensemble = scorer.ensemble
    else:
        if isinstance(ensemble, Ensemble):  # tests and backfills may pass a stand-in
            check_feature_set(ensemble, flow_feature_set(settings))
        scorer = BatchScorer(ensemble)
    registry.set_model_version(ensemble.version)
    cross_asset = cross_asset_config(settings)
    return Components(
        settings=settings,
        limits=ValidationLimits(),
        ensemble=ensemble,
        metrics=FlowMetrics(registry),
        symbol_logic=SymbolLogicBuilder(clock_config(settings), feature_config(settings)),
        drift_step=DriftStep(drift_config(settings), profile if profile is not None else _model_profile(
            settings, ensemble, loaded_from_settings), psi_config(settings)),
        outcome_step=OutcomeStep(outcome_config(settings, ensemble)),
        paper_logic=PaperLogicBuilder(paper_trading_config(settings)),
        scorer=scorer,
        pair_router=PairRouter(cross_asset, settings.cross_asset_universe()),
        cross_asset_step=CrossAssetStep(cross_asset),
        portfolio_risk=portfolio_risk(settings),
    )


def model_dir_for(spec: str, settings: Settings) -> Path:
    """The local directory of ``spec`` (a registry version is downloaded to the model cache)."""
    config = registry_config(settings) if is_model_uri(spec) else None
    return resolve_model(spec, config, settings.model_cache_path()).path
