"""tickwise side by side with the ingestion limit, the model limit and a naive design, on real ticks.

One invocation (``make bench``, ``tickwise bench`` or ``python -m bench.flow_throughput``)
starts its own embedded stack (Tansu + Redis; chDB directories under a temp dir), reads the
real ticks of the chosen ET sessions from the recorded market data (``--market``) and measures, on the same
ticks, each on a fresh uuid-prefixed topic set (4 partitions) that it produces first:

* ``kafka_consume``: raw confluent-kafka consume + ``decode_tick`` to EOF (``bench.kafka_consume``),
  with librdkafka's defaults and with the flow-source configuration;
* ``feature_stage``: the live feature stage in-process over the same messages, no Kafka and
  no sinks (``bench.inference --stage features``); its rows feed the next line;
* ``inference_only``: the shipped ensemble scoring those feature rows at batch 1024
  (``bench.inference --stage score``);
* ``naive``: a per-tick pandas + per-tick predict design on a sample, extrapolated (``bench.naive``);
* ``tickwise pN``: the real flow through the CLI (``tickwise run --until-eof --processes N``)
  with every sink on (Kafka signals + DLQ + model events, chDB, Redis, metrics recorded with
  ``TICKWISE_METRICS_PORT=0``). A run of the same command on an EMPTY topic measures the
  fixed start-up cost; the ``start-up-corrected`` rows subtract it;
* ``latency``: the live flow (1 process) fed at 50% of the best measured tickwise rate for
  ``--latency-seconds``; tick-to-signal p50/p99/p99.9 from an HDR histogram (``bench.latency``);
* ``universe``: per-symbol state at ``--universe`` synthetic symbols: bytes, snapshot time,
  RSS (``bench.universe``).

Each in-process stage runs in its own interpreter so its peak RSS is its own. Prints one
table and writes every figure (plus machine facts and load averages) as JSON to ``--out``.
Nothing here asserts a timing: this is a benchmark, not a test.

    python -m bench.flow_throughput                       # 2013-10-09, all symbols, everything
    python -m bench.flow_throughput --limit 5000 --processes 1 --latency-seconds 5 --universe 50
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
import pandas as pd

from bench import report
from bench.child import run_stage, write_messages
from bench.machine import REPO_ROOT, ProcessWatch, loadavg, machine_facts

MARKET_DEFAULT = (REPO_ROOT.parent / "shared" / "data" / "market").resolve()
DAYS = ("2013-10-07", "2013-10-08", "2013-10-09")
PARTITIONS = 4
POLL_S = 0.1
STAGES = ("consume_source_config", "inference", "naive", "latency", "universe")


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


def middle_slice(messages: list[tuple[bytes, bytes]], count: int) -> list[tuple[bytes, bytes]]:
    """``count`` consecutive messages from the middle third of the selection (the regular session)."""
    count = min(count, len(messages))
    start = max(0, min(len(messages) - count, len(messages) // 3))
    return messages[start:start + count]


# --------------------------------------------------------------------------- topics

@dataclass(frozen=True)
class TopicSet:
    prefix: str

    @property
    def ticks(self) -> str:
        return f"{self.prefix}.ticks"

    @property
    def signals(self) -> str:
        return f"{self.prefix}.signals"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}.ticks.dlq"

    def env(self) -> dict[str, str]:
        return {"KAFKA_TICKS_TOPIC": self.ticks, "KAFKA_SIGNALS_TOPIC": self.signals,
                "KAFKA_DLQ_TOPIC": self.dead_letters, "KAFKA_MODEL_EVENTS_TOPIC": f"{self.prefix}.model-events",
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

    report_ = produce_messages(bootstrap, topics.ticks, messages)
    return {"messages": report_.messages, "elapsed_s": round(report_.elapsed_s, 3),
            "msgs_per_s": round(report_.messages_per_s, 1)}


# --------------------------------------------------------------------------- flow runs

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
                    raise TimeoutError(f"tickwise run took over {timeout_s:.0f} s; see {stderr_path}")
                time.sleep(POLL_S)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    wall = time.perf_counter() - started
    lines = stdout_path.read_text().strip().splitlines()
    if child.returncode != 0 or not lines:
        raise RuntimeError(f"tickwise run --processes {processes} exited {child.returncode}:\n"
                           f"{stderr_path.read_text()[-3000:]}")
    return {"summary": orjson.loads(lines[-1]), "cli_wall_s": round(wall, 3), "loadavg_after": loadavg(),
            **watch.report(child.pid)}


def tickwise_runs(stack_env: dict[str, str], messages: list[tuple[bytes, bytes]], processes_list: list[int],
                  work: Path, result: dict[str, object]) -> list[dict[str, object]]:
    bootstrap = stack_env["KAFKA_BOOTSTRAP"]
    runs = []
    for processes in processes_list:
        # Fixed cost: the same command on an empty topic (start-up, model load, shutdown).
        empty_topics = new_topics(bootstrap, f"empty{processes}")
        empty = run_flow(stack_env, empty_topics, processes, work / f"empty-p{processes}")
        startup_s = empty["summary"]["elapsed_s"]
        drop_topics(bootstrap, empty_topics)
        log(f"empty topic, {processes} process(es): {startup_s:.2f} s fixed cost")

        topics = new_topics(bootstrap, f"p{processes}")
        produced = produce(bootstrap, topics, messages)
        result["produce"].append({"run": f"tickwise_p{processes}", **produced})
        run = run_flow(stack_env, topics, processes, work / f"run-p{processes}")
        summary = run["summary"]
        corrected = summary["elapsed_s"] - startup_s
        run.update({"processes": processes, "produced": produced["messages"], "startup_s": startup_s,
                    "startup_run": empty, "corrected_elapsed_s": round(corrected, 3) if corrected > 0 else None,
                    "corrected_ticks_per_s": report.rate(summary["ticks_in"], corrected) if corrected > 0 else None})
        runs.append(run)
        log(f"tickwise {processes} proc: {summary['ticks_in']:,} ticks in {summary['elapsed_s']:.2f} s "
            f"({summary['ticks_per_s']:,.0f}/s; {run['corrected_ticks_per_s']}/s start-up-corrected), "
            f"workers peak RSS {run['peak_rss_mb_workers']} MB, CPU {run['cpu_s_workers']} s")
        drop_topics(bootstrap, topics)
    return runs


# --------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.flow_throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default="2013-10-09",
                        help=f"comma-separated subset of {','.join(DAYS)} (ET sessions, 08:00-24:00 UTC)")
    parser.add_argument("--symbols", default=None, help="comma-separated symbols (default: all)")
    parser.add_argument("--processes", default="1,2", help="comma-separated process counts (default 1,2)")
    parser.add_argument("--limit", type=int, default=None, help="take only the first N ticks of the selection")
    parser.add_argument("--market", type=Path, default=MARKET_DEFAULT, help="folder with trades/quotes.csv.gz")
    parser.add_argument("--naive-sample", type=int, default=2000, help="ticks timed in the naive design")
    parser.add_argument("--naive-window", type=int, default=500, help="ticks per symbol window in the naive design")
    parser.add_argument("--inference-batch", type=int, default=1024)
    parser.add_argument("--latency-seconds", type=float, default=60.0, help="length of the fixed-rate live run")
    parser.add_argument("--latency-load", type=float, default=0.5, help="fraction of the best tickwise rate")
    parser.add_argument("--universe", type=int, default=10_000, help="synthetic symbols for the state-scale run")
    parser.add_argument("--universe-slice", type=int, default=200_000, help="real ticks that warm the templates")
    parser.add_argument("--skip", default="", help=f"comma-separated stages to leave out: {','.join(STAGES)}")
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
    for name in ("naive_sample", "naive_window", "inference_batch", "universe", "universe_slice"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.latency_seconds <= 0 or not 0 < args.latency_load <= 1:
        parser.error("--latency-seconds must be > 0 and --latency-load in (0, 1]")
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if args.skip - set(STAGES):
        parser.error(f"--skip takes {','.join(STAGES)}, got {','.join(sorted(args.skip - set(STAGES)))}")
    return args


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def consume_stage(bootstrap: str, messages: list[tuple[bytes, bytes]], label: str, per_partition: bool,
                  work: Path, result: dict[str, object]) -> dict[str, object]:
    topics = new_topics(bootstrap, label)
    produced = produce(bootstrap, topics, messages)
    result["produce"].append({"run": label, **produced})
    args = ["--bootstrap", bootstrap, "--topic", topics.ticks, *(["--per-partition"] if per_partition else [])]
    consumed = run_stage("bench.kafka_consume", args, work / label)
    drop_topics(bootstrap, topics)
    log(f"{label}: {consumed['ticks_in']:,} ticks in {consumed['elapsed_s']:.2f} s ({consumed['ticks_per_s']:,.0f}/s)")
    return consumed


def in_process_stages(args: argparse.Namespace, messages: list[tuple[bytes, bytes]], work: Path,
                      result: dict[str, object]) -> None:
    if "inference" not in args.skip:
        matrix = work / "feature_rows.npy"
        features = run_stage("bench.inference", ["--stage", "features", "--messages",
                                                 str(write_messages(work / "messages.pkl", messages)),
                                                 "--matrix", str(matrix), "--batch", str(args.inference_batch)],
                             work / "features")
        (work / "messages.pkl").unlink()
        result["feature_stage"] = features
        log(f"feature stage: {features['ticks']:,} ticks -> {features['rows']:,} rows in {features['elapsed_s']:.2f} s")
        scored = run_stage("bench.inference", ["--stage", "score", "--matrix", str(matrix), "--ticks",
                                               str(len(messages)), "--batch", str(args.inference_batch)],
                           work / "score")
        result["inference_only"] = scored
        log(f"inference_only: {scored['rows']:,} rows in {scored['elapsed_s']:.3f} s ({scored['us_per_row']} us/row)")
    if "naive" not in args.skip:
        warmup = min(5000, max(0, len(messages) - args.naive_sample - 1))
        sample = middle_slice(messages, warmup + args.naive_sample + 1)
        naive = run_stage("bench.naive", ["--messages", str(write_messages(work / "naive.pkl", sample)),
                                          "--warmup", str(warmup), "--window", str(args.naive_window)], work / "naive")
        result["naive"] = naive
        log(f"naive: {naive['us_per_tick']:,.0f} us/tick over {naive['sample_ticks']:,} ticks")
    if "universe" not in args.skip:
        ticks = middle_slice(messages, args.universe_slice)
        universe = run_stage("bench.universe", ["--messages", str(write_messages(work / "universe.pkl", ticks)),
                                                "--universe", str(args.universe)], work / "universe")
        result["universe"] = universe
        log(report.format_universe(universe))


def latency_stage(args: argparse.Namespace, stack_env: dict[str, str], messages: list[tuple[bytes, bytes]],
                  work: Path, result: dict[str, object]) -> None:
    from bench.latency import kafka_round_trip, measure

    runs = result.get("tickwise") or []
    best = max((run["corrected_ticks_per_s"] or run["summary"]["ticks_per_s"] for run in runs), default=None)
    if not best:
        log("latency: no tickwise rate to take a fraction of; skipped")
        return
    rate = best * args.latency_load
    ticks = middle_slice(messages, int(rate * args.latency_seconds))
    topics = new_topics(stack_env["KAFKA_BOOTSTRAP"], "latency")
    log(f"latency: live flow, {len(ticks):,} ticks at {rate:,.0f}/s ({args.latency_load:.0%} of {best:,.0f}/s)")
    latency = measure(stack_env, topics.env(), topics.signals, topics.dead_letters, topics.ticks, ticks, rate,
                      work / "latency", warmup_s=min(5.0, args.latency_seconds / 4))
    latency["of_rate_per_s"] = best
    latency["load_fraction"] = args.latency_load
    drop_topics(stack_env["KAFKA_BOOTSTRAP"], topics)
    # The broker alone at the same rate, for 1/4 of the time: the floor under the figure above.
    for key, extra in (("kafka_round_trip", None), ("kafka_round_trip_fetch_wait_500ms", {"fetch.wait.max.ms": 500})):
        topics = new_topics(stack_env["KAFKA_BOOTSTRAP"], "rtt")
        latency[key] = kafka_round_trip(stack_env["KAFKA_BOOTSTRAP"], topics.ticks, ticks[:max(1, len(ticks) // 4)],
                                        rate, extra=extra)
        drop_topics(stack_env["KAFKA_BOOTSTRAP"], topics)
    result["latency"] = latency
    log(report.format_latency(latency))


def main(argv: list[str] | None = None) -> dict[str, object]:
    from dataflows.stack import start_stack, stop_stack

    args = parse_args(argv)
    facts = machine_facts()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items() if k != "versions"), flush=True)
    print("versions: " + ", ".join(f"{k} {v}" for k, v in facts["versions"].items()), flush=True)

    t0 = time.perf_counter()
    messages = load_messages(args.market, args.days, args.symbols, args.limit)
    if not messages:
        raise SystemExit("no ticks in the selection")
    payload_mb = sum(len(k) + len(v) for k, v in messages) / 1e6
    log(f"{len(messages):,} ticks ({payload_mb:.0f} MB of JSON) read and encoded in {time.perf_counter() - t0:.1f} s")

    result: dict[str, object] = {
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": facts,
        "args": {"days": args.days, "symbols": args.symbols or "all", "processes": args.processes,
                 "limit": args.limit, "partitions": PARTITIONS, "naive_sample": args.naive_sample,
                 "naive_window": args.naive_window, "inference_batch": args.inference_batch,
                 "latency_seconds": args.latency_seconds, "latency_load": args.latency_load,
                 "universe": args.universe, "universe_slice": args.universe_slice, "skip": sorted(args.skip)},
        "ticks": len(messages),
        "payload_mb": round(payload_mb, 1),
        "produce": [],
    }
    # ignore_cleanup_errors: a chDB directory can still be closing when the last flow run has exited.
    with tempfile.TemporaryDirectory(prefix="tickwise-bench-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        stack = start_stack(work / "stack")
        stack_env = {"KAFKA_BOOTSTRAP": stack.kafka_bootstrap, "REDIS_URL": stack.redis_url}
        try:
            result["kafka_consume"] = consume_stage(stack.kafka_bootstrap, messages, "kafka_consume", False,
                                                    work, result)
            if "consume_source_config" not in args.skip:
                result["kafka_consume_source_config"] = consume_stage(
                    stack.kafka_bootstrap, messages, "kafka_consume_source_config", True, work, result)
            in_process_stages(args, messages, work, result)
            result["tickwise"] = tickwise_runs(stack_env, messages, args.processes, work, result)
            if "latency" not in args.skip:
                latency_stage(args, stack_env, messages, work, result)
        finally:
            stop_stack(work / "stack")
    result["machine"]["loadavg_at_end"] = loadavg()

    rows = report.build_rows(result)
    result["table"] = rows
    result["ratios"] = report.ratios(rows)
    rates = [p["msgs_per_s"] for p in result["produce"]]
    result["producer_msgs_per_s_median"] = sorted(rates)[len(rates) // 2]

    print()
    print(f"tickwise side by side: {len(messages):,} real ticks ({','.join(args.days)}, "
          f"{'all symbols' if not args.symbols else ','.join(args.symbols)}), {PARTITIONS} partitions, "
          f"{facts['cores']} cores ({facts['cpu_model']}), load average {facts['loadavg_at_start']} at start, "
          f"{result['machine']['loadavg_at_end']} at end")
    print("producer: " + ", ".join(f"{p['run']} {p['msgs_per_s']:,.0f} msg/s" for p in result["produce"]))
    print(report.format_table(rows))
    print("ratios (start-up-corrected 1 process): " + ", ".join(
        f"{name} {value}" for name, value in result["ratios"].items()))
    for run in result["tickwise"]:
        print(f"  tickwise {run['processes']} proc: start-up/shutdown {run['startup_s']:.2f} s; worker peak RSS "
              f"{run['peak_rss_mb_workers']} MB; RSS over the run {run['rss_mb_workers_over_time']}; worker CPU "
              f"{run['cpu_s_workers']} s; signals {run['summary']['signals_accepted']:,}, predictions "
              f"{run['summary']['predictions']:,}")
    if "latency" in result:
        print(report.format_latency(result["latency"]))
    if "universe" in result:
        print(report.format_universe(result["universe"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
