"""The one settings object of tickwise, read once by the CLI (or the flow entry point).

Every component gets its own frozen part of it; nothing else reads the environment.
Secrets are ``SecretStr`` and never appear in ``repr``, logs or the summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(ValueError):
    """A setting is invalid; the message is one sentence a user can act on."""


class Settings(BaseSettings):
    """All settings, from environment variables (names in the field aliases) or arguments."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    # Kafka
    kafka_bootstrap: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP")
    ticks_topic: str = Field("ticks", alias="KAFKA_TICKS_TOPIC")
    signals_topic: str = Field("signals", alias="KAFKA_SIGNALS_TOPIC")
    dlq_topic: str = Field("ticks.dlq", alias="KAFKA_DLQ_TOPIC")
    model_events_topic: str = Field("model-events", alias="KAFKA_MODEL_EVENTS_TOPIC")
    ticks_partitions: int = Field(4, alias="KAFKA_TICKS_PARTITIONS", ge=1, le=1024)
    kafka_security_protocol: str | None = Field(None, alias="KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: str | None = Field(None, alias="KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = Field(None, alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(None, alias="KAFKA_SASL_PASSWORD")
    kafka_ssl_ca_location: str | None = Field(None, alias="KAFKA_SSL_CA_LOCATION")
    source_batch_size: int = Field(5000, alias="TICKWISE_SOURCE_BATCH_SIZE", ge=1, le=1_000_000)
    # Latency bounds of the source: how long one partition's poll may wait to fill a batch, and
    # librdkafka's fetch.wait.max.ms (a broker without long-poll wake-up, such as the embedded
    # Tansu, answers a fetch only after this wait, so it is the floor of tick-to-signal latency).
    source_poll_ms: float = Field(1.0, alias="TICKWISE_SOURCE_POLL_MS", ge=0, le=10_000)
    source_fetch_wait_ms: int = Field(10, alias="TICKWISE_SOURCE_FETCH_WAIT_MS", ge=0, le=60_000)

    # ClickHouse and Redis
    clickhouse_url: SecretStr = Field(SecretStr("chdb://.tickwise/chdb"), alias="CLICKHOUSE_URL")
    redis_url: SecretStr = Field(SecretStr("redis://127.0.0.1:6379/0"), alias="REDIS_URL")
    redis_key_prefix: str = Field("tickwise:features:", alias="TICKWISE_REDIS_KEY_PREFIX")

    # Models: TICKWISE_MODEL is a model directory, "default", or models:/NAME@ALIAS (MLflow registry)
    model: str = Field("default", alias="TICKWISE_MODEL")
    mlflow_tracking_uri: SecretStr | None = Field(None, alias="MLFLOW_TRACKING_URI")  # unset: embedded store
    mlflow_dir: Path = Field(Path(".tickwise/mlflow"), alias="TICKWISE_MLFLOW_DIR")
    model_name: str = Field("tickwise-ensemble", alias="TICKWISE_MODEL_NAME", min_length=1)
    model_cache_dir: Path | None = Field(None, alias="TICKWISE_MODEL_CACHE_DIR")  # unset: <state dir>/model-cache
    model_poll_s: float = Field(10.0, alias="TICKWISE_MODEL_POLL_S", ge=0)  # 0: never look for a new version

    # Metrics
    metrics_host: str = Field("127.0.0.1", alias="TICKWISE_METRICS_HOST")
    metrics_port: int = Field(9464, alias="TICKWISE_METRICS_PORT", ge=0, le=65535)
    process_index: int = Field(0, alias="TICKWISE_PROCESS_INDEX", ge=0, le=1024)

    # Monitoring: drift detectors, PSI vs the training profile, live accuracy thresholds, paper P&L
    drift_detector: Literal["adwin", "page_hinkley", "kswin"] = Field("adwin", alias="TICKWISE_DRIFT_DETECTOR")
    drift_sample_every: int = Field(0, alias="TICKWISE_DRIFT_SAMPLE_EVERY", ge=0, le=1_000_000)  # 0: per detector
    psi_window: int = Field(600, alias="TICKWISE_PSI_WINDOW", ge=20, le=1_000_000)
    psi_threshold: float = Field(0.1, alias="TICKWISE_PSI_THRESHOLD", gt=0)
    retrain_accuracy: float = Field(0.55, alias="TICKWISE_RETRAIN_ACCURACY", ge=0, le=1)
    review_confidence: float = Field(0.7, alias="TICKWISE_REVIEW_CONFIDENCE", ge=0, le=1)
    outcome_window: int = Field(500, alias="TICKWISE_OUTCOME_WINDOW", ge=1, le=1_000_000)
    outcome_min_samples: int = Field(100, alias="TICKWISE_OUTCOME_MIN_SAMPLES", ge=1, le=1_000_000)
    paper_fee_bps: float = Field(0.5, alias="TICKWISE_PAPER_FEE_BPS", ge=0, lt=10_000)
    paper_mark_interval_s: float = Field(60.0, alias="TICKWISE_PAPER_MARK_INTERVAL_S", gt=0)

    # Event time
    ahead_tolerance_s: float = Field(3600.0, alias="TICKWISE_AHEAD_TOLERANCE_S", gt=0)
    late_tolerance_s: float = Field(2.0, alias="TICKWISE_LATE_TOLERANCE_S", ge=0)
    feature_interval_s: float = Field(1.0, alias="TICKWISE_FEATURE_INTERVAL_S", ge=0)

    # Cross-asset statistics: every symbol of the universe against the reference, plus pairs
    cross_asset_reference: str = Field("SPY", alias="TICKWISE_CROSS_ASSET_REFERENCE")
    cross_asset_symbols: str = Field("AIG,BAC,IBM", alias="TICKWISE_CROSS_ASSET_SYMBOLS")
    cross_asset_pairs: str = Field("", alias="TICKWISE_CROSS_ASSET_PAIRS")
    cross_asset_window: int = Field(30, alias="TICKWISE_CROSS_ASSET_WINDOW", ge=3, le=100_000)

    # Risk
    risk_account_equity: float = Field(1_000_000.0, alias="TICKWISE_RISK_ACCOUNT_EQUITY", gt=0)
    risk_per_trade: float = Field(0.02, alias="TICKWISE_RISK_PER_TRADE", gt=0, le=1)
    risk_min_confidence: float = Field(0.05, alias="TICKWISE_RISK_MIN_CONFIDENCE", ge=0, le=1)
    risk_max_position_shares: float = Field(10_000.0, alias="TICKWISE_RISK_MAX_POSITION_SHARES", gt=0)
    risk_max_position_notional: float = Field(1_000_000.0, alias="TICKWISE_RISK_MAX_POSITION_NOTIONAL", gt=0)
    risk_max_order_notional: float = Field(250_000.0, alias="TICKWISE_RISK_MAX_ORDER_NOTIONAL", gt=0)
    risk_trading_state: Literal["ACTIVE", "REDUCING", "HALTED"] = Field("ACTIVE", alias="TICKWISE_RISK_TRADING_STATE")
    risk_symbols: str = Field("AIG,BAC,IBM,SPY", alias="TICKWISE_RISK_SYMBOLS", min_length=1)  # traded universe
    risk_restricted_symbols: str = Field("", alias="TICKWISE_RISK_RESTRICTED_SYMBOLS")
    risk_known_model_versions: str = Field("", alias="TICKWISE_RISK_KNOWN_MODEL_VERSIONS")  # empty: any
    risk_unhealthy_model_versions: str = Field("", alias="TICKWISE_RISK_UNHEALTHY_MODEL_VERSIONS")
    risk_max_prediction_age_s: float = Field(5.0, alias="TICKWISE_RISK_MAX_PREDICTION_AGE_S", gt=0)
    risk_max_data_age_s: float = Field(120.0, alias="TICKWISE_RISK_MAX_DATA_AGE_S", gt=0)
    risk_price_collar_bps: float = Field(100.0, alias="TICKWISE_RISK_PRICE_COLLAR_BPS", gt=0)
    risk_max_order_quantity: float = Field(5_000.0, alias="TICKWISE_RISK_MAX_ORDER_QUANTITY", gt=0)
    risk_max_gross_exposure: float = Field(2_500_000.0, alias="TICKWISE_RISK_MAX_GROSS_EXPOSURE", gt=0)
    risk_max_net_exposure: float = Field(1_500_000.0, alias="TICKWISE_RISK_MAX_NET_EXPOSURE", gt=0)
    risk_max_var: float = Field(10_000.0, alias="TICKWISE_RISK_MAX_VAR", gt=0)
    risk_reduce_drawdown: float = Field(0.02, alias="TICKWISE_RISK_REDUCE_DRAWDOWN", gt=0, le=1)
    risk_halt_drawdown: float = Field(0.04, alias="TICKWISE_RISK_HALT_DRAWDOWN", gt=0, le=1)
    risk_max_orders_per_minute: int = Field(10, alias="TICKWISE_RISK_MAX_ORDERS_PER_MINUTE", ge=1)
    risk_max_lateness_s: float = Field(30.0, alias="TICKWISE_RISK_MAX_LATENESS_S", ge=0)  # live runs only
    control_topic: str = Field("control", alias="KAFKA_CONTROL_TOPIC")  # empty: no kill-switch input

    # Run
    until_eof: bool = Field(False, alias="TICKWISE_UNTIL_EOF")
    state_dir: Path = Field(Path(".tickwise"), alias="TICKWISE_STATE_DIR")

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_has_port(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    @field_validator("clickhouse_url")
    @classmethod
    def _clickhouse_scheme(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("chdb://", "http://", "https://")):
            raise ValueError("expected a chdb:///path, http:// or https:// URL")
        return value

    @field_validator("model")
    @classmethod
    def _model_spec(cls, value: str) -> str:
        from models.mlflow_registry import parse_model_uri

        if value.startswith("models:/"):
            parse_model_uri(value)  # raises a ValueError naming the expected forms
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("cross_asset_pairs")
    @classmethod
    def _pairs_format(cls, value: str) -> str:
        for pair in filter(None, (piece.strip() for piece in value.split(","))):
            left, sep, right = pair.partition(":")
            if not sep or not left or not right or left == right:
                raise ValueError(f"expected SYMBOL:SYMBOL pairs such as AIG:BAC,IBM:SPY, got {pair!r}")
        return value

    def cross_asset_universe(self) -> tuple[str, ...]:
        return tuple(sorted({s.strip() for s in self.cross_asset_symbols.split(",") if s.strip()}))

    def cross_asset_pairs_list(self) -> tuple[tuple[str, str], ...]:
        pairs = []
        for pair in filter(None, (piece.strip() for piece in self.cross_asset_pairs.split(","))):
            left, _, right = pair.partition(":")
            pairs.append((left, right))
        return tuple(pairs)

    def kafka_options(self) -> dict[str, str]:
        """librdkafka security options passed through unchanged (secrets included: do not log)."""
        options: dict[str, str] = {}
        if self.kafka_security_protocol:
            options["security.protocol"] = self.kafka_security_protocol
        if self.kafka_sasl_mechanism:
            options["sasl.mechanism"] = self.kafka_sasl_mechanism
        if self.kafka_sasl_username:
            options["sasl.username"] = self.kafka_sasl_username
        if self.kafka_sasl_password is not None:
            options["sasl.password"] = self.kafka_sasl_password.get_secret_value()
        if self.kafka_ssl_ca_location:
            options["ssl.ca.location"] = self.kafka_ssl_ca_location
        return options

    def model_cache_path(self) -> Path:
        return self.model_cache_dir or self.state_dir / "model-cache"

    def chdb_path(self) -> Path | None:
        url = self.clickhouse_url.get_secret_value()
        if url.startswith("chdb://"):
            return Path(url.removeprefix("chdb://"))
        return None


def load_settings(**overrides: object) -> Settings:
    """Read the environment once, apply ``overrides`` (by field name), fail with one sentence."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "settings"
        alias = Settings.model_fields[field].alias if field in Settings.model_fields else field
        secret = field in _SECRET_FIELDS or alias in _SECRET_ALIASES
        shown = "" if secret or "got " in first["msg"] else f" (got {first.get('input')!r})"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {alias}: {message}{shown}") from None


_SECRET_FIELDS = frozenset({"kafka_sasl_password", "clickhouse_url", "redis_url", "mlflow_tracking_uri"})
_SECRET_ALIASES = frozenset({"KAFKA_SASL_PASSWORD", "CLICKHOUSE_URL", "REDIS_URL", "MLFLOW_TRACKING_URI"})


def environment_variables(settings: Settings) -> dict[str, str]:
    """Every setting as the environment variable that reads it back (secrets included: pass, never print).

    What a child process (a flow process of the cluster) needs to load the very same settings.
    """
    env: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None or field.alias is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[field.alias] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return env
