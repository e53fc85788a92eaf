"""Specifications of the command line as a newcomer meets it, run in-process with Typer's runner.

Every user error is one sentence on stderr and exit code 2; results are on stdout in the asked
``--format``; a bad tick row is skipped and counted (or, with ``--strict``, stops the command at
its line). No test here needs a broker or a ClickHouse: each either fails before one would be used
or runs the backtest, which needs neither.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner, Result

from dataflows.cli import app
from dataflows.config import environment_names

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE_TRADES = REPO_ROOT / "data" / "sample" / "ibm_2013-10-09_trades.csv.gz"
PLUMBING_MODEL = REPO_ROOT / "tests" / "models" / "plumbing"


def tickwise(*args: str, **env: str) -> Result:
    """The CLI with none of the settings' variables set (and none of the state dir's), plus ``env``."""
    cleared: dict[str, str | None] = {name: None for name in environment_names()}
    return CliRunner().invoke(app, list(args), env={**cleared, **env})


def assert_user_error(result: Result, *phrases: str) -> None:
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    message = " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for phrase in phrases:
        assert phrase in message, result.stderr


@pytest.fixture()
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(scope="module")
def bad_trades(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 3,000 trades of the IBM sample with a 1e308 price (line 501, valid CSV that the flow
    rejects), a price 'abc' (line 601), an empty size (line 701) and an extra field (line 801)."""
    import gzip

    lines = gzip.open(SAMPLE_TRADES, "rt").read().splitlines()[:3000]
    for line, column, value in ((501, 2, "1e308"), (601, 2, "abc"), (701, 3, "")):
        fields = lines[line - 1].split(",")
        fields[column] = value
        lines[line - 1] = ",".join(fields)
    lines[800] += ",extra"
    path = tmp_path_factory.mktemp("ticks") / "bad_trades.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_version_when_asked_then_prints_the_package_version() -> None:
    result = tickwise("--version")

    assert result.exit_code == 0
    assert result.stdout.startswith("tickwise ")


def test_config_when_secrets_set_then_prints_every_setting_with_secrets_hidden(state_dir: Path) -> None:
    result = tickwise("config", "--state-dir", str(state_dir), "--format", "json",
                      CLICKHOUSE_URL="https://reader:s3cret-pw@clickhouse:8443/market",
                      KAFKA_SASL_PASSWORD="kafka-s3cret")

    assert result.exit_code == 0, result.output
    rows = {row["variable"]: row for row in orjson.loads(result.stdout)}
    assert "s3cret" not in result.output
    assert rows["CLICKHOUSE_URL"] == {"variable": "CLICKHOUSE_URL", "source": "environment",
                                      "value": "https://reader:***@clickhouse:8443/market"}
    assert rows["KAFKA_SASL_PASSWORD"]["value"] == "***"
    assert rows["TICKWISE_MLFLOW_DIR"]["value"] == str(state_dir / "mlflow")


def test_query_when_no_stack_and_no_data_in_state_dir_then_exits_2_without_creating_a_database(
        state_dir: Path) -> None:
    result = tickwise("query", "SELECT count() FROM signals", "--state-dir", str(state_dir))

    assert_user_error(result, f"no ClickHouse data in {state_dir}", "tickwise demo")
    assert not (state_dir / "chdb").exists()


def test_query_when_state_dir_from_environment_then_uses_it(state_dir: Path) -> None:
    result = tickwise("query", "SELECT 1", TICKWISE_STATE_DIR=str(state_dir))

    assert_user_error(result, f"no ClickHouse data in {state_dir}")


def test_features_when_no_stack_runs_then_exits_2_naming_the_state_dir(state_dir: Path) -> None:
    result = tickwise("features", "IBM", "--state-dir", str(state_dir))

    assert_user_error(result, "no Redis to use", f"tickwise stack up --state-dir {state_dir}")


def test_query_when_format_unknown_then_usage_error_naming_the_choices(state_dir: Path) -> None:
    result = tickwise("query", "SELECT 1", "--format", "xml", "--state-dir", str(state_dir))

    assert result.exit_code == 2
    assert "expected one of table, csv, json, got 'xml'" in " ".join(result.stderr.split())


def test_log_level_when_unknown_then_usage_error_naming_the_levels() -> None:
    result = tickwise("--log-level", "loud", "config")

    assert result.exit_code == 2
    assert "expected one of debug, info, warning, error" in " ".join(result.stderr.split())


def test_produce_when_strict_and_row_bad_then_exits_2_naming_its_line_before_asking_for_kafka(
        bad_trades: Path, state_dir: Path) -> None:
    result = tickwise("produce", "--file", str(bad_trades), "--strict", "--state-dir", str(state_dir))

    assert_user_error(result, "bad_trades.csv line 601: price is not a number: 'abc'")


def test_produce_when_rows_bad_then_warns_with_count_and_lines_then_needs_kafka(
        bad_trades: Path, state_dir: Path) -> None:
    result = tickwise("produce", "--file", str(bad_trades), "--state-dir", str(state_dir))

    assert result.exit_code == 2
    warning, error = result.stderr.strip().splitlines()
    assert warning.startswith("warning: skipped 3 bad row(s) of the tick files (bad_trades.csv line 601: price is "
                              "not a number: 'abc'; bad_trades.csv line 701: size is empty; bad_trades.csv line "
                              "801: expected 5 fields, saw 6)")
    assert error.startswith("error: no Kafka to use")


def test_backtest_when_model_directory_missing_then_exits_2_naming_it(bad_trades: Path, tmp_path: Path) -> None:
    result = tickwise("backtest", "--data", str(bad_trades), "--model", str(tmp_path / "nope"),
                      "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state"))

    assert_user_error(result, "cannot load the model", "does not exist")


def test_backtest_when_rows_bad_and_one_price_1e308_then_skips_counts_and_reports_as_json(
        bad_trades: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = tickwise("backtest", "--data", str(bad_trades), "--model", str(PLUMBING_MODEL), "--out", str(out),
                      "--format", "json", "--state-dir", str(tmp_path / "state"))

    assert result.exit_code == 0, result.output
    headline = orjson.loads(result.stdout)
    assert headline["out"] == str(out) and headline["model_version"].startswith("tw-")
    assert "skipped 3 bad row(s)" in result.stderr
    assert (out / "report.html").is_file()
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["ticks"] == 2999 - 3  # every row but the three bad ones reached the flow


def test_backtest_when_format_csv_then_field_value_rows(bad_trades: Path, tmp_path: Path) -> None:
    result = tickwise("backtest", "--data", str(bad_trades), "--model", str(PLUMBING_MODEL),
                      "--out", str(tmp_path / "out"), "--format", "csv", "--state-dir", str(tmp_path / "state"))

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["field", "value"]
    assert {"signals", "net_pnl", "do_nothing_net_pnl", "out"} <= {row[0] for row in rows[1:]}


@pytest.mark.parametrize("command", [["replay", "--from-start", "--out", "replayed"],
                                     ["backtest", "--from-offsets", "0:0", "--out", "backtested"]])
def test_kafka_commands_when_no_stack_runs_then_exit_2_naming_the_state_dir(command: list[str],
                                                                             state_dir: Path) -> None:
    result = tickwise(*command, "--state-dir", str(state_dir))

    assert_user_error(result, "no Kafka to use", f"tickwise stack up --state-dir {state_dir}")
