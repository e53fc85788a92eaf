"""The history flow: everything about a tick that no signal waits for.

It reads, in its own consumer group (``<KAFKA_GROUP_ID minus -signals>-history``), the ticks topic,
the two topics the signals flow publishes (``<ticks>.features``: each scored feature row;
``<ticks>.decisions``: every risk decision; ``sinks.topics``) and the control topic, and writes the
ClickHouse tables (idempotent, as in the combined flow), drift and PSI, outcomes and live accuracy,
paper P&L, ``model-events``, the monitoring metrics and, since the options chains are priced here,
each underlying's latest option features in the online store (Redis). It may lag behind the signals; it never
delays them. With chDB it is one process (one writer per data directory)::

    python -m bytewax.run "dataflows.history:flow()"

Admitted ticks and rejects are recomputed, not published: the history flow runs the signals flow's
own ``feature_stage`` (decode, validation, duplicate filter, event-time guard) over the same ticks
topic, which is deterministic per symbol, so its admitted ticks, rejects and bar returns are the
signals flow's by construction, with every field (a dead letter has lost the reject's event time,
and republishing every admitted tick would double the signals flow's Kafka writes). Control-topic
rejects are recomputed the same way from the control topic. Both flows must therefore run with
the same feature, validation and event-time settings; a features message of another feature set is
refused. One wall-clock rule can still tell them apart: a live run releases the state of a symbol
silent for ``TICKWISE_SYMBOL_IDLE_S`` (7 days by default) of wall time, and a history flow catching
up on a backlog sees no such silence. The price is computing the features a second time in this flow (about 9 us a tick).

Order: each input keeps per-symbol order (one producer per symbol, keyed partitions), rows and
decisions a resumed signals flow published again are dropped (``forward_only``), and a row
travels with its prediction, so drift and outcomes see each symbol's rows and predictions in the
order the signals flow made them, whatever the number of signals processes. Paper fills join
admitted ticks with decisions from another topic: ``OrderedPaperLogic`` (``dataflows.history_steps``)
merges them per symbol in event-time order before the paper trader sees them.
"""

from __future__ import annotations

from bytewax import operators as op
from bytewax.dataflow import Dataflow

from dataflows.components import Components, HistorySources, feature_config, flow_joins
from dataflows.config import Settings
from dataflows.outputs import Outputs
from dataflows.signals import (clickhouse_key, kafka_output, is_control, option_features_output, prediction_of,
                               worker_components, feature_stage, monitoring_stage)
from operators.features.symbol import feature_layout
from operators.messages import Decision, FeatureRow
from operators.risk.control import decode_control
from dataflows.history_steps import forward_only
from sinks.topics import FeaturesDecoder, Scored, decode_decisions

FLOW_ID = "tickwise_history"


def _row_of(scored: Scored) -> FeatureRow:
    return scored.row


def _scored_symbol(scored: Scored) -> str:
    return scored.row.symbol


def _decision_symbol(decision: Decision) -> str:
    return decision.symbol


def build_history_flow(components: Components, sources: HistorySources, outputs: Outputs,
                       flow_id: str = FLOW_ID) -> Dataflow:
    """Wire the history flow from ready-made components and sources; no math here."""
    flow = Dataflow(flow_id)
    streams = feature_stage(components, op.input("ticks_in", flow, sources.ticks), count=False)
    layout = feature_layout(feature_config(components.settings))
    decoded = op.flat_map_batch("decode_features", op.input("features_in", flow, sources.features),
                                FeaturesDecoder(layout.names, layout.version, flow_joins(components.settings)))
    scored = op.key_rm("unkey_scored", op.stateful_flat_map(
        "replayed_features", op.key_on("key_scored", decoded, _scored_symbol), forward_only))
    rows = op.map("rows", scored, _row_of)
    predictions = op.map("predictions", scored, prediction_of)
    decoded_decisions = op.flat_map_batch("decode_decisions", op.input("decisions_in", flow, sources.decisions),
                                          decode_decisions)
    decisions = op.key_rm("unkey_decisions", op.stateful_flat_map(
        "replayed_decisions", op.key_on("key_decisions", decoded_decisions, _decision_symbol), forward_only))
    rejects = streams.rejects
    if sources.control is not None:
        commands = op.branch("split_control", op.map("decode_control", op.input("control_in", flow, sources.control),
                                                     decode_control), is_control)
        rejects = op.merge("all_rejects_with_control", rejects, commands.falses)
    # Paper fills: every decision (denied ones only move the event-time merge; the trader ignores them).
    monitor = monitoring_stage(components, streams.admitted, rows, predictions, decisions, streams.bar_returns,
                               streams.book_events, streams.chain_ticks)

    if outputs.clickhouse is not None:
        history = op.merge("history", streams.admitted, streams.option_messages, rows, predictions, decisions, rejects,
                           monitor.events, monitor.cross_asset, monitor.outcomes, monitor.pnl, monitor.chains)
        op.output("clickhouse_out", op.map("key_history", history, clickhouse_key), outputs.clickhouse)
    if outputs.option_features is not None:
        option_features_output(monitor.chains, outputs.option_features)
    if outputs.model_events is not None:
        kafka_output("model_events_out", monitor.events, outputs.model_events)
    return flow


def flow(settings: Settings | None = None) -> Dataflow:
    """Entry point for ``python -m bytewax.run "dataflows.history:flow()"``: reads the environment once."""
    components = worker_components(settings)
    return build_history_flow(components, components.history_sources(), components.history_outputs())
