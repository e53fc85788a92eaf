"""One chDB data directory, shared by many callers one statement at a time (``service`` serves it).

chDB hosts one engine per process and is not safe for concurrent statements, so every call takes
one lock. Each ClickHouse session (``session_id``) gets a connection handle of its own to that
engine, so its ``USE`` and ``SET`` stay its own as on a server; statements without a session share
one handle. Statements arrive as text, INSERTs with their data apart (``split_insert``), which
chDB's streaming insert takes in any input format (Native, RowBinary, Arrow, CSV, ...).

>>> split_insert(b"INSERT INTO ticks (a, b) FORMAT Native\\n\\x01\\x02")
('INSERT INTO ticks (a, b)', 'Native', b'\\x01\\x02')
>>> split_insert(b"SELECT 1 FORMAT Native") is None
True
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

#: An INSERT whose data follows its FORMAT clause, in the request body or after the URL's query.
_INSERT_WITH_DATA = re.compile(rb"\A\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)[ \t]*(?:\r?\n|\Z)", re.I | re.S)
_TRAILING_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*\Z", re.I)
_ERROR_CODE = re.compile(r"Code: (\d+)\.")
_SETTING_NAME = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
_HEAD_LIMIT = 1 << 16  # an INSERT's statement is looked for in the first 64 KiB

#: ClickHouse's code for an exception that carries none of its own (STD_EXCEPTION).
UNKNOWN_ERROR_CODE = 1001


class EngineError(Exception):
    """A statement failed; ``code`` is ClickHouse's error code, the message its text."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Outcome:
    """What a statement returned: its output (``fmt`` None: it produced no result set) and summary."""

    body: bytes = b""
    fmt: str | None = None
    summary: dict[str, str] = field(default_factory=dict)


def split_insert(text: bytes) -> tuple[str, str, bytes] | None:
    """``(INSERT head, format, data)`` of an INSERT whose data follows ``FORMAT name``; None otherwise."""
    match = _INSERT_WITH_DATA.match(text[:_HEAD_LIMIT])
    if match is None:
        return None
    return match.group(1).decode(), match.group(2).decode(), text[match.end():]


def engine_error(error: BaseException) -> EngineError:
    """The ClickHouse text and code of a chDB exception (its wrappers' prefixes dropped)."""
    message = str(error).strip()
    start = message.find("Code: ")
    if start > 0:
        message = message[start:]
    code = _ERROR_CODE.search(message)
    return EngineError(message or type(error).__name__, int(code.group(1)) if code else UNKNOWN_ERROR_CODE)


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _Session:
    """A chDB handle with its ``USE`` and the per-request settings now applied to it."""

    __slots__ = ("connection", "database", "used", "applied", "previous")

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.database: str | None = None
        self.used = time.monotonic()
        self.applied: dict[str, str] = {}  # per-request settings in force on the handle
        self.previous: dict[str, tuple[str, bool]] = {}  # their values before, (value, changed)

    def use_settings(self, settings: Mapping[str, str]) -> None:
        """Make ``settings`` the per-request settings in force: those of the last request are put back
        first. A client sends the same ones with every request, so they usually stay as they are."""
        if settings == self.applied:
            return
        self._restore()
        if not settings:
            return
        for name in settings:
            if not _SETTING_NAME.match(name):
                raise EngineError(f"Setting name {name!r} is not an identifier", 115)  # UNKNOWN_SETTING
        names = ", ".join(_quoted(name) for name in settings)
        try:
            rows = self.connection.query(f"SELECT name, value, changed FROM system.settings WHERE name IN ({names})",
                                         "TabSeparated").bytes().decode().splitlines()
            known = {name: (value, changed == "1") for name, value, changed in (row.split("\t") for row in rows)}
            for name, value in settings.items():
                self.previous[name] = known.get(name, ("", False))
                self.connection.query(f"SET {name} = {_quoted(value)}", "TabSeparated")
                self.applied[name] = value
        except Exception as error:
            self._restore()
            raise engine_error(error) from None

    def _restore(self) -> None:
        for name, (value, changed) in self.previous.items():
            try:
                self.connection.query(f"SET {name} = {_quoted(value) if changed else 'DEFAULT'}", "TabSeparated")
            except Exception:  # a setting that never took: nothing to restore
                logger.debug("could not restore setting %s", name, exc_info=True)
        self.applied, self.previous = {}, {}


class ChdbEngine:
    """The chDB engine of one data directory; ``execute`` and ``insert`` run one at a time."""

    def __init__(self, path: str) -> None:
        import chdb

        self.path = path
        self._connect = chdb.connect
        self._lock = threading.Lock()
        self._shared = _Session(chdb.connect(path))
        self._sessions: dict[str, _Session] = {}
        version, _, zone = self._shared.connection.query("SELECT version(), timezone()", "TabSeparated") \
            .bytes().decode().strip().partition("\t")
        self.version, self.timezone = version, zone

    def execute(self, sql: str, default_format: str, session_id: str | None = None, database: str | None = None,
                settings: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None) -> Outcome:
        """Run one statement. Its own FORMAT clause decides its output, else ``default_format``; as on a
        server, a statement that produces no result set answers ``fmt`` None."""
        embedded = _TRAILING_FORMAT.search(sql)
        # Without a FORMAT clause, names tell a result set (even an empty one) from a statement without one.
        probe = embedded is None and default_format in ("TabSeparated", "TSV")
        with self._lock:
            session = self._session(session_id, database)
            session.use_settings(settings or {})
            try:
                result = session.connection.query(sql, "TabSeparatedWithNames" if probe else default_format,
                                                  params=dict(params or {}))
            except Exception as error:
                raise engine_error(error) from None
        body = result.bytes() or b""
        summary = _summary(result)
        if probe:
            if not body:
                return Outcome(summary=summary)
            return Outcome(body[body.find(b"\n") + 1:], "TabSeparated", summary)
        return Outcome(body, embedded.group(1) if embedded else default_format, summary)

    def insert(self, head: str, fmt: str, data: bytes, session_id: str | None = None,
               database: str | None = None, settings: Mapping[str, str] | None = None) -> Outcome:
        """``head`` (``INSERT INTO table (columns)``) with ``data`` in input format ``fmt``."""
        with self._lock:
            session = self._session(session_id, database)
            session.use_settings(settings or {})
            try:
                with session.connection.send_insert(head, fmt) as inserter:
                    if data:
                        inserter.append(data)
                    result = inserter.finish()
            except Exception as error:
                raise engine_error(error) from None
        return Outcome(summary={"written_rows": str(result.rows_written), "written_bytes": str(result.bytes_written),
                                "elapsed_ns": str(int(result.elapsed * 1e9))})

    def close_idle(self, idle_s: float) -> int:
        """Close the sessions unused for ``idle_s`` seconds; how many. Call it from the main thread:
        chDB can hang closing a handle on another thread."""
        now = time.monotonic()
        with self._lock:
            idle = [key for key, session in self._sessions.items() if now - session.used >= idle_s]
            for key in idle:
                self._sessions.pop(key).connection.close()
        return len(idle)

    def close(self) -> None:
        """Close every handle, the engine last (main thread, as ``close_idle``)."""
        self.close_idle(0.0)
        with self._lock:
            self._shared.connection.close()

    def _session(self, session_id: str | None, database: str | None) -> _Session:
        if not session_id:
            session = self._shared
        elif session_id in self._sessions:
            session = self._sessions[session_id]
        else:
            session = self._sessions[session_id] = _Session(self._connect(self.path))
        session.used = time.monotonic()
        if database and database != session.database:
            try:
                session.connection.query(f"USE `{database.replace('`', '``')}`", "TabSeparated")
            except Exception as error:
                raise engine_error(error) from None
            session.database = database
        return session


def _summary(result: Any) -> dict[str, str]:
    """The statistics of a chDB result, as the strings of ClickHouse's ``X-ClickHouse-Summary``."""
    try:
        return {"read_rows": str(result.rows_read()), "read_bytes": str(result.bytes_read()),
                "elapsed_ns": str(int(result.elapsed() * 1e9))}
    except Exception:  # a result without statistics (chDB versions differ)
        return {}
