"""Specifications of the CLI's result formats (stdout) and logs (stderr)."""

from __future__ import annotations

import csv
import io
import logging
import os

import numpy as np
import orjson
import pytest

from dataflows.cli.logs import configure_logging
from dataflows.cli.output import clean, iso_time, print_record, print_rows

NOISY = 179.91500000000002
WIDE = ("a_rather_long_column_name",) * 8


def test_clean_when_float_has_arithmetic_noise_then_rounded_to_twelve_digits() -> None:
    assert clean(NOISY) == 179.915
    assert clean(np.float64(0.1 + 0.2)) == 0.3
    assert clean({"x": [NOISY, float("inf")]}) == {"x": [179.915, None]}
    assert clean(1_381_348_799_638_000_123) == 1_381_348_799_638_000_123  # nanosecond ints stay exact


def test_iso_time_when_epoch_ns_then_utc_with_nanoseconds_only_when_there_are_any() -> None:
    assert iso_time(1_381_348_799_638_000_000) == "2013-10-09T19:59:59.638000000Z"
    assert iso_time(1_381_348_799_000_000_000) == "2013-10-09T19:59:59Z"


def test_print_rows_when_csv_then_pandas_reads_the_values_back(capsys: pytest.CaptureFixture[str]) -> None:
    print_rows(("symbol", "price", "tags"), [("IBM", NOISY, ["a", "b"]), ("A,B", None, [])], "csv")

    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["symbol", "price", "tags"], ["IBM", "179.915", '["a","b"]'], ["A,B", "", "[]"]]


def test_print_rows_when_json_then_an_array_of_objects(capsys: pytest.CaptureFixture[str]) -> None:
    print_rows(("symbol", "price"), [("IBM", NOISY)], "json")

    assert orjson.loads(capsys.readouterr().out) == [{"symbol": "IBM", "price": 179.915}]


def test_print_rows_when_table_piped_then_no_cell_is_cut_and_markup_is_literal(
        capsys: pytest.CaptureFixture[str]) -> None:
    value = "[bold]not markup[/] " + "x" * 120

    print_rows(WIDE, [(value,) * len(WIDE)], "table")

    out = capsys.readouterr().out
    assert "…" not in out
    assert out.count(value) == len(WIDE)
    assert all(len(line) > 80 for line in out.splitlines()[1:])


def test_print_record_when_json_then_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    print_record({"net_pnl": -3178.2429640000003, "signals": 7}, "json")

    assert orjson.loads(capsys.readouterr().out) == {"net_pnl": -3178.242964, "signals": 7}


def test_configure_logging_when_json_then_one_object_per_record_on_stderr_and_libraries_quiet(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers, root.level
    monkeypatch.setenv("TICKWISE_LOG_LEVEL", "warning")  # restored after the test
    monkeypatch.setenv("TICKWISE_LOG_FORMAT", "plain")
    configure_logging("info", "json", quiet=True)
    # exported, so the flow processes the command starts log the same way into their worker logs
    assert (os.environ["TICKWISE_LOG_LEVEL"], os.environ["TICKWISE_LOG_FORMAT"]) == ("info", "json")
    try:
        logging.getLogger("tickwise.test").info("connecting to %s", "http://user:pw@host:8123/db")
        logging.getLogger("urllib3.connectionpool").warning("Retrying (Retry(total=0)) after connection broken")
    finally:
        root.handlers, root.level = handlers, level

    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.strip().splitlines()
    record = orjson.loads(line)
    assert record["level"] == "info" and record["logger"] == "tickwise.test"
    assert record["message"] == "connecting to http://user:***@host:8123/db"
    assert record["time"].endswith("Z")


def test_cluster_progress_when_endpoints_answer_then_bar_counts_every_process_ticks() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from rich.progress import Progress

    from dataflows.cli.cluster_progress import _poll

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = b'tickwise_ticks_total{outcome="valid"} 40.0\ntickwise_ticks_total{outcome="rejected"} 2.0\n'
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    progress, stop = Progress(disable=True), threading.Event()
    progress.add_task("flow", total=None)
    urls = [f"{url}?process=0", f"{url}?process=1", "http://127.0.0.1:1/metrics"]
    poller = threading.Thread(target=_poll, args=(urls, progress, stop))
    poller.start()
    try:
        for _ in range(50):
            if progress.tasks[0].completed:
                break
            stop.wait(0.1)
    finally:
        stop.set()
        poller.join()
        server.shutdown()

    assert progress.tasks[0].completed == 84  # two processes of 42; the one not answering counts nothing


def test_registry_progress_when_an_in_process_flow_counts_ticks_then_the_bar_shows_them() -> None:
    import threading

    from rich.progress import Progress

    from dataflows.cli.cluster_progress import POLL_S, _poll_registry
    from sinks.metrics import MetricsRegistry

    metrics = MetricsRegistry()
    metrics.ticks.labels(outcome="valid").inc(7)
    metrics.ticks.labels(outcome="rejected").inc(2)
    progress = Progress(disable=True)
    progress.add_task("backtest", total=None)
    stop = threading.Event()
    poller = threading.Thread(target=_poll_registry, args=(metrics.registry, progress, stop))
    poller.start()
    stop.wait(POLL_S * 1.5)
    stop.set()
    poller.join()
    assert progress.tasks[0].completed == 9
