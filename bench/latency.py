"""Tick-to-signal latency of the live flow at a fixed produce rate, in an HDR histogram.

The harness produces real ticks to the ticks topic at ``rate`` per second (paced every
millisecond) while the flow runs live (``tickwise run``, not ``--until-eof``), and
measures, for every signal, the time from the ``produce()`` call of the tick it came from
to the arrival of the signal at a consumer of the **signals topic**:

* produce side: each delivery report records ``(partition, offset) -> wall ns`` of the
  ``produce()`` call (a side map keyed by source position; wall clock ``time.time_ns``);
* signal side: a consumer thread on every partition of the signals topic (polling every
  5 ms, ``fetch.wait.max.ms=5``) stamps each message on arrival; the signal's
  ``source_partition`` / ``source_offset`` name the tick whose feature row was scored.

The same consumer also reads the dead-letter topic (``tickwise.source.partition`` /
``tickwise.source.offset`` headers): a rejected tick skips features, scoring and risk, so
its latency is the plumbing alone (source poll, decode, Kafka sink) for comparison.

So the signal figure covers the producer client, the broker, the flow's source poll, every step
up to risk (including the portfolio step's event-time ordering), the Kafka signals sink
and the broker again. Only ticks that become an accepted signal are measured (a feature
row is emitted at most once per symbol per second of event time and most predictions are
denied), so the sample is the signals. Ticks produced in the first ``warmup_s`` are left
out. Before that, ``PROBE_TICKS`` ticks are produced and the run waits until the flow has
written a feature row to Redis (it is live), and with ``--role both`` until the history flow has
started and settled or exited (``wait_for_history``), so start-up is never measured. Both clocks are
this machine's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.machine import REPO_ROOT, ProcessWatch, loadavg

PACE_S = 0.001
PROBE_TICKS = 200
HIGHEST_US = 600_000_000  # 10 minutes
PERCENTILES = (50.0, 90.0, 99.0, 99.9)
#: The live conditions of the latency stage: (key, ``tickwise run --role``, what is changed).
LATENCY_CONDITIONS = (("both_flows", "both", "signals flow + history flow (the default live system)"),
                      ("history_stopped", "signals", "the history flow stopped (--role signals)"),
                      ("clickhouse_unavailable", "both", "both flows, CLICKHOUSE_URL at a closed port"))


@dataclass
class SignalArrivals:
    """Arrival wall ns of each signal, by the source position it names."""

    arrivals: dict[tuple[int, int], int] = field(default_factory=dict)
    dead_letters: dict[tuple[int, int], int] = field(default_factory=dict)
    last_arrival_ns: int = 0
    errors: list[str] = field(default_factory=list)


def _dead_letter_position(headers: list[tuple[str, bytes]] | None) -> tuple[int, int] | None:
    found = {name: value for name, value in headers or []}
    try:
        return int(found["tickwise.source.partition"]), int(found["tickwise.source.offset"])
    except (KeyError, ValueError):
        return None


def _consume_signals(bootstrap: str, topic: str, dlq_topic: str, stop: threading.Event,
                     into: SignalArrivals) -> None:
    from confluent_kafka import Consumer, TopicPartition

    from dataflows.sources import list_partitions

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-latency-{topic}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "fetch.wait.max.ms": 5, "fetch.min.bytes": 1})
    consumer.assign([TopicPartition(name, partition, 0) for name in (topic, dlq_topic)
                     for partition in list_partitions(bootstrap, name)])
    try:
        while not stop.is_set():
            for message in consumer.consume(1000, 0.005):
                now = time.time_ns()
                if message.error() is not None:
                    into.errors.append(str(message.error()))
                    continue
                if message.topic() == dlq_topic:
                    position = _dead_letter_position(message.headers())
                    if position is not None:
                        into.dead_letters[position] = now
                    continue
                value = orjson.loads(message.value())
                into.arrivals[(int(value["source_partition"]), int(value["source_offset"]))] = now
                into.last_arrival_ns = now
    finally:
        consumer.close()


#: The feed's producer batching: librdkafka's default ``linger.ms`` (5 ms), as a feed handler
#: would run it; the measured latency includes it. With 1-ms batches the embedded Tansu falls
#: behind the flow's per-partition fetches (measured on 2 cores at 10k msg/s: the backlog grew to
#: 9 s in 8 s; 10-ms batches: p99 20 ms, flat), a broker limit that Kafka and Redpanda do not have.
FEED_LINGER_MS = 5


def produce_paced(bootstrap: str, topic: str, messages: Sequence[tuple[bytes, bytes]], rate: float
                  ) -> tuple[dict[tuple[int, int], int], float]:
    """Produce at ``rate`` messages/s; the wall ns of each ``produce()`` call by (partition, offset)."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": FEED_LINGER_MS, "acks": "all",
                         "queue.buffering.max.messages": 500_000})
    stamps: dict[tuple[int, int], int] = {}
    failures: list[str] = []

    def delivered(sent_ns: int):  # noqa: ANN202 - a delivery callback bound to its produce time
        def report(error: object, message: object) -> None:
            if error is not None:
                failures.append(str(error))
            else:
                stamps[(message.partition(), message.offset())] = sent_ns  # type: ignore[attr-defined]
        return report

    started = time.perf_counter()
    sent = 0
    total = len(messages)
    while sent < total:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        while sent < due:
            key, value = messages[sent]
            producer.produce(topic, value=value, key=key, on_delivery=delivered(time.time_ns()))
            sent += 1
        producer.poll(0)
        time.sleep(PACE_S)
    elapsed = time.perf_counter() - started
    producer.flush(60)
    if failures:
        raise RuntimeError(f"{len(failures)} ticks were not delivered to {topic}: {failures[0]}")
    return stamps, elapsed


def wait_until_live(redis_url: str, key_prefix: str, child: subprocess.Popen[bytes], work: Path,
                    timeout_s: float) -> float:
    """Seconds until the flow has written a feature row to Redis; raises if it exits or times out."""
    import redis

    client = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout_s:
            if child.poll() is not None:
                raise RuntimeError(f"the live flow exited {child.returncode}: "
                                   f"{(work / 'cli.stderr').read_text()[-2000:]}")
            if next(client.scan_iter(match=f"{key_prefix}*", count=1000), None) is not None:
                return time.monotonic() - started
            time.sleep(0.2)
    finally:
        client.close()
    raise TimeoutError(f"the live flow wrote no feature row to Redis within {timeout_s:.0f} s")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for_history(watch: ProcessWatch, timeout_s: float, quiet_cpu_s: float = 0.2) -> tuple[float, str]:
    """With ``--role both``: seconds until the history flow has started and settled, and how it ended.

    ``idle``: its Bytewax worker exists and used < ``quiet_cpu_s`` of CPU over the last second
    (start-up done, the probe ticks consumed); ``exited``: the history child is gone (e.g. it
    failed at its first ClickHouse write); ``timeout``. Keeps its start-up out of the window."""
    started = time.monotonic()
    last_cpu: float | None = None
    while time.monotonic() - started < timeout_s:
        time.sleep(1.0)
        children = [pid for pid, command in list(watch.commands.items()) if "--role history" in command]
        if children and not any(_alive(pid) for pid in children):
            return time.monotonic() - started, "exited"
        workers = [pid for pid, command in list(watch.commands.items())
                   if "bytewax.run" in command and "dataflows.history" in command and _alive(pid)]
        if workers:
            cpu = sum(watch.cpu_s.get(pid, 0.0) for pid in workers)
            if last_cpu is not None and cpu - last_cpu < quiet_cpu_s:
                return time.monotonic() - started, "idle"
            last_cpu = cpu
    return time.monotonic() - started, "timeout"


def histogram_summary(latencies_us: Sequence[int]) -> dict[str, object]:
    from hdrh.histogram import HdrHistogram

    histogram = HdrHistogram(1, HIGHEST_US, 3)
    for value in latencies_us:
        histogram.record_value(max(1, min(int(value), HIGHEST_US)))
    count = histogram.get_total_count()
    summary: dict[str, object] = {"count": count}
    if count:
        for percentile in PERCENTILES:
            summary[f"p{percentile:g}_ms"] = round(histogram.get_value_at_percentile(percentile) / 1000, 2)
        summary["max_ms"] = round(histogram.get_max_value() / 1000, 2)
        summary["mean_ms"] = round(histogram.get_mean_value() / 1000, 2)
    return summary


def measure(stack_env: dict[str, str], topics_env: dict[str, str], signals_topic: str, dlq_topic: str,
            ticks_topic: str, messages: Sequence[tuple[bytes, bytes]], rate: float, work: Path,
            startup_timeout_s: float = 180.0, warmup_s: float = 5.0, drain_s: float = 5.0, timeout_s: float = 600.0,
            role: str = "both", env_overrides: dict[str, str] | None = None) -> dict[str, object]:
    """Run the live system (``tickwise run --role ROLE``, 1 signals process), produce ``messages`` at
    ``rate``, and histogram tick-to-signal. ``role`` ``both``: the signals flow and the history flow
    beside it (the default live system); ``signals``: the history flow stopped. ``env_overrides``
    e.g. point ``CLICKHOUSE_URL`` at a closed port (ClickHouse unavailable)."""
    bootstrap = stack_env["KAFKA_BOOTSTRAP"]
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **stack_env, **topics_env, "TICKWISE_METRICS_PORT": "0", **(env_overrides or {})}
    arrivals = SignalArrivals()
    stop = threading.Event()
    reader = threading.Thread(target=_consume_signals, args=(bootstrap, signals_topic, dlq_topic, stop, arrivals),
                              daemon=True)
    reader.start()
    watch = ProcessWatch()
    with open(work / "cli.stdout", "wb") as out, open(work / "cli.stderr", "wb") as err:
        child = subprocess.Popen([sys.executable, "-m", "dataflows.cli", "run", "--role", role, "--processes", "1",
                                  "--state-dir", str(work / "state")],
                                 cwd=REPO_ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
        sampler_stop = threading.Event()

        def sample() -> None:
            while not sampler_stop.is_set():
                watch.poll(child.pid)
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            # Readiness: a few probe ticks, then wait until their features reach Redis (the flow is live).
            probe, messages = messages[:PROBE_TICKS], messages[PROBE_TICKS:]
            produce_paced(bootstrap, ticks_topic, probe, rate)
            ready_s = wait_until_live(stack_env["REDIS_URL"], topics_env["TICKWISE_REDIS_KEY_PREFIX"], child,
                                      work, startup_timeout_s)
            history_ready = wait_for_history(watch, startup_timeout_s) if role == "both" else (0.0, "not started")
            time.sleep(1.0)
            loadavg_before = loadavg()
            produce_started_ns = time.time_ns()
            stamps, produce_s = produce_paced(bootstrap, ticks_topic, messages, rate)
            # Drain: until no signal has arrived for drain_s (or the timeout).
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                quiet_s = (time.time_ns() - max(arrivals.last_arrival_ns, produce_started_ns)) / 1e9
                if quiet_s >= drain_s:
                    break
                time.sleep(0.2)
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
                try:
                    child.wait(60)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            # The CLI runs the Bytewax worker as its own child: never leave one behind to eat a
            # core during the next stage (its own session, so the whole group can be reaped).
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            sampler_stop.set()
            sampler.join(5)
            stop.set()
            reader.join(10)
    warmup_end_ns = produce_started_ns + int(warmup_s * 1e9)
    measured: list[tuple[int, int]] = []  # (sent ns, latency us)
    unmatched = 0
    for position, arrived in arrivals.arrivals.items():
        sent = stamps.get(position)
        if sent is None:
            unmatched += 1
            continue
        if sent >= warmup_end_ns:
            measured.append((sent, (arrived - sent) // 1000))
    measured.sort()
    dead_letter_latencies = [(arrived - stamps[position]) // 1000 for position, arrived in arrivals.dead_letters.items()
                             if position in stamps and stamps[position] >= warmup_end_ns]
    half = len(measured) // 2
    history_log = work / "state" / "logs" / "history-run.log"
    history_processes = sorted({command for pid, command in watch.commands.items() if "--role history" in command})
    report = {
        "endpoint": "signals topic, consumer arrival (source_partition/source_offset -> produce() wall time)",
        "role": role, "env_overrides": env_overrides or {}, "history_flow_seen": bool(history_processes),
        "history_log_tail": history_log.read_text(errors="replace")[-600:] if history_log.exists() else None,
        "rate_target_per_s": round(rate, 1), "ticks_produced": len(messages), "probe_ticks": PROBE_TICKS,
        "flow_live_after_s": round(ready_s, 2), "produce_s": round(produce_s, 2),
        "history_settled_after_s": round(history_ready[0], 2), "history_at_start": history_ready[1],
        "rate_achieved_per_s": round(len(messages) / produce_s, 1) if produce_s > 0 else None,
        "warmup_s": warmup_s, "signals_received": len(arrivals.arrivals), "signals_unmatched": unmatched,
        "consumer_errors": arrivals.errors[:5],
        "latency": histogram_summary([latency for _, latency in measured]),
        "latency_first_half": histogram_summary([latency for _, latency in measured[:half]]),
        "latency_second_half": histogram_summary([latency for _, latency in measured[half:]]),
        "dead_letters_received": len(arrivals.dead_letters),
        "dead_letter_latency": histogram_summary(dead_letter_latencies),
        "loadavg_before": loadavg_before, "loadavg_after": loadavg(),
        **watch.report(child.pid),
    }
    return report


def _source_like_consumers(bootstrap: str, topic: str, group: str, extra: dict[str, object] | None = None) -> list:
    """One consumer per partition of ``topic`` from offset 0 with the flow source's fetch config
    (``bench.kafka_consume.SOURCE_LIKE_CONFIG``), as ``dataflows/sources.py`` reads; ``extra`` overrides."""
    from confluent_kafka import Consumer, TopicPartition

    from bench.kafka_consume import SOURCE_LIKE_CONFIG
    from dataflows.sources import list_partitions

    consumers = []
    for partition in list_partitions(bootstrap, topic):
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                             "auto.offset.reset": "earliest", **SOURCE_LIKE_CONFIG, **(extra or {})})
        consumer.assign([TopicPartition(topic, partition, 0)])
        consumers.append(consumer)
    return consumers


def _produce_while_reading(bootstrap: str, topic: str, messages: Sequence[tuple[bytes, bytes]], rate: float,
                           readers: list[threading.Thread], arrivals: dict[tuple[int, int], int],
                           stop: threading.Event, join_s: float) -> tuple[int, dict[tuple[int, int], int], float]:
    """Start the ``readers`` (they fill ``arrivals`` until ``stop``), give them 2 s to connect, produce
    at ``rate``, wait up to 30 s for every message to arrive, then stop them: the wall-clock start
    of producing (ns), the send time of each (partition, offset) and the produce duration."""
    for reader in readers:
        reader.start()
    time.sleep(2.0)
    started_ns = time.time_ns()
    stamps, produce_s = produce_paced(bootstrap, topic, messages, rate)
    deadline = time.monotonic() + 30
    while len(arrivals) < len(stamps) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    for reader in readers:
        reader.join(join_s)
    return started_ns, stamps, produce_s


def kafka_round_trip(bootstrap: str, topic: str, messages: Sequence[tuple[bytes, bytes]], rate: float,
                     warmup_s: float = 2.0, extra: dict[str, object] | None = None) -> dict[str, object]:
    """The broker alone: produce at ``rate`` and consume with the flow source's settings.

    One consumer per partition polled in turn with ``consume(5000, SOURCE_POLL_S)`` and the
    source's fetch config (``bench.kafka_consume.SOURCE_LIKE_CONFIG``), as ``dataflows/sources.py``
    reads; every message's latency from ``produce()`` to its arrival. The floor under the
    tick-to-signal figure on this broker. ``extra`` overrides consumer settings (a what-if).
    """
    from bench.kafka_consume import SOURCE_POLL_S

    arrivals: dict[tuple[int, int], int] = {}
    stop = threading.Event()

    def consume() -> None:
        consumers = _source_like_consumers(bootstrap, topic, f"bench-rtt-{topic}", extra)
        try:
            while not stop.is_set():
                for consumer in consumers:
                    for message in consumer.consume(5000, SOURCE_POLL_S):
                        if message.error() is None:
                            arrivals[(message.partition(), message.offset())] = time.time_ns()
        finally:
            for consumer in consumers:
                consumer.close()

    started_ns, stamps, produce_s = _produce_while_reading(
        bootstrap, topic, messages, rate, [threading.Thread(target=consume, daemon=True)], arrivals, stop, join_s=10)
    cutoff = started_ns + int(min(warmup_s, produce_s / 4) * 1e9)
    latencies = [(arrivals[position] - sent) // 1000 for position, sent in stamps.items()
                 if position in arrivals and sent >= cutoff]
    return {"endpoint": "ticks topic, flow-source consumer config", "overrides": extra or {},
            "ticks_produced": len(messages),
            "rate_target_per_s": round(rate, 1), "produce_s": round(produce_s, 2),
            "received": len(arrivals), "latency": histogram_summary(latencies)}


def kafka_two_hop(bootstrap: str, topic: str, relay_topic: str, messages: Sequence[tuple[bytes, bytes]],
                  rate: float, warmup_s: float = 2.0) -> dict[str, object]:
    """The broker alone over the signal's two hops: produce -> consume -> produce -> consume.

    Hop 1 as the flow reads the ticks (one consumer per partition, ``consume(5000, SOURCE_POLL_S)``,
    ``SOURCE_LIKE_CONFIG``); each message is produced again at once to ``relay_topic`` with the
    Kafka sink's producer settings (``sinks.kafka.KafkaSettings().producer_config()``: acks=all,
    idempotence, ``linger.ms`` 5), its source position in two headers; hop 2 is read as the latency
    measurement reads the signals topic (``fetch.wait.max.ms=5``, ``consume(1000, 0.005)``).
    Latency: ``produce()`` of the tick to arrival on the relay topic; the floor under tick-to-signal
    on this broker with no flow in between.
    """
    from confluent_kafka import Consumer, Producer, TopicPartition

    from bench.kafka_consume import SOURCE_POLL_S
    from dataflows.sources import list_partitions
    from sinks.kafka import KafkaSettings

    sink = KafkaSettings(bootstrap=bootstrap)
    arrivals: dict[tuple[int, int], int] = {}
    relayed = [0]
    stop = threading.Event()

    def relay() -> None:
        producer = Producer(sink.producer_config())
        consumers = _source_like_consumers(bootstrap, topic, f"bench-hop1-{topic}")
        try:
            while not stop.is_set():
                for consumer in consumers:
                    for message in consumer.consume(5000, SOURCE_POLL_S):
                        if message.error() is None:
                            producer.produce(relay_topic, value=message.value(), key=message.key(),
                                             headers=[("p", str(message.partition()).encode()),
                                                      ("o", str(message.offset()).encode())])
                            relayed[0] += 1
                producer.poll(0)
            producer.flush(10)
        finally:
            for consumer in consumers:
                consumer.close()

    def arrive() -> None:
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-hop2-{relay_topic}",
                             "enable.auto.commit": False, "auto.offset.reset": "earliest",
                             "fetch.wait.max.ms": 5, "fetch.min.bytes": 1})
        consumer.assign([TopicPartition(relay_topic, partition, 0) for partition in list_partitions(bootstrap, relay_topic)])
        try:
            while not stop.is_set():
                for message in consumer.consume(1000, 0.005):
                    now = time.time_ns()
                    if message.error() is None:
                        found = dict(message.headers() or [])
                        arrivals[(int(found["p"]), int(found["o"]))] = now
        finally:
            consumer.close()

    threads = [threading.Thread(target=relay, daemon=True), threading.Thread(target=arrive, daemon=True)]
    started_ns, stamps, produce_s = _produce_while_reading(bootstrap, topic, messages, rate, threads, arrivals, stop,
                                                           join_s=15)
    cutoff = started_ns + int(min(warmup_s, produce_s / 4) * 1e9)
    measured = sorted((sent, (arrivals[position] - sent) // 1000) for position, sent in stamps.items()
                      if position in arrivals and sent >= cutoff)
    half = len(measured) // 2
    return {"endpoint": "ticks topic -> relay (sink producer settings) -> relay topic, the latency consumer's config",
            "measured": "directly (two hops), not twice the one-hop figure",
            "ticks_produced": len(messages), "relayed": relayed[0], "rate_target_per_s": round(rate, 1),
            "produce_s": round(produce_s, 2), "received": len(arrivals),
            "latency": histogram_summary([latency for _, latency in measured]),
            "latency_first_half": histogram_summary([latency for _, latency in measured[:half]]),
            "latency_second_half": histogram_summary([latency for _, latency in measured[half:]])}
