"""``tickwise produce --file`` on raw depth captures: told apart from tick CSVs by content, every message
on the wire in arrival order keyed by symbol, bad lines skipped and counted (``--strict``: exit 2).

The capture is a slice of the shared Binance USD-M file (its REST snapshot is line 14). No test
needs a broker: each stops before one, or reads the messages the command would send.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dataflows.cli import app
from dataflows.cli.data import read_captures
from dataflows.config import environment_names
from dataflows.depthfiles import encode_messages, is_capture
from operators.ingest.validation import ValidationLimits, decode_tick
from operators.messages import BookDelta, BookSnapshot, Quote, SourceRecord, Trade, ValidTick

USDM = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "l2" / "examples_usdm_btcusdt_20240718.gz"
SLICE_LINES = 400
BAD_LINES = (50, 120)


def tickwise(*args: str) -> Result:
    cleared: dict[str, str | None] = {name: None for name in environment_names()}
    return CliRunner().invoke(app, list(args), env=cleared)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with gzip.open(USDM, "rb") as lines:
        head = [next(lines) for _ in range(SLICE_LINES)]
    path = tmp_path_factory.mktemp("l2") / "usdm_slice.gz"
    path.write_bytes(gzip.compress(b"".join(head)))
    return path


@pytest.fixture(scope="module")
def broken(capture: Path) -> Path:
    """The slice with line 50 cut short (no JSON) and line 120 an unknown Binance message."""
    lines = gzip.decompress(capture.read_bytes()).splitlines(keepends=True)
    lines[BAD_LINES[0] - 1] = lines[BAD_LINES[0] - 1][:25] + b"\n"
    lines[BAD_LINES[1] - 1] = b'1721347021281597601 {"stream":"x","data":{"e":"kline","s":"BTCUSDT"}}\n'
    path = capture.with_name("usdm_broken.txt")
    path.write_bytes(b"".join(lines))
    return path


def test_capture_is_told_apart_from_a_tick_csv_by_its_first_line(capture: Path, tmp_path: Path) -> None:
    ticks = tmp_path / "trades.csv"
    ticks.write_text("ts_ns,symbol,price,size,side\n1,IBM,1.0,1,buy\n")

    assert (is_capture(capture), is_capture(ticks), is_capture(tmp_path / "none.gz")) == (True, False, False)


def test_every_message_goes_on_the_wire_in_arrival_order_keyed_by_symbol_and_decodes(capture: Path) -> None:
    items = read_captures([capture], strict=True)
    messages = list(encode_messages(items))

    assert len(messages) == len(items) == SLICE_LINES  # one message per line on Binance
    decoded = [decode_tick(SourceRecord("ticks", 0, offset, key, value), ValidationLimits())
               for offset, (key, value) in enumerate(messages)]
    assert all(type(item) is ValidTick for item in decoded), next(item for item in decoded if type(item) is not ValidTick)
    assert [item.tick for item in decoded] == [item.message for item in items]
    assert {key for key, _ in messages} == {b"BINANCE-USDM:BTCUSDT"}
    kinds = [type(item.tick) for item in decoded]
    assert {BookSnapshot, BookDelta, Quote, Trade} == set(kinds) and kinds.index(BookSnapshot) == 13
    assert [item.line for item in items] == list(range(1, SLICE_LINES + 1))


def test_produce_when_strict_and_a_line_bad_then_exits_2_naming_its_line_before_asking_for_kafka(
        broken: Path, tmp_path: Path) -> None:
    result = tickwise("produce", "--file", str(broken), "--strict", "--state-dir", str(tmp_path / "state"))

    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{broken.name} line {BAD_LINES[0]}:" in " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) == 1


def test_produce_when_lines_bad_then_warns_with_count_and_lines_then_needs_kafka(broken: Path, tmp_path: Path) -> None:
    result = tickwise("produce", "--file", str(broken), "--state-dir", str(tmp_path / "state"))

    assert result.exit_code == 2
    warning, error = result.stderr.strip().splitlines()
    assert warning.startswith(f"warning: skipped 2 bad row(s) of the depth captures ({broken.name} line {BAD_LINES[0]}: ")
    assert f"{broken.name} line {BAD_LINES[1]}: unknown Binance message kind 'kline'" in warning
    assert error.startswith("error: no Kafka to use")


def test_produce_when_captures_and_csvs_mixed_then_one_sentence_and_exit_2(capture: Path, tmp_path: Path) -> None:
    ticks = tmp_path / "trades.csv"
    ticks.write_text("ts_ns,symbol,price,size,side\n1,IBM,1.0,1,buy\n")

    result = tickwise("produce", "--file", str(capture), "--file", str(ticks), "--state-dir", str(tmp_path / "s"))

    assert result.exit_code == 2 and "mixes raw depth captures and tick CSVs" in " ".join(result.stderr.split())
