"""The live dataflow: Kafka ticks -> validate -> features -> drift -> scoring -> risk -> sinks.

Run it with ``tickwise run`` or directly with Bytewax::

    python -m bytewax.run "dataflows.signals:flow()"

Step ids are part of the recovery contract: renaming one orphans its saved state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from bytewax import operators as op
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import Source

from dataflows.components import Components, build_components
from dataflows.config import Settings, load_settings
from dataflows.outputs import Outputs
from dataflows.steps import decode_batch, market_context, to_portfolio
from operators.messages import (BarReturn, ControlCommand, CrossAssetRow, Decision, DriftEvent, FeatureRow, Outcome,
                                Reject, SourceRecord, TickBatch)
from operators.monitoring.psi import PsiReading
from operators.risk.control import decode_control
from operators.ingest.validation import decode_tick
from sinks.metrics import start_metrics_server


def _is_tick_batch(item: TickBatch | Reject) -> bool:
    return type(item) is TickBatch


def _is_feature_row(item: TickBatch | FeatureRow | Reject) -> bool:
    return isinstance(item, FeatureRow)


def _is_bar_return(item: BarReturn | Reject) -> bool:
    return isinstance(item, BarReturn)


def _is_cross_asset_row(item: CrossAssetRow | None) -> bool:
    return item is not None


def _is_monitor_event(item: DriftEvent | PsiReading) -> bool:
    return isinstance(item, DriftEvent)


def _is_outcome(item: Outcome | DriftEvent) -> bool:
    return isinstance(item, Outcome)


def _record_symbol(item: TickBatch | FeatureRow | Decision) -> str:
    return item.symbol


def _is_control(item: ControlCommand | Reject) -> bool:
    return isinstance(item, ControlCommand)


def _is_accepted(decision: Decision) -> bool:
    return decision.accepted


def _clickhouse_key(record: object) -> tuple[str, object]:
    # chDB has one partition (one writer); a ClickHouse server spreads symbols over partitions.
    return (getattr(record, "symbol", None) or "_unknown", record)


@dataclass(frozen=True)
class FeatureStreams:
    admitted: Stream[TickBatch]
    rows: Stream[FeatureRow]
    rejects: Stream[Reject]
    bar_returns: Stream[BarReturn]


def feature_stage(components: Components, raw: Stream[SourceRecord]) -> FeatureStreams:
    """Decode and validate, guard event time per symbol, compute features per symbol.

    Shared by the live flow and the backfill (training) flow, so training features are the
    live features by construction.
    """
    metrics = components.metrics
    decoded = op.flat_map_batch("decode", raw, metrics.timed_batch(
        "decode", decode_batch(partial(decode_tick, limits=components.limits))))
    checked = op.branch("split_decoded", decoded, _is_tick_batch)
    # Per symbol: the event-time guard admits or rejects each tick, then features update.
    # The step re-emits the ticks it admitted (one TickBatch per input batch), so "valid"
    # means admitted by both checks. Ticks travel as batches: one item per symbol per batch.
    keyed_ticks = op.key_on("key_by_symbol", checked.trues, _record_symbol)
    symbol_out = op.key_rm("unkey_features", op.stateful("features", keyed_ticks, components.symbol_logic))
    split_features = op.branch("split_features", symbol_out, _is_feature_row)
    split_ticks = op.branch("split_admitted", split_features.falses, _is_tick_batch)
    split_returns = op.branch("split_bar_returns", split_ticks.falses, _is_bar_return)
    rejects = op.merge("all_rejects", checked.falses, split_returns.falses)
    # Counted once per batch (a Prometheus update per tick costs about 20% of the flow).
    op.flat_map_batch("count_admitted", split_ticks.trues, metrics.count_admitted_batch)
    op.flat_map_batch("count_rejects", rejects, metrics.count_rejects_batch)
    return FeatureStreams(admitted=split_ticks.trues, rows=split_features.trues, rejects=rejects,
                          bar_returns=split_returns.trues)


def build_flow(components: Components, source: Source, outputs: Outputs, flow_id: str = "tickwise_signals",
               control: Source | None = None) -> Dataflow:
    """Wire the signal flow from ready-made components; no math here.

    ``control`` is the kill-switch input (the Kafka ``control`` topic); its commands join the
    portfolio risk step, which orders everything else by event time, so decisions never depend on
    arrival order.
    """
    metrics = components.metrics
    flow = Dataflow(flow_id)
    raw = op.input("ticks_in", flow, source)
    streams = feature_stage(components, raw)
    admitted, rows, rejects = streams.admitted, streams.rows, streams.rejects

    keyed_rows = op.key_on("key_rows", rows, _record_symbol)
    drift_out = op.key_rm("unkey_drift", op.stateful_flat_map("drift", keyed_rows, components.drift_step))
    split_drift = op.branch("split_drift", drift_out, _is_monitor_event)
    op.flat_map_batch("record_psi", split_drift.falses, metrics.record_psi_batch)
    monitor_events = split_drift.trues

    # Cross-asset statistics: state per pair, matched on bar intervals (deterministic).
    routed = op.flat_map("route_pairs", streams.bar_returns, components.pair_router)
    cross_asset = op.filter("cross_asset_ready", op.key_rm("unkey_cross_asset", op.stateful_map(
        "cross_asset", routed, components.cross_asset_step)), _is_cross_asset_row)

    predictions = op.flat_map_batch("score", rows, metrics.timed_batch("score", components.scorer))
    # One portfolio key: market contexts + predictions (ordered there by event time) + control.
    risk_inputs = [op.map("market_context", rows, market_context), predictions]
    if control is not None:
        commands = op.branch("split_control", op.map("decode_control", op.input("control_in", flow, control),
                                                     decode_control), _is_control)
        risk_inputs.append(commands.trues)
        rejects = op.merge("all_rejects_with_control", rejects, commands.falses)
    portfolio = op.map("key_portfolio", op.merge("risk_inputs", *risk_inputs), to_portfolio)
    decisions = op.key_rm("unkey_decisions", op.stateful("portfolio_risk", portfolio, components.portfolio_risk))
    op.inspect("count_decisions", decisions, metrics.count_decision)
    accepted = op.filter("accepted_signals", decisions, _is_accepted)

    # Live accuracy: each prediction joined per symbol with the first row after its horizon.
    outcome_inputs = op.key_on("key_outcomes", op.merge("outcome_inputs", rows, predictions), _record_symbol)
    outcome_out = op.key_rm("unkey_outcomes", op.stateful_flat_map("outcomes", outcome_inputs, components.outcome_step))
    split_outcomes = op.branch("split_outcomes", outcome_out, _is_outcome)
    op.flat_map_batch("record_outcomes", split_outcomes.trues, metrics.record_outcomes_batch)
    monitor_events = op.merge("monitor_events", monitor_events, split_outcomes.falses)
    # Paper P&L: accepted signals filled at the next quote of their symbol.
    paper_inputs = op.key_on("key_paper", op.merge("paper_inputs", admitted, accepted), _record_symbol)
    pnl = op.key_rm("unkey_paper", op.stateful_batch("paper", paper_inputs, components.paper_logic))
    op.flat_map_batch("record_pnl", pnl, metrics.record_pnl_batch)
    op.flat_map_batch("count_drift", monitor_events, metrics.count_monitor_events_batch)

    if outputs.clickhouse is not None:
        history = op.merge("history", admitted, rows, predictions, decisions, rejects, monitor_events,
                           cross_asset, split_outcomes.trues, pnl)
        op.output("clickhouse_out", op.map("key_history", history, _clickhouse_key), outputs.clickhouse)
    if outputs.redis is not None:
        op.output("redis_out", rows, outputs.redis)
    if outputs.signals is not None:
        op.output("signals_out", accepted, outputs.signals)
    if outputs.dead_letters is not None:
        op.output("dead_letters_out", rejects, outputs.dead_letters)
    if outputs.model_events is not None:
        op.output("model_events_out", monitor_events, outputs.model_events)
    return flow


def flow(settings: Settings | None = None) -> Dataflow:
    """Entry point for ``python -m bytewax.run "dataflows.signals:flow()"``: reads the environment once."""
    import logging

    from sinks.redaction import install_log_redaction

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_redaction()  # no URL in the worker log shows a password, whoever logs it
    settings = settings or load_settings()
    components = build_components(settings)
    if settings.metrics.port:
        # One endpoint per process of the cluster: port + process index, loopback unless configured.
        start_metrics_server(settings.metrics.port + settings.metrics.process_index, settings.metrics.host,
                             components.metrics.registry)
    return build_flow(components, components.kafka_source(), components.live_outputs(),
                      control=components.control_source())
