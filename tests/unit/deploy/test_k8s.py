"""deploy/k8s/ is valid Kubernetes and agrees with itself, with Bytewax and with tickwise's settings.

Schemas come offline with ``kubernetes-validate``; the worker's entry script is run with a
stand-in ``python`` to check what it really starts; no cluster is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dataflows.config import Settings, environment_names

yaml = pytest.importorskip("yaml", reason="PyYAML parses the manifests (test extra: pyyaml)")
kubernetes_validate = pytest.importorskip("kubernetes_validate.utils",
                                          reason="kubernetes-validate checks the schemas (test extra)")

K8S = Path(__file__).resolve().parents[3] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30"
CLUSTER_PORT = 2101
METRICS_PORT = 9464
SETTINGS_ALIASES = environment_names()
SECRET_ALIASES = frozenset({"CLICKHOUSE_URL", "REDIS_URL", "KAFKA_SASL_PASSWORD"})
BYTEWAX_ENV = frozenset({"BYTEWAX_HOSTFILE_PATH"})
#: The two flows of the live system: StatefulSet -> (its hostfile ConfigMap, what it runs).
FLOWS = {"tickwise": ("tickwise-hosts", "dataflows.signals:signals_flow()"),
         "tickwise-history": ("tickwise-history-hosts", "dataflows.history:flow()")}


def manifest_files() -> list[Path]:
    return sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def documents() -> list[tuple[str, dict[str, Any]]]:
    return [(path.name, doc) for path in manifest_files() for doc in yaml.safe_load_all(path.read_text()) if doc]


def one(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [doc for _, doc in documents() if doc["kind"] == kind and name in (None, doc["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module", params=sorted(FLOWS))
def statefulset(request: pytest.FixtureRequest) -> dict[str, Any]:
    return one("StatefulSet", request.param)


@pytest.fixture(scope="module")
def pod(statefulset: dict[str, Any]) -> dict[str, Any]:
    return statefulset["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def worker(pod: dict[str, Any]) -> dict[str, Any]:
    [container] = pod["containers"]
    return container


@pytest.fixture(scope="module")
def hostfile_lines(statefulset: dict[str, Any]) -> list[str]:
    hosts, _ = FLOWS[statefulset["metadata"]["name"]]
    return one("ConfigMap", hosts)["data"]["addresses.txt"].split()


@pytest.mark.parametrize(("filename", "doc"), documents(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_manifest_is_valid_against_the_kubernetes_schema(filename: str, doc: dict[str, Any]) -> None:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        pytest.fail(f"{filename}: {doc['kind']} {doc['metadata']['name']}: {error.message} at "
                    f"{'.'.join(str(part) for part in error.path)}")


def test_kustomization_lists_exactly_the_manifests() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())

    assert sorted(kustomization["resources"]) == [path.name for path in manifest_files()]
    assert kustomization["namespace"] == one("Namespace")["metadata"]["name"]


def test_hostfile_lists_one_stable_pod_address_per_replica_in_ordinal_order(
        statefulset: dict[str, Any], hostfile_lines: list[str]) -> None:
    name, service = statefulset["metadata"]["name"], statefulset["spec"]["serviceName"]

    assert len(hostfile_lines) == statefulset["spec"]["replicas"]
    assert hostfile_lines == [f"{name}-{index}.{service}:{CLUSTER_PORT}" for index in range(len(hostfile_lines))]


def test_headless_service_gives_pods_dns_names_before_they_are_ready(statefulset: dict[str, Any]) -> None:
    service = one("Service", statefulset["spec"]["serviceName"])

    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True
    labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert statefulset["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert {port["port"] for port in service["spec"]["ports"]} == {CLUSTER_PORT, METRICS_PORT}


def test_signals_and_history_flows_are_separate_clusters_with_their_own_volumes() -> None:
    signals, history = one("StatefulSet", "tickwise"), one("StatefulSet", "tickwise-history")

    assert signals["spec"]["replicas"] == 2 and history["spec"]["replicas"] == 1
    assert signals["spec"]["serviceName"] != history["spec"]["serviceName"]
    # Neither Service selects the other flow's pods (they would join the wrong cluster's DNS).
    for own, other in ((signals, history), (history, signals)):
        selector = one("Service", own["spec"]["serviceName"])["spec"]["selector"]
        assert not selector.items() <= other["spec"]["template"]["metadata"]["labels"].items()
    # Recovery volumes are per StatefulSet (volumeClaimTemplates are named per set by Kubernetes).
    for statefulset in (signals, history):
        assert [claim["metadata"]["name"] for claim in statefulset["spec"]["volumeClaimTemplates"]] == ["recovery"]


def test_pods_start_together_because_the_cluster_needs_every_process(statefulset: dict[str, Any]) -> None:
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"


def test_every_environment_name_is_a_tickwise_setting_and_secrets_come_only_from_the_secret(
        worker: dict[str, Any]) -> None:
    config = one("ConfigMap", "tickwise-config")["data"]
    secret = one("Secret")["stringData"]

    assert set(config) <= SETTINGS_ALIASES, set(config) - SETTINGS_ALIASES
    assert set(secret) <= SECRET_ALIASES, set(secret) - SECRET_ALIASES
    assert not set(config) & SECRET_ALIASES
    assert {env["name"] for env in worker.get("env", [])} <= SETTINGS_ALIASES | BYTEWAX_ENV
    sources = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in worker["envFrom"]}
    assert sources == {"tickwise-config", one("Secret")["metadata"]["name"]}
    assert all("change-me" in value for value in secret.values()), "the Secret must hold example values only"


def test_settings_from_the_config_map_and_secret_load(worker: dict[str, Any]) -> None:
    config = one("ConfigMap", "tickwise-config")["data"]
    secret = one("Secret")["stringData"]
    env = {**config, **secret}

    settings = Settings.from_environment(env)

    assert settings.kafka.ticks_topic == config["KAFKA_TICKS_TOPIC"]
    assert "change-me" not in repr(settings)


def test_worker_entry_script_starts_bytewax_as_the_pods_ordinal_with_the_hostfile(
        statefulset: dict[str, Any], worker: dict[str, Any], pod: dict[str, Any], hostfile_lines: list[str],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "python").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$OUT/args"\n'
                                     'echo "$TICKWISE_PROCESS_INDEX $TICKWISE_METRICS_PORT" > "$OUT/env"\n')
    (fake_bin / "python").chmod(0o755)
    hostfile = tmp_path / "addresses.txt"
    hostfile.write_text("\n".join(hostfile_lines) + "\n")
    name = statefulset["metadata"]["name"]
    index = len(hostfile_lines) - 1  # the last pod
    env = {"PATH": f"{fake_bin}:{os.environ['PATH']}", "HOSTNAME": f"{name}-{index}", "OUT": str(tmp_path),
           "TICKWISE_METRICS_PORT": "9464"}

    subprocess.run([*worker["command"], *worker["args"]], env=env, check=True, timeout=10)

    args = (tmp_path / "args").read_text().splitlines()
    assert (tmp_path / "env").read_text().split() == [str(index), str(METRICS_PORT - index)]  # the flow adds it back
    assert args[:3] == ["-m", "bytewax.run", FLOWS[name][1]]
    from bytewax.run import _parse_args

    for name in ("BYTEWAX_RECOVERY_DIRECTORY", "BYTEWAX_SNAPSHOT_INTERVAL", "BYTEWAX_RECOVERY_BACKUP_INTERVAL",
                 "BYTEWAX_WORKERS_PER_PROCESS", "BYTEWAX_PROCESS_ID", "BYTEWAX_ADDRESSES", "BYTEWAX_POD_NAME",
                 "BYTEWAX_STATEFULSET_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BYTEWAX_HOSTFILE_PATH", str(hostfile))
    monkeypatch.setattr(sys, "argv", ["bytewax.run", *args[2:]])
    parsed = _parse_args()
    assert parsed.process_id == index
    assert parsed.addresses.split(";") == hostfile_lines
    recovery_mount = {m["name"]: m["mountPath"] for m in worker["volumeMounts"]}["recovery"]
    assert str(parsed.recovery_directory).startswith(recovery_mount + "/")
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "recovery"
    hosts_mount = {m["name"]: m["mountPath"] for m in worker["volumeMounts"]}["hosts"]
    assert {e["name"]: e["value"] for e in worker["env"]}["BYTEWAX_HOSTFILE_PATH"] == f"{hosts_mount}/addresses.txt"


def test_recovery_init_spreads_partitions_over_at_most_the_replicas_into_the_workers_recovery_dir(
        pod: dict[str, Any], worker: dict[str, Any], statefulset: dict[str, Any], tmp_path: Path) -> None:
    [init] = [container for container in pod["initContainers"] if container["name"] == "recovery-init"]
    words = init["args"][0].split()
    processes = int(words[words.index("--processes") + 1])
    partitions = int(words[words.index("--partitions") + 1])
    recovery_dir = words[words.index("init") + 1]

    assert words[:3] == ["exec", "tickwise", "recovery"]
    assert processes <= statefulset["spec"]["replicas"] <= partitions
    assert f"-r {recovery_dir} " in worker["args"][0]


def test_every_pod_creates_the_flows_topics_before_its_worker_starts(pod: dict[str, Any], worker: dict[str, Any],
                                                                    tmp_path: Path) -> None:
    [topics] = [container for container in pod["initContainers"] if container["name"] == "topics"]

    assert topics["command"][:3] == ["tickwise", "topics", "create"]
    assert topics["envFrom"] == worker["envFrom"]  # the same Kafka, topic names and partitions as the flow
    from typer.testing import CliRunner

    from dataflows.cli.app import app
    result = CliRunner().invoke(app, [*topics["command"][1:3], "--help"])
    assert result.exit_code == 0 and "Create every topic" in result.output


def test_pods_run_as_non_root_without_privilege_escalation_with_resources_and_probes(
        pod: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"] + pod["initContainers"]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    worker = pod["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert worker[probe]["httpGet"]["port"] == "metrics"
    assert {p["name"]: p["containerPort"] for p in worker["ports"]} == {"cluster": CLUSTER_PORT,
                                                                         "metrics": METRICS_PORT}
