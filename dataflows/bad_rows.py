"""A row of an input file that gives no message: one type for every reader.

The tick CSVs, the raw depth captures, LEAN's option zips and the alternative-data JSON files
all read on past a row they cannot use and hand it back as a ``BadRow``: where it is, why, and
what kind of file it came from, so that a warning or an error names the right kind of file.

>>> print(BadRow(Path("ticks.csv"), 7, "price is not a number: 'abc'"))
tick file ticks.csv line 7: price is not a number: 'abc'
>>> print(BadRow(Path("20151224_quote_american.zip:entry.csv"), 3, "expected 11 fields", kind="LEAN file"))
LEAN file 20151224_quote_american.zip:entry.csv line 3: expected 11 fields
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["BadRow"]


@dataclass(frozen=True, slots=True)
class BadRow:
    """Where a bad row is and why, in one sentence.

    ``path`` is the file (``zip:entry`` for an entry of a zip); ``line`` is 1-based (a CSV's
    header is line 1; a JSON array's records are counted from 1; 0 means the whole entry);
    ``kind`` names the kind of file in messages.
    """

    path: Path
    line: int
    reason: str
    kind: str = "tick file"

    def __str__(self) -> str:
        return f"{self.kind} {self.path} line {self.line}: {self.reason}"
