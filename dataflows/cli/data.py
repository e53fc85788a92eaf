"""Data in and out: ``tickwise produce``, ``query``, ``features`` and ``verify``.

``query`` and ``features`` print their result on stdout in ``--format table|csv|json``;
``verify`` prints its tables on stderr and one JSON line on stdout (``--format json``: the JSON
line alone, ``csv``: one ``check,item,measure,value`` row per figure). A server that cannot be
reached (ClickHouse, Redis, Kafka) or is not running ends the command with one sentence naming
it (password hidden) and exit code 2, within ``CONNECT_TIMEOUT_S`` of trying.

A bad row of a tick file (``produce``, and ``backtest`` too) is skipped and counted: one warning
on stderr with the count and the first ``SHOWN_BAD_ROWS`` lines; ``--strict`` stops at the first
one instead (exit code 2, naming its line). ``produce`` also reads raw depth captures (``<receive_ts_ns>
<json>`` lines, ``dataflows.depthfiles``), whose lines that give no message are skipped and counted
the same way, and with ``--options-day UNDERLYING:YYYY-MM-DD`` a day of LEAN option and underlying
minute files (``dataflows.optionfiles``), whose unreadable rows are skipped and counted too.
``produce --file ... --events`` adds the alternative data of ``--alt`` (the Fed calendar, Estimize
releases and estimates, SEC filings: ``dataflows.eventfiles``) as events on the ticks topic, merged
into the ticks in event time (``dataflows.produce.plan_event_ticks``); their bad rows are skipped and
counted the same way.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dataflows.cli.common import (STATE_DIR_DEFAULT, StateDir, command_settings, console, ensure_topics, fail,
                                  print_error, require_clickhouse, require_kafka, require_redis)
from dataflows.cli.logs import progress_bar
from dataflows.cli.output import Format, check_format, iso_time, print_record, print_rows
from dataflows.config import Settings

if TYPE_CHECKING:
    from confluent_kafka import Consumer

    import pandas as pd

    from dataflows.depthfiles import CaptureItem
    from dataflows.tickfiles import BadRow
    from dataflows.verify import VerifyReport
    from operators.events import EventMessage
    from sinks.clickhouse import ClickHouseWriter

#: Seconds a command waits to connect to ClickHouse, Redis or Kafka before it gives up.
CONNECT_TIMEOUT_S = 5.0
#: Where ``produce --options-day`` looks for LEAN's files unless told (the shared data, from the repository root).
LEAN_DEFAULT = Path("../shared/data/options/lean")
#: Where ``produce --events`` looks for the alternative-data files unless told (the shared data).
ALT_DEFAULT = Path("../shared/data/alt/lean")
#: The event files under ``--alt`` that ``dataflows.eventfiles`` reads (the Fed's indicator series and
#: the consensus snapshot are not events).
EVENT_FILE_PATTERNS = ("trading-economics/*calendar*.zip", "estimize/release/*.zip", "estimize/estimate/*.zip",
                       "sec/*/*.zip")
#: Bad rows of tick files whose line the warning names.
SHOWN_BAD_ROWS = 5

Strict = Annotated[bool, typer.Option("--strict", help="Stop at the first bad row of a tick file (exit code 2) "
                                                       "instead of skipping and counting it.")]


def root_cause(error: BaseException) -> str:
    """The innermost cause of ``error`` in a few words (``[Errno 111] Connection refused``)."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return text or type(error).__name__


def clickhouse_writer(settings: Settings) -> ClickHouseWriter:
    """A connected writer of ``settings``' ClickHouse; one sentence and exit 2 when there is none or it
    cannot connect."""
    from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter

    require_clickhouse(settings)
    # clickhouse-connect logs a failed request before raising it: the sentence below says it once.
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
    clickhouse = ClickHouseSettings(url=settings.clickhouse.url.get_secret_value(),
                                    connect_timeout_s=CONNECT_TIMEOUT_S)
    writer = ClickHouseWriter(clickhouse)
    try:
        writer.connect()
    except Exception as error:  # noqa: BLE001 - refused, timed out, bad credentials, a locked chDB directory
        fail(f"cannot connect to ClickHouse at {clickhouse.redacted_url()} "
             f"(timeout {CONNECT_TIMEOUT_S:g} s): {root_cause(error)}")
    return writer


def kafka_consumer(settings: Settings) -> Consumer:
    """A consumer of ``settings``' brokers that reads partition ends (no group commits, no logs:
    a broker that does not answer becomes one sentence, not librdkafka's retries on stderr)."""
    from confluent_kafka import Consumer

    return Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": "tickwise-verify",
                     "enable.auto.commit": False, "enable.partition.eof": True, "auto.offset.reset": "earliest",
                     "socket.connection.setup.timeout.ms": int(CONNECT_TIMEOUT_S * 1000), "log_level": 0,
                     "error_cb": _ignore_kafka_error, **settings.kafka.options()})


def _ignore_kafka_error(error: object) -> None:
    """Broker errors while connecting: the call that needs the broker reports its own timeout."""


def read_ticks(files: list[Path], strict: bool, symbols: list[str] | None = None, start_ns: int | None = None,
               end_ns: int | None = None) -> pd.DataFrame:
    """The ticks of ``files``; bad rows skipped with one warning (``strict``: the first one fails)."""
    from dataflows.tickfiles import read_tick_frame

    skipped: list[BadRow] | None = None if strict else []
    frame = read_tick_frame(files, symbols, start_ns, end_ns, skipped)
    if skipped:
        warn_bad_rows(skipped)
    return frame


def warn_bad_rows(skipped: list[BadRow]) -> None:
    """One warning on stderr: how many rows were skipped, of which kind of file, and where the first few are."""
    kinds = " and ".join(dict.fromkeys(f"{row.kind}s" for row in skipped))
    shown = "; ".join(f"{row.path.name} line {row.line}: {row.reason}" for row in skipped[:SHOWN_BAD_ROWS])
    more = f"; and {len(skipped) - SHOWN_BAD_ROWS:,} more" if len(skipped) > SHOWN_BAD_ROWS else ""
    console.print(f"[yellow]warning:[/] skipped {len(skipped):,} bad row(s) of the {kinds} ({escape(shown)}"
                  f"{more}); pass --strict to stop at the first one instead", soft_wrap=True)


def produce_files(settings: Settings, files: list[Path], rate: float | None, strict: bool = False) -> int:
    """Read the tick files and produce them to the ticks topic; return how many ticks were sent."""
    return produce_frame(settings, read_ticks(files, strict), rate)


def produce_frame(settings: Settings, frame: pd.DataFrame, rate: float | None) -> int:
    """Produce the ticks to the ticks topic with a progress bar; return how many ticks were sent."""
    from dataflows.tickfiles import encode_ticks

    return produce_encoded(settings, encode_ticks(frame), len(frame), rate)


def read_captures(files: list[Path], strict: bool) -> list[CaptureItem]:
    """The messages of raw depth captures in arrival order, file after file; lines that give no message
    skipped with one warning (``strict``: the first one fails, naming its line)."""
    from dataflows.depthfiles import read_capture
    from dataflows.tickfiles import TickFileError

    try:
        capture = read_capture(files)
    except (ValueError, OSError, EOFError) as error:
        raise TickFileError(str(error)) from None
    skipped = capture.problems
    if skipped and strict:
        raise TickFileError(str(skipped[0]))
    if skipped:
        warn_bad_rows(skipped)
    return capture.items


def read_option_messages(lean: Path, spec: str, until: str | None, strict: bool) -> list[tuple[bytes, bytes]]:
    """The encoded messages of an ``--options-day``; unreadable rows skipped with one warning (``strict``: fail)."""
    import datetime as dt

    from dataflows.optionfiles import OptionFileError, encode_option_day, midnight_ns, parse_day_spec, read_option_day
    from dataflows.tickfiles import TickFileError

    try:
        clock = None if until is None else dt.time.fromisoformat(until)
    except ValueError:
        raise TickFileError(f"--until {until!r} is not a New York time HH:MM") from None
    try:
        underlying, day = parse_day_spec(spec)
        option_day = read_option_day(lean, underlying, day)
    except OptionFileError as error:
        raise TickFileError(str(error)) from None
    until_ns = None if clock is None else midnight_ns(day) + (clock.hour * 3600 + clock.minute * 60) * 1_000_000_000
    skipped = option_day.bad_rows
    if skipped and strict:
        raise TickFileError(str(skipped[0]))
    if skipped:
        warn_bad_rows(skipped)
    return encode_option_day(option_day.messages, until_ns)


def read_events(alt: Path, strict: bool) -> list[EventMessage]:
    """The events of the alternative-data files under ``alt``; bad rows skipped with one warning (``strict``:
    the first one fails, naming its file and record)."""
    from dataflows.eventfiles import read_event_file
    from dataflows.tickfiles import TickFileError

    paths = sorted(path for pattern in EVENT_FILE_PATTERNS for path in alt.glob(pattern))
    if not paths:
        raise TickFileError(f"--alt {str(alt)!r} holds no event files (expected {', '.join(EVENT_FILE_PATTERNS)})")
    events: list[EventMessage] = []
    skipped = []
    for path in paths:
        try:
            read = read_event_file(path)
        except (ValueError, OSError, zipfile.BadZipFile) as error:
            raise TickFileError(f"cannot read event file {path}: {error}") from None
        if read.bad_rows and strict:
            raise TickFileError(str(read.bad_rows[0]))
        events += read.events
        skipped += read.bad_rows
    if skipped:
        warn_bad_rows(skipped)
    return events


def produce_with_events(settings: Settings, frame: pd.DataFrame, events: list[EventMessage],
                        rate: float | None) -> int:
    """Produce the ticks and, merged in event time, the events that reach their symbols; return the count."""
    from dataflows.produce import ticks_with_events

    messages, plan = ticks_with_events(frame, events, settings.events.limits().markets)
    console.print(plan.describe(len(events)), soft_wrap=True)
    return produce_encoded(settings, messages, len(frame) + len(plan.messages), rate)


def produce_encoded(settings: Settings, messages: Iterable[tuple[bytes, bytes]], total: int,
                    rate: float | None) -> int:
    """Produce ``(key, value)`` messages to the ticks topic with a progress bar; return how many were sent."""
    from dataflows.produce import ProduceError, produce_messages

    with progress_bar("producing", total, "ticks") as progress:
        try:
            report = produce_messages(settings.kafka.bootstrap, settings.kafka.ticks_topic, messages, rate,
                                      settings.kafka.options(), lambda sent: progress.update(0, completed=sent))
        except ProduceError as error:
            fail(str(error))
    console.print(f"produced {report.messages:,} ticks to {settings.kafka.ticks_topic} "
                  f"in {report.elapsed_s:.1f} s ({report.messages_per_s:,.0f}/s)")
    return report.messages


def produce(
    file: Annotated[list[Path] | None, typer.Option("--file", "-f", help="Trades or quotes CSV (gzip or plain); "
                                                                          "repeat to merge in time order. Or raw depth "
                                                                          "captures (<receive_ts_ns> <json> lines), "
                                                                          "read in order.")] = None,
    options_day: Annotated[str | None, typer.Option("--options-day", help="UNDERLYING:YYYY-MM-DD: that day's LEAN "
                                                                          "option and underlying minute files "
                                                                          "(under --lean), in event time.")] = None,
    lean: Annotated[Path, typer.Option(help="LEAN data root of --options-day (option/ and equity/ inside).")] = LEAN_DEFAULT,
    until: Annotated[str | None, typer.Option(help="With --options-day: only events before this New York time "
                                                   "(HH:MM).")] = None,
    events: Annotated[bool, typer.Option("--events", help="With --file tick CSVs: also the calendar, earnings and "
                                                          "filings under --alt as events, merged in event time "
                                                          "(a market's event to every symbol).")] = False,
    alt: Annotated[Path, typer.Option(help="Alternative-data root of --events (trading-economics/, estimize/, "
                                           "sec/ inside).")] = ALT_DEFAULT,
    rate: Annotated[float | None, typer.Option(help="Ticks per second (default: as fast as possible).", min=1)] = None,
    strict: Strict = False,
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Produce real tick files to the ticks topic, merged in time order, keyed by symbol.

    Raw depth captures (told apart by their first line) give book snapshots, deltas, best quotes and
    trades in arrival order instead. --options-day produces a day of an options chain instead: the
    underlying's quotes and trades and every contract's quotes, trades and open interest, keyed by
    the underlying. --events adds the events of the alternative data: those public by the last tick,
    the ones before the first tick delivered at its time, a market's (TICKWISE_EVENTS markets, US by
    default) to every symbol; the flow joins their features when TICKWISE_EVENTS is set."""
    from dataflows.depthfiles import encode_messages, is_capture
    from dataflows.tickfiles import TickFileError, check_tick_files

    if (options_day is None) == (not file):
        raise TickFileError("give either --file or --options-day (one of them, not both)")
    if events and options_day is not None:
        raise TickFileError("--events goes with --file tick CSVs, not with --options-day")
    if options_day is not None:
        messages = read_option_messages(lean, options_day, until, strict)
        settings = command_settings(state_dir)
        ensure_topics(settings)
        produce_encoded(settings, messages, len(messages), rate)
        return
    assert file is not None

    captures = [path.is_file() and is_capture(path) for path in file]
    if any(captures):
        if not all(captures):
            raise TickFileError(f"--file mixes raw depth captures and tick CSVs ({file[captures.index(False)]}); "
                                "produce them in separate runs")
        if events:
            raise TickFileError("--events goes with tick CSVs, not with raw depth captures")
        items = read_captures(file, strict)  # a bad file fails before any broker is asked
        settings = command_settings(state_dir)
        ensure_topics(settings)
        produce_encoded(settings, encode_messages(items), len(items), rate)
        return
    check_tick_files(file)
    frame = read_ticks(file, strict)  # a bad file fails before any broker is asked
    alt_events = read_events(alt, strict) if events else None
    settings = command_settings(state_dir)
    ensure_topics(settings)
    if alt_events is None:
        produce_frame(settings, frame, rate)
    else:
        produce_with_events(settings, frame, alt_events, rate)


def query(
    sql: Annotated[str, typer.Argument(help="A SELECT statement against the tickwise tables.")],
    fmt: Format = "table",
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Run SQL on ClickHouse (chDB or server) and print the result."""
    check_format(fmt)
    writer = clickhouse_writer(command_settings(state_dir))
    try:
        result = writer.client.query(sql)
    except Exception as error:  # noqa: BLE001 - any server error is reported as one sentence
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        fail(f"query failed: {first_line}")
    finally:
        writer.close()
    print_rows(result.column_names, result.result_rows, fmt)


def features(
    symbol: Annotated[str, typer.Argument(help="Symbol whose latest online features to show.")],
    fmt: Format = "table",
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Show a symbol's latest feature vector from the Redis online store.

    First when it was computed (ISO 8601 UTC) and where it came from, then every feature by name; for an
    underlying with options, then its option features (``opt_``) as of the last closed minute of its chain."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from sinks.redis_store import OPTION_KEY_SUFFIX, RedisSettings, read_features

    check_format(fmt)
    settings = command_settings(state_dir)
    require_redis(settings)
    redis_settings = RedisSettings(settings.redis.url.get_secret_value(), settings.redis.key_prefix)
    client = redis.Redis.from_url(redis_settings.url, socket_timeout=CONNECT_TIMEOUT_S,
                                  socket_connect_timeout=CONNECT_TIMEOUT_S, retry=Retry(NoBackoff(), 0))
    try:
        values = read_features(client, symbol, redis_settings.key_prefix)
        options = read_features(client, symbol, redis_settings.key_prefix, OPTION_KEY_SUFFIX)
    except redis.RedisError as error:
        fail(f"cannot read features from Redis at {redis_settings.redacted_url()} "
             f"(timeout {CONNECT_TIMEOUT_S:g} s): {root_cause(error)}")
    finally:
        client.close()
    if not values and not options:
        fail(f"no features stored for {symbol!r}")
    print_record(online_record(symbol, values, options), fmt, title=f"latest features of {symbol}")


#: Fields of a stored feature row that say where it comes from, shown before the features.
FEATURE_ROW_FIELDS = ("ts_ns", "partition", "offset", "feature_set", "quality")


def feature_record(symbol: str, values: dict[str, float | int | str]) -> dict[str, object]:
    """The symbol, its time as ISO 8601 UTC next to the raw nanoseconds, where the row came from, then the
    features in name order."""
    record: dict[str, object] = {"symbol": symbol}
    if "ts_ns" in values:
        record["time"] = iso_time(int(values["ts_ns"]))
    record.update({name: values[name] for name in FEATURE_ROW_FIELDS if name in values})
    record.update({name: values[name] for name in sorted(values) if name not in FEATURE_ROW_FIELDS})
    return record


def option_record(values: dict[str, float | int | str], prefix: str = "opt_") -> dict[str, object]:
    """An underlying's stored option features, each named ``prefix`` + name: the minute they are as of (ISO
    8601 UTC and nanoseconds), its chain's spot, then the features in name order (no source message makes a
    minute, so its partition, offset and flags are left out); empty when nothing is stored.

    >>> option_record({"ts_ns": 60_000_000_000, "partition": 0, "offset": 0, "price": 750.5, "feature_set": "",
    ...                "quality": "", "rr25": -0.04, "atm_iv": 0.21})  # doctest: +NORMALIZE_WHITESPACE
    {'opt_time': '1970-01-01T00:01:00Z', 'opt_ts_ns': 60000000000, 'opt_spot': 750.5, 'opt_atm_iv': 0.21,
     'opt_rr25': -0.04}
    """
    record: dict[str, object] = {}
    if "ts_ns" in values:
        record.update({f"{prefix}time": iso_time(int(values["ts_ns"])), f"{prefix}ts_ns": values["ts_ns"]})
    if "price" in values:
        record[f"{prefix}spot"] = values["price"]
    record.update({f"{prefix}{name}": values[name] for name in sorted(values)
                   if name not in FEATURE_ROW_FIELDS and name != "price"})
    return record


def online_record(symbol: str, values: dict[str, float | int | str],
                  options: dict[str, float | int | str]) -> dict[str, object]:
    """What ``tickwise features`` shows: the symbol's stored row, then its chain's latest minute. The chain's
    features are named ``opt_``, unless the row already carries its own ``opt_`` features (the options join
    is on: those are the chain as of the row, what a model saw); the chain's latest minute is then named
    ``chain_``, so no name means two things.

    >>> online_record("GOOG", {"ts_ns": 61_000_000_000, "opt_atm_iv": 0.20, "opt_age_s": 1.0},
    ...               {"ts_ns": 60_000_000_000, "atm_iv": 0.21})  # doctest: +NORMALIZE_WHITESPACE
    {'symbol': 'GOOG', 'time': '1970-01-01T00:01:01Z', 'ts_ns': 61000000000, 'opt_age_s': 1.0, 'opt_atm_iv': 0.2,
     'chain_time': '1970-01-01T00:01:00Z', 'chain_ts_ns': 60000000000, 'chain_atm_iv': 0.21}
    """
    record = feature_record(symbol, values)
    joined = any(name.startswith("opt_") for name in values)
    return {**record, **option_record(options, "chain_" if joined else "opt_")}


def verify(
    expect_offsets: Annotated[str | None, typer.Option(
        help="Range of each partition instead of Kafka's, PARTITION:END (offsets 0..END-1) or PARTITION:START-END, "
             "comma-separated.")] = None,
    topic: Annotated[str | None, typer.Option(help="Source topic to check (default: KAFKA_TICKS_TOPIC).")] = None,
    fmt: Format = "table",
    state_dir: StateDir = STATE_DIR_DEFAULT,
) -> None:
    """Count duplicate rows per table and check every offset of the topic, up to the end Kafka reports, is in
    ticks + book_messages + option_messages + event_messages + rejects; exit 1 on a gap, an unprocessed tail or no
    rows at all."""
    from dataflows.verify import VerifyError, parse_expected
    from dataflows.verify import verify as run_verify

    check_format(fmt)
    try:
        expected = parse_expected(expect_offsets) if expect_offsets else None
    except ValueError as error:
        fail(f"--expect-offsets: {error}")
    settings = command_settings(state_dir)
    require_kafka(settings)
    topic = topic or settings.kafka.ticks_topic
    writer = clickhouse_writer(settings)
    consumer = kafka_consumer(settings)
    try:
        writer.ensure_schema()
        report = run_verify(writer.client, topic, expected, consumer, CONNECT_TIMEOUT_S)
    except VerifyError as error:
        fail(f"cannot read where {topic!r} ends from Kafka at {settings.kafka.bootstrap}: {error}")
    finally:
        consumer.close()
        writer.close()

    if fmt == "csv":
        print_rows(("check", "item", "measure", "value"), _report_figures(report), fmt)
    else:
        if fmt == "table" and not report.empty:
            _print_report(report)
        typer.echo(report.json_line())
    if report.empty:
        print_error(f"no rows of topic {topic!r} in ticks or rejects although Kafka holds "
                    f"{report.unprocessed_offsets:,} of its offsets: nothing was processed into this ClickHouse")
    if not report.ok or report.empty:
        raise typer.Exit(1)


def _report_figures(report: VerifyReport) -> list[tuple[str, str, str, object]]:
    """The report as tidy rows: the verdict, then each table's and each partition's figures."""
    rows: list[tuple[str, str, str, object]] = [("verdict", report.topic, "ok", report.ok)]
    for table in report.tables:
        rows += [("duplicates", table.table, measure, getattr(table, measure))
                 for measure in ("rows", "distinct_ids", "duplicate_rows", "final_rows", "id_conflicts")]
    for part in report.partitions:
        rows += [("offsets", str(part.partition), measure, getattr(part, measure))
                 for measure in ("start", "end", "first", "last", "offsets", "missing", "unprocessed")]
    return rows


def _print_report(report: VerifyReport) -> None:
    tables = Table("table", "rows", "distinct ids", "duplicate rows", "rows with FINAL", title="duplicates")
    for row in report.tables:
        final = f"{row.final_rows:,}" if not row.id_conflicts else f"[bold red]{row.final_rows:,}[/]"
        tables.add_row(row.table, f"{row.rows:,}", f"{row.distinct_ids:,}", f"{row.duplicate_rows:,}", final)
    console.print(tables)
    offsets = Table("partition", "checked", "first", "last", "offsets", "lost in gaps", "unprocessed tail",
                    title=f"offsets of {report.topic} "
                          "(ticks + book_messages + option_messages + event_messages + rejects)")
    for part in report.partitions:
        offsets.add_row(str(part.partition), f"[{part.start}, {part.end})", str(part.first), str(part.last),
                        f"{part.offsets:,}", _count(part.missing), _count(part.unprocessed))
    console.print(offsets)
    for part in report.partitions:
        if part.missing_ranges:
            shown = ", ".join(f"[{start}, {end})" for start, end in part.missing_ranges)
            console.print(f"partition {part.partition}: gaps {shown}", soft_wrap=True)
        if part.unprocessed_range:
            start, end = part.unprocessed_range
            console.print(f"partition {part.partition}: unprocessed tail [{start}, {end})", soft_wrap=True)
    if not report.partitions:
        console.print(f"[yellow]topic {report.topic!r} holds no offsets and no rows[/]")
    if report.id_conflicts:
        console.print(f"[bold red]{report.id_conflicts} id(s) do not collapse with FINAL[/] (same id, "
                      "different sort key): ids are not deterministic")
    if report.missing_offsets:
        console.print(f"[bold red]{report.missing_offsets:,} offset(s) lost in gaps[/] (missing before the last "
                      "offset found)", soft_wrap=True)
    if report.unprocessed_offsets:
        console.print(f"[bold red]{report.unprocessed_offsets:,} offset(s) not processed[/] at the end of "
                      "partitions (after the last offset found, up to the end)", soft_wrap=True)
    if report.ok:
        console.print("[green]ok[/]: no gap, no unprocessed tail")


def _count(value: int) -> str:
    return f"[bold red]{value:,}[/]" if value else "0"
