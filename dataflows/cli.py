"""``tickwise``: the command line. The only place that reads the environment.

Every command that needs Kafka, Redis or ClickHouse uses, in order: the command's own
options, the environment (``KAFKA_BOOTSTRAP``, ``REDIS_URL``, ``CLICKHOUSE_URL`` ...), and
otherwise the embedded stack started by ``tickwise stack up`` (recorded in ``.tickwise``).
Bad arguments and bad settings end with one clear sentence and exit code 2.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dataflows.cli_models import models_app
from dataflows.config import ConfigError, Settings, load_settings
from dataflows.stack import StackError, read_stack, start_stack, stop_stack

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="tickwise: real-time ML signals from market ticks, on Bytewax.")
stack_app = typer.Typer(no_args_is_help=True, help="The embedded local stack (Tansu Kafka, Redis, chDB).")
app.add_typer(stack_app, name="stack")
app.add_typer(models_app, name="models")
console = Console(stderr=True)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "data" / "sample"
STATE_DIR_DEFAULT = Path(".tickwise")


class UserError(Exception):
    """Something the user can fix; printed as one sentence."""


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


def _settings(state_dir: Path, **overrides: object) -> Settings:
    """Environment first; anything unset falls back to the embedded stack if it is running."""
    stack = read_stack(state_dir)
    fallback: dict[str, object] = {}
    if stack is not None:
        if "KAFKA_BOOTSTRAP" not in os.environ:
            fallback["kafka_bootstrap"] = stack.kafka_bootstrap
        if "REDIS_URL" not in os.environ:
            fallback["redis_url"] = stack.redis_url
        if "CLICKHOUSE_URL" not in os.environ:
            fallback["clickhouse_url"] = stack.clickhouse_url
    elif "CLICKHOUSE_URL" not in os.environ:
        fallback["clickhouse_url"] = f"chdb://{(state_dir / 'chdb').resolve()}"
    return load_settings(**{**fallback, **overrides, "state_dir": state_dir})


def _child_env(settings: Settings) -> dict[str, str]:
    """Every setting as the environment variable the flow processes read (secrets passed, never printed)."""
    env: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None or field.alias is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[field.alias] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return env


StateDir = Annotated[Path, typer.Option("--state-dir", help="Where the embedded stack and chDB data live.")]


@stack_app.command("up")
def stack_up(state_dir: StateDir = STATE_DIR_DEFAULT) -> None:
    """Start Tansu (Kafka API) and Redis on loopback; chDB lives under the state dir."""
    try:
        info = start_stack(state_dir)
    except StackError as error:
        _fail(str(error))
    console.print(f"kafka      {info.kafka_bootstrap}\nredis      {info.redis_url}\nclickhouse {info.clickhouse_url}")
    typer.echo(f"export KAFKA_BOOTSTRAP={info.kafka_bootstrap} REDIS_URL={info.redis_url} "
               f"CLICKHOUSE_URL={info.clickhouse_url}")


@stack_app.command("down")
def stack_down(state_dir: StateDir = STATE_DIR_DEFAULT) -> None:
    """Stop the embedded stack (Kafka and Redis data are in memory and are lost)."""
    console.print("stopped" if stop_stack(state_dir) else "no stack was running")


@stack_app.command("status")
def stack_status(state_dir: StateDir = STATE_DIR_DEFAULT) -> None:
    """Show whether the embedded stack runs, and where."""
    info = read_stack(state_dir)
    if info is None:
        console.print("not running")
        raise typer.Exit(1)
    console.print(f"running: kafka {info.kafka_bootstrap}, redis {info.redis_url}, clickhouse {info.clickhouse_url}")


def _check_kafka(settings: Settings) -> None:
    """Fail with one sentence when no broker answers, before any client starts retrying."""
    import socket

    for server in settings.kafka_bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=3):
                return
        except OSError:
            continue
    raise UserError(f"cannot reach Kafka at {settings.kafka_bootstrap}: start the embedded stack with "
                    "`tickwise stack up` or point KAFKA_BOOTSTRAP at your brokers")


def _ensure_topics(settings: Settings) -> None:
    from confluent_kafka import KafkaException

    from dataflows.components import kafka_settings
    from sinks.kafka import ensure_topics

    _check_kafka(settings)
    kafka = kafka_settings(settings)
    try:
        ensure_topics(kafka, [settings.ticks_topic], settings.ticks_partitions)
        ensure_topics(kafka, [settings.signals_topic, settings.dlq_topic, settings.model_events_topic],
                      settings.ticks_partitions)
        ensure_topics(kafka, [settings.control_topic] if settings.control_topic else [], 1)  # kill switch
    except (KafkaException, TimeoutError) as error:
        raise UserError(f"could not create the topics on {settings.kafka_bootstrap}: {error}") from None


def _produce_files(settings: Settings, files: list[Path], rate: float | None) -> int:
    from dataflows.produce import produce_messages
    from dataflows.tickfiles import read_tick_frame, encode_ticks

    frame = read_tick_frame(files)
    total = len(frame)
    with Progress(TextColumn("producing"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} ticks"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("produce", total=total)
        report = produce_messages(settings.kafka_bootstrap, settings.ticks_topic, encode_ticks(frame), rate,
                                  settings.kafka_options(), lambda sent: progress.update(task, completed=sent))
    console.print(f"produced {report.messages:,} ticks to {settings.ticks_topic} "
                  f"in {report.elapsed_s:.1f} s ({report.messages_per_s:,.0f}/s)")
    return report.messages


@app.command()
def produce(
    file: Annotated[list[Path], typer.Option("--file", "-f", help="Trades or quotes CSV (gzip or plain); repeat to merge in time order.")],
    rate: Annotated[float | None, typer.Option(help="Ticks per second (default: as fast as possible).", min=1)] = None,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Produce real tick files to the ticks topic, merged in time order, keyed by symbol."""
    from dataflows.tickfiles import check_tick_files

    check_tick_files(file)
    settings = _settings(state_dir)
    _ensure_topics(settings)
    _produce_files(settings, file, rate)


def _program_name() -> str:
    """How the user can call us again: ``tickwise`` if it is on PATH, else the path that ran."""
    if shutil.which("tickwise") == str(Path(sys.argv[0]).resolve()) or shutil.which("tickwise") == sys.argv[0]:
        return "tickwise"
    try:
        return str(Path(sys.argv[0]).resolve().relative_to(Path.cwd()))
    except ValueError:
        return sys.argv[0]


def _print_summary(summary: object) -> None:
    table = Table(title="tickwise run", show_header=False)
    for name, value in vars(summary).items():
        if name != "rejects_by_reason":
            table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    for reason, count in summary.rejects_by_reason.items():  # type: ignore[attr-defined]
        table.add_row(f"  rejected: {reason}", f"{count:,}")
    console.print(table)


def _run(settings: Settings, processes: int, workers: int, recovery_dir: Path | None,
         snapshot_interval: float | None, max_restarts: int | None = None) -> object:
    """Run the cluster once, or with ``max_restarts`` under the supervisor (whole-cluster restarts)."""
    from dataflows.runner import ClusterError, Restart, RestartPolicy, run_cluster, supervise
    from dataflows.summary import summarize

    _ensure_topics(settings)
    log_dir = settings.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    chdb = settings.chdb_path()
    if chdb is not None:
        chdb.mkdir(parents=True, exist_ok=True)
    since_ms = int(time.time() * 1000) - 1000  # rows this run writes (1 s slack for clock granularity)
    with console.status(f"running the signal flow on {processes} process(es) x {workers} worker(s)"):
        def start() -> object:
            return run_cluster(_child_env(settings), processes, workers, recovery_dir, snapshot_interval,
                               work_dir=settings.state_dir, log_dir=log_dir)

        def report(restart: Restart) -> None:
            console.print(f"[yellow]restart {restart.number}/{max_restarts}[/]: process {restart.process_index} "
                          f"exited with code {restart.returncode} after {restart.ran_s:.1f} s; restarting the "
                          f"whole cluster in {restart.delay_s:.1f} s from {recovery_dir}")

        try:
            if max_restarts is None:
                run = start()
            else:
                run = supervise(start, RestartPolicy(max_restarts=max_restarts), on_restart=report).run
        except ClusterError as error:
            _fail(str(error))
    summary = summarize(settings.clickhouse_url.get_secret_value(), run.elapsed_s, processes, workers, since_ms)
    return summary


@app.command()
def run(
    processes: Annotated[int, typer.Option(help="Processes in the local Bytewax cluster.", min=1, max=64)] = 1,
    workers: Annotated[int, typer.Option(help="Worker threads per process.", min=1, max=64)] = 1,
    recovery_dir: Annotated[Path | None, typer.Option(help="Bytewax recovery directory (created if missing).")] = None,
    snapshot_interval: Annotated[int, typer.Option(help="Whole seconds between recovery snapshots.", min=1)] = 10,
    until_eof: Annotated[bool, typer.Option("--until-eof", help="Stop at the end of the ticks topic and print a summary.")] = False,
    model: Annotated[str | None, typer.Option(help="Model directory or 'default'.")] = None,
    supervise: Annotated[bool, typer.Option("--supervise", help="Restart the whole cluster (with backoff) when a "
                                            "process dies, resuming from --recovery-dir.")] = False,
    max_restarts: Annotated[int, typer.Option(help="Restarts allowed with --supervise.", min=0)] = 10,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Run the signal flow on the configured Kafka, ClickHouse and Redis."""
    if supervise and recovery_dir is None:
        _fail("--supervise needs --recovery-dir: a restart resumes from its last snapshot")
    settings = _settings(state_dir, until_eof=until_eof or None, model=model)
    try:
        summary = _run(settings, processes, workers, recovery_dir, snapshot_interval,
                       max_restarts if supervise else None)
    except KeyboardInterrupt:
        console.print("interrupted: the cluster was stopped; resume from the recovery dir to continue")
        raise typer.Exit(130) from None
    if until_eof:
        _print_summary(summary)
    typer.echo(summary.json_line())  # type: ignore[attr-defined]


@app.command()
def demo(
    processes: Annotated[int, typer.Option(help="Processes in the local Bytewax cluster.", min=1, max=8)] = 1,
    state_dir: Annotated[Path, typer.Option("--state-dir")] = STATE_DIR_DEFAULT / "demo",
    stop: Annotated[bool, typer.Option(help="Stop the embedded stack at the end.")] = False,
) -> None:
    """Start the embedded stack, produce the shipped real sample, run to the end, summarize."""
    files = sorted(SAMPLE_DIR.glob("*_trades.csv.gz")) + sorted(SAMPLE_DIR.glob("*_quotes.csv.gz"))
    if not files:
        _fail(f"the demo sample is missing from {SAMPLE_DIR}")
    stop_stack(state_dir)
    shutil.rmtree(state_dir / "chdb", ignore_errors=True)
    try:
        info = start_stack(state_dir)
    except StackError as error:
        _fail(str(error))
    console.print(f"[bold]tickwise demo[/]: embedded stack up (kafka {info.kafka_bootstrap}, redis {info.redis_url})")
    env_backup = {name: os.environ.pop(name) for name in ("KAFKA_BOOTSTRAP", "REDIS_URL", "CLICKHOUSE_URL")
                  if name in os.environ}
    try:
        settings = _settings(state_dir, until_eof=True)
        _ensure_topics(settings)
        produced = _produce_files(settings, files, None)
        summary = _run(settings, processes, 1, None, None)
    finally:
        os.environ.update(env_backup)
        if stop:
            stop_stack(state_dir)
    _print_summary(summary)
    if summary.ticks_in != produced:  # type: ignore[attr-defined]
        console.print(f"[bold red]warning:[/] produced {produced:,} ticks but the flow accounted for "
                      f"{summary.ticks_in:,}")  # type: ignore[attr-defined]
    if not stop:
        program = _program_name()
        console.print(
            "\nQuery the results:\n"
            f"  {program} query --state-dir {state_dir} \"SELECT symbol, direction, size, confidence, regime, "
            "reason FROM signals FINAL ORDER BY ts_ns DESC LIMIT 10\"\n"
            f"  {program} features --state-dir {state_dir} IBM     # latest online features from Redis\n"
            f"  {program} stack down --state-dir {state_dir}      # stop Kafka and Redis when done",
            soft_wrap=True,
        )
    typer.echo(summary.json_line())  # type: ignore[attr-defined]


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="A SELECT statement against the tickwise tables.")],
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Run SQL on ClickHouse (chDB or server) and print the result."""
    from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter

    settings = _settings(state_dir)
    writer = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse_url.get_secret_value()))
    client = writer.connect()
    try:
        result = client.query(sql)
    except Exception as error:  # noqa: BLE001 - any server error is reported as one sentence
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        _fail(f"query failed: {first_line}")
    finally:
        writer.close()
    table = Table(*result.column_names)
    for row in result.result_rows:
        table.add_row(*(str(value) for value in row))
    Console().print(table)


@app.command()
def features(
    symbol: Annotated[str, typer.Argument(help="Symbol whose latest online features to show.")],
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Show a symbol's latest feature vector from the Redis online store."""
    import redis

    from sinks.redis_store import read_features

    settings = _settings(state_dir)
    client = redis.Redis.from_url(settings.redis_url.get_secret_value())
    values = read_features(client, symbol, settings.redis_key_prefix)
    if not values:
        _fail(f"no features stored for {symbol!r}")
    table = Table("feature", "value")
    for name, value in values.items():
        table.add_row(str(name), str(value))
    Console().print(table)


@app.command()
def train(
    file: Annotated[list[Path], typer.Option("--file", "-f", help="Trades/quotes CSV files to learn from.")],
    out: Annotated[Path, typer.Option(help="Where to write the model directory.")] = Path("models/trained"),
    start: Annotated[str | None, typer.Option(help="First day to use (YYYY-MM-DD, UTC).")] = None,
    end: Annotated[str | None, typer.Option(help="Day after the last day to use (YYYY-MM-DD, UTC).")] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated symbols (default: all).")] = None,
    state_dir: StateDir = STATE_DIR_DEFAULT / "train",
) -> None:
    """Backfill features with the live operators, then train and validate the ensemble."""
    from dataflows.backfill import backfill_and_train, parse_day
    from dataflows.tickfiles import check_tick_files

    check_tick_files(file)
    try:
        start_ns = parse_day(start) if start else None
        end_ns = parse_day(end) if end else None
    except ValueError as error:
        _fail(str(error))
    manifest = backfill_and_train(files=file, out_dir=out, state_dir=state_dir, start_ns=start_ns, end_ns=end_ns,
                                  symbols=symbols.split(",") if symbols else None, console=console)
    table = Table("model", "held-out metrics", title=f"model {manifest['version']} -> {out}")
    for name, metrics in manifest["metrics"].items():
        shown = ", ".join(f"{key}={value:.3f}" for key, value in metrics.items()
                          if isinstance(value, float) and not key.startswith("baseline"))
        table.add_row(name, shown)
    console.print(table)
    import orjson

    typer.echo(orjson.dumps({"version": manifest["version"], "out": str(out),
                             "created_from": manifest["created_from"]}).decode())


from dataflows import cli_ops  # noqa: E402 - after app: cli_ops imports nothing of this module at load time
from dataflows import cli_backtest  # noqa: E402 - same: imports this module only when the command runs

app.command("verify")(cli_ops.verify)
app.command("replay")(cli_ops.replay)
app.add_typer(cli_ops.recovery_app, name="recovery")
app.command("backtest")(cli_backtest.backtest)
from dataflows import report, retrain  # noqa: E402 - monitoring commands (issue 7); import this module lazily
app.command("report")(report.report_command)
app.command("retrain")(retrain.retrain_command)
from dataflows import cli_bench  # noqa: E402 - `tickwise bench` runs bench/ of the checkout in a child
app.command("bench", context_settings=cli_bench.CONTEXT)(cli_bench.bench)


def main() -> None:
    from dataflows.tickfiles import TickFileError

    try:
        app()
    except (ConfigError, StackError, TickFileError, UserError) as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
