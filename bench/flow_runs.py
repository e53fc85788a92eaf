"""The real flows through the CLI, to the end of the ticks topic: the signals flow alone and both flows.

* ``signals N proc``: ``tickwise run --role signals --until-eof --processes N`` with every sink
  of the signals flow on (Kafka signals, DLQ, model events, the ``<ticks>.features`` and
  ``<ticks>.decisions`` topics for the history flow, Redis; metrics recorded with
  ``TICKWISE_METRICS_PORT=0``). This role prints no summary (it writes nothing to ClickHouse),
  so seconds are the CLI's wall clock, and the ticks, signals and published rows are counted
  on the topics afterwards (high watermarks of fresh topics).
* ``both flows``: ``tickwise run --role both --until-eof``: the signals flow (1 process) to the
  end of the ticks, then the history flow (1 process, chDB through the stack's ClickHouse
  service) to the end of what the signals flow published, one after the other as the CLI runs
  them with ``--until-eof``; seconds are the CLI's wall clock until both have consumed
  everything, and the history flow's summary (read back from ClickHouse) is kept.

A run of the same command on an EMPTY topic measures the fixed start-up cost (interpreter,
imports, model load, cluster start and shutdown); the ``start-up-corrected`` figures subtract it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

from bench import report
from bench.machine import REPO_ROOT, ProcessWatch, loadavg
from bench.topics import PARTITIONS, TopicSet, drop_topics, message_count, new_topics, produce

ROLES = ("signals", "both")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_flow(stack_env: dict[str, str], topics: TopicSet, processes: int, work: Path, role: str,
             timeout_s: float = 3600.0) -> dict[str, object]:
    """``tickwise run --role ROLE --until-eof --processes N`` as a child process; its last JSON line,
    wall clock, RSS and CPU of its Bytewax workers (both flows' with ``both``)."""
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **stack_env, **topics.env(), "TICKWISE_METRICS_PORT": "0"}
    stdout_path, stderr_path = work / "cli.stdout", work / "cli.stderr"
    watch = ProcessWatch()
    started = time.perf_counter()
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "dataflows.cli", "run", "--role", role, "--until-eof", "--processes",
             str(processes), "--state-dir", str(work / "state")],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        watch.follow(child, started, timeout_s, "tickwise run", stderr_path)
    wall = time.perf_counter() - started
    lines = stdout_path.read_text().strip().splitlines()
    if child.returncode != 0 or not lines:
        raise RuntimeError(f"tickwise run --role {role} --processes {processes} exited {child.returncode}:\n"
                           f"{stderr_path.read_text()[-3000:]}")
    watched = watch.report(child.pid)
    return {"summary": orjson.loads(lines[-1]), "cli_wall_s": round(wall, 3), "loadavg_after": loadavg(),
            "cpu_s_workers_sum": round(sum(watched["cpu_s_workers"]), 2), **watched}


def published(bootstrap: str, topics: TopicSet) -> dict[str, int | None]:
    return {"signals": message_count(bootstrap, topics.signals), "dead_letters": message_count(bootstrap, topics.dead_letters),
            "features": message_count(bootstrap, topics.features), "decisions": message_count(bootstrap, topics.decisions)}


def flow_run(stack_env: dict[str, str], messages: list[tuple[bytes, bytes]], role: str, processes: int,
             work: Path, result: dict[str, object], partitions: int = PARTITIONS) -> dict[str, object]:
    """One measured run (after its empty-topic run) of ``role`` on ``processes`` signals processes."""
    bootstrap = stack_env["KAFKA_BOOTSTRAP"]
    label = f"{role}_p{processes}"
    empty_topics = new_topics(bootstrap, f"empty-{label}", partitions)
    empty = run_flow(stack_env, empty_topics, processes, work / f"empty-{label}", role)
    drop_topics(bootstrap, empty_topics)
    startup_s = empty["cli_wall_s"]
    log(f"empty topic, {label}: {startup_s:.2f} s fixed cost")

    topics = new_topics(bootstrap, label, partitions)
    produced = produce(bootstrap, topics, messages)
    result["produce"].append({"run": label, **produced})
    run = run_flow(stack_env, topics, processes, work / f"run-{label}", role)
    ticks = produced["messages"]
    corrected = run["cli_wall_s"] - startup_s
    run.update({"role": role, "processes": processes, "produced": ticks, "ticks": ticks, "startup_s": startup_s,
                "startup_run": empty, "published": published(bootstrap, topics),
                "ticks_per_s": report.rate(ticks, run["cli_wall_s"]),
                "corrected_elapsed_s": round(corrected, 3) if corrected > 0 else None,
                "corrected_ticks_per_s": report.rate(ticks, corrected) if corrected > 0 else None,
                "cpu_us_per_tick_workers": report.us_per_tick(run["cpu_s_workers_sum"], ticks)})
    corrected_rate = run["corrected_ticks_per_s"]
    run["corrected_ticks_per_s_per_process"] = round(corrected_rate / processes, 1) if corrected_rate else None
    drop_topics(bootstrap, topics)
    log(f"{label}: {ticks:,} ticks in {run['cli_wall_s']:.2f} s ({run['ticks_per_s']:,.0f}/s; "
        f"{corrected_rate}/s start-up-corrected), workers peak RSS {run['peak_rss_mb_workers']} MB, "
        f"CPU {run['cpu_s_workers']} s, published {run['published']}")
    return run


def flow_runs(stack_env: dict[str, str], messages: list[tuple[bytes, bytes]], processes_list: list[int],
              work: Path, result: dict[str, object], both: bool = True) -> list[dict[str, object]]:
    runs = [flow_run(stack_env, messages, "signals", processes, work, result) for processes in processes_list]
    if both:
        runs.append(flow_run(stack_env, messages, "both", 1, work, result))
    return runs


def cpu_ratio(runs: list[dict[str, object]]) -> dict[str, object] | None:
    """Total worker CPU seconds per tick of 2 signals processes over 1 (the cost of the exchange)."""
    by_processes = {run["processes"]: run for run in runs if run["role"] == "signals"}
    one, two = by_processes.get(1), by_processes.get(2)
    if not one or not two or not one["cpu_s_workers_sum"]:
        return None
    ratio = (two["cpu_s_workers_sum"] / two["ticks"]) / (one["cpu_s_workers_sum"] / one["ticks"])
    return {"cpu_s_workers_1": one["cpu_s_workers_sum"], "cpu_s_workers_2": two["cpu_s_workers_sum"],
            "cpu_us_per_tick_1": one["cpu_us_per_tick_workers"], "cpu_us_per_tick_2": two["cpu_us_per_tick_workers"],
            "ratio": round(ratio, 3), "target": 1.15, "met": ratio <= 1.15}
