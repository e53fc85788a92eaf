"""Specifications of the connection URL redactor: every URL form we accept is shown without its
secrets, and a URL whose password would change how clients split it is refused without being quoted."""

from __future__ import annotations

import io
import logging
from urllib.parse import quote

import pytest
import redis

from sinks.clickhouse import ClickHouseSettings
from sinks.redaction import UnsafeUrl, install_log_redaction, parse_url, redact_text, redact_url

# Passwords that break urllib's split when written unencoded, plus ones that only look odd.
NASTY_PASSWORDS = ("Zq9#xY7k", "Zq9/xY7k", "Zq9?xY7k", "Zq9@#/?:xY7k", "Zq9 xY7k%", "Zq9:xY7k&db=3")
UNENCODED_FORMS = ("https://reader:{password}@ch.internal:8443/market", "http://default:{password}@127.0.0.1:1/db",
                   "redis://:{password}@cache.internal:6379/0", "rediss://app:{password}@cache.internal:6380/1")
ENCODED_FORMS = (
    "https://reader:{encoded}@ch.internal:8443/market", "http://default:{encoded}@127.0.0.1:8123",
    "redis://:{encoded}@cache.internal:6379/0", "rediss://app:{encoded}@cache.internal:6380/1",
    "redis://cache.internal:6379/0?password={encoded}", "rediss://cache.internal/0?db=1&password={encoded}",
    "redis://app@cache.internal:6379/0?password={encoded}", "unix://:{encoded}@/run/redis.sock?db=0",
    "unix:///run/redis.sock?password={encoded}", "redis://{encoded}@cache.internal:6379/0",
)


def fragments(password: str) -> list[str]:
    """The password and every piece of it of 3+ characters between the characters that split URLs."""
    pieces = password.replace("#", " ").replace("/", " ").replace("?", " ").replace("@", " ").replace(":", " ").split()
    return [password, *(piece for piece in pieces if len(piece) >= 3)]


def assert_hidden(password: str, text: str) -> None:
    for fragment in {*fragments(password), quote(password, safe="")}:
        assert fragment not in text, text


@pytest.mark.parametrize("password", NASTY_PASSWORDS)
@pytest.mark.parametrize("form", ENCODED_FORMS)
def test_redact_url_when_password_percent_encoded_then_neither_form_of_it_shows(form: str, password: str) -> None:
    url = form.format(encoded=quote(password, safe=""))

    shown = redact_url(url)

    assert_hidden(password, shown)
    assert "***" in shown
    assert parse_url(url).host_port in shown  # where it points stays visible


@pytest.mark.parametrize("password", ["Zq9#xY7k", "Zq9/xY7k", "Zq9?xY7k", "Zq9 xY7k"])
@pytest.mark.parametrize("form", UNENCODED_FORMS)
def test_parse_url_when_password_would_split_the_url_then_refused_without_quoting_it(form: str, password: str) -> None:
    url = form.format(password=password)

    with pytest.raises(UnsafeUrl) as caught:
        parse_url(url)

    assert_hidden(password, str(caught.value))
    assert "percent-encode" in str(caught.value)
    assert redact_url(url) == url.partition("://")[0] + "://***"


@pytest.mark.parametrize("password", NASTY_PASSWORDS)
def test_parse_url_finds_the_password_where_the_clients_find_it(password: str) -> None:
    encoded = quote(password, safe="")
    redis_pool = redis.ConnectionPool.from_url(f"redis://app:{encoded}@cache.internal:6379/0")
    query_pool = redis.ConnectionPool.from_url(f"redis://cache.internal:6379/0?password={encoded}")
    clickhouse = ClickHouseSettings(f"https://reader:{encoded}@ch.internal:8443/market").client_kwargs()

    assert parse_url(f"redis://app:{encoded}@cache.internal:6379/0").password == encoded
    assert redis_pool.connection_kwargs["password"] == password
    assert query_pool.connection_kwargs["password"] == password
    assert (clickhouse["password"], clickhouse["host"], clickhouse["port"]) == (password, "ch.internal", 8443)


def test_parse_url_when_scheme_not_allowed_then_names_the_allowed_ones() -> None:
    with pytest.raises(UnsafeUrl, match=r"expected a redis://, rediss:// URL"):
        parse_url("http://:hunter2@cache:6379", ("redis", "rediss"))


def test_redact_url_keeps_harmless_query_values_and_paths_without_credentials() -> None:
    assert redact_url("rediss://cache:6380/2?db=2&ssl_cert_reqs=none&token=abc") == \
        "rediss://cache:6380/2?db=2&ssl_cert_reqs=none&token=***"
    assert redact_url("chdb:///srv/tickwise/chdb") == "chdb:///srv/tickwise/chdb"
    assert redact_url("chdb://.tickwise/chdb") == "chdb://.tickwise/chdb"


def test_redact_text_redacts_every_url_and_password_pair_in_a_message() -> None:
    message = ("INSERT at https://reader:Zq9%23xY7k@ch:8443/db failed; retry redis://:Zq9#xY7k@cache/0 "
               "with password=Zq9xY7k and PASSWORD=Zq9xY7k")

    shown = redact_text(message)

    assert "Zq9" not in shown
    assert "https://reader:***@ch:8443/db" in shown and "redis://***" in shown


def test_install_log_redaction_when_a_library_logs_a_url_then_the_log_hides_the_password() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.redaction")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_log_redaction(logger)
        logger.warning("connecting to %s", "redis://cache:6379/0?password=Zq9%23xY7k")
        logger.warning("connecting to https://reader:Zq9/xY7k@ch:8443/db")
    finally:
        logger.removeHandler(handler)

    assert "Zq9" not in stream.getvalue()
    assert stream.getvalue().count("connecting to") == 2
