"""ClickHouse's HTTP interface over chDB (``sinks.clickhouse.service``), tested with clickhouse-connect's own calls.

The service runs as a user runs it, in its own process over a real chDB directory; every test talks
to it through ``clickhouse_connect.get_client(host, port)`` in a database of its own. The last tests
start the embedded stack and run ``tickwise query`` and ``verify`` while this process holds a
session on the same service and inserts.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import clickhouse_connect
import orjson
import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from dataflows.config import environment_names
from dataflows.stack import free_port, start_stack, stop_stack
from operators.messages import Trade, ValidTick
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter, count_all
from sinks.metrics import MetricsRegistry
from tests.integration.test_sinks_clickhouse import EXPECTED, records

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
TS = 1_700_000_000_000_000_000
START = datetime(2024, 3, 1, 14, 30, tzinfo=timezone.utc)
TYPED_TABLE = """CREATE TABLE typed (
    ts DateTime64(9, 'UTC'), price Float64, symbol String, side LowCardinality(String),
    size Nullable(Int32), levels Array(Float64)) ENGINE = MergeTree ORDER BY ts"""


def typed_rows(count: int) -> list[list[object]]:
    return [[START + timedelta(microseconds=7 * i), 100.0 + i / 8, f"SYM{i % 7}", "buy" if i % 2 else "sell",
             None if i % 5 == 0 else i, [float(i), i / 2]] for i in range(count)]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of a service over a fresh chDB directory, in a process of its own."""
    port = free_port()
    log = (tmp_path_factory.mktemp("service") / "service.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "sinks.clickhouse.service", "--path",
                             str(tmp_path_factory.mktemp("chdb")), "--port", str(port)],
                            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as response:
                assert response.read() == b"Ok.\n"
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the service did not answer on port {port} (exit code {proc.poll()})")
            time.sleep(0.1)
    yield port
    proc.terminate()
    assert proc.wait(timeout=30) == 0  # a clean shutdown closes chDB on the main thread
    log.close()


@pytest.fixture()
def database(service: int) -> str:
    name = f"db_{uuid.uuid4().hex[:10]}"
    admin = clickhouse_connect.get_client(host="127.0.0.1", port=service)
    admin.command(f"CREATE DATABASE {name}")
    admin.close()
    return name


def connect(port: int, database: str, **options: object) -> Client:
    return clickhouse_connect.get_client(host="127.0.0.1", port=port, username="default", password="anything",
                                         database=database, **options)


@pytest.fixture()
def client(service: int, database: str) -> Iterator[Client]:
    client = connect(service, database)
    yield client
    client.close()


def test_ping_when_service_runs_then_true_and_the_server_says_what_it_is(client: Client) -> None:
    assert client.ping()
    assert client.server_version.count(".") >= 2  # chDB's ClickHouse version, e.g. 26.9.2.1
    assert client.command("SELECT currentDatabase()") == client.database


def test_command_when_ddl_then_summary_and_when_select_then_its_value(client: Client) -> None:
    created = client.command("CREATE TABLE numbers (n UInt64) ENGINE = MergeTree ORDER BY n")
    client.command("INSERT INTO numbers SELECT number FROM system.numbers LIMIT 10")

    assert not isinstance(created, (str, int))  # a QuerySummary: no result set
    assert client.command("SELECT sum(n), count() FROM numbers") == ["45", "10"]
    assert client.command("SELECT n FROM numbers WHERE n > 100") == ""  # an empty result set


def test_query_when_typed_columns_then_python_values_of_their_types(client: Client) -> None:
    client.command(TYPED_TABLE)
    rows = typed_rows(3)
    client.insert("typed", rows)

    result = client.query("SELECT * FROM typed ORDER BY ts")

    assert result.column_names == ("ts", "price", "symbol", "side", "size", "levels")
    assert [type_.name for type_ in result.column_types] == [
        "DateTime64(9, 'UTC')", "Float64", "String", "LowCardinality(String)", "Nullable(Int32)", "Array(Float64)"]
    assert [[row[0].replace(tzinfo=timezone.utc), *row[1:]] for row in result.result_rows] == rows


def test_query_df_and_query_arrow_when_typed_columns_then_frames_of_them(client: Client) -> None:
    client.command(TYPED_TABLE)
    client.insert("typed", typed_rows(100))

    frame = client.query_df("SELECT ts, price, symbol, size FROM typed ORDER BY ts")
    arrow = client.query_arrow("SELECT price, side FROM typed ORDER BY ts")

    assert len(frame) == 100 and frame["price"].iloc[8] == 101.0 and frame["size"].isna().sum() == 20
    assert arrow.num_rows == 100 and arrow.column("side").to_pylist()[:2] == ["sell", "buy"]


@pytest.mark.parametrize("compress", [True, "zstd", "gzip", False])
def test_insert_when_thousands_of_rows_then_all_read_back(service: int, database: str, compress: object) -> None:
    client = connect(service, database, compress=compress)
    client.command(TYPED_TABLE)
    rows = typed_rows(5_000)

    summary = client.insert("typed", rows)
    back = client.query("SELECT * FROM typed ORDER BY ts").result_rows
    client.close()

    assert summary.written_rows == 5_000
    assert [[row[0].replace(tzinfo=timezone.utc), *row[1:]] for row in back] == rows


def test_query_when_bound_parameters_then_the_server_binds_them(client: Client) -> None:
    result = client.query("SELECT {word:String} AS word, {n:Int32} + 1 AS next", parameters={"word": "d'été", "n": 41})

    assert result.result_rows == [("d'été", 42)]


def test_query_when_bad_sql_then_database_error_with_clickhouse_code_and_text(client: Client) -> None:
    with pytest.raises(DatabaseError) as syntax:
        client.query("SELEC 1")
    with pytest.raises(DatabaseError) as missing:
        client.command("SELECT * FROM no_such_table")

    assert syntax.value.code == 62 and "Syntax error" in str(syntax.value)
    assert missing.value.code == 60 and "no_such_table" in str(missing.value)
    assert client.command("SELECT 1") == 1  # the service carries on


def test_insert_when_rows_do_not_fit_the_table_then_database_error_and_nothing_written(client: Client) -> None:
    client.command("CREATE TABLE strict (n UInt8) ENGINE = MergeTree ORDER BY n")

    with pytest.raises(DatabaseError):
        client.raw_insert("strict", ["n"], "1\nnot a number\n", fmt="TabSeparated")

    assert client.command("SELECT count() FROM strict") == 0


def test_settings_when_one_session_sets_then_other_sessions_keep_theirs(service: int, database: str) -> None:
    first, second = connect(service, database), connect(service, database)
    first.command("SET max_threads = 1")

    def max_threads(client: Client) -> str:
        return str(client.command("SELECT value FROM system.settings WHERE name = 'max_threads'"))

    assert max_threads(first) == "1"
    assert max_threads(second) != "1"
    assert second.query("SELECT getSetting('max_threads')", settings={"max_threads": 3}).result_rows == [(3,)]
    assert max_threads(second) != "3"  # a per-request setting lasts one request
    first.close()
    second.close()


def test_clients_when_one_inserts_while_another_queries_then_both_succeed(service: int, database: str) -> None:
    writer, reader = connect(service, database), connect(service, database)
    writer.command(TYPED_TABLE)
    batches, batch_rows = 20, 1_000
    seen: list[int] = []
    errors: list[BaseException] = []

    def insert() -> None:
        try:
            for _ in range(batches):
                writer.insert("typed", typed_rows(batch_rows))
        except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)

    thread = threading.Thread(target=insert)
    thread.start()
    while thread.is_alive():
        seen.append(int(reader.command("SELECT count() FROM typed")))
    thread.join()

    assert errors == []
    assert seen == sorted(seen) and len(seen) > 1  # queries answered while inserts went on
    assert reader.command("SELECT count() FROM typed") == batches * batch_rows
    writer.close()
    reader.close()


def tick_records(count: int) -> list[ValidTick]:
    return [ValidTick(Trade("IBM", TS + i, 150.0 + i, 10.0, "buy"), "ticks", 0, i) for i in range(count)]


def test_writer_when_url_is_the_service_then_schema_and_every_table_go_through_http(
        service: int, database: str) -> None:
    writer = ClickHouseWriter(ClickHouseSettings(f"http://127.0.0.1:{service}/{database}", batch_rows=64),
                              MetricsRegistry())
    writer.connect()
    writer.ensure_schema()
    writer.ensure_schema()  # migrations are idempotent over HTTP too

    writer.write(records())  # every record type: Arrow (ticks) and Native inserts, arrays, maps, NaN
    writer.write(records())  # written twice, as a recovery replays a batch: FINAL keeps one row per id

    assert count_all(writer.client) == EXPECTED
    assert writer.client.command("SELECT count() FROM features FINAL WHERE isNaN(values[2])") == 3
    writer.close()


# -- the CLI while another process holds the service ------------------------------------------------


def tickwise(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: settings from the running stack, none from this environment."""
    import os

    clean = {name: value for name, value in os.environ.items() if name not in environment_names()}
    return subprocess.run([sys.executable, "-m", "dataflows.cli", *args, "--state-dir", str(state_dir)],
                          cwd=REPO_ROOT, env=clean, capture_output=True, text=True, timeout=120)


def test_cli_when_stack_serves_clickhouse_then_query_and_verify_run_while_a_writer_inserts(tmp_path: Path) -> None:
    state_dir = tmp_path / "stack"
    info = start_stack(state_dir)
    try:
        assert info.clickhouse_url.startswith("http://127.0.0.1:")
        admin = AdminClient({"bootstrap.servers": info.kafka_bootstrap})
        admin.create_topics([NewTopic("ticks", 1, 1)])["ticks"].result(timeout=10)
        producer = Producer({"bootstrap.servers": info.kafka_bootstrap})
        for offset in range(500):  # verify reads where the topic ends from Kafka: offsets 0..499
            producer.produce("ticks", value=b"{}", partition=0)
        assert producer.flush(10) == 0
        writer = ClickHouseWriter(ClickHouseSettings(info.clickhouse_url), MetricsRegistry())
        writer.connect()
        writer.ensure_schema()
        writer.write(tick_records(500))
        stop = threading.Event()

        def keep_inserting() -> None:  # this process holds its session and writes throughout
            while not stop.wait(0.05):
                writer.client.insert("typed_side", [[1]], column_names=["n"])

        writer.client.command("CREATE TABLE typed_side (n UInt8) ENGINE = MergeTree ORDER BY n")
        thread = threading.Thread(target=keep_inserting)
        thread.start()
        try:
            queried = tickwise(state_dir, "query", "SELECT count() AS n, max(offset) AS last FROM ticks FINAL")
            verified = tickwise(state_dir, "verify", "--topic", "ticks")
        finally:
            stop.set()
            thread.join()
        writer.close()
    finally:
        stop_stack(state_dir)

    assert queried.returncode == 0, queried.stderr
    assert "500" in queried.stdout and "499" in queried.stdout
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = orjson.loads(verified.stdout.strip().splitlines()[-1])
    assert report["ok"] is True
