"""The history flow's ordering steps: replayed copies dropped, ticks and decisions merged in event time."""

from __future__ import annotations

from dataflows.history_steps import EventTimeMerge, OrderedPaperBuilder, forward_only
from dataflows.steps import PaperLogicBuilder
from operators.messages import Decision, Quote, TickBatch, ValidTick
from operators.paper.trader import PaperTradingConfig

SECOND = 1_000_000_000


def quote(second: int, offset: int, bid: float = 100.0) -> ValidTick:
    return ValidTick(Quote("IBM", second * SECOND, bid, bid + 0.02, 5, 5), "ticks", 0, offset)


def decision(second: int, offset: int, accepted: bool = True, direction: int = 1) -> Decision:
    return Decision(f"s{offset}", "IBM", second * SECOND, 0, offset, "v1", direction, 10.0, 1000.0, 100.0, 0.6,
                    "calm", accepted, "accepted" if accepted else "min_confidence", "ACTIVE", 10.0)


def released_keys(items: list) -> list[tuple[str, int]]:
    return [("d" if isinstance(item, Decision) else "t", item.offset) for item in items]


def test_forward_only_when_a_resumed_signals_flow_publishes_again_then_keeps_the_first_copy() -> None:
    state = None
    passed = []
    for item in [decision(1, 1), decision(2, 2), decision(1, 1), decision(2, 2), decision(3, 3)]:
        state, out = forward_only(state, item)
        passed += out
    assert [item.offset for item in passed] == [1, 2, 3]


def test_merge_when_a_decision_comes_before_the_ticks_around_it_then_waits_for_a_later_tick() -> None:
    merge = EventTimeMerge()
    merge.add(decision(5, 50))
    assert merge.release() == []  # no tick yet: ticks before it may still come
    merge.add(TickBatch("IBM", [quote(4, 40), quote(5, 51)]))
    assert released_keys(merge.release()) == [("t", 40), ("t", 51)]  # a tick at the decision's time goes first
    merge.add(TickBatch("IBM", [quote(6, 60)]))
    assert released_keys(merge.release()) == [("d", 50)]  # tick 60 waits for a decision at or after 6 s
    assert released_keys(merge.release(everything=True)) == [("t", 60)]


def test_merge_when_ticks_run_ahead_of_decisions_then_holds_them_until_a_decision_passes_them() -> None:
    merge = EventTimeMerge()
    merge.add(TickBatch("IBM", [quote(1, 10), quote(2, 20), quote(3, 30)]))
    assert merge.release() == []
    merge.add(decision(2, 21, accepted=False))
    assert released_keys(merge.release()) == [("t", 10), ("t", 20), ("d", 21)]


def test_ordered_paper_when_the_arrival_interleaving_changes_then_the_pnl_rows_do_not() -> None:
    ticks = [quote(second, second * 10, bid=100.0 + second / 100) for second in range(1, 200, 3)]
    decisions = [decision(second, second * 10 + 1, direction=1 if second % 2 else -1) for second in (10, 50, 90, 130)]
    builder = OrderedPaperBuilder(PaperLogicBuilder(PaperTradingConfig(mark_interval_ns=60 * SECOND)))
    results = []
    for lag in (0, 5, 20):  # decisions reach the step 0, 5 or 20 ticks after the tick they follow (in order)
        arrivals = list(ticks)
        for position, item in sorted(((next(i for i, t in enumerate(ticks) if t.tick.ts_ns > d.ts_ns) + lag, d)
                                      for d in decisions), key=lambda pair: -pair[0]):
            arrivals.insert(min(position, len(arrivals)), item)
        logic = builder(None)
        out = []
        for chunk in (arrivals[start:start + 7] for start in range(0, len(arrivals), 7)):
            rows, _ = logic.on_batch([TickBatch("IBM", [item]) if isinstance(item, ValidTick) else item
                                      for item in chunk])
            out += rows
        rows, _ = logic.on_eof()
        out += rows
        results.append([(row.reason, row.ts_ns, row.trades, round(row.total_pnl, 9)) for row in out])
    assert results[0] == results[1] == results[2]
    assert [reason for reason, *_ in results[0]].count("fill") == len(decisions)


def test_ordered_paper_resumes_from_its_snapshot_with_the_held_items() -> None:
    builder = OrderedPaperBuilder(PaperLogicBuilder(PaperTradingConfig(mark_interval_ns=60 * SECOND)))
    logic = builder(None)
    logic.on_batch([TickBatch("IBM", [quote(1, 10)]), decision(1, 11)])
    resumed = builder(logic.snapshot())
    rows, _ = resumed.on_batch([TickBatch("IBM", [quote(2, 20)]), decision(3, 30, accepted=False)])
    assert [row.reason for row in rows] == ["fill"]
