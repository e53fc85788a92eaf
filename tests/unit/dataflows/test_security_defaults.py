"""Security defaults, checked as a user or an attacker would meet them.

Metrics bind loopback unless configured; the state, log, chDB and recovery directories and the
log files and stack record are private whatever the umask; secrets (also passwords full of URL
separators, in every URL form) never show in ``repr``, error messages, ``stack status`` or the run
summary; and nothing of ours unpickles data from anywhere but the Bytewax recovery store.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import bytewax.operators as op
import orjson
import pytest
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource

from dataflows.config import ConfigError, Settings, environment_names, load_settings
from dataflows.sources import KafkaSourceSettings
from dataflows.stack import StackInfo
from dataflows.summary import RunSummary
from sinks.clickhouse import ClickHouseSettings
from sinks.kafka import KafkaSettings
from sinks.metrics import MetricsRegistry, start_metrics_server
from sinks.redis_store import RedisSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
SECRET = "hunter2-s3cr3t"
# Where unpickling is allowed: restoring our own state from Bytewax's recovery store.
PICKLE_ALLOWED = {"dataflows/snapshots.py"}
#: Unpickling nested inside a recovery snapshot (a part its owner keeps pickled between snapshots,
#: restored by the reconstructor that the envelope's own unpickling calls): the file and the one
#: name its single unpickling line may read.
NESTED_ALLOWED = {"operators/features/symbol.py": "bar_state"}
UNPICKLING = re.compile(r"\b(?:pickle|cPickle|_pickle|cloudpickle|dill|joblib|shelve)\.(?:load|loads|Unpickler|open)\b"
                        r"|\bread_pickle\b|allow_pickle\s*=\s*True|\btorch\.load\b")


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in environment_names():
        monkeypatch.delenv(name, raising=False)


def secret_settings() -> Settings:
    return load_settings(kafka={"sasl_password": SECRET, "sasl_username": "tickwise"},
                         clickhouse={"url": f"https://tickwise:{SECRET}@ch.internal:8443/tickwise"},
                         redis={"url": f"rediss://:{SECRET}@redis.internal:6379/0"})


def test_metrics_when_host_not_configured_then_bind_loopback_only(clean_env: None) -> None:
    assert Settings().metrics.host == "127.0.0.1"

    server, _ = start_metrics_server(0, metrics=MetricsRegistry())
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()


def test_metrics_when_host_configured_then_bind_there(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKWISE_METRICS_HOST", "0.0.0.0")

    assert Settings().metrics.host == "0.0.0.0"


def test_recovery_init_command_creates_a_directory_only_its_owner_can_read(tmp_path: Path) -> None:
    target = tmp_path / "recovery"

    done = subprocess.run([sys.executable, "-m", "dataflows.cli", "recovery", "init", str(target), "--partitions", "2"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert sorted(path.name for path in target.iterdir()) == ["part-0.sqlite3", "part-1.sqlite3",
                                                              "tickwise-state-format"]


def test_secrets_never_appear_in_the_repr_of_settings_or_component_settings(clean_env: None) -> None:
    settings = secret_settings()
    shown = [
        repr(settings), str(settings),
        repr(ClickHouseSettings(settings.clickhouse.url.get_secret_value())),
        repr(RedisSettings(settings.redis.url.get_secret_value())),
        repr(KafkaSettings(settings.kafka.bootstrap, extra=settings.kafka.options())),
        repr(KafkaSourceSettings(settings.kafka.bootstrap, "ticks", extra=settings.kafka.options())),
    ]

    for text in shown:
        assert SECRET not in text, text
    assert settings.kafka.options()["sasl.password"] == SECRET  # still passed to librdkafka


def test_invalid_secret_setting_is_reported_without_its_value(clean_env: None) -> None:
    for section, value in (("clickhouse", f"ftp://u:{SECRET}@h/db"), ("redis", f"http://:{SECRET}@h")):
        with pytest.raises(ConfigError) as caught:
            load_settings(**{section: {"url": value}})
        assert SECRET not in str(caught.value)


def test_run_summary_has_no_field_that_could_carry_a_secret() -> None:
    names = {field.name for field in dataclasses.fields(RunSummary)}

    assert not {name for name in names if re.search(r"url|password|secret|bootstrap", name)}


def test_nothing_of_ours_unpickles_except_the_recovery_store_restore() -> None:
    offenders = []
    for package in ("dataflows", "operators", "models", "sinks", "bench"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT).as_posix()
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if UNPICKLING.search(line) and relative not in PICKLE_ALLOWED and relative not in NESTED_ALLOWED:
                    offenders.append(f"{relative}:{number}: {line.strip()}")

    assert not offenders, "unpickling outside the recovery store restore:\n" + "\n".join(offenders)


def test_the_nested_unpickling_reads_one_part_of_a_snapshot_in_its_reconstructor() -> None:
    for relative, name in NESTED_ALLOWED.items():
        lines = [line.strip() for line in (REPO_ROOT / relative).read_text().splitlines() if UNPICKLING.search(line)]
        assert len(lines) == 1 and f"({name})" in lines[0].replace(" ", ""), (relative, lines)


def test_the_allowed_unpickling_is_the_state_envelope_restoring_bytewax_resume_state() -> None:
    envelope = (REPO_ROOT / "dataflows" / "snapshots.py").read_text()
    steps = "".join((REPO_ROOT / "dataflows" / name).read_text() for name in ("steps.py", "symbol_step.py"))

    calls = [line.strip() for line in envelope.splitlines() if UNPICKLING.search(line)]
    restores = [line.strip() for line in steps.splitlines() if "load_state(" in line and "import" not in line]
    assert len(calls) == 1 and "body" in calls[0], calls  # only what follows a checked format header
    assert restores and all("resume_state" in call for call in restores), restores


def test_replay_and_verify_outputs_carry_no_connection_strings() -> None:
    text = (REPO_ROOT / "dataflows" / "replay.py").read_text() + (REPO_ROOT / "dataflows" / "verify.py").read_text()

    assert not re.search(r"clickhouse_url|redis_url|sasl|bootstrap\b", text)


# -- secrets in every URL form -----------------------------------------------------------------------

# Passwords that break urllib's split unencoded (so a naive redactor misses them), and one that does not.
SPLITTING = ("Zq9#xY7k/wV5", "Zq9/xY7k?wV5", "Zq9?xY7k#wV5")
NASTY = (*SPLITTING, "Zq9@xY7k:wV5")


def pieces(password: str) -> set[str]:
    """The password, its percent-encoded form and each piece between the characters that split URLs."""
    return {password, quote(password, safe=""), *re.split(r"[#/?@:]", password)}


def assert_hidden(password: str, text: str) -> None:
    for piece in pieces(password):
        assert piece not in text, f"{piece!r} shows in {text!r}"


def encoded_urls(password: str) -> dict[str, str]:
    encoded = quote(password, safe="")
    return {"clickhouse": f"https://tickwise:{encoded}@ch.internal:8443/tickwise",
            "redis": f"redis://cache.internal:6379/0?password={encoded}"}


@pytest.mark.parametrize("password", NASTY)
@pytest.mark.parametrize("redis_form", ["redis://cache.internal:6379/0?password={}", "rediss://:{}@cache.internal/1",
                                        "redis://app:{}@cache.internal:6379/0", "unix:///run/redis.sock?password={}"])
def test_percent_encoded_nasty_passwords_never_appear_in_settings_or_component_reprs(
        clean_env: None, password: str, redis_form: str) -> None:
    encoded = quote(password, safe="")
    settings = load_settings(clickhouse={"url": encoded_urls(password)["clickhouse"]},
                             redis={"url": redis_form.format(encoded)})
    shown = [repr(settings), str(settings), repr(ClickHouseSettings(settings.clickhouse.url.get_secret_value())),
             repr(RedisSettings(settings.redis.url.get_secret_value())),
             ClickHouseSettings(settings.clickhouse.url.get_secret_value()).redacted_url(),
             RedisSettings(settings.redis.url.get_secret_value()).redacted_url()]

    for text in shown:
        assert_hidden(password, text)


@pytest.mark.parametrize("password", SPLITTING)
@pytest.mark.parametrize(("section", "alias", "form"), [
    ("clickhouse", "CLICKHOUSE_URL", "https://tickwise:{}@ch.internal:8443/tickwise"),
    ("clickhouse", "CLICKHOUSE_URL", "http://{}@ch.internal/tickwise"),
    ("redis", "REDIS_URL", "redis://:{}@cache.internal:6379/0"),
    ("redis", "REDIS_URL", "rediss://app:{}@cache.internal:6380/0"),
])
def test_url_whose_password_is_not_encoded_is_refused_with_a_sentence_that_does_not_quote_it(
        clean_env: None, password: str, section: str, alias: str, form: str) -> None:
    url = form.format(password)

    with pytest.raises(ConfigError) as caught:
        load_settings(**{section: {"url": url}})
    with pytest.raises(ValueError) as component:
        (ClickHouseSettings if section == "clickhouse" else RedisSettings)(url)

    assert str(caught.value).startswith(f"invalid setting {alias}: ")
    assert "percent-encode" in str(caught.value)
    assert_hidden(password, str(caught.value))
    assert_hidden(password, str(component.value))


@pytest.mark.parametrize("password", SPLITTING)
@pytest.mark.parametrize(("command", "variable"), [("query", "CLICKHOUSE_URL"), ("features", "REDIS_URL")])
def test_failing_command_with_a_nasty_password_in_its_url_prints_no_part_of_it(
        tmp_path: Path, password: str, command: str, variable: str) -> None:
    url = {"CLICKHOUSE_URL": f"http://tickwise:{password}@127.0.0.1:1/tickwise",
           "REDIS_URL": f"redis://:{password}@127.0.0.1:1/0"}[variable]
    argument = "SELECT 1" if command == "query" else "IBM"
    environment = {name: value for name, value in os.environ.items() if name not in environment_names()}

    done = subprocess.run([sys.executable, "-m", "dataflows.cli", command, argument, "--state-dir", str(tmp_path)],
                          cwd=REPO_ROOT, env={**environment, variable: url}, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"invalid setting {variable}" in " ".join(done.stderr.split())
    assert_hidden(password, done.stdout + done.stderr)


def test_stack_status_shows_the_recorded_urls_redacted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dataflows.cli import app, run

    password = NASTY[0]
    urls = encoded_urls(password)
    recorded = StackInfo(kafka_bootstrap="127.0.0.1:9092", redis_url=urls["redis"], clickhouse_url=urls["clickhouse"],
                         kafka_pid=os.getpid(), redis_pid=os.getpid(), state_dir=str(tmp_path))
    monkeypatch.setattr(run, "read_stack", lambda _: recorded)

    result = CliRunner().invoke(app, ["stack", "status", "--state-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "cache.internal:6379" in result.output and "ch.internal:8443" in result.output
    assert_hidden(password, result.output)


def test_run_summary_json_of_a_run_on_a_server_with_a_nasty_password_carries_no_part_of_it() -> None:
    password = NASTY[1]
    summary = RunSummary(ticks_in=1, ticks_valid=1, ticks_rejected=0, features=0, predictions=0, signals_accepted=0,
                         signals_denied=0, drift_events=0, elapsed_s=1.0, ticks_per_s=1.0, processes=1, workers=1,
                         model_version="tw-1", rejects_by_reason={})

    assert_hidden(password, summary.json_line())
    assert not {name for name in orjson.loads(summary.json_line()) if re.search(r"url|password|secret", name)}


# -- files only their owner can read -----------------------------------------------------------------


@pytest.fixture()
def open_umask() -> Iterator[None]:
    """Run with umask 000, so only explicit modes can make anything private."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_stack_up_creates_state_dir_chdb_dir_logs_and_stack_record_private_whatever_the_umask(
        tmp_path: Path, open_umask: None) -> None:
    from dataflows.stack import start_stack, stop_stack

    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o755)  # an existing state dir of ours, open to others: tightened
    try:
        start_stack(state_dir)
    finally:
        stop_stack_record = (state_dir / "stack.json").exists()
        modes = {path.name: mode(path) for path in [state_dir, *state_dir.iterdir()]}
        stop_stack(state_dir)

    assert stop_stack_record
    assert modes == {"state": 0o700, "chdb": 0o700, "tansu.log": 0o600, "redis.log": 0o600, "clickhouse.log": 0o600,
                     "stack.json": 0o600}


def test_run_cluster_creates_work_dir_log_dir_and_worker_logs_private_whatever_the_umask(
        tmp_path: Path, open_umask: None) -> None:
    from dataflows.runner import run_cluster

    log_dir = tmp_path / "state" / "logs"
    log_dir.parent.mkdir()
    log_dir.mkdir()
    (log_dir / "worker-0.log").write_text("an old log\n")
    (log_dir / "worker-0.log").chmod(0o644)

    run_cluster({"PYTHONPATH": str(REPO_ROOT)}, work_dir=tmp_path / "state", log_dir=log_dir,
                flow_import=f"{__name__}:finite_flow()")

    assert (mode(tmp_path / "state"), mode(log_dir), mode(log_dir / "worker-0.log")) == (0o700, 0o700, 0o600)
    assert (log_dir / "worker-0.log").read_text().startswith("an old log\n")  # appended, not replaced


def finite_flow() -> Dataflow:
    """A flow for ``bytewax.run`` that ends at once."""
    flow = Dataflow("finite")
    op.inspect("seen", op.input("in", flow, TestingSource([1])), lambda *_: None)
    return flow
