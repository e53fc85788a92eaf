"""Specifications of the tick file reader: layouts, time-ordered stable merge, the exact Kafka messages."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pandas as pd
import pytest

from dataflows.tickfiles import (
    QUOTE_COLUMNS,
    TRADE_COLUMNS,
    BadRow,
    TickFileError,
    check_tick_files,
    encode_ticks,
    iter_tick_messages,
    read_tick_frame,
)
from operators.messages import Quote, Reject, SourceRecord, Trade, ValidTick
from operators.ingest.validation import ValidationLimits, decode_tick

FORMAT_REASONS = frozenset({"empty_message", "message_too_large", "invalid_utf8", "invalid_json", "unknown_type",
                            "missing_field", "unknown_field", "wrong_type", "invalid_value", "non_finite",
                            "invalid_symbol", "key_mismatch"})
T0 = 1_381_329_000_000_000_000  # 2013-10-09 14:30 UTC

TRADES = (
    f"{','.join(TRADE_COLUMNS)}\n"
    f"{T0 + 1_000},IBM,180.10,100,buy\n"
    f"{T0 + 3_000},IBM,180.12,200,sell\n"
    f"{T0 + 3_000},SPY,168.50,300,unknown\n"
    f"{T0 + 5_000},IBM,180.11,50,\n"
)
QUOTES = (
    f"{','.join(QUOTE_COLUMNS)}\n"
    f"{T0 + 0},IBM,180.05,180.15,400,500\n"
    f"{T0 + 3_000},IBM,180.08,180.14,300,200\n"
    f"{T0 + 4_000},SPY,168.49,168.51,1000,900\n"
)


def write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture(params=["plain", "gzip"])
def tick_files(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    suffix = ".csv.gz" if request.param == "gzip" else ".csv"
    return write(tmp_path / f"trades{suffix}", TRADES), write(tmp_path / f"quotes{suffix}", QUOTES)


def expected_order(files: list[tuple[str, str]]) -> list[tuple[int, str, int]]:
    """(ts_ns, file type, row in file) of every row, sorted by time, then file order, then row."""
    keyed = []
    for file_order, (kind, text) in enumerate(files):
        for row, line in enumerate(text.strip().splitlines()[1:]):
            keyed.append((int(line.split(",")[0]), file_order, row, kind))
    return [(ts, kind, row) for ts, _, row, kind in sorted(keyed)]


def test_check_tick_files_when_trades_and_quotes_then_names_each_layout(tick_files: tuple[Path, Path]) -> None:
    trades, quotes = tick_files

    assert check_tick_files([quotes, trades, quotes]) == ["quote", "trade", "quote"]


def test_check_tick_files_when_no_files_then_tick_file_error() -> None:
    with pytest.raises(TickFileError, match="no tick files"):
        check_tick_files([])


def test_check_tick_files_when_file_missing_then_error_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"

    with pytest.raises(TickFileError, match=f"^tick file {missing} does not exist$"):
        check_tick_files([missing])


def test_check_tick_files_when_columns_unknown_then_error_names_found_and_expected(tmp_path: Path) -> None:
    odd = write(tmp_path / "odd.csv", "time,ticker,last\n1,IBM,2.0\n")

    with pytest.raises(TickFileError) as caught:
        check_tick_files([odd])

    message = str(caught.value)
    assert "time,ticker,last" in message
    assert ",".join(TRADE_COLUMNS) in message and ",".join(QUOTE_COLUMNS) in message


def test_check_tick_files_when_file_empty_then_tick_file_error(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.csv", "")

    with pytest.raises(TickFileError, match="empty.csv is not a readable CSV"):
        check_tick_files([empty])


def test_check_tick_files_when_gzip_corrupt_then_tick_file_error(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.csv.gz"
    corrupt.write_bytes(gzip.compress(TRADES.encode())[:10] + b"\xff" * 40)

    with pytest.raises(TickFileError, match="corrupt.csv.gz"):
        check_tick_files([corrupt])


def test_read_tick_frame_when_trades_then_quotes_then_time_order_with_ties_in_file_order(
        tick_files: tuple[Path, Path]) -> None:
    trades, quotes = tick_files

    frame = read_tick_frame([trades, quotes])

    got = list(zip(frame["ts_ns"].tolist(), frame["type"].tolist(), frame.groupby("type").cumcount().tolist()))
    assert [(ts, kind) for ts, kind, _ in got] == [
        (ts, kind) for ts, kind, _ in expected_order([("trade", TRADES), ("quote", QUOTES)])]
    ties = frame[frame["ts_ns"] == T0 + 3_000]
    assert ties["type"].tolist() == ["trade", "trade", "quote"]
    assert ties["symbol"].tolist() == ["IBM", "SPY", "IBM"]


def test_read_tick_frame_when_file_order_reversed_then_ties_follow_the_new_order(
        tick_files: tuple[Path, Path]) -> None:
    trades, quotes = tick_files

    frame = read_tick_frame([quotes, trades])

    assert frame["ts_ns"].is_monotonic_increasing
    assert frame[frame["ts_ns"] == T0 + 3_000]["type"].tolist() == ["quote", "trade", "trade"]


def test_read_tick_frame_when_plain_and_gzip_then_same_frame(tmp_path: Path) -> None:
    plain = [write(tmp_path / "t.csv", TRADES), write(tmp_path / "q.csv", QUOTES)]
    zipped = [write(tmp_path / "t.csv.gz", TRADES), write(tmp_path / "q.csv.gz", QUOTES)]

    pd.testing.assert_frame_equal(read_tick_frame(plain), read_tick_frame(zipped))


def test_read_tick_frame_when_filtered_then_only_symbols_in_half_open_range(tick_files: tuple[Path, Path]) -> None:
    trades, quotes = tick_files
    start_ns, end_ns = T0 + 1_000, T0 + 5_000

    frame = read_tick_frame([trades, quotes], symbols=["IBM"], start_ns=start_ns, end_ns=end_ns)

    everything = read_tick_frame([trades, quotes])
    wanted = everything[(everything["symbol"] == "IBM") & (everything["ts_ns"] >= start_ns)
                        & (everything["ts_ns"] < end_ns)]
    assert len(frame) == len(wanted) > 0
    assert frame["ts_ns"].tolist() == wanted["ts_ns"].tolist()
    assert frame["type"].tolist() == wanted["type"].tolist()


def test_encode_ticks_when_decoded_by_validator_then_same_values_in_same_order(
        tick_files: tuple[Path, Path]) -> None:
    trades, quotes = tick_files
    frame = read_tick_frame([trades, quotes])
    limits = ValidationLimits()

    decoded = [decode_tick(SourceRecord("ticks", 0, offset, key, value), limits)
               for offset, (key, value) in enumerate(encode_ticks(frame))]

    assert all(isinstance(item, ValidTick) for item in decoded), decoded
    assert len(decoded) == len(frame)
    for item, row in zip(decoded, frame.itertuples(index=False)):
        tick = item.tick
        assert (tick.symbol, tick.ts_ns) == (row.symbol, row.ts_ns)
        if row.type == "trade":
            side = row.side if isinstance(row.side, str) else "unknown"
            assert tick == Trade(row.symbol, row.ts_ns, row.price, row.size, side)
        else:
            assert tick == Quote(row.symbol, row.ts_ns, row.bid, row.ask, row.bid_size, row.ask_size)


def test_encode_ticks_when_side_missing_then_side_is_unknown(tick_files: tuple[Path, Path]) -> None:
    trades, _ = tick_files
    frame = read_tick_frame([trades])
    assert math.isnan(frame["side"].iloc[-1])  # the last trade row has an empty side

    _, value = list(encode_ticks(frame))[-1]

    tick = decode_tick(SourceRecord("ticks", 0, 0, b"IBM", value), ValidationLimits()).tick
    assert tick.side == "unknown"


def test_encode_ticks_when_encoded_then_key_is_the_symbol(tick_files: tuple[Path, Path]) -> None:
    trades, quotes = tick_files
    frame = read_tick_frame([trades, quotes])

    keys = [key for key, _ in encode_ticks(frame)]

    assert keys == [symbol.encode() for symbol in frame["symbol"]]


def test_encode_ticks_when_real_sample_then_every_message_is_well_formed(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[3] / "data" / "sample"
    quotes = pd.read_csv(sample / "ibm_2013-10-09_quotes.csv.gz", nrows=2_000)
    trades = pd.read_csv(sample / "ibm_2013-10-09_trades.csv.gz", nrows=2_000)
    files = [tmp_path / "trades.csv", tmp_path / "quotes.csv"]
    trades.to_csv(files[0], index=False)
    quotes.to_csv(files[1], index=False)
    limits = ValidationLimits()

    decoded = [decode_tick(SourceRecord("ticks", 0, offset, key, value), limits)
               for offset, (key, value) in enumerate(iter_tick_messages(files))]

    # Real quotes may be crossed (a value check); the encoding itself must never be refused.
    assert len(decoded) == len(trades) + len(quotes)
    assert {item.reason for item in decoded if isinstance(item, Reject)}.isdisjoint(FORMAT_REASONS)
    stamps = [item.tick.ts_ns for item in decoded if isinstance(item, ValidTick)]
    assert len(stamps) > len(decoded) // 2
    assert stamps == sorted(stamps)


def test_encode_ticks_when_symbol_is_na_then_message_keeps_the_symbol(tmp_path: Path) -> None:
    trades = write(tmp_path / "trades.csv", f"{','.join(TRADE_COLUMNS)}\n{T0},NA,52.10,100,buy\n")

    [(key, value)] = list(encode_ticks(read_tick_frame([trades])))

    assert key == b"NA"
    assert decode_tick(SourceRecord("ticks", 0, 0, key, value), ValidationLimits()).tick.symbol == "NA"


def test_read_tick_frame_when_row_has_extra_fields_then_tick_file_error(tmp_path: Path) -> None:
    ragged = write(tmp_path / "ragged.csv", f"{','.join(TRADE_COLUMNS)}\n{T0},IBM,180.0,100,buy\n"
                                             f"{T0 + 1},IBM,180.0,100,buy,extra\n")

    with pytest.raises(TickFileError, match="ragged.csv"):
        read_tick_frame([ragged])


BAD_TRADES = (
    f"{','.join(TRADE_COLUMNS)}\n"
    f"{T0},IBM,180.10,100,buy\n"          # line 2
    f"{T0 + 1},IBM,abc,100,buy\n"         # line 3: price is not a number
    "\n"                                  # line 4: blank, not a row
    f"{T0 + 2},IBM,180.11,,sell\n"        # line 5: empty size
    f"{T0 + 3},IBM,180.12,100,buy,x\n"    # line 6: an extra field
    f"{T0 + 4},IBM,180.13,200,sell\n"     # line 7
)


def test_read_tick_frame_when_rows_are_bad_then_skips_them_and_names_each_line(tmp_path: Path) -> None:
    trades = write(tmp_path / "bad.csv.gz", BAD_TRADES)
    skipped: list[BadRow] = []

    frame = read_tick_frame([trades], skipped=skipped)

    assert frame["ts_ns"].tolist() == [T0, T0 + 4]
    assert frame["price"].tolist() == [180.10, 180.13]
    assert [(row.line, row.reason) for row in skipped] == [
        (3, "price is not a number: 'abc'"), (5, "size is empty"), (6, "expected 5 fields, saw 6")]
    assert str(skipped[0]) == f"tick file {trades} line 3: price is not a number: 'abc'"


def test_read_tick_frame_when_not_collecting_bad_rows_then_stops_at_the_first_line(tmp_path: Path) -> None:
    trades = write(tmp_path / "bad.csv", BAD_TRADES)

    with pytest.raises(TickFileError, match=r"bad.csv line 3: price is not a number: 'abc'"):
        read_tick_frame([trades])


def test_encode_ticks_when_bad_rows_skipped_then_every_message_is_a_valid_tick(tmp_path: Path) -> None:
    trades = write(tmp_path / "bad.csv", BAD_TRADES)

    messages = list(encode_ticks(read_tick_frame([trades], skipped=[])))

    decoded = [decode_tick(SourceRecord("ticks", 0, offset, key, value), ValidationLimits())
               for offset, (key, value) in enumerate(messages)]
    assert [type(item) for item in decoded] == [ValidTick, ValidTick]
