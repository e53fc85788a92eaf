"""ClickHouse's HTTP interface over one chDB data directory, on loopback.

``python -m sinks.clickhouse.service --path DIR --port N`` owns ``DIR`` (chDB allows one process
per data directory) and answers enough of ClickHouse's HTTP protocol for clickhouse-connect:
``GET /ping``, statements in the URL's ``query`` or the body (POST or GET), INSERT data after its
``FORMAT`` clause (compressed as the client's ``Content-Encoding`` says: lz4, zstd, gzip, deflate),
``param_*`` bound parameters, ``database``, ``session_id``, ``default_format`` and per-request
settings, results in any output format chDB has (clickhouse-connect asks for Native), the summary,
query id, format, timezone and display-name headers, and errors as ``X-ClickHouse-Exception-Code``
plus the exception text. So the flow, ``tickwise query|report|verify`` and the user's own clients
reach the history at the same time, through the code path of a real server.

Requests are read in full before the engine's lock is taken, so a slow client holds up others
only while its own statement runs. It binds loopback only and needs no password (it accepts and
ignores the credentials a client sends): anyone who can reach loopback can already read the chDB
directory's owner's files no less than this service can.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import signal
import sys
import threading
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from sinks.clickhouse.engine import ChdbEngine, EngineError, Outcome, split_insert

logger = logging.getLogger(__name__)

DISPLAY_NAME = "tickwise-chdb"
LOOPBACK = "127.0.0.1"
#: How often the main thread closes sessions idle longer than their ``session_timeout``.
IDLE_CHECK_S = 5.0
SESSION_TIMEOUT_S = 60.0
#: URL parameters that steer the HTTP exchange, never settings of the engine.
TRANSPORT_PARAMETERS = frozenset({
    "query", "database", "default_format", "session_id", "session_timeout", "session_check", "query_id", "user",
    "password", "quota_key", "compress", "decompress", "buffer_size", "wait_end_of_query", "client_protocol_version",
    "role", "enable_http_compression", "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    "cancel_http_readonly_queries_on_client_close", "http_zlib_compression_level", "http_native_compression_disable_checksumming_on_decompress",
})


class BadRequest(Exception):
    """The request is not one this service can read (HTTP 400)."""


def decompress(data: bytes, encoding: str) -> bytes:
    """A request body in ``Content-Encoding`` ``encoding`` (clickhouse-connect compresses each block of an
    INSERT as its own lz4 or zstd frame, so concatenated frames are read to the end)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return data
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    if encoding == "zstd":
        from backports import zstd

        return zstd.decompress(data)
    if encoding == "lz4":
        import lz4.frame

        parts, rest = [], data
        while rest:
            decompressor = lz4.frame.LZ4FrameDecompressor()
            parts.append(decompressor.decompress(rest))
            if not decompressor.eof:
                raise BadRequest("the lz4 request body ends inside a frame")
            rest = decompressor.unused_data
        return b"".join(parts)
    raise BadRequest(f"Content-Encoding {encoding!r} is not supported (lz4, zstd, gzip, deflate or none)")


class ClickHouseHandler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection of a client (kept alive between requests, as urllib3 expects)."""

    protocol_version = "HTTP/1.1"
    server_version = DISPLAY_NAME
    server: ClickHouseService
    #: Headers and body leave in one write (flushed after each request) and without Nagle's delay:
    #: otherwise every answer waits out the client's delayed ACK (about 40 ms on Linux).
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        logger.debug("%s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        try:
            body = decompress(self._read_body(), self.headers.get("Content-Encoding", ""))
        except (BadRequest, OSError, ValueError, RuntimeError) as error:  # lz4/zstd/zlib errors are among these
            self._reply_error(400, EngineError(f"Cannot read the request body: {error}", 33))  # CANNOT_READ_ALL_DATA
            return
        path = url.path.rstrip("/")
        parameters = dict(parse_qsl(url.query, keep_blank_values=True))
        if path == "/ping" or (path == "" and "query" not in parameters and not body):
            self._reply(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
            return
        if path != "":
            self._reply_error(404, EngineError(f"There is no handler for {url.path} (only / and /ping)", 0))
            return
        query_id = parameters.get("query_id") or str(uuid.uuid4())
        try:
            outcome = self._execute(parameters, body)
        except EngineError as error:
            self._reply_error(500, error, query_id)
            return
        except BadRequest as error:
            self._reply_error(400, EngineError(str(error), 62), query_id)  # SYNTAX_ERROR
            return
        headers = {"X-ClickHouse-Query-Id": query_id, "X-ClickHouse-Summary": json.dumps(outcome.summary),
                   "Content-Type": "application/octet-stream" if outcome.fmt else "text/plain; charset=UTF-8"}
        if outcome.fmt:
            headers["X-ClickHouse-Format"] = outcome.fmt
        self._reply(200, outcome.body, headers)

    def _execute(self, parameters: dict[str, str], body: bytes) -> Outcome:
        engine = self.server.engine
        session = {"session_id": parameters.get("session_id") or None, "database": parameters.get("database") or None,
                   "settings": {name: value for name, value in parameters.items()
                                if name not in TRANSPORT_PARAMETERS and not name.startswith(("param_", "http_"))}}
        query = parameters.get("query", "")
        text = (query.encode() + b"\n" + body) if query and body else (query.encode() or body)
        insert = split_insert(text)
        if insert is not None:
            return engine.insert(*insert, **session)
        try:
            sql = text.decode()
        except UnicodeDecodeError as error:
            raise BadRequest(f"the statement is not UTF-8 text ({error.reason} at byte {error.start})") from None
        if not sql.strip():
            raise BadRequest("Empty query")
        params = {name[len("param_"):]: value for name, value in parameters.items() if name.startswith("param_")}
        return engine.execute(sql, parameters.get("default_format") or "TabSeparated", params=params, **session)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply_error(self, status: int, error: EngineError, query_id: str = "") -> None:
        headers = {"X-ClickHouse-Exception-Code": str(error.code), "Content-Type": "text/plain; charset=UTF-8"}
        if query_id:
            headers["X-ClickHouse-Query-Id"] = query_id
        self._reply(status, f"{error}\n".encode(), headers)

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("X-ClickHouse-Server-Display-Name", DISPLAY_NAME)
        self.send_header("X-ClickHouse-Timezone", self.server.engine.timezone)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ClickHouseService(ThreadingHTTPServer):
    """The HTTP server: a thread per connection, all of them sharing one ``ChdbEngine``."""

    daemon_threads = True

    def __init__(self, engine: ChdbEngine, port: int, host: str = LOOPBACK) -> None:
        self.engine = engine
        super().__init__((host, port), ClickHouseHandler)


def serve(path: Path, port: int, stop: threading.Event | None = None) -> None:
    """Serve ``path`` on ``127.0.0.1:port`` until ``stop`` is set (SIGTERM/SIGINT set it when this is the
    main thread); idle sessions and the engine are closed on this thread."""
    from dataflows.private_files import make_private_dir

    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    make_private_dir(path, "the ClickHouse history")
    engine = ChdbEngine(str(path.resolve()))
    try:
        server = ClickHouseService(engine, port)
    except BaseException:
        engine.close()
        raise
    thread = threading.Thread(target=server.serve_forever, name="clickhouse-http", daemon=True)
    thread.start()
    logger.info("serving chDB %s (ClickHouse %s) on http://%s:%d", path, engine.version, LOOPBACK,
                server.server_address[1])
    try:
        while not stop.wait(IDLE_CHECK_S):
            engine.close_idle(SESSION_TIMEOUT_S)
    finally:
        server.shutdown()
        server.server_close()
        engine.close()
        logger.info("stopped serving chDB %s", path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sinks.clickhouse.service", description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, required=True, help="chDB data directory (created 0700).")
    parser.add_argument("--port", type=int, required=True, help="Loopback port for ClickHouse's HTTP interface.")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be 1-65535, got {args.port}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.umask(0o077)  # what chDB writes under --path is its owner's alone, like the directory
    try:
        serve(args.path, args.port)
    except OSError as error:
        print(f"error: cannot serve {args.path} on {LOOPBACK}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 2
    except RuntimeError as error:  # chDB's: most often another process has the directory open
        print(f"error: chDB cannot open {args.path} (does another process use it?): {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
