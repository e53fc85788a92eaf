"""Specifications of the settings: environment aliases, overrides, one-sentence errors, hidden secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataflows.config import ConfigError, Settings, environment_names, environment_variables, load_settings

PASSWORD = "hunter2-s3cr3t"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the variables it sets itself."""
    for name in environment_names():
        monkeypatch.delenv(name, raising=False)


def test_load_settings_when_environment_empty_then_uses_field_defaults() -> None:
    settings = load_settings()

    for section_name, section in settings:
        for name, field in type(section).model_fields.items():
            default = field.default
            actual = getattr(section, name)
            if hasattr(default, "get_secret_value"):
                assert actual.get_secret_value() == default.get_secret_value(), (section_name, name)
            else:
                assert actual == default, (section_name, name)


def setting(settings: Settings, path: str) -> object:
    section, field = path.split(".")
    return getattr(getattr(settings, section), field)


@pytest.mark.parametrize(
    ("alias", "text", "path", "expected"),
    [
        ("KAFKA_BOOTSTRAP", "broker-a:9093,broker-b:9094", "kafka.bootstrap", "broker-a:9093,broker-b:9094"),
        ("KAFKA_TICKS_TOPIC", "prod.ticks", "kafka.ticks_topic", "prod.ticks"),
        ("KAFKA_TICKS_PARTITIONS", "12", "kafka.ticks_partitions", 12),
        ("KAFKA_CONTROL_TOPIC", "", "kafka.control_topic", ""),
        ("TICKWISE_SOURCE_BATCH_SIZE", "250", "source.batch_size", 250),
        ("TICKWISE_SOURCE_FETCH_WAIT_MS", "50", "source.fetch_wait_ms", 50),
        ("TICKWISE_REDIS_KEY_PREFIX", "desk:", "redis.key_prefix", "desk:"),
        ("TICKWISE_MODEL", "models/trained", "model.spec", "models/trained"),
        ("TICKWISE_MODEL_NAME", "desk-ensemble", "model.name", "desk-ensemble"),
        ("TICKWISE_MODEL_POLL_S", "2.5", "model.poll_s", 2.5),
        ("TICKWISE_MLFLOW_DIR", "/srv/mlflow", "model.mlflow_dir", Path("/srv/mlflow")),
        ("TICKWISE_METRICS_PORT", "0", "metrics.port", 0),
        ("TICKWISE_METRICS_HOST", "0.0.0.0", "metrics.host", "0.0.0.0"),
        ("TICKWISE_PROCESS_INDEX", "3", "metrics.process_index", 3),
        ("TICKWISE_LATE_TOLERANCE_S", "0.5", "features.late_tolerance_s", 0.5),
        ("TICKWISE_FEATURE_INTERVAL_S", "5", "features.interval_s", 5.0),
        ("TICKWISE_CROSS_ASSET_SYMBOLS", "IBM, AIG,IBM", "cross_asset.symbols", ("AIG", "IBM")),
        ("TICKWISE_CROSS_ASSET_PAIRS", "AIG:BAC,IBM:SPY", "cross_asset.pairs", (("AIG", "BAC"), ("IBM", "SPY"))),
        ("TICKWISE_RISK_TRADING_STATE", "HALTED", "risk.trading_state", "HALTED"),
        ("TICKWISE_RISK_MAX_VAR", "2500", "risk.max_var", 2500.0),
        ("TICKWISE_RISK_PER_TRADE", "0.01", "risk.per_trade", 0.01),
        ("TICKWISE_RISK_SYMBOLS", "SPY,IBM", "risk.symbols", ("IBM", "SPY")),
        ("TICKWISE_RISK_RESTRICTED_SYMBOLS", "BAC", "risk.restricted_symbols", frozenset({"BAC"})),
        ("TICKWISE_DRIFT_DETECTOR", "kswin", "monitoring.drift_detector", "kswin"),
        ("TICKWISE_PSI_WINDOW", "300", "monitoring.psi_window", 300),
        ("TICKWISE_OUTCOME_MIN_SAMPLES", "50", "monitoring.outcome_min_samples", 50),
        ("TICKWISE_PAPER_FEE_BPS", "1.5", "paper.fee_bps", 1.5),
        ("TICKWISE_RISK_MIN_CONFIDENCE", "0.6", "risk.min_confidence", 0.6),
        ("TICKWISE_RISK_IMPACT_BPS", "0", "risk.impact_bps", 0.0),
        ("TICKWISE_RISK_COST_MULTIPLE", "1.5", "risk.cost_multiple", 1.5),
        ("TICKWISE_QUOTE_LAG_MS", "2.5", "quote_lag.lag_ms", 2.5),
        ("TICKWISE_QUOTE_LAG_MS_BY_PREFIX", "ETH=50, BTC=50", "quote_lag.by_prefix", "BTC=50,ETH=50"),
        ("TICKWISE_UNTIL_EOF", "true", "run.until_eof", True),
        ("TICKWISE_STATE_DIR", "/var/lib/tickwise", "run.state_dir", Path("/var/lib/tickwise")),
    ],
)
def test_load_settings_when_variable_set_then_its_section_field_reads_it(
        monkeypatch: pytest.MonkeyPatch, alias: str, text: str, path: str, expected: object) -> None:
    assert setting(load_settings(), path) != expected  # the default differs, so the read is observable
    monkeypatch.setenv(alias, text)

    assert setting(load_settings(), path) == expected


def test_environment_names_when_listed_then_every_section_field_has_its_variable() -> None:
    names = environment_names()

    assert len(names) == sum(len(type(section).model_fields) for _, section in load_settings())
    assert {"KAFKA_BOOTSTRAP", "CLICKHOUSE_URL", "REDIS_URL", "MLFLOW_TRACKING_URI", "TICKWISE_MODEL",
            "TICKWISE_PROCESS_INDEX", "TICKWISE_RISK_MAX_VAR", "TICKWISE_PAPER_MARK_INTERVAL_S"} <= names


def test_environment_variables_when_read_back_then_give_the_same_settings() -> None:
    settings = load_settings(kafka={"sasl_password": PASSWORD, "control_topic": ""}, run={"until_eof": True},
                             risk={"symbols": "IBM,SPY", "known_model_versions": "v1,v2"},
                             cross_asset={"pairs": "AIG:BAC"}, model={"cache_dir": Path("/tmp/cache")},
                             quote_lag={"lag_ms": 1.5, "by_prefix": "BTC=50,ETH=2.5"})

    assert Settings.from_environment(environment_variables(settings)) == settings


def test_sections_when_parsed_then_offer_nanoseconds_and_risk_limits() -> None:
    settings = load_settings(features={"late_tolerance_s": 0.5}, risk={"idle_after_s": 2.0})

    assert settings.features.late_tolerance_ns == 500_000_000
    assert settings.risk.idle_after(until_eof=False) == 2.0
    assert settings.risk.idle_after(until_eof=True) is None
    limits = settings.risk.limits(fee_bps=1.0)
    assert limits["universe"] == ("AIG", "BAC", "IBM", "SPY") and limits["fee_bps"] == 1.0
    assert limits["max_prediction_age_ns"] == 5_000_000_000
    assert (limits["min_confidence"], limits["impact_bps"], limits["cost_multiple"]) == (0.525, 2.0, 1.0)


def test_quote_lag_when_set_per_prefix_then_feature_config_resolves_the_longest_prefix() -> None:
    from operators.features.config import FeatureConfig

    settings = load_settings(quote_lag={"lag_ms": 1, "by_prefix": "BTC=50,BTCUSD=5"})
    config = FeatureConfig(quote_lag_ns=settings.quote_lag.feature_quote_lag())

    assert [config.quote_lag_ns_for(symbol) for symbol in ("IBM", "BTCEUR", "BTCUSD")] == [
        1_000_000, 50_000_000, 5_000_000]
    assert load_settings().quote_lag.feature_quote_lag() == FeatureConfig().quote_lag_ns == 0


def test_load_settings_when_override_names_an_unknown_field_then_type_error() -> None:
    with pytest.raises(TypeError, match="unknown kafka settings"):
        load_settings(kafka={"bootstrap_servers": "b:9092"})


def test_replace_when_value_changed_then_validated_copy_and_original_unchanged() -> None:
    settings = load_settings()

    changed = settings.replace(source={"batch_size": 10}, kafka={"ticks_topic": "other"})

    assert (changed.source.batch_size, changed.kafka.ticks_topic) == (10, "other")
    assert (settings.source.batch_size, settings.kafka.ticks_topic) == (5000, "ticks")
    with pytest.raises(ConfigError, match="^invalid setting TICKWISE_SOURCE_BATCH_SIZE: "):
        settings.replace(source={"batch_size": 0})


def test_load_settings_when_secret_urls_set_then_reads_them_as_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKHOUSE_URL", f"https://default:{PASSWORD}@ch.example:8443")
    monkeypatch.setenv("REDIS_URL", f"redis://:{PASSWORD}@cache.example:6380/2")

    settings = load_settings()

    assert settings.clickhouse.url.get_secret_value() == f"https://default:{PASSWORD}@ch.example:8443"
    assert settings.redis.url.get_secret_value() == f"redis://:{PASSWORD}@cache.example:6380/2"
    assert settings.clickhouse.chdb_path() is None


def test_load_settings_when_override_and_environment_disagree_then_override_wins(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "from-env:9092")
    monkeypatch.setenv("TICKWISE_MODEL", "from-env")

    settings = load_settings(kafka={"bootstrap": "from-override:9092"}, model={"spec": "from-override"})

    assert settings.kafka.bootstrap == "from-override:9092"
    assert settings.model.spec == "from-override"


def test_load_settings_when_override_is_none_then_environment_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKWISE_MODEL", "from-env")

    assert load_settings(model={"spec": None}).model.spec == "from-env"


def test_settings_when_built_then_frozen() -> None:
    settings = load_settings()

    with pytest.raises(Exception, match="frozen"):
        settings.model = settings.model  # type: ignore[misc]
    with pytest.raises(Exception, match="frozen"):
        settings.model.spec = "other"  # type: ignore[misc]


def refusal_of(monkeypatch: pytest.MonkeyPatch, alias: str, text: str) -> ConfigError:
    """The ``ConfigError`` that ``load_settings`` raises with ``alias`` set to ``text``."""
    monkeypatch.setenv(alias, text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return caught.value


@pytest.mark.parametrize(
    ("alias", "text"),
    [
        ("KAFKA_BOOTSTRAP", "no-port-here"),
        ("KAFKA_BOOTSTRAP", "host:9092,:9093"),
        ("KAFKA_TICKS_PARTITIONS", "0"),
        ("KAFKA_TICKS_PARTITIONS", "four"),
        ("TICKWISE_SOURCE_BATCH_SIZE", "-5"),
        ("TICKWISE_METRICS_PORT", "70000"),
        ("TICKWISE_AHEAD_TOLERANCE_S", "0"),
        ("TICKWISE_RISK_PER_TRADE", "1.5"),
        ("TICKWISE_RISK_TRADING_STATE", "PAUSED"),
        ("TICKWISE_UNTIL_EOF", "sometimes"),
        ("TICKWISE_RISK_MAX_VAR", "-1"),
        ("TICKWISE_PSI_WINDOW", "5"),
        ("TICKWISE_PAPER_FEE_BPS", "x"),
        ("TICKWISE_RISK_MIN_CONFIDENCE", "0.05"),
        ("TICKWISE_RISK_COST_MULTIPLE", "-1"),
        ("TICKWISE_QUOTE_LAG_MS", "-5"),
        ("TICKWISE_QUOTE_LAG_MS_BY_PREFIX", "BTC"),
        ("TICKWISE_QUOTE_LAG_MS_BY_PREFIX", "BTC=fast"),
        ("TICKWISE_QUOTE_LAG_MS_BY_PREFIX", "BTC=90000"),
        ("TICKWISE_QUOTE_LAG_MS_BY_PREFIX", "BTC=5,BTC=6"),
        ("TICKWISE_CROSS_ASSET_PAIRS", "AIG"),
        ("TICKWISE_RISK_SYMBOLS", " , "),
        ("TICKWISE_MODEL_POLL_S", "-1"),
    ],
)
def test_load_settings_when_value_invalid_then_config_error_names_variable_and_value(
        monkeypatch: pytest.MonkeyPatch, alias: str, text: str) -> None:
    message = str(refusal_of(monkeypatch, alias, text))

    assert message.startswith(f"invalid setting {alias}: ")
    assert repr(text) in message
    assert "\n" not in message


def test_load_settings_when_override_invalid_then_config_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^invalid setting KAFKA_TICKS_PARTITIONS: .*\(got 0\)$"):
        load_settings(kafka={"ticks_partitions": 0})


def test_load_settings_when_bootstrap_invalid_then_value_shown_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(kafka={"bootstrap": "no-port-here"})

    assert str(caught.value).count("'no-port-here'") == 1


@pytest.mark.parametrize(
    ("alias", "url"),
    [
        ("CLICKHOUSE_URL", f"ftp://default:{PASSWORD}@ch.example:21"),
        ("CLICKHOUSE_URL", f"clickhouse://default:{PASSWORD}@ch.example:9000"),
        ("REDIS_URL", f"http://:{PASSWORD}@cache.example:6379/0"),
        ("REDIS_URL", f"{PASSWORD}@cache.example:6379"),
    ],
)
def test_load_settings_when_secret_url_invalid_then_message_names_variable_without_password(
        monkeypatch: pytest.MonkeyPatch, alias: str, url: str) -> None:
    error = refusal_of(monkeypatch, alias, url)

    assert str(error).startswith(f"invalid setting {alias}: expected ")
    assert PASSWORD not in str(error)
    assert PASSWORD not in repr(error)
    assert error.__cause__ is None and error.__suppress_context__


@pytest.mark.parametrize(("section", "alias"), [("clickhouse", "CLICKHOUSE_URL"), ("redis", "REDIS_URL")])
def test_load_settings_when_secret_url_override_invalid_then_message_hides_password(section: str, alias: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**{section: {"url": f"ftp://user:{PASSWORD}@host"}})

    assert alias in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_repr_when_secrets_set_then_never_shows_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("CLICKHOUSE_URL", f"https://default:{PASSWORD}@ch.example:8443")
    monkeypatch.setenv("REDIS_URL", f"rediss://:{PASSWORD}@cache.example:6380/0")

    settings = load_settings()

    assert settings.kafka.sasl_password is not None
    assert settings.kafka.sasl_password.get_secret_value() == PASSWORD
    for shown in (repr(settings), str(settings), f"{settings}", repr(settings.model_dump())):
        assert PASSWORD not in shown


def test_kafka_options_when_sasl_configured_then_passes_every_option_through(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "tickwise")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("KAFKA_SSL_CA_LOCATION", "/etc/ssl/kafka-ca.pem")

    options = load_settings().kafka.options()

    assert options == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "tickwise",
        "sasl.password": PASSWORD,
        "ssl.ca.location": "/etc/ssl/kafka-ca.pem",
    }


def test_kafka_options_when_nothing_configured_then_empty() -> None:
    assert load_settings().kafka.options() == {}


def test_chdb_path_when_chdb_url_then_path_after_scheme() -> None:
    settings = load_settings(clickhouse={"url": "chdb:///srv/tickwise/chdb"})

    assert settings.clickhouse.chdb_path() == Path("/srv/tickwise/chdb")
