"""When a sink cannot deliver: say why in the log first, then make sure the worker process ends.

Bytewax turns an exception raised by a sink into a Rust panic. While that panic unwinds, Bytewax
closes every sink partition, and an exception raised by a ``close`` then aborts the process
("panic in a destructor during cleanup") before the Python error is ever printed; chDB's signal
handler then holds the aborting process for about five minutes. So every tickwise sink:

- logs the failure with its cause, one line starting with ``FAILURE_MARKER``, before it raises
  (``report_failure``; the runner quotes that line when the process exits);
- once the flow is failing (``flow_failing``), closes without flushing and without raising: what
  it held is replayed from the last snapshot on resume. A flow is failing from the first failure
  until every partition opened since (``partition_opened``/``partition_closed``) has closed, so a
  flow run in-process later (``run_main``) starts afresh;
- in a process run by ``python -m bytewax.run``, arms a watchdog that ends the process with exit
  code 1 if it is still alive ``EXIT_DEADLINE_S`` after the failure (its teardown hung).

``describe_cause`` names the cause as errno and strerror wherever the error carries one:

>>> describe_cause(OSError(28, "No space left on device"))
'[Errno 28] No space left on device'
>>> describe_cause(RuntimeError("Code: 243. DB::Exception: Cannot reserve 1.91 MiB, not enough space. (NOT_ENOUGH_SPACE)"))
'[Errno 28] No space left on device (RuntimeError: Code: 243. DB::Exception: Cannot reserve 1.91 MiB, not enough space. (NOT_ENOUGH_SPACE))'
"""

from __future__ import annotations

import errno
import faulthandler
import logging
import os
import re
import sys
import threading

from sinks.redaction import redact_text

logger = logging.getLogger(__name__)

FAILURE_MARKER = "sink failed: "
EXIT_DEADLINE_S = 10.0

# "errno: 28, strerror: No space left on device" in a ClickHouse exception's text.
_CLICKHOUSE_ERRNO = re.compile(r"errno: (\d+), strerror: ([^.,()]+)")
# ClickHouse error names that mean an errno although the text carries none.
_CLICKHOUSE_ERRNO_BY_NAME = {"NOT_ENOUGH_SPACE": errno.ENOSPC}

_failures: list[str] = []
_open_partitions = [0]
_lock = threading.Lock()


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and the exceptions it was raised from or while handling, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def describe_cause(error: BaseException) -> str:
    """``[Errno N] strerror`` when ``error`` or an exception it came from carries an errno (followed by
    the error's own type and text when that adds something), else ``Type: text``; secrets redacted."""
    chain = _chain(error)
    text = f"{type(error).__name__}: {error}"
    for link in chain:
        if isinstance(link, OSError) and link.errno is not None:
            cause = f"[Errno {link.errno}] {link.strerror or os.strerror(link.errno)}"
            return redact_text(cause if link is error else f"{cause} ({text})")
    for link in chain:
        message = str(link)
        found = _CLICKHOUSE_ERRNO.search(message)
        if found:
            return redact_text(f"[Errno {found.group(1)}] {found.group(2).strip()} ({text})")
        for name, number in _CLICKHOUSE_ERRNO_BY_NAME.items():
            if f"({name})" in message:
                return redact_text(f"[Errno {number}] {os.strerror(number)} ({text})")
    return redact_text(text)


def report_failure(message: str) -> None:
    """Log ``message`` (what failed and why) as the cause of the flow's end, and mark the flow failing."""
    message = redact_text(message)
    logger.error("%s%s", FAILURE_MARKER, message)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    with _lock:
        first = not _failures
        _failures.append(message)
    if first and _is_bytewax_worker():
        # C thread of faulthandler: it needs no GIL and ends the process even inside a hung destructor.
        faulthandler.dump_traceback_later(EXIT_DEADLINE_S, exit=True, file=sys.stderr)


def flow_failing() -> bool:
    """True once a sink of this process has reported a failure: the flow is stopping."""
    return bool(_failures)


def partition_opened() -> None:
    """A sink partition of a flow was built (it calls ``partition_closed`` when it closes)."""
    with _lock:
        _open_partitions[0] += 1


def partition_closed() -> None:
    """A sink partition closed; when the last one has, the failing flow is over."""
    with _lock:
        _open_partitions[0] = max(0, _open_partitions[0] - 1)
        if _open_partitions[0] == 0:
            _failures.clear()


def _is_bytewax_worker() -> bool:
    """True in a process started as ``python -m bytewax.run`` (it ends when its flow stops)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == "bytewax.run"
