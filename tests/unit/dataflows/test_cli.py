"""Specifications of the command line, run as a user runs it: ``python -m dataflows.cli`` in a subprocess.

User errors end with one sentence on stderr, no traceback, and exit code 2 (Typer's own usage
errors exit 2 too). No test here needs a broker: each fails before one would be used.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from dataflows.cli import common
from dataflows.config import environment_names
from dataflows.stack import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE_TRADES = REPO_ROOT / "data" / "sample" / "ibm_2013-10-09_trades.csv.gz"


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def message(self) -> str:
        """stderr with line wrapping undone, for checking what it says."""
        return " ".join(self.stderr.split())


def tickwise(*args: str, state_dir: Path, **env: str) -> CliResult:
    """Run the CLI with a clean environment (no Kafka/Redis/ClickHouse settings) plus ``env``."""
    aliases = environment_names()
    clean = {name: value for name, value in os.environ.items() if name not in aliases}
    done = subprocess.run(
        [sys.executable, "-m", "dataflows.cli", *args, "--state-dir", str(state_dir)],
        cwd=REPO_ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def assert_user_error(result: CliResult, *phrases: str) -> None:
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for phrase in phrases:
        assert phrase in result.message, result.stderr


@pytest.fixture()
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture()
def closed_port() -> int:
    """A loopback port nobody listens on (free_port closes its socket before returning)."""
    return free_port()


def test_produce_when_file_missing_then_exits_2_naming_the_file(tmp_path: Path, state_dir: Path) -> None:
    missing = tmp_path / "missing_ticks.csv"

    result = tickwise("produce", "--file", str(missing), state_dir=state_dir)

    assert_user_error(result, "error:", "missing_ticks.csv", "does not exist")


def test_produce_when_columns_unknown_then_exits_2_naming_the_expected_layouts(
        tmp_path: Path, state_dir: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("time,ticker,last\n1381329000000000000,IBM,180.0\n")

    result = tickwise("produce", "--file", str(odd), state_dir=state_dir)

    assert_user_error(result, "odd.csv", "time,ticker,last", "ts_ns,symbol,price,size,side",
                      "ts_ns,symbol,bid,ask,bid_size,ask_size")


def test_run_when_no_broker_answers_then_exits_2_naming_the_address(state_dir: Path, closed_port: int) -> None:
    bootstrap = f"127.0.0.1:{closed_port}"

    result = tickwise("run", "--until-eof", state_dir=state_dir, KAFKA_BOOTSTRAP=bootstrap)

    assert_user_error(result, f"cannot reach Kafka at {bootstrap}", "tickwise stack up")


def test_run_when_bootstrap_invalid_then_exits_2_naming_the_variable(state_dir: Path) -> None:
    result = tickwise("run", state_dir=state_dir, KAFKA_BOOTSTRAP="broker-without-port")

    assert_user_error(result, "invalid setting KAFKA_BOOTSTRAP", "host:port", "'broker-without-port'")


def test_run_when_trading_state_invalid_then_exits_2_naming_the_variable_and_choices(state_dir: Path) -> None:
    result = tickwise("run", state_dir=state_dir, TICKWISE_RISK_TRADING_STATE="PAUSED")

    assert_user_error(result, "invalid setting TICKWISE_RISK_TRADING_STATE", "'PAUSED'", "ACTIVE", "HALTED")


@pytest.mark.parametrize(("variable", "value"), [("TICKWISE_RISK_MAX_VAR", "-1"), ("TICKWISE_PSI_WINDOW", "5"),
                                                 ("TICKWISE_SOURCE_BATCH_SIZE", "many")])
def test_run_when_section_setting_invalid_then_exits_2_naming_the_variable_in_one_sentence(
        state_dir: Path, variable: str, value: str) -> None:
    result = tickwise("run", state_dir=state_dir, **{variable: value})

    assert_user_error(result, f"invalid setting {variable}", repr(value))
    assert len(result.stderr.strip().splitlines()) == 1


def test_run_when_clickhouse_url_invalid_then_exits_2_without_the_password(state_dir: Path) -> None:
    result = tickwise("run", state_dir=state_dir, CLICKHOUSE_URL="ftp://default:hunter2-s3cr3t@ch.example")

    assert_user_error(result, "invalid setting CLICKHOUSE_URL")
    assert "hunter2-s3cr3t" not in result.stderr + result.stdout


def test_run_when_processes_zero_then_usage_error_exit_2_naming_the_option(state_dir: Path) -> None:
    result = tickwise("run", "--processes", "0", state_dir=state_dir)

    assert_user_error(result, "--processes")


def test_train_when_start_day_invalid_then_exits_2_naming_the_format(tmp_path: Path, state_dir: Path) -> None:
    out = tmp_path / "model"

    result = tickwise("train", "--file", str(SAMPLE_TRADES), "--start", "2013-13-01", "--out", str(out),
                      state_dir=state_dir)

    assert_user_error(result, "YYYY-MM-DD", "'2013-13-01'")
    assert not out.exists()


def test_train_with_events_when_event_features_are_off_then_exits_2_naming_the_setting(tmp_path: Path,
                                                                                      state_dir: Path) -> None:
    out = tmp_path / "model"

    result = tickwise("train", "--file", str(SAMPLE_TRADES), "--events", "--out", str(out), state_dir=state_dir)

    assert_user_error(result, "--events needs TICKWISE_EVENTS")
    assert not out.exists()


def test_stack_status_when_state_dir_empty_then_exits_1_not_running(state_dir: Path) -> None:
    result = tickwise("stack", "status", state_dir=state_dir)

    assert result.code == 1
    assert "not running" in result.message
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["ticks[copy].csv", "ticks[/copy].csv"])
def test_produce_when_file_name_has_brackets_then_message_names_it_verbatim(
        tmp_path: Path, state_dir: Path, name: str) -> None:
    result = tickwise("produce", "--file", str(tmp_path / name), state_dir=state_dir)

    assert_user_error(result, name, "does not exist")


def test_produce_when_message_longer_than_terminal_then_printed_on_one_line(tmp_path: Path, state_dir: Path) -> None:
    missing = tmp_path / ("a_rather_long_directory_name_" * 3) / "missing_ticks.csv"

    result = tickwise("produce", "--file", str(missing), state_dir=state_dir)

    assert result.code == 2
    assert result.stderr.strip() == f"error: tick file {missing} does not exist"


@pytest.mark.parametrize("message", ["[bold]not bold[/bold]", "cannot read /data/ticks[copy]/day.csv", "[/]"])
def test_fail_when_message_has_rich_markup_then_prints_it_literally_and_exits_2(message: str) -> None:
    with common.console.capture() as captured, pytest.raises(typer.Exit) as exited:
        common.fail(message)

    assert exited.value.exit_code == 2
    assert captured.get() == f"error: {message}\n"


def test_recovery_init_when_directory_of_an_older_state_format_then_exits_2_in_one_sentence(tmp_path: Path) -> None:
    from dataflows.runner import init_recovery_dir
    from dataflows.snapshots import MARKER_FILE

    recovery = tmp_path / "recovery"
    init_recovery_dir(recovery, 1)
    (recovery / MARKER_FILE).unlink()  # as every directory written before the state format marker

    done = subprocess.run([sys.executable, "-m", "dataflows.cli", "recovery", "init", str(recovery), "--partitions", "1"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    result = CliResult(done.returncode, done.stdout, done.stderr)

    assert_user_error(result, f"recovery directory {recovery} holds snapshots of an older tickwise",
                      "start with an empty recovery directory")
    assert len(result.stderr.strip().splitlines()) == 1


# --- servers that do not answer: one sentence naming the server (no password), exit 2, within seconds ---------------
# The commands state a 5 s connect timeout; the subprocess limit adds the interpreter's start-up on a busy machine,
# and is far below the minutes MLflow's own retries take.
UNREACHABLE_LIMIT_S = 45


def tickwise_within(limit_s: float, *args: str, **env: str) -> CliResult:
    """``tickwise`` that must end within ``limit_s`` seconds (``subprocess.TimeoutExpired`` otherwise)."""
    aliases = environment_names()
    clean = {name: value for name, value in os.environ.items() if name not in aliases}
    done = subprocess.run([sys.executable, "-m", "dataflows.cli", *args], cwd=REPO_ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=limit_s)
    return CliResult(done.returncode, done.stdout, done.stderr)


def assert_one_sentence(result: CliResult, *phrases: str, secret: str = "s3cret-pw") -> None:
    assert_user_error(result, *phrases)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert secret not in result.stderr + result.stdout


@pytest.mark.parametrize(("command", "variable", "url", "named"), [
    (("query", "SELECT 1"), "CLICKHOUSE_URL", "http://reader:s3cret-pw@127.0.0.1:{port}/market",
     "cannot connect to ClickHouse at http://reader:***@127.0.0.1:{port}/market"),
    (("features", "IBM"), "REDIS_URL", "redis://:s3cret-pw@127.0.0.1:{port}/0",
     "cannot read features from Redis at redis://:***@127.0.0.1:{port}/0"),
], ids=["query-clickhouse", "features-redis"])
def test_reader_when_store_port_closed_then_exits_2_naming_the_server_without_password(
        command: tuple[str, ...], variable: str, url: str, named: str, state_dir: Path, closed_port: int) -> None:
    result = tickwise_within(UNREACHABLE_LIMIT_S, *command, "--state-dir", str(state_dir),
                             **{variable: url.format(port=closed_port)})

    assert_one_sentence(result, named.format(port=closed_port), "timeout 5 s", "Connection refused")


def test_verify_when_kafka_port_closed_then_exits_2_naming_the_broker(state_dir: Path, closed_port: int) -> None:
    bootstrap = f"127.0.0.1:{closed_port}"
    (state_dir / "chdb").mkdir(parents=True)  # an (empty) embedded ClickHouse: only Kafka is missing

    result = tickwise_within(UNREACHABLE_LIMIT_S, "verify", "--state-dir", str(state_dir),
                             KAFKA_BOOTSTRAP=bootstrap, KAFKA_TICKS_TOPIC="ticks")

    assert_one_sentence(result, f"cannot read where 'ticks' ends from Kafka at {bootstrap}", "within 5 s")


def test_models_list_when_tracking_server_port_closed_then_exits_2_within_seconds_naming_it(
        state_dir: Path, closed_port: int) -> None:
    result = tickwise_within(UNREACHABLE_LIMIT_S, "models", "list",
                             MLFLOW_TRACKING_URI=f"http://admin:s3cret-pw@127.0.0.1:{closed_port}",
                             TICKWISE_MLFLOW_DIR=str(state_dir / "mlflow"))

    assert_one_sentence(result, f"cannot reach the MLflow tracking server at 127.0.0.1:{closed_port}",
                        "within 5 s", "Connection refused")


def test_run_when_no_redis_address_given_then_exits_2_instead_of_assuming_localhost(
        stack, state_dir: Path) -> None:
    # A live broker, but neither REDIS_URL nor an embedded stack recorded in the state dir.
    result = tickwise("run", "--until-eof", state_dir=state_dir, KAFKA_BOOTSTRAP=stack.kafka_bootstrap,
                      KAFKA_TICKS_TOPIC=f"no-redis-{os.getpid()}.ticks")

    assert_user_error(result, "no Redis to use: REDIS_URL is not set", "tickwise stack up --state-dir")
    assert len(result.stderr.strip().splitlines()) == 1
