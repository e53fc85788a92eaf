"""The tick-to-signal dataflow and the stages every tickwise flow is wired from.

Two ways to run it:

- split (the live system, ``tickwise run``): ``build_signals_flow`` (ticks -> validate -> features ->
  scoring -> risk -> ``signals``, Redis, and the topics of ``sinks.topics``) and the history flow
  (``dataflows.history``: ClickHouse, drift, outcomes, paper P&L) in separate processes::

      python -m bytewax.run "dataflows.signals:signals_flow()"
      python -m bytewax.run "dataflows.history:flow()"

- combined (bounded runs: ``tickwise run --until-eof``, demo, replay, backtest): ``build_flow``, both
  halves in one flow, wired from the same stages::

      python -m bytewax.run "dataflows.signals:flow()"

Step ids are part of the recovery contract: renaming one orphans its saved state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from bytewax import operators as op
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import Source
from bytewax.outputs import FixedPartitionedSink, Sink

from dataflows.components import Components, build_components
from dataflows.config import Settings, load_settings
from dataflows.history_steps import OrderedPaperBuilder
from dataflows.option_steps import (STEP_ID as CHAIN_STEP_ID, ChainConfigSource, ChainStepBuilder, chain_feature_row,
                                    only_options, without_options)
from dataflows.outputs import Outputs
from dataflows.steps import decode_batch, market_context, to_portfolio
from operators.events import EventTick
from operators.events.validation import STAGE as EVENT_STAGE
from operators.messages import (BarReturn, ControlCommand, CrossAssetRow, Decision, DriftEvent, FeatureRow, Outcome,
                                Prediction, Quote, Reject, SourceRecord, TickBatch, Trade)
from operators.monitoring.psi import PsiReading
from operators.risk.control import decode_control
from operators.ingest.session import SessionConfig
from operators.ingest.validation import decode_tick
from operators.options.minute import ChainMinute
from operators.options.wire import STAGE as OPTION_STAGE
from sinks.metrics import start_metrics_server
from sinks.topics import Scored


def _is_tick_batch(item: TickBatch | Reject) -> bool:
    return type(item) is TickBatch


def _is_feature_row(item: TickBatch | FeatureRow | Reject) -> bool:
    return isinstance(item, FeatureRow)


#: Validation rejects that create no symbol state: the symbol is outside the grammar or the allow-list.
_STATELESS_REJECTS = frozenset(("invalid_symbol", "symbol_not_allowed"))
#: Rejects of messages that are not the symbol's own ticks: options (its underlying's features are those
#: of its own ticks) and events (a bad calendar row says nothing about the symbol's feed).
_OTHER_STAGES = frozenset((OPTION_STAGE, EVENT_STAGE))


def _counts_for_symbol(item: Reject) -> bool:
    """A validation reject of a known symbol joins that symbol's reject share (crossed quotes, keyless copies);
    a refused option or event message does not."""
    return bool(item.symbol) and item.reason not in _STATELESS_REJECTS and item.stage not in _OTHER_STAGES


def _without_events(batch: TickBatch) -> TickBatch | None:
    """The batch without its events (None when nothing else is left): the options step prices ticks only."""
    if not any(type(tick.tick) is EventTick for tick in batch.ticks):
        return batch
    ticks = [tick for tick in batch.ticks if type(tick.tick) is not EventTick]
    return TickBatch(batch.symbol, ticks) if ticks else None


def _is_bar_return(item: BarReturn | Reject) -> bool:
    return isinstance(item, BarReturn)


def _is_book_event(item: DriftEvent | Reject) -> bool:
    return type(item) is DriftEvent


def _is_cross_asset_row(item: CrossAssetRow | None) -> bool:
    return item is not None


def _is_monitor_event(item: DriftEvent | PsiReading) -> bool:
    return isinstance(item, DriftEvent)


def _is_outcome(item: Outcome | DriftEvent) -> bool:
    return isinstance(item, Outcome)


def in_session(session: SessionConfig) -> Callable[[TickBatch], TickBatch | None]:
    """Keep a batch's trades and quotes inside its symbol's trading session (None when none is).

    The paper book marks and fills on these only: outside the session a position keeps its last
    in-session mark instead of moving with after-hours quotes the strategy never traded on; depth
    messages carry no price to fill at, so they never wait in the paper step's event-time queue.
    """
    def keep(batch: TickBatch) -> TickBatch | None:
        hours = session.session_for(batch.symbol)
        ticks = [tick for tick in batch.ticks if type(tick.tick) in (Quote, Trade)
                 and (hours is None or hours.contains(tick.tick.ts_ns))]
        if len(ticks) == len(batch.ticks):
            return batch
        return TickBatch(batch.symbol, ticks) if ticks else None
    return keep


def _record_symbol(item: TickBatch | FeatureRow | Decision) -> str:
    return item.symbol


def is_control(item: ControlCommand | Reject) -> bool:
    return isinstance(item, ControlCommand)


def is_accepted(decision: Decision) -> bool:
    return decision.accepted


def _symbol_key(item: object) -> tuple[str, object]:
    return (getattr(item, "symbol", None) or "_", item)


def kafka_output(step_id: str, stream: Stream, sink: Sink) -> None:
    """``op.output`` to a Kafka sink; a partitioned one takes ``(symbol, item)`` pairs, so one symbol's
    messages leave through one producer, in order."""
    if isinstance(sink, FixedPartitionedSink):
        stream = op.map(f"key_{step_id}", stream, _symbol_key)
    op.output(step_id, stream, sink)


def option_features_output(chains: Stream[ChainMinute], sink: Sink) -> None:
    """Each underlying's option features, as each minute of its chain closes, to the online store
    (``sinks.redis_store.OPTION_KEY_SUFFIX``); both flows that price chains wire it the same way."""
    op.output("redis_option_features_out", op.map("option_feature_rows", chains, chain_feature_row), sink)


def clickhouse_key(record: object) -> tuple[str, object]:
    # chDB has one partition (one writer); a ClickHouse server spreads symbols over partitions.
    return (getattr(record, "symbol", None) or "_unknown", record)


@dataclass(frozen=True)
class FeatureStreams:
    admitted: Stream[TickBatch]
    rows: Stream[FeatureRow]
    rejects: Stream[Reject]
    bar_returns: Stream[BarReturn]
    book_events: Stream[DriftEvent]
    chain_ticks: Stream[TickBatch]
    option_messages: Stream[TickBatch]  # admitted option messages, stored apart from the ticks


def feature_stage(components: Components, raw: Stream[SourceRecord], count: bool = True) -> FeatureStreams:
    """Decode and validate, guard event time per symbol, compute features per symbol from the ticks inside
    its trading session (``TICKWISE_SESSION``; the others are admitted and stored, not featurized).

    Events on the ticks topic (``operators.events.EventTick``) take the same path into the per-symbol step,
    which joins their features to the symbol's rows when ``TICKWISE_EVENTS`` is set; their rejects go to
    the dead-letter topic with the others.

    Shared by the live flow and the backfill (training) flow, so training features are the
    live features by construction. The history flow runs it too (``count=False``: the signals flow
    counts the ticks), so its admitted ticks are the signals flow's by construction.
    """
    metrics = components.metrics
    decoded = op.flat_map_batch("decode", raw, metrics.timed_batch(
        "decode", decode_batch(partial(decode_tick, limits=components.limits))))
    checked = op.branch("split_decoded", decoded, _is_tick_batch)
    # Per symbol: the event-time guard admits or rejects each tick, then features update.
    # The step re-emits the ticks it admitted (one TickBatch per input batch), so "valid"
    # means admitted by both checks. Ticks travel as batches: one item per symbol per batch.
    # Validation rejects of a known symbol pass through the same step unchanged, so its reject
    # share counts every refused tick of the symbol, not only the step's own.
    counted = op.branch("split_symbol_rejects", checked.falses, _counts_for_symbol)
    # Option messages (keyed by their underlying, so in its batches) go to the options step of the
    # history half (``monitoring_stage``) with the underlying's ticks; the feature step sees them only
    # to join the chain's features to the underlying's rows (TICKWISE_OPTIONS_JOIN).
    own_ticks = (checked.trues if components.settings.options.join
                 else op.filter_map("without_options", checked.trues, without_options))
    option_messages = op.filter_map("option_messages", checked.trues, only_options)
    keyed_ticks = op.key_on("key_by_symbol", op.merge("symbol_inputs", own_ticks, counted.trues), _record_symbol)
    # Ticks outside their symbol's trading session (TICKWISE_SESSION) are admitted and stored, not featurized.
    symbol_logic = components.symbol_logic.with_session(components.settings.session.config())
    symbol_out = op.key_rm("unkey_features", op.stateful("features", keyed_ticks, symbol_logic))
    split_features = op.branch("split_features", symbol_out, _is_feature_row)
    split_ticks = op.branch("split_admitted", split_features.falses, _is_tick_batch)
    split_returns = op.branch("split_bar_returns", split_ticks.falses, _is_bar_return)
    # Order-book gaps and crossed books (symbols with depth messages) are monitor events.
    split_book_events = op.branch("split_book_events", split_returns.falses, _is_book_event)
    rejects = op.merge("all_rejects", counted.falses, split_book_events.falses)
    if count:  # counted once per batch (a Prometheus update per tick costs about 20% of the flow)
        op.flat_map_batch("count_admitted", op.merge("all_admitted", split_ticks.trues, option_messages),
                          metrics.count_admitted_batch)
        op.flat_map_batch("count_rejects", rejects, metrics.count_rejects_batch)
    return FeatureStreams(admitted=split_ticks.trues, rows=split_features.trues, rejects=rejects,
                          bar_returns=split_returns.trues, book_events=split_book_events.trues,
                          chain_ticks=op.filter_map("chain_without_events", checked.trues, _without_events),
                          option_messages=option_messages)


@dataclass(frozen=True)
class RiskStreams:
    decisions: Stream[Decision]
    accepted: Stream[Decision]
    rejects: Stream[Reject]


def risk_stage(components: Components, flow: Dataflow, rows: Stream[FeatureRow], predictions: Stream[Prediction],
               rejects: Stream[Reject], control: Source | None) -> RiskStreams:
    """Portfolio risk: one key for market contexts + predictions (ordered there by event time) + control.

    ``control`` is the kill-switch input (the Kafka ``control`` topic); its undecodable commands join
    ``rejects``.
    """
    risk_inputs = [op.map("market_context", rows, market_context), predictions]
    if control is not None:
        commands = op.branch("split_control", op.map("decode_control", op.input("control_in", flow, control),
                                                     decode_control), is_control)
        risk_inputs.append(commands.trues)
        rejects = op.merge("all_rejects_with_control", rejects, commands.falses)
    portfolio = op.map("key_portfolio", op.merge("risk_inputs", *risk_inputs), to_portfolio)
    decisions = op.key_rm("unkey_decisions", op.stateful("portfolio_risk", portfolio, components.portfolio_risk))
    op.inspect("count_decisions", decisions, components.metrics.count_decision)
    return RiskStreams(decisions, op.filter("accepted_signals", decisions, is_accepted), rejects)


@dataclass(frozen=True)
class MonitorStreams:
    events: Stream[DriftEvent]
    cross_asset: Stream[CrossAssetRow]
    outcomes: Stream[Outcome]
    pnl: Stream[object]
    chains: Stream[ChainMinute]


def monitoring_stage(components: Components, admitted: Stream[TickBatch], rows: Stream[FeatureRow],
                     predictions: Stream[Prediction], decisions: Stream[Decision],
                     bar_returns: Stream[BarReturn], book_events: Stream[DriftEvent] | None,
                     chain_ticks: Stream[TickBatch]) -> MonitorStreams:
    """Drift and PSI, cross-asset statistics, outcomes and live accuracy, paper P&L: everything the
    signals do not wait for. The combined flow and the history flow wire it the same way.

    ``decisions``: every risk decision, denied ones included. The paper step merges them per symbol
    with the admitted ticks in event-time order (``OrderedPaperLogic``: a tick waits for a decision at
    or after it, so the merge needs them all; the trader ignores denied ones), so its fills and marks
    do not depend on which of the two streams reaches it first. ``book_events``: the feature stage's
    order-book gaps, which join the monitor events. ``chain_ticks``: every valid tick, option messages
    included; each underlying's chain is priced each minute (``dataflows.option_steps``)."""
    metrics = components.metrics
    keyed_rows = op.key_on("key_rows", rows, _record_symbol)
    drift_out = op.key_rm("unkey_drift", op.stateful_flat_map("drift", keyed_rows, components.drift_step))
    split_drift = op.branch("split_drift", drift_out, _is_monitor_event)
    op.flat_map_batch("record_psi", split_drift.falses, metrics.record_psi_batch)
    monitor_events = split_drift.trues

    # Cross-asset statistics: state per pair, matched on bar intervals (deterministic).
    routed = op.flat_map("route_pairs", bar_returns, components.pair_router)
    cross_asset = op.filter("cross_asset_ready", op.key_rm("unkey_cross_asset", op.stateful_map(
        "cross_asset", routed, components.cross_asset_step)), _is_cross_asset_row)

    # Live accuracy: each prediction joined per symbol with the first row after its horizon.
    outcome_inputs = op.key_on("key_outcomes", op.merge("outcome_inputs", rows, predictions), _record_symbol)
    outcome_out = op.key_rm("unkey_outcomes", op.stateful_flat_map("outcomes", outcome_inputs, components.outcome_step))
    split_outcomes = op.branch("split_outcomes", outcome_out, _is_outcome)
    op.flat_map_batch("record_outcomes", split_outcomes.trues, metrics.record_outcomes_batch)
    monitor_events = op.merge("monitor_events", monitor_events, split_outcomes.falses,
                              *((book_events,) if book_events is not None else ()))
    # Paper P&L: accepted signals filled at the next in-session quote of their symbol, in event-time order.
    in_hours = op.filter_map("paper_session", admitted, in_session(components.settings.session.config()))
    paper_inputs = op.key_on("key_paper", op.merge("paper_inputs", in_hours, decisions), _record_symbol)
    pnl = op.key_rm("unkey_paper", op.stateful_batch("paper", paper_inputs, OrderedPaperBuilder(components.paper_logic)))
    op.flat_map_batch("record_pnl", pnl, metrics.record_pnl_batch)
    op.flat_map_batch("count_drift", monitor_events, metrics.count_monitor_events_batch)
    keyed_chains = op.key_on("key_option_chains", chain_ticks, _record_symbol)
    chain_step = ChainStepBuilder(ChainConfigSource.of(components.settings.options))
    chains = op.key_rm("unkey_option_chains", op.stateful_batch(CHAIN_STEP_ID, keyed_chains, chain_step))
    return MonitorStreams(monitor_events, cross_asset, split_outcomes.trues, pnl, chains)


def build_flow(components: Components, source: Source, outputs: Outputs, flow_id: str = "tickwise_signals",
               control: Source | None = None) -> Dataflow:
    """The combined flow: both halves (signals and history) in one flow; no math here.

    Bounded runs (``tickwise run --until-eof``, demo, replay, backtest) run this one; the live system
    runs the two halves apart (``build_signals_flow`` here, ``dataflows.history``), so nothing slow
    sits between a tick and its signal.
    """
    flow = Dataflow(flow_id)
    raw = op.input("ticks_in", flow, source)
    streams = feature_stage(components, raw)
    rows = streams.rows
    predictions = op.flat_map_batch("score", rows, components.metrics.timed_batch("score", components.scorer))
    risk = risk_stage(components, flow, rows, predictions, streams.rejects, control)
    monitor = monitoring_stage(components, streams.admitted, rows, predictions, risk.decisions, streams.bar_returns,
                               streams.book_events, streams.chain_ticks)

    if outputs.clickhouse is not None:
        history = op.merge("history", streams.admitted, streams.option_messages, rows, predictions, risk.decisions,
                           risk.rejects, monitor.events, monitor.cross_asset, monitor.outcomes, monitor.pnl,
                           monitor.chains)
        op.output("clickhouse_out", op.map("key_history", history, clickhouse_key), outputs.clickhouse)
    if outputs.redis is not None:
        op.output("redis_out", rows, outputs.redis)
    if outputs.option_features is not None:
        option_features_output(monitor.chains, outputs.option_features)
    if outputs.signals is not None:
        kafka_output("signals_out", risk.accepted, outputs.signals)
    if outputs.dead_letters is not None:
        kafka_output("dead_letters_out", risk.rejects, outputs.dead_letters)
    if outputs.model_events is not None:
        kafka_output("model_events_out", monitor.events, outputs.model_events)
    return flow


class _ScoredBatch:
    """``flat_map_batch`` mapper: the scorer's predictions, each paired with the row it scored."""

    def __init__(self, scorer: Callable[[list[FeatureRow]], list[Prediction]]) -> None:
        self._scorer = scorer

    def __call__(self, rows: list[FeatureRow]) -> list[Scored]:
        return [Scored(row, prediction) for row, prediction in zip(rows, self._scorer(rows), strict=True)]


def prediction_of(scored: Scored) -> Prediction:
    return scored.prediction


def build_signals_flow(components: Components, source: Source, outputs: Outputs, flow_id: str = "tickwise_signals",
                       control: Source | None = None) -> Dataflow:
    """The signals half: ticks -> validate -> features -> scoring -> portfolio risk -> ``signals``.

    Besides the signals it writes only to Kafka and Redis: rejects to the dead-letter topic, each
    scored feature row to ``<ticks>.features`` and every decision to ``<ticks>.decisions``
    (``sinks.topics``), which the history flow reads; ClickHouse is never on this path.
    """
    flow = Dataflow(flow_id)
    streams = feature_stage(components, op.input("ticks_in", flow, source))
    scored = op.flat_map_batch("score", streams.rows, components.metrics.timed_batch(
        "score", _ScoredBatch(components.scorer)))
    predictions = op.map("predictions", scored, prediction_of)
    risk = risk_stage(components, flow, streams.rows, predictions, streams.rejects, control)
    if outputs.redis is not None:
        op.output("redis_out", streams.rows, outputs.redis)
    if outputs.signals is not None:
        kafka_output("signals_out", risk.accepted, outputs.signals)
    if outputs.dead_letters is not None:
        kafka_output("dead_letters_out", risk.rejects, outputs.dead_letters)
    if outputs.features is not None:
        kafka_output("features_out", scored, outputs.features)
    if outputs.decisions is not None:
        kafka_output("decisions_out", risk.decisions, outputs.decisions)
    return flow


def worker_components(settings: Settings | None) -> Components:
    """What every ``bytewax.run`` entry point does first: logging, settings, components, metrics endpoint."""
    import logging
    import os

    from dataflows.logformat import configure_root

    # The level and format of the command that started this process (secrets redacted, whoever logs).
    configure_root(logging.StreamHandler(), os.environ.get("TICKWISE_LOG_LEVEL", "info"),
                   os.environ.get("TICKWISE_LOG_FORMAT", "plain"))
    settings = settings or load_settings()
    components = build_components(settings)
    if settings.metrics.port:
        # One endpoint per process of the cluster: port + process index, loopback unless configured.
        start_metrics_server(settings.metrics.port + settings.metrics.process_index, settings.metrics.host,
                             components.metrics.registry)
    return components


def flow(settings: Settings | None = None) -> Dataflow:
    """``python -m bytewax.run "dataflows.signals:flow()"``: both halves in one flow (reads the environment once)."""
    components = worker_components(settings)
    return build_flow(components, components.kafka_source(), components.live_outputs(),
                      control=components.control_source())


def signals_flow(settings: Settings | None = None) -> Dataflow:
    """``python -m bytewax.run "dataflows.signals:signals_flow()"``: the signals half alone."""
    components = worker_components(settings)
    return build_signals_flow(components, components.kafka_source(), components.signals_outputs(),
                              control=components.control_source())
