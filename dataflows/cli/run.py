"""Running the flow: ``tickwise stack up|down|status``, ``run``, ``demo`` and ``recovery init``."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from dataflows.cli.common import (REPO_ROOT, STATE_DIR_DEFAULT, StateDir, command_settings, console,
                                  ensure_split_topics, ensure_topics, fail, require_redis)
from dataflows.cli.cluster_progress import cluster_progress
from dataflows.cli.data import produce_files
from dataflows.cli.history_child import HistoryChild
from dataflows.config import Settings, environment_variables
from dataflows.private_files import make_private_dir
from dataflows.stack import StackError, read_stack, start_stack, stop_stack
from dataflows.worker_log import rotate_logs
from sinks.redaction import redact_url

if TYPE_CHECKING:
    from dataflows.summary import RunSummary

SAMPLE_DIR = REPO_ROOT / "data" / "sample"

stack_app = typer.Typer(no_args_is_help=True, help="The embedded local stack (Tansu Kafka, Redis, chDB over HTTP).")
recovery_app = typer.Typer(no_args_is_help=True, help="Bytewax recovery directories.")


@stack_app.command("up")
def stack_up(state_dir: StateDir = STATE_DIR_DEFAULT) -> None:
    """Start Tansu (Kafka API), Redis and ClickHouse's HTTP interface over chDB (under the state dir) on loopback."""
    try:
        info = start_stack(state_dir)
    except StackError as error:
        fail(str(error))
    console.print(f"kafka      {info.kafka_bootstrap}\nredis      {redact_url(info.redis_url)}\n"
                  f"clickhouse {redact_url(info.clickhouse_url)} (chDB {escape(info.state_dir)}/chdb)", soft_wrap=True)
    typer.echo(f"export KAFKA_BOOTSTRAP={info.kafka_bootstrap} REDIS_URL={info.redis_url} "
               f"CLICKHOUSE_URL={info.clickhouse_url}")


@stack_app.command("down")
def stack_down(state_dir: StateDir = STATE_DIR_DEFAULT) -> None:
    """Stop the embedded stack: Kafka, Redis and the ClickHouse service.

    Kafka's and Redis's data are in memory and are lost; chDB's stays on disk."""
    console.print("stopped" if stop_stack(state_dir) else "no stack was running")


@stack_app.command("status")
def stack_status(state_dir: StateDir = STATE_DIR_DEFAULT) -> None:
    """Show whether the embedded stack runs, and where."""
    info = read_stack(state_dir)
    if info is None:
        console.print("not running")
        raise typer.Exit(1)
    console.print(f"running: kafka {info.kafka_bootstrap}, redis {redact_url(info.redis_url)}, "
                  f"clickhouse {redact_url(info.clickhouse_url)}")


@recovery_app.command("init")
def recovery_init(
    directory: Annotated[Path, typer.Argument(help="Recovery directory to create (mode 0700).")],
    partitions: Annotated[int, typer.Option(help="Recovery partitions: at least the most workers you will "
                                                 "ever run (processes x workers).", min=1, max=4096)],
    process_index: Annotated[int | None, typer.Option(help="Keep only this process's share of the partitions "
                                                           "(a cluster whose processes have separate volumes).",
                                                      min=0)] = None,
    processes: Annotated[int, typer.Option(help="Processes the partitions were first spread over (with "
                                                 "--process-index); a later, higher index gets none.",
                                           min=1)] = 1,
) -> None:
    """Create the Bytewax recovery partitions; a directory that already has them is left as it is."""
    from dataflows.runner import init_recovery_dir, recovery_partitions
    from dataflows.snapshots import IncompatibleSnapshot

    existed = directory.exists() and bool(recovery_partitions(directory))
    try:
        found = init_recovery_dir(directory, partitions, process_index, processes)
    except OSError as error:
        fail(f"cannot create the recovery dir {directory}: {error.strerror or error}")
    except IncompatibleSnapshot as error:
        fail(str(error))
    verb = "already initialized" if existed else "initialized"
    console.print(f"{directory}: {verb}, partitions {found}")
    typer.echo(orjson.dumps({"recovery_dir": str(directory), "created": not existed,
                             "partitions": found}).decode())


def _program_name() -> str:
    """How the user can call us again: ``tickwise`` if it is on PATH, else the path that ran."""
    if shutil.which("tickwise") == str(Path(sys.argv[0]).resolve()) or shutil.which("tickwise") == sys.argv[0]:
        return "tickwise"
    try:
        return str(Path(sys.argv[0]).resolve().relative_to(Path.cwd()))
    except ValueError:
        return sys.argv[0]


def _print_summary(summary: RunSummary) -> None:
    table = Table(title="tickwise run", show_header=False)
    for name, value in vars(summary).items():
        if name != "rejects_by_reason":
            table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    for reason, count in summary.rejects_by_reason.items():
        table.add_row(f"  rejected: {reason}", f"{count:,}")
    console.print(table)


def _prepare_recovery(settings: Settings, recovery_dir: Path, partitions: int, fresh: bool) -> None:
    """Create the recovery dir (0700) for the ticks topic; with ``fresh``, move the old one aside first."""
    from dataflows.recovery import RecoveryDirError, check_source_topic, set_aside
    from dataflows.runner import init_recovery_dir
    from dataflows.snapshots import IncompatibleSnapshot

    try:
        if fresh:
            moved = set_aside(recovery_dir, time.strftime("%Y%m%dT%H%M%S"))
            if moved is not None:
                console.print(f"--fresh: moved the old recovery dir to {moved}; reading the topic from the beginning",
                              soft_wrap=True)
        init_recovery_dir(recovery_dir, partitions)
        check_source_topic(recovery_dir, settings.kafka.ticks_topic)
    except (RecoveryDirError, IncompatibleSnapshot) as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot use the recovery dir {recovery_dir}: {error.strerror or error}")


def _snapshot_positions(recovery_dir: Path, step_id: str | None = None) -> dict[int, int]:
    """The positions (of the ticks by default) a resume from ``recovery_dir`` would start at ({} if none,
    or not readable)."""
    import sqlite3

    from dataflows.recovery import TICKS_INPUT_STEP, durable_positions
    from dataflows.snapshots import IncompatibleSnapshot, check_recovery_dir

    try:
        check_recovery_dir(recovery_dir)  # never unpickle a store of another state format
        return durable_positions(recovery_dir, step_id or TICKS_INPUT_STEP)
    except (IncompatibleSnapshot, sqlite3.Error, OSError):
        return {}


def _commit_group_offsets(settings: Settings, recovery_dir: Path, role: str = "combined") -> None:
    """Commit what the last snapshot covers to the consumer group (for lag monitors; never fails the run).

    The history flow commits each of its inputs to its own group (``history_group_id``)."""
    from dataflows.components import history_group_id
    from dataflows.recovery import HISTORY_INPUT_STEPS
    from dataflows.sources import SourceError, commit_positions
    from sinks.topics import split_topics

    kafka = settings.kafka
    if role == "history":
        topics = split_topics(kafka.ticks_topic)
        commits = [(kafka.ticks_topic, HISTORY_INPUT_STEPS["ticks"]), (topics.features, HISTORY_INPUT_STEPS["features"]),
                   (topics.decisions, HISTORY_INPUT_STEPS["decisions"])]
        group = history_group_id(kafka.group_id)
    else:
        commits, group = [(kafka.ticks_topic, None)], kafka.group_id
    for topic, step_id in commits:
        try:
            commit_positions(kafka.bootstrap, topic, group, _snapshot_positions(recovery_dir, step_id), kafka.options())
        except SourceError as error:
            console.print(f"[yellow]warning:[/] {escape(str(error))}", soft_wrap=True)


def _interrupted_message(recovery_dir: Path, role: str = "combined") -> str:
    from dataflows.recovery import HISTORY_INPUT_STEPS

    if _snapshot_positions(recovery_dir, HISTORY_INPUT_STEPS["ticks"] if role == "history" else None):
        return (f"interrupted: the cluster was stopped; run the same command again to resume from the last "
                f"snapshot in {recovery_dir}")
    return (f"interrupted before the first snapshot in {recovery_dir}: there is nothing to resume, the next run "
            "reads the topic from the beginning")


def _run(settings: Settings, processes: int, workers: int, recovery_dir: Path,
         snapshot_interval: float | None, max_restarts: int | None = None, role: str = "combined",
         total: int | None = None) -> RunSummary | None:
    """Run one flow's cluster once, or with ``max_restarts`` under the supervisor (whole-cluster restarts),
    with a progress bar of the ticks read (of ``total`` when known); afterwards (however it ended) commit
    what the last snapshot covers to the consumer group.

    ``role``: ``combined`` (both halves in one flow), ``signals`` or ``history``. Returns the summary read
    back from ClickHouse (None for the signals flow, which never writes there)."""
    from dataflows.runner import FLOW_IMPORTS, ClusterError, Restart, RestartPolicy, run_cluster, supervise
    from dataflows.snapshots import IncompatibleSnapshot
    from dataflows.summary import summarize

    ensure_topics(settings)
    if role != "combined":
        ensure_split_topics(settings)
    if role != "history":
        require_redis(settings)
    log_dir = make_private_dir(make_private_dir(settings.run.state_dir) / "logs", "the workers' logs")
    if role == "history":  # its own logs (and cluster addresses) next to the signals flow's
        log_dir = make_private_dir(log_dir / "history", "the workers' logs")
    rotate_logs(log_dir)
    chdb = settings.clickhouse.chdb_path()
    if chdb is not None and role != "signals":
        make_private_dir(chdb, "the ClickHouse history")
    since_ms = int(time.time() * 1000) - 1000  # rows this run writes (1 s slack for clock granularity)
    what = {"combined": "signal flow", "signals": "signals flow", "history": "history flow"}[role]
    with cluster_progress(settings, processes, f"{what} ({processes}x{workers})", total):
        def start() -> object:
            return run_cluster(environment_variables(settings), processes, workers, recovery_dir, snapshot_interval,
                               work_dir=log_dir if role == "history" else settings.run.state_dir, log_dir=log_dir,
                               flow_import=FLOW_IMPORTS[role])

        def report(restart: Restart) -> None:
            console.print(f"[yellow]restart {restart.number}/{max_restarts}[/]: process {restart.process_index} "
                          f"exited with code {restart.returncode} after {restart.ran_s:.1f} s; restarting the "
                          f"whole cluster in {restart.delay_s:.1f} s from {recovery_dir}")

        try:
            if max_restarts is None:
                run = start()
            else:
                run = supervise(start, RestartPolicy(max_restarts=max_restarts), on_restart=report).run
        except (ClusterError, IncompatibleSnapshot) as error:
            fail(str(error))
        finally:
            _commit_group_offsets(settings, recovery_dir, role)
    if role == "signals":
        return None
    return summarize(settings.clickhouse.url.get_secret_value(), run.elapsed_s, processes, workers, since_ms)


ROLES = ("both", "signals", "history", "combined")


def _history_settings(settings: Settings, signals_processes: int) -> Settings:
    """The history flow's settings next to a signals cluster: its metrics endpoint after the signals flow's."""
    port = settings.metrics.port
    return settings.replace(metrics={"port": port + signals_processes}) if port else settings


def _report_history_failure(message: str) -> None:
    console.print(f"[bold red]history flow stopped:[/] {escape(message)}", soft_wrap=True)


def _run_roles(settings: Settings, role: str, processes: int, workers: int, recovery: Path,
               snapshot_interval: int, max_restarts: int | None, fresh: bool,
               history: list[HistoryChild] | None = None) -> RunSummary | None:
    """Run the flows ``role`` names; ``both``: the signals cluster here and the history flow beside it
    (live, its child appended to ``history``), or one after the other (``--until-eof``: the history
    flow then reads what the signals flow published, to its end)."""
    from dataflows.recovery import role_recovery_dir

    if role != "both":
        _prepare_recovery(settings, role_recovery_dir(recovery, role), processes * workers, fresh)
        return _run(settings, processes, workers, role_recovery_dir(recovery, role), snapshot_interval,
                    max_restarts, role)
    history_dir = role_recovery_dir(recovery, "history")
    _prepare_recovery(settings, recovery, processes * workers, fresh)
    _prepare_recovery(settings, history_dir, 1, fresh)
    history_settings = _history_settings(settings, processes)
    if settings.run.until_eof:
        _run(settings, processes, workers, recovery, snapshot_interval, max_restarts, "signals")
        return _run(history_settings, 1, 1, history_dir, snapshot_interval, max_restarts, "history")
    ensure_split_topics(settings)
    child = HistoryChild.start(history_settings, settings.run.state_dir, recovery, snapshot_interval, max_restarts,
                               _report_history_failure)
    if history is not None:
        history.append(child)
    try:
        _run(settings, processes, workers, recovery, snapshot_interval, max_restarts, "signals")
    finally:
        child.stop()
    return None


def run(
    processes: Annotated[int, typer.Option(help="Processes in the local Bytewax cluster (of the signals flow "
                                                "with --role both).", min=1, max=64)] = 1,
    workers: Annotated[int, typer.Option(help="Worker threads per process.", min=1, max=64)] = 1,
    role: Annotated[str | None, typer.Option(help="Which flows: both (signals and history flows side by side; "
                                             "the default), signals, history, or combined (both halves in one "
                                             "flow; the default with --until-eof).")] = None,
    recovery_dir: Annotated[Path | None, typer.Option(help="Bytewax recovery directory (created 0700 if missing); "
                                                           "default: <state dir>/recovery. The history flow keeps "
                                                           "its own next to it (<dir>-history).")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start over: move the recovery dir aside and read the "
                                        "topic from the beginning, publishing every signal again.")] = False,
    snapshot_interval: Annotated[int, typer.Option(help="Whole seconds between recovery snapshots.", min=1)] = 10,
    until_eof: Annotated[bool, typer.Option("--until-eof", help="Stop at the end of the ticks topic and print a summary.")] = False,
    model: Annotated[str | None, typer.Option(help="Model directory or 'default'.")] = None,
    supervise: Annotated[bool, typer.Option("--supervise", help="Restart the whole cluster (with backoff) when a "
                                            "process dies, resuming from the recovery dir.")] = False,
    max_restarts: Annotated[int, typer.Option(help="Restarts allowed with --supervise.", min=0)] = 10,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Run the live system on the configured Kafka, ClickHouse and Redis.

    By default two flows: the signals flow (ticks to signals, Redis, and the topics the history
    flow reads) and the history flow (ClickHouse, drift, outcomes, paper P&L), each with its own
    recovery dir, processes and metrics port, so ClickHouse never delays or stops a signal. A
    restart resumes where the last snapshot left off; ``--fresh`` starts over.
    """
    from dataflows.recovery import default_recovery_dir, role_recovery_dir

    chosen = role or ("combined" if until_eof else "both")
    if chosen not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    settings = command_settings(state_dir, run={"until_eof": until_eof or None}, model={"spec": model})
    if chosen == "history" and settings.clickhouse.chdb_path() is not None and processes * workers > 1:
        fail("with the embedded ClickHouse (chDB) the history flow runs as one process with one worker; "
             "drop --processes/--workers or use a ClickHouse server")
    recovery = recovery_dir or default_recovery_dir(state_dir)
    history: list[HistoryChild] = []  # the live history child of --role both
    try:
        summary = _run_roles(settings, chosen, processes, workers, recovery, snapshot_interval,
                             max_restarts if supervise else None, fresh, history)
    except KeyboardInterrupt:
        message = _interrupted_message(role_recovery_dir(recovery, chosen), chosen)
        if chosen == "both":
            message += f"; the history flow resumes from {role_recovery_dir(recovery, 'history')}"
        if history and history[0].failure:
            message += f"; earlier, {history[0].failure}"
        console.print(message, soft_wrap=True)
        raise typer.Exit(130) from None
    if summary is None:  # the signals flow alone writes nothing to ClickHouse to sum up
        line = {"role": chosen, "processes": processes, "workers": workers}
        if history:
            line["history_exit_code"] = history[0].process.returncode
        typer.echo(orjson.dumps(line).decode())
        if history and history[0].failure:
            fail(history[0].failure)
        return
    if until_eof:
        _print_summary(summary)
    typer.echo(summary.json_line())


def demo(
    processes: Annotated[int, typer.Option(help="Processes in the local Bytewax cluster.", min=1, max=8)] = 1,
    state_dir: StateDir = STATE_DIR_DEFAULT,
    stop: Annotated[bool, typer.Option(help="Stop the embedded stack at the end.")] = False,
) -> None:
    """Start the embedded stack, produce the shipped real sample, run to the end, summarize.

    It starts over in the state dir: a stack running there is stopped, its chDB data and recovery dirs
    are removed (the model registry stays)."""
    files = sorted(SAMPLE_DIR.glob("*_trades.csv.gz")) + sorted(SAMPLE_DIR.glob("*_quotes.csv.gz"))
    if not files:
        fail(f"the demo sample is missing from {SAMPLE_DIR}")
    from dataflows.recovery import default_recovery_dir

    stop_stack(state_dir)
    # The demo starts a new (in-memory) broker: the old positions and rows belong to the old one.
    recovery = default_recovery_dir(state_dir)
    shutil.rmtree(state_dir / "chdb", ignore_errors=True)
    shutil.rmtree(recovery, ignore_errors=True)
    try:
        info = start_stack(state_dir)
    except StackError as error:
        fail(str(error))
    console.print(f"[bold]tickwise demo[/]: embedded stack up (kafka {info.kafka_bootstrap}, redis {info.redis_url})")
    env_backup = {name: os.environ.pop(name) for name in ("KAFKA_BOOTSTRAP", "REDIS_URL", "CLICKHOUSE_URL")
                  if name in os.environ}
    try:
        settings = command_settings(state_dir, run={"until_eof": True})
        ensure_topics(settings)
        produced = produce_files(settings, files, None)
        _prepare_recovery(settings, recovery, processes, fresh=False)
        summary = _run(settings, processes, 1, recovery, None, total=produced)
    finally:
        os.environ.update(env_backup)
        if stop:
            stop_stack(state_dir)
    _print_summary(summary)
    if summary.ticks_in != produced:
        console.print(f"[bold red]warning:[/] produced {produced:,} ticks but the flow accounted for "
                      f"{summary.ticks_in:,}")
    if not stop:
        program = _program_name()
        where = "" if state_dir == STATE_DIR_DEFAULT else f" --state-dir {state_dir}"
        console.print(
            "\nQuery the results:\n"
            f"  {program} query{where} \"SELECT reason, count() AS n FROM risk_decisions FINAL "
            "GROUP BY reason ORDER BY n DESC\"\n"
            f"  {program} features{where} IBM     # latest online features from Redis\n"
            f"  {program} stack down{where}      # stop the stack when done",
            soft_wrap=True, markup=False, highlight=False,
        )
    typer.echo(summary.json_line())
