"""The deployment files (Dockerfile, deploy/) agree with each other and with the documented settings.

Only parses files: no Docker, no network. `promtool` checks run when promtool is on PATH.
"""

from __future__ import annotations

import json
import os
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
DASHBOARD_DIR = DEPLOY / "grafana" / "dashboards"
DASHBOARD_TITLES = {"trading-performance.json": "tickwise - Trading performance",
                    "model-performance.json": "tickwise - Model performance",
                    "system-health.json": "tickwise - System health"}
DATASOURCES = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
CLICKHOUSE_DATASOURCE = DEPLOY / "grafana" / "provisioning" / "datasources" / "clickhouse.yml"
GRAFANA_ALERTS = DEPLOY / "grafana" / "provisioning" / "alerting" / "sinks.yml"
DASHBOARD_PROVIDERS = DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yml"

FLOWS = ("signals", "history")  # the two flows of the live system (tickwise run --role ...)
METRICS_BASE_PORT = 9464
CLUSTER_PORT = 2101

DOCUMENTED_ENV = frozenset({
    "KAFKA_BOOTSTRAP", "KAFKA_TICKS_TOPIC", "KAFKA_SIGNALS_TOPIC", "KAFKA_DLQ_TOPIC",
    "KAFKA_MODEL_EVENTS_TOPIC", "KAFKA_CONTROL_TOPIC", "KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "CLICKHOUSE_URL", "REDIS_URL", "TICKWISE_MODEL",
    "TICKWISE_METRICS_PORT", "TICKWISE_METRICS_HOST", "TICKWISE_RISK_ACCOUNT_EQUITY",
    "TICKWISE_RISK_MAX_POSITION_SHARES", "TICKWISE_RISK_MAX_ORDER_NOTIONAL",
    "TICKWISE_RISK_MIN_CONFIDENCE", "TICKWISE_RISK_TRADING_STATE", "TICKWISE_PROCESS_INDEX", "TICKWISE_SESSION",
})

METRICS = frozenset({
    "tickwise_ticks_total", "tickwise_rejects_total", "tickwise_stage_items_total",
    "tickwise_stage_latency_seconds", "tickwise_sink_rows_total", "tickwise_sink_errors_total",
    "tickwise_drift_events_total", "tickwise_signals_total", "tickwise_model_info",
    "tickwise_consumer_lag_messages", "tickwise_feature_population_stability_index",
    "tickwise_live_accuracy_ratio", "tickwise_live_log_loss", "tickwise_live_brier_score",
    "tickwise_live_average_confidence_ratio", "tickwise_prediction_outcomes_total",
    "tickwise_prediction_confidence_ratio", "tickwise_paper_position_shares", "tickwise_paper_realized_pnl_dollars",
    "tickwise_paper_unrealized_pnl_dollars", "tickwise_paper_total_pnl_dollars", "tickwise_paper_win_rate_ratio",
    "tickwise_paper_sharpe_ratio", "tickwise_paper_drawdown_dollars", "tickwise_paper_fills_total",
    "tickwise_redis_write_failures_total", "tickwise_redis_pending_symbols",
    "tickwise_redis_last_success_timestamp_seconds", "tickwise_redis_unwritten_rows_total",
    "tickwise_symbols_over_reject_share", "tickwise_symbol_states", "tickwise_symbols_released_total",
    "tickwise_symbol_idle_restarts_total",
})
HISTOGRAMS = frozenset({"tickwise_stage_latency_seconds", "tickwise_prediction_confidence_ratio"})
# Series Prometheus itself records for every target: `up` is the worker-down signal.
PROMETHEUS_SERIES = frozenset({"up"})
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
    return {name for name in names
            if name not in METRICS and name not in HISTOGRAM_SERIES and name not in PROMETHEUS_SERIES}


def promtool_or_fail() -> str:
    """promtool's path; in CI (``CI`` or ``TICKWISE_REQUIRE_PROMTOOL`` set: .ci/run installs Debian's
    ``prometheus`` package) a missing promtool fails the test instead of skipping it."""
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool is not installed (Debian package `prometheus`, installed by .ci/run)"
        if os.environ.get("CI") or os.environ.get("TICKWISE_REQUIRE_PROMTOOL"):
            pytest.fail(message)
        pytest.skip(message)
    return promtool


def command_args(service: dict[str, Any]) -> list[str]:
    def as_list(value: Any) -> list[str]:
        if value is None:
            return []
        return value.split() if isinstance(value, str) else [str(v) for v in value]

    return as_list(service.get("entrypoint")) + as_list(service.get("command"))


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
def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARD_DIR.glob("*.json"))}


def prometheus_targets(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [target for panel in dashboard_panels(board) for target in panel.get("targets") or []
            if target["datasource"]["type"] == "prometheus"]


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
    expected = {"redpanda", "redpanda-init", "redis", "clickhouse", "prometheus", "grafana", "producer", *FLOWS}
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


def test_workers_only_use_documented_settings(services: dict[str, dict[str, Any]]) -> None:
    for name in (*FLOWS, "producer"):
        names = set(environment(services[name]))
        assert names - DOCUMENTED_ENV == set(), f"{name} uses undocumented env vars"
    worker_env = environment(services["signals"])
    assert worker_env["TICKWISE_METRICS_HOST"] == "0.0.0.0"
    assert worker_env["TICKWISE_METRICS_PORT"] == str(METRICS_BASE_PORT)


def test_documented_settings_exist_in_the_settings_object() -> None:
    config = pytest.importorskip("dataflows.config")
    aliases = config.environment_names()
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


# ---------------------------------------------------------------- Prometheus


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
    promtool = promtool_or_fail()
    for args in (["check", "rules", ALERTS.name], ["check", "config", PROMETHEUS.name], ["test", "rules", ALERTS_TEST.name]):
        result = subprocess.run([promtool, *args], cwd=ALERTS.parent, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"


# ---------------------------------------------------------------- Grafana


def test_grafana_provisioning_points_at_the_dashboards_and_datasources(services: dict[str, dict[str, Any]]) -> None:
    datasource = load_yaml(DATASOURCES)["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    clickhouse = load_yaml(CLICKHOUSE_DATASOURCE)["datasources"][0]
    assert clickhouse["type"] == "grafana-clickhouse-datasource" and clickhouse["jsonData"]["host"] == "clickhouse"
    assert clickhouse["secureJsonData"]["password"] == "$CLICKHOUSE_PASSWORD", "the password comes from the env"
    grafana = services["grafana"]
    assert "grafana-clickhouse-datasource" in environment(grafana)["GF_INSTALL_PLUGINS"]
    assert environment(grafana)["CLICKHOUSE_PASSWORD"].startswith("${CLICKHOUSE_PASSWORD:?")
    provider = load_yaml(DASHBOARD_PROVIDERS)["providers"][0]
    grafana_mounts = mounts(grafana)
    assert (DEPLOY / grafana_mounts[provider["options"]["path"]]).resolve() == DASHBOARD_DIR.resolve()
    assert (DEPLOY / grafana_mounts["/etc/grafana/provisioning"]).resolve() == DATASOURCES.parents[1].resolve()
    home = environment(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert Path(home).name in DASHBOARD_TITLES


def test_there_are_three_dashboards_trading_model_and_system(dashboards: dict[str, dict[str, Any]]) -> None:
    assert {name: board["title"] for name, board in dashboards.items()} == DASHBOARD_TITLES
    assert len({board["uid"] for board in dashboards.values()}) == len(dashboards)


def test_every_dashboard_panel_queries_tickwise_metrics_or_tables(dashboards: dict[str, dict[str, Any]]) -> None:
    from sinks.clickhouse import TABLES

    uids = {load_yaml(path)["datasources"][0]["type"]: load_yaml(path)["datasources"][0]["uid"]
            for path in (DATASOURCES, CLICKHOUSE_DATASOURCE)}
    used: set[str] = set()
    for name, board in dashboards.items():
        panels = dashboard_panels(board)
        assert len({panel["id"] for panel in panels}) == len(panels), f"{name}: panel ids must be unique"
        for panel in panels:
            targets = panel.get("targets") or []
            assert targets, f"{name}: panel {panel['title']!r} has no target"
            for target in targets:
                kind = target["datasource"]["type"]
                assert target["datasource"]["uid"] == uids[kind], f"{name}: {panel['title']!r}"
                if kind == "prometheus":
                    names = metric_names(target["expr"])
                    assert names and unknown_metrics(names) == set(), f"{name}: panel {panel['title']!r}: {names}"
                    used |= names
                else:
                    tables = set(re.findall(r"\bFROM\s+(\w+)", target["rawSql"]))
                    assert tables and tables <= set(TABLES), f"{name}: panel {panel['title']!r} reads {tables}"
        for variable in board["templating"]["list"]:
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            metric = re.fullmatch(r"label_values\((\w+),\s*\w+\)", query)
            assert metric and unknown_metrics({metric.group(1)}) == set(), query
    used = {name.removesuffix("_bucket") for name in used}
    assert METRICS - used == set(), "every tickwise metric has a panel"


def test_system_health_shows_latency_quantiles(dashboards: dict[str, dict[str, Any]]) -> None:
    exprs = [target["expr"] for target in prometheus_targets(dashboards["system-health.json"])]
    for quantile in ("0.5", "0.99"):
        assert any(f"histogram_quantile({quantile}," in e and "tickwise_stage_latency_seconds_bucket" in e for e in exprs)


def test_the_monitoring_alerts_exist(alert_rules: list[dict[str, Any]]) -> None:
    names = {rule["alert"] for rule in alert_rules}
    assert {"TickwiseSinkErrors", "TickwiseSinkStalled", "TickwiseRejectRateHigh", "TickwiseConsumerLagGrowing",
            "TickwiseStageLatencyHigh", "TickwiseDriftBurst", "TickwiseLiveAccuracyLow",
            "TickwiseAverageConfidenceLow", "TickwiseDrawdownOverLimit", "TickwiseWorkerDown"} <= names


def test_every_alert_rule_has_a_promtool_unit_test(alert_rules: list[dict[str, Any]]) -> None:
    tests = load_yaml(ALERTS_TEST)["tests"]
    tested = {case["alertname"] for test in tests for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
    assert {rule["alert"] for rule in alert_rules} - tested == set(), "each rule needs a test where it fires"


def test_grafana_alert_rules_watch_the_sinks() -> None:
    groups = load_yaml(GRAFANA_ALERTS)["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) >= 2
    for rule in rules:
        assert rule["uid"] and rule["title"] and rule["condition"] in {query["refId"] for query in rule["data"]}
        exprs = [query["model"]["expr"] for query in rule["data"] if query["datasourceUid"] == "prometheus"]
        assert exprs, rule["title"]
        for expr in exprs:
            assert unknown_metrics(metric_names(expr)) == set(), rule["title"]
    watched = {name for rule in rules for query in rule["data"] if query["datasourceUid"] == "prometheus"
               for name in metric_names(query["model"]["expr"])}
    assert {"tickwise_sink_errors_total", "tickwise_sink_rows_total"} <= watched
