"""Looking back: ``tickwise backtest``, ``replay`` and ``report``.

``backtest`` runs the live flow over tick files or a Kafka offset range, with paper fills and a report.

Examples::

    tickwise backtest --data ticks/trades.csv.gz --data ticks/quotes.csv.gz \\
        --day 2013-10-09 --symbols AIG,BAC,IBM --model default --out backtests/2013-10-09
    tickwise backtest --from-offsets 0:0,1:0 --to-offsets 0:50000,1:50000 --model models:/tickwise-ensemble/3 \\
        --out backtests/range
    tickwise backtest --walk-forward --data ticks/trades.csv.gz \\
        --data ticks/quotes.csv.gz --symbols IBM --start 2013-10-07 --end 2013-10-09 \\
        --session 13:30-20:00 --periods 3.25h --train-min 1 --n-estimators 20 --out backtests/walk-forward

``--walk-forward`` retrains on an expanding window of periods and backtests each next period
with its own model (``dataflows.walk_forward``; ``--model`` is not used). ``--periods day``
over the three shipped days of all symbols with the default 100 trees takes on the order of
10-15 minutes on two cores; the hours example above about two minutes.

``backtest`` and ``replay`` end with one JSON line on stdout (the headline figures, what was written where);
``backtest --format csv|json`` prints the headline alone, as ``field,value`` rows or one JSON object.
A bad row of the tick files is skipped and counted (``--strict``: the first one stops the backtest);
a model that cannot be loaded ends the command with one sentence and exit code 2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from dataflows.cli.common import (STATE_DIR_DEFAULT, StateDir, command_settings, console, fail, offsets_option,
                                  require_kafka, time_span)
from dataflows.cli.cluster_progress import registry_progress
from dataflows.cli.data import Strict, read_ticks
from dataflows.cli.output import Format, check_format, clean, print_record

if TYPE_CHECKING:
    import pandas as pd

    from dataflows.backtest import BacktestConfig
    from dataflows.config import Settings

_HEADLINE = ("model_version", "signals", "fills", "gross_pnl", "net_pnl", "total_return", "annualized_return",
             "sharpe", "sortino", "max_drawdown", "hit_rate", "turnover", "turnover_per_day")


def backtest(
    data: Annotated[list[Path] | None, typer.Option("--data", help="Trades/quotes CSV files (repeat), merged in "
                                                                  "time order as the producer does.")] = None,
    from_offsets: Annotated[str | None, typer.Option(help="PARTITION:OFFSET,... of the ticks topic to start at "
                                                          "(instead of --data).")] = None,
    to_offsets: Annotated[str | None, typer.Option(help="PARTITION:OFFSET,... to stop before (exclusive).")] = None,
    model: Annotated[str, typer.Option(help="Model version to pin: directory, 'default' or registry spec.")] = "default",
    out: Annotated[Path, typer.Option(help="Directory for report.html, summary.json, signals and fills.")] = Path("backtest"),
    day: Annotated[str | None, typer.Option(help="Only this UTC day (YYYY-MM-DD) of the files.")] = None,
    start: Annotated[str | None, typer.Option(help="Start time (UTC, e.g. '2013-10-09 14:00').")] = None,
    end: Annotated[str | None, typer.Option(help="End time (UTC, exclusive).")] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated symbols (default: all in the files).")] = None,
    fee_bps: Annotated[float | None, typer.Option(help="Fee in bps of notional, for the paper fills and the risk "
                                                       "policy's expected cost (default: TICKWISE_PAPER_FEE_BPS).",
                                                  min=0)] = None,
    trade_half_spread_bps: Annotated[float, typer.Option(help="Half-spread for symbols without quotes.", min=0)] = 1.0,
    impact_bps: Annotated[float | None, typer.Option(help="Market impact of a $1M order in bps (square-root law), "
                                                          "for the fills and the risk policy (default: "
                                                          "TICKWISE_RISK_IMPACT_BPS).", min=0)] = None,
    walk_forward: Annotated[bool, typer.Option("--walk-forward", help="Retrain on an expanding window and "
                                               "backtest each next period with its own model (needs --data).")] = False,
    periods: Annotated[str, typer.Option(help="Walk-forward period: 'day' or hours such as '3h' (cut from each "
                                              "day's first tick).")] = "day",
    train_min: Annotated[int, typer.Option(help="Walk-forward: periods the first model trains on.", min=1)] = 1,
    session: Annotated[str | None, typer.Option(help="Walk-forward: only this time of day, HH:MM-HH:MM UTC "
                                                     "(e.g. 13:30-20:00, the regular session).")] = None,
    n_estimators: Annotated[int, typer.Option(help="Walk-forward: boosting rounds of each period's models.",
                                              min=1)] = 100,
    strict: Strict = False,
    fmt: Format = "table",
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Backtest through the very flow that runs live, with paper execution and an HTML report."""
    from dataflows.backtest import run_backtest
    from dataflows.components import build_components, tick_source_settings
    from sinks.metrics import MetricsRegistry

    check_format(fmt)
    if (data is None) == (from_offsets is None):
        fail("give exactly one of --data FILES or --from-offsets PARTITION:OFFSET,...")
    if walk_forward:
        if data is None:
            fail("--walk-forward needs --data FILES (it retrains from the files)")
        _walk_forward(data, out, day, start, end, symbols, periods, train_min, session, n_estimators,
                      _Costs(fee_bps, trade_half_spread_bps, impact_bps), state_dir, strict)
        return
    universe = symbols.upper() if symbols else None
    costs = _Costs(fee_bps, trade_half_spread_bps, impact_bps)
    settings = _backtest_settings(state_dir, model, universe, costs)
    if from_offsets is not None:
        require_kafka(settings)
    ensemble = load_model(settings)
    components = build_components(settings, ensemble=ensemble, registry=MetricsRegistry())
    config = costs.config(settings)
    frame = _tick_frame(data, day, start, end, universe, strict) if data is not None else None
    if frame is not None and not universe:
        components = build_components(_backtest_settings(state_dir, model, tuple(frame["symbol"].unique()), costs),
                                      ensemble=ensemble, registry=MetricsRegistry())
    total = len(frame) if frame is not None else None
    with registry_progress(components.metrics.registry, "backtest: signal flow", total):
        if frame is not None:
            result = run_backtest(components, out, frame=frame, config=config,
                                  meta={"source": "files", "files": [p.name for p in data]})
        else:
            from dataflows.replay import ReplayRange, ReplaySource

            replay_range = ReplayRange(offsets_option("--from-offsets", from_offsets),
                                       offsets_option("--to-offsets", to_offsets))
            source_settings = tick_source_settings(settings, dict(replay_range.start), dict(replay_range.end))
            result = run_backtest(components, out, source=ReplaySource(source_settings, replay_range), config=config,
                                  meta={"source": "kafka", "topic": settings.kafka.ticks_topic,
                                        "from_offsets": from_offsets, "to_offsets": to_offsets})
    summary = result.summary
    nothing = summary["baseline"]["do_nothing"]
    headline = {key: summary.get(key) for key in _HEADLINE}
    if fmt != "table":
        print_record({**headline, **{f"do_nothing_{key}": value for key, value in nothing.items()},
                      "out": str(out)}, fmt)
        return
    for key, value in headline.items():
        console.print(f"{key:>18}: {clean(value)}", markup=False, highlight=False)
    console.print(f"{'do nothing':>18}: gross_pnl {clean(nothing['gross_pnl'])}, net_pnl {clean(nothing['net_pnl'])}, "
                  f"turnover_per_day {clean(nothing['turnover_per_day'])}", markup=False, highlight=False)
    console.print(f"report: {out / 'report.html'}", markup=False, highlight=False)
    typer.echo(orjson.dumps(clean({**headline, "do_nothing": nothing, "out": str(out)})).decode())


def load_model(settings: Settings) -> object:
    """The model the settings name, loaded once (an alias becomes one version); one sentence and exit 2
    when it cannot be found or read."""
    from dataflows.components import build_components
    from models.mlflow_registry import RegistryError
    from sinks.metrics import MetricsRegistry

    try:
        return build_components(settings, registry=MetricsRegistry()).ensemble
    except (FileNotFoundError, RegistryError) as error:
        fail(f"cannot load the model {settings.model.spec!r}: {error}")
    except (OSError, ValueError, KeyError) as error:
        fail(f"cannot load the model {settings.model.spec!r}: it is not a tickwise model directory ({error})")


@dataclass(frozen=True)
class _Costs:
    """The command's cost options; None leaves the setting's value (fee: TICKWISE_PAPER_FEE_BPS, impact:
    TICKWISE_RISK_IMPACT_BPS), so the paper fills and the risk policy count the same costs."""

    fee_bps: float | None
    trade_half_spread_bps: float
    impact_bps: float | None

    def config(self, settings: Settings) -> BacktestConfig:
        from dataflows.backtest import BacktestConfig

        return BacktestConfig(capital=settings.risk.account_equity, fee_bps=settings.paper.fee_bps,
                              trade_half_spread_bps=self.trade_half_spread_bps, impact_bps=settings.risk.impact_bps)


def _backtest_settings(state_dir: Path, model: str | None, symbols: tuple[str, ...] | str | None,
                       costs: _Costs) -> Settings:
    """A bounded run of ``model`` with no metrics endpoint and no kill switch; ``symbols``: the risk universe."""
    return command_settings(state_dir, run={"until_eof": True}, model={"spec": model}, metrics={"port": 0},
                            kafka={"control_topic": ""}, risk={"symbols": symbols, "impact_bps": costs.impact_bps},
                            paper={"fee_bps": costs.fee_bps})


def _tick_frame(data: list[Path], day: str | None, start: str | None, end: str | None,
                symbols: str | None, strict: bool) -> pd.DataFrame:
    """The ticks of the files in the day/time range of the wanted symbols; none fails with one sentence."""
    from dataflows.tickfiles import check_tick_files

    check_tick_files(data)
    start_ns, end_ns = time_span(day, start, end)
    wanted = [symbol.strip() for symbol in symbols.split(",")] if symbols else None
    frame = read_ticks(data, strict, wanted, start_ns, end_ns)
    if frame.empty:
        fail("no ticks in the files for that day/time range/symbols")
    return frame


def _walk_forward(data: list[Path], out: Path, day: str | None, start: str | None, end: str | None,
                  symbols: str | None, periods: str, train_min: int, session: str | None, n_estimators: int,
                  costs: _Costs, state_dir: Path, strict: bool) -> None:
    from dataflows.walk_forward import (WalkForwardConfig, parse_periods, parse_session, run_walk_forward,
                                        small_train_config)

    frame = _tick_frame(data, day, start, end, symbols.upper() if symbols else None, strict)
    try:
        universe = ",".join(sorted(frame["symbol"].unique()))
        settings = _backtest_settings(state_dir, None, universe, costs)
        config = WalkForwardConfig(
            period_ns=parse_periods(periods), train_min=train_min,
            session=parse_session(session) if session else None, train=small_train_config(n_estimators),
            backtest=costs.config(settings))
        with console.status("walk-forward: backfilling features, then retraining and backtesting each period"):
            result = run_walk_forward(settings, frame, out, config,
                                      meta={"source": "files", "files": [p.name for p in data], "symbols": universe})
    except ValueError as error:
        fail(str(error))
    for row in result.table:
        console.print(f"period {row['period']}: train {row['train_start']} .. {row['train_end']}, test "
                      f"{row['test_start']} .. {row['test_end']}, model {row['model_version']}, P&L {row['pnl']}, "
                      f"Sharpe {row['sharpe']}, hit rate {row['hit_rate']}, max drawdown {row['max_drawdown']}, "
                      f"costs {row['costs']}, signals {row['signals']}")
    console.print(f"report: {out / 'report.html'}")
    typer.echo(orjson.dumps({"walk_forward": result.combined, "periods": len(result.table), "out": str(out)}).decode())


def _compare(left: Path, right: Path) -> None:
    from dataflows.replay import ReplayError, compare_replays

    try:
        diffs = compare_replays(left, right)
    except ReplayError as error:
        fail(str(error))
    table = Table("file", str(left), str(right), "first difference", title="replay comparison")
    for diff in diffs:
        table.add_row(diff.name, str(diff.left_lines), str(diff.right_lines),
                      "-" if diff.same else f"[bold red]line {diff.first_difference}[/]")
    console.print(table)
    different = [diff for diff in diffs if not diff.same]
    for diff in different[:5]:
        console.print(f"[bold]{escape(diff.name)}[/] line {diff.first_difference}:\n  < {escape(str(diff.left))}\n"
                      f"  > {escape(str(diff.right))}", soft_wrap=True, highlight=False)
    typer.echo(orjson.dumps({"same": not different, "files": {
        diff.name: {"left_lines": diff.left_lines, "right_lines": diff.right_lines,
                    "first_difference": diff.first_difference, "left": diff.left, "right": diff.right}
        for diff in diffs}}, option=orjson.OPT_SORT_KEYS).decode())
    if different:
        raise typer.Exit(1)


def replay(
    from_start: Annotated[bool, typer.Option("--from-start", help="Replay every partition from its beginning.")] = False,
    from_offsets: Annotated[str | None, typer.Option(help="PARTITION:OFFSET,... to start at; only these partitions "
                                                          "are replayed.")] = None,
    to_offsets: Annotated[str | None, typer.Option(help="PARTITION:OFFSET,... to stop before (exclusive); "
                                                        "default: the end the fetch reaches.")] = None,
    out: Annotated[Path | None, typer.Option(help="Directory for the replay files (new or a previous replay).")] = None,
    model: Annotated[str | None, typer.Option(help="Model to pin (directory, 'default', or registry spec); "
                                                   "default: TICKWISE_MODEL.")] = None,
    compare: Annotated[tuple[Path, Path] | None, typer.Option(help="Compare two replay directories instead; "
                                                                    "exit 1 if they differ.")] = None,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Re-run an offset range through the live flow with fresh state and a pinned model, into files."""
    if compare is not None:
        if from_start or from_offsets or to_offsets or out:
            fail("--compare takes two replay directories and no other replay option")
        _compare(*compare)
        return
    if from_start == (from_offsets is not None):
        fail("give exactly one of --from-start or --from-offsets")
    if out is None:
        fail("--out DIR is required")

    from dataflows.components import build_components, tick_source_settings
    from dataflows.replay import ReplayError, ReplayRange, run_replay
    from dataflows.sources import SourceError
    from sinks.metrics import MetricsRegistry

    try:
        replay_range = ReplayRange(offsets_option("--from-offsets", from_offsets),
                                   offsets_option("--to-offsets", to_offsets))
    except ReplayError as error:
        fail(str(error))
    settings = command_settings(state_dir, run={"until_eof": True}, model={"spec": model}, metrics={"port": 0})
    require_kafka(settings)
    # Resolved once (an alias becomes one version), then passed in: no live model swap during a replay.
    ensemble = load_model(settings)
    components = build_components(settings, ensemble=ensemble, registry=MetricsRegistry())
    source = tick_source_settings(settings)
    started = time.monotonic()
    try:
        with registry_progress(components.metrics.registry,
                               f"replaying {settings.kafka.ticks_topic} with model {ensemble.version}", None):
            result = run_replay(components, source, replay_range, out)
    except (ReplayError, SourceError) as error:
        fail(str(error))
    manifest = result.manifest
    table = Table("file", "rows", title=f"replay -> {out} (model {manifest['model_version']}, "
                                        f"{time.monotonic() - started:.1f} s)")
    for name, count in manifest["counts"].items():
        table.add_row(f"{name}.jsonl", f"{count:,}")
    for partition, span in manifest["partitions"].items():
        table.add_row(f"partition {partition}", f"[{span['from']}, {span['to']}) {span['records']:,} ticks")
    console.print(table)
    typer.echo(orjson.dumps({"out": str(out), **manifest}, option=orjson.OPT_SORT_KEYS).decode())


def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and its PNG plots.")] = Path("report"),
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Render P&L, drawdown, calibration, accuracy, drift events, latency and, after a run with options, the
    volatility smile from ClickHouse to one HTML page."""
    from dataflows.cli.data import clickhouse_writer
    from dataflows.report import render_report

    writer = clickhouse_writer(command_settings(state_dir))
    try:
        page = render_report(writer.client, out)
    finally:
        writer.close()
    console.print(f"report written to {page}")
