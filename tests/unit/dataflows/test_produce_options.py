"""``tickwise produce --options-day``: bad input is one sentence and exit code 2; a refused option
message never joins its underlying's reject share."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dataflows.cli import app
from dataflows.config import environment_names
from dataflows.signals import _counts_for_symbol
from operators.ingest.validation import ValidationLimits, decode_tick
from operators.messages import Reject, SourceRecord

LEAN = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "options" / "lean"


def tickwise(*args: str) -> Result:
    cleared: dict[str, str | None] = {name: None for name in environment_names()}
    return CliRunner().invoke(app, list(args), env=cleared)


@pytest.mark.parametrize(("args", "sentence"), [
    (("--options-day", "GOOG"), "is not UNDERLYING:YYYY-MM-DD"),
    (("--options-day", "GOOG:2015-12-23"), "does not exist"),
    (("--options-day", "GOOG:2015-12-24", "--until", "9h"), "is not a New York time HH:MM"),
    (("--options-day", "GOOG:2015-12-24", "--file", "ticks.csv"), "either --file or --options-day"),
    ((), "either --file or --options-day"),
])
def test_produce_options_day_with_bad_input_says_why_and_exits_2(args: tuple[str, ...], sentence: str) -> None:
    result = tickwise("produce", "--lean", str(LEAN), *args)
    assert result.exit_code == 2 and sentence in result.output and "Traceback" not in result.output


def test_a_refused_option_message_does_not_join_the_underlyings_reject_share() -> None:
    value = b'{"type":"option_trade","contract":"GOOG  160115C00000000","ts_ns":1450967460000000000,"price":1,"size":1}'
    option = decode_tick(SourceRecord("ticks", 0, 1, b"GOOG", value), ValidationLimits())
    crossed = decode_tick(SourceRecord("ticks", 0, 2, b"GOOG", b'{"type":"quote","symbol":"GOOG","ts_ns":'
                                       b'1450967460000000000,"bid":2,"ask":1,"bid_size":1,"ask_size":1}'),
                          ValidationLimits())
    assert type(option) is Reject and option.symbol == "GOOG" and not _counts_for_symbol(option)
    assert type(crossed) is Reject and _counts_for_symbol(crossed)
