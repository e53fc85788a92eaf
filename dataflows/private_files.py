"""Files only their owner may read: the state directory, logs, chDB data, stack.json, recovery state.

They hold pickled state, the stack's addresses and logs that quote data and errors, so
directories are 0700 and files 0600 whatever the umask: set explicitly after creation, and an
existing one that is open to group or others is tightened (with a warning). One that is not
ours to change is left as it is, with a warning that says why it matters.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as scratch:
...     oct(make_private_dir(Path(scratch) / "state").stat().st_mode & 0o777)
'0o700'
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

logger = logging.getLogger(__name__)


def make_private_dir(path: Path, holds: str = "private state") -> Path:
    """Create ``path`` (and missing parents) as a directory of mode 0700; tighten it when it exists
    wider. ``holds`` says in the warnings what is in it."""
    existed = path.is_dir()
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode == PRIVATE_DIR_MODE:
        return path
    try:
        path.chmod(PRIVATE_DIR_MODE)
    except OSError as error:  # not ours (EPERM) or on read-only storage (EROFS): say so, carry on
        logger.warning("%s is open to group or others and cannot be tightened (%s); use a directory of your "
                       "own (it holds %s)", path, error.strerror or error, holds)
        return path
    if existed and mode & 0o077:
        logger.warning("%s was open to group or others; tightened it to 0700 (it holds %s)", path, holds)
    return path


def _private_descriptor(path: Path, flags: int) -> int:
    """``os.open`` of ``path`` creating it 0600, and tightening it to 0600 when it exists wider."""
    descriptor = os.open(path, flags | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(descriptor).st_mode) != PRIVATE_FILE_MODE:
            os.fchmod(descriptor, PRIVATE_FILE_MODE)
    except PermissionError:
        logger.warning("%s is open to group or others and not ours to tighten", path)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def open_private_log(path: Path) -> BinaryIO:
    """``path`` opened for appending bytes, created 0600 (a log a child process writes to)."""
    return os.fdopen(_private_descriptor(path, os.O_WRONLY | os.O_APPEND), "ab")


def write_private_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a 0600 file renamed over it)."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(_private_descriptor(scratch, os.O_WRONLY | os.O_TRUNC), "w") as handle:
        handle.write(text)
    os.replace(scratch, path)
