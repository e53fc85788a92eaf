"""Steps that put the history flow's inputs back in event-time order (``dataflows.history``).

The history flow reads admitted ticks (recomputed from the ticks topic) and decisions (from the
signals flow's topic) at whatever pace each arrives; in the combined flow (``dataflows.signals.build_flow``)
decisions reach the paper step after the ticks that follow them, by as much as scoring and the
portfolio risk step hold them. Paper fills depend on their interleaving, so in both flows
``OrderedPaperLogic`` feeds the paper trader one merged sequence per symbol, ordered by event time,
that does not depend on arrival: a tick waits until a decision of its symbol at or after its event
time has arrived (decisions of a symbol come in event-time order, one for every feature row, so
none earlier can still come), and a decision waits until a tick after it has arrived. At equal
event time the tick goes first (a decision fills at the first tick strictly after it). End of input
releases the rest in the same order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from bytewax.operators import StatefulBatchLogic

from dataflows.snapshots import dump_state, load_state
from dataflows.steps import PaperLogic, PaperLogicBuilder
from operators.messages import Decision, TickBatch, ValidTick
from sinks.topics import Scored

_TICK, _DECISION = 0, 1


def _position(item: Scored | Decision) -> tuple[int, int]:
    record = item.row if isinstance(item, Scored) else item
    return record.ts_ns, record.offset


def forward_only(last: tuple[int, int] | None, item: Scored | Decision) -> tuple[tuple[int, int] | None, list]:
    """``stateful_flat_map`` per symbol: pass an item only when its (event time, source offset) is after
    the last one passed.

    A signals flow that resumes from its last snapshot publishes that interval's rows and decisions
    again; the history flow keeps the first copy, so a replay never feeds drift, outcomes or paper
    fills twice (ClickHouse drops duplicate rows by id; the monitors' state would not).

    >>> last, out = forward_only(None, Decision("s", "IBM", 5, 0, 7, "v", 1, 1.0, 1.0, 1.0, 0.5, "r", True,
    ...                                         "accepted", "ACTIVE", 1.0))
    >>> forward_only(last, out[0])
    ((5, 7), [])
    """
    position = _position(item)
    if last is not None and position <= last:
        return last, []
    return position, [item]


class EventTimeMerge:
    """Ticks and decisions of one symbol merged in event-time order, released once nothing earlier can come."""

    def __init__(self) -> None:
        self.ticks: deque[ValidTick] = deque()
        self.decisions: deque[Decision] = deque()
        self.last_tick_ns: int | None = None
        self.last_decision_ns: int | None = None

    def add(self, value: TickBatch | ValidTick | Decision) -> None:
        if isinstance(value, Decision):
            self.decisions.append(value)
            self.last_decision_ns = value.ts_ns
            return
        ticks = value.ticks if type(value) is TickBatch else [value]
        self.ticks.extend(ticks)
        self.last_tick_ns = ticks[-1].tick.ts_ns if self.last_tick_ns is None else max(
            self.last_tick_ns, ticks[-1].tick.ts_ns)

    def release(self, everything: bool = False) -> list[ValidTick | Decision]:
        out: list[ValidTick | Decision] = []
        ticks, decisions = self.ticks, self.decisions
        while ticks or decisions:
            tick_key = (ticks[0].tick.ts_ns, _TICK, ticks[0].offset) if ticks else None
            decision_key = (decisions[0].ts_ns, _DECISION, decisions[0].offset) if decisions else None
            if decision_key is None or (tick_key is not None and tick_key < decision_key):
                ready = everything or (self.last_decision_ns is not None and tick_key[0] <= self.last_decision_ns)
                if not ready:
                    break
                out.append(ticks.popleft())
            else:
                ready = everything or (self.last_tick_ns is not None and self.last_tick_ns > decision_key[0])
                if not ready:
                    break
                out.append(decisions.popleft())
        return out


def _batched(items: list[ValidTick | Decision]) -> list[TickBatch | Decision]:
    """Runs of ticks as one ``TickBatch`` each (what the paper step takes), decisions between them."""
    out: list[TickBatch | Decision] = []
    run: list[ValidTick] = []
    for item in items:
        if isinstance(item, Decision):
            if run:
                out.append(TickBatch(run[0].tick.symbol, run))
                run = []
            out.append(item)
        else:
            run.append(item)
    if run:
        out.append(TickBatch(run[0].tick.symbol, run))
    return out


class OrderedPaperLogic(StatefulBatchLogic[TickBatch | ValidTick | Decision, object, bytes]):
    """The paper step of both flows (``monitoring_stage``): ``EventTimeMerge`` in front of ``PaperLogic``."""

    def __init__(self, merge: EventTimeMerge, paper: PaperLogic) -> None:
        self._merge = merge
        self._paper = paper

    def _feed(self, items: list[ValidTick | Decision]) -> list[object]:
        if not items:
            return []
        out, _ = self._paper.on_batch(_batched(items))
        return list(out)

    def on_batch(self, values: list[TickBatch | ValidTick | Decision]) -> tuple[Iterable[object], bool]:
        for value in values:
            self._merge.add(value)
        return self._feed(self._merge.release()), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[object], bool]:
        return self._feed(self._merge.release(everything=True)), StatefulBatchLogic.RETAIN

    def snapshot(self) -> bytes:
        return dump_state((self._merge, self._paper.snapshot()))


class OrderedPaperBuilder:
    """Builds (or restores from our own recovery store) the ordered paper step of one symbol."""

    def __init__(self, paper: PaperLogicBuilder) -> None:
        self._paper = paper

    def __call__(self, resume_state: bytes | None) -> OrderedPaperLogic:
        if resume_state is None:
            return OrderedPaperLogic(EventTimeMerge(), self._paper(None))
        merge, paper = load_state(resume_state, "paper")
        return OrderedPaperLogic(merge, self._paper(paper))
