"""The per-symbol step of the feature stage: duplicate filter, event-time guard, trading session, features.

``SymbolLogic`` adapts the pure operators of ``operators.ingest`` and ``operators.features`` to
Bytewax's ``stateful`` operator (one logic per symbol). Besides moving items in and out it keeps
the symbol's footprint bounded and its health visible:

- **Reject share.** Every tick the step judges (admitted, duplicate, rejected by the guard) and
  every validation reject of the symbol (crossed quote, keyless copy, out-of-bounds field: the
  flow routes them through this step unchanged; a symbol outside the grammar or the allow-list
  gets no state) is recorded in the symbol's ``RejectShare`` window; when the share passes
  ``TICKWISE_SYMBOL_REJECT_SHARE`` the ``SymbolWatch`` counts the symbol (the gauge
  ``tickwise_symbols_over_reject_share``) and logs its name once per crossing. The window counts
  ticks, so the crossings are the same in a replay as live, except that a validation reject read
  from another partition (a keyless copy) may land one window position earlier or later.
- **Idle symbols start fresh (event time).** When the guard releases a tick more than
  ``TICKWISE_SYMBOL_IDLE_S`` of event time after the symbol's clock (a confirmed jump that long,
  so no single message can do it), the features, the duplicate filter and the reject window
  start again from that tick, exactly as for a symbol never seen before; the guard keeps the clock
  it just confirmed. Deterministic: decided on the ticks' event time and order only.
- **Silent symbols are released (wall time, live runs only).** Bytewax can only wake a logic on
  the wall clock, so with ``release_after_s`` set the logic asks to be woken that many seconds
  after its latest item and then returns ``DISCARD``: its memory is freed, and a later tick of the
  symbol builds a new logic. When the symbol's next ticks come past the idle time and agree with
  each other, the kept logic starts fresh on them too, so releasing changed nothing. It can change
  an output only with the symbol silent for ``release_after_s`` of wall time and (1) ticks the
  guard still held as unconfirmed evidence (a symbol seen once or twice, such as junk): they are
  rejected as ``symbol_idle`` instead of waiting for a confirmation or the end of input; (2) next
  ticks *less* than ``TICKWISE_SYMBOL_IDLE_S`` of event time after its last ones (the source
  stalled for longer than that while event time did not move): they meet a fresh guard instead of
  the old clock, so ticks the old clock would have rejected as late may be admitted; (3) first
  ticks after the gap that contradict each other: a fresh guard rejects them all the same, but may
  reject a held one a tick later. Bounded runs (``until_eof``: backtests, replays) never release,
  so their outputs are exactly reproducible.

- **Trading session (event time).** With a ``SessionConfig`` (``with_session``; the flow passes
  ``TICKWISE_SESSION``), a tick the guard admitted outside its symbol's session
  (``operators.ingest.session``: regular hours for equities by default, around the clock for crypto)
  is re-emitted with the admitted ticks (the ``ticks`` table keeps the whole tape) but updates no
  feature, so it makes no feature row, prediction or signal; ``SymbolWatch.outside_session``
  counts it. Not a reject: it counts as admitted in the reject share.

- **Order books.** Depth messages (``BookSnapshot``, ``BookDelta``) pass the duplicate filter
  (source position only: the book judges update ids), the event-time guard and the session like
  any tick, and rebuild the symbol's book inside its features (``operators.book.tracker``). An
  admitted one is re-emitted with the admitted ticks, in arrival order, so every offset of the
  ticks topic comes out of this step once (the ClickHouse sink stores it in ``book_messages``,
  ``tickwise verify`` finds it there, the admitted count includes it; the paper trader skips it);
  a ``book_gap`` or ``book_crossed`` comes out as a ``DriftEvent`` after the symbol's rows of the
  batch.

- **Events.** An event (``operators.events.EventTick``: the symbol's own, or its market's fanned out
  by the producer) passes the duplicate filter, the event-time guard and the reject share like any
  tick, outside the session too, and with ``events`` set (``TICKWISE_EVENTS``) enters the symbol's
  ``EventJoinState`` (``operators.events.join_step``) before the rows that follow it: each feature
  row then leaves with the event features as of its own time, never before an event's publication.
  The event state is the symbol's knowledge, not its tick timeline, so an idle restart or a clock
  reset keeps it. An admitted event is re-emitted with the admitted ticks, in arrival order (the
  ClickHouse sink stores it in ``event_messages``, ``tickwise verify`` finds its offset there, the
  admitted count includes it; the paper trader and the backtest skip it); one the duplicate filter or
  the guard refuses is a reject like any tick. Without ``events`` an event is admitted and changes
  nothing else: the rows are those of a flow without events.

- **Option features.** With ``options`` set (``TICKWISE_OPTIONS_JOIN``), the flow hands the step the
  option messages keyed by the symbol as well: every tick of a batch, in the partition's order, first
  goes to the symbol's ``OptionJoin`` (``operators.options.join``: the chain read as European,
  minutes closed in event time, a message taken twice skipped by offset), the option messages go no
  further (they are stored and counted apart, ``option_messages``), and every feature row leaves
  with the chain features of the last minute closed before it (``opt_*``, ``<hash>+options1``).

State per symbol is bounded: the guard's few held ticks, the features' windows (about 50 KB), the
duplicate filter's sequence window and the reject window (``window`` bytes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol

from bytewax.operators import StatefulLogic

from dataflows.snapshots import dump_state, load_state
from operators.events import EventJoinConfig, EventJoinState, EventTick, join_step
from operators.features.symbol import FeatureConfig, SymbolFeatures, register_config
from operators.ingest.clock import CLOCK_RESET, EventTimeConfig, EventTimeGuard
from operators.ingest.dedupe import DedupeConfig, Deduplicator
from operators.ingest.reject_share import RejectShare, RejectShareConfig
from operators.ingest.session import SessionConfig, TradingSession
from operators.messages import BookDelta, BookSnapshot, FeatureRow, Reject, TickBatch, ValidTick
from operators.options.chain import ChainConfig
from operators.options.join import OptionJoin
from operators.options.messages import OPTION_TYPES

__all__ = ["SymbolLogic", "SymbolLogicBuilder", "SymbolRules", "SymbolWatch"]

_NANOSECONDS = 1_000_000_000
_BOOK_TYPES = (BookSnapshot, BookDelta)


class SymbolWatch(Protocol):
    """Where the per-symbol step reports what Prometheus shows (``dataflows.flow_metrics.SymbolStates``)."""

    def built(self) -> None: ...

    def released(self, symbol: str | None) -> None: ...

    def restarted(self, symbol: str) -> None: ...

    def rejecting(self, symbol: str, share: RejectShare, over: bool, reason: str | None) -> None: ...

    def outside_session(self, symbol: str, count: int) -> None: ...


@dataclass(frozen=True)
class SymbolRules:
    """How the step bounds and watches a symbol.

    ``idle_ns``: event time after which a symbol starts fresh (0: never). ``release_after_s``: wall
    seconds without an item after which a live run releases the symbol's state (None: never, as in
    bounded runs). ``monotonic`` and ``now`` are the clocks of the release timer (tests pass fakes).
    """

    reject_share: RejectShareConfig = field(default_factory=RejectShareConfig)
    idle_ns: int = 7 * 86_400 * _NANOSECONDS
    release_after_s: float | None = None
    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)

    def __post_init__(self) -> None:
        if type(self.idle_ns) is not int or self.idle_ns < 0:
            raise ValueError(f"SymbolRules.idle_ns must be an int >= 0 (nanoseconds), got {self.idle_ns!r}")
        if self.release_after_s is not None and not self.release_after_s > 0:
            raise ValueError(f"SymbolRules.release_after_s must be None or > 0 seconds, got {self.release_after_s!r}")


class _NoWatch:
    def built(self) -> None: ...

    def released(self, symbol: str | None) -> None: ...

    def restarted(self, symbol: str) -> None: ...

    def rejecting(self, symbol: str, share: RejectShare, over: bool, reason: str | None) -> None: ...

    def outside_session(self, symbol: str, count: int) -> None: ...


class SymbolLogic(StatefulLogic["ValidTick | TickBatch", "TickBatch | ValidTick | FeatureRow | Reject", bytes]):
    """Per-symbol step: duplicate filter, event-time guard, then features. End of input flushes.

    The live flow feeds it a ``TickBatch`` (one symbol's ticks of one source batch) and gets
    back one ``TickBatch`` of the admitted ticks followed by the rejects, feature rows and bar
    returns in tick order; end of input gives the same shape for the ticks the guard still
    held. A single ``ValidTick`` gives the same outputs with the admitted tick itself in place
    of the batch (tests and tools that drive it tick by tick).

    When the guard resets the symbol's clock (a ``clock_reset`` reject), the features start
    again from the next admitted tick: their windows hold the timeline the guard abandoned.
    With ``event_config``, admitted events update ``events`` and every row gains the event features.
    """

    def __init__(self, guard: EventTimeGuard, features: SymbolFeatures | None, config: FeatureConfig,
                 dedupe: Deduplicator, share: RejectShare, rules: SymbolRules, watch: SymbolWatch,
                 symbol: str | None = None, session: SessionConfig | None = None,
                 event_config: EventJoinConfig | None = None, events: EventJoinState | None = None,
                 option_config: Callable[[], ChainConfig] | None = None, options: OptionJoin | None = None) -> None:
        self._guard = guard
        self._features = features
        self._config = config
        self._event_config = event_config
        self._events = events
        self._option_config = option_config
        self._options = options
        self._joins = event_config is not None or option_config is not None  # rows gain joined features
        self._dedupe = dedupe
        self._share = share
        self._rules = rules
        self._watch = watch
        self._symbol: str | None = None
        self._session = session
        self._hours: TradingSession | None = None  # None: every tick updates the features
        if symbol is not None:
            self._name(symbol)
        self._last_item_s = rules.monotonic() if rules.release_after_s is not None else 0.0

    def _name(self, symbol: str) -> None:
        """The logic's symbol, known from its first item, and the trading session it follows."""
        self._symbol = symbol
        if self._session is not None:
            self._hours = self._session.session_for(symbol)

    # -- counting ------------------------------------------------------------------------------------

    def _count(self, rejected: bool, count: int, reason: str | None = None) -> None:
        crossed = self._share.record(rejected, count)
        if crossed is not None and self._symbol is not None:
            self._watch.rejecting(self._symbol, self._share, crossed > 0, reason)

    def _reject(self, rejected: list[Reject], out: list) -> None:
        out.extend(rejected)
        self._count(True, len(rejected), rejected[-1].reason)
        if any(item.reason == CLOCK_RESET for item in rejected):
            self._features = None

    # -- ticks ---------------------------------------------------------------------------------------

    def _restart_if_idle(self, before_ns: int | None, released: list[ValidTick], out: list) -> list[ValidTick]:
        """The guard confirmed a jump longer than the idle time: start fresh from ``released`` (what a
        new symbol's duplicate filter refuses among them becomes a reject)."""
        idle_ns = self._rules.idle_ns
        clock_ns = self._guard.clock_ns
        if not idle_ns or before_ns is None or clock_ns is None or clock_ns - before_ns <= idle_ns:
            return released
        self._features = None
        if self._share.over and self._symbol is not None:
            self._watch.rejecting(self._symbol, self._share, False, None)
        self._share = RejectShare(self._rules.reject_share)
        self._dedupe = dedupe = Deduplicator(self._dedupe.config)
        if self._symbol is not None:
            self._watch.restarted(self._symbol)
        kept = []
        for tick in released:
            duplicate = dedupe.check(tick)
            if duplicate is None:
                kept.append(tick)
            else:
                out.append(duplicate)
                self._count(True, 1, duplicate.reason)
        return kept

    def _apply(self, ticks: list[ValidTick], out: list, admitted: list[ValidTick] | None = None) -> None:
        if not ticks:
            return
        self._count(False, len(ticks))
        features = self._features
        hours = self._hours
        event_config = self._event_config
        joined = self._joins
        outside = books = 0
        for tick in ticks:
            kind = type(tick.tick)
            if admitted is None:
                out.append(tick)
            else:
                admitted.append(tick)
            if kind is EventTick:
                if event_config is not None:
                    self._events, _ = join_step(self._events, tick.tick.event, event_config)
                continue
            if kind in _BOOK_TYPES:
                books += 1
            if hours is not None and not hours.contains(tick.tick.ts_ns):
                outside += 1
                continue
            if features is None:
                features = self._features = SymbolFeatures(tick.tick.symbol, self._config)
            rows = features.update(tick)
            if rows:
                out.extend(self._joined(rows) if joined else rows)
            if features.has_returns:
                out.extend(features.drain_returns())
        if books and features is not None and features.has_book_events:
            out.extend(features.drain_book_events())
        if outside:
            self._watch.outside_session(ticks[0].tick.symbol, outside)

    def _joined(self, rows: list[FeatureRow]) -> list[FeatureRow]:
        """``rows`` with the symbol's event features, then its option features, as of each row's time."""
        if self._event_config is not None:
            joined: list[FeatureRow] = []
            for row in rows:
                self._events, out = join_step(self._events, row, self._event_config)
                joined.extend(out)
            rows = joined
        if self._option_config is not None:
            options = self._options
            if options is None:
                options = self._options = OptionJoin(rows[0].symbol)
            rows = [options.extend(row) for row in rows]
        return rows

    def _take_option(self, tick: ValidTick) -> bool:
        """Give ``tick`` to the symbol's option join; True for an option message (it goes no further)."""
        options = self._options
        if options is None:
            options = self._options = OptionJoin(tick.tick.symbol)
        options.update(tick.tick, self._option_config, tick.offset)  # type: ignore[arg-type]
        return type(tick.tick) in OPTION_TYPES

    def _judge(self, tick: ValidTick, out: list, admitted: list[ValidTick] | None) -> None:
        if self._symbol is None:
            self._name(tick.tick.symbol)
        guard = self._guard
        before_ns = guard.clock_ns
        idle_ns = self._rules.idle_ns
        # A tick past the idle time may open a new session whose sequence numbers start again: its
        # sequence number is checked by a fresh filter if the guard confirms the jump.
        opens = bool(idle_ns) and before_ns is not None and tick.tick.ts_ns > before_ns + idle_ns
        duplicate = self._dedupe.check(tick, sequences=not opens)
        if duplicate is not None:
            out.append(duplicate)
            self._count(True, 1, duplicate.reason)
            return
        released, rejected = guard.admit(tick)
        if rejected:
            self._reject(rejected, out)
        if released:
            self._apply(self._restart_if_idle(before_ns, released, out), out, admitted)

    def on_item(self, value: ValidTick | TickBatch) -> tuple[Iterable[TickBatch | ValidTick | FeatureRow | Reject],
                                                               bool]:
        if self._rules.release_after_s is not None:
            self._last_item_s = self._rules.monotonic()
        if type(value) is Reject:  # refused by validation: counted in the share, passed on unchanged
            if self._symbol is None:
                self._name(value.symbol)
            self._count(True, 1, value.reason)
            return [value], StatefulLogic.RETAIN
        out: list = []
        if type(value) is TickBatch:
            admitted: list[ValidTick] = []
            if self._option_config is None:
                for tick in value.ticks:
                    self._judge(tick, out, admitted)
            else:
                for tick in value.ticks:
                    if not self._take_option(tick):
                        self._judge(tick, out, admitted)
            if admitted:
                out.insert(0, TickBatch(admitted[0].tick.symbol, admitted))
        elif self._option_config is None or not self._take_option(value):
            self._judge(value, out, None)
        return out, StatefulLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[TickBatch | FeatureRow | Reject], bool]:
        released, rejected = self._guard.flush()
        out: list[TickBatch | FeatureRow | Reject] = []
        if rejected:
            self._reject(rejected, out)
        admitted: list[ValidTick] = []
        self._apply(released, out, admitted)
        if admitted:
            # The flow's branches take admitted ticks as batches only: a bare tick would land
            # among the rejects.
            out.insert(0, TickBatch(admitted[0].tick.symbol, admitted))
        if self._features is not None:
            rows = self._features.flush()
            out.extend(self._joined(rows) if rows and self._joins else rows)
            out.extend(self._features.drain_returns())
        return out, StatefulLogic.RETAIN

    # -- release of a silent symbol (live runs) ----------------------------------------------------------

    def notify_at(self) -> datetime | None:
        release_after_s = self._rules.release_after_s
        if release_after_s is None:
            return None
        remaining = self._last_item_s + release_after_s - self._rules.monotonic()
        return self._rules.now() + timedelta(seconds=max(0.0, remaining))

    def on_notify(self) -> tuple[Iterable[Reject], bool]:
        release_after_s = self._rules.release_after_s
        if release_after_s is None or self._rules.monotonic() - self._last_item_s < release_after_s:
            return [], StatefulLogic.RETAIN
        out = self._guard.abandon(release_after_s)
        if out:
            self._count(True, len(out), out[-1].reason)
        if self._share.over and self._symbol is not None:
            self._watch.rejecting(self._symbol, self._share, False, None)
        self._watch.released(self._symbol)
        return out, StatefulLogic.DISCARD

    def snapshot(self) -> bytes:
        return dump_state((_without_config(self._guard), self._features, _without_config(self._dedupe),
                           _without_config(self._share), self._symbol, self._events, self._options))


def _without_config(part: EventTimeGuard | Deduplicator | RejectShare) -> tuple:
    """A part's state without its config (the first item of its ``__getstate__``): every key of
    the flow has the same one, which the builder gives back on restore (``_with_config``)."""
    return part.__getstate__()[1:]


def _with_config(cls: type[EventTimeGuard | Deduplicator | RejectShare], config: object, state: tuple
                 ) -> EventTimeGuard | Deduplicator | RejectShare:
    part = cls.__new__(cls)
    part.__setstate__((config, *state))
    return part


class SymbolLogicBuilder:
    """Builds (or restores from our own recovery store) the per-symbol logic."""

    def __init__(self, clock: EventTimeConfig, features: FeatureConfig, dedupe: DedupeConfig | None = None,
                 rules: SymbolRules | None = None, watch: SymbolWatch | None = None,
                 session: SessionConfig | None = None, events: EventJoinConfig | None = None,
                 options: Callable[[], ChainConfig] | None = None) -> None:
        self._clock = clock
        self._features = features
        self._events = events
        self._options = options
        self._dedupe = dedupe or DedupeConfig()
        self._rules = rules or SymbolRules()
        self._watch = watch or _NoWatch()
        self._session = session
        register_config(features)  # snapshots name the config by version; restoring resolves it here

    def __call__(self, resume_state: bytes | None) -> SymbolLogic:
        self._watch.built()
        if resume_state is not None:
            guard, features, dedupe, share, symbol, events, options = load_state(resume_state, "features")  # type: ignore[misc]
            guard = _with_config(EventTimeGuard, self._clock, guard)
            dedupe = _with_config(Deduplicator, self._dedupe, dedupe)
            share = _with_config(RejectShare, self._rules.reject_share, share)
            if share.over and symbol is not None:
                self._watch.rejecting(symbol, share, True, None)
            return SymbolLogic(guard, features, self._features, dedupe, share, self._rules, self._watch, symbol,
                               self._session, self._events, events, self._options, options)
        return SymbolLogic(EventTimeGuard(self._clock), None, self._features, Deduplicator(self._dedupe),
                           RejectShare(self._rules.reject_share), self._rules, self._watch, session=self._session,
                           event_config=self._events, option_config=self._options)

    def with_session(self, session: SessionConfig | None) -> SymbolLogicBuilder:
        """This builder with ticks outside ``session`` kept from the features (None: every tick updates them)."""
        return SymbolLogicBuilder(self._clock, self._features, self._dedupe, self._rules, self._watch, session,
                                  self._events, self._options)
