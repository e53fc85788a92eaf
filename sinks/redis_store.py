"""The online feature store: the latest feature vector of each symbol in a Redis hash.

``{key_prefix}{symbol}`` holds ``ts_ns``, ``partition``, ``offset``, ``price`` and one field
per feature (NaN stored as ``nan``). The option features of an underlying's chain have a key of
their own, ``{key_prefix}{symbol}:options`` (``OPTION_KEY_SUFFIX``), written by a second sink from
the history half: its minutes and the symbol's own rows come from different steps, each forward-only
in its own event time, and a chain's minute never waits for, nor delays, the symbol's features.

Every write goes through one Lua script that compares the new row's event time with the stored
one and writes only if it is not older (equal ``ts_ns``: the offset decides), so a replay after a
Bytewax resume, or two workers racing, never move a symbol backwards. Event times are compared
as decimal strings in Lua, because nanosecond timestamps do not fit in Lua's doubles.

One exception keeps a bad timestamp from pinning a row forever: a stored row more than
``repair_ahead_ns`` (the flow's ahead tolerance) ahead of the new row of its symbol is
replaced, and the write is counted as a repair and logged. The new row carries the flow's own
event time for the symbol, and the event-time guard never moves a symbol's clock that far
without agreeing evidence, so a stored row that far ahead was written from a clock the guard
has since reset (a row stamped 2099) or by another run. The cost: feeding the live store
offsets more than that much older than what it holds (a fresh-state replay, a resume that
re-sends more than an hour of event time) moves its rows back until the replay catches up.

A Redis failure never stops the flow (the online store is a cache of the latest row; signals must
go on). A write that fails (refused, reset, timed out, a read-only replica, out of memory, any
Redis error) is counted (``tickwise_redis_write_failures_total``) and its rows stay pending: the
partition keeps the newest row of each symbol, merging new batches into them by event time, and
retries with exponential backoff (wall-clock: an I/O retry, never a decision). While it backs off
it does not touch the network at all, and short connect and read timeouts bound what a dead server
costs one batch. Forward-only writes make the retry safe whatever landed before the failure. The
first failure of an outage and the recovery are logged once each. Pending rows are written by the
next batch after the backoff: a partition that receives no batch keeps them until one comes. At
close the partition makes one last attempt; rows it still cannot write are counted
(``tickwise_redis_unwritten_rows_total``) and logged with their symbols, never dropped silently.

>>> _feature_fields(FeatureRow("IBM", 5, 0, 7, 101.5, ("spread", "rsi"), (0.25, float("nan"))))
['ts_ns', '5', 'partition', '0', 'offset', '7', 'price', '101.5', 'feature_set', '', 'quality', '', 'spread', '0.25', 'rsi', 'nan']
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
import redis
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError
from redis.retry import Retry

from operators.messages import FeatureRow
from sinks.failure import describe_cause, flow_failing, partition_closed, partition_opened
from sinks.metrics import MetricsRegistry, default_metrics
from sinks.redaction import UnsafeUrl, parse_url, redact_url

logger = logging.getLogger(__name__)

SINK_NAME = "redis"

# KEYS[1] = the symbol's hash; ARGV[1] = ts_ns, ARGV[2] = offset, ARGV[3] = JSON array of strings
# [field, value, field, value, ...] (one argument instead of ~90: redis-py packs each argument in
# Python, which cost 3x more than the script itself), ARGV[4] = ts_ns + repair_ahead_ns (exact,
# computed in Python): a stored row later than that is replaced; ARGV[5] = the key's time to live in
# milliseconds after a write ('0': the key never expires).
# Returns 1 when the row was written, 0 when the stored row is newer (stale, skipped), 2 when the
# stored row was too far ahead and was replaced (repaired).
COMPARE_AND_SET_LUA = """
local function compare(a, b)
  local a_negative, b_negative = a:sub(1, 1) == '-', b:sub(1, 1) == '-'
  if a_negative ~= b_negative then return a_negative and -1 or 1 end
  local result
  if #a ~= #b then result = (#a < #b) and -1 or 1
  elseif a == b then return 0
  else result = (a < b) and -1 or 1 end
  if a_negative then return -result end
  return result
end
local stored = redis.call('HMGET', KEYS[1], 'ts_ns', 'offset')
local written = 1
if stored[1] then
  local by_time = compare(ARGV[1], stored[1])
  if by_time < 0 then
    if compare(stored[1], ARGV[4]) <= 0 then return 0 end
    written = 2
  end
  if by_time == 0 and stored[2] and compare(ARGV[2], stored[2]) < 0 then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(cjson.decode(ARGV[3])))
if ARGV[5] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return written
"""

COMPARE_AND_SET_SHA = hashlib.sha1(COMPARE_AND_SET_LUA.encode()).hexdigest()  # what SCRIPT LOAD returns

_INTEGER_FIELDS = ("ts_ns", "partition", "offset")

#: Appended to ``{key_prefix}{symbol}`` for the key of the symbol's option features.
OPTION_KEY_SUFFIX = ":options"


@dataclass(frozen=True, repr=False)
class RedisSettings:
    """``url`` like ``redis://[:password@]host:port/db`` (a secret: repr hides it); a symbol's key is
    ``{key_prefix}{symbol}{key_suffix}``.

    ``socket_timeout_s`` and ``connect_timeout_s`` bound what a dead or hung server costs one batch;
    a failed write is retried after ``retry_initial_s``, doubling up to ``retry_max_s``. At close (the end
    of a bounded run, a stop) rows still pending are retried for up to ``close_wait_s`` (0: one attempt).
    """

    url: str
    key_prefix: str = "tickwise:features:"
    key_suffix: str = ""  # OPTION_KEY_SUFFIX: the sink of the option features
    socket_timeout_s: float = 0.5
    repair_ahead_ns: int = 3_600 * 1_000_000_000  # a stored row this far ahead of a new one is replaced
    ttl_ms: int = 0  # a symbol's key expires this long after its last write (0: never)
    connect_timeout_s: float = 0.5
    retry_initial_s: float = 0.25
    retry_max_s: float = 5.0
    close_wait_s: float = 15.0

    def __post_init__(self) -> None:
        for name in ("socket_timeout_s", "connect_timeout_s", "retry_initial_s", "retry_max_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
                raise ValueError(f"RedisSettings.{name} must be a number of seconds > 0, got {value!r}")
        if not isinstance(self.close_wait_s, (int, float)) or not 0 <= self.close_wait_s < math.inf:
            raise ValueError(f"RedisSettings.close_wait_s must be a number of seconds >= 0, got {self.close_wait_s!r}")
        if self.retry_max_s < self.retry_initial_s:
            raise ValueError(f"RedisSettings.retry_max_s must be >= retry_initial_s ({self.retry_initial_s!r}), "
                             f"got {self.retry_max_s!r}")
        if type(self.repair_ahead_ns) is not int or self.repair_ahead_ns <= 0:
            raise ValueError(f"RedisSettings.repair_ahead_ns must be an int > 0 (nanoseconds), "
                             f"got {self.repair_ahead_ns!r}")
        if type(self.ttl_ms) is not int or self.ttl_ms < 0:
            raise ValueError(f"RedisSettings.ttl_ms must be an int >= 0 (milliseconds), got {self.ttl_ms!r}")
        try:
            parse_url(self.url, ("redis", "rediss", "unix"))
        except UnsafeUrl as error:
            raise ValueError(f"RedisSettings.url: {error}, got {self.redacted_url()!r}") from None

    def redacted_url(self) -> str:
        return redact_url(self.url)

    def client(self) -> redis.Redis:
        # One immediate retry of a refused or closed connection (a pooled one the server closed by restarting),
        # none of a timeout (a hung server would cost the batch twice); the sink backs off itself.
        return redis.Redis.from_url(self.url, socket_timeout=self.socket_timeout_s,
                                    socket_connect_timeout=self.connect_timeout_s,
                                    retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)))

    def __repr__(self) -> str:
        return (f"RedisSettings(url={self.redacted_url()!r}, key_prefix={self.key_prefix!r}, "
                f"key_suffix={self.key_suffix!r})")


def _format_value(value: float) -> str:
    return "nan" if math.isnan(value) else repr(float(value))


def _feature_fields(row: FeatureRow) -> list[str]:
    fields = ["ts_ns", str(row.ts_ns), "partition", str(row.partition), "offset", str(row.offset),
              "price", _format_value(row.price), "feature_set", row.feature_set,
              "quality", ",".join(str(flag) for flag in row.quality)]
    for name, value in zip(row.names, row.values, strict=True):
        fields.append(name)
        fields.append(_format_value(value))
    return fields


def merge_latest(held: dict[str, FeatureRow], rows: Iterable[FeatureRow]) -> None:
    """Merge ``rows`` into ``held`` (the newest row per symbol), forward-only by (ts_ns, offset)."""
    for row in rows:
        current = held.get(row.symbol)
        if current is None or (row.ts_ns, row.offset) >= (current.ts_ns, current.offset):
            held[row.symbol] = row


def latest_per_symbol(rows: Iterable[FeatureRow]) -> dict[str, FeatureRow]:
    """The newest row of each symbol by (ts_ns, offset); a later duplicate wins ties."""
    latest: dict[str, FeatureRow] = {}
    merge_latest(latest, rows)
    return latest


class _RedisFeaturePartition(StatelessSinkPartition[FeatureRow | tuple[str, FeatureRow]]):
    """One worker's writer: the newest row per symbol is pending until Redis has taken it (see the module)."""

    def __init__(self, settings: RedisSettings, client: redis.Redis, metrics: MetricsRegistry,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time,
                 table: str = "features") -> None:
        self._settings = settings
        self._table = table
        self._client = client
        self._metrics = metrics
        self._clock = clock
        self._wall_clock = wall_clock
        self._sha = COMPARE_AND_SET_SHA
        self._pending: dict[str, FeatureRow] = {}
        self._reported_pending = 0
        self._failures = 0  # consecutive failed attempts (0: healthy)
        self._outage_began = 0.0
        self._retry_at = 0.0
        self.written = 0
        self.stale = 0
        self.repaired = 0
        self.failed_attempts = 0

    @property
    def pending_symbols(self) -> list[str]:
        return list(self._pending)

    def write_batch(self, items: list[FeatureRow | tuple[str, FeatureRow]]) -> None:
        merge_latest(self._pending, (item[1] if isinstance(item, tuple) else item for item in items))
        if self._pending and self._clock() >= self._retry_at:
            self._attempt()
        elif self._pending:
            self._report_pending()

    def _attempt(self) -> bool:
        """Write every pending row once; on failure keep them and schedule the next try. True when written."""
        latest = self._pending
        try:
            try:
                results = self._run(latest)
            except NoScriptError:
                # The server lost its script cache (restart, SCRIPT FLUSH): register it again once.
                self._sha = self._client.script_load(COMPARE_AND_SET_LUA)
                results = self._run(latest)
        except redis.RedisError as exc:
            self._failed(exc)
            return False
        self._pending = {}
        self._account(latest, results)
        if self._failures:
            logger.warning("redis sink: writes to %s work again after %.1f s and %d failed attempts; the latest rows "
                           "of %d symbols were written", self._settings.redacted_url(),
                           self._clock() - self._outage_began, self._failures, len(latest))
            self._failures = 0
        self._report_pending(ok=True)
        return True

    def _failed(self, exc: redis.RedisError) -> None:
        now = self._clock()
        if not self._failures:
            self._outage_began = now
            logger.warning("redis sink: a write of %d feature rows to %s failed: %s; signals go on, the latest row "
                           "of each symbol is kept and retried with backoff (up to %g s) until Redis takes it",
                           len(self._pending), self._settings.redacted_url(), describe_cause(exc),
                           self._settings.retry_max_s)
        self._failures += 1
        self.failed_attempts += 1
        delay = min(self._settings.retry_max_s, self._settings.retry_initial_s * 2.0 ** min(self._failures - 1, 30))
        self._retry_at = now + delay
        self._report_pending(ok=False)

    def _report_pending(self, ok: bool | None = None) -> None:
        change = len(self._pending) - self._reported_pending
        self._reported_pending = len(self._pending)
        if ok is None:
            if change:
                self._metrics.redis_pending_symbols.inc(change)
        else:
            self._metrics.record_redis_write(ok, change, self._wall_clock())

    def _account(self, latest: dict[str, FeatureRow], results: list[int]) -> None:
        written = sum(1 for result in results if result != 0)
        repaired = [symbol for symbol, result in zip(latest, results) if result == 2]
        if repaired:
            self.repaired += len(repaired)
            logger.warning("redis sink repaired the features of %s: the stored rows were more than %d ns ahead of "
                           "the flow's event time for the symbol", ", ".join(repaired),
                           self._settings.repair_ahead_ns)
        self.written += written
        self.stale += len(results) - written
        self._metrics.count_sink_rows(SINK_NAME, self._table, written)
        self._metrics.count_sink_stale(SINK_NAME, len(results) - written)

    def _run(self, latest: dict[str, FeatureRow]) -> list[int]:
        pipe = self._client.pipeline(transaction=False)
        prefix, suffix = self._settings.key_prefix, self._settings.key_suffix
        repair_ahead_ns = self._settings.repair_ahead_ns
        ttl_ms = str(self._settings.ttl_ms)
        for symbol, row in latest.items():
            pipe.evalsha(self._sha, 1, prefix + symbol + suffix, str(row.ts_ns), str(row.offset),
                         orjson.dumps(_feature_fields(row)), str(row.ts_ns + repair_ahead_ns), ttl_ms)
        return pipe.execute()

    def _drain(self) -> bool:
        """At close: an attempt at once, then retries with backoff for up to ``close_wait_s``."""
        deadline = time.monotonic() + self._settings.close_wait_s
        while not self._attempt():
            wait = max(0.0, self._retry_at - self._clock())
            if time.monotonic() + wait > deadline:
                return False
            time.sleep(wait)
        return True

    def close(self) -> None:
        """What is pending is written before the sink closes, retried for up to ``close_wait_s`` (no attempt
        once the flow is failing: it must end quickly); rows still unwritten are counted and logged with
        their symbols."""
        try:
            if self._pending and (flow_failing() or not self._drain()):
                symbols = sorted(self._pending)
                self._metrics.count_redis_unwritten(len(symbols))
                logger.error("redis sink closed with the latest feature rows of %d symbols not written to %s "
                             "(%s%s): the online store holds older rows for them until their next write",
                             len(symbols), self._settings.redacted_url(), ", ".join(symbols[:20]),
                             ", ..." if len(symbols) > 20 else "")
                self._pending = {}
                self._report_pending()
            self._client.close()
        finally:
            partition_closed()


class RedisFeatureSink(DynamicSink[FeatureRow | tuple[str, FeatureRow]]):
    """Keep the latest feature row per symbol in Redis; never move a symbol back in time (except
    to repair a row more than ``repair_ahead_ns`` ahead of its symbol's new row).

    Items are ``FeatureRow`` (or keyed ``(symbol, FeatureRow)``). Each batch collapses to
    the newest row per symbol, then one pipeline of compare-and-set script calls writes it.
    A failed write never raises: its rows stay pending and are retried with backoff (see the module).
    ``table`` names the rows in the written-rows metric (``option_features`` for the option sink).
    """

    def __init__(self, settings: RedisSettings, metrics: MetricsRegistry | None = None,
                 table: str = "features") -> None:
        self.settings = settings
        self.metrics = metrics
        self.table = table

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _RedisFeaturePartition:
        logger.info("redis sink %s worker %d/%d -> %s", step_id, worker_index, worker_count,
                    self.settings.redacted_url())
        # No network here: a Redis that is down when the flow starts is retried like one that fails later.
        partition = _RedisFeaturePartition(self.settings, self.settings.client(), self.metrics or default_metrics(),
                                           table=self.table)
        partition_opened()
        return partition


_TEXT_FIELDS = frozenset({"feature_set", "quality"})


def read_features(client: redis.Redis, symbol: str, key_prefix: str = "tickwise:features:",
                  key_suffix: str = "") -> dict[str, float | int | str]:
    """The stored row of ``symbol`` (``key_suffix=OPTION_KEY_SUFFIX``: its option features):
    ``ts_ns``/``partition``/``offset`` as int, ``feature_set`` and ``quality`` (comma-separated flags
    aligned with the features) as text, the rest float; an empty dict when nothing is stored."""
    raw = client.hgetall(key_prefix + symbol + key_suffix)
    result: dict[str, float | int | str] = {}
    for field, value in raw.items():
        name = field.decode() if isinstance(field, bytes) else field
        text = value.decode() if isinstance(value, bytes) else value
        if name in _TEXT_FIELDS:
            result[name] = text
        else:
            result[name] = int(text) if name in _INTEGER_FIELDS else float(text)
    return result
