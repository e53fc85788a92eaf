"""Where the signal flow spends its time: cProfile over ``run_main`` of the live flow.

Starts its own embedded stack, produces the first ``--limit`` real ticks of the day (default
200,000 of 2013-10-09, all symbols) to fresh topics, builds the flow exactly as
``dataflows.signals:flow()`` does (every sink on, metrics recorded without an HTTP endpoint)
and runs it in this process (one worker) under cProfile. Prints the top functions by own
time and by cumulative time, and a share per package, and saves the raw ``.prof``.

cProfile adds overhead per Python call, so absolute times here are inflated; read the
shares, and take throughput figures from ``bench.flow_throughput``.

    python -m bench.profile_flow --limit 200000
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.flow_throughput import MARKET_DEFAULT, REPO_ROOT, load_messages, new_topics, produce


def _bucket(filename: str) -> str:
    for marker, name in (("/dataflows/", "dataflows"), ("/operators/", "operators"), ("/models/", "models"),
                         ("/sinks/", "sinks"), ("/bytewax/", "bytewax"), ("/xgboost/", "xgboost"),
                         ("/river/", "river"), ("/clickhouse_connect/", "clickhouse_connect"),
                         ("/chdb/", "chdb"), ("/redis/", "redis"), ("/confluent_kafka/", "confluent_kafka"),
                         ("/numpy/", "numpy"), ("/prometheus_client/", "prometheus_client"),
                         ("/msgspec/", "msgspec"), ("/pandas/", "pandas")):
        if marker in filename:
            return name
    if filename.startswith("<") or filename == "~":
        return "builtins / C extensions"
    return "other python"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_flow")
    parser.add_argument("--day", default="2013-10-09")
    parser.add_argument("--symbols", default=None)
    parser.add_argument("--limit", type=int, default=200_000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "profile_flow.prof")
    args = parser.parse_args(argv)

    from bytewax.testing import run_main

    from dataflows.components import build_components
    from dataflows.config import load_settings
    from dataflows.signals import build_flow
    from dataflows.stack import start_stack, stop_stack

    symbols = args.symbols.split(",") if args.symbols else None
    messages = load_messages(MARKET_DEFAULT, [args.day], symbols, args.limit)
    with tempfile.TemporaryDirectory(prefix="tickwise-profile-") as tmp:
        work = Path(tmp)
        stack = start_stack(work / "stack")
        try:
            topics = new_topics(stack.kafka_bootstrap, "profile")
            produce(stack.kafka_bootstrap, topics, messages)
            env = topics.env()
            settings = load_settings(
                kafka={"bootstrap": stack.kafka_bootstrap, "ticks_topic": env["KAFKA_TICKS_TOPIC"],
                       "signals_topic": env["KAFKA_SIGNALS_TOPIC"], "dlq_topic": env["KAFKA_DLQ_TOPIC"],
                       "model_events_topic": env["KAFKA_MODEL_EVENTS_TOPIC"]},
                redis={"url": stack.redis_url, "key_prefix": env["TICKWISE_REDIS_KEY_PREFIX"]},
                clickhouse={"url": f"chdb://{work / 'chdb'}"}, run={"until_eof": True}, metrics={"port": 0})
            components = build_components(settings)
            flow = build_flow(components, components.kafka_source(), components.live_outputs())
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            run_main(flow)
            profiler.disable()
            elapsed = time.perf_counter() - started
        finally:
            stop_stack(work / "stack")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(args.out))
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    print(f"{len(messages):,} ticks in {elapsed:.1f} s under cProfile ({len(messages) / elapsed:,.0f}/s, "
          f"inflated by profiling); profiled own time {total:.1f} s")
    shares: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        shares[_bucket(filename)] += tottime
    print("\nown time by package:")
    for name, seconds in sorted(shares.items(), key=lambda item: -item[1]):
        print(f"  {name:<26} {seconds:8.2f} s  {seconds / total:6.1%}  {seconds / len(messages) * 1e6:7.2f} us/tick")
    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"\ntop {args.top} by {order}:")
        print("\n".join(buffer.getvalue().splitlines()[6:]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
