"""Order books rebuilt from the real Binance captures agree with the venue's own best quotes, planted
faults are handled as the contract says, and a restored book continues exactly."""

from __future__ import annotations

import gzip
import math
import pickle
from pathlib import Path

import pytest

from dataflows.depthfiles import read_capture
from operators.book.book import BookConfig, OrderBook, level_problem
from operators.book.check import check_books
from operators.book.features import DEPTH_FEATURES, DepthFeatures
from operators.messages import BookDelta, BookSnapshot, Quote, Trade

L2 = Path(__file__).resolve().parents[5] / "shared" / "data" / "l2"
CAPTURES = {
    "spot": ("examples_spot_btcusdt_20240808.gz", "examples_spot_btcusdt_20240809.gz"),
    "usdm": ("examples_usdm_btcusdt_20240718.gz", "examples_usdm_btcusdt_20240719.gz"),
    "coinm": ("examples_cm_btcusd_perp_20240808.gz",),
}


@pytest.fixture(scope="module")
def captures() -> dict[str, list]:
    if not L2.is_dir():
        pytest.fail(f"real L2 captures not found at {L2}; tests need ../shared/data/l2/")
    out = {}
    for venue, files in CAPTURES.items():
        capture = read_capture([L2 / name for name in files])
        assert capture.problems == []
        out[venue] = [item.message for item in capture.items]
    return out


@pytest.mark.parametrize("venue", sorted(CAPTURES))
def test_rebuilt_top_of_book_equals_every_comparable_venue_best_quote(captures: dict, venue: str) -> None:
    [summary] = check_books(captures[venue])
    assert summary["gaps"] == 0 and summary["crossed"] == 0 and summary["rejected"] == 0
    assert summary["compared"] > 500
    assert summary["matched"] == summary["compared"], summary["examples"]
    assert set(summary["not_comparable"]) <= {"book_invalid", "inside_delta", "never_reached"}


def test_a_day_that_continues_the_previous_file_never_gets_a_valid_book_alone() -> None:
    capture = read_capture([L2 / CAPTURES["spot"][1]])
    [summary] = check_books(item.message for item in capture.items)
    assert summary["snapshot"] == 0 and summary["compared"] == 0
    assert summary["not_comparable"] == {"book_invalid": summary["quote"]}


def _first_delta_after_snapshot(messages: list) -> int:
    snapshot = next(i for i, m in enumerate(messages) if isinstance(m, BookSnapshot))
    return next(i for i, m in enumerate(messages) if i > snapshot + 50 and isinstance(m, BookDelta))


def test_a_dropped_delta_is_a_gap_and_no_quote_is_compared_after_it(captures: dict) -> None:
    messages = list(captures["coinm"])
    cut = _first_delta_after_snapshot(messages)
    dropped = messages.pop(cut)
    book = OrderBook(dropped.symbol)
    events = [event for message in messages if isinstance(message, (BookSnapshot, BookDelta))
              for event in book.apply(message)]
    assert [event.kind for event in events] == ["book_gap"]
    assert f"expected prev_id {dropped.prev_id}, got prev_id {dropped.last_id}" in events[0].detail
    assert not book.valid
    [summary] = check_books(messages)
    assert summary["gaps"] == 1 and summary["matched"] == summary["compared"] > 0
    assert summary["not_comparable"]["book_invalid"] > 1_000


def test_a_duplicated_delta_is_stale_and_changes_nothing(captures: dict) -> None:
    messages = list(captures["spot"][:20_000])
    cut = _first_delta_after_snapshot(messages)
    messages.insert(cut + 3, messages[cut])
    [clean] = check_books(captures["spot"][:20_000])
    [doubled] = check_books(messages)
    assert doubled["stale_deltas"] == clean["stale_deltas"] + 1
    assert doubled["gaps"] == 0 and doubled["matched"] == doubled["compared"] == clean["compared"]


def test_deltas_before_any_snapshot_wait_and_never_make_a_book() -> None:
    book = OrderBook("X", BookConfig(pending_limit=2))
    for first in (1, 2, 3):
        assert book.apply(BookDelta("X", first, first, first, ((100.0, 1.0),), ((101.0, 1.0),))) == ()
    assert not book.valid and book.counts["waiting"] == 3 and book.counts["pending_dropped"] == 1
    assert book.apply(BookSnapshot("X", 9, 1, ((99.0, 5.0),), ((102.0, 5.0),))) == ()
    assert book.valid and book.last_id == 3 and book.top() == (100.0, 1.0, 101.0, 1.0)


def test_a_crossed_level_invalidates_the_book_until_the_next_snapshot() -> None:
    book = OrderBook("X")
    book.apply(BookSnapshot("X", 0, 10, ((100.0, 1.0),), ((101.0, 1.0),)))
    [event] = book.apply(BookDelta("X", 1, 11, 11, ((101.5, 2.0),), ()))
    assert event.kind == "book_crossed" and "best bid 101.5 >= best ask 101.0" in event.detail
    assert not book.valid and book.counts["crossed"] == 1
    assert book.apply(BookDelta("X", 2, 12, 12, ((100.0, 3.0),), ())) == ()  # waits for a snapshot
    book.apply(BookSnapshot("X", 3, 20, ((100.0, 1.0),), ((101.0, 1.0),)))
    assert book.valid and book.top() == (100.0, 1.0, 101.0, 1.0)


@pytest.mark.parametrize("size", [-1.0, math.nan, math.inf])
def test_a_bad_size_is_refused_whole_and_the_next_delta_finds_the_gap(size: float) -> None:
    book = OrderBook("X")
    book.apply(BookSnapshot("X", 0, 10, ((100.0, 1.0),), ((101.0, 1.0),)))
    bad = BookDelta("X", 1, 11, 11, ((100.0, 7.0), (99.0, size)), ())
    assert level_problem(bad.bids) is not None and "expected a finite level size >= 0" in level_problem(bad.bids)
    assert book.apply(bad) == () and book.counts["rejected"] == 1
    assert book.top() == (100.0, 1.0, 101.0, 1.0)  # not even the good level of the bad message
    [event] = book.apply(BookDelta("X", 2, 12, 12, ((100.0, 2.0),), ()))
    assert event.kind == "book_gap" and not book.valid


def test_the_array_book_equals_a_plain_dict_book_at_every_delta(captures: dict) -> None:
    """An independent reference: every level in a dict, sorted on demand (no bound, no arrays)."""
    messages = [m for m in captures["usdm"][:15_000] if isinstance(m, (BookSnapshot, BookDelta))]
    book = OrderBook(messages[0].symbol)
    reference: dict[str, dict[float, float]] = {"b": {}, "a": {}}
    checked = 0
    for message in messages:
        was_valid = book.valid
        book.apply(message)
        if isinstance(message, BookSnapshot):
            reference = {"b": dict(message.bids), "a": dict(message.asks)}
        elif was_valid or book.valid:
            for side, levels in (("b", message.bids), ("a", message.asks)):
                for price, size in levels:
                    reference[side][price] = size
        if book.valid and isinstance(message, BookDelta) and was_valid:
            bids = sorted(((p, s) for p, s in reference["b"].items() if s > 0), reverse=True)[:10]
            asks = sorted((p, s) for p, s in reference["a"].items() if s > 0)[:10]
            assert [(book.bids.price(i), book.bids.sizes[i]) for i in range(10)] == bids
            assert [(book.asks.price(i), book.asks.sizes[i]) for i in range(10)] == asks
            checked += 1
    assert checked > 1_000


def _run(messages: list, book: OrderBook | None = None, features: DepthFeatures | None = None
         ) -> tuple[OrderBook, DepthFeatures, list[tuple[float, ...]]]:
    book = book or OrderBook(messages[0].symbol)
    features = features or DepthFeatures()
    rows = []
    for message in messages:
        if isinstance(message, (BookSnapshot, BookDelta)):
            book.apply(message)
            features.on_book(book, message.ts_ns, isinstance(message, BookDelta))
        elif isinstance(message, Trade):
            features.on_trade(message.ts_ns, message.size)
        elif isinstance(message, Quote) and message.book_id is not None and message.book_id % 97 == 0:
            rows.append(features.values(book, message.ts_ns))
    return book, features, rows


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


def test_a_restored_book_and_its_features_continue_bit_identically(captures: dict) -> None:
    messages = captures["coinm"][:30_000]
    _, _, whole = _run(messages)
    book, features, first = _run(messages[:12_345])
    book, features = pickle.loads(pickle.dumps((book, features)))
    _, _, rest = _run(messages[12_345:], book, features)
    assert len(whole) == len(first) + len(rest) > 50
    assert all(_same(a, b) for a, b in zip(whole, first + rest, strict=True))


def test_depth_features_against_a_brute_force_from_the_levels(captures: dict) -> None:
    book, features, rows = _run(captures["spot"][:20_000])
    values = dict(zip(DEPTH_FEATURES, features.values(book, captures["spot"][19_999].ts_ns)))
    bids = [(book.bids.price(i), book.bids.sizes[i]) for i in range(len(book.bids))]
    asks = [(book.asks.price(i), book.asks.sizes[i]) for i in range(len(book.asks))]
    mid = (bids[0][0] + asks[0][0]) / 2
    for k in (1, 5, 10):
        b, a = sum(s for _, s in bids[:k]), sum(s for _, s in asks[:k])
        assert values[f"depth_imbalance_l{k}"] == pytest.approx((b - a) / (b + a), rel=1e-12)
    for bps in (5, 10, 25):
        assert values[f"depth_bid_{bps}bps"] == pytest.approx(sum(s for p, s in bids if (mid - p) / mid * 1e4 <= bps))
        assert values[f"depth_ask_{bps}bps"] == pytest.approx(sum(s for p, s in asks if (p - mid) / mid * 1e4 <= bps))
    assert values["book_valid"] == 1.0 and 0.0 <= values["trade_share_10s"] <= 1.0
    assert sum(1 for row in rows if not math.isnan(row[DEPTH_FEATURES.index("mlofi_l1")])) > 10


def test_level_one_ofi_follows_cont_kukanov_stoikov() -> None:
    book, features = OrderBook("X"), DepthFeatures()
    book.apply(BookSnapshot("X", 0, 1, ((100.0, 5.0),), ((101.0, 5.0),)))
    features.on_book(book, 0, delta=False)
    book.apply(BookDelta("X", 0, 2, 2, ((100.0, 8.0),), ()))  # +3 on the bid queue
    features.on_book(book, 0)
    book.apply(BookDelta("X", 0, 3, 3, (), ((100.5, 2.0),)))  # a better ask: -2 (new size on the ask)
    features.on_book(book, 0)
    values = dict(zip(DEPTH_FEATURES, features.values(book, 0)))
    mean_depth = (5.0 + 6.5 + 5.0) / 3  # (bid + ask) / 2 at each of the three updates
    assert values["mlofi_l1"] == pytest.approx((3.0 - 2.0) / mean_depth)


def test_a_capture_line_that_is_not_a_message_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "capture.txt"
    with gzip.open(L2 / CAPTURES["coinm"][0], "rt") as source:
        head = [next(source) for _ in range(2)]
    path.write_text(head[0] + "not a line\n" + head[1] + '1 {"data": {"e": "kline", "s": "BTCUSD_PERP"}}\n')
    capture = read_capture([path])
    assert len(capture.items) == 2
    assert [(p.line, p.reason) for p in capture.problems] == [
        (2, "invalid literal for int() with base 10: b'not'"), (4, "unknown Binance message kind 'kline'")]


def test_a_file_that_is_not_a_capture_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("ts_ns,symbol,price\n1,IBM,1.0\n")
    with pytest.raises(ValueError, match="is not a Binance or Hyperliquid depth capture"):
        read_capture([path])
