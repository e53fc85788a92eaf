"""Specifications of the trading-session filter in the per-symbol step and its settings: ticks outside the
session are admitted and counted but update no feature; crypto prefixes trade around the clock."""

from __future__ import annotations

import msgspec
import pytest

from dataflows.config import ConfigError, load_settings
from dataflows.flow_metrics import FlowMetrics
from dataflows.symbol_step import SymbolLogicBuilder
from operators.features.symbol import FeatureConfig
from operators.ingest.clock import EventTimeConfig
from operators.ingest.session import SessionConfig
from operators.messages import FeatureRow, TickBatch, Trade, ValidTick
from sinks.metrics import MetricsRegistry

SECOND = 1_000_000_000
OPEN = 1_381_325_400 * SECOND  # 2013-10-09 13:30 UTC: 09:30 in New York
PRE_MARKET_TICKS = 120  # one a second from 08:28 New York


def trades(symbol: str, count: int, start_ns: int = OPEN - PRE_MARKET_TICKS * SECOND,
           first_offset: int = 0) -> list[ValidTick]:
    return [ValidTick(Trade(symbol, start_ns + i * SECOND, 100.0 + 0.01 * (i % 7), 10.0), "ticks", 0, first_offset + i)
            for i in range(count)]


def encoded(out: list[object]) -> list[bytes]:
    return [msgspec.json.encode(item) for item in out]  # NaN (a feature warming up) encodes as null


def run_session(symbol: str, session: SessionConfig | None, registry: MetricsRegistry) -> list[object]:
    builder = SymbolLogicBuilder(EventTimeConfig(confirmations=1), FeatureConfig(emit_interval_ns=0),
                                 watch=FlowMetrics(registry).symbol_states).with_session(session)
    logic = builder(None)
    out: list[object] = []
    for batch in (trades(symbol, 300)[i:i + 50] for i in range(0, 300, 50)):
        out.extend(logic.on_item(TickBatch(symbol, batch))[0])
    out.extend(logic.on_eof()[0])
    return out


def admitted(out: list[object]) -> list[ValidTick]:
    return [tick for item in out if isinstance(item, TickBatch) for tick in item.ticks]


def test_symbol_step_when_ticks_before_the_open_then_admitted_and_counted_but_no_feature_row_before_0930() -> None:
    registry = MetricsRegistry()

    out = run_session("IBM", SessionConfig("regular"), registry)

    rows = [item for item in out if isinstance(item, FeatureRow)]
    assert len(admitted(out)) == 300  # the ticks table keeps the whole tape
    assert rows and min(row.ts_ns for row in rows) == OPEN
    assert registry.value("tickwise_stage_items_total", stage="outside_session") == PRE_MARKET_TICKS


def test_symbol_step_when_crypto_prefix_then_every_tick_updates_the_features() -> None:
    registry = MetricsRegistry()
    config = load_settings().session.config()

    out = run_session("BTC-USD", config, registry)

    rows = [item for item in out if isinstance(item, FeatureRow)]
    assert min(row.ts_ns for row in rows) == OPEN - PRE_MARKET_TICKS * SECOND
    assert registry.value("tickwise_stage_items_total", stage="outside_session") is None


def test_symbol_step_without_session_then_same_outputs_as_session_all() -> None:
    unfiltered = run_session("IBM", None, MetricsRegistry())

    assert encoded(unfiltered) == encoded(run_session("IBM", SessionConfig("all"), MetricsRegistry()))
    assert len([item for item in unfiltered if isinstance(item, FeatureRow)]) > len(
        [item for item in run_session("IBM", SessionConfig("regular"), MetricsRegistry())
         if isinstance(item, FeatureRow)])


def test_symbol_step_when_restored_from_a_snapshot_then_keeps_filtering_by_its_symbols_session() -> None:
    builder = SymbolLogicBuilder(EventTimeConfig(confirmations=1), FeatureConfig(emit_interval_ns=0),
                                 session=SessionConfig("regular"))
    logic = builder(None)
    logic.on_item(TickBatch("IBM", trades("IBM", 10, OPEN + 3600 * SECOND)))
    restored = builder(logic.snapshot())

    after_close = trades("IBM", 5, OPEN + int(6.5 * 3600) * SECOND, first_offset=10)  # 16:00 New York onwards
    out = restored.on_item(TickBatch("IBM", after_close))[0]

    assert len(admitted(out)) == 5 and not any(isinstance(item, FeatureRow) for item in out)


def test_session_settings_when_environment_names_them_then_config_follows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKWISE_SESSION", "extended")
    monkeypatch.setenv("TICKWISE_SESSION_BY_PREFIX", " SOL=all,BTC=regular ")

    config = load_settings().session.config()

    assert [config.session_name(symbol) for symbol in ("IBM", "SOL-USD", "BTC-USD", "ETH-USD")] == [
        "extended", "all", "regular", "extended"]


def test_session_settings_by_default_regular_for_equities_all_for_crypto() -> None:
    config = load_settings().session.config()

    assert [config.session_name(symbol) for symbol in ("IBM", "SPY", "BTC-USD", "ETH-USD", "XBT/USD")] == [
        "regular", "regular", "all", "all", "all"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"session": "overnight"}, "invalid setting TICKWISE_SESSION:"),
    ({"by_prefix": "BTC=weekend"}, "invalid setting TICKWISE_SESSION_BY_PREFIX: expected PREFIX=SESSION pairs"),
    ({"by_prefix": "BTC=all,BTC=regular"}, "BTC repeats"),
    ({"by_prefix": "BTC"}, "got 'BTC'"),
])
def test_session_settings_when_invalid_then_one_sentence_naming_the_variable(changes: dict[str, str],
                                                                           message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(session=changes)


def test_the_paper_book_sees_only_the_ticks_inside_their_symbols_session() -> None:
    from dataflows.signals import in_session

    keep = in_session(SessionConfig("regular", (("BTC", "all"),)))
    equity = TickBatch("IBM", trades("IBM", 300))  # 120 pre-market ticks, then 180 in the session
    kept = keep(equity)
    assert kept is not None and [t.offset for t in kept.ticks] == list(range(PRE_MARKET_TICKS, 300))
    assert keep(TickBatch("IBM", trades("IBM", 100))) is None  # all pre-market
    crypto = TickBatch("BTC-USD", trades("BTC-USD", 300))
    assert keep(crypto) is crypto  # around the clock: the batch as it came
    from operators.messages import BookDelta

    delta = ValidTick(BookDelta("BTC-USD", OPEN, 11, 12, ((100.0, 1.0),), ()), "ticks", 0, 300)
    with_depth = keep(TickBatch("BTC-USD", [*crypto.ticks, delta]))
    assert with_depth is not None and with_depth.ticks == crypto.ticks  # no price to fill or mark at
