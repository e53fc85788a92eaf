"""Turn the one ``Settings`` object into the parts a flow is wired from.

Each part gets only its own frozen configuration; clients are not created here (sinks
build them in ``build()`` on the worker that uses them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from dataflows.config import NANOSECONDS, Settings
from dataflows.flow_metrics import FlowMetrics
from dataflows.outputs import Outputs
from dataflows.sources import KafkaSourceSettings, KafkaTickSource
from dataflows.steps import (BatchScorer, CrossAssetStep, DriftStep, OutcomeStep, PaperLogicBuilder, PairRouter,
                             PortfolioRiskBuilder)
from dataflows.option_steps import ChainConfigSource
from dataflows.symbol_step import SymbolLogicBuilder, SymbolRules
from models.ensemble import Ensemble
from dataflows.model_watch import ModelWatcher, check_feature_set
from models.mlflow_registry import RegistryConfig, is_model_uri, parse_model_uri
from models.registry import resolve_model
from operators.events import EVENT_FEATURE_SET
from operators.ingest.clock import EventTimeConfig
from operators.features.cross_asset import CrossAssetConfig
from operators.monitoring.drift import DriftConfig
from operators.monitoring.thresholds import seed_thresholds
from operators.monitoring.outcomes import OutcomeConfig
from operators.paper.trader import PaperTradingConfig
from operators.monitoring.psi import FeatureProfile, PsiConfig
from operators.options.join import OPTION_FEATURE_SET, OPTION_ROW_FEATURES
from operators.features.symbol import FeatureConfig, feature_layout
from operators.risk.limits import RiskLimits
from operators.ingest.validation import ValidationLimits
from sinks.clickhouse import ClickHouseSettings, ClickHouseSink
from sinks.kafka import KafkaSettings, dead_letter_sink, model_event_sink, signal_sink
from sinks.metrics import MetricsRegistry, default_metrics
from sinks.redis_store import OPTION_KEY_SUFFIX, RedisFeatureSink, RedisSettings
from sinks.topics import decisions_sink, features_sink, split_topics

DEFAULT_HORIZON_NS = 300 * NANOSECONDS


def portfolio_risk(settings: Settings) -> PortfolioRiskBuilder:
    return PortfolioRiskBuilder(RiskLimits(**settings.risk.limits(fee_bps=settings.paper.fee_bps)),
                                settings.risk.idle_after(settings.run.until_eof))


def validation_limits(settings: Settings) -> ValidationLimits:
    symbols = settings.symbols
    return ValidationLimits(max_symbol_length=symbols.max_length, symbol_case=symbols.case,
                            allowed_symbols=symbols.allowed, events=settings.events.limits())


def clock_config(settings: Settings) -> EventTimeConfig:
    features = settings.features
    return EventTimeConfig(ahead_tolerance_ns=features.ahead_tolerance_ns, late_tolerance_ns=features.late_tolerance_ns,
                           confirmations=features.jump_confirmations, reset_after=features.clock_reset_after)


def feature_config(settings: Settings) -> FeatureConfig:
    return FeatureConfig(emit_interval_ns=settings.features.interval_ns,
                         quote_lag_ns=settings.quote_lag.feature_quote_lag())


def cross_asset_config(settings: Settings) -> CrossAssetConfig:
    cross_asset = settings.cross_asset
    return CrossAssetConfig(reference=cross_asset.reference or None, pairs=cross_asset.pairs,
                            window=cross_asset.window)


def history_group_id(group_id: str) -> str:
    """The history flow's consumer group, next to the signals flow's ``KAFKA_GROUP_ID``.

    >>> history_group_id("tickwise-signals"), history_group_id("desk-a")
    ('tickwise-history', 'desk-a-history')
    """
    return group_id.removesuffix("-signals") + "-history"


def symbol_rules(settings: Settings) -> SymbolRules:
    """Reject share and idle time per symbol; live runs release silent symbols, bounded runs never."""
    universe = settings.universe
    release = universe.idle_s if universe.idle_s and not settings.run.until_eof else None
    return SymbolRules(reject_share=universe.reject_share_config(), idle_ns=universe.idle_ns, release_after_s=release)


def kafka_settings(settings: Settings) -> KafkaSettings:
    return KafkaSettings(bootstrap=settings.kafka.bootstrap, extra=settings.kafka.options(), idempotence=True)


def tick_source_settings(settings: Settings, start_offsets: dict[int, int] | None = None,
                         end_offsets: dict[int, int] | None = None) -> KafkaSourceSettings:
    """The ticks topic as configured (``KAFKA_*``, ``TICKWISE_SOURCE_*``), from and to the given offsets."""
    kafka, source = settings.kafka, settings.source
    return KafkaSourceSettings(
        bootstrap=kafka.bootstrap, topic=kafka.ticks_topic, batch_size=source.batch_size,
        poll_timeout_s=source.poll_timeout_s, fetch_wait_ms=source.fetch_wait_ms, until_eof=settings.run.until_eof,
        start_offsets=start_offsets or {}, end_offsets=end_offsets or {}, extra=kafka.options())


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
        kafka = self.settings.kafka
        if not kafka.control_topic:
            return None
        return KafkaTickSource(KafkaSourceSettings(
            bootstrap=kafka.bootstrap, topic=kafka.control_topic, batch_size=100,
            until_eof=self.settings.run.until_eof, extra=kafka.options(),
        ))

    def kafka_source(self, start_offsets: dict[int, int] | None = None,
                     end_offsets: dict[int, int] | None = None) -> KafkaTickSource:
        # The live source commits its durable positions to the consumer group (replays never do).
        return KafkaTickSource(replace(tick_source_settings(self.settings, start_offsets, end_offsets),
                                       group_id=self.settings.kafka.group_id),
                               on_lag=self.metrics.registry.set_consumer_lag)

    def _topic_source(self, topic: str) -> KafkaTickSource:
        """One of the history flow's inputs: ``topic`` in the history consumer group."""
        return KafkaTickSource(replace(tick_source_settings(self.settings), topic=topic,
                                       group_id=history_group_id(self.settings.kafka.group_id)),
                               on_lag=self.metrics.registry.set_consumer_lag)

    def history_sources(self) -> HistorySources:
        """The history flow's inputs, in its own consumer group: ticks, the signals flow's topics, control."""
        topics = split_topics(self.settings.kafka.ticks_topic)
        return HistorySources(ticks=self._topic_source(self.settings.kafka.ticks_topic),
                              features=self._topic_source(topics.features),
                              decisions=self._topic_source(topics.decisions), control=self.control_source())

    def _redis_sink(self, key_suffix: str = "", table: str = "features") -> RedisFeatureSink:
        settings = self.settings
        return RedisFeatureSink(RedisSettings(url=settings.redis.url.get_secret_value(),
                                              key_prefix=settings.redis.key_prefix, key_suffix=key_suffix,
                                              repair_ahead_ns=settings.features.ahead_tolerance_ns,
                                              ttl_ms=round(settings.redis.ttl_s * 1000)), metrics=self.metrics.registry,
                                table=table)

    def _option_features_sink(self) -> RedisFeatureSink:
        """The online store of each underlying's latest option features (``{prefix}{symbol}:options``)."""
        return self._redis_sink(OPTION_KEY_SUFFIX, "option_features")

    def _clickhouse_sink(self) -> ClickHouseSink:
        return ClickHouseSink(ClickHouseSettings(url=self.settings.clickhouse.url.get_secret_value()),
                              metrics=self.metrics.registry)

    def live_outputs(self) -> Outputs:
        """Every output of the combined flow (both halves in one)."""
        settings = self.settings
        registry = self.metrics.registry
        kafka = kafka_settings(settings)
        return Outputs(
            clickhouse=self._clickhouse_sink(),
            redis=self._redis_sink(),
            signals=signal_sink(kafka, settings.kafka.signals_topic, registry),
            dead_letters=dead_letter_sink(kafka, settings.kafka.dlq_topic, registry),
            model_events=model_event_sink(kafka, settings.kafka.model_events_topic, registry),
            option_features=self._option_features_sink(),
        )

    def signals_outputs(self) -> Outputs:
        """The signals flow's outputs: Kafka and Redis only, never ClickHouse."""
        settings = self.settings
        registry = self.metrics.registry
        kafka = kafka_settings(settings)
        topics = split_topics(settings.kafka.ticks_topic)
        return Outputs(
            clickhouse=None, model_events=None, redis=self._redis_sink(),
            signals=signal_sink(kafka, settings.kafka.signals_topic, registry),
            dead_letters=dead_letter_sink(kafka, settings.kafka.dlq_topic, registry),
            features=features_sink(kafka, topics.features, registry),
            decisions=decisions_sink(kafka, topics.decisions, registry),
        )

    def history_outputs(self) -> Outputs:
        """The history flow's outputs: ClickHouse, ``model-events`` and the option features in Redis (the
        chains are priced in this half)."""
        settings = self.settings
        return Outputs(clickhouse=self._clickhouse_sink(), redis=None, signals=None, dead_letters=None,
                       model_events=model_event_sink(kafka_settings(settings), settings.kafka.model_events_topic,
                                                     self.metrics.registry),
                       option_features=self._option_features_sink())


@dataclass(frozen=True)
class HistorySources:
    """The history flow's inputs; ``control`` (None without a kill-switch topic) only for its rejects."""

    ticks: KafkaTickSource
    features: KafkaTickSource
    decisions: KafkaTickSource
    control: KafkaTickSource | None


def registry_config(settings: Settings) -> RegistryConfig:
    """``MLFLOW_TRACKING_URI`` when set (a server), else the embedded SQLite store in ``mlflow_dir``."""
    model = settings.model
    if model.tracking_uri is not None:
        return RegistryConfig(tracking_uri=model.tracking_uri.get_secret_value(), model_name=model.name)
    return RegistryConfig.embedded(model.mlflow_dir, model.name)


def flow_joins(settings: Settings) -> tuple[tuple[str, ...], str]:
    """The feature names and the feature-set extensions the joins the settings turn on append to every row,
    in the order the per-symbol step appends them: the event features and ``+events1`` with
    ``TICKWISE_EVENTS``, then the option features and ``+options1`` with ``TICKWISE_OPTIONS_JOIN``."""
    names: tuple[str, ...] = ()
    extensions = ""
    events = settings.events.join_config()
    if events is not None:
        names, extensions = names + events.names, extensions + EVENT_FEATURE_SET
    if settings.options.join:
        names, extensions = names + OPTION_ROW_FEATURES, extensions + OPTION_FEATURE_SET
    return names, extensions


def flow_feature_set(settings: Settings) -> str:
    """The feature set every FeatureRow of this flow carries (``FeatureRow.feature_set``, order-book
    extensions aside): the layout's hash, then the extensions of the joins the settings turn on
    (``flow_joins``). ``check_feature_set`` accepts a model whose extensions are among them."""
    return feature_layout(feature_config(settings)).version + flow_joins(settings)[1]


def load_ensemble(spec: str, settings: Settings) -> Ensemble:
    return Ensemble.load(model_dir_for(spec, settings))


def build_scorer(settings: Settings, registry: MetricsRegistry) -> BatchScorer:
    """Load the configured model, refuse it if its feature set is not the flow's, and follow its
    alias when ``TICKWISE_MODEL`` is ``models:/NAME@ALIAS`` (live swap at batch boundaries)."""
    model = settings.model
    feature_set = flow_feature_set(settings)
    config = registry_config(settings) if is_model_uri(model.spec) else None
    resolved = resolve_model(model.spec, config, settings.model_cache_path())
    ensemble = Ensemble.load(resolved.path)
    where = f" ({resolved.registered.name} version {resolved.registered.version})" if resolved.registered else ""
    check_feature_set(ensemble, feature_set, where)
    watcher = None
    ref = parse_model_uri(model.spec) if config is not None else None
    if ref is not None and ref.alias and resolved.registered is not None and model.poll_s > 0:
        watcher = ModelWatcher(config, ref, settings.model_cache_path(), resolved.registered, feature_set,
                               model.poll_s)
    return BatchScorer(ensemble, watcher, on_swap=lambda new: registry.set_model_version(new.version))


def drift_config(settings: Settings) -> DriftConfig:
    return settings.monitoring.drift_config()


def psi_config(settings: Settings) -> PsiConfig:
    monitoring = settings.monitoring
    return PsiConfig(window=monitoring.psi_window, check_every=monitoring.psi_check_every,
                     threshold=monitoring.psi_threshold)


def outcome_config(settings: Settings, ensemble: object) -> OutcomeConfig:
    """Outcomes resolve after the model's own horizon (``manifest.horizon_ns``; 5 minutes if unknown)."""
    monitoring = settings.monitoring
    thresholds = seed_thresholds(accuracy=monitoring.retrain_accuracy, drift=monitoring.psi_threshold,
                                 confidence=monitoring.review_confidence, min_outcomes=monitoring.outcome_min_samples)
    horizon = int(getattr(ensemble, "horizon_ns", 0) or DEFAULT_HORIZON_NS)
    return OutcomeConfig(horizon_ns=horizon, window=monitoring.outcome_window, retrain=thresholds["retrain"],
                         model_review=thresholds["model_review"])


def paper_trading_config(settings: Settings) -> PaperTradingConfig:
    paper = settings.paper
    return PaperTradingConfig(fee_bps=paper.fee_bps, mark_interval_ns=paper.mark_interval_ns,
                              fill_window_ns=paper.fill_window_ns(settings.risk.idle_after_s))


def _model_profile(settings: Settings, ensemble: object, loaded_from_settings: bool) -> FeatureProfile | None:
    """The training profile (``feature_profile.json``) next to the configured model; None turns PSI off."""
    if not loaded_from_settings:
        return None
    try:
        return FeatureProfile.load(model_dir_for(settings.model.spec, settings))
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
    metrics = FlowMetrics(registry)
    return Components(
        settings=settings,
        limits=validation_limits(settings),
        ensemble=ensemble,
        metrics=metrics,
        symbol_logic=SymbolLogicBuilder(clock_config(settings), feature_config(settings), rules=symbol_rules(settings),
                                        watch=metrics.symbol_states, events=settings.events.join_config(),
                                        options=ChainConfigSource.of(settings.options) if settings.options.join else None),
        drift_step=DriftStep(drift_config(settings), profile if profile is not None else _model_profile(
            settings, ensemble, loaded_from_settings), psi_config(settings)),
        outcome_step=OutcomeStep(outcome_config(settings, ensemble)),
        paper_logic=PaperLogicBuilder(paper_trading_config(settings)),
        scorer=scorer,
        pair_router=PairRouter(cross_asset, settings.cross_asset.symbols),
        cross_asset_step=CrossAssetStep(cross_asset),
        portfolio_risk=portfolio_risk(settings),
    )


def model_dir_for(spec: str, settings: Settings) -> Path:
    """The local directory of ``spec`` (a registry version is downloaded to the model cache)."""
    config = registry_config(settings) if is_model_uri(spec) else None
    return resolve_model(spec, config, settings.model_cache_path()).path
