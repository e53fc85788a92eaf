"""The HTTP side of the ClickHouse service on a real loopback socket, over a fake engine that records what
reaches it (the real chDB engine is tested in tests/integration/test_clickhouse_service.py)."""

from __future__ import annotations

import gzip
import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import lz4.frame
import pytest
from backports import zstd

from sinks.clickhouse.engine import EngineError, Outcome, engine_error, split_insert
from sinks.clickhouse.service import BadRequest, ClickHouseService, decompress


class FakeEngine:
    """Records each call; ``fail`` makes the next one raise it."""

    timezone = "UTC"

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.fail: EngineError | None = None

    def execute(self, *args: Any, **kwargs: Any) -> Outcome:
        return self._call("execute", args, kwargs, Outcome(b"1\n", "TabSeparated", {"read_rows": "1"}))

    def insert(self, *args: Any, **kwargs: Any) -> Outcome:
        return self._call("insert", args, kwargs, Outcome(summary={"written_rows": "2"}))

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], outcome: Outcome) -> Outcome:
        self.calls.append((name, args, kwargs))
        if self.fail is not None:
            raise self.fail
        return outcome


@pytest.fixture()
def served() -> Iterator[tuple[FakeEngine, int]]:
    engine = FakeEngine()
    server = ClickHouseService(engine, 0)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield engine, server.server_address[1]
    server.shutdown()
    server.server_close()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(method, path, body=body, headers=headers or {})
    return connection.getresponse()


def test_split_insert_when_data_follows_the_format_then_head_format_and_bytes() -> None:
    assert split_insert(b"INSERT INTO t (`a`, `b`) FORMAT Native\n\x00\n\x01") == ("INSERT INTO t (`a`, `b`)", "Native",
                                                                                   b"\x00\n\x01")
    assert split_insert(b"  insert into db.t format CSV\r\n1,2\n") == ("insert into db.t", "CSV", b"1,2\n")
    assert split_insert(b"INSERT INTO t FORMAT TabSeparated") == ("INSERT INTO t", "TabSeparated", b"")


def test_split_insert_when_not_an_insert_with_data_then_none() -> None:
    assert split_insert(b"SELECT * FROM t FORMAT Native") is None
    assert split_insert(b"INSERT INTO t SELECT 1") is None
    assert split_insert(b"INSERT INTO t VALUES (1)") is None


def test_decompress_when_concatenated_lz4_frames_then_all_of_them() -> None:
    body = lz4.frame.compress(b"first block ") + lz4.frame.compress(b"second block")

    assert decompress(body, "lz4") == b"first block second block"


def test_decompress_when_zstd_gzip_or_none_then_the_original_bytes() -> None:
    assert decompress(zstd.compress(b"abc") + zstd.compress(b"def"), "zstd") == b"abcdef"
    assert decompress(gzip.compress(b"abc"), "gzip") == b"abc"
    assert decompress(b"abc", "") == b"abc"


def test_decompress_when_truncated_lz4_or_unknown_encoding_then_bad_request() -> None:
    with pytest.raises(BadRequest, match="inside a frame"):
        decompress(lz4.frame.compress(b"x" * 1000)[:-6], "lz4")
    with pytest.raises(BadRequest, match="'br' is not supported"):
        decompress(b"abc", "br")


def test_engine_error_when_chdb_wraps_the_message_then_clickhouse_code_and_text() -> None:
    error = engine_error(RuntimeError("Streaming insert append failed: Code: 27. DB::Exception: Cannot parse. "
                                      "(CANNOT_PARSE_INPUT_ASSERTION_FAILED)"))

    assert error.code == 27
    assert str(error).startswith("Code: 27. DB::Exception: Cannot parse.")
    assert engine_error(RuntimeError("no code here")).code == 1001


def test_ping_when_get_then_ok(served: tuple[FakeEngine, int]) -> None:
    engine, port = served

    for path in ("/ping", "/"):
        response = request(port, "GET", path)
        assert (response.status, response.read()) == (200, b"Ok.\n")
    assert engine.calls == []


def test_query_when_in_the_body_then_engine_gets_sql_settings_params_and_session(served: tuple[FakeEngine, int]) -> None:
    engine, port = served

    response = request(port, "POST", "/?database=market&session_id=s1&default_format=JSON&param_x=7&max_threads=2"
                       "&send_progress_in_http_headers=1&query_id=q1", body=b"SELECT {x:UInt8}")

    assert response.status == 200 and response.read() == b"1\n"
    assert response.getheader("X-ClickHouse-Format") == "TabSeparated"
    assert response.getheader("X-ClickHouse-Query-Id") == "q1"
    assert response.getheader("X-ClickHouse-Timezone") == "UTC"
    assert json.loads(response.getheader("X-ClickHouse-Summary") or "") == {"read_rows": "1"}
    assert engine.calls == [("execute", ("SELECT {x:UInt8}", "JSON"),
                             {"params": {"x": "7"}, "session_id": "s1", "database": "market",
                              "settings": {"max_threads": "2"}})]


def test_insert_when_chunked_and_lz4_then_engine_gets_head_format_and_data(served: tuple[FakeEngine, int]) -> None:
    engine, port = served
    body = lz4.frame.compress(b"INSERT INTO t (a) FORMAT Native\n\x01\x02") + lz4.frame.compress(b"\x03")

    def chunks() -> Iterator[bytes]:
        yield body[:7]
        yield body[7:]

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("POST", "/", body=chunks(), headers={"Content-Encoding": "lz4"}, encode_chunked=True)
    response = connection.getresponse()

    assert response.status == 200, response.read()
    assert response.getheader("X-ClickHouse-Format") is None  # no result set
    assert engine.calls == [("insert", ("INSERT INTO t (a)", "Native", b"\x01\x02\x03"),
                             {"session_id": None, "database": None, "settings": {}})]


def test_insert_when_statement_in_url_and_data_in_body_then_both_reach_the_engine(
        served: tuple[FakeEngine, int]) -> None:
    engine, port = served

    response = request(port, "POST", "/?query=INSERT%20INTO%20t%20FORMAT%20CSV", body=b"1,2\n")

    assert response.status == 200, response.read()
    assert engine.calls[0][1] == ("INSERT INTO t", "CSV", b"1,2\n")


def test_error_when_engine_fails_then_500_with_exception_code_header_and_text(served: tuple[FakeEngine, int]) -> None:
    engine, port = served
    engine.fail = EngineError("Code: 60. DB::Exception: Unknown table. (UNKNOWN_TABLE)", 60)

    response = request(port, "POST", "/", body=b"SELECT * FROM nope")

    assert response.status == 500
    assert response.getheader("X-ClickHouse-Exception-Code") == "60"
    assert response.read() == b"Code: 60. DB::Exception: Unknown table. (UNKNOWN_TABLE)\n"


def test_error_when_empty_query_unknown_path_or_bad_encoding_then_4xx_and_engine_untouched(
        served: tuple[FakeEngine, int]) -> None:
    engine, port = served

    assert request(port, "POST", "/?query=%20").status == 400
    assert request(port, "GET", "/play").status == 404
    bad = request(port, "POST", "/", body=b"x", headers={"Content-Encoding": "br"})
    assert bad.status == 400 and b"not supported" in bad.read()
    assert engine.calls == []
