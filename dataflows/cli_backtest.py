"""``tickwise backtest``: the live flow over tick files or a Kafka offset range, paper fills, a report.

Examples::

    tickwise backtest --data ../shared/data/market/trades.csv.gz --data ../shared/data/market/quotes.csv.gz \\
        --day 2013-10-09 --symbols AIG,BAC,IBM --model default --out backtests/2013-10-09
    tickwise backtest --from-offsets 0:0,1:0 --to-offsets 0:50000,1:50000 --model models:/tickwise-ensemble/3 \\
        --out backtests/range
    tickwise backtest --walk-forward --data ../shared/data/market/trades.csv.gz \\
        --data ../shared/data/market/quotes.csv.gz --symbols IBM --start 2013-10-07 --end 2013-10-09 \\
        --session 13:30-20:00 --periods 3.25h --train-min 1 --n-estimators 20 --out backtests/walk-forward

``--walk-forward`` retrains on an expanding window of periods and backtests each next period
with its own model (``dataflows.walk_forward``; ``--model`` is not used). ``--periods day``
over the three shipped days of all symbols with the default 100 trees takes on the order of
10-15 minutes on two cores; the hours example above about two minutes.

Ends with one JSON line on stdout (the headline figures and where the report is).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from dataflows.cli_ops import StateDir, STATE_DIR_DEFAULT, _fail, _offsets

console = Console(stderr=True)

_HEADLINE = ("model_version", "signals", "fills", "total_pnl", "total_return", "annualized_return", "sharpe",
             "sortino", "max_drawdown", "hit_rate", "turnover")


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
    fee_bps: Annotated[float, typer.Option(help="Paper fee in bps of notional.", min=0)] = 0.5,
    trade_half_spread_bps: Annotated[float, typer.Option(help="Half-spread for symbols without quotes.", min=0)] = 1.0,
    walk_forward: Annotated[bool, typer.Option("--walk-forward", help="Retrain on an expanding window and "
                                               "backtest each next period with its own model (needs --data).")] = False,
    periods: Annotated[str, typer.Option(help="Walk-forward period: 'day' or hours such as '3h' (cut from each "
                                              "day's first tick).")] = "day",
    train_min: Annotated[int, typer.Option(help="Walk-forward: periods the first model trains on.", min=1)] = 1,
    session: Annotated[str | None, typer.Option(help="Walk-forward: only this time of day, HH:MM-HH:MM UTC "
                                                     "(e.g. 13:30-20:00, the regular session).")] = None,
    n_estimators: Annotated[int, typer.Option(help="Walk-forward: boosting rounds of each period's models.",
                                              min=1)] = 100,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Backtest through the very flow that runs live, with paper execution and an HTML report."""
    import pandas as pd

    from dataflows.backtest import BacktestConfig, run_backtest
    from dataflows.cli import _settings
    from dataflows.components import build_components
    from sinks.metrics import MetricsRegistry

    if (data is None) == (from_offsets is None):
        _fail("give exactly one of --data FILES or --from-offsets PARTITION:OFFSET,...")
    if walk_forward:
        if data is None:
            _fail("--walk-forward needs --data FILES (it retrains from the files)")
        _walk_forward(data, out, day, start, end, symbols, periods, train_min, session, n_estimators, fee_bps,
                      trade_half_spread_bps, state_dir)
        return
    universe = symbols.upper() if symbols else None
    overrides = {"risk_symbols": universe} if universe else {}
    settings = _settings(state_dir, until_eof=True, model=model, metrics_port=0, control_topic="", **overrides)
    ensemble = build_components(settings, registry=MetricsRegistry()).ensemble
    components = build_components(settings, ensemble=ensemble, registry=MetricsRegistry())
    config = BacktestConfig(capital=settings.risk_account_equity, fee_bps=fee_bps,
                            trade_half_spread_bps=trade_half_spread_bps)
    wanted = [s.strip() for s in universe.split(",")] if universe else None
    with console.status("running the signal flow over the backtest range"):
        if data is not None:
            from dataflows.backfill import parse_day
            from dataflows.tickfiles import check_tick_files, read_tick_frame

            check_tick_files(data)
            start_ns = parse_day(day) if day else (int(pd.Timestamp(start, tz="UTC").value) if start else None)
            end_ns = start_ns + 86_400 * 10**9 if day else (int(pd.Timestamp(end, tz="UTC").value) if end else None)
            if day and start:
                start_ns = int(pd.Timestamp(start, tz="UTC").value)
            if day and end:
                end_ns = int(pd.Timestamp(end, tz="UTC").value)
            frame = read_tick_frame(data, wanted, start_ns, end_ns)
            if frame.empty:
                _fail("no ticks in the files for that day/time range/symbols")
            if not universe:
                components = build_components(
                    _settings(state_dir, until_eof=True, model=model, metrics_port=0, control_topic="",
                              risk_symbols=",".join(sorted(frame["symbol"].unique()))),
                    ensemble=ensemble, registry=MetricsRegistry())
            result = run_backtest(components, out, frame=frame, config=config,
                                  meta={"source": "files", "files": [p.name for p in data]})
        else:
            from dataflows.replay import ReplayRange, ReplaySource
            from dataflows.sources import KafkaSourceSettings

            replay_range = ReplayRange(_offsets("--from-offsets", from_offsets), _offsets("--to-offsets", to_offsets))
            source_settings = KafkaSourceSettings(
                bootstrap=settings.kafka_bootstrap, topic=settings.ticks_topic, batch_size=settings.source_batch_size,
                until_eof=True, start_offsets=dict(replay_range.start), end_offsets=dict(replay_range.end),
                extra=settings.kafka_options())
            result = run_backtest(components, out, source=ReplaySource(source_settings, replay_range), config=config,
                                  meta={"source": "kafka", "topic": settings.ticks_topic,
                                        "from_offsets": from_offsets, "to_offsets": to_offsets})
    summary = result.summary
    for key in _HEADLINE:
        console.print(f"{key:>18}: {summary.get(key)}")
    console.print(f"report: {out / 'report.html'}")
    typer.echo(orjson.dumps({**{k: summary.get(k) for k in _HEADLINE}, "out": str(out)}).decode())


def _walk_forward(data: list[Path], out: Path, day: str | None, start: str | None, end: str | None,
                  symbols: str | None, periods: str, train_min: int, session: str | None, n_estimators: int,
                  fee_bps: float, trade_half_spread_bps: float, state_dir: Path) -> None:
    import pandas as pd

    from dataflows.backfill import parse_day
    from dataflows.backtest import BacktestConfig
    from dataflows.cli import _settings
    from dataflows.tickfiles import check_tick_files, read_tick_frame
    from dataflows.walk_forward import (WalkForwardConfig, parse_periods, parse_session, run_walk_forward,
                                        small_train_config)

    try:
        check_tick_files(data)
        start_ns = int(pd.Timestamp(start, tz="UTC").value) if start else (parse_day(day) if day else None)
        end_ns = int(pd.Timestamp(end, tz="UTC").value) if end else (
            parse_day(day) + 86_400 * 10**9 if day else None)
        wanted = [s.strip() for s in symbols.upper().split(",")] if symbols else None
        frame = read_tick_frame(data, wanted, start_ns, end_ns)
        if frame.empty:
            _fail("no ticks in the files for that day/time range/symbols")
        universe = ",".join(sorted(frame["symbol"].unique()))
        settings = _settings(state_dir, until_eof=True, metrics_port=0, control_topic="", risk_symbols=universe)
        config = WalkForwardConfig(
            period_ns=parse_periods(periods), train_min=train_min,
            session=parse_session(session) if session else None, train=small_train_config(n_estimators),
            backtest=BacktestConfig(capital=settings.risk_account_equity, fee_bps=fee_bps,
                                    trade_half_spread_bps=trade_half_spread_bps))
        with console.status("walk-forward: backfilling features, then retraining and backtesting each period"):
            result = run_walk_forward(settings, frame, out, config,
                                      meta={"source": "files", "files": [p.name for p in data], "symbols": universe})
    except ValueError as error:
        _fail(str(error))
    for row in result.table:
        console.print(f"period {row['period']}: train {row['train_start']} .. {row['train_end']}, test "
                      f"{row['test_start']} .. {row['test_end']}, model {row['model_version']}, P&L {row['pnl']}, "
                      f"Sharpe {row['sharpe']}, hit rate {row['hit_rate']}, max drawdown {row['max_drawdown']}, "
                      f"costs {row['costs']}, signals {row['signals']}")
    console.print(f"report: {out / 'report.html'}")
    typer.echo(orjson.dumps({"walk_forward": result.combined, "periods": len(result.table), "out": str(out)}).decode())
