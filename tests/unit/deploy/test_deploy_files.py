"""The deployment files (Dockerfile, deploy/) agree with each other and with the documented settings.

Only parses files: no Docker, no network. `promtool` checks run when promtool is on PATH.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to parse the deploy files (test extra: pyyaml)")

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERTS_TEST = DEPLOY / "prometheus" / "alerts_test.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "tickwise.json"
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"
ADDRESSES = DEPLOY / "addresses.txt"
TOPICS_SCRIPT = DEPLOY / "redpanda" / "create-topics.sh"

WORKERS = ("worker-0", "worker-1")
METRICS_BASE_PORT = 9464
CLUSTER_PORT = 2101

DOCUMENTED_ENV = frozenset({
    "KAFKA_BOOTSTRAP", "KAFKA_TICKS_TOPIC", "KAFKA_SIGNALS_TOPIC", "KAFKA_DLQ_TOPIC",
    "KAFKA_MODEL_EVENTS_TOPIC", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "CLICKHOUSE_URL", "REDIS_URL", "TICKWISE_MODEL",
    "TICKWISE_METRICS_PORT", "TICKWISE_METRICS_HOST", "TICKWISE_RISK_ACCOUNT_EQUITY",
    "TICKWISE_RISK_MAX_POSITION_SHARES", "TICKWISE_RISK_MAX_ORDER_NOTIONAL",
    "TICKWISE_RISK_MIN_CONFIDENCE", "TICKWISE_RISK_TRADING_STATE", "TICKWISE_PROCESS_INDEX",
})
# Read by `python -m bytewax.run` itself, not by tickwise: the cluster's addresses file.
BYTEWAX_ENV = frozenset({"BYTEWAX_HOSTFILE_PATH"})

METRICS = frozenset({
    "tickwise_ticks_total", "tickwise_rejects_total", "tickwise_stage_items_total",
    "tickwise_stage_latency_seconds", "tickwise_sink_rows_total", "tickwise_sink_errors_total",
    "tickwise_drift_events_total", "tickwise_signals_total", "tickwise_model_info",
})
HISTOGRAMS = frozenset({"tickwise_stage_latency_seconds"})
HISTOGRAM_SERIES = frozenset(f"{h}{s}" for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count"))

PROMQL_KEYWORDS = frozenset({
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan", "atan2",
})


# ---------------------------------------------------------------- helpers


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression (or Grafana query) selects.

    Strips strings, label matchers, ranges, grouping clauses and Grafana variables; what is
    left and not followed by "(" (a function) or a PromQL keyword is a metric name.

    >>> sorted(metric_names('histogram_quantile(0.99, sum by (stage, le) (rate(a_bucket{x="1"}[5m])))'))
    ['a_bucket']
    >>> sorted(metric_names("sum(rate(a[$__rate_interval])) / clamp_min(sum(rate(b[5m])), 1e-9) or vector(0)"))
    ['a', 'b']
    """
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        name, is_call = match.group(1), match.group(2)
        if not is_call and name.lower() not in PROMQL_KEYWORDS:
            names.add(name)
    return names


def unknown_metrics(names: set[str]) -> set[str]:
    return {name for name in names if name not in METRICS and name not in HISTOGRAM_SERIES}


def command_args(service: dict[str, Any]) -> list[str]:
    def as_list(value: Any) -> list[str]:
        if value is None:
            return []
        return value.split() if isinstance(value, str) else [str(v) for v in value]

    return as_list(service.get("entrypoint")) + as_list(service.get("command"))


def option(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source of each volume in short syntax."""
    result = {}
    for volume in service.get("volumes") or []:
        source, target, *_ = str(volume).split(":")
        result[target] = source
    return result


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def alert_rules() -> list[dict[str, Any]]:
    groups = load_yaml(ALERTS)["groups"]
    return [rule for group in groups for rule in group["rules"]]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def dashboard_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard["panels"]:
        panels.extend(panel.get("panels", []) if panel.get("type") == "row" else [panel])
    return panels


# ---------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    stages = [args for op, args in dockerfile_instructions() if op.upper() == "FROM"]
    assert len(stages) >= 2, "expected a builder stage and a runtime stage"
    assert any(re.search(r"\bAS\s+builder\b", s, re.I) for s in stages)
    base = [args for op, args in dockerfile_instructions() if op.upper() == "ARG" and args.startswith("PYTHON_IMAGE=")]
    assert base and base[0].split("=", 1)[1].startswith("python:3.11-slim")


def test_dockerfile_runs_tickwise_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op.upper() == "FROM")
    users = [args for op, args in instructions[last_from:] if op.upper() == "USER"]
    assert users, "the runtime stage must switch to a non-root USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    entrypoints = [json.loads(args) for op, args in instructions if op.upper() == "ENTRYPOINT"]
    assert entrypoints[-1] == ["tickwise"]
    commands = [json.loads(args) for op, args in instructions if op.upper() == "CMD"]
    assert commands[-1] == ["run"]
    exposed = " ".join(args for op, args in instructions if op.upper() == "EXPOSE").split()
    assert str(METRICS_BASE_PORT) in exposed and str(CLUSTER_PORT) in exposed


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    entries = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".git", ".tickwise", "**/__pycache__"} <= entries
    assert not {"pyproject.toml", "README.md", "dataflows", "operators", "models", "sinks"} & entries


# ---------------------------------------------------------------- docker-compose


def test_compose_has_the_whole_stack(services: dict[str, dict[str, Any]]) -> None:
    expected = {"redpanda", "redpanda-init", "redis", "clickhouse", "prometheus", "grafana", "producer", *WORKERS}
    assert expected <= set(services)
    assert services["producer"].get("profiles") == ["producer"]


def test_every_image_is_pinned_to_a_version_tag(services: dict[str, dict[str, Any]]) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} has no image"
        repository, _, tag = image.rpartition("/")[2].partition(":")
        assert tag and tag != "latest" and "$" not in tag, f"{name}: image {image!r} is not pinned"
        assert re.search(r"\d", tag), f"{name}: tag {tag!r} is not a version"
        if repository == "tickwise":
            assert tag == version, f"{name}: tickwise image tag {tag} != pyproject version {version}"


def test_workers_form_one_bytewax_cluster(services: dict[str, dict[str, Any]]) -> None:
    addresses = [line.strip() for line in ADDRESSES.read_text().splitlines() if line.strip()]
    hostfiles, process_ids = set(), []
    for name in WORKERS:
        worker = services[name]
        args = command_args(worker)
        assert args[:3] == ["python", "-m", "bytewax.run"], f"{name}: {args}"
        assert "dataflows.signals:flow()" in args
        assert option(args, "-w") == "1"
        # bytewax 0.21 reads -a as "host:port;host:port", never as a file: the file goes in the env.
        assert "-a" not in args and "--addresses" not in args
        process_id = int(option(args, "-i") or -1)
        process_ids.append(process_id)
        hostfile = environment(worker)["BYTEWAX_HOSTFILE_PATH"]
        hostfiles.add(hostfile)
        assert (DEPLOY / mounts(worker)[hostfile]).resolve() == ADDRESSES.resolve()
        assert worker.get("hostname", name) == name
        assert addresses[process_id] == f"{name}:{CLUSTER_PORT}"
        recovery = option(args, "-r")
        assert recovery and option(args, "-s") and option(args, "-b") is not None
        assert mounts(worker)[recovery] == "recovery", f"{name}: recovery dir must be the shared volume"
    assert sorted(process_ids) == list(range(len(WORKERS)))
    assert len(hostfiles) == 1, "every worker must read the same addresses file"
    assert len(addresses) == len(WORKERS)


def test_workers_only_use_documented_settings(services: dict[str, dict[str, Any]]) -> None:
    for name in (*WORKERS, "producer"):
        names = set(environment(services[name]))
        assert names - DOCUMENTED_ENV - BYTEWAX_ENV == set(), f"{name} uses undocumented env vars"
    worker_env = environment(services["worker-0"])
    assert worker_env["TICKWISE_METRICS_HOST"] == "0.0.0.0"
    assert worker_env["TICKWISE_METRICS_PORT"] == str(METRICS_BASE_PORT)
    other_env = environment(services["worker-1"])
    # Everything but the process index is shared; the index must equal the process's -i.
    for index, name in enumerate(WORKERS):
        assert environment(services[name])["TICKWISE_PROCESS_INDEX"] == str(index)
    worker_env.pop("TICKWISE_PROCESS_INDEX")
    other_env.pop("TICKWISE_PROCESS_INDEX")
    assert worker_env == other_env, "workers of one cluster share one config"


def test_documented_settings_exist_in_the_settings_object() -> None:
    config = pytest.importorskip("dataflows.config")
    aliases = {field.alias for field in config.Settings.model_fields.values()}
    assert DOCUMENTED_ENV - aliases == set()


def test_secrets_come_from_the_env_file_only(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in environment(service).items():
            if "PASSWORD" in key:
                assert value.startswith("${") and ":?" in value, f"{name}.{key} must be required from .env"
            if key in {"CLICKHOUSE_URL", "REDIS_URL"}:
                assert "${" in value and ":?" in value, f"{name}.{key} must take its password from .env"
    example = {
        key: value
        for key, _, value in (
            line.partition("=") for line in (DEPLOY / ".env.example").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
    }
    for key in ("CLICKHOUSE_PASSWORD", "REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert example[key] == "change-me"
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required <= set(example), "every required compose variable needs a line in .env.example"
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_ticks_topic_has_a_partition_per_worker(services: dict[str, dict[str, Any]]) -> None:
    script = TOPICS_SCRIPT.read_text()
    assert "auto_create_topics_enabled false" in script
    partitions = {name: int(n) for name, n in re.findall(r"^create_topic (\S+) (\d+)", script, re.M)}
    assert set(partitions) == {"ticks", "signals", "ticks.dlq", "model-events"}
    assert partitions["ticks"] == 4
    assert partitions["ticks"] >= len(WORKERS)
    assert any(arg.endswith("redpanda.auto_create_topics_enabled=false") for arg in command_args(services["redpanda"]))


# ---------------------------------------------------------------- Prometheus


def test_prometheus_scrapes_every_worker_process(services: dict[str, dict[str, Any]]) -> None:
    config = load_yaml(PROMETHEUS)
    assert "alerts.yml" in config["rule_files"]
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    for name in WORKERS:
        process_id = int(option(command_args(services[name]), "-i") or -1)
        assert f"{name}:{METRICS_BASE_PORT + process_id}" in targets


def test_alert_rules_are_complete(alert_rules: list[dict[str, Any]]) -> None:
    assert len(alert_rules) >= 5
    for rule in alert_rules:
        assert rule.get("alert"), rule
        assert rule.get("expr"), rule["alert"]
        assert re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))), f"{rule['alert']} needs a for: clause"
        assert rule.get("labels", {}).get("severity") in {"info", "warning", "critical"}, rule["alert"]
        assert rule.get("annotations", {}).get("summary"), rule["alert"]


def test_alert_rules_only_use_tickwise_metrics(alert_rules: list[dict[str, Any]]) -> None:
    for rule in alert_rules:
        names = metric_names(rule["expr"])
        assert names, f"{rule['alert']} selects no metric"
        assert unknown_metrics(names) == set(), rule["alert"]


def test_the_required_alerts_exist(alert_rules: list[dict[str, Any]]) -> None:
    used = {name for rule in alert_rules for name in metric_names(rule["expr"])}
    for metric in ("tickwise_rejects_total", "tickwise_sink_errors_total", "tickwise_stage_latency_seconds_bucket",
                   "tickwise_ticks_total", "tickwise_drift_events_total"):
        assert metric in used


def test_promtool_accepts_the_rules_and_their_unit_tests() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`); promtool check rules skipped")
    for args in (["check", "rules", ALERTS.name], ["check", "config", PROMETHEUS.name], ["test", "rules", ALERTS_TEST.name]):
        result = subprocess.run([promtool, *args], cwd=ALERTS.parent, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"


# ---------------------------------------------------------------- Grafana


def test_grafana_provisioning_points_at_the_dashboard_and_datasource(services: dict[str, dict[str, Any]]) -> None:
    datasource = load_yaml(DATASOURCES)["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    provider = load_yaml(DASHBOARD_PROVIDERS)["providers"][0]
    grafana_mounts = mounts(services["grafana"])
    assert (DEPLOY / grafana_mounts[provider["options"]["path"]]).resolve() == DASHBOARD.parent.resolve()
    assert (DEPLOY / grafana_mounts["/etc/grafana/provisioning"]).resolve() == DATASOURCES.parents[1].resolve()


def test_every_dashboard_panel_queries_tickwise_metrics(dashboard: dict[str, Any]) -> None:
    datasource_uid = load_yaml(DATASOURCES)["datasources"][0]["uid"]
    panels = dashboard_panels(dashboard)
    assert len({panel["id"] for panel in panels}) == len(panels), "panel ids must be unique"
    used: set[str] = set()
    for panel in panels:
        targets = panel.get("targets") or []
        assert targets, f"panel {panel['title']!r} has no target"
        for target in targets:
            assert target["datasource"]["uid"] == datasource_uid
            names = metric_names(target["expr"])
            assert names and unknown_metrics(names) == set(), f"panel {panel['title']!r}: {names}"
            used |= names
    for variable in dashboard["templating"]["list"]:
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        metric = re.fullmatch(r"label_values\((\w+),\s*\w+\)", query)
        assert metric and unknown_metrics({metric.group(1)}) == set(), query
    assert METRICS - {name.removesuffix("_bucket") for name in used} == set(), "every tickwise metric has a panel"


def test_dashboard_shows_latency_quantiles(dashboard: dict[str, Any]) -> None:
    exprs = [target["expr"] for panel in dashboard_panels(dashboard) for target in panel["targets"]]
    for quantile in ("0.5", "0.99"):
        assert any(f"histogram_quantile({quantile}," in e and "tickwise_stage_latency_seconds_bucket" in e for e in exprs)
