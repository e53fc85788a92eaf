"""The options step: option messages leave the feature step's batches, chains restore exactly."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from dataflows.option_steps import ChainConfigSource, ChainStep, ChainStepBuilder, chain_feature_row, without_options
from dataflows.optionfiles import OptionFileError
from operators.messages import FeatureRow, Quote, TickBatch, ValidTick
from operators.options.contract import contract
from operators.options.messages import OptionQuote
from operators.options.minute import ChainMinute

LEAN = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "options" / "lean"
DAY = dt.date(2015, 12, 24)
CALL = contract("GOOG", dt.date(2016, 1, 15), 750.0, "C")


def batch(*ticks: object, first_offset: int = 0) -> TickBatch:
    return TickBatch("GOOG", [ValidTick(tick, "ticks", 0, first_offset + i) for i, tick in enumerate(ticks)])


def test_the_feature_step_gets_the_underlyings_ticks_only() -> None:
    quote = Quote("GOOG", 60 * 10**9, 747.9, 748.1, 100, 100)
    mixed = batch(quote, OptionQuote(CALL, 60 * 10**9, 17.5, 18.0, 10, 10))
    assert [tick.tick for tick in without_options(mixed).ticks] == [quote]
    assert without_options(batch(OptionQuote(CALL, 60 * 10**9, 17.5, 18.0, 10, 10))) is None
    plain = batch(quote)
    assert without_options(plain) is plain


def test_a_symbol_without_options_leaves_no_state() -> None:
    step = ChainStepBuilder(ChainConfigSource(Path("/nonexistent/rates.csv")))(None)
    out, keep = step.on_batch([batch(Quote("IBM", 60 * 10**9, 99.0, 101.0, 1, 1))])
    assert (list(out), keep, step.logic) == ([], ChainStep.DISCARD, None)


def test_a_chain_without_its_rate_curve_stops_naming_the_file_and_the_setting() -> None:
    step = ChainStepBuilder(ChainConfigSource(Path("/nonexistent/rates.csv")))(None)
    with pytest.raises(OptionFileError, match=r"/nonexistent/rates.csv does not exist; set TICKWISE_OPTIONS_RATES_FILE"):
        step.on_batch([batch(OptionQuote(CALL, 60 * 10**9, 17.5, 18.0, 10, 10))])


def test_the_flow_prices_chains_with_the_settings_rate_file_and_dividend_yield(tmp_path: Path) -> None:
    from dataflows.config_options import OptionsSection

    rates = tmp_path / "rates.csv"
    rates.write_text("DATE,PCREDIT8\n2015-12-16,0.50\n")
    source = ChainConfigSource.of(OptionsSection(rates_file=rates, dividend_yield=0.02))
    assert (source.rates_path, source().dividend_yield) == (rates, 0.02)


@pytest.fixture(scope="module")
def goog_batches() -> list[TickBatch]:
    if not LEAN.exists():
        pytest.skip("the shared LEAN options data is not on this machine")
    from dataflows.optionfiles import midnight_ns, read_option_day

    end = midnight_ns(DAY) + (9 * 3600 + 45 * 60) * 10**9
    messages = [m for m in read_option_day(LEAN, "GOOG", DAY).messages if m.ts_ns < end]
    return [batch(*messages[start:start + 500], first_offset=start) for start in range(0, len(messages), 500)]


def run(batches: list[TickBatch], restart_at: int | None) -> list[str]:
    builder = ChainStepBuilder(ChainConfigSource(LEAN / "interest-rate.csv"))
    step, out = builder(None), []
    for index, item in enumerate(batches):
        if index == restart_at:
            step = builder(step.snapshot())
            out.extend(step.on_batch([batches[index - 1]])[0])  # the resumed input sends the last batch again
        out.extend(step.on_batch([item])[0])
    out.extend(step.on_eof()[0])
    return [repr(minute) for minute in out]


def test_a_restored_chain_prices_the_same_minutes_as_one_that_never_stopped(goog_batches: list[TickBatch]) -> None:
    straight = run(goog_batches, None)
    assert len(straight) > 10 and "'iv': 0." in straight[-1] and "svi_a" in straight[-1]
    assert run(goog_batches, len(goog_batches) // 2) == straight


def test_each_closed_minute_reaches_the_online_store_as_the_underlyings_option_feature_row() -> None:
    from bytewax import operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource, run_main

    from dataflows.signals import option_features_output

    minutes = [ChainMinute("GOOG", 60 * 10**9, [{"spot": 750.0}], [], {"atm_iv": 0.2, "rr25": -0.03}, {}),
               ChainMinute("GOOG", 120 * 10**9, [], [], {}, {})]
    written: list[FeatureRow] = []
    flow = Dataflow("option_features")
    option_features_output(op.input("chains", flow, TestingSource(minutes)), TestingSink(written))
    run_main(flow)

    assert [(row.symbol, row.ts_ns, row.partition, row.offset, row.names, row.values) for row in written] == [
        ("GOOG", 60 * 10**9, 0, 0, ("atm_iv", "rr25"), (0.2, -0.03)), ("GOOG", 120 * 10**9, 0, 0, (), ())]
    assert written[0].price == 750.0 and math.isnan(written[1].price)  # no quoted contract: no spot


def test_the_feature_row_of_a_real_minute_carries_the_chains_spot_and_front_atm_iv(
        goog_batches: list[TickBatch]) -> None:
    step = ChainStepBuilder(ChainConfigSource(LEAN / "interest-rate.csv"))(None)
    minutes = [minute for item in goog_batches for minute in step.on_batch([item])[0]]
    last = minutes[-1]
    row = chain_feature_row(last)

    assert (row.symbol, row.ts_ns, row.price) == ("GOOG", last.ts_ns, last.contracts[0]["spot"])
    assert dict(zip(row.names, row.values)) == last.features and 0.05 < row.values[row.names.index("atm_iv")] < 2
