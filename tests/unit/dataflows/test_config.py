"""Specifications of the settings: environment aliases, overrides, one-sentence errors, hidden secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataflows.config import ConfigError, Settings, load_settings

PASSWORD = "hunter2-s3cr3t"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the variables it sets itself."""
    for field in Settings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)


def test_load_settings_when_environment_empty_then_uses_field_defaults() -> None:
    settings = load_settings()

    for name, field in Settings.model_fields.items():
        default = field.default
        actual = getattr(settings, name)
        if hasattr(default, "get_secret_value"):
            assert actual.get_secret_value() == default.get_secret_value(), name
        else:
            assert actual == default, name


@pytest.mark.parametrize(
    ("alias", "text", "field", "expected"),
    [
        ("KAFKA_BOOTSTRAP", "broker-a:9093,broker-b:9094", "kafka_bootstrap", "broker-a:9093,broker-b:9094"),
        ("KAFKA_TICKS_TOPIC", "prod.ticks", "ticks_topic", "prod.ticks"),
        ("KAFKA_TICKS_PARTITIONS", "12", "ticks_partitions", 12),
        ("TICKWISE_SOURCE_BATCH_SIZE", "250", "source_batch_size", 250),
        ("TICKWISE_MODEL", "models/trained", "model", "models/trained"),
        ("TICKWISE_METRICS_PORT", "0", "metrics_port", 0),
        ("TICKWISE_LATE_TOLERANCE_S", "0.5", "late_tolerance_s", 0.5),
        ("TICKWISE_RISK_TRADING_STATE", "HALTED", "risk_trading_state", "HALTED"),
        ("TICKWISE_UNTIL_EOF", "true", "until_eof", True),
        ("TICKWISE_STATE_DIR", "/var/lib/tickwise", "state_dir", Path("/var/lib/tickwise")),
    ],
)
def test_load_settings_when_alias_set_then_field_reads_it(
        monkeypatch: pytest.MonkeyPatch, alias: str, text: str, field: str, expected: object) -> None:
    assert getattr(load_settings(), field) != expected  # the default differs, so the read is observable
    monkeypatch.setenv(alias, text)

    assert getattr(load_settings(), field) == expected


def test_load_settings_when_secret_urls_set_then_reads_them_as_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKHOUSE_URL", f"https://default:{PASSWORD}@ch.example:8443")
    monkeypatch.setenv("REDIS_URL", f"redis://:{PASSWORD}@cache.example:6380/2")

    settings = load_settings()

    assert settings.clickhouse_url.get_secret_value() == f"https://default:{PASSWORD}@ch.example:8443"
    assert settings.redis_url.get_secret_value() == f"redis://:{PASSWORD}@cache.example:6380/2"
    assert settings.chdb_path() is None


def test_load_settings_when_override_and_environment_disagree_then_override_wins(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "from-env:9092")
    monkeypatch.setenv("TICKWISE_MODEL", "from-env")

    settings = load_settings(kafka_bootstrap="from-override:9092", model="from-override")

    assert settings.kafka_bootstrap == "from-override:9092"
    assert settings.model == "from-override"


def test_load_settings_when_override_is_none_then_environment_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKWISE_MODEL", "from-env")

    assert load_settings(model=None).model == "from-env"


def test_settings_when_built_then_frozen() -> None:
    settings = load_settings()

    with pytest.raises(Exception, match="frozen"):
        settings.model = "other"  # type: ignore[misc]


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
    ],
)
def test_load_settings_when_value_invalid_then_config_error_names_variable_and_value(
        monkeypatch: pytest.MonkeyPatch, alias: str, text: str) -> None:
    monkeypatch.setenv(alias, text)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert message.startswith(f"invalid setting {alias}: ")
    assert repr(text) in message
    assert "\n" not in message


def test_load_settings_when_override_invalid_then_config_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"^invalid setting KAFKA_TICKS_PARTITIONS: .*\(got 0\)$"):
        load_settings(ticks_partitions=0)


def test_load_settings_when_bootstrap_invalid_then_value_shown_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(kafka_bootstrap="no-port-here")

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
    monkeypatch.setenv(alias, url)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert message.startswith(f"invalid setting {alias}: expected ")
    assert PASSWORD not in message
    assert PASSWORD not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("field", ["clickhouse_url", "redis_url"])
def test_load_settings_when_secret_url_override_invalid_then_message_hides_password(field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**{field: f"ftp://user:{PASSWORD}@host"})

    assert Settings.model_fields[field].alias in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_repr_when_secrets_set_then_never_shows_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("CLICKHOUSE_URL", f"https://default:{PASSWORD}@ch.example:8443")
    monkeypatch.setenv("REDIS_URL", f"rediss://:{PASSWORD}@cache.example:6380/0")

    settings = load_settings()

    assert settings.kafka_sasl_password is not None
    assert settings.kafka_sasl_password.get_secret_value() == PASSWORD
    for shown in (repr(settings), str(settings), f"{settings}", repr(settings.model_dump())):
        assert PASSWORD not in shown


def test_kafka_options_when_sasl_configured_then_passes_every_option_through(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "tickwise")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("KAFKA_SSL_CA_LOCATION", "/etc/ssl/kafka-ca.pem")

    options = load_settings().kafka_options()

    assert options == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "tickwise",
        "sasl.password": PASSWORD,
        "ssl.ca.location": "/etc/ssl/kafka-ca.pem",
    }


def test_kafka_options_when_nothing_configured_then_empty() -> None:
    assert load_settings().kafka_options() == {}


def test_chdb_path_when_chdb_url_then_path_after_scheme() -> None:
    settings = load_settings(clickhouse_url="chdb:///srv/tickwise/chdb")

    assert settings.chdb_path() == Path("/srv/tickwise/chdb")
