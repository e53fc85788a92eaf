"""Hostile timestamps on the real embedded stack: no message can capture a symbol's clock for long.

Real AIG and BAC trades of 2013-10-09 14:00-14:10 UTC go through the live flow (Tansu, chDB,
Redis) with three attacks mixed in, each of which took its symbol out of service before:

- AIG's *first* message is a trade stamped 2099: it must cost that one message, not the symbol;
- two AIG trades stamped two hours ahead arrive back to back: not enough evidence for a jump;
- three agreeing BAC trades two hours ahead *are* a jump (as an overnight gap would be): the real
  BAC ticks after them are late, and the symbol must rejoin after ``clock_reset_after`` of them;
- Redis already holds an AIG row stamped 2099 (as an older version could leave it): the flow's
  own rows must repair it.

Separately, a bounded backtest of a three-line file whose last tick comes more than an hour after
the one before must finish (the tick held as a possible jump is released at end of input).
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import orjson
import pandas as pd
import pytest
from bytewax.testing import run_main

from dataflows.components import build_components
from dataflows.config import load_settings
from dataflows.produce import produce_messages
from dataflows.signals import build_flow
from dataflows.tickfiles import read_tick_frame
from operators.messages import FeatureRow, Trade
from sinks.clickhouse import ClickHouseSettings, ClickHouseWriter
from sinks.metrics import MetricsRegistry
from sinks.redis_store import RedisFeatureSink, RedisSettings, read_features
from tests.integration.flowkit import create_topics, real_trades, topic_settings

pytestmark = pytest.mark.integration

START = int(pd.Timestamp("2013-10-09 14:00", tz="UTC").value)
END = int(pd.Timestamp("2013-10-09 14:10", tz="UTC").value)
SECOND = 1_000_000_000
HOUR = 3_600 * SECOND
YEAR_2099 = int(pd.Timestamp("2099-01-01", tz="UTC").value)
RESET_AFTER = 20  # the default of TICKWISE_CLOCK_RESET_AFTER


def _trade(symbol: str, ts_ns: int, price: float) -> tuple[bytes, bytes]:
    return symbol.encode(), msgspec.json.encode(Trade(symbol, ts_ns, price, 100.0))


@pytest.fixture(scope="module")
def hostile_time_run(stack, market_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("hostile_time")
    settings = topic_settings(stack, f"clock{work.name[-6:]}", f"chdb://{work / 'chdb'}")
    create_topics(settings, partitions=2)
    real = real_trades(market_data, ["AIG", "BAC"], START, END)
    aig, bac = real["AIG"], real["BAC"]
    middle_aig = orjson.loads(aig[len(aig) // 2][1])["ts_ns"]
    middle_bac = orjson.loads(bac[len(bac) // 2][1])["ts_ns"]
    poison = _trade("AIG", YEAR_2099, 38.0)
    two_ahead = [_trade("AIG", middle_aig + 2 * HOUR + step, 99.0) for step in range(2)]
    captors = [_trade("BAC", middle_bac + 2 * HOUR + step * SECOND, 99.0) for step in range(3)]
    aig_stream = [poison, *aig[: len(aig) // 2 + 1], *two_ahead, *aig[len(aig) // 2 + 1:]]
    bac_stream = [*bac[: len(bac) // 2 + 1], *captors, *bac[len(bac) // 2 + 1:]]
    produced = produce_messages(settings.kafka.bootstrap, settings.kafka.ticks_topic, aig_stream + bac_stream).messages

    redis_settings = RedisSettings(stack.redis_url, key_prefix=settings.redis.key_prefix)
    pinned = RedisFeatureSink(redis_settings, MetricsRegistry()).build("seed", 0, 1)
    pinned.write_batch([FeatureRow("AIG", YEAR_2099, 0, 0, 38.0, ("spread",), (0.5,))])
    pinned.close()

    registry = MetricsRegistry()
    components = build_components(settings, registry=registry)
    run_main(build_flow(components, components.kafka_source(), components.live_outputs(), control=None))

    client = ClickHouseWriter(ClickHouseSettings(url=settings.clickhouse.url.get_secret_value())).connect()
    redis_client = redis_settings.client()
    stored = {symbol: read_features(redis_client, symbol, settings.redis.key_prefix) for symbol in ("AIG", "BAC")}
    redis_client.close()
    return {"client": client, "produced": produced, "registry": registry, "stored": stored, "captors": captors,
            "aig": aig, "bac": bac, "bac_before": len(bac) // 2 + 1}


def _clock_rejects(client: object, symbol: str) -> list[tuple[str, int]]:
    rows = client.query(  # type: ignore[attr-defined]
        f"SELECT reason, ts_ns FROM rejects FINAL WHERE symbol = '{symbol}' AND stage = 'clock' ORDER BY offset"
    ).result_rows
    return [(reason, int(ts_ns)) for reason, ts_ns in rows]


def _admitted(client: object, symbol: str) -> int:
    return int(client.command(f"SELECT count() FROM ticks FINAL WHERE symbol = '{symbol}'"))  # type: ignore[attr-defined]


def test_hostile_time_every_message_is_a_tick_or_a_reject(hostile_time_run: dict) -> None:
    client = hostile_time_run["client"]
    rejects = int(client.command("SELECT count() FROM rejects FINAL"))
    assert _admitted(client, "AIG") + _admitted(client, "BAC") + rejects == hostile_time_run["produced"]


def test_hostile_time_a_2099_first_tick_and_two_ticks_two_hours_ahead_cost_only_themselves(
        hostile_time_run: dict) -> None:
    client = hostile_time_run["client"]
    rejected = _clock_rejects(client, "AIG")
    assert [reason for reason, _ in rejected] == ["ts_ahead"] * 3
    assert rejected[0][1] == YEAR_2099 and all(ts_ns > END for _, ts_ns in rejected)
    assert _admitted(client, "AIG") == len(hostile_time_run["aig"]) > 500
    assert int(client.command("SELECT max(ts_ns) FROM features FINAL WHERE symbol = 'AIG'")) < END


def test_hostile_time_a_captured_clock_rejoins_after_clock_reset_after_late_ticks(hostile_time_run: dict) -> None:
    client = hostile_time_run["client"]
    bac, before = hostile_time_run["bac"], hostile_time_run["bac_before"]
    rejected = _clock_rejects(client, "BAC")
    assert [reason for reason, _ in rejected] == ["ts_late"] * (RESET_AFTER - 1) + ["clock_reset"]
    assert [ts_ns for _, ts_ns in rejected] == [orjson.loads(value)["ts_ns"] for _, value in
                                                bac[before: before + RESET_AFTER]]
    # Everything else is admitted: the real ticks, the three captors (nothing contradicted them
    # in time), and every real tick after the reset.
    assert _admitted(client, "BAC") == len(bac) + 3 - RESET_AFTER
    last_real = orjson.loads(bac[-1][1])["ts_ns"]
    assert int(client.command("SELECT max(ts_ns) FROM features FINAL WHERE symbol = 'BAC' AND ts_ns < "
                              f"{END}")) >= last_real - SECOND
    assert hostile_time_run["registry"].value("tickwise_rejects_total", reason="clock_reset") == 1


def test_hostile_time_redis_rows_pinned_ahead_are_repaired_from_the_flow_clock(hostile_time_run: dict) -> None:
    stored = hostile_time_run["stored"]
    assert START <= stored["AIG"]["ts_ns"] < END, "the AIG row stamped 2099 is still pinned"
    assert START <= stored["BAC"]["ts_ns"] < END, "BAC's row from the abandoned clock is still pinned"
    assert stored["AIG"]["ts_ns"] == orjson.loads(hostile_time_run["aig"][-1][1])["ts_ns"]


def test_backtest_when_last_tick_comes_more_than_an_hour_after_the_one_before_then_finishes(tmp_path: Path) -> None:
    from dataflows.backtest import run_backtest

    csv = tmp_path / "three.csv"
    csv.write_text("ts_ns,symbol,price,size,side\n1381324356320000000,IBM,179.05,200,unknown\n"
                   "1381324357320000000,IBM,179.06,200,unknown\n1381334357320000000,IBM,179.10,100,unknown\n")
    settings = load_settings(run={"until_eof": True}, metrics={"port": 0}, kafka={"control_topic": ""},
                             clickhouse={"url": f"chdb://{tmp_path / 'chdb'}"})
    components = build_components(settings, registry=MetricsRegistry())

    result = run_backtest(components, tmp_path / "out", frame=read_tick_frame([csv]), render=False)

    assert (result.summary["ticks"], result.summary["rejected_ticks"]) == (3, 0)
    assert components.metrics.registry.value("tickwise_ticks_total", outcome="valid") == 3
