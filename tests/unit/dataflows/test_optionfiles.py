import datetime as dt
import zipfile
from pathlib import Path

import pytest

from dataflows.optionfiles import OptionFileError, midnight_ns, read_interest_rates, read_option_day
from operators.messages import Quote, Trade
from operators.options import OptionOpenInterest, OptionQuote, OptionTrade

LEAN = Path(__file__).resolve().parents[4] / "shared" / "data" / "options" / "lean"
real = pytest.mark.skipif(not LEAN.exists(), reason="shared LEAN option data not present")


@real
def test_real_spy_day_merges_underlying_and_options_in_event_time():
    day = read_option_day(LEAN, "SPY", dt.date(2023, 8, 3))
    kinds = {type(message) for message in day.messages}
    assert kinds == {Quote, Trade, OptionQuote, OptionTrade}
    assert day.bad_rows == []
    times = [message.ts_ns for message in day.messages]
    assert times == sorted(times)
    option_quotes = [m for m in day.messages if isinstance(m, OptionQuote)]
    assert {m.contract.symbol for m in option_quotes} == {
        "SPY   230901C00430000", "SPY   230901P00430000", "SPY   230901C00470000", "SPY   230901P00470000"}


@real
def test_a_minute_bar_becomes_an_event_at_its_end_in_utc():
    day = read_option_day(LEAN, "SPY", dt.date(2023, 8, 3))
    first_open_bar = min(m.ts_ns for m in day.messages if isinstance(m, OptionQuote))
    # LEAN's first bar starts 09:30 New York (EDT, UTC-4); it is known at 09:31 = 13:31 UTC
    assert first_open_bar == int(dt.datetime(2023, 8, 3, 13, 31, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    prices = [m for m in day.messages if isinstance(m, OptionQuote) and m.ts_ns == first_open_bar]
    assert all(0 < m.bid <= m.ask < 100 for m in prices)  # deci-cents became dollars


@real
def test_open_interest_and_one_sided_quotes_of_a_real_twx_day():
    day = read_option_day(LEAN, "TWX", dt.date(2014, 6, 5))
    interest = [m for m in day.messages if isinstance(m, OptionOpenInterest)]
    assert len(interest) == 184
    ask_only = [m for m in day.messages if isinstance(m, OptionQuote) and m.bid == 0 and m.bid_size == 0 and m.ask > 0]
    assert len(ask_only) > 100


def test_winter_midnight_is_five_hours_behind_utc():
    assert midnight_ns(dt.date(2015, 12, 24)) == int(dt.datetime(2015, 12, 24, 5, tzinfo=dt.timezone.utc).timestamp()) * 10**9


def write_day(root: Path, option_rows: dict[str, str], equity_quote: str = "34200000,10000,10000,10000,10000,1,10100,10100,10100,10100,1\n"):
    equity = root / "equity" / "usa" / "minute" / "abc"
    equity.mkdir(parents=True)
    with zipfile.ZipFile(equity / "20200102_quote.zip", "w") as archive:
        archive.writestr("20200102_abc_minute_quote.csv", equity_quote)
    with zipfile.ZipFile(equity / "20200102_trade.zip", "w") as archive:
        archive.writestr("20200102_abc_minute_trade.csv", "34200000,10000,10000,10000,10000,300\n")
    options = root / "option" / "usa" / "minute" / "abc"
    options.mkdir(parents=True)
    with zipfile.ZipFile(options / "20200102_quote_american.zip", "w") as archive:
        for name, text in option_rows.items():
            archive.writestr(name, text)


def test_bad_rows_and_entries_are_counted_with_file_and_line_and_the_rest_is_read(tmp_path):
    good = "20200102_abc_minute_quote_american_call_1000000_20200117.csv"
    write_day(tmp_path, {
        good: ("34200000,5000,5000,5000,5000,3,5200,5200,5200,5200,4\n"
               "34260000,5000,x,5000,5000,3,5200,5200,5200,5200,4\n"
               "34320000,5000,5000\n"
               "99999999,5000,5000,5000,5000,3,5200,5200,5200,5200,4\n"
               "34380000,-5,5000,5000,5000,3,5200,5200,5200,5200,4\n"
               "34440000,,,,,0,5200,5200,5200,5200,4\n"),
        "20200102_abc_minute_quote_american_call_1000000_20201317.csv": "34200000,1,1,1,1,1,2,2,2,2,1\n",
        "readme.txt": "hello\n"})
    day = read_option_day(tmp_path, "ABC", dt.date(2020, 1, 2))
    quotes = [m for m in day.messages if isinstance(m, OptionQuote)]
    assert [(q.bid, q.ask) for q in quotes] == [(0.5, 0.52), (0.0, 0.52)]
    assert quotes[0].contract.symbol == "ABC   200117C00100000"
    lines = {(row.path.name.rsplit(":", 1)[1], row.line) for row in day.bad_rows}
    assert lines == {(good, 2), (good, 3), (good, 4), (good, 5),
                     ("20200102_abc_minute_quote_american_call_1000000_20201317.csv", 0), ("readme.txt", 0)}
    reasons = " ".join(str(row) for row in day.bad_rows)
    assert "expected 11 comma-separated fields, found 3" in reasons and "not within the day" in reasons
    assert "negative price" in reasons and "does not name a contract" in reasons
    assert all(str(row).startswith(f"LEAN file {tmp_path}") for row in day.bad_rows)  # never a "tick file"


def test_missing_underlying_files_are_one_sentence(tmp_path):
    with pytest.raises(OptionFileError, match="does not exist") as error:
        read_option_day(tmp_path, "ABC", dt.date(2020, 1, 2))
    assert "\n" not in str(error.value)


def test_interest_rates_are_read_as_a_step_curve(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("DATE,PCREDIT8\n2015-12-17,1.00\n2023-07-27,5.5\n")
    curve = read_interest_rates(path)
    assert curve.rate(dt.date(2023, 8, 3)) == 0.055
    path.write_text("DATE,PCREDIT8\nyesterday,1.00\n")
    with pytest.raises(OptionFileError, match="not DATE,PERCENT rows"):
        read_interest_rates(path)
