"""EventOrderBuffer: the released order is the event-time order whatever the arrival, in live runs too.

Each symbol sends one market context (kind 0) and one prediction (kind 1) per feature row, each
stream in event-time order; the tests deliver them in many interleavings and on a wall clock
that is passed in (``now_s``), as the portfolio risk step does.
"""

from __future__ import annotations

import math
import pickle
import random
from collections import deque

import pytest

from operators.risk.ordering import EventOrderBuffer

S = 1_000_000_000
T0 = 1_381_325_400 * S
SYMBOLS = ("AIG", "BAC", "IBM")
CONTEXT, PREDICTION = 0, 1
IDLE_S = 30.0


def _streams(seed: int, rows: int = 40) -> dict[tuple[str, int], list[tuple]]:
    """Per (symbol, kind), the items of ``rows`` feature rows at random, increasing, sometimes equal times."""
    rng = random.Random(seed)
    streams: dict[tuple[str, int], list[tuple]] = {}
    for symbol in SYMBOLS:
        ts, offset = T0, 0
        for _ in range(rows):
            ts += rng.choice((0, 1, 1, 2, 5, 600)) * S  # ties, seconds, and a ten-minute gap now and then
            offset += rng.randint(1, 3)
            for kind in (CONTEXT, PREDICTION):
                streams.setdefault((symbol, kind), []).append((symbol, ts, 0, offset, kind, f"{symbol}:{offset}:{kind}"))
    return streams


def _sorted(streams: dict[tuple[str, int], list[tuple]]) -> list[tuple]:
    return sorted((item for items in streams.values() for item in items), key=lambda item: (item[1], *item[:1], *item[2:5]))


def _deliver(buffer: EventOrderBuffer, streams: dict, picks: list[tuple[str, int]], step_s: float = 0.001
             ) -> tuple[list[tuple], list[tuple]]:
    """Push the streams in the order of ``picks`` (then the rest), ``step_s`` of wall time apart;
    returns (released while pushing, released by the flush)."""
    queues = {key: deque(items) for key, items in streams.items()}
    released, now = [], 100.0
    for key in [*picks, *(key for key in sorted(queues) for _ in range(len(queues[key])))]:
        if queues[key]:
            now += step_s
            released.extend(buffer.push(queues[key].popleft(), now))
    return released, buffer.flush()


def _interleavings(streams: dict, seed: int) -> dict[str, list[tuple[str, int]]]:
    rng = random.Random(seed)
    keys = sorted(streams)
    every = [key for key in keys for _ in range(len(streams[key]))]
    shuffled = every[:]
    rng.shuffle(shuffled)
    contexts_first = [key for key in every if key[1] == CONTEXT] + [key for key in every if key[1] == PREDICTION]
    symbol_ahead = [key for key in every if key[0] == "IBM"] + [key for key in every if key[0] != "IBM"]
    # Batches: each stream delivers a run of up to 25 items at a time, in random stream order.
    batches, queues = [], {key: len(streams[key]) for key in keys}
    while any(queues.values()):
        key = rng.choice([key for key in keys if queues[key]])
        run = min(queues[key], rng.randint(1, 25))
        batches.extend([key] * run)
        queues[key] -= run
    return {"random": shuffled, "contexts_first": contexts_first, "one_symbol_ahead": symbol_ahead,
            "batches": batches}


@pytest.mark.parametrize("seed", range(12))
def test_live_buffer_when_nothing_is_idle_then_any_interleaving_releases_the_sorted_order(seed: int) -> None:
    streams = _streams(seed)
    expected = _sorted(streams)
    for name, picks in _interleavings(streams, seed).items():
        buffer = EventOrderBuffer(SYMBOLS, IDLE_S, kinds=(CONTEXT, PREDICTION))
        released, flushed = _deliver(buffer, streams, picks)
        assert released + flushed == expected, name
        assert buffer.late == 0, name
        assert released, f"{name}: a live buffer releases before the end of input"


@pytest.mark.parametrize("seed", range(4))
def test_bounded_and_live_buffers_when_fed_the_same_items_then_release_the_same_prefix(seed: int) -> None:
    """A live run releases nothing a bounded run would release in another order; only sooner."""
    streams = _streams(seed)
    picks = _interleavings(streams, seed)["batches"]
    live, _ = _deliver(EventOrderBuffer(SYMBOLS, IDLE_S, kinds=(CONTEXT, PREDICTION)), streams, picks)
    bounded, flushed = _deliver(EventOrderBuffer(SYMBOLS, None, kinds=(CONTEXT, PREDICTION)), streams, picks)
    assert bounded + flushed == _sorted(streams)
    assert live == (bounded + flushed)[:len(live)]


def test_contexts_far_ahead_of_predictions_when_live_then_predictions_are_never_late() -> None:
    """The issue-13 pattern: a backlog's contexts run hours ahead of the scored predictions."""
    buffer = EventOrderBuffer(("IBM",), IDLE_S, kinds=(CONTEXT, PREDICTION))
    hours = [T0 + i * 60 * S for i in range(6 * 60)]
    released = []
    for now, ts in enumerate(hours):
        released += buffer.push(("IBM", ts, 0, now, CONTEXT, ("context", ts)), now * 0.01)
    for now, ts in enumerate(hours, start=len(hours)):
        released += buffer.push(("IBM", ts, 0, now, PREDICTION, ("prediction", ts)), now * 0.01)
    assert buffer.late == 0
    assert [payload for *_, payload in released] == [(name, ts) for ts in hours[:-1] for name in ("context",
                                                                                                     "prediction")]


def test_symbol_never_seen_when_idle_after_passed_then_released_by_notification_without_a_new_item() -> None:
    buffer = EventOrderBuffer(("IBM", "SPY"), IDLE_S, kinds=(CONTEXT, PREDICTION))
    assert buffer.idle_due_s(0.0) is None  # no item yet: nothing to wait for
    released = []
    for i, now in enumerate((10.0, 10.5, 11.0)):
        released += buffer.push(("IBM", T0 + i * S, 0, i, CONTEXT, f"c{i}"), now)
        released += buffer.push(("IBM", T0 + i * S, 0, i, PREDICTION, f"p{i}"), now)
    assert released == [] and buffer.watermark(11.0) is None  # SPY holds everything
    assert buffer.idle_due_s(11.0) == 10.0 + IDLE_S
    assert buffer.release_idle(39.9) == []
    out = buffer.release_idle(40.0)
    assert [item[-1] for item in out] == ["c0", "p0", "c1", "p1"]  # IBM's last row waits for IBM's next
    assert buffer.idle_due_s(40.0) is None  # SPY is idle now: no further notification needed


def test_seen_symbol_when_the_others_flow_for_idle_after_then_it_stops_holding_and_on_return_holds_again() -> None:
    buffer = EventOrderBuffer(("IBM", "SPY"), IDLE_S)
    assert buffer.push(("SPY", T0, 0, 1, 0, "spy0"), 0.0) == []
    out = []
    for i in range(1, 5):  # IBM keeps flowing; SPY is silent from wall time 0
        out += buffer.push(("IBM", T0 + i * 100 * S, 1, i, 0, f"ibm{i}"), i * 10.0)
    # Until wall time 30 SPY holds the watermark at T0 (nothing goes); from then on IBM alone counts.
    assert [item[-1] for item in out] == ["spy0", "ibm1", "ibm2", "ibm3"]
    assert buffer.idle("SPY", 40.0) and not buffer.idle("IBM", 40.0)
    assert buffer.watermark(40.0) == T0 + 400 * S

    # SPY returns below what was released: released at once, out of order, and counted late.
    late = buffer.push(("SPY", T0 + 150 * S, 0, 2, 0, "spy-late"), 41.0)
    assert [item[-1] for item in late] == ["spy-late"] and buffer.late == 1
    # From now on SPY holds the watermark again: IBM's newer items wait for SPY's next.
    assert buffer.push(("IBM", T0 + 500 * S, 1, 5, 0, "ibm5"), 42.0) == []
    assert [item[-1] for item in buffer.push(("SPY", T0 + 600 * S, 0, 3, 0, "spy3"), 43.0)] == ["ibm4"]


def test_whole_input_paused_then_nobody_turns_idle() -> None:
    """A stalled broker pauses every symbol: waiting longer must not release anything out of turn."""
    buffer = EventOrderBuffer(("IBM", "SPY"), IDLE_S)
    buffer.push(("SPY", T0, 0, 1, 0, "spy0"), 0.0)
    buffer.push(("IBM", T0 + 5 * S, 1, 1, 0, "ibm0"), 0.1)
    assert buffer.release_idle(3600.0) == [] and buffer.idle_due_s(3600.0) is None
    assert not buffer.idle("SPY", 3600.0) and not buffer.idle("IBM", 3600.0)


def test_bounded_buffer_when_a_symbol_is_silent_however_long_then_it_still_holds_until_flush() -> None:
    buffer = EventOrderBuffer(("IBM", "SPY"), None)
    for i in range(50):
        assert buffer.push(("IBM", T0 + i * S, 0, i, 0, i), i * 100.0) == []
    assert buffer.release_idle(1e9) == [] and buffer.idle_due_s(0.0) is None
    assert [item[-1] for item in buffer.flush()] == list(range(50))


def test_snapshot_when_restored_then_event_time_state_kept_and_wall_time_counted_from_the_restore() -> None:
    buffer = EventOrderBuffer(("IBM", "SPY"), IDLE_S)
    buffer.push(("SPY", T0, 0, 1, 0, "spy0"), 5_000.0)
    buffer.push(("IBM", T0 + S, 1, 1, 0, "ibm0"), 5_001.0)
    restored = pickle.loads(pickle.dumps(buffer))
    assert len(restored) == len(buffer) and restored.released_ns == buffer.released_ns
    assert restored.watermark() == buffer.watermark() == T0
    assert restored.idle_due_s(7.0) is None  # no wall time survives: nothing to wait for before a new item
    restored.push(("IBM", T0 + 2 * S, 1, 2, 0, "ibm1"), 7.0)  # a monotonic clock of another process
    assert restored.idle_due_s(8.0) == 7.0 + IDLE_S  # SPY has sent nothing since the restore
    assert [item[-1] for item in restored.release_idle(7.0 + IDLE_S)] == ["spy0", "ibm0"]


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, True, "30"])
def test_idle_after_when_not_a_positive_finite_number_then_refused_naming_it(bad: object) -> None:
    with pytest.raises(ValueError, match="idle_after_s must be None or a finite number > 0"):
        EventOrderBuffer(SYMBOLS, bad)  # type: ignore[arg-type]
