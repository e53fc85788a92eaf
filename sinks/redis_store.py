"""The online feature store: the latest feature vector of each symbol in a Redis hash.

``{key_prefix}{symbol}`` holds ``ts_ns``, ``partition``, ``offset``, ``price`` and one field
per feature (NaN stored as ``nan``). Every write goes through one Lua script that compares
the new row's event time with the stored one and writes only if it is not older (equal
``ts_ns``: the offset decides), so a replay after a Bytewax resume, or two workers racing,
never move a symbol backwards. Event times are compared as decimal strings in Lua, because
nanosecond timestamps do not fit in Lua's doubles.

One exception keeps a bad timestamp from pinning a row forever: a stored row more than
``repair_ahead_ns`` (the flow's ahead tolerance) ahead of the new row of its symbol is
replaced, and the write is counted as a repair and logged. The new row carries the flow's own
event time for the symbol, and the event-time guard never moves a symbol's clock that far
without agreeing evidence, so a stored row that far ahead was written from a clock the guard
has since reset (a row stamped 2099) or by another run. The cost: feeding the live store
offsets more than that much older than what it holds (a fresh-state replay, a resume that
re-sends more than an hour of event time) moves its rows back until the replay catches up.

>>> _feature_fields(FeatureRow("IBM", 5, 0, 7, 101.5, ("spread", "rsi"), (0.25, float("nan"))))
['ts_ns', '5', 'partition', '0', 'offset', '7', 'price', '101.5', 'feature_set', '', 'quality', '', 'spread', '0.25', 'rsi', 'nan']
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
import redis
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from redis.exceptions import NoScriptError

from operators.messages import FeatureRow
from sinks.failure import describe_cause, partition_closed, partition_opened, report_failure
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

_INTEGER_FIELDS = ("ts_ns", "partition", "offset")


@dataclass(frozen=True, repr=False)
class RedisSettings:
    """``url`` like ``redis://[:password@]host:port/db`` (a secret: repr hides it)."""

    url: str
    key_prefix: str = "tickwise:features:"
    socket_timeout_s: float = 10.0
    repair_ahead_ns: int = 3_600 * 1_000_000_000  # a stored row this far ahead of a new one is replaced
    ttl_ms: int = 0  # a symbol's key expires this long after its last write (0: never)

    def __post_init__(self) -> None:
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
        return redis.Redis.from_url(self.url, socket_timeout=self.socket_timeout_s)

    def __repr__(self) -> str:
        return f"RedisSettings(url={self.redacted_url()!r}, key_prefix={self.key_prefix!r})"


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


def latest_per_symbol(rows: Iterable[FeatureRow]) -> dict[str, FeatureRow]:
    """The newest row of each symbol by (ts_ns, offset); a later duplicate wins ties."""
    latest: dict[str, FeatureRow] = {}
    for row in rows:
        held = latest.get(row.symbol)
        if held is None or (row.ts_ns, row.offset) >= (held.ts_ns, held.offset):
            latest[row.symbol] = row
    return latest


class _RedisFeaturePartition(StatelessSinkPartition[FeatureRow | tuple[str, FeatureRow]]):
    def __init__(self, settings: RedisSettings, client: redis.Redis, metrics: MetricsRegistry) -> None:
        self._settings = settings
        self._client = client
        self._metrics = metrics
        self._sha = client.script_load(COMPARE_AND_SET_LUA)
        self.written = 0
        self.stale = 0
        self.repaired = 0

    def write_batch(self, items: list[FeatureRow | tuple[str, FeatureRow]]) -> None:
        rows = (item[1] if isinstance(item, tuple) else item for item in items)
        latest = latest_per_symbol(rows)
        if not latest:
            return
        try:
            try:
                results = self._run(latest)
            except NoScriptError:
                # The server lost its script cache (restart, SCRIPT FLUSH): register it again once.
                self._sha = self._client.script_load(COMPARE_AND_SET_LUA)
                results = self._run(latest)
        except redis.RedisError as exc:
            self._metrics.count_sink_error(SINK_NAME)
            report_failure(f"Redis write of {len(latest)} feature rows to {self._settings.redacted_url()} failed: "
                           f"{describe_cause(exc)}")
            raise
        written = sum(1 for result in results if result != 0)
        repaired = [symbol for symbol, result in zip(latest, results) if result == 2]
        if repaired:
            self.repaired += len(repaired)
            logger.warning("redis sink repaired the features of %s: the stored rows were more than %d ns ahead of "
                           "the flow's event time for the symbol", ", ".join(repaired),
                           self._settings.repair_ahead_ns)
        self.written += written
        self.stale += len(results) - written
        self._metrics.count_sink_rows(SINK_NAME, "features", written)
        self._metrics.count_sink_stale(SINK_NAME, len(results) - written)

    def _run(self, latest: dict[str, FeatureRow]) -> list[int]:
        pipe = self._client.pipeline(transaction=False)
        prefix = self._settings.key_prefix
        repair_ahead_ns = self._settings.repair_ahead_ns
        ttl_ms = str(self._settings.ttl_ms)
        for symbol, row in latest.items():
            pipe.evalsha(self._sha, 1, prefix + symbol, str(row.ts_ns), str(row.offset),
                         orjson.dumps(_feature_fields(row)), str(row.ts_ns + repair_ahead_ns), ttl_ms)
        return pipe.execute()

    def close(self) -> None:
        try:
            self._client.close()
        finally:
            partition_closed()


class RedisFeatureSink(DynamicSink[FeatureRow | tuple[str, FeatureRow]]):
    """Keep the latest feature row per symbol in Redis; never move a symbol back in time (except
    to repair a row more than ``repair_ahead_ns`` ahead of its symbol's new row).

    Items are ``FeatureRow`` (or keyed ``(symbol, FeatureRow)``). Each batch collapses to
    the newest row per symbol, then one pipeline of compare-and-set script calls writes it.
    """

    def __init__(self, settings: RedisSettings, metrics: MetricsRegistry | None = None) -> None:
        self.settings = settings
        self.metrics = metrics

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _RedisFeaturePartition:
        logger.info("redis sink %s worker %d/%d -> %s", step_id, worker_index, worker_count,
                    self.settings.redacted_url())
        try:
            partition = _RedisFeaturePartition(self.settings, self.settings.client(), self.metrics or default_metrics())
        except redis.RedisError as exc:
            report_failure(f"Redis at {self.settings.redacted_url()} cannot be reached: {describe_cause(exc)}")
            raise
        partition_opened()
        return partition


_TEXT_FIELDS = frozenset({"feature_set", "quality"})


def read_features(client: redis.Redis, symbol: str,
                  key_prefix: str = "tickwise:features:") -> dict[str, float | int | str]:
    """The stored row of ``symbol``: ``ts_ns``/``partition``/``offset`` as int, ``feature_set`` and
    ``quality`` (comma-separated flags aligned with the features) as text, the rest float;
    an empty dict when nothing is stored."""
    raw = client.hgetall(key_prefix + symbol)
    result: dict[str, float | int | str] = {}
    for field, value in raw.items():
        name = field.decode() if isinstance(field, bytes) else field
        text = value.decode() if isinstance(value, bytes) else value
        if name in _TEXT_FIELDS:
            result[name] = text
        else:
            result[name] = int(text) if name in _INTEGER_FIELDS else float(text)
    return result
