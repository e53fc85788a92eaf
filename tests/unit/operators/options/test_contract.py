import datetime as dt

import msgspec
import pytest

from operators.options import ContractError, OptionQuote, contract, parse_osi


def test_osi_symbol_pads_the_root_to_six_and_the_strike_to_eight_digits_in_thousandths():
    option = contract("goog", dt.date(2016, 1, 15), 750.0, "C")
    assert option.symbol == "GOOG  160115C00750000"
    assert contract("SPY", dt.date(2023, 8, 3), 450.5, "P").symbol == "SPY   230803P00450500"


@pytest.mark.parametrize("symbol", ["GOOG  160115C00750000", "SPY   230803P00450500", "BRK.B 991231C99999999",
                                    "A     700101P00000001"])
def test_parse_then_format_round_trips(symbol):
    assert parse_osi(symbol).symbol == symbol


def test_parsed_contract_carries_style_and_multiplier_that_osi_does_not_spell():
    option = parse_osi("SPY   230803P00450500", style="european", multiplier=10)
    assert (option.underlying, option.expiry, option.strike, option.right) == ("SPY", dt.date(2023, 8, 3), 450.5, "P")
    assert (option.style, option.multiplier) == ("european", 10)


@pytest.mark.parametrize(("args", "words"), [
    (("GOOGLEX", dt.date(2016, 1, 15), 750.0, "C"), "underlying"),
    (("GOOG", dt.date(2016, 1, 15), -5.0, "C"), "strike"),
    (("GOOG", dt.date(2016, 1, 15), 1e6, "C"), "strike"),
    (("GOOG", dt.date(2016, 1, 15), 750.0001, "C"), "strike"),
    (("GOOG", dt.date(2016, 1, 15), 750.0, "X"), "right"),
    (("GOOG", dt.date(1999, 1, 15), 750.0, "C"), "expiry"),
    (("GOOG", dt.date(2016, 1, 15), 750.0, "C", "bermudan"), "style"),
    (("GOOG", dt.date(2016, 1, 15), 750.0, "C", "american", 0), "multiplier"),
])
def test_a_bad_field_is_one_sentence_naming_it(args, words):
    with pytest.raises(ContractError, match=words) as error:
        contract(*args)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("symbol", ["GOOG 160115C00750000", "GOOG  161315C00750000", "GOOG  160115X00750000",
                                    " GOOG 160115C00750000", "GO OG 160115C00750000", "      160115C00750000"])
def test_malformed_osi_symbols_are_refused(symbol):
    with pytest.raises(ContractError, match="option symbol"):
        parse_osi(symbol)


def test_an_option_quote_round_trips_through_json():
    quote = OptionQuote(contract("GOOG", dt.date(2016, 1, 15), 750.0, "C"), 1, 17.5, 18.0, 10.0, 12.0)
    decoded = msgspec.json.decode(msgspec.json.encode(quote), type=OptionQuote)
    assert decoded == quote
