"""``tickwise book check`` on a real capture: a table and one JSON line; bad files are one sentence, exit 2."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from dataflows.cli.app import app

CAPTURE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "l2" / "examples_cm_btcusd_perp_20240808.gz"


def test_check_prints_a_table_then_one_json_line_with_the_figures() -> None:
    result = CliRunner().invoke(app, ["book", "check", "--file", str(CAPTURE)])
    assert result.exit_code == 0, result.output
    *table, last = result.stdout.strip().splitlines()
    assert any("BINANCE-COINM:BTCUSD_PERP" in line for line in table)
    [summary] = orjson.loads(last)["symbols"]
    assert summary["compared"] > 1_000 and summary["matched"] == summary["compared"] and summary["gaps"] == 0


def test_check_json_is_one_object_and_csv_has_no_json(tmp_path: Path) -> None:
    as_json = CliRunner().invoke(app, ["book", "check", "--file", str(CAPTURE), "--format", "json", "--max-levels", "50"])
    assert as_json.exit_code == 0 and orjson.loads(as_json.stdout)["symbols"][0]["symbol"] == "BINANCE-COINM:BTCUSD_PERP"
    as_csv = CliRunner().invoke(app, ["book", "check", "--file", str(CAPTURE), "--format", "csv"])
    assert as_csv.stdout.splitlines()[0].startswith("symbol,snapshot,delta") and "{\"files\"" not in as_csv.stdout


def test_a_missing_or_foreign_file_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["book", "check", "--file", str(tmp_path / "none.gz")])
    assert missing.exit_code == 2 and missing.stderr.strip() == f"error: capture file {tmp_path / 'none.gz'} does not exist"
    foreign = tmp_path / "ticks.csv"
    foreign.write_text("ts_ns,symbol\n")
    result = CliRunner().invoke(app, ["book", "check", "--file", str(foreign)])
    assert result.exit_code == 2 and "is not a Binance or Hyperliquid depth capture" in result.stderr
    assert "Traceback" not in result.output
