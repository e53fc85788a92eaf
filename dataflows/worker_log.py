"""Why a flow process died, read from the tail of its log.

A tickwise sink logs one line starting with ``sinks.failure.FAILURE_MARKER`` before the flow
stops, naming what failed and why; a process that died of another Python error ends its log with
the traceback's last line. ``exit_cause`` returns the first sink failure written since ``start``
(later ones are usually its consequences), else that traceback line (the
log file is shared by the runs of a state dir), redacted, or None.

The logs of a state dir do not grow without bound: before a run, ``rotate_logs`` moves every log
over ``ROTATE_BYTES`` to ``<name>.1`` (the older ``.1`` to ``.2``, up to ``KEEP_ROTATED``).

>>> import tempfile
>>> with tempfile.NamedTemporaryFile("w+b") as log:
...     _ = log.write(b"10:00 ERROR sinks.failure: sink failed: ClickHouse INSERT of 2 rows into 'ticks' "
...                   b"failed: [Errno 28] No space left on device at chdb:///data\\nthread panicked\\n")
...     log.flush()
...     exit_cause(Path(log.name))
"ClickHouse INSERT of 2 rows into 'ticks' failed: [Errno 28] No space left on device at chdb:///data"
"""

from __future__ import annotations

from pathlib import Path

from sinks.failure import FAILURE_MARKER
from sinks.redaction import redact_text

TAIL_BYTES = 256 * 1024
#: A worker log bigger than this is rotated before the next run.
ROTATE_BYTES = 20 * 1024 * 1024
#: Rotated logs kept per log (``worker-0.log.1`` ... ``.3``).
KEEP_ROTATED = 3
_TRACEBACK = "Traceback (most recent call last):"


def log_size(path: Path) -> int:
    """Bytes in the log now (0 when it does not exist): where a new run's lines start."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def rotate_logs(log_dir: Path, pattern: str = "worker-*.log", max_bytes: int = ROTATE_BYTES,
                keep: int = KEEP_ROTATED) -> list[Path]:
    """Rotate every log of ``log_dir`` matching ``pattern`` and larger than ``max_bytes`` (``x.log`` ->
    ``x.log.1`` -> ... -> ``x.log.<keep>``, the oldest dropped); return the logs rotated. Call it
    before the processes that write them start, never while one writes."""
    rotated = []
    for path in sorted(log_dir.glob(pattern)):
        if log_size(path) <= max_bytes:
            continue
        path.with_name(f"{path.name}.{keep}").unlink(missing_ok=True)
        for number in range(keep - 1, 0, -1):
            older = path.with_name(f"{path.name}.{number}")
            if older.exists():
                older.rename(path.with_name(f"{path.name}.{number + 1}"))
        path.rename(path.with_name(f"{path.name}.1"))
        rotated.append(path)
    return rotated


def exit_cause(path: Path, start: int = 0) -> str | None:
    """The cause the process logged before it died (the first sink failure, else the last line of the
    last Python traceback), among the last ``TAIL_BYTES`` bytes written to ``path`` since ``start``."""
    try:
        with open(path, "rb") as log:
            size = log.seek(0, 2)
            log.seek(max(start, size - TAIL_BYTES))
            lines = log.read().decode(errors="replace").splitlines()
    except OSError:
        return None
    failures = [line.split(FAILURE_MARKER, 1)[1].strip() for line in lines if FAILURE_MARKER in line]
    if failures:
        return redact_text(failures[0])
    if _TRACEBACK in lines:
        last_traceback = len(lines) - 1 - lines[::-1].index(_TRACEBACK)
        raised = [line for line in lines[last_traceback + 1:] if line.strip() and not line[0].isspace()]
        if raised:
            return redact_text(raised[-1].strip())
    return None
