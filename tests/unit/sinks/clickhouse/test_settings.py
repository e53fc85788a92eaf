"""Unit specification of ``ClickHouseSettings``: URLs, secrets and batching limits."""

from __future__ import annotations

import pytest

from sinks.clickhouse import ClickHouseSettings


def test_http_url_is_parsed_into_client_arguments() -> None:
    settings = ClickHouseSettings("https://desk:p%40ss@ch.internal:8443/market")
    kwargs = settings.client_kwargs()
    assert kwargs["interface"] == "https"
    assert (kwargs["host"], kwargs["port"]) == ("ch.internal", 8443)
    assert (kwargs["username"], kwargs["password"], kwargs["database"]) == ("desk", "p@ss", "market")


def test_http_url_without_port_or_database_uses_defaults() -> None:
    kwargs = ClickHouseSettings("http://ch.internal").client_kwargs()
    assert (kwargs["port"], kwargs["database"], kwargs["username"]) == (8123, "default", "default")


def test_password_never_shows_in_repr_or_redacted_url() -> None:
    settings = ClickHouseSettings("http://desk:hunter2@ch:8123/market")
    assert "hunter2" not in repr(settings)
    assert settings.redacted_url() == "http://desk:***@ch:8123/market"


def test_chdb_url_is_passed_as_dsn() -> None:
    assert ClickHouseSettings("chdb:///data/chdb").client_kwargs() == {"dsn": "chdb:///data/chdb"}


@pytest.mark.parametrize("url", ["postgres://x", "chdb://relative/path", "ch.internal:8123"])
def test_settings_refuse_urls_they_cannot_open(url: str) -> None:
    with pytest.raises(ValueError, match="ClickHouseSettings.url"):
        ClickHouseSettings(url)


def test_settings_refuse_a_batch_size_below_one() -> None:
    with pytest.raises(ValueError, match="batch_rows must be >= 1, got 0"):
        ClickHouseSettings("chdb:///x", batch_rows=0)


def test_settings_refuse_a_negative_flush_interval() -> None:
    with pytest.raises(ValueError, match="flush_interval_s must be >= 0, got -1"):
        ClickHouseSettings("chdb:///x", flush_interval_s=-1.0)
