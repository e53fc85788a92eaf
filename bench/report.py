"""The side-by-side table: one row per run, rates and ratios against every reference."""

from __future__ import annotations

REFERENCES = (("vs_kafka_consume", "kafka_consume"), ("vs_inference_only", "inference_only"),
              ("vs_naive", "naive"), ("vs_1_process", "signals_1"))
FLOW_KINDS = ("signals", "both")
SIGNALS_TARGET_PER_PROCESS = 60_000  # ticks/s, the issue's target (its writer's machine)
BOTH_TARGET = 38_000  # ticks/s: "no slower than today's 38k" (the single flow, 1 process, all sinks)
CPU_RATIO_TARGET = 1.15


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
        processes = run["processes"]
        name = (f"signals flow {processes} proc" if run["role"] == "signals"
                else f"both flows, {processes}+1 proc")
        kind = f"signals_{processes}" if run["role"] == "signals" else "both"
        for label, seconds, suffix in (("as measured", run["cli_wall_s"], "_raw"),
                                       ("start-up-corrected", run["corrected_elapsed_s"], "")):
            rows.append(_row(f"{name} ({label})", kind + suffix, run["ticks"], seconds, run["peak_rss_mb_workers_sum"]))
    by_kind = {row["kind"]: row["ticks_per_s"] for row in rows}
    for row in rows:
        for column, reference in REFERENCES:
            denominator = by_kind.get(reference)
            applies = column != "vs_1_process" or row["kind"].startswith(FLOW_KINDS)
            row[column] = (round(row["ticks_per_s"] / denominator, 3)
                           if applies and row["ticks_per_s"] and denominator else None)
    return rows


def ratios(rows: list[dict[str, object]]) -> dict[str, float | None]:
    """The headline ratios, on the start-up-corrected signals-flow 1-process (and 2-process) rates."""
    by_kind = {row["kind"]: row["ticks_per_s"] for row in rows}
    one, two = by_kind.get("signals_1"), by_kind.get("signals_2")

    def over(numerator: float | None, denominator: float | None) -> float | None:
        return round(numerator / denominator, 3) if numerator and denominator else None

    return {"signals_over_kafka_consume": over(one, by_kind.get("kafka_consume")),
            "signals_over_feature_stage": over(one, by_kind.get("feature_stage")),
            "signals_over_inference_only": over(one, by_kind.get("inference_only")),
            "signals_over_naive": over(one, by_kind.get("naive")),
            "two_process_over_one_process": over(two, one),
            "both_flows_over_signals_flow": over(by_kind.get("both"), one)}


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


def format_latency_line(label: str, summary: dict[str, object], note: str = "") -> str:
    if not summary.get("count"):
        return f"  {label:<34} no signals measured{note}"
    return (f"  {label:<34} n={summary['count']:>7,}  p50 {summary['p50_ms']:>7.1f} ms  p90 {summary['p90_ms']:>7.1f} ms"
            f"  p99 {summary['p99_ms']:>7.1f} ms  p99.9 {summary['p99.9_ms']:>7.1f} ms  max {summary['max_ms']:>7.1f} ms{note}")


def format_latency(latency: dict[str, object]) -> str:
    from bench.latency import LATENCY_CONDITIONS

    lines = [f"tick-to-signal latency, 1 signals process, live: {latency['ticks']:,} ticks at "
             f"{latency['rate_target_per_s']:,.0f}/s target ({latency['load_fraction']:.0%} of the signals flow's "
             f"{latency['of_rate_per_s']:,.0f}/s); produce() -> signal consumed from the signals topic"]
    for key, _, what in LATENCY_CONDITIONS:
        run = latency.get(key)
        if not run:
            continue
        achieved = run.get("rate_achieved_per_s")
        lines.append(f" {what}: {achieved or 0:,.0f}/s achieved, load {run.get('loadavg_before')}")
        lines.append(format_latency_line("all", run["latency"]))
        lines.append(format_latency_line("first half", run["latency_first_half"]))
        lines.append(format_latency_line("second half", run["latency_second_half"]))
        lines.append(format_latency_line("dead letters", run.get("dead_letter_latency", {}),
                                         "  (rejected ticks: source + decode + DLQ sink)"))
    one, two = latency.get("kafka_one_hop", {}), latency.get("kafka_two_hop", {})
    lines.append(" broker alone, same rate, no flow:")
    lines.append(format_latency_line("one hop (produce -> consume)", one.get("latency", {})))
    lines.append(format_latency_line("two hops, measured directly", two.get("latency", {})))
    lines.append(format_latency_line("two hops, first half", two.get("latency_first_half", {})))
    lines.append(format_latency_line("two hops, second half", two.get("latency_second_half", {})))
    return "\n".join(lines)


def format_run(run: dict[str, object]) -> str:
    return (f"  {run['role']} p{run['processes']}: start-up/shutdown {run['startup_s']:.2f} s; worker peak RSS "
            f"{run['peak_rss_mb_workers']} MB; RSS over the run {run['rss_mb_workers_over_time']}; worker CPU "
            f"{run['cpu_s_workers']} s ({run['cpu_us_per_tick_workers']} us/tick); published {run['published']}"
            + (f"; history summary: signals {run['summary'].get('signals_accepted')}, predictions "
               f"{run['summary'].get('predictions')}" if run["role"] == "both" else ""))


def _target(name: str, figure: str, target: str, met: bool | None, rule: str = "") -> dict[str, object]:
    return {"name": name, "figure": figure, "target": target, "met": met, "rule": rule}


def targets(result: dict[str, object], p50_ms: float, p99_ms: float) -> list[dict[str, object]]:
    """Every figure of the issue next to its target, met or missed (None: not measured in this run)."""
    found: list[dict[str, object]] = []
    latency = result.get("latency") or {}
    two = (latency.get("kafka_two_hop") or {}).get("latency") or {}
    both = latency.get("both_flows") or {}
    main = both.get("latency") or {}
    if main.get("count") and two.get("count"):
        d50, d99 = main["p50_ms"] - two["p50_ms"], main["p99_ms"] - two["p99_ms"]
        found.append(_target("latency p50 vs broker two hops", f"{main['p50_ms']:.1f} vs {two['p50_ms']:.1f} ms "
                             f"(+{d50:.1f})", f"within {p50_ms:g} ms", d50 <= p50_ms))
        found.append(_target("latency p99 vs broker two hops", f"{main['p99_ms']:.1f} vs {two['p99_ms']:.1f} ms "
                             f"(+{d99:.1f})", f"within {p99_ms:g} ms", d99 <= p99_ms))
    first, second = both.get("latency_first_half") or {}, both.get("latency_second_half") or {}
    if first.get("count") and second.get("count"):
        g50, g99 = second["p50_ms"] - first["p50_ms"], second["p99_ms"] - first["p99_ms"]
        found.append(_target("latency growth, 1st -> 2nd half", f"p50 {first['p50_ms']:.1f} -> {second['p50_ms']:.1f},"
                             f" p99 {first['p99_ms']:.1f} -> {second['p99_ms']:.1f} ms", "no growth",
                             g50 <= p50_ms and g99 <= p99_ms, f"growth <= {p50_ms:g} ms p50 and {p99_ms:g} ms p99"))
    for key, label in (("history_stopped", "latency, history flow stopped"),
                       ("clickhouse_unavailable", "latency, ClickHouse unavailable")):
        other = (latency.get(key) or {}).get("latency") or {}
        if other.get("count") and main.get("count"):
            met = abs(other["p50_ms"] - main["p50_ms"]) <= p50_ms and abs(other["p99_ms"] - main["p99_ms"]) <= p99_ms
            found.append(_target(label, f"p50 {other['p50_ms']:.1f}, p99 {other['p99_ms']:.1f} ms (both flows "
                                 f"{main['p50_ms']:.1f}, {main['p99_ms']:.1f})", "equal within noise", met,
                                 f"within {p50_ms:g} ms p50 and {p99_ms:g} ms p99 of both flows"))
    runs = {(run["role"], run["processes"]): run for run in result.get("tickwise") or []}
    one = runs.get(("signals", 1))
    if one and one.get("corrected_ticks_per_s"):
        rate_ = one["corrected_ticks_per_s"]
        found.append(_target("signals flow, 1 process, all its sinks", f"{rate_:,.0f} ticks/s (as measured "
                             f"{one['ticks_per_s']:,.0f})", f">= {SIGNALS_TARGET_PER_PROCESS:,} ticks/s",
                             rate_ >= SIGNALS_TARGET_PER_PROCESS, "start-up-corrected"))
    whole = runs.get(("both", 1))
    if whole and whole.get("corrected_ticks_per_s"):
        rate_ = whole["corrected_ticks_per_s"]
        found.append(_target("both flows until both consumed everything", f"{rate_:,.0f} ticks/s (as measured "
                             f"{whole['ticks_per_s']:,.0f})", f">= {BOTH_TARGET:,} ticks/s", rate_ >= BOTH_TARGET,
                             "start-up-corrected; signals then history, as --role both --until-eof runs them"))
    cpu = result.get("cpu_two_over_one")
    if cpu:
        found.append(_target("worker CPU per tick, 2 signals processes / 1", f"{cpu['ratio']:.3f} ({cpu['cpu_s_workers_2']}"
                             f" s vs {cpu['cpu_s_workers_1']} s)", f"<= {CPU_RATIO_TARGET}", cpu["ratio"] <= CPU_RATIO_TARGET))
    found.append(_target("scaling on 8+ cores (1, 2, 4, 8 processes)", "not measured",
                         "ticks/s and CPU per tick", None, scaling_note(result["machine"]["cores"])))
    return found


def scaling_note(cores: int | None) -> str:
    return f"not measured ({cores} cores)" if not cores or cores < 8 else "not measured (run on a machine with 8+ cores)"


def format_targets(found: list[dict[str, object]]) -> str:
    lines = ["issue 13 targets:"]
    for item in found:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[item["met"]]
        rule = f"  [{item['rule']}]" if item["rule"] else ""
        lines.append(f"  {item['name']:<46} {item['figure']:<58} target {item['target']:<22} {verdict}{rule}")
    return "\n".join(lines)


def format_universe(universe: dict[str, object]) -> str:
    sizes = universe["state_bytes_per_symbol"]
    targets = universe["targets"]
    return (f"state at scale: {universe['universe']:,} synthetic symbols ({universe['real_symbols']} real templates, "
            f"{universe['block_ticks']} resampled real ticks each): state {universe['state_kb_per_symbol_mean']:.1f} KB/symbol "
            f"mean (p99 {sizes['p99'] / 1024:.1f} KB, max {sizes['max'] / 1024:.1f} KB; target < 16 KB: "
            f"{'met' if targets['state_met'] else 'MISSED'}); snapshot of all keys {universe['snapshot_s']:.2f} s "
            f"+ {universe['snapshot_store_pickle_s']:.2f} s store pickling = "
            f"{universe['snapshot_share_of_interval']:.1%} of the {universe['snapshot_interval_s']:.0f} s interval "
            f"(target < 10%: {'met' if targets['snapshot_met'] else 'MISSED'}; "
            f"{universe.get('snapshot_us_per_key', 0):.0f} us per key, under 10% from a "
            f"{universe.get('snapshot_interval_for_target_s', 0):.0f} s interval); restore {universe['restore_s']:.2f} s; "
            f"RSS {universe['rss_mb_before_universe']:,.0f} -> {universe['rss_mb_after_universe']:,.0f} MB "
            f"({universe['rss_kb_per_symbol']:.0f} KB/symbol), peak {universe['peak_rss_mb']:,.0f} MB")
