"""Security defaults, checked as a user or an attacker would meet them.

Metrics bind loopback unless configured; the recovery directory is private; secrets never
show in ``repr``, error messages or the run summary; and nothing of ours unpickles data from
anywhere but the Bytewax recovery store.
"""

from __future__ import annotations

import dataclasses
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dataflows.config import ConfigError, Settings, environment_names, load_settings
from dataflows.sources import KafkaSourceSettings
from dataflows.summary import RunSummary
from sinks.clickhouse import ClickHouseSettings
from sinks.kafka import KafkaSettings
from sinks.metrics import MetricsRegistry, start_metrics_server
from sinks.redis_store import RedisSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
SECRET = "hunter2-s3cr3t"
# Where unpickling is allowed: restoring our own state from Bytewax's recovery store.
PICKLE_ALLOWED = {"dataflows/snapshots.py"}
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
                if UNPICKLING.search(line) and relative not in PICKLE_ALLOWED:
                    offenders.append(f"{relative}:{number}: {line.strip()}")

    assert not offenders, "unpickling outside the recovery store restore:\n" + "\n".join(offenders)


def test_the_allowed_unpickling_is_the_state_envelope_restoring_bytewax_resume_state() -> None:
    envelope = (REPO_ROOT / "dataflows" / "snapshots.py").read_text()
    steps = (REPO_ROOT / "dataflows" / "steps.py").read_text()

    calls = [line.strip() for line in envelope.splitlines() if UNPICKLING.search(line)]
    restores = [line.strip() for line in steps.splitlines() if "load_state(" in line and "import" not in line]
    assert len(calls) == 1 and "body" in calls[0], calls  # only what follows a checked format header
    assert restores and all("resume_state" in call for call in restores), restores


def test_replay_and_verify_outputs_carry_no_connection_strings() -> None:
    text = (REPO_ROOT / "dataflows" / "replay.py").read_text() + (REPO_ROOT / "dataflows" / "verify.py").read_text()

    assert not re.search(r"clickhouse_url|redis_url|sasl|bootstrap\b", text)
