"""Events in the live flow on the real embedded stack: twenty minutes of IBM and AIG (2013-10-08) produced
with ``tickwise produce --events`` beside the shared alternative data, then ``tickwise run --until-eof`` with
``TICKWISE_EVENTS=1``.

The Federal Reserve calendar is a market's (``US``): the producer sends its events public by the last tick
to both symbols, the ones before the first tick at that tick's time. By 2013-10-08 three rate decisions are
public, each 0.25 % as forecast, so every feature row of both symbols carries ``us_last_surprise_z`` 0 (the
third surprise against the two before it) and the row's feature set ends in ``+events1``; the online store
holds the event features with the others; AAPL's earnings and filings reach no symbol of the run. Two bad
event messages (an actual published before its event, an event about another symbol) land on the
dead-letter topic with their reasons. Every offset of the topic is then accounted for: the admitted events
are stored in ``event_messages``, so ``tickwise verify`` exits 0 and the run summary counts them. The live
system's split run (``--role both``: the signals flow, then the history flow decoding the features it
published) stores the same feature rows, event features included.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pandas as pd
import pytest

from dataflows.produce import produce_messages
from operators.events import EVENT_FEATURES, EventMessage, encode_event_tick
from tests.integration.flowkit import chdb_rows, cli_environment, create_topics, read_topic, topic_settings

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
SECOND = 1_000_000_000
START, END = 1_381_240_800 * SECOND, 1_381_242_000 * SECOND  # 2013-10-08 14:00 .. 14:20 UTC
SYMBOLS = ("AIG", "IBM")
FEATURES = "SELECT symbol, ts_ns, feature_set, names, values FROM features FINAL ORDER BY symbol, ts_ns"
DECISION_NS = 1_379_530_800 * SECOND  # the 2013-09-18 FOMC decision


def tickwise(env: dict[str, str], state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataflows.cli", *args, "--state-dir", str(state_dir)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)


def slice_of(market: Path, name: str, out: Path) -> Path:
    """The rows of ``SYMBOLS`` in ``[START, END)`` of a shared tick file, as a CSV of the same layout."""
    frame = pd.read_csv(market / name)
    frame = frame[frame["symbol"].isin(SYMBOLS) & (frame["ts_ns"] >= START) & (frame["ts_ns"] < END)]
    path = out / name.removesuffix(".gz")
    frame.to_csv(path, index=False)
    return path


def bad_events() -> list[tuple[bytes, bytes]]:
    early = EventMessage("trading_economics", "fed_interest_rate_decision", "US", "bad-1", DECISION_NS - SECOND,
                         DECISION_NS, 2, actual=0.5, forecast=0.25)
    elsewhere = EventMessage("estimize", "earnings_release", "AAPL", "bad-2", DECISION_NS, DECISION_NS, 3,
                             actual=1.0, forecast=1.0)
    return [encode_event_tick("IBM", END - SECOND, early), encode_event_tick("AIG", END - SECOND, elsewhere)]


@pytest.fixture(scope="module")
def run(stack, market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("events")
    settings = topic_settings(stack, f"events{uuid.uuid4().hex[:8]}", f"chdb://{work / 'chdb'}")
    create_topics(settings, partitions=2)
    env = cli_environment(settings, TICKWISE_EVENTS="1")
    files = [slice_of(market_data, name, work) for name in ("trades.csv.gz", "quotes.csv.gz")]
    produced = tickwise(env, work / "state", "produce", "--file", str(files[0]), "--file", str(files[1]), "--events")
    assert produced.returncode == 0, produced.stderr[-3000:]
    produce_messages(settings.kafka.bootstrap, settings.kafka.ticks_topic, bad_events())
    flow = tickwise(env, work / "state", "run", "--until-eof")
    assert flow.returncode == 0, flow.stderr[-3000:]
    return {"chdb": work / "chdb", "env": env, "state": work / "state", "settings": settings,
            "produce": " ".join((produced.stdout + produced.stderr).split()),
            "summary": orjson.loads(flow.stdout.strip().splitlines()[-1])}


def test_produce_sends_the_calendar_known_by_the_last_tick_to_both_symbols(run: dict) -> None:
    assert "events: 6 of " in run["produce"]  # three decisions and their announcements, 2013-05 .. 2013-09
    assert "reach the 2 symbol(s) as 12 messages" in run["produce"]
    assert "skipped 38 bad row(s) of the event files" in run["produce"]  # Estimize's month stubs


def test_every_feature_row_carries_the_event_features_as_of_its_time(run: dict) -> None:
    rows = chdb_rows(run["chdb"], FEATURES)
    assert {symbol for symbol, *_ in rows} == set(SYMBOLS) and len(rows) > 500
    for symbol, ts_ns, feature_set, names, values in rows:
        features = dict(zip(names, values))
        assert feature_set.endswith("+events1") and START <= ts_ns < END
        assert features["us_last_surprise_z"] == 0.0, (symbol, ts_ns)
        # no own events: AAPL's earnings and filings reach no symbol of the run (null: NaN in JSON)
        assert all(features[name] is None for name in EVENT_FEATURES)
        assert features["us_seconds_since_last_high_importance"] is None  # the decisions are importance 2


def test_the_online_store_holds_the_event_features_with_the_others(run: dict) -> None:
    done = tickwise(run["env"], run["state"], "features", "IBM", "--format", "json")
    assert done.returncode == 0, done.stderr[-2000:]
    record = orjson.loads(done.stdout.strip().splitlines()[-1])

    assert record["us_last_surprise_z"] == 0.0 and record["feature_set"].endswith("+events1")
    assert "earnings_surprise" in record and "last_price" in record


def test_bad_event_messages_are_on_the_dead_letter_topic_with_their_reasons(run: dict) -> None:
    settings = run["settings"]
    messages = read_topic(settings.kafka.bootstrap, settings.kafka.dlq_topic)
    by_value = {message.value(): {key: value.decode() for key, value in message.headers()} for message in messages}

    reasons = {value: by_value[value]["tickwise.reason"] for _, value in bad_events() if value in by_value}
    assert sorted(reasons.values()) == ["actual_before_event", "entity_mismatch"]
    stored = chdb_rows(run["chdb"], "SELECT stage, reason, symbol FROM rejects FINAL WHERE stage = 'validate_event' "
                                    "ORDER BY reason")
    assert stored == [["validate_event", "actual_before_event", "IBM"], ["validate_event", "entity_mismatch", "AIG"]]


def test_verify_accounts_for_every_offset_with_the_admitted_events_in_event_messages(run: dict) -> None:
    settings = run["settings"]
    topic = read_topic(settings.kafka.bootstrap, settings.kafka.ticks_topic)
    events = sum(message.value().startswith(b'{"type":"event"') for message in topic)

    done = tickwise(run["env"], run["state"], "verify", "--format", "json")
    report = orjson.loads(done.stdout.strip().splitlines()[-1])
    stored = chdb_rows(run["chdb"], "SELECT symbol, source, entity, event_type, count() FROM event_messages FINAL "
                                    "GROUP BY symbol, source, entity, event_type ORDER BY symbol, event_type")

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert report["ok"] and report["missing_offsets"] == report["unprocessed_offsets"] == 0
    assert sum(part["offsets"] for part in report["partitions"].values()) == len(topic)
    # the calendar's 12 messages are admitted and stored once each; the two bad events are rejects only
    assert events == 14 and sum(count for *_, count in stored) == 12
    assert {(symbol, source, entity) for symbol, source, entity, *_ in stored} == {
        ("AIG", "trading_economics", "US"), ("IBM", "trading_economics", "US")}
    assert run["summary"]["ticks_in"] == len(topic) and run["summary"]["ticks_rejected"] >= 2


@pytest.fixture(scope="module")
def split(run: dict) -> dict:
    """The same topic run again as the live system runs it (``--role both``), with its own state, ClickHouse,
    signals topic, Redis keys and consumer group."""
    work = run["state"].parent / "split"
    name = f"split{uuid.uuid4().hex[:6]}"
    env = {**run["env"], "CLICKHOUSE_URL": f"chdb://{work / 'chdb'}", "KAFKA_GROUP_ID": f"{name}-signals",
           "KAFKA_SIGNALS_TOPIC": f"{run['settings'].kafka.signals_topic}.{name}",
           "TICKWISE_REDIS_KEY_PREFIX": f"{name}:features:"}
    done = tickwise(env, work / "state", "run", "--until-eof", "--role", "both")
    assert done.returncode == 0, done.stderr[-3000:]
    return {"chdb": work / "chdb", "env": env, "state": work / "state"}


def test_the_split_run_stores_the_same_feature_rows_with_their_event_features(run: dict, split: dict) -> None:
    combined = chdb_rows(run["chdb"], FEATURES)

    assert chdb_rows(split["chdb"], FEATURES) == combined and combined
    done = tickwise(split["env"], split["state"], "verify", "--format", "json")
    assert done.returncode == 0 and orjson.loads(done.stdout.strip().splitlines()[-1])["ok"], done.stderr[-2000:]
