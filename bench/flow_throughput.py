"""End-to-end throughput of the tickwise signal flow on real ticks, against a raw Kafka baseline.

One invocation starts its own embedded stack (Tansu + Redis, chDB directories under a temp
dir), reads the real ticks of the chosen ET sessions from ``shared/data/market``, and then,
each on a fresh uuid-prefixed topic set (4 partitions) that it produces first:

* ``kafka_consume``: one confluent-kafka consumer on all partitions, ``consume(5000)``, every
  message decoded and validated by ``operators.validation.decode_tick`` (the flow's own first
  step), until every partition reports EOF. The floor no flow on this broker can beat.
* ``tickwise pN``: the real flow through the CLI (``python -m dataflows.cli run --until-eof
  --processes N``) with every sink on: Kafka signals + DLQ + model events, chDB, Redis and the
  metrics registry (``TICKWISE_METRICS_PORT=0``: metrics are recorded, no HTTP endpoint).
  ``elapsed_s`` is the CLI's own wall clock of the cluster, so it includes interpreter start,
  imports and model load. A run of the same command on an EMPTY topic measures that fixed
  cost; the ``startup-corrected`` rows subtract it.

Prints a table and writes every figure (plus machine facts) as JSON to ``--out``.
Nothing here asserts a timing: this is a benchmark, not a test.

    python -m bench.flow_throughput                       # 2013-10-09, all symbols, 1 and 2 processes
    python -m bench.flow_throughput --limit 5000 --processes 1 --out /tmp/smoke.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import orjson
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
MARKET_DEFAULT = (REPO_ROOT.parent / "shared" / "data" / "market").resolve()
DAYS = ("2013-10-07", "2013-10-08", "2013-10-09")
PARTITIONS = 4
CONSUME_BATCH = 5000
POLL_S = 0.1


# --------------------------------------------------------------------------- machine facts

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_state() -> dict[str, object]:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
        return {"commit": head or None, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def _loadavg() -> list[float] | None:
    """1/5/15-minute load averages: on a 2-core box, anything else running shows up here."""
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return None


def machine_facts() -> dict[str, object]:
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_total_mb": _mem_total_mb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in
                     ("bytewax", "confluent-kafka", "xgboost", "chdb", "clickhouse-connect", "msgspec", "orjson")},
        "git": _git_state(),
        "loadavg_at_start": _loadavg(),
    }


# --------------------------------------------------------------------------- ticks

def session_bounds(day: str) -> tuple[int, int]:
    """The ET session of ``day`` as recorded: 08:00 UTC that day to 00:00 UTC the next."""
    start = pd.Timestamp(f"{day} 08:00", tz="UTC")
    return int(start.value), int((pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)).value)


def load_messages(market: Path, days: list[str], symbols: list[str] | None,
                  limit: int | None) -> list[tuple[bytes, bytes]]:
    from dataflows.tickfiles import encode_ticks, read_tick_frame

    bounds = [session_bounds(day) for day in days]
    frame = read_tick_frame([market / "trades.csv.gz", market / "quotes.csv.gz"], symbols,
                            min(b[0] for b in bounds), max(b[1] for b in bounds))
    mask = pd.Series(False, index=frame.index)
    for start, end in bounds:
        mask |= (frame["ts_ns"] >= start) & (frame["ts_ns"] < end)
    frame = frame[mask]
    if limit is not None:
        frame = frame.head(limit)
    return list(encode_ticks(frame.reset_index(drop=True)))


# --------------------------------------------------------------------------- topics

@dataclass(frozen=True)
class TopicSet:
    prefix: str

    @property
    def ticks(self) -> str:
        return f"{self.prefix}.ticks"

    def env(self) -> dict[str, str]:
        return {"KAFKA_TICKS_TOPIC": self.ticks, "KAFKA_SIGNALS_TOPIC": f"{self.prefix}.signals",
                "KAFKA_DLQ_TOPIC": f"{self.prefix}.ticks.dlq", "KAFKA_MODEL_EVENTS_TOPIC": f"{self.prefix}.model-events",
                "TICKWISE_REDIS_KEY_PREFIX": f"{self.prefix}:features:"}

    def names(self) -> list[str]:
        env = self.env()
        return [env[key] for key in ("KAFKA_TICKS_TOPIC", "KAFKA_SIGNALS_TOPIC", "KAFKA_DLQ_TOPIC",
                                     "KAFKA_MODEL_EVENTS_TOPIC")]


def new_topics(bootstrap: str, label: str) -> TopicSet:
    from sinks.kafka import KafkaSettings, ensure_topics

    topics = TopicSet(f"b{uuid.uuid4().hex[:10]}-{label}")
    ensure_topics(KafkaSettings(bootstrap=bootstrap, idempotence=False), topics.names(), PARTITIONS)
    return topics


def drop_topics(bootstrap: str, topics: TopicSet) -> None:
    """Free the broker's memory (Tansu keeps topics in RAM); best effort."""
    from confluent_kafka.admin import AdminClient

    try:
        futures = AdminClient({"bootstrap.servers": bootstrap}).delete_topics(topics.names(), operation_timeout=30)
        for future in futures.values():
            future.result(timeout=30)
    except Exception:  # noqa: BLE001 - a broker that cannot delete just keeps them
        pass


def produce(bootstrap: str, topics: TopicSet, messages: list[tuple[bytes, bytes]]) -> dict[str, float]:
    from dataflows.produce import produce_messages

    report = produce_messages(bootstrap, topics.ticks, messages)
    return {"messages": report.messages, "elapsed_s": round(report.elapsed_s, 3),
            "msgs_per_s": round(report.messages_per_s, 1)}


# --------------------------------------------------------------------------- baseline

# The flow's source (dataflows/sources.py) caps librdkafka's prefetch queue at
# max(10_000, 2 x batch) messages per partition; on Tansu that alone costs several times the
# throughput of librdkafka's defaults (100_000), so the baseline is measured both ways.
SOURCE_LIKE_CONFIG = {"fetch.min.bytes": 1, "queued.min.messages": max(10_000, CONSUME_BATCH * 2)}


def kafka_consume(bootstrap: str, topic: str, per_partition: bool = False, extra: dict[str, object] | None = None,
                  timeout_s: float = 600.0) -> dict[str, object]:
    """Raw consume of every partition to EOF, each message through ``decode_tick``.

    One consumer on all partitions with librdkafka's defaults, or (``per_partition``) one
    consumer per partition polled in turn, as the flow's source does.
    """
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    from dataflows.sources import list_partitions
    from operators.messages import SourceRecord
    from operators.validation import ValidationLimits, decode_tick

    limits = ValidationLimits()
    partitions = list_partitions(bootstrap, topic)
    started = time.perf_counter()
    config = {"bootstrap.servers": bootstrap, "group.id": f"bench-{topic}", "enable.auto.commit": False,
              "enable.auto.offset.store": False, "enable.partition.eof": True, "auto.offset.reset": "earliest",
              **(extra or {})}
    groups = [[partition] for partition in partitions] if per_partition else [partitions]
    consumers = []
    for group in groups:
        consumer = Consumer(config)
        consumer.assign([TopicPartition(topic, partition, 0) for partition in group])
        consumers.append((consumer, set(group)))
    finished: set[int] = set()
    valid = rejected = 0
    decode_s = 0.0
    deadline = time.monotonic() + timeout_s
    try:
        while len(finished) < len(partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: {len(finished)} of {len(partitions)} partitions reached EOF")
            for consumer, owned in consumers:
                if owned <= finished:
                    continue
                batch = consumer.consume(CONSUME_BATCH, 0.05)
                t0 = time.perf_counter()
                for message in batch:
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            finished.add(message.partition())
                            continue
                        raise RuntimeError(f"consuming {topic} failed: {error}")
                    result = decode_tick(SourceRecord(topic, message.partition(), message.offset(), message.key(),
                                                      message.value()), limits)
                    if hasattr(result, "tick"):
                        valid += 1
                    else:
                        rejected += 1
                decode_s += time.perf_counter() - t0
    finally:
        for consumer, _ in consumers:
            consumer.close()
    elapsed = time.perf_counter() - started
    total = valid + rejected
    return {"ticks_in": total, "ticks_valid": valid, "ticks_rejected": rejected, "elapsed_s": round(elapsed, 3),
            "ticks_per_s": round(total / elapsed, 1) if elapsed > 0 else 0.0,
            "decode_s": round(decode_s, 3), "decode_us_per_tick": round(decode_s / total * 1e6, 2) if total else None,
            "loadavg_after": _loadavg(), "consumers": len(consumers), "config": {k: v for k, v in config.items() if k != "bootstrap.servers"}}


# --------------------------------------------------------------------------- flow runs

def _children(pid: int) -> list[int]:
    try:
        import psutil

        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - the parent has gone
        return []
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _proc_sample(pid: int) -> tuple[int, float, str] | None:
    """(VmHWM in kB, utime+stime in s, short command) of ``pid``, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    fields = stat.rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    command = " ".join(part.decode(errors="replace") for part in cmdline[:4] if part)
    return hwm, cpu_s, command


@dataclass
class ProcessWatch:
    """Peak RSS (VmHWM) and CPU seconds of a process tree, by polling /proc."""

    peaks_kb: dict[int, int] = field(default_factory=dict)
    cpu_s: dict[int, float] = field(default_factory=dict)
    commands: dict[int, str] = field(default_factory=dict)

    def poll(self, root: int) -> None:
        for pid in [root, *_children(root)]:
            sample = _proc_sample(pid)
            if sample is None:
                continue
            hwm, cpu, command = sample
            self.peaks_kb[pid] = max(self.peaks_kb.get(pid, 0), hwm)
            self.cpu_s[pid] = max(self.cpu_s.get(pid, 0.0), cpu)
            if command:  # empty before exec and once a zombie
                self.commands[pid] = command

    def report(self, root: int) -> dict[str, object]:
        workers = [pid for pid in self.peaks_kb if pid != root and "bytewax.run" in self.commands.get(pid, "")]
        return {
            "peak_rss_mb_workers": [round(self.peaks_kb[pid] / 1024, 1) for pid in workers],
            "peak_rss_mb_workers_sum": round(sum(self.peaks_kb[pid] for pid in workers) / 1024, 1),
            "peak_rss_mb_cli": round(self.peaks_kb.get(root, 0) / 1024, 1),
            "cpu_s_workers": [round(self.cpu_s[pid], 2) for pid in workers],
        }


def run_flow(stack_env: dict[str, str], topics: TopicSet, processes: int, work: Path,
             timeout_s: float = 3600.0) -> dict[str, object]:
    """``tickwise run --until-eof --processes N`` as a child process; its JSON summary plus RSS and CPU."""
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **stack_env, **topics.env(),
           "CLICKHOUSE_URL": f"chdb://{(work / 'chdb').resolve()}", "TICKWISE_METRICS_PORT": "0"}
    stdout_path, stderr_path = work / "cli.stdout", work / "cli.stderr"
    watch = ProcessWatch()
    started = time.perf_counter()
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "dataflows.cli", "run", "--until-eof", "--processes", str(processes),
             "--state-dir", str(work / "state")],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        try:
            while child.poll() is None:
                watch.poll(child.pid)
                if time.perf_counter() - started > timeout_s:
                    child.terminate()
                    child.wait(30)
                    raise TimeoutError(f"tickwise run took over {timeout_s:.0f} s; see {stderr_path}")
                time.sleep(POLL_S)
        except BaseException:
            if child.poll() is None:
                child.kill()
            raise
    wall = time.perf_counter() - started
    lines = stdout_path.read_text().strip().splitlines()
    if child.returncode != 0 or not lines:
        tail = stderr_path.read_text()[-3000:]
        raise RuntimeError(f"tickwise run --processes {processes} exited {child.returncode}:\n{tail}")
    summary = orjson.loads(lines[-1])
    return {"summary": summary, "cli_wall_s": round(wall, 3), "loadavg_after": _loadavg(), **watch.report(child.pid)}


# --------------------------------------------------------------------------- report

def _us(seconds: float, ticks: int) -> float | None:
    return round(seconds / ticks * 1e6, 2) if ticks and seconds > 0 else None


def _rate(ticks: int, seconds: float) -> float | None:
    return round(ticks / seconds, 1) if ticks and seconds > 0 else None


def build_rows(result: dict[str, object]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    base = result["kafka_consume"]
    base_rate = base["ticks_per_s"]
    rows.append({"name": "kafka_consume (raw consume + decode_tick)", "ticks": base["ticks_in"],
                 "seconds": base["elapsed_s"], "ticks_per_s": base_rate,
                 "us_per_tick": _us(base["elapsed_s"], base["ticks_in"]), "peak_rss_mb": base.get("peak_rss_mb"),
                 "vs_kafka_consume": 1.0, "vs_1_process": None})
    like = result.get("kafka_consume_source_config")
    if like is not None:
        rows.append({"name": "kafka_consume, flow-source config (see notes)", "ticks": like["ticks_in"],
                     "seconds": like["elapsed_s"], "ticks_per_s": like["ticks_per_s"],
                     "us_per_tick": _us(like["elapsed_s"], like["ticks_in"]), "peak_rss_mb": None,
                     "vs_kafka_consume": round(like["ticks_per_s"] / base_rate, 3) if base_rate else None,
                     "vs_1_process": None})
    one: dict[str, float | None] = {}
    for run in result["tickwise"]:
        processes = run["processes"]
        summary = run["summary"]
        ticks = summary["ticks_in"]
        for label, seconds in (("as measured, incl. start-up", summary["elapsed_s"]),
                               ("start-up-corrected", run["corrected_elapsed_s"])):
            rate = _rate(ticks, seconds) if seconds is not None else None
            key = label
            if processes == 1:
                one[key] = rate
            rows.append({
                "name": f"tickwise {processes} proc ({label})", "ticks": ticks, "seconds": seconds,
                "ticks_per_s": rate, "us_per_tick": _us(seconds, ticks) if seconds else None,
                "peak_rss_mb": run["peak_rss_mb_workers_sum"],
                "vs_kafka_consume": round(rate / base_rate, 3) if rate and base_rate else None,
                "vs_1_process": round(rate / one[key], 3) if rate and one.get(key) else None,
            })
    return rows


def format_table(rows: list[dict[str, object]]) -> str:
    def show(value: object, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    header = (f"{'run':<48} {'ticks':>10} {'seconds':>9} {'ticks/s':>10} {'us/tick':>8} {'peak RSS MB':>12} "
              f"{'/kafka_consume':>15} {'/1-process':>11}")
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(f"{row['name']:<48} {show(row['ticks'], ',d'):>10} {show(row['seconds'], '.2f'):>9} "
                     f"{show(row['ticks_per_s'], ',.0f'):>10} {show(row['us_per_tick'], '.2f'):>8} "
                     f"{show(row['peak_rss_mb'], ',.0f'):>12} {show(row['vs_kafka_consume'], '.3f'):>15} "
                     f"{show(row['vs_1_process'], '.3f'):>11}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.flow_throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default="2013-10-09",
                        help=f"comma-separated subset of {','.join(DAYS)} (ET sessions, 08:00-24:00 UTC)")
    parser.add_argument("--symbols", default=None, help="comma-separated symbols (default: all)")
    parser.add_argument("--processes", default="1,2", help="comma-separated process counts (default 1,2)")
    parser.add_argument("--limit", type=int, default=None, help="take only the first N ticks of the selection")
    parser.add_argument("--market", type=Path, default=MARKET_DEFAULT, help="folder with trades/quotes.csv.gz")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args(argv)
    args.days = [day.strip() for day in args.days.split(",") if day.strip()]
    unknown = [day for day in args.days if day not in DAYS]
    if unknown or not args.days:
        parser.error(f"--days must be a subset of {','.join(DAYS)}, got {','.join(unknown) or 'nothing'}")
    args.symbols = [s.strip() for s in args.symbols.split(",") if s.strip()] if args.symbols else None
    try:
        args.processes = [int(p) for p in args.processes.split(",") if p.strip()]
    except ValueError:
        parser.error(f"--processes must be comma-separated integers, got {args.processes!r}")
    if not args.processes or any(p < 1 or p > 64 for p in args.processes):
        parser.error("--processes must be integers between 1 and 64")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be >= 1")
    return args


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict[str, object]:
    from dataflows.stack import start_stack, stop_stack

    args = parse_args(argv)
    facts = machine_facts()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items() if k != "versions"), flush=True)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in facts["versions"].items()), flush=True)

    t0 = time.perf_counter()
    messages = load_messages(args.market, args.days, args.symbols, args.limit)
    load_s = time.perf_counter() - t0
    if not messages:
        raise SystemExit("no ticks in the selection")
    payload_mb = sum(len(k) + len(v) for k, v in messages) / 1e6
    log(f"{len(messages):,} ticks ({payload_mb:.0f} MB of JSON) read and encoded in {load_s:.1f} s")

    result: dict[str, object] = {
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": facts,
        "args": {"days": args.days, "symbols": args.symbols or "all", "processes": args.processes,
                 "limit": args.limit, "partitions": PARTITIONS, "consume_batch": CONSUME_BATCH},
        "ticks": len(messages),
        "payload_mb": round(payload_mb, 1),
        "produce": [],
    }
    with tempfile.TemporaryDirectory(prefix="tickwise-bench-") as tmp:
        work = Path(tmp)
        stack = start_stack(work / "stack")
        stack_env = {"KAFKA_BOOTSTRAP": stack.kafka_bootstrap, "REDIS_URL": stack.redis_url}
        try:
            # Baseline: raw consume + decode.
            topics = new_topics(stack.kafka_bootstrap, "consume")
            produced = produce(stack.kafka_bootstrap, topics, messages)
            result["produce"].append({"run": "kafka_consume", **produced})
            log(f"produced {produced['messages']:,} in {produced['elapsed_s']:.1f} s "
                f"({produced['msgs_per_s']:,.0f} msg/s); consuming")
            base = kafka_consume(stack.kafka_bootstrap, topics.ticks)
            base["peak_rss_mb"] = None  # in-process; the harness's own RSS holds all messages, so not comparable
            result["kafka_consume"] = base
            log(f"kafka_consume: {base['ticks_in']:,} ticks in {base['elapsed_s']:.2f} s "
                f"({base['ticks_per_s']:,.0f}/s, decode {base['decode_us_per_tick']} us/tick)")
            drop_topics(stack.kafka_bootstrap, topics)

            # The same, configured as dataflows/sources.py configures the flow's consumers.
            topics = new_topics(stack.kafka_bootstrap, "consumesrc")
            produced = produce(stack.kafka_bootstrap, topics, messages)
            result["produce"].append({"run": "kafka_consume_source_config", **produced})
            like = kafka_consume(stack.kafka_bootstrap, topics.ticks, per_partition=True, extra=SOURCE_LIKE_CONFIG)
            result["kafka_consume_source_config"] = like
            log(f"kafka_consume, flow-source config: {like['ticks_per_s']:,.0f}/s")
            drop_topics(stack.kafka_bootstrap, topics)

            runs = []
            for processes in args.processes:
                # Fixed cost: the same command on an empty topic (start-up, model load, shutdown, summary-free).
                empty_topics = new_topics(stack.kafka_bootstrap, f"empty{processes}")
                empty = run_flow(stack_env, empty_topics, processes, work / f"empty-p{processes}")
                startup_s = empty["summary"]["elapsed_s"]
                log(f"empty topic, {processes} process(es): {startup_s:.2f} s fixed cost "
                    f"(ticks_in {empty['summary']['ticks_in']})")
                drop_topics(stack.kafka_bootstrap, empty_topics)

                topics = new_topics(stack.kafka_bootstrap, f"p{processes}")
                produced = produce(stack.kafka_bootstrap, topics, messages)
                result["produce"].append({"run": f"tickwise_p{processes}", **produced})
                log(f"produced {produced['messages']:,} ({produced['msgs_per_s']:,.0f} msg/s); "
                    f"running the flow on {processes} process(es)")
                run = run_flow(stack_env, topics, processes, work / f"run-p{processes}")
                summary = run["summary"]
                corrected = summary["elapsed_s"] - startup_s
                run.update({
                    "processes": processes,
                    "produced": produced["messages"],
                    "startup_s": startup_s,
                    "startup_run": empty,
                    "corrected_elapsed_s": round(corrected, 3) if corrected > 0 else None,
                    "corrected_ticks_per_s": _rate(summary["ticks_in"], corrected) if corrected > 0 else None,
                })
                runs.append(run)
                log(f"tickwise {processes} proc: {summary['ticks_in']:,} ticks in {summary['elapsed_s']:.2f} s "
                    f"({summary['ticks_per_s']:,.0f}/s; {run['corrected_ticks_per_s']}/s start-up-corrected), "
                    f"workers peak RSS {run['peak_rss_mb_workers']} MB, CPU {run['cpu_s_workers']} s")
                drop_topics(stack.kafka_bootstrap, topics)
            result["tickwise"] = runs
        finally:
            stop_stack(work / "stack")

    rows = build_rows(result)
    result["table"] = rows
    rates = [p["msgs_per_s"] for p in result["produce"]]
    result["producer_msgs_per_s_median"] = sorted(rates)[len(rates) // 2]
    by_processes = {run["processes"]: run for run in result["tickwise"]}
    if 1 in by_processes and 2 in by_processes:
        result["scaling_2_over_1"] = {
            "as_measured": round(by_processes[2]["summary"]["ticks_per_s"] / by_processes[1]["summary"]["ticks_per_s"], 3),
            "startup_corrected": (round(by_processes[2]["corrected_ticks_per_s"] / by_processes[1]["corrected_ticks_per_s"], 3)
                                  if by_processes[2]["corrected_ticks_per_s"] and by_processes[1]["corrected_ticks_per_s"]
                                  else None),
        }

    print()
    print(f"tickwise flow throughput: {len(messages):,} real ticks ({','.join(args.days)}, "
          f"{'all symbols' if not args.symbols else ','.join(args.symbols)}), {PARTITIONS} partitions, "
          f"{facts['cores']} cores ({facts['cpu_model']})")
    print("producer: " + ", ".join(f"{p['run']} {p['msgs_per_s']:,.0f} msg/s" for p in result["produce"]))
    print(format_table(rows))
    print("  kafka_consume: one consumer, librdkafka defaults; flow-source config: one consumer per partition with "
          f"{SOURCE_LIKE_CONFIG} as in dataflows/sources.py")
    for run in result["tickwise"]:
        print(f"  tickwise {run['processes']} proc: start-up/shutdown fixed cost {run['startup_s']:.2f} s "
              f"(same command on an empty topic); worker peak RSS {run['peak_rss_mb_workers']} MB; "
              f"worker CPU {run['cpu_s_workers']} s; signals {run['summary']['signals_accepted']:,}, "
              f"predictions {run['summary']['predictions']:,}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
