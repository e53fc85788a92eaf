"""Recovery on by default: where a run's Bytewax recovery directory lives, what its last snapshot
covers, and starting over on purpose.

``tickwise run`` keeps its recovery directory under the state directory (``<state dir>/recovery``)
unless ``--recovery-dir`` names another, so a restart resumes where the last snapshot left off
instead of reading the topic from offset 0 and publishing everything again. The directory
records the ticks topic its positions belong to; a run on another topic is refused rather than
resumed at offsets of the wrong topic. Starting over is explicit (``--fresh``): the old directory
is moved aside, never deleted, and only when everything in it is ours.
"""

from __future__ import annotations

import pickletools
import sqlite3
from contextlib import closing
from pathlib import Path

from dataflows.snapshots import MARKER_FILE

RECOVERY_SUBDIR = "recovery"
HISTORY_SUFFIX = "-history"
SOURCE_MARKER_FILE = "tickwise-source-topic"
# The Bytewax step id of the signals (and combined) flow's Kafka input (flow id "tickwise_signals", step "ticks_in").
TICKS_INPUT_STEP = "tickwise_signals.ticks_in"
# The history flow's Kafka inputs by the role of their topic (flow id "tickwise_history").
HISTORY_INPUT_STEPS = {"ticks": "tickwise_history.ticks_in", "features": "tickwise_history.features_in",
                       "decisions": "tickwise_history.decisions_in"}


class RecoveryDirError(ValueError):
    """The recovery directory cannot be used as asked; the message is one sentence."""


def default_recovery_dir(state_dir: Path) -> Path:
    """Where ``tickwise run`` keeps its recovery state unless told otherwise."""
    return state_dir / RECOVERY_SUBDIR


def role_recovery_dir(recovery_dir: Path, role: str) -> Path:
    """The recovery directory of one flow of a run whose recovery dir is ``recovery_dir``.

    The signals flow (and the combined flow of bounded runs) keeps ``recovery_dir`` itself, so a
    run that used it before resumes its tick positions; the history flow keeps its own next to it.

    >>> role_recovery_dir(Path("state/recovery"), "history").as_posix()
    'state/recovery-history'
    """
    if role == "history":
        return recovery_dir.with_name(f"{recovery_dir.name}{HISTORY_SUFFIX}")
    return recovery_dir


def _is_ours(name: str) -> bool:
    """Files tickwise and Bytewax write into a recovery directory (SQLite sidecars included)."""
    if name in (MARKER_FILE, SOURCE_MARKER_FILE) or name.startswith(".init-"):
        return True
    stem = name.removeprefix("part-").split(".sqlite3")[0]
    return name.startswith("part-") and stem.isdigit() and name.removeprefix(f"part-{stem}.sqlite3") in (
        "", "-wal", "-shm", "-journal")


def set_aside(recovery_dir: Path, suffix: str) -> Path | None:
    """Move ``recovery_dir`` to ``<name>.replaced-<suffix>`` so the next run starts from the beginning.

    Returns where it went, or None when there was nothing to move (missing or empty). A directory
    that holds anything tickwise did not write, or lacks the state format marker, is refused
    (``RecoveryDirError``): it may not be a recovery directory at all.
    """
    if not recovery_dir.exists():
        return None
    if not recovery_dir.is_dir():
        raise RecoveryDirError(f"recovery directory {recovery_dir} is not a directory; choose another --recovery-dir")
    names = sorted(path.name for path in recovery_dir.iterdir())
    if not names:
        return None
    foreign = [name for name in names if not _is_ours(name)]
    if foreign or MARKER_FILE not in names:
        what = f"holds {foreign[0]!r}, which tickwise did not write" if foreign else "has no tickwise state marker"
        raise RecoveryDirError(f"recovery directory {recovery_dir} {what}; move it away yourself or choose "
                               "another --recovery-dir")
    target = recovery_dir.with_name(f"{recovery_dir.name}.replaced-{suffix}")
    number = 1
    while target.exists():
        number += 1
        target = recovery_dir.with_name(f"{recovery_dir.name}.replaced-{suffix}-{number}")
    recovery_dir.rename(target)
    return target


def check_source_topic(recovery_dir: Path, topic: str) -> None:
    """Record the ticks topic ``recovery_dir`` holds positions of; refuse one of another topic."""
    marker = recovery_dir / SOURCE_MARKER_FILE
    if not marker.exists():
        marker.write_text(f"{topic}\n")
        return
    found = marker.read_text().strip()
    if found != topic:
        raise RecoveryDirError(f"recovery directory {recovery_dir} holds positions in topic {found!r}, not "
                               f"{topic!r}; run on {found!r} to resume, pass --fresh to start over, or choose "
                               "another --recovery-dir")


_INTEGER_OPCODES = frozenset({"INT", "LONG", "BININT", "BININT1", "BININT2", "LONG1", "LONG4"})
_FRAMING_OPCODES = frozenset({"PROTO", "FRAME", "STOP"})


def _pickled_integer(data: bytes) -> int | None:
    """The integer a source snapshot holds, read from the pickle's opcodes (nothing is unpickled or
    executed); None for anything but one plain integer."""
    found: list[int] = []
    for opcode, argument, _ in pickletools.genops(data):
        if opcode.name in _INTEGER_OPCODES and isinstance(argument, int):
            found.append(argument)
        elif opcode.name not in _FRAMING_OPCODES:
            return None
    return found[0] if len(found) == 1 else None


def durable_positions(recovery_dir: Path, step_id: str = TICKS_INPUT_STEP) -> dict[int, int]:
    """Partition -> next offset in the snapshot a resume would load ({} when there is none yet).

    Reads the Bytewax recovery store as Bytewax resumes from it: the resume epoch is the lowest
    frontier of the workers of the latest execution, and each partition's state is its latest
    snapshot before that epoch. Positions that never read anything are left out.
    """
    executions: list[tuple[int, int, int]] = []
    fronts: list[tuple[int, int, int]] = []
    snaps: list[tuple[str, int, bytes | None]] = []
    for part in sorted(recovery_dir.glob("part-*.sqlite3")):
        with closing(sqlite3.connect(f"file:{part}?mode=ro", uri=True, timeout=10)) as store:
            executions += store.execute("SELECT ex_num, worker_count, resume_epoch FROM exs").fetchall()
            fronts += store.execute("SELECT ex_num, worker_index, worker_frontier FROM fronts").fetchall()
            snaps += store.execute("SELECT state_key, snap_epoch, ser_change FROM snaps WHERE step_id = ?",
                                   (step_id,)).fetchall()
    if not executions:
        return {}
    execution, worker_count, resume_epoch = max(executions)
    frontiers = dict.fromkeys(range(worker_count), resume_epoch)
    for number, worker, frontier in fronts:
        if number == execution:
            frontiers[worker] = max(frontiers.get(worker, resume_epoch), frontier)
    resume = min(frontiers.values())
    latest: dict[str, tuple[int, bytes | None]] = {}
    for key, epoch, change in snaps:
        if epoch < resume and (key not in latest or epoch > latest[key][0]):
            latest[key] = (epoch, change)
    positions = {int(key): _pickled_integer(change) for key, (_, change) in latest.items() if change is not None}
    return {partition: offset for partition, offset in sorted(positions.items()) if offset is not None and offset >= 0}
