"""Hostile identities on the real embedded stack: which symbol a message speaks for.

One live run on Tansu, Redis/Valkey and chDB, with ``TICKWISE_SYMBOLS_ALLOWED`` set, reads

- keyless copies of the second half of ten real minutes of IBM ticks, produced first so they may
  sit on other partitions ahead of the real ticks (a keyless producer spreads them so);
- those ten real minutes of IBM (key ``IBM``);
- trades of real venue identifiers on the allow-list (an OCC option symbol with its padding
  spaces, ``^GSPC``, ``BRK B``, ``ES=F``, ``@ES#``, ``es_f``), each keyed by its symbol;
- 50 keyed symbols off the allow-list and one symbol that is a path (``A/../../ETC``).

Then every keyless copy must be a ``missing_key`` dead letter and no real IBM tick late; every
venue identifier must have its own Redis row; no Redis key may exist for a path or a symbol off
the allow-list.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import msgspec
import orjson
import pandas as pd
import pytest
import redis
from bytewax.testing import run_main

from dataflows.components import build_components
from dataflows.produce import produce_messages
from dataflows.signals import build_flow
from dataflows.tickfiles import encode_ticks, read_tick_frame
from operators.messages import Trade
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter
from sinks.metrics import MetricsRegistry
from sinks.redis_store import read_features
from tests.integration.flowkit import create_topics, read_topic, topic_settings

pytestmark = pytest.mark.integration

START = int(pd.Timestamp("2013-10-09 14:00", tz="UTC").value)
END = int(pd.Timestamp("2013-10-09 14:10", tz="UTC").value)
SECOND = 1_000_000_000
VENUE_SYMBOLS = ("AAPL  240119C00190000", "^GSPC", "BRK B", "ES=F", "@ES#", "es_f")
ALLOWED = ("IBM", *VENUE_SYMBOLS)
JUNK = tuple(f"JUNK{i}" for i in range(50))
PATH = "A/../../ETC"


def _trades(symbol: str, count: int, price: float) -> list[tuple[bytes, bytes]]:
    return [(symbol.encode(), msgspec.json.encode(Trade(symbol, START + i * SECOND, price + 0.01 * (i % 7), 10.0)))
            for i in range(count)]


@pytest.fixture(scope="module")
def identity_run(stack, market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("identity")
    settings = topic_settings(stack, f"identity{work.name[-6:]}", f"chdb://{work / 'chdb'}",
                              symbols={"allowed": ",".join(ALLOWED)})
    create_topics(settings)
    frame = read_tick_frame([market_data / "trades.csv.gz", market_data / "quotes.csv.gz"], ["IBM"], START, END)
    real = list(encode_ticks(frame))
    copies: list[tuple[bytes | None, bytes]] = [(None, value) for _, value in real[len(real) // 2:]]
    venues = [message for symbol in VENUE_SYMBOLS for message in _trades(symbol, 40, 180.0)]
    junk = [message for symbol in JUNK for message in _trades(symbol, 1, 10.0)]
    messages = copies + real + venues + junk + _trades(PATH, 3, 10.0)
    produced = produce_messages(settings.kafka.bootstrap, settings.kafka.ticks_topic, messages).messages

    registry = MetricsRegistry()
    components = build_components(settings, registry=registry)
    run_main(build_flow(components, components.kafka_source(), components.live_outputs()))

    source = {(m.partition(), m.offset()): (m.key(), orjson.loads(m.value())["symbol"])
              for m in read_topic(settings.kafka.bootstrap, settings.kafka.ticks_topic)}
    dead = {}
    for message in read_topic(settings.kafka.bootstrap, settings.kafka.dlq_topic):
        headers = {key: value.decode() for key, value in message.headers()}
        dead[(int(headers["tickwise.source.partition"]), int(headers["tickwise.source.offset"]))] = \
            headers["tickwise.reason"]
    client = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse.url.get_secret_value())).connect()
    return {"settings": settings, "produced": produced, "copies": len(copies), "real": len(real),
            "source": source, "dead": dead, "registry": registry, "client": client}


def test_identity_run_every_keyless_copy_is_a_missing_key_dead_letter(identity_run: dict) -> None:
    keyless = {position for position, (key, _) in identity_run["source"].items() if key is None}
    assert len(keyless) == identity_run["copies"] > 1000
    assert {position: identity_run["dead"].get(position) for position in keyless} == \
        dict.fromkeys(keyless, "missing_key")
    assert identity_run["registry"].value("tickwise_rejects_total", reason="missing_key") == len(keyless)


def test_identity_run_keyless_copies_do_not_make_real_ticks_late(identity_run: dict) -> None:
    real = {position for position, (key, symbol) in identity_run["source"].items() if key == b"IBM"}
    reasons = Counter(identity_run["dead"][position] for position in real if position in identity_run["dead"])
    assert len(real) == identity_run["real"]
    assert reasons["ts_late"] == 0 and reasons["ts_ahead"] == 0, reasons
    admitted = int(identity_run["client"].command("SELECT count() FROM ticks FINAL WHERE symbol = 'IBM'"))
    assert admitted == len(real) - sum(reasons.values()) and admitted > len(real) - 5


def test_identity_run_symbols_off_the_allow_list_and_paths_are_dead_letters_with_their_reason(
        identity_run: dict) -> None:
    by_symbol: dict[str, set[str | None]] = {}
    for position, (_, symbol) in identity_run["source"].items():
        by_symbol.setdefault(symbol, set()).add(identity_run["dead"].get(position))
    assert all(by_symbol[symbol] == {"symbol_not_allowed"} for symbol in JUNK)
    assert by_symbol[PATH] == {"invalid_symbol"}
    registry = identity_run["registry"]
    assert registry.value("tickwise_rejects_total", reason="symbol_not_allowed") == len(JUNK)
    assert registry.value("tickwise_rejects_total", reason="invalid_symbol") == 3
    admitted = {row[0] for row in identity_run["client"].query("SELECT DISTINCT symbol FROM ticks FINAL").result_rows}
    assert admitted == set(ALLOWED)


def test_identity_run_venue_identifiers_get_their_own_redis_rows_and_nothing_else_gets_a_key(
        identity_run: dict) -> None:
    settings = identity_run["settings"]
    prefix = settings.redis.key_prefix
    client = redis.Redis.from_url(settings.redis.url.get_secret_value())
    keys = {key.decode() for key in client.scan_iter(match=prefix + "*", count=1000)}
    assert keys == {prefix + symbol for symbol in ALLOWED}
    assert not any(".." in key or "JUNK" in key for key in keys)
    for symbol in VENUE_SYMBOLS:
        stored = read_features(client, symbol, prefix)
        assert stored["ts_ns"] >= START + 30 * SECOND, symbol
