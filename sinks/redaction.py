"""Connection URLs: parsed strictly once, shown only redacted.

Every URL tickwise accepts (``CLICKHOUSE_URL``: ``chdb://``, ``http://``, ``https://``;
``REDIS_URL``: ``redis://``, ``rediss://``, ``unix://``) is parsed by its client with the
rules of ``urllib.parse``. A password holding an unencoded ``#``, ``/`` or ``?`` makes those
rules split it into the host, path, query or fragment, where no redactor looks for it, so
``parse_url`` refuses such a URL (and whitespace, control characters, an ``@`` after the host,
a port that is not a number) with one sentence that never contains the URL. ``redact_url``
shows the user name, host, port, path and the query keys of any URL; the password, a
user name given without a password and every query value that is not known to be harmless
become ``***``; a URL it cannot parse shows only its scheme. ``redact_text`` does this to
every URL in a message, and hides ``password=...`` pairs outside URLs.

>>> redact_url("https://reader:hunter2@ch.internal:8443/market")
'https://reader:***@ch.internal:8443/market'
>>> redact_url("redis://cache:6379/0?password=hunter2&db=1")
'redis://cache:6379/0?password=***&db=1'
>>> redact_url("https://reader:p#ss?w/rd@ch.internal/market")
'https://***'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

MASK = "***"
# Query parameters whose values are shown; every other value may be a secret.
HARMLESS_QUERY_KEYS = frozenset({
    "db", "database", "ssl", "secure", "ssl_cert_reqs", "ssl_check_hostname", "protocol", "timeout",
    "socket_timeout", "socket_connect_timeout", "connect_timeout", "health_check_interval", "compress",
    "decode_responses", "client_name", "encoding",
})
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*")
_SECRET_PAIR_IN_TEXT = re.compile(r"(?i)\b((?:password|passwd|pwd|secret|token)=)([^\s&'\",;]+)")
_ENCODE = ("percent-encode '#', '/', '?', '@', spaces and control characters in the user name and password "
           "(such as %23 for '#')")


class UnsafeUrl(ValueError):
    """A URL that cannot be parsed without doubt; the message never contains the URL."""


@dataclass(frozen=True)
class ConnectionUrl:
    """The parts of a connection URL as written (percent-encoded, never decoded here)."""

    scheme: str
    username: str | None
    password: str | None
    host_port: str
    path: str
    query: str

    def redacted(self) -> str:
        """The URL with its password, a lone user name and the query values that may be secret as ``***``."""
        if self.password is not None:
            userinfo = f"{self.username}:{MASK}@"
        elif self.username is not None:
            userinfo = f"{MASK}@"
        else:
            userinfo = ""
        query = f"?{_redacted_query(self.query)}" if self.query else ""
        return f"{self.scheme}://{userinfo}{self.host_port}{self.path}{query}"


def _redacted_query(query: str) -> str:
    pieces = []
    for piece in query.split("&"):
        key, equals, _ = piece.partition("=")
        if unquote(key).strip().lower() in HARMLESS_QUERY_KEYS:
            pieces.append(piece)
        else:
            pieces.append(f"{key}={MASK}" if equals else MASK)
    return "&".join(pieces)


def parse_url(url: str, schemes: Collection[str] = ()) -> ConnectionUrl:
    """``url`` split as its client will split it, or ``UnsafeUrl`` when that could be in doubt.

    ``schemes``: the schemes allowed (any when empty). The error message names what was
    expected, never the URL.
    """
    scheme, separator, _ = url.partition("://")
    if not separator or not _SCHEME.fullmatch(scheme):
        raise UnsafeUrl("expected a URL that starts with scheme://")
    if schemes and scheme.lower() not in schemes:
        raise UnsafeUrl(f"expected a {', '.join(f'{name}://' for name in schemes)} URL")
    if "#" in url or any(character.isspace() or ord(character) < 32 or ord(character) == 127 for character in url):
        raise UnsafeUrl(f"the URL cannot be parsed without doubt: {_ENCODE}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise UnsafeUrl(f"the URL cannot be parsed without doubt: {_ENCODE}") from None
    if "@" in parts.path or "@" in parts.query:
        raise UnsafeUrl(f"the URL cannot be parsed without doubt: {_ENCODE}")
    userinfo, at, host_port = parts.netloc.rpartition("@")
    username = password = None
    if at:
        username, colon, secret = userinfo.partition(":")
        password = secret if colon else None
    return ConnectionUrl(scheme, username, password, host_port, parts.path, parts.query)


def redact_url(url: str) -> str:
    """``url`` with every secret part as ``***``; only ``scheme://***`` when it cannot be parsed."""
    try:
        return parse_url(url).redacted()
    except UnsafeUrl:
        scheme = url.partition("://")[0]
        return f"{scheme}://{MASK}" if _SCHEME.fullmatch(scheme) else MASK


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted and ``password=...`` pairs (and the like) hidden."""
    text = _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
    return _SECRET_PAIR_IN_TEXT.sub(lambda match: match.group(1) + MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts URLs and ``password=`` pairs in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add a ``RedactingFilter`` to every handler of ``logger`` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())
