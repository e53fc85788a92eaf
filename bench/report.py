"""The side-by-side table: one row per run, rates and ratios against every reference."""

from __future__ import annotations

REFERENCES = (("vs_kafka_consume", "kafka_consume"), ("vs_inference_only", "inference_only"),
              ("vs_naive", "naive"), ("vs_1_process", "tickwise_1"))


def us_per_tick(seconds: float | None, ticks: int) -> float | None:
    return round(seconds / ticks * 1e6, 2) if ticks and seconds and seconds > 0 else None


def rate(ticks: int, seconds: float | None) -> float | None:
    return round(ticks / seconds, 1) if ticks and seconds and seconds > 0 else None


def _row(name: str, kind: str, ticks: int, seconds: float | None, peak_rss_mb: float | None,
         note: str = "") -> dict[str, object]:
    return {"name": name, "kind": kind, "ticks": ticks, "seconds": round(seconds, 3) if seconds else seconds,
            "ticks_per_s": rate(ticks, seconds), "us_per_tick": us_per_tick(seconds, ticks),
            "peak_rss_mb": peak_rss_mb, "note": note}


def build_rows(result: dict[str, object]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    base = result["kafka_consume"]
    rows.append(_row("kafka_consume (raw consume + decode_tick)", "kafka_consume", base["ticks_in"],
                     base["elapsed_s"], base.get("peak_rss_mb")))
    like = result.get("kafka_consume_source_config")
    if like:
        rows.append(_row("kafka_consume, flow-source config", "kafka_consume_source_config", like["ticks_in"],
                         like["elapsed_s"], like.get("peak_rss_mb")))
    features = result.get("feature_stage")
    if features:
        rows.append(_row("feature_stage (in-process, no Kafka/sinks)", "feature_stage", features["ticks"],
                         features["elapsed_s"], features.get("peak_rss_mb")))
    inference = result.get("inference_only")
    if inference:
        rows.append(_row(f"inference_only ({inference['rows']:,} rows, batch {inference['batch']})",
                         "inference_only", inference["ticks"], inference["elapsed_s"], inference.get("peak_rss_mb")))
    naive = result.get("naive")
    if naive:
        ticks = result["ticks"]
        seconds = naive["us_per_tick"] * ticks / 1e6 if naive.get("us_per_tick") else None
        rows.append(_row(f"naive per-tick (sample {naive['sample_ticks']:,}, extrapolated)", "naive", ticks,
                         seconds, naive.get("peak_rss_mb")))
    for run in result.get("tickwise", []):
        processes, summary = run["processes"], run["summary"]
        for label, seconds, kind in (("as measured", summary["elapsed_s"], f"tickwise_{processes}_raw"),
                                     ("start-up-corrected", run["corrected_elapsed_s"], f"tickwise_{processes}")):
            rows.append(_row(f"tickwise {processes} proc ({label})", kind, summary["ticks_in"], seconds,
                             run["peak_rss_mb_workers_sum"]))
    by_kind = {row["kind"]: row["ticks_per_s"] for row in rows}
    for row in rows:
        for column, reference in REFERENCES:
            denominator = by_kind.get(reference)
            applies = column != "vs_1_process" or row["kind"].startswith("tickwise")
            row[column] = (round(row["ticks_per_s"] / denominator, 3)
                           if applies and row["ticks_per_s"] and denominator else None)
    return rows


def ratios(rows: list[dict[str, object]]) -> dict[str, float | None]:
    """The headline ratios, on the start-up-corrected 1-process (and 2-process) rates."""
    by_kind = {row["kind"]: row["ticks_per_s"] for row in rows}
    one, two = by_kind.get("tickwise_1"), by_kind.get("tickwise_2")

    def over(numerator: float | None, denominator: float | None) -> float | None:
        return round(numerator / denominator, 3) if numerator and denominator else None

    return {"tickwise_over_kafka_consume": over(one, by_kind.get("kafka_consume")),
            "tickwise_over_inference_only": over(one, by_kind.get("inference_only")),
            "tickwise_over_naive": over(one, by_kind.get("naive")),
            "two_process_over_one_process": over(two, one)}


def format_table(rows: list[dict[str, object]]) -> str:
    def show(value: object, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    header = (f"{'run':<50} {'ticks':>10} {'seconds':>9} {'ticks/s':>10} {'us/tick':>9} {'peak RSS MB':>11} "
              f"{'/kafka':>7} {'/infer':>7} {'/naive':>8} {'/1-proc':>7}")
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(f"{row['name']:<50} {show(row['ticks'], ',d'):>10} {show(row['seconds'], ',.2f'):>9} "
                     f"{show(row['ticks_per_s'], ',.0f'):>10} {show(row['us_per_tick'], ',.2f'):>9} "
                     f"{show(row['peak_rss_mb'], ',.0f'):>11} {show(row['vs_kafka_consume'], '.3f'):>7} "
                     f"{show(row['vs_inference_only'], '.3f'):>7} {show(row['vs_naive'], ',.1f'):>8} "
                     f"{show(row['vs_1_process'], '.3f'):>7}")
    return "\n".join(lines)


def format_latency(latency: dict[str, object]) -> str:
    def line(label: str, summary: dict[str, object]) -> str:
        if not summary.get("count"):
            return f"  {label:<14} no signals measured"
        return (f"  {label:<14} n={summary['count']:>6,}  p50 {summary['p50_ms']:>8.1f} ms  p90 {summary['p90_ms']:>8.1f} ms"
                f"  p99 {summary['p99_ms']:>8.1f} ms  p99.9 {summary['p99.9_ms']:>8.1f} ms  max {summary['max_ms']:>8.1f} ms")

    return "\n".join([
        f"tick-to-signal latency, 1 process, live flow: {latency['ticks_produced']:,} ticks at "
        f"{latency['rate_target_per_s']:,.0f}/s target ({latency['rate_achieved_per_s']:,.0f}/s achieved, "
        f"{latency['produce_s']:.0f} s); endpoint: {latency['endpoint']}",
        line("all", latency["latency"]), line("first half", latency["latency_first_half"]),
        line("second half", latency["latency_second_half"]),
        line("dead letters", latency.get("dead_letter_latency", {})) + "  (rejected ticks: source + decode + DLQ sink only)",
        line("kafka only", latency.get("kafka_round_trip", {}).get("latency", {}))
        + "  (produce -> consume with the flow-source config, no flow)",
        line("kafka, 500 ms", latency.get("kafka_round_trip_fetch_wait_500ms", {}).get("latency", {}))
        + "  (the same with librdkafka's default fetch.wait.max.ms=500)",
    ])


def format_universe(universe: dict[str, object]) -> str:
    sizes = universe["state_bytes_per_symbol"]
    targets = universe["targets"]
    return (f"state at scale: {universe['universe']:,} synthetic symbols ({universe['real_symbols']} real templates, "
            f"{universe['block_ticks']} resampled real ticks each): state {universe['state_kb_per_symbol_mean']:.1f} KB/symbol "
            f"mean (p99 {sizes['p99'] / 1024:.1f} KB, max {sizes['max'] / 1024:.1f} KB; target < 32 KB: "
            f"{'met' if targets['state_met'] else 'MISSED'}); snapshot of all keys {universe['snapshot_s']:.2f} s "
            f"+ {universe['snapshot_store_pickle_s']:.2f} s store pickling = "
            f"{universe['snapshot_share_of_interval']:.1%} of the {universe['snapshot_interval_s']:.0f} s interval "
            f"(target < 10%: {'met' if targets['snapshot_met'] else 'MISSED'}; "
            f"{universe.get('snapshot_us_per_key', 0):.0f} us per key, under 10% from a "
            f"{universe.get('snapshot_interval_for_target_s', 0):.0f} s interval); restore {universe['restore_s']:.2f} s; "
            f"RSS {universe['rss_mb_before_universe']:,.0f} -> {universe['rss_mb_after_universe']:,.0f} MB "
            f"({universe['rss_kb_per_symbol']:.0f} KB/symbol), peak {universe['peak_rss_mb']:,.0f} MB")
