"""The one settings object of tickwise, read once by the CLI (or the flow entry point).

``Settings`` holds one frozen section per part (Kafka, the source, ClickHouse, Redis, the model,
metrics, features, the quote lag, cross-asset statistics, risk, monitoring, paper trading, options,
event features, the run). Each section reads its own environment variables (``KAFKA_*``,
``TICKWISE_RISK_*`` ...: the field name under the section's prefix unless the field names its
variable) and parses them once: comma lists become tuples or frozensets, seconds are offered as
nanoseconds too. Nothing else reads the environment. Secrets are ``SecretStr`` and never appear in
``repr``, logs or the summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dataflows.config_events import EventsSection
from dataflows.config_monitoring import MonitoringSection
from dataflows.config_quote_lag import QuoteLagSection
from dataflows.config_options import OptionsSection
from dataflows.config_session import SessionSection
from dataflows.config_universe import UniverseSection
from operators.ingest.symbols import SymbolCase, normalise_symbol, symbol_problem
from sinks.redaction import UnsafeUrl, parse_url

NANOSECONDS = 1_000_000_000

Names = Annotated[tuple[str, ...], NoDecode]
NameSet = Annotated[frozenset[str], NoDecode]
Pairs = Annotated[tuple[tuple[str, str], ...], NoDecode]


class ConfigError(ValueError):
    """A setting is invalid; the message is one sentence a user can act on."""


def _under(prefix: str) -> Callable[[str], str]:
    """Environment variable names: ``prefix`` + the field name in upper case."""
    return lambda name: prefix + name.upper()


def _names(value: object) -> object:
    """``"IBM, AIG,IBM"`` -> ``("AIG", "IBM")``: sorted, unique, blanks dropped."""
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(sorted({str(piece).strip() for piece in value if str(piece).strip()}))
    return value


def _seconds_ns(seconds: float) -> int:
    return int(seconds * NANOSECONDS)


def _with_scheme(url: SecretStr, schemes: tuple[str, ...], expected: str) -> SecretStr:
    """``url`` if it has one of ``schemes`` and parses without doubt (``sinks.redaction.parse_url``);
    the error names ``expected`` or what to encode, never the URL (it may hold a password)."""
    if not url.get_secret_value().startswith(tuple(f"{scheme}://" for scheme in schemes)):
        raise ValueError(f"expected {expected}")
    try:
        parse_url(url.get_secret_value(), schemes)
    except UnsafeUrl as error:
        raise ValueError(str(error)) from None
    return url


class _Section(BaseSettings):
    """A frozen part of the settings that reads its own environment variables (its field aliases)."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class KafkaSection(_Section):
    """The brokers, the topics and librdkafka's security options (``KAFKA_*``)."""

    model_config = SettingsConfigDict(alias_generator=_under("KAFKA_"))

    bootstrap: str = "127.0.0.1:9092"
    ticks_topic: str = "ticks"
    signals_topic: str = "signals"
    dlq_topic: str = "ticks.dlq"
    model_events_topic: str = "model-events"
    control_topic: str = "control"  # empty: no kill-switch input
    # The consumer group whose committed offsets follow the flow's durable snapshots (for lag
    # monitors such as kafka-consumer-groups); Bytewax recovery, not this group, decides resumes.
    group_id: str = Field("tickwise-signals", min_length=1)
    ticks_partitions: int = Field(4, ge=1, le=1024)
    security_protocol: str | None = None
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None

    @field_validator("bootstrap")
    @classmethod
    def _bootstrap_has_port(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    def options(self) -> dict[str, str]:
        """librdkafka security options passed through unchanged (secrets included: do not log)."""
        options = {"security.protocol": self.security_protocol, "sasl.mechanism": self.sasl_mechanism,
                   "sasl.username": self.sasl_username, "ssl.ca.location": self.ssl_ca_location}
        found = {name: value for name, value in options.items() if value}
        if self.sasl_password is not None:
            found["sasl.password"] = self.sasl_password.get_secret_value()
        return found

    def flow_topics(self) -> tuple[str, ...]:
        """The topics the signal flow writes besides the ticks it reads."""
        return (self.signals_topic, self.dlq_topic, self.model_events_topic)


class SourceSection(_Section):
    """The Kafka tick source's batching and latency bounds (``TICKWISE_SOURCE_*``).

    ``poll_ms`` is how long one partition's poll may wait to fill a batch; ``fetch_wait_ms`` is
    librdkafka's fetch.wait.max.ms (a broker without long-poll wake-up, such as the embedded
    Tansu, answers a fetch only after this wait, so it is the floor of tick-to-signal latency).
    """

    model_config = SettingsConfigDict(alias_generator=_under("TICKWISE_SOURCE_"))

    batch_size: int = Field(5000, ge=1, le=1_000_000)
    poll_ms: float = Field(1.0, ge=0, le=10_000)
    fetch_wait_ms: int = Field(10, ge=0, le=60_000)

    @property
    def poll_timeout_s(self) -> float:
        return self.poll_ms / 1000.0


class ClickHouseSection(_Section):
    """``CLICKHOUSE_URL``: ``chdb:///path`` (embedded) or an ``http(s)://`` server."""

    url: SecretStr = Field(SecretStr("chdb://.tickwise/chdb"), alias="CLICKHOUSE_URL")

    @field_validator("url")
    @classmethod
    def _clickhouse_scheme(cls, value: SecretStr) -> SecretStr:
        return _with_scheme(value, ("chdb", "http", "https"), "a chdb:///path, http:// or https:// URL")

    def chdb_path(self) -> Path | None:
        url = self.url.get_secret_value()
        return Path(url.removeprefix("chdb://")) if url.startswith("chdb://") else None


class RedisSection(_Section):
    """The online feature store: ``REDIS_URL``, ``TICKWISE_REDIS_KEY_PREFIX`` and ``TICKWISE_REDIS_TTL_S``."""

    url: SecretStr = Field(SecretStr("redis://127.0.0.1:6379/0"), alias="REDIS_URL")
    key_prefix: str = Field("tickwise:features:", alias="TICKWISE_REDIS_KEY_PREFIX")
    ttl_s: float = Field(7 * 86_400.0, ge=0, alias="TICKWISE_REDIS_TTL_S")  # 0: keys never expire

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr) -> SecretStr:
        return _with_scheme(value, ("redis", "rediss", "unix"), "a redis://, rediss:// or unix:// URL")


class ModelSection(_Section):
    """``TICKWISE_MODEL``: a model directory, "default", or models:/NAME@ALIAS (the MLflow registry).

    The registry is ``MLFLOW_TRACKING_URI`` when set, else the embedded store in ``mlflow_dir``.
    """

    model_config = SettingsConfigDict(alias_generator=_under("TICKWISE_MODEL_"))

    spec: str = Field("default", alias="TICKWISE_MODEL")
    name: str = Field("tickwise-ensemble", min_length=1)
    cache_dir: Path | None = None  # unset: <state dir>/model-cache
    poll_s: float = Field(10.0, ge=0)  # 0: never look for a new version
    tracking_uri: SecretStr | None = Field(None, alias="MLFLOW_TRACKING_URI")  # unset: embedded store
    mlflow_dir: Path = Field(Path(".tickwise/mlflow"), alias="TICKWISE_MLFLOW_DIR")

    @field_validator("spec")
    @classmethod
    def _model_spec(cls, value: str) -> str:
        from models.mlflow_registry import parse_model_uri

        if value.startswith("models:/"):
            parse_model_uri(value)  # raises a ValueError naming the expected forms
        return value


class MetricsSection(_Section):
    """The Prometheus endpoint (``TICKWISE_METRICS_*``): one per process, at port + process index."""

    model_config = SettingsConfigDict(alias_generator=_under("TICKWISE_METRICS_"))

    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)  # 0: no endpoint
    process_index: int = Field(0, alias="TICKWISE_PROCESS_INDEX", ge=0, le=1024)


class FeatureSection(_Section):
    """Event time and the per-symbol features: tolerances and the emit interval, in seconds."""

    model_config = SettingsConfigDict(alias_generator=_under("TICKWISE_"))

    ahead_tolerance_s: float = Field(3600.0, gt=0)
    late_tolerance_s: float = Field(2.0, ge=0)
    # Agreeing ticks from distinct source positions before a symbol's first clock or a jump counts.
    jump_confirmations: int = Field(3, ge=1, le=100)
    # Consecutive late ticks, agreeing with each other, after which a symbol's clock re-anchors to them.
    clock_reset_after: int = Field(20, ge=2, le=1_000_000)
    interval_s: float = Field(1.0, alias="TICKWISE_FEATURE_INTERVAL_S", ge=0)

    @property
    def ahead_tolerance_ns(self) -> int:
        return _seconds_ns(self.ahead_tolerance_s)

    @property
    def late_tolerance_ns(self) -> int:
        return _seconds_ns(self.late_tolerance_s)

    @property
    def interval_ns(self) -> int:
        return _seconds_ns(self.interval_s)


class SymbolSection(_Section):
    """Which identifiers enter the flow: the grammar of ``operators.ingest.symbols`` up to ``max_length``,
    folded as ``case`` says (``keep`` or ``upper``), on the ``allowed`` comma list unless it is empty."""

    model_config = SettingsConfigDict(alias_generator=_under("TICKWISE_SYMBOL_"))

    case: SymbolCase = "keep"
    max_length: int = Field(32, ge=1, le=128)
    allowed: NameSet = Field(frozenset(), alias="TICKWISE_SYMBOLS_ALLOWED")

    @field_validator("allowed", mode="before")
    @classmethod
    def _allowed_list(cls, value: object, info: ValidationInfo) -> object:
        names = _names(value)
        for symbol in names if isinstance(names, tuple) else ():
            problem = symbol_problem(symbol, info.data.get("max_length", 32))
            if problem is None and normalise_symbol(symbol, info.data.get("case", "keep")) != symbol:
                problem = f"expected symbols as TICKWISE_SYMBOL_CASE folds them, got {symbol!r}"
            if problem is not None:
                raise ValueError(problem)
        return names


class CrossAssetSection(_Section):
    """Cross-asset statistics: every symbol of the universe against the reference, plus pairs."""

    model_config = SettingsConfigDict(alias_generator=_under("TICKWISE_CROSS_ASSET_"))

    reference: str = "SPY"  # empty: no reference
    symbols: Names = ("AIG", "BAC", "IBM")
    pairs: Pairs = ()  # "AIG:BAC,IBM:SPY"
    window: int = Field(30, ge=3, le=100_000)

    @field_validator("symbols", mode="before")
    @classmethod
    def _symbol_list(cls, value: object) -> object:
        return _names(value)

    @field_validator("pairs", mode="before")
    @classmethod
    def _pair_list(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs = []
        for pair in filter(None, (piece.strip() for piece in value.split(","))):
            left, sep, right = pair.partition(":")
            if not sep or not left or not right or left == right:
                raise ValueError(f"expected SYMBOL:SYMBOL pairs such as AIG:BAC,IBM:SPY, got {pair!r}")
            pairs.append((left, right))
        return tuple(pairs)


class RiskSection(_Section):
    """The portfolio risk engine's limits (``TICKWISE_RISK_*``); symbol and version lists are comma lists."""

    model_config = SettingsConfigDict(alias_generator=_under("TICKWISE_RISK_"))

    account_equity: float = Field(1_000_000.0, gt=0)
    per_trade: float = Field(0.02, gt=0, le=1)
    # the probability of the predicted class, max(p_up, 1 - p_up): 0.525 is an edge |2 p_up - 1| of 0.05
    min_confidence: float = Field(0.525, ge=0.5, le=1)
    # the cost policy (operators.risk.costs): the impact of a $1M order in bps (square-root law)
    # and the multiple of half spread + fee + impact an order's expected move must reach (0: off)
    impact_bps: float = Field(2.0, ge=0, le=10_000)
    cost_multiple: float = Field(1.0, ge=0, le=100)
    max_position_shares: float = Field(10_000.0, gt=0)
    max_position_notional: float = Field(1_000_000.0, gt=0)
    max_order_notional: float = Field(250_000.0, gt=0)
    trading_state: Literal["ACTIVE", "REDUCING", "HALTED"] = "ACTIVE"
    symbols: Names = ("AIG", "BAC", "IBM", "SPY")  # the traded universe
    restricted_symbols: NameSet = frozenset()
    known_model_versions: NameSet = frozenset()  # empty: any
    unhealthy_model_versions: NameSet = frozenset()
    max_prediction_age_s: float = Field(5.0, gt=0)
    max_data_age_s: float = Field(120.0, gt=0)
    price_collar_bps: float = Field(100.0, gt=0)
    max_order_quantity: float = Field(5_000.0, gt=0)
    max_gross_exposure: float = Field(2_500_000.0, gt=0)
    max_net_exposure: float = Field(1_500_000.0, gt=0)
    max_var: float = Field(10_000.0, gt=0)
    reduce_drawdown: float = Field(0.02, gt=0, le=1)
    halt_drawdown: float = Field(0.04, gt=0, le=1)
    max_orders_per_minute: int = Field(10, ge=1)
    idle_after_s: float = Field(30.0, gt=0)  # live runs: wall time after which a silent symbol stops holding risk

    @field_validator("symbols", "restricted_symbols", "known_model_versions", "unhealthy_model_versions",
                     mode="before")
    @classmethod
    def _name_list(cls, value: object) -> object:
        return _names(value)

    @field_validator("symbols")
    @classmethod
    def _universe_not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("expected at least one symbol, such as AIG,BAC,IBM")
        return value

    def limits(self, fee_bps: float) -> dict[str, Any]:
        """The arguments of ``operators.risk.limits.RiskLimits``; ``fee_bps`` is the paper book's fee,
        so the engine's drawdown counts the costs the paper book pays."""
        return dict(
            account_equity=self.account_equity, risk_per_trade=self.per_trade,
            known_model_versions=self.known_model_versions, unhealthy_model_versions=self.unhealthy_model_versions,
            min_confidence=self.min_confidence, max_prediction_age_ns=_seconds_ns(self.max_prediction_age_s),
            universe=self.symbols, restricted_symbols=self.restricted_symbols,
            max_data_age_ns=_seconds_ns(self.max_data_age_s), price_collar_bps=self.price_collar_bps,
            max_order_quantity=self.max_order_quantity, max_order_notional=self.max_order_notional,
            max_position_shares=self.max_position_shares, max_position_notional=self.max_position_notional,
            max_gross_exposure=self.max_gross_exposure, max_net_exposure=self.max_net_exposure,
            max_var=self.max_var, reduce_drawdown=self.reduce_drawdown, halt_drawdown=self.halt_drawdown,
            max_orders_per_window=self.max_orders_per_minute, throttle_window_ns=60 * NANOSECONDS,
            trading_state=self.trading_state, fee_bps=fee_bps, impact_bps=self.impact_bps,
            cost_multiple=self.cost_multiple,
        )

    def idle_after(self, until_eof: bool) -> float | None:
        """Seconds of wall time after which the risk step stops waiting for a silent symbol; bounded runs
        wait for every symbol (None). Decisions depend on event time only (``operators.risk.ordering``)."""
        return None if until_eof else self.idle_after_s


class PaperSection(_Section):
    """Paper trading (``TICKWISE_PAPER_*``): the fee and how often positions are marked."""

    model_config = SettingsConfigDict(alias_generator=_under("TICKWISE_PAPER_"))

    fee_bps: float = Field(0.5, ge=0, lt=10_000)
    mark_interval_s: float = Field(60.0, gt=0)

    @property
    def mark_interval_ns(self) -> int:
        return _seconds_ns(self.mark_interval_s)

    @staticmethod
    def fill_window_ns(risk_idle_after_s: float) -> int:
        """Live decisions reach paper trading a few batches after their ticks, an idle symbol's up to the
        risk step's idleness after them (a live tape moves about as fast in event as in wall time)."""
        return _seconds_ns(max(120.0, 4 * risk_idle_after_s))


class RunSection(_Section):
    """The run itself: stop at the end of the input, and where state lives."""

    model_config = SettingsConfigDict(alias_generator=_under("TICKWISE_"))

    until_eof: bool = False
    state_dir: Path = Path(".tickwise")


class Settings(BaseModel):
    """All settings, one frozen section per part; ``Settings()`` reads the environment."""

    model_config = ConfigDict(frozen=True)

    kafka: KafkaSection = Field(default_factory=KafkaSection)
    source: SourceSection = Field(default_factory=SourceSection)
    clickhouse: ClickHouseSection = Field(default_factory=ClickHouseSection)
    redis: RedisSection = Field(default_factory=RedisSection)
    model: ModelSection = Field(default_factory=ModelSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    features: FeatureSection = Field(default_factory=FeatureSection)
    quote_lag: QuoteLagSection = Field(default_factory=QuoteLagSection)  # dataflows.config_quote_lag
    session: SessionSection = Field(default_factory=SessionSection)  # dataflows.config_session
    symbols: SymbolSection = Field(default_factory=SymbolSection)
    universe: UniverseSection = Field(default_factory=UniverseSection)  # dataflows.config_universe
    cross_asset: CrossAssetSection = Field(default_factory=CrossAssetSection)
    risk: RiskSection = Field(default_factory=RiskSection)
    monitoring: MonitoringSection = Field(default_factory=MonitoringSection)  # dataflows.config_monitoring
    paper: PaperSection = Field(default_factory=PaperSection)
    options: OptionsSection = Field(default_factory=OptionsSection)  # dataflows.config_options
    events: EventsSection = Field(default_factory=EventsSection)  # dataflows.config_events
    run: RunSection = Field(default_factory=RunSection)

    SECRETS: ClassVar[frozenset[str]] = frozenset({"KAFKA_SASL_PASSWORD", "CLICKHOUSE_URL", "REDIS_URL",
                                                   "MLFLOW_TRACKING_URI"})

    @classmethod
    def sections(cls) -> dict[str, type[_Section]]:
        return {name: field.annotation for name, field in cls.model_fields.items()}  # type: ignore[misc]

    @classmethod
    def from_environment(cls, variables: Mapping[str, object]) -> Settings:
        """Settings from ``variables`` named as environment variables (the environment fills the rest)."""
        sections = cls.sections().items()
        return cls(**{name: _build(section, {alias: variables[alias] for alias in _aliases(section).values()
                                             if alias in variables}) for name, section in sections})

    def replace(self, **changes: Mapping[str, object]) -> Settings:
        """A copy with ``changes`` (field values per section, such as ``run={"until_eof": True}``) validated."""
        _check_names(changes)
        return Settings(**{name: _build(type(section), {**section.model_dump(), **changes[name]})
                           if changes.get(name) else section for name, section in self})

    def model_cache_path(self) -> Path:
        return self.model.cache_dir or self.run.state_dir / "model-cache"


def _aliases(section: type[_Section]) -> dict[str, str]:
    """Field name -> environment variable name."""
    return {name: field.alias or name for name, field in section.model_fields.items()}


def _check_names(changes: Mapping[str, Mapping[str, object]]) -> None:
    sections = Settings.sections()
    for name, values in changes.items():
        if name not in sections:
            raise TypeError(f"unknown settings section {name!r}; expected one of {', '.join(sections)}")
        unknown = set(values) - set(sections[name].model_fields)
        if unknown:
            raise TypeError(f"unknown {name} settings {sorted(unknown)}; expected {sorted(sections[name].model_fields)}")


def _build(section: type[_Section], values: Mapping[str, object]) -> _Section:
    """Validate one section (the environment fills what ``values`` leaves out); fail with one sentence."""
    try:
        return section(**values)
    except ValidationError as error:
        first = error.errors()[0]
        location = str(first["loc"][0]) if first["loc"] else "settings"
        alias = _aliases(section).get(location, location)
        secret = alias in Settings.SECRETS
        shown = "" if secret or "got " in first["msg"] else f" (got {first.get('input')!r})"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {alias}: {message}{shown}") from None


def load_settings(**overrides: Mapping[str, object] | None) -> Settings:
    """Read the environment once and apply ``overrides``: field values per section, such as
    ``load_settings(kafka={"bootstrap": "broker:9092"}, run={"until_eof": True})``; a None value
    leaves the environment's. An invalid value fails with one sentence naming its variable."""
    changes = {name: {key: value for key, value in (values or {}).items() if value is not None}
               for name, values in overrides.items()}
    _check_names(changes)
    return Settings(**{name: _build(section, changes.get(name, {})) for name, section in Settings.sections().items()})


def environment_names() -> frozenset[str]:
    """Every environment variable the settings read."""
    return frozenset(alias for section in Settings.sections().values() for alias in _aliases(section).values())


def environment_variables(settings: Settings) -> dict[str, str]:
    """Every setting as the environment variable that reads it back (secrets included: pass, never print).

    What a child process (a flow process of the cluster) needs to load the very same settings.
    """
    env: dict[str, str] = {}
    for _, section in settings:
        for name, alias in _aliases(type(section)).items():
            value = getattr(section, name)
            if value is not None:
                env[alias] = _as_text(value)
    return env


def _as_text(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    if isinstance(value, tuple):
        return ",".join(":".join(item) if isinstance(item, tuple) else str(item) for item in value)
    return str(value)
