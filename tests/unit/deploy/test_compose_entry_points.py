"""The compose stack against the code: its flows start through ``tickwise run`` (parsed by the real CLI),
its init job creates every topic the flows use (the names the settings and ``sinks.topics`` give), and
``.env.example`` names only variables that compose or tickwise read. Only parses files."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer

from dataflows.cli.app import app
from dataflows.config import environment_names, load_settings
from dataflows.runner import FLOW_IMPORTS
from sinks.topics import split_topics

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to parse the deploy files (test extra: pyyaml)")

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
TOPICS_SCRIPT = DEPLOY / "redpanda" / "create-topics.sh"
FLOWS = {"signals": "signals", "history": "history"}  # compose service -> its `tickwise run --role`


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def run_options(service: dict[str, Any]) -> dict[str, Any]:
    """The options ``tickwise <command>`` receives, parsed by the CLI itself (an unknown option fails)."""
    args = [str(arg) for arg in service["command"]]
    group = typer.main.get_command(app)
    command = group.get_command(None, args[0])  # type: ignore[union-attr, arg-type]
    assert command is not None, f"tickwise has no command {args[0]!r}"
    return command.make_context(args[0], args[1:]).params


def tickwise_env(service: dict[str, Any]) -> dict[str, str]:
    return {str(key): str(value) for key, value in (service.get("environment") or {}).items()}


def created_topics() -> dict[str, int]:
    script = TOPICS_SCRIPT.read_text()
    return {name: int(count) for name, count in re.findall(r"^create_topic (\S+) (\d+)", script, re.M)}


def test_the_image_entry_point_is_the_tickwise_console_script() -> None:
    entry = [line for line in (REPO / "Dockerfile").read_text().splitlines() if line.startswith("ENTRYPOINT")]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]

    assert json.loads(entry[-1].removeprefix("ENTRYPOINT")) == ["tickwise"]
    assert scripts["tickwise"] == "dataflows.cli:main"


def test_every_flow_starts_through_tickwise_run_with_its_role(services: dict[str, dict[str, Any]]) -> None:
    for name, role in FLOWS.items():
        service = services[name]
        options = run_options(service)

        assert "entrypoint" not in service, f"{name} must keep the image's `tickwise` entry point"
        assert service["command"][0] == "run" and options["role"] == role
        assert options["supervise"] and not options["until_eof"]
        state_dir = str(options["state_dir"])
        assert state_dir in {target for _, _, target in (volume.partition(":") for volume in service["volumes"])}
    assert set(FLOWS.values()) | {"combined"} == set(FLOW_IMPORTS), "a flow of the live system has no service"
    assert {volume.partition(":")[0] for name in FLOWS for volume in services[name]["volumes"]} == {
        "signals-state", "history-state"}, "each flow keeps its recovery partitions in a state volume of its own"


def test_no_service_runs_bytewax_directly(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        words = " ".join(str(part) for key in ("entrypoint", "command") for part in (service.get(key) or []))
        assert "bytewax" not in words, f"{name} starts Bytewax itself instead of `tickwise run`"


def test_the_producer_is_tickwise_produce(services: dict[str, dict[str, Any]]) -> None:
    options = run_options(services["producer"])

    assert services["producer"]["command"][0] == "produce" and options["file"]


def test_the_init_job_creates_every_topic_the_flows_use(services: dict[str, dict[str, Any]]) -> None:
    env = tickwise_env(services["signals"])
    kafka = load_settings(kafka={"ticks_topic": env["KAFKA_TICKS_TOPIC"], "signals_topic": env["KAFKA_SIGNALS_TOPIC"],
                                 "dlq_topic": env["KAFKA_DLQ_TOPIC"], "control_topic": env["KAFKA_CONTROL_TOPIC"],
                                 "model_events_topic": env["KAFKA_MODEL_EVENTS_TOPIC"]}).kafka
    used = {kafka.ticks_topic, *kafka.flow_topics(), kafka.control_topic, *split_topics(kafka.ticks_topic)}

    topics = created_topics()

    assert set(topics) == used
    assert "control" in topics and topics["control"] == 1  # kill-switch commands stay in order
    assert "auto_create_topics_enabled false" in TOPICS_SCRIPT.read_text()


def test_ticks_have_a_partition_per_signals_process_and_the_split_topics_as_many(
        services: dict[str, dict[str, Any]]) -> None:
    topics = created_topics()
    processes = run_options(services["signals"])["processes"]
    split = split_topics("ticks")

    assert topics["ticks"] >= processes > 1
    assert topics[split.features] == topics[split.decisions] == topics["ticks"]


def test_prometheus_scrapes_every_process_of_both_flows(services: dict[str, dict[str, Any]]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {target for job in config["scrape_configs"] for static in job.get("static_configs", [])
               for target in static["targets"]}
    for name in FLOWS:
        service = services[name]
        port = int(tickwise_env(service)["TICKWISE_METRICS_PORT"])
        processes = run_options(service)["processes"]
        for index in range(processes):
            assert f"{name}:{port + index}" in targets
            assert f"127.0.0.1:{port + index}:{port + index}" in service["ports"]


def test_the_signals_flow_never_waits_for_clickhouse_and_history_does(services: dict[str, dict[str, Any]]) -> None:
    assert "clickhouse" not in services["signals"]["depends_on"] and "redis" in services["signals"]["depends_on"]
    assert services["history"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"


def test_both_flows_share_their_settings_and_read_only_tickwise_settings(services: dict[str, dict[str, Any]]) -> None:
    signals, history = (tickwise_env(services[name]) for name in FLOWS)

    assert set(signals) | set(history) <= environment_names()
    assert {key: value for key, value in history.items() if key != "TICKWISE_METRICS_PORT"} == {
        key: value for key, value in signals.items() if key != "TICKWISE_METRICS_PORT"}


def test_env_example_names_only_variables_that_compose_interpolates() -> None:
    names = {line.partition("=")[0] for line in (DEPLOY / ".env.example").read_text().splitlines()
             if line.strip() and not line.startswith("#")}
    interpolated = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))

    assert names <= interpolated, f"read by nothing: {sorted(names - interpolated)}"
    tickwise_named = {name for name in names if name.startswith(("TICKWISE_", "KAFKA_"))}
    unknown = tickwise_named - environment_names()
    assert not unknown, f"named like tickwise settings but not read by tickwise: {sorted(unknown)}"
