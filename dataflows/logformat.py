"""How tickwise logs, in the CLI and in every flow process: level, plain or JSON lines, quiet libraries.

The CLI's ``--log-level``/``--log-format`` (``TICKWISE_LOG_LEVEL``/``TICKWISE_LOG_FORMAT``) are
exported to the environment, so the flow processes a command starts log at the same level and in
the same format into their worker logs.

>>> import io
>>> stream = io.StringIO()
>>> configure_root(logging.StreamHandler(stream), "warning", "json")
>>> logging.getLogger("tickwise.example").warning("sink %s slow", "redis")
>>> logging.getLogger("tickwise.example").info("not shown")
>>> sorted(orjson.loads(stream.getvalue()))
['level', 'logger', 'message', 'time']
"""

from __future__ import annotations

import logging
import time

import orjson

from sinks.redaction import install_log_redaction

__all__ = ["CHATTY_LOGGERS", "JsonFormatter", "LOG_FORMATS", "LOG_LEVELS", "PLAIN_FORMAT", "configure_root"]

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("plain", "json")
#: Libraries whose INFO and WARNING lines are noise to a user (store migrations, per-request retries).
CHATTY_LOGGERS = ("mlflow", "alembic", "urllib3", "clickhouse_connect", "kafka")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _quiet_libraries(record: logging.LogRecord) -> bool:
    """Drop a chatty library's records below ERROR."""
    return record.levelno >= logging.ERROR or not record.name.startswith(CHATTY_LOGGERS)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def configure_root(handler: logging.Handler, level: str, fmt: str) -> None:
    """Make ``handler`` the root logger's only handler, at ``level``, in ``fmt``, secrets redacted."""
    if level not in LOG_LEVELS or fmt not in LOG_FORMATS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)} and format one of "
                         f"{', '.join(LOG_FORMATS)}, got {level!r} and {fmt!r}")
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(PLAIN_FORMAT)
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    install_log_redaction(root)
    if level != "debug":  # a filter, not a level: some of them reset their own level when imported
        handler.addFilter(_quiet_libraries)
