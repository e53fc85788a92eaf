"""What every command of ``tickwise`` shares: the console, errors, the state dir and settings.

Every command takes ``--state-dir`` (or ``TICKWISE_STATE_DIR``; default ``.tickwise``, what
``make demo`` uses): the embedded stack records its random ports there, chDB keeps its data in
``<state dir>/chdb``, the model registry in ``<state dir>/mlflow``, the flow its recovery dirs.
Every command that needs Kafka, Redis or ClickHouse reads its settings through
``command_settings``: the command's own options first, then the environment
(``KAFKA_BOOTSTRAP``, ``REDIS_URL``, ``CLICKHOUSE_URL`` ...), and otherwise the embedded stack
started by ``tickwise stack up`` (recorded in the state dir); a command that needs a server when
neither gives an address stops (``require_kafka``, ``require_redis``, ``require_clickhouse``)
rather than trying a default one or creating an empty database. Bad arguments and bad settings
end with one sentence from ``fail`` and exit code 2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from dataflows.cli.output import UNBOUNDED_WIDTH
from dataflows.config import Settings, load_settings
from dataflows.stack import read_stack
from sinks.redaction import redact_text

#: Messages, tables and progress on stderr: a terminal's width, or unbounded when stderr is a pipe or a file
#: (a table is then as wide as its content, never cut to 80 columns).
console = Console(stderr=True)
if not console.is_terminal:
    console = Console(stderr=True, width=UNBOUNDED_WIDTH)
#: The same stderr for text that is not ours to mark up (training progress that quotes lists in brackets).
plain_console = Console(stderr=True, width=console.width if not console.is_terminal else None, markup=False,
                        highlight=False)

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR_DEFAULT = Path(".tickwise")
USER_ERROR_CODE = 2
DAY_NS = 86_400 * 1_000_000_000

StateDir = Annotated[Path, typer.Option("--state-dir", envvar="TICKWISE_STATE_DIR", show_default=True,
                                        help="Where the embedded stack, chDB data, model registry and "
                                             "recovery dirs live.")]


class UserError(Exception):
    """Something the user can fix; printed as one sentence."""


def print_error(message: str) -> None:
    """``error: <message>`` on stderr, on one line, with ``message`` printed literally (no Rich markup)
    and every URL in it redacted (a client's error may quote the URL it failed on)."""
    console.print(f"[bold red]error:[/] {escape(redact_text(message))}", soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print ``message`` as one error sentence and end the command with exit code 2."""
    print_error(message)
    raise typer.Exit(USER_ERROR_CODE)


def command_settings(state_dir: Path, **overrides: Mapping[str, object]) -> Settings:
    """Settings of a command: ``overrides`` (field values per section, None: not given) first, then the
    environment; Kafka, Redis and ClickHouse fall back to the embedded stack if it is running."""
    stack = read_stack(state_dir)
    fallback: dict[str, dict[str, object]] = {"kafka": {}, "redis": {}, "clickhouse": {}}
    if stack is not None:
        if "KAFKA_BOOTSTRAP" not in os.environ:
            fallback["kafka"]["bootstrap"] = stack.kafka_bootstrap
        if "REDIS_URL" not in os.environ:
            fallback["redis"]["url"] = stack.redis_url
        if "CLICKHOUSE_URL" not in os.environ:
            fallback["clickhouse"]["url"] = stack.clickhouse_url
    elif "CLICKHOUSE_URL" not in os.environ:
        fallback["clickhouse"]["url"] = f"chdb://{(state_dir / 'chdb').resolve()}"
    if "TICKWISE_MLFLOW_DIR" not in os.environ:
        fallback["model"] = {"mlflow_dir": registry_dir(state_dir)}
    sections = {name: {**fallback.get(name, {}), **overrides.get(name, {})} for name in {*fallback, *overrides}}
    sections["run"] = {**sections.get("run", {}), "state_dir": state_dir}
    return load_settings(**sections)


def registry_dir(state_dir: Path) -> Path:
    """The embedded MLflow registry of a state dir (``TICKWISE_MLFLOW_DIR`` overrides it)."""
    return state_dir / "mlflow"


def day_span(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """``--start``/``--end`` days (YYYY-MM-DD, UTC) as epoch ns; a bad day fails with one sentence."""
    from dataflows.backfill import parse_day

    try:
        return (parse_day(start) if start else None, parse_day(end) if end else None)
    except ValueError as error:
        fail(str(error))


def time_span(day: str | None, start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """``--day`` (a whole UTC day) narrowed by ``--start``/``--end`` times (UTC) as epoch ns."""
    import pandas as pd

    from dataflows.backfill import parse_day

    try:
        day_ns = parse_day(day) if day else None
        start_ns = int(pd.Timestamp(start, tz="UTC").value) if start else day_ns
        end_ns = int(pd.Timestamp(end, tz="UTC").value) if end else (day_ns + DAY_NS if day_ns is not None else None)
    except ValueError as error:
        fail(str(error))
    return start_ns, end_ns


def offsets_option(option: str, spec: str | None) -> dict[int, int]:
    """``PARTITION:OFFSET,...`` of ``option``, or {} when not given."""
    from dataflows.sources import parse_offsets

    if spec is None:
        return {}
    try:
        return parse_offsets(spec)
    except ValueError as error:
        fail(f"{option}: {error}")


def symbol_list(symbols: str | None) -> list[str] | None:
    """``--symbols A,B`` as a list (None: every symbol)."""
    return symbols.split(",") if symbols else None


def require_kafka(settings: Settings) -> None:
    """Refuse a Kafka address nobody gave: neither ``KAFKA_BOOTSTRAP`` (or an option) nor a running stack
    recorded in the state dir (the settings' built-in default is never used silently)."""
    if "bootstrap" not in settings.kafka.model_fields_set:
        state_dir = settings.run.state_dir
        raise UserError(f"no Kafka to use: KAFKA_BOOTSTRAP is not set and no embedded stack runs in {state_dir}; "
                        f"set KAFKA_BOOTSTRAP=host:port or start one with `tickwise stack up --state-dir {state_dir}`")


def require_redis(settings: Settings) -> None:
    """Refuse a Redis address nobody gave, like ``require_kafka``: the online feature store is never a
    silently assumed ``127.0.0.1:6379``."""
    if "url" not in settings.redis.model_fields_set:
        state_dir = settings.run.state_dir
        raise UserError(f"no Redis to use: REDIS_URL is not set and no embedded stack runs in {state_dir}; "
                        "set REDIS_URL to a redis:// URL or start one with "
                        f"`tickwise stack up --state-dir {state_dir}`")


def require_clickhouse(settings: Settings) -> None:
    """Refuse to open an embedded ClickHouse (chDB) directory that does not exist: reading from it would
    create an empty database and then report that the tables are missing."""
    chdb = settings.clickhouse.chdb_path()
    if chdb is not None and not chdb.is_dir():
        state_dir = settings.run.state_dir
        raise UserError(f"no ClickHouse data in {state_dir}: no embedded stack runs there and {chdb} does not "
                        f"exist; run `tickwise demo` or `tickwise stack up --state-dir {state_dir}`, pass the "
                        "--state-dir they used, or set CLICKHOUSE_URL")


def _check_kafka(settings: Settings) -> None:
    """Fail with one sentence when no Kafka address was given or no broker answers, before any client
    starts retrying."""
    import socket

    require_kafka(settings)
    for server in settings.kafka.bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=3):
                return
        except OSError:
            continue
    raise UserError(f"cannot reach Kafka at {settings.kafka.bootstrap}: start the embedded stack with "
                    "`tickwise stack up` or point KAFKA_BOOTSTRAP at your brokers")


def ensure_topics(settings: Settings) -> list[str]:
    """Create the flow's topics if missing (ticks, signals, dead letters, model events, control); their names."""
    from confluent_kafka import KafkaException

    from dataflows.components import kafka_settings
    from sinks.kafka import ensure_topics as create_topics

    _check_kafka(settings)
    kafka, section = kafka_settings(settings), settings.kafka
    control = [section.control_topic] if section.control_topic else []
    try:
        create_topics(kafka, [section.ticks_topic, *section.flow_topics()], section.ticks_partitions)
        create_topics(kafka, control, 1)  # the kill switch: one partition, one order
    except (KafkaException, TimeoutError) as error:
        raise UserError(f"could not create the topics on {section.bootstrap}: {error}") from None
    return [section.ticks_topic, *section.flow_topics(), *control]


def ensure_split_topics(settings: Settings) -> list[str]:
    """Create the topics the signals flow publishes for the history flow (``sinks.topics``) if missing;
    their names."""
    from confluent_kafka import KafkaException

    from dataflows.components import kafka_settings
    from sinks.kafka import ensure_topics as create_topics
    from sinks.topics import split_topics

    names = list(split_topics(settings.kafka.ticks_topic))
    try:
        create_topics(kafka_settings(settings), names, settings.kafka.ticks_partitions)
    except (KafkaException, TimeoutError) as error:
        raise UserError(f"could not create the topics on {settings.kafka.bootstrap}: {error}") from None
    return names
