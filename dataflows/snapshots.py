"""One versioned envelope for the state tickwise keeps in Bytewax recovery snapshots.

Every snapshot our stateful steps write starts with a header naming the state format; the
recovery directory carries the same format in a marker file. A snapshot of another format is
refused as a whole with one sentence, before any of it is unpickled, instead of being patched
by per-class shims: state is rebuilt by replaying offsets from a fresh recovery directory.
Bump ``STATE_FORMAT`` whenever a pickled state class changes module, name or shape.

A pickle of ``COMPRESS_FROM`` bytes or more is stored as one LZ4 block (``Z`` before it, a
pickle starts with ``\x80``): a symbol's state is mostly the doubles and times of its windows,
which LZ4 shrinks about 2.5 times at about 1 GB/s (zlib's level 1 takes ten times as long).

>>> load_state(dump_state({"clock_ns": 5}), "features")
{'clock_ns': 5}
>>> load_state(b"\\x80\\x05old pickle", "features")
Traceback (most recent call last):
...
dataflows.snapshots.IncompatibleSnapshot: the recovery snapshot of step 'features' was written by an older tickwise (no state format header); this version reads state format 14 only: start with an empty recovery directory and replay the offsets to rebuild the state
"""

from __future__ import annotations

import pickle
from pathlib import Path

import lz4.block

# 14: a symbol's whole feature state packed flat (operators.features.symbol), its guard, duplicate
# filter and reject share without their config, pickles of COMPRESS_FROM bytes or more LZ4 blocks;
# 13: the configured and 1-minute indicators snapshot packed, one flat tuple each (operators.ta.packed);
# 12: an option chain's volume counts one New York day, its expiries end at the last session's
# close (no expiry_time in ChainConfig); 11: order-flow trade sizes and mid changes keep one value per event (EventTimeSum); 10: the
# order-flow quote windows (OFI and depth) share one buffer; 9: indicators pickle flat
# (operators.ta.state: one reconstructor, slots in a tuple); 8: SymbolFeatures holds an order book
STATE_FORMAT = 14
#: Pickles of this many bytes or more are stored LZ4-compressed.
COMPRESS_FROM = 1024
MARKER_FILE = "tickwise-state-format"
_HEADER = b"tickwise-state/"


class IncompatibleSnapshot(ValueError):
    """Recovery state written in another state format than this version reads."""


def _advice() -> str:
    return (f"this version reads state format {STATE_FORMAT} only: start with an empty recovery directory and "
            "replay the offsets to rebuild the state")


def dump_state(state: object) -> bytes:
    """``state`` pickled behind the format header (bytes are immutable: later updates never leak in)."""
    body = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    if len(body) >= COMPRESS_FROM:
        return b"%s%d\nZ" % (_HEADER, STATE_FORMAT) + lz4.block.compress(body)
    return b"%s%d\n" % (_HEADER, STATE_FORMAT) + body


def load_state(data: bytes, step: str) -> object:
    """The state in ``data``, or ``IncompatibleSnapshot`` naming the step and the format found."""
    head, newline, body = data.partition(b"\n")
    if not (newline and head.startswith(_HEADER)):
        raise IncompatibleSnapshot(f"the recovery snapshot of step {step!r} was written by an older tickwise "
                                   f"(no state format header); {_advice()}")
    found = head.removeprefix(_HEADER).decode("ascii", "replace")
    if found != str(STATE_FORMAT):
        raise IncompatibleSnapshot(f"the recovery snapshot of step {step!r} has state format {found}; {_advice()}")
    if body[:1] == b"Z":
        body = lz4.block.decompress(memoryview(body)[1:])
    return pickle.loads(body)  # noqa: S301 - our own recovery snapshots only


def mark_recovery_dir(recovery_dir: Path) -> None:
    """Record this version's state format in a new recovery directory."""
    (recovery_dir / MARKER_FILE).write_text(f"{STATE_FORMAT}\n")


def check_recovery_dir(recovery_dir: Path) -> None:
    """Refuse a recovery directory that holds partitions of another state format (one sentence)."""
    marker = recovery_dir / MARKER_FILE
    found = marker.read_text().strip() if marker.exists() else None
    if found != str(STATE_FORMAT):
        written = "an older tickwise (no state format marker)" if found is None else f"state format {found}"
        raise IncompatibleSnapshot(f"recovery directory {recovery_dir} holds snapshots of {written}; {_advice()}")
